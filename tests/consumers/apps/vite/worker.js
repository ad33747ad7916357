import { check } from '../../check.js';

self.onmessage = async (event) => {
  self.postMessage(await check(event.data));
};
