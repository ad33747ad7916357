// Loads a wasm-bindgen module's WebAssembly once: local files (Node, Deno) are read, since
// fetch() cannot read file: URLs in Node; anything else (pages, workers) is fetched.
export async function loadWasm(init, initSync, wasmUrl) {
  if (wasmUrl.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    initSync({ module: await readFile(wasmUrl) });
  } else {
    await init({ module_or_path: wasmUrl });
  }
}
