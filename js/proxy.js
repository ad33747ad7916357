// `singing-cloning/proxy`: the credential-holding proxy as a standard fetch handler, for
// Node, Deno and edge workers. Loads the edge build of the WebAssembly once, with
// top-level await. (Cloudflare Workers forbid I/O at the top level: use
// `singing-cloning/proxy-workerd`, js/proxy-workerd.js, there.)
import init, { initSync, ProxyHandler, configFromEnv, verifyWebhook } from '../pkg/singing_cloning_edge.js';
import { loadWasm } from './load-wasm.js';

await loadWasm(init, initSync, new URL('../pkg/singing_cloning_edge_bg.wasm', import.meta.url));

/**
 * A fetch handler, `(request: Request, info?) => Promise<Response>`, that forwards the
 * page's requests to the Singing Cloning API with the credentials of `config`. `info` is
 * what the platform knows of the connection: `{ clientAddress }` (js/proxy-server.js
 * passes the socket's), or Deno's `{ remoteAddr }` (which `Deno.serve` passes itself).
 * Throws a `SingingCloningError` (code `validation`, with `issues`) for a wrong config.
 */
export function createProxyHandler(config) {
  const handler = new ProxyHandler(config);
  return (request, info) => handler.fetch(request, info);
}

export { configFromEnv, verifyWebhook };
