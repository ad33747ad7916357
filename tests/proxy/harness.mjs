// What the proxy suites share: the emulator as a child process, the proxy on node:http
// (in process, on port 0), small local servers (fake upstreams, callback receivers), a
// browser-like client with a cookie jar, and a record of every response for the leak scan.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createProxyHandler } from '../../js/proxy.js';
import { nodePost, serve } from '../../js/proxy-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Distinctive secrets, with characters JSON and URLs escape, so that every written form is scanned for.
export const SECRET_ID = 'AKIDproxyTest9f2c1e';
export const SECRET_KEY = 'sk/proxy+Test=7d41';
export const PROXY_SECRET = 'proxy-secret-for-the-tests-0123456789';
export const GATEWAY_ID = 'AKIDgatewayTest55aa';
export const GATEWAY_KEY = 'gw-key-secret-77bb';
export const SECRETS = [SECRET_ID, SECRET_KEY, PROXY_SECRET, GATEWAY_ID, GATEWAY_KEY];
export const PREFIX = '/api/singing-cloning';
export const PAGE_ORIGIN = 'http://app.example';

/** Every response any suite saw: `{ where, status, headers, body }`. */
export const seen = [];

export function record(where, status, headers, body) {
  seen.push({ where, status, headers: JSON.stringify([...headers]), body });
}

/** The secrets found in `text`, in any of the forms a leak could take. */
export function leakedIn(text) {
  return SECRETS.filter((secret) =>
    [
      secret,
      JSON.stringify(secret).slice(1, -1),
      JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
      encodeURIComponent(secret),
    ].some((form) => text.includes(form)),
  );
}

export function emulatorBinary() {
  const bin = process.env.SINGING_CLONING_EMULATOR_BIN || path.join(ROOT, 'target/release/singing-cloning-emulator');
  if (!existsSync(bin))
    throw new Error(
      `no emulator binary at ${bin}: ` +
        'build it (cargo build --release -p singing-cloning-emulator) or set SINGING_CLONING_EMULATOR_BIN',
    );
  return bin;
}

/**
 * Spawns a program and resolves with the first match of `pattern` in its output; with
 * `pattern` null, at once (for programs that print nothing when ready).
 */
export function spawnUntil(command, args, env, pattern, timeoutMs = 20000) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!pattern) {
    child.stdout.resume();
    child.stderr.resume();
    return Promise.resolve({ child, match: null, stop: () => stopChild(child) });
  }
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({ child, match, stop: () => stopChild(child) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/** The emulator on a free port, with the test credentials and fast jobs. */
export async function startEmulator() {
  const { match, stop } = await spawnUntil(
    emulatorBinary(),
    ['--port', '0', '--job-ms', '50', '--callback-backoff-ms', '100', '--callback-attempts', '2'],
    { SINGING_CLONING_SECRET_ID: SECRET_ID, SINGING_CLONING_SECRET_KEY: SECRET_KEY },
    /singing-cloning emulator listening on (http:\/\/\S+)/,
  );
  const api = match[1];
  const origin = new URL(api).origin;
  return { api, origin, stop, admin: async (p) => (await fetch(origin + p)).json() };
}

/** A plain node:http server with `handle(req, body) → { status, headers?, body }`; records what came in. */
export async function startServer(handle) {
  const received = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ method: req.method, url: req.url, headers: req.headers, body });
    const answer = await handle(req, body);
    if (answer === 'hang') return; // never answers
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(answer.body ?? '');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, received, close: closer(server) };
}

/** A function that closes a node:http server, its kept-alive connections too. */
export function closer(server) {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = createNetServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The real workerd (npm's binary) serving `config` (a file in tests/workerd) on the sockets
 * `{ name: base URL }`, with `env` for the Workers' bindings and `more` arguments (such as
 * `--directory-path`); resolves once each socket answers, since workerd says little when it
 * is ready. WORKERD_LOG=1 shows its own log (a Worker's uncaught exceptions) while debugging.
 */
export async function startWorkerd(config, sockets, env, more = []) {
  const args = ['serve', path.join(ROOT, 'tests/workerd', config), '--verbose', ...more];
  for (const [name, base] of Object.entries(sockets)) args.push('--socket-addr', `${name}=${new URL(base).host}`);
  const workerd = await spawnUntil(path.join(ROOT, 'node_modules/.bin/workerd'), args, env, null);
  if (process.env.WORKERD_LOG) workerd.child.stderr.on('data', (d) => process.stderr.write(d));
  workerd.child.once('exit', (code) => {
    if (code) console.error(`workerd exited with ${code}`);
  });
  for (const base of Object.values(sockets)) {
    const status = () =>
      fetch(`${base}/`).then(
        (r) => r.status,
        () => 0,
      );
    await until(status, (answered) => answered !== 0, 20000, 100);
  }
  return workerd;
}

/**
 * Debian's redis-server (scripts/setup.sh installs it; `REDIS_SERVER` names another) on `port`,
 * in memory only: nothing survives a stop, as after a crash.
 */
export function startRedis(port) {
  return spawnUntil(
    process.env.REDIS_SERVER || '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {},
    /Ready to accept connections/,
  );
}

/**
 * The proxy, in process, on a free port; `publicUrl` is its own address unless given
 * (`publicUrl: undefined` for none). Every test client comes from 127.0.0.1, so the
 * per-address limits are raised unless a test sets them; `serveOptions` go to `serve`.
 */
export async function startProxy(config, { front, ...serveOptions } = {}) {
  let handler = null;
  // As `npm run proxy` serves it: requests as parts and `nodePost` for the upstream, unless the
  // config brings its own `fetch`. With `front(request, handler, info)`, requests go to it as
  // `Request`s instead: a deployment in front of the proxy (a missing route, cut streams).
  const handle = front ? (request, info) => front(request, handler, info) : (request, info) => handler(request, info);
  if (!front) handle.parts = (...parts) => handler.parts(...parts);
  const served = await serve(handle, {
    port: 0,
    prefix: config.prefix ?? PREFIX,
    ...serveOptions,
  });
  const many = { capacity: 100_000, refillPerSecond: 1000 };
  handler = createProxyHandler(
    {
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      proxySecret: PROXY_SECRET,
      allowedOrigins: [PAGE_ORIGIN],
      publicUrl: served.url,
      addressRateLimit: many,
      sessionRateLimit: many,
      globalSessionRateLimit: many,
      callbackRateLimit: many,
      ...config,
    },
    { post: nodePost },
  );
  return { url: served.url, api: served.url + (config.prefix ?? PREFIX), close: served.close };
}

/** A fetch that records the response for the leak scan and reads its body. */
export async function call(url, init = {}) {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const body = await response.text();
  record(url, response.status, response.headers, body);
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, body, json };
}

/** A page's view of the proxy: JSON posts from `origin`, with its own cookie jar. */
export class Browser {
  constructor(api, { origin = PAGE_ORIGIN, headers = {} } = {}) {
    this.api = api;
    this.origin = origin;
    this.headers = headers;
    this.cookie = null;
  }

  async post(route, body, { headers = {}, raw = false } = {}) {
    const all = { 'content-type': 'application/json', ...this.headers, ...headers };
    if (this.origin) all.origin = this.origin;
    if (this.cookie) all.cookie = this.cookie;
    const answer = await call(this.api + route, {
      method: 'POST',
      headers: all,
      body: raw ? body : JSON.stringify(body),
    });
    const set = answer.headers.getSetCookie();
    if (set.length) this.cookie = set[0].split(';')[0];
    return answer;
  }

  job(body) {
    return this.post('/job', body);
  }
}

/** Polls `read` until `done(value)` or the time is up. */
export async function until(read, done, timeoutMs = 15000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A CreateJob body: generation with the default model, from the emulator's sample song. */
export function generateJob(emulatorOrigin, createJobRequest = {}) {
  return {
    action: 'CreateJob',
    createJobRequest: {
      inputs: [{ url: `${emulatorOrigin}/cos/samples/song.wav` }],
      outputs: [
        {
          contentId: 'results',
          destination: '/out',
          inputSelectors: [0],
          smartContentDescriptor: { singingCloning: { type: 1, modelName: 'default' } },
        },
      ],
      ...createJobRequest,
    },
  };
}

/** A CreateJob body training `modelName` from the emulator's sample voice. */
export function trainJob(emulatorOrigin, modelName, extra = {}) {
  return {
    action: 'CreateJob',
    createJobRequest: {
      inputs: [{ url: `${emulatorOrigin}/cos/samples/voice.wav` }],
      outputs: [{ inputSelectors: [0], smartContentDescriptor: { singingCloning: { type: 2, modelName, ...extra } } }],
    },
  };
}

/** An open event stream, read as it comes: its events and comments so far. */
export class EventStream {
  constructor(response) {
    this.response = response;
    this.reader = response.body.getReader();
    this.decoder = new TextDecoder();
    this.buffer = '';
    this.events = [];
    this.comments = [];
    /** Events with a field twice (one event must be one `data:` line). */
    this.malformed = [];
    this.ended = this.pump();
  }

  async pump() {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) return;
        this.buffer += this.decoder.decode(value, { stream: true });
        for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
          this.take(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch {
      // Cancelled by the test.
    }
  }

  take(block) {
    if (block.startsWith(':')) {
      this.comments.push(block);
      return;
    }
    const fields = {};
    for (const line of block.split('\n')) {
      const at = line.indexOf(':');
      if (line.slice(0, at) in fields) this.malformed.push(block);
      fields[line.slice(0, at)] = line.slice(at + 1).replace(/^ /, '');
    }
    record('events', 200, new Headers(), fields.data);
    try {
      this.events.push({ id: fields.id, event: fields.event, job: JSON.parse(fields.data) });
    } catch {
      this.malformed.push(block);
    }
  }

  of(jobId) {
    return this.events.filter((e) => e.job.id === jobId);
  }

  /** The events of `jobId`, once one of them says COMPLETED (waited for as `until` waits). */
  untilCompleted(jobId) {
    return until(
      () => this.of(jobId),
      (events) => events.some((e) => e.job.status === 'COMPLETED'),
    );
  }

  /** Cancels the stream (the client goes); throws when an event was malformed. */
  async close() {
    await this.reader.cancel();
    await this.ended;
    if (this.malformed.length) throw new Error(`malformed events: ${this.malformed.join(' | ')}`);
  }
}

/**
 * Waits for `job`'s end on each of `streams` (held on proxies that share one store) and checks
 * what they got: the job as its caller sees it (`customId`), each event once, and the same ids
 * on every stream, since one store numbered them. Returns the ids.
 */
export async function assertSharedEvents(streams, job) {
  const ids = [];
  for (const stream of streams) {
    const events = await stream.untilCompleted(job.id);
    assert.equal(events.at(-1).job.customId, job.customId);
    ids.push(events.map((e) => e.id));
    assert.equal(new Set(ids.at(-1)).size, ids.at(-1).length, 'each event once');
  }
  for (const other of ids.slice(1)) assert.deepEqual(other, ids[0], 'one store numbered them');
  return ids[0];
}

/** Opens `browser`'s event stream (taking the session cookie it is given, as a page would). */
export async function openEvents(browser, headers = {}) {
  const all = { origin: browser.origin, ...headers };
  if (browser.cookie) all.cookie = browser.cookie;
  const response = await fetch(`${browser.api}/events`, { headers: all });
  const set = response.headers.getSetCookie();
  if (set.length) browser.cookie = set[0].split(';')[0];
  if (response.status !== 200) {
    return { response, text: await response.text() };
  }
  return new EventStream(response);
}
