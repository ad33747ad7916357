// A Cloudflare Worker that uses the main entry: bundled the way wrangler bundles (esbuild with
// the `workerd` condition, `.wasm` imports kept as compiled-module imports).
import { check } from '../../check.js';

export default {
  async fetch(request) {
    const api = new URL(request.url).searchParams.get('api');
    try {
      return Response.json({ ok: true, ...(await check(api)) });
    } catch (error) {
      return Response.json({ ok: false, error: `${error.code ?? ''} ${error.message}` });
    }
  },
};
