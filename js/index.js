// The package's entry point: loads the WebAssembly once, with top-level await, so that
// importing is enough in Node, browsers, web workers and edge workers alike.
import init, { initSync, ModelIterator } from '../pkg/singing_cloning.js';

const wasmUrl = new URL('../pkg/singing_cloning_bg.wasm', import.meta.url);

if (wasmUrl.protocol === 'file:') {
  // Node (and Deno) load local files; fetch() cannot read file: URLs in Node.
  const { readFile } = await import('node:fs/promises');
  initSync({ module: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

// `for await (const model of client.models())`: the iterator is its own async iterable.
ModelIterator.prototype[Symbol.asyncIterator] = function () {
  return this;
};

export * from '../pkg/singing_cloning.js';
