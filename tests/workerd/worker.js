// The Worker: the package's ready-made workerd entry, configured by env.
export { default } from './js/proxy-workerd.js';
