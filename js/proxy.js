// `singing-cloning/proxy`: the credential-holding proxy as a standard fetch handler, for
// Node, Deno and edge workers. Loads the edge build of the WebAssembly once, with
// top-level await. (Cloudflare Workers forbid I/O at the top level: use
// `singing-cloning/proxy-workerd`, js/proxy-workerd.js, there.)
import init, { initSync, ProxyHandler, configFromEnv, verifyWebhook } from '../pkg/singing_cloning_edge.js';
import { loadWasm } from './load-wasm.js';
import { proxyHandlerFactory } from './proxy-handler.js';

await loadWasm(init, initSync, new URL('../pkg/singing_cloning_edge_bg.wasm', import.meta.url));

/**
 * `info` is what the platform knows of the connection: `{ clientAddress }`
 * (js/proxy-server.js passes the socket's), or Deno's `{ remoteAddr }` (which
 * `Deno.serve` passes itself).
 */
export const createProxyHandler = proxyHandlerFactory(ProxyHandler, (_request, info) => info);

export { configFromEnv, verifyWebhook };
