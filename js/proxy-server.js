#!/usr/bin/env node
// `npm run proxy`: the proxy on node:http, configured by the environment (SINGING_CLONING_*,
// see docs/proxy.md), and optionally a static file server for a page beside it
// (SINGING_CLONING_STATIC_DIR). Prints `singing-cloning proxy listening on <url>` once ready.
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';

import { createProxyHandler, configFromEnv } from './proxy.js';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.d.ts': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
};

// Hop-by-hop headers describe this connection, not the request.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'host',
  'http2-settings',
]);

/** Bodies up to this size that declare their length are read whole before the handler runs. */
const BUFFERED_BODY_BYTES = 1 << 20;

/**
 * How long a connection may take, in milliseconds: to send a request's headers, to send
 * the whole request, and to send the next request on a kept-alive connection. A client
 * that sends nothing useful is disconnected after these, not held for minutes.
 */
export const DEFAULT_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/**
 * An upstream answer up to this size is read whole (fast); a larger one is streamed, so the handler's cap
 * can stop it.
 */
const BUFFERED_ANSWER_BYTES = 1 << 20;

/** The whole body of `req`. */
function readWhole(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The origin of a node:http request: its `Host` when well-formed, else `fallbackOrigin`. */
function originOf(req, fallbackOrigin) {
  const host = req.headers.host;
  return host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
    ? `http://${host}`
    : fallbackOrigin;
}

/** Whether a request's body declares a length up to `BUFFERED_BODY_BYTES`, or there is none. */
function smallBody(req) {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  const length = Number(req.headers['content-length']);
  return Number.isInteger(length) && length <= BUFFERED_BODY_BYTES && !req.headers['transfer-encoding'];
}

/**
 * A fetch `Request` for a node:http request; `null` when it cannot be one. A body that
 * declares a length up to 1 MiB is read whole first (cheaper than a web stream); any
 * other is passed on as a stream, which the handler stops reading at its size limit.
 */
async function toRequest(req, fallbackOrigin) {
  if (!req.url?.startsWith('/')) return null;
  const origin = originOf(req, fallbackOrigin);
  try {
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const init = { method: req.method, headers };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (smallBody(req)) {
        init.body = await readWhole(req);
      } else {
        init.body = Readable.toWeb(req);
        init.duplex = 'half';
      }
    }
    return new Request(new URL(req.url, origin), init);
  } catch {
    return null;
  }
}

/** Node's `rawHeaders` without the hop-by-hop ones. */
function withoutHopByHop(raw) {
  const kept = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) kept.push(raw[i], raw[i + 1]);
  }
  return kept;
}

/** Writes the handler's answer as parts (`ProxyHandler.handleParts`): a body in one write, or its stream. */
async function sendParts(req, res, [status, headers, body, stream]) {
  if (!req.complete) headers.push('connection', 'close');
  if (stream && req.method !== 'HEAD') {
    for (let i = 0; i + 1 < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1]);
    res.statusCode = status;
    await pipeBody(res, new Response(stream, { headers: { 'content-type': res.getHeader('content-type') ?? '' } }));
  } else {
    // One call with the raw list (repeated names, `set-cookie`, kept as they are), and the length.
    if (body != null) headers.push('content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, headers);
    await stream?.cancel().catch(() => {});
    res.end(req.method === 'HEAD' ? undefined : (body ?? undefined));
  }
  if (!req.complete) res.once('finish', () => req.destroy());
}

async function sendResponse(req, res, response) {
  res.statusCode = response.status;
  // Answered before the whole body came in (413): the rest would be read as the next
  // request on this connection, so the connection ends with this answer.
  if (!req.complete) res.setHeader('connection', 'close');
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) res.setHeader('set-cookie', cookies);
  if (!response.body || req.method === 'HEAD') {
    await response.body?.cancel().catch(() => {});
    res.end();
  } else {
    await pipeBody(res, response);
  }
  if (!req.complete) res.once('finish', () => req.destroy());
}

/**
 * Writes a response's body to `res` chunk by chunk as it is read, so that a stream that
 * never ends (the events route's Server-Sent Events) reaches the client as it is written.
 * A body that is one chunk (every JSON answer of the handler) goes in one write with
 * `Content-Length`. When the client goes, the body is cancelled, which stops whatever
 * feeds it (the events route's timers).
 */
async function pipeBody(res, response) {
  const reader = response.body.getReader();
  let gone = false;
  const onClose = () => {
    gone = true;
    reader.cancel().catch(() => {});
  };
  res.once('close', onClose);
  try {
    // An event stream's headers go at once: its first event may be minutes away.
    const eventStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (eventStream) res.flushHeaders();
    let held = eventStream ? null : await reader.read();
    if (held?.done) return void res.end();
    if (held && !gone) {
      const next = await reader.read();
      if (next.done) return void res.end(held.value);
      res.write(held.value);
      held = next;
    }
    for (let chunk = held ?? (await reader.read()); !chunk.done && !gone; chunk = await reader.read()) {
      // Backpressure: a client that reads slowly is waited for, not buffered without end.
      if (!res.write(chunk.value)) {
        await new Promise((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    }
    if (!gone) res.end();
  } finally {
    res.off('close', onClose);
  }
}

function plain(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

/**
 * Serves a file under `root` (a real path) for a URL path under `at` (ending in `/`): GET
 * and HEAD, no dotfiles, no way out of `root`.
 */
async function serveStatic(req, res, root, at = '/') {
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
  let pathname;
  try {
    const full = new URL(req.url, 'http://static').pathname;
    if (!full.startsWith(at)) return plain(res, 404, 'not found');
    pathname = decodeURIComponent(full.slice(at.length - 1));
  } catch {
    return plain(res, 400, 'bad path');
  }
  const segments = pathname.split('/').filter(Boolean);
  if (pathname.includes('\0') || pathname.includes('\\') || segments.some((s) => s.startsWith('.')))
    return plain(res, 404, 'not found');
  let file = path.join(root, ...segments);
  try {
    if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
    // Symbolic links may not lead out of the directory either.
    file = await realpath(file);
    if (!file.startsWith(root + path.sep) || !(await stat(file)).isFile()) return plain(res, 404, 'not found');
  } catch {
    return plain(res, 404, 'not found');
  }
  const ext = file.endsWith('.d.ts') ? '.d.ts' : path.extname(file).toLowerCase();
  const { size } = await stat(file);
  const headers = {
    'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
    'accept-ranges': 'bytes',
  };
  // One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`), so that players can seek in audio.
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else {
      start = Math.max(0, size - Number(range[2]));
    }
    if (start > end || start >= size) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
      return res.end();
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = String(size ? end - start + 1 : 0);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) return res.end();
  createReadStream(file, { start, end })
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Serves `handler` (a fetch handler) on node:http. Requests outside `prefix` go to the
 * files of `staticDir` when one is given. `mounts` serves more directories under URL
 * prefixes, e.g. `{ '/sdk/pkg/': 'node_modules/singing-cloning/pkg' }` (the longest
 * matching prefix wins over `staticDir`). The handler gets `{ clientAddress }`, the
 * socket's peer, as its second argument. `headersTimeoutMs`, `requestTimeoutMs` and
 * `keepAliveTimeoutMs` bound how long a connection may send nothing useful
 * (`DEFAULT_TIMEOUTS`). Resolves to `{ server, url, close }` once listening.
 */
export async function serve(
  handler,
  {
    port = 8787,
    host = '127.0.0.1',
    prefix = '/api/singing-cloning',
    staticDir,
    mounts = {},
    headersTimeoutMs = DEFAULT_TIMEOUTS.headersTimeoutMs,
    requestTimeoutMs = DEFAULT_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeoutMs = DEFAULT_TIMEOUTS.keepAliveTimeoutMs,
  } = {},
) {
  for (const [name, value] of Object.entries({ headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs })) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a whole number of milliseconds, 1 or more`);
  }
  const root = staticDir ? await realpath(path.resolve(staticDir)) : null;
  const mounted = [];
  for (const [at, dir] of Object.entries(mounts)) {
    const base = `/${at.replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
    mounted.push([base, await realpath(path.resolve(dir))]);
  }
  mounted.sort((a, b) => b[0].length - a[0].length);
  let fallbackOrigin = `http://${host}`;
  const timeouts = {
    headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Node checks the two timeouts above this often (30 s by default, which would let a
    // short timeout run far longer).
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)),
    ),
  };
  const server = createServer(timeouts, async (req, res) => {
    try {
      const pathname = (req.url ?? '').split('?')[0];
      const api = pathname === prefix || pathname.startsWith(`${prefix}/`);
      if (!api) {
        const mount = mounted.find(([at]) => pathname.startsWith(at));
        if (mount) return await serveStatic(req, res, mount[1], mount[0]);
        if (root) return await serveStatic(req, res, root);
      }
      const clientAddress = req.socket.remoteAddress ?? null;
      if (handler.parts && smallBody(req) && req.url?.startsWith('/')) {
        // The proxy's own handler takes the request as parts: no fetch objects to build and read.
        let url;
        try {
          url = new URL(req.url, originOf(req, fallbackOrigin)).href;
        } catch {
          return plain(res, 400, 'bad request');
        }
        const body = req.method === 'GET' || req.method === 'HEAD' ? null : await readWhole(req);
        const answer = await handler.parts(req.method, url, withoutHopByHop(req.rawHeaders), body, clientAddress);
        return await sendParts(req, res, answer);
      }
      const request = await toRequest(req, fallbackOrigin);
      if (!request) return plain(res, 400, 'bad request');
      await sendResponse(req, res, await handler(request, { clientAddress }));
    } catch {
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  fallbackOrigin = url;
  const close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  return { server, url, close };
}

/**
 * Keep-alive connection pools for everything the Node server sends (upstream calls, webhook deliveries),
 * one per origin: undici's. With node:http's client, more than a quarter of the proxy's CPU time per
 * request went to sending it; undici's pools take less than half of that. A pool straight, not undici's
 * `Agent` over them: in the bench the `Agent` cost some 80 µs more CPU time per request (of about 500).
 * Callback targets vary, so only a bounded number is kept; pools let go finish what they have in flight
 * and close. Nothing follows redirects.
 */
const pools = new Map();
function poolOf(origin) {
  let pool = pools.get(origin);
  if (!pool) {
    if (pools.size >= 64) {
      for (const old of pools.values()) old.close().catch(() => {});
      pools.clear();
    }
    pool = new Pool(origin);
    pools.set(origin, pool);
  }
  return pool;
}

/** An error whose `code` says why an outgoing request failed (see `nodePost`). */
const outgoingError = (code) => Object.assign(new Error(`upstream ${code}`), { code });

/** A header's value from undici's answer headers (a list when it was repeated): the first. */
const firstValue = (value) => (Array.isArray(value) ? value[0] : value);

/**
 * Stops reading an answer's body. undici's body reports a stop before its end as an error; nobody is
 * reading it any more, so that error is heard here rather than thrown from the process.
 */
function stopReading(body) {
  body.on('error', () => {});
  body.destroy();
}

/**
 * A web stream of an answer's body, read as it is pulled; cancelling it stops the body. (Node's
 * `Readable.toWeb` throws from its data handler when undici's body goes on after a cancel.)
 */
function webStreamOf(body) {
  // Until the first pull, an abort's error would find nobody listening; the pulls see it all the same.
  body.on('error', () => {});
  const chunks = body[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    cancel() {
      stopReading(body);
    },
  });
}

/**
 * A `fetch` for the proxy's outgoing requests over the keep-alive pools above: Node's global fetch
 * spends more time on its own machinery than the proxy spends on its work. Takes and gives standard
 * `Request` and `Response` objects, and follows no redirects. An answer that declares a length up to
 * 1 MiB is read whole (cheaper than a web stream); any other is handed on as a stream, so that the
 * reader's cap (the proxy's maxUpstreamBytes) stops it. Pass it as the proxy config's `fetch`.
 */
export async function nodeFetch(request) {
  const url = new URL(request.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`unsupported protocol ${url.protocol}`);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : null;
  const answer = await poolOf(url.origin).request({
    path: url.pathname + url.search,
    method: request.method,
    headers: Object.fromEntries(request.headers),
    body,
    signal: request.signal,
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const status = answer.statusCode;
  if (status === 204 || status === 304 || request.method === 'HEAD') {
    stopReading(answer.body);
    return new Response(null, { status, headers });
  }
  const length = Number(firstValue(answer.headers['content-length']));
  const whole = Number.isInteger(length) && length <= BUFFERED_ANSWER_BYTES;
  return new Response(whole ? await answer.body.arrayBuffer() : webStreamOf(answer.body), { status, headers });
}

/** Where an address is sent (origin and path), parsed once per address (the upstream's is the same every time). */
const targets = new Map();
function targetOf(url) {
  let target = targets.get(url);
  if (target === undefined) {
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {}
    const web = parsed?.protocol === 'http:' || parsed?.protocol === 'https:';
    target = web ? { origin: parsed.origin, path: parsed.pathname + parsed.search } : null;
    // Callback targets vary: only a bounded number of addresses is kept.
    if (targets.size >= 64) targets.clear();
    targets.set(url, target);
  }
  return target;
}

/**
 * The proxy's outgoing POSTs over the keep-alive pools, as parts (see `Sender::Post` in
 * src/proxy/outbound.rs): resolves to `{ status, retryAfter, text }`, reading at most `maxBytes` of the
 * answer (none for -1); rejects with an error whose `code` is `timeout`, `too_large` or `unreachable`.
 * Follows no redirects.
 */
export async function nodePost(url, body, rawHeaders, timeoutMs, maxBytes) {
  const target = targetOf(url);
  if (!target) throw outgoingError('unreachable');
  const headers = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers[rawHeaders[i]] = rawHeaders[i + 1];
  // undici also takes an EventEmitter as the signal: lighter than an AbortController made for every request.
  const abort = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.emit('abort');
  }, timeoutMs);
  let answer;
  try {
    answer = await poolOf(target.origin).request({ path: target.path, method: 'POST', headers, body, signal: abort });
    const status = answer.statusCode;
    const retryAfter = firstValue(answer.headers['retry-after']) ?? null;
    if (maxBytes < 0) {
      // Read on (up to undici's limit, 128 KiB) and dropped, so that the connection can be used again.
      answer.body.dump().catch(() => {});
      return { status, retryAfter, text: '' };
    }
    if (Number(firstValue(answer.headers['content-length'])) > maxBytes) throw outgoingError('too_large');
    return { status, retryAfter, text: await readText(answer.body, maxBytes) };
  } catch (error) {
    if (answer) stopReading(answer.body);
    if (error.code === 'too_large') throw error;
    throw outgoingError(timedOut ? 'timeout' : 'unreachable');
  } finally {
    clearTimeout(timer);
  }
}

const utf8 = new TextDecoder();

/**
 * A body's text as `Response.text()` reads it (UTF-8, a byte order mark dropped, bad sequences replaced),
 * rejecting with `too_large` past `maxBytes`. Read by its events: an async iterator costs more per answer.
 */
function readText(body, maxBytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    body.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBytes) reject(outgoingError('too_large'));
      else chunks.push(chunk);
    });
    body.once('end', () => resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    body.once('error', reject);
  });
}

async function main() {
  const env = { ...process.env };
  if (!env.SINGING_CLONING_PROXY_SECRET) {
    // Sessions and callback tokens then last as long as this process.
    env.SINGING_CLONING_PROXY_SECRET = randomBytes(32).toString('base64');
    console.error('singing-cloning proxy: SINGING_CLONING_PROXY_SECRET is not set; using a random one for this run');
  }
  // Several proxies act as one through Redis; its client is loaded only when asked for.
  const redisUrl = env.SINGING_CLONING_REDIS_URL?.trim();
  const store = redisUrl ? (await import('./store-redis.js')).redisStore(redisUrl) : undefined;
  let handler;
  try {
    handler = createProxyHandler({ ...configFromEnv(env), store }, { post: nodePost });
  } catch (error) {
    const issues = (error.issues ?? []).map((i) => `  ${i.path}: ${i.message}`).join('\n');
    console.error(`singing-cloning proxy: ${error.message}${issues ? `\n${issues}` : ''}`);
    process.exit(2);
  }
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('singing-cloning proxy: PORT must be a port number, 0 for a free one');
    process.exit(2);
  }
  const timeouts = {};
  for (const [name, key] of [
    ['SINGING_CLONING_HEADERS_TIMEOUT_MS', 'headersTimeoutMs'],
    ['SINGING_CLONING_REQUEST_TIMEOUT_MS', 'requestTimeoutMs'],
    ['SINGING_CLONING_KEEP_ALIVE_TIMEOUT_MS', 'keepAliveTimeoutMs'],
  ]) {
    if (!env[name]?.trim()) continue;
    const ms = Number(env[name]);
    if (!Number.isInteger(ms) || ms < 1) {
      console.error(`singing-cloning proxy: ${name} must be a whole number of milliseconds, 1 or more`);
      process.exit(2);
    }
    timeouts[key] = ms;
  }
  const { url, close } = await serve(handler, {
    port,
    host: env.SINGING_CLONING_HOST || '127.0.0.1',
    prefix: env.SINGING_CLONING_PREFIX || '/api/singing-cloning',
    staticDir: env.SINGING_CLONING_STATIC_DIR || undefined,
    ...timeouts,
  });
  console.log(`singing-cloning proxy listening on ${url}`);
  if (env.SINGING_CLONING_STATIC_DIR && !env.SINGING_CLONING_PUBLIC_URL?.trim()) {
    // No origin is taken from Host (DNS rebinding), so the page's own origin must be configured.
    console.error(
      `singing-cloning proxy: pages served here call the API from their own origin: set ` +
        `SINGING_CLONING_PUBLIC_URL (e.g. ${url}) or list it in SINGING_CLONING_ALLOWED_ORIGINS`,
    );
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      await close();
      await store?.close();
      process.exit(0);
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
