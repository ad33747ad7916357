// Item 8's proxy, in its own process as a deployment runs it: `serve` (js/proxy-server.js) with
// the handler of js/proxy.js, its `publicUrl` its own address so that the upstream calls it back,
// and in front of the handler one step that notes when each upstream callback arrives, before
// the proxy reads it: a line `callback {"id","state","at"}` on stdout (`at`: epoch ms, fractional).
// Arguments: the upstream endpoint, its secretId and secretKey.
import { createProxyHandler } from '../js/proxy.js';
import { serve } from '../js/proxy-server.js';

const PREFIX = '/api/singing-cloning';
const [endpoint, secretId, secretKey] = process.argv.slice(2);
const many = { capacity: 1_000_000, refillPerSecond: 100_000 };

let handler;
const served = await serve(
  async (request, info) => {
    if (request.method === 'POST' && new URL(request.url).pathname.startsWith(`${PREFIX}/callbacks/`)) {
      const at = performance.timeOrigin + performance.now();
      const job = JSON.parse(await request.clone().text());
      process.stdout.write(`callback ${JSON.stringify({ id: job.id, state: job.state, at })}\n`);
    }
    return handler(request, info);
  },
  { port: 0, prefix: PREFIX },
);
handler = createProxyHandler({
  endpoint,
  secretId,
  secretKey,
  proxySecret: 'bench-events-proxy-secret-0123456789',
  allowedOrigins: [],
  publicUrl: served.url,
  rateLimit: many,
  addressRateLimit: many,
  sessionRateLimit: many,
  globalSessionRateLimit: many,
  callbackRateLimit: many,
});
process.stdout.write(`events proxy listening on ${served.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => served.close().then(() => process.exit(0)));
