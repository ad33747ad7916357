// The package's entry point: loads the WebAssembly once, with top-level await, so that
// importing is enough in Node, browsers, web workers and edge workers alike.
import init, { initSync, ModelIterator } from '../pkg/singing_cloning.js';
import { loadWasm } from './load-wasm.js';

await loadWasm(init, initSync, new URL('../pkg/singing_cloning_bg.wasm', import.meta.url));

// `for await (const model of client.models())`: the iterator is its own async iterable.
ModelIterator.prototype[Symbol.asyncIterator] = function () {
  return this;
};

export * from '../pkg/singing_cloning.js';
