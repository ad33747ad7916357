// `singing-cloning/proxy` for Cloudflare Workers (workerd): the WebAssembly comes in as
// a compiled module through a static import, since workerd forbids I/O at the top
// level. Also a ready worker: `export { default } from 'singing-cloning/proxy-workerd'`
// runs the proxy configured by the Worker's env (SINGING_CLONING_* vars and secrets), its shared
// state in the Durable Object bound as SINGING_CLONING_STATE when there is one (then also
// `export { default, ProxyState } from 'singing-cloning/proxy-workerd'`), else in memory.
import { initSync, ProxyHandler, configFromEnv, verifyWebhook } from '../pkg/singing_cloning_edge.js';
import wasm from '../pkg/singing_cloning_edge_bg.wasm';
import { durableStore, ProxyState } from './proxy-durable.js';
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

export { configFromEnv, verifyWebhook, durableStore, ProxyState };

// One handler per isolate, built from the first request's env (the same for every request).
let fromEnv;

export default {
  async fetch(request, env) {
    try {
      // The Durable Object namespace binding: every isolate then shares one state.
      const state = env.SINGING_CLONING_STATE;
      fromEnv ??= createProxyHandler({ ...configFromEnv(env), store: state ? durableStore(state) : undefined });
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
