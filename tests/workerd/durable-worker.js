// The Worker of durable.capnp: the package's ready workerd entry and its Durable Object class.
export { default, ProxyState } from './js/proxy-workerd.js';
