// `singing-cloning/proxy` for Cloudflare Workers (workerd): the WebAssembly comes in as
// a compiled module through a static import, since workerd forbids I/O at the top
// level. Also a ready worker: `export { default } from 'singing-cloning/proxy-workerd'`
// runs the proxy configured by the Worker's env (SINGING_CLONING_* vars and secrets).
import { initSync, ProxyHandler, configFromEnv, verifyWebhook } from '../pkg/singing_cloning_edge.js';
import wasm from '../pkg/singing_cloning_edge_bg.wasm';
import { proxyHandlerFactory } from './proxy-handler.js';

initSync({ module: wasm });

/**
 * On Workers the client's address is `CF-Connecting-IP`, which Cloudflare sets on every
 * request (a client's own is overwritten); the second argument of a Worker's `fetch` is
 * its env, not connection info.
 */
export const createProxyHandler = proxyHandlerFactory(ProxyHandler, (request) => ({
  clientAddress: request.headers.get('cf-connecting-ip'),
}));

export { configFromEnv, verifyWebhook };

// One handler per isolate, built from the first request's env (the same for every request).
let fromEnv;

export default {
  async fetch(request, env) {
    try {
      fromEnv ??= createProxyHandler(configFromEnv(env));
    } catch (error) {
      // A wrong config: say which settings (never their values), for the operator's logs.
      const issues = (error.issues ?? []).map(({ path, code, message }) => ({ path, code, message }));
      console.error('singing-cloning proxy misconfigured:', JSON.stringify(issues));
      const body = { error: { code: 'misconfigured', message: 'the proxy is not configured correctly', issues } };
      return new Response(JSON.stringify(body), {
        status: 500,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
    }
    return fromEnv(request);
  },
};
