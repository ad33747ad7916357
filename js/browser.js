// `singing-cloning` for pages, web workers and bundlers (Vite, webpack, Next.js, esbuild, …):
// no top-level await, no `node:` import and no dynamic import (Vite builds workers as one `iife`
// file), so every bundler and target accepts it. The WebAssembly starts loading at import;
// `ready` says when it is there (see js/bind.js). Pages load this file minified with the glue
// (pkg/browser.js, made by scripts/package-entries.mjs).
import * as glue from '../pkg/singing_cloning.js';
import { bindApi } from './bind.js';

/** Where the WebAssembly file is; read at import, while `document.currentScript` is still set. */
function wasmLocation() {
  const here = import.meta.url;
  if (!here) {
    // A bundle format without import.meta (esbuild's default `iife`): the file is copied next to
    // the bundle, the one step the README gives for it.
    return new URL('singing_cloning_bg.wasm', globalThis.document?.currentScript?.src ?? self.location.href);
  }
  if (here.includes('/node_modules/.vite/deps/')) {
    // Vite's dev server runs a pre-bundled copy of this file from node_modules/.vite/deps/, and
    // serves the package's own files from node_modules/singing-cloning/.
    return new URL('../../singing-cloning/pkg/singing_cloning_bg.wasm', here);
  }
  // Bundlers recognise this pattern and ship the .wasm file as an asset of the app.
  return new URL('../pkg/singing_cloning_bg.wasm', import.meta.url);
}

/** The bytes of an answer that is a WebAssembly module, or an error (an HTML fallback page, a 404). */
async function wasmBytes(response) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!response.ok || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error(`no WebAssembly at ${response.url} (HTTP ${response.status})`);
  }
  return bytes;
}

async function load(location) {
  const response = await fetch(await location);
  // Compiled while it streams in when served as WebAssembly; checked first otherwise.
  const wasm = response.headers.get('content-type')?.startsWith('application/wasm')
    ? response
    : await wasmBytes(response);
  await glue.default({ module_or_path: wasm });
}

// A location that cannot be worked out rejects `ready` rather than failing the import.
const location = new Promise((resolve) => resolve(wasmLocation()));
export const { ready, validate, parseResponse, SingingCloningClient } = bindApi(glue, () => load(location));
