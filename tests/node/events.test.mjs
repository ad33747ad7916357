// The client listens: `client.events()` and `waitForJob` over the proxy's job events, against
// the real proxy (in process, on node:http) in front of the emulator, which calls the proxy
// back when a job ends. Each client is a page's view in Node: its `fetch` option sends the
// page's Origin and keeps the session cookie, and logs every request, so that requests per job
// are counted. What the stream gives is compared with what GetJob gives and with the raw event
// text, read here by the harness's own parser (tests/proxy/harness.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { SingingCloningClient } from 'singing-cloning';
import {
  Browser,
  PAGE_ORIGIN,
  PREFIX,
  ROOT,
  SECRET_ID,
  SECRET_KEY,
  generateJob,
  openEvents,
  spawnUntil,
  emulatorBinary,
  startProxy,
  until,
} from '../proxy/harness.mjs';

const FINAL = ['COMPLETED', 'ERROR', 'CANCELED'];
const stops = [];
let emulator;
let proxy;

/** The emulator with jobs of `jobMs` in SUBMITTED and in PROCESSING, calling back fast. */
async function startEmulator(jobMs) {
  const { match, stop } = await spawnUntil(
    emulatorBinary(),
    ['--port', '0', '--job-ms', String(jobMs), '--callback-backoff-ms', '100', '--callback-attempts', '2'],
    { SINGING_CLONING_SECRET_ID: SECRET_ID, SINGING_CLONING_SECRET_KEY: SECRET_KEY },
    /singing-cloning emulator listening on (http:\/\/\S+)/,
  );
  stops.push(stop);
  return { api: match[1], origin: new URL(match[1]).origin };
}

/**
 * The harness's proxy with `front(request, handler, info)` before it: a deployment whose events
 * route is missing or whose streams are cut.
 */
async function startFronted(upstream, front) {
  const fronted = await startProxy({ endpoint: upstream.api }, { front });
  stops.push(fronted.close);
  return fronted;
}

/** An answer whose body is `response`'s first `chunks` chunks, then an end (`error`: a failure). */
function cutAfter(response, chunks, error = false) {
  const reader = response.body.getReader();
  let passed = 0;
  const body = new ReadableStream({
    async pull(controller) {
      const { done, value } = passed++ < chunks ? await reader.read() : { done: true };
      if (!done) return controller.enqueue(value);
      reader.cancel().catch(() => {});
      if (!error) return controller.close();
      // After what was passed has gone out: a failure that drops written bytes is no cut mid-way.
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.error(new Error('cut'));
    },
    cancel: () => reader.cancel(),
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

/**
 * A page in Node: a client of `api` whose fetch sends the page's Origin and cookie and logs
 * every request (`{ method, path, action, lastEventId, status }`); `tap(request, response)` may
 * replace an answer.
 */
function page(api, { tap, hold, cookie, ...options } = {}) {
  const log = [];
  const pageFetch = async (request) => {
    await hold?.(request);
    const entry = {
      method: request.method,
      path: new URL(request.url).pathname.slice(PREFIX.length),
      action: request.method === 'POST' ? JSON.parse(await request.clone().text()).action : undefined,
      lastEventId: request.headers.get('last-event-id'),
      signal: request.signal,
    };
    log.push(entry);
    const headers = new Headers(request.headers);
    headers.set('origin', PAGE_ORIGIN);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(new Request(request, { headers }));
    const set = response.headers.getSetCookie();
    if (set.length) cookie = set[0].split(';')[0];
    entry.status = response.status;
    return tap ? tap(request, response, entry) : response;
  };
  const client = new SingingCloningClient({ endpoint: api, fetch: pageFetch, ...options });
  // The harness's raw view of the same identity (the same cookie), for independent checks.
  const raw = () => Object.assign(new Browser(api), { cookie });
  const requests = () => log.map((e) => `${e.method} ${e.path}${e.action ? ` ${e.action}` : ''}`);
  return { client, log, raw, requests, cookie: () => cookie };
}

/** Takes jobs from `events` into `seen` until `done(seen)`, leaving the iterator open; fails after `timeoutMs`. */
async function take(events, seen, done, timeoutMs = 20_000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out; seen ${JSON.stringify(seen)}`)), timeoutMs);
  });
  try {
    while (!done(seen)) {
      const { value, done: ended } = await Promise.race([events.next(), late]);
      assert.ok(!ended, 'the iterator never ends by itself');
      seen.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

const endOf = (id) => (seen) => seen.some((job) => job.id === id && FINAL.includes(job.status));

before(async () => {
  emulator = await startEmulator(300);
  proxy = await startProxy({ endpoint: emulator.api });
  stops.push(proxy.close);
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("events() yields the page's own jobs as they change, as GetJob reads them, and never another's", async () => {
  const ann = page(proxy.api);
  const bob = page(proxy.api);
  // Each page has its session before its stream opens, as a page that has called the proxy.
  await ann.client.listModels();
  await bob.client.listModels();
  const anns = ann.client.events();
  const bobs = bob.client.events();
  const annSeen = [];
  const bobSeen = [];
  // The streams open with the first `next`.
  const annFirst = take(anns, annSeen, (seen) => seen.length > 0);
  const bobFirst = take(bobs, bobSeen, (seen) => seen.length > 0);
  await until(() => [ann, bob].every((p) => p.log.some((e) => e.path === '/events' && e.status === 200)), Boolean);

  const job = await ann.client.createJob(generateJob(emulator.origin, { customId: 'anns' }).createJobRequest);
  const bobsJob = await bob.client.createJob(generateJob(emulator.origin, { customId: 'bobs' }).createJobRequest);
  await annFirst;
  await bobFirst;
  await take(anns, annSeen, endOf(job.id));
  await take(bobs, bobSeen, endOf(bobsJob.id));
  // Another of Ann's jobs, made after Bob's ended: had Bob's reached Ann, it would be seen by now.
  const later = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  await take(anns, annSeen, endOf(later.id));

  assert.deepEqual(
    annSeen.filter((j) => j.id === job.id).map((j) => j.status),
    ['SUBMITTED', 'COMPLETED'],
    'the answer to CreateJob, then the callback: nothing read in between',
  );
  assert.ok(
    annSeen.every((j) => [job.id, later.id].includes(j.id)),
    `only Ann's jobs: ${annSeen.map((j) => j.id)}`,
  );
  assert.ok(
    bobSeen.every((j) => j.id === bobsJob.id),
    `only Bob's job: ${bobSeen.map((j) => j.id)}`,
  );
  // Each event is the job as the proxy's GetJob answer gives it to Ann: its last one, exactly.
  const read = await ann.client.getJob(job.id);
  assert.deepEqual(annSeen.filter((j) => j.id === job.id).at(-1), read);
  assert.equal(read.customId, 'anns', 'as the page sees it (unscoped)');
  // One stream each, however many events: a single GET of the route per page.
  assert.equal(ann.log.filter((e) => e.path === '/events').length, 1);
  await anns.return();
  await bobs.return();
  assert.ok(ann.log.find((e) => e.path === '/events').signal.aborted, 'leaving the loop closes the connection');
});

test('a stream cut mid-way is opened again with Last-Event-ID, and what was missed comes first', async () => {
  let job;
  let opened = 0;
  let watch;
  const ann = page(proxy.api, {
    // The first stream ends after its first chunk (the event of the job's creation); the next
    // is sent only once the job has ended, so that its end can only come from the replay.
    hold: (request) =>
      request.url.endsWith('/events') &&
      opened === 1 &&
      until(
        () => watch.of(job.id),
        (evs) => evs.some((e) => e.job.status === 'COMPLETED'),
      ),
    tap: (request, response) => (request.url.endsWith('/events') && ++opened === 1 ? cutAfter(response, 1) : response),
  });
  await ann.client.listModels();
  // The same identity's stream, read by the harness's own parser.
  watch = await openEvents(ann.raw());
  const events = ann.client.events();
  const seen = [];
  const first = take(events, seen, (s) => s.length > 0);
  await until(() => ann.log.some((e) => e.path === '/events' && e.status === 200), Boolean);
  job = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  await first;
  await take(events, seen, endOf(job.id));
  await watch.close();
  const connects = ann.log.filter((e) => e.path === '/events');
  assert.equal(connects.length, 2, 'connected again, once');
  assert.equal(connects[0].lastEventId, null, 'the first connection replays everything buffered');
  const ids = watch.of(job.id);
  assert.deepEqual(
    ids.map((e) => e.job.status),
    ['SUBMITTED', 'COMPLETED'],
  );
  assert.equal(connects[1].lastEventId, ids[0].id, 'Last-Event-ID names the last event taken');
  assert.deepEqual(
    seen.filter((j) => j.id === job.id),
    ids.map((e) => e.job),
    'nothing twice, nothing missed',
  );
  await events.return();
});

test('heartbeat comments, CRLF and CR line ends, multi-line data and split chunks: the same jobs', async () => {
  const quick = await startProxy({ endpoint: emulator.api, eventsHeartbeatMs: 20 });
  stops.push(quick.close);
  // Rewrites the proxy's own events: CRLF after the first, CR alone after the second, the job's
  // JSON over several `data:` lines (split where JSON allows a line break), fields in another
  // order with a comment among them and no space after the colon, then split into 3-byte chunks.
  let rewritten = 0;
  let comments = 0;
  const rewrite = (block) => {
    if (block.startsWith(':')) {
      comments++;
      return `${block}\n\n`;
    }
    const fields = Object.fromEntries(
      block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
    );
    const data = JSON.stringify(JSON.parse(fields.data), null, 1).split('\n');
    const end = ['\r\n', '\r', '\n'][rewritten++ % 3];
    const lines = [`id:${fields.id}`, ': a comment', ...data.map((d) => `data: ${d}`), `event: ${fields.event}`];
    return lines.join(end) + end + end;
  };
  const ann = page(quick.api, {
    tap: (request, response) => {
      if (!request.url.endsWith('/events')) return response;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      let text = '';
      const body = new ReadableStream({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          text += decoder.decode(value, { stream: true });
          const blocks = text.split('\n\n');
          text = blocks.pop();
          const bytes = encoder.encode(blocks.map(rewrite).join(''));
          for (let at = 0; at < bytes.length; at += 3) controller.enqueue(bytes.slice(at, at + 3));
        },
        cancel: () => reader.cancel(),
      });
      return new Response(body, { headers: response.headers });
    },
  });
  await ann.client.listModels();
  const events = ann.client.events();
  const seen = [];
  const first = take(events, seen, (s) => s.length > 0);
  const rawStream = await openEvents(ann.raw());
  // Comments on the 20 ms heartbeat reach the client's stream before any event.
  await until(
    () => comments,
    (n) => n >= 5,
  );
  const jobs = [];
  for (let i = 0; i < 3; i++) jobs.push(await ann.client.createJob(generateJob(emulator.origin).createJobRequest));
  await first;
  for (const job of jobs) await take(events, seen, endOf(job.id));
  await until(
    () => rawStream.events,
    (evs) => jobs.every((job) => evs.some((e) => e.job.id === job.id && e.job.status === 'COMPLETED')),
  );
  await rawStream.close();
  assert.ok(rewritten >= 6, `${rewritten} events rewritten`);
  // Exactly the events the harness read from the plain stream, in order.
  assert.deepEqual(
    seen,
    rawStream.events.map((e) => e.job),
  );
  await events.return();
});

test('events() ends with `aborted` on its signal, connected or not, and checks its options', async () => {
  const ann = page(proxy.api);
  const controller = new AbortController();
  const events = ann.client.events({ signal: controller.signal });
  const next = events.next();
  await until(() => ann.log.some((e) => e.path === '/events' && e.status === 200), Boolean);
  controller.abort('the page is leaving');
  await assert.rejects(next, { name: 'SingingCloningError', code: 'aborted', message: 'aborted: the page is leaving' });
  assert.ok(ann.log[0].signal.aborted, 'the connection is closed');
  assert.deepEqual(await events.next(), { done: true, value: undefined });

  const before = ann.log.length;
  await assert.rejects(ann.client.events({ signal: AbortSignal.abort() }).next(), { code: 'aborted' });
  assert.equal(ann.log.length, before, 'nothing sent');
  assert.throws(() => ann.client.events({ signal: 'soon' }), {
    code: 'validation',
    issues: [{ path: 'options.signal', code: 'type', message: 'must be an AbortSignal' }],
  });
});

test('events() of an endpoint without the route rejects with `http` 404, at once', async () => {
  const plain = await startFronted(emulator, (request, handler, info) =>
    request.url.endsWith('/events') ? new Response('not found', { status: 404 }) : handler(request, info),
  );
  const ann = page(plain.api);
  await assert.rejects(ann.client.events().next(), { code: 'http', status: 404 });
  assert.deepEqual(ann.requests(), ['GET /events'], 'not retried');
});

test('waitForJob over the stream: create, the stream, one confirming read', async () => {
  const ann = page(proxy.api);
  const updates = [];
  const job = await ann.client.generate({
    url: `${emulator.origin}/cos/samples/song.wav`,
    modelName: 'default',
    contentId: 'results',
  });
  const done = await ann.client.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
  assert.equal(done.status, 'COMPLETED');
  assert.deepEqual(ann.requests(), ['POST /job CreateJob', 'GET /events', 'POST /job GetJob']);
  assert.deepEqual(updates, ['SUBMITTED', 'COMPLETED'], 'each state once');
  assert.deepEqual(done, await ann.client.getJob(job.id));
});

test('waitForJob polls when the endpoint has no events, and remembers it', async () => {
  const plain = await startFronted(emulator, (request, handler, info) =>
    request.url.endsWith('/events') ? new Response('not found', { status: 404 }) : handler(request, info),
  );
  const ann = page(plain.api);
  const updates = [];
  const first = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  const done = await ann.client.waitForJob(first.id, { onUpdate: (j) => updates.push(j.status) });
  assert.equal(done.status, 'COMPLETED');
  const requests = ann.requests();
  assert.deepEqual(requests.slice(0, 2), ['POST /job CreateJob', 'GET /events']);
  assert.ok(requests.length > 3, 'then polls');
  assert.ok(
    requests.slice(2).every((r) => r === 'POST /job GetJob'),
    requests.join(', '),
  );
  assert.deepEqual([...new Set(updates)], updates, 'each state once');
  assert.equal(updates.at(-1), 'COMPLETED');

  const second = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  const from = ann.log.length;
  await ann.client.waitForJob(second.id);
  assert.ok(
    ann.log.slice(from).every((e) => e.path === '/job'),
    'no second try of the route',
  );
});

test('waitForJob falls back to polling when the stream is cut and cannot be opened again', async () => {
  // Jobs that stay SUBMITTED for 1.5 s: the polling's first read finds the state the stream told.
  const slower = await startEmulator(1500);
  let opened = 0;
  const cut = await startFronted(slower, async (request, handler, info) => {
    if (!request.url.endsWith('/events')) return handler(request, info);
    // The first stream fails after its first chunk; the route is gone after that.
    if (++opened > 1) return new Response('gone', { status: 404 });
    return cutAfter(await handler(request, info), 1, true);
  });
  const ann = page(cut.api);
  const updates = [];
  const job = await ann.client.createJob(generateJob(slower.origin).createJobRequest);
  const done = await ann.client.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
  assert.equal(done.status, 'COMPLETED');
  const requests = ann.requests();
  assert.deepEqual(requests.slice(0, 3), ['POST /job CreateJob', 'GET /events', 'GET /events']);
  assert.equal(ann.log[3].status, 200);
  assert.ok(
    requests.slice(3).every((r) => r === 'POST /job GetJob'),
    requests.join(', '),
  );
  assert.ok(requests.length > 4, 'polled');
  // The polling's first read (within the 1.5 s) found SUBMITTED again: not told twice.
  assert.deepEqual(
    updates.filter((u) => u !== 'PROCESSING'),
    ['SUBMITTED', 'COMPLETED'],
    'each state once across the fallback',
  );
  assert.ok(updates.length <= 3, updates.join());
});

test('waitForJob stays on the stream across a cut it can reopen', async () => {
  let opened = 0;
  const ann = page(proxy.api, {
    tap: (request, response) =>
      request.url.endsWith('/events') && ++opened === 1 ? cutAfter(response, 1, true) : response,
  });
  const job = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  const done = await ann.client.waitForJob(job.id);
  assert.equal(done.status, 'COMPLETED');
  assert.deepEqual(ann.requests(), ['POST /job CreateJob', 'GET /events', 'GET /events', 'POST /job GetJob']);
  assert.ok(ann.log[2].lastEventId, 'reopened with Last-Event-ID');
});

test('waitForJob over the stream: timeout, abort, and options checked before anything is sent', async () => {
  const slow = await startEmulator(3_600_000);
  const slowProxy = await startProxy({ endpoint: slow.api });
  stops.push(slowProxy.close);
  const ann = page(slowProxy.api);
  const job = await ann.client.createJob(generateJob(slow.origin).createJobRequest);
  const started = Date.now();
  await assert.rejects(ann.client.waitForJob(job.id, { timeoutMs: 400 }), { code: 'timeout', retryable: true });
  const took = Date.now() - started;
  assert.ok(took >= 400 && took < 2000, `${took} ms`);
  assert.deepEqual(ann.requests(), ['POST /job CreateJob', 'GET /events'], 'the job was heard of: no read');

  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user left')), 200);
  await assert.rejects(ann.client.waitForJob(job.id, { signal: controller.signal }), {
    code: 'aborted',
    message: 'aborted: user left',
  });
  assert.ok(ann.log.at(-1).signal.aborted, 'the stream is closed');

  const from = ann.log.length;
  await assert.rejects(ann.client.waitForJob(job.id, { onUpdate: 'log' }), {
    code: 'validation',
    issues: [{ path: 'options.onUpdate', code: 'type', message: 'must be a function' }],
  });
  await assert.rejects(ann.client.waitForJob(job.id, { signal: 1 }), {
    code: 'validation',
    issues: [{ path: 'options.signal', code: 'type', message: 'must be an AbortSignal' }],
  });
  await assert.rejects(ann.client.waitForJob('', {}), { code: 'validation' });
  await assert.rejects(ann.client.waitForJob(job.id, 'soon'), { code: 'validation' });
  await assert.rejects(ann.client.waitForJob(job.id, { signal: AbortSignal.abort('no') }), {
    code: 'aborted',
    message: 'aborted: no',
  });
  assert.equal(ann.log.length, from, 'nothing sent');
});

test('waitForJob reads a job its stream has not heard of (made through another instance) once', async () => {
  // Another instance with the same proxySecret: the same sessions, but its own event buffer.
  const other = await startProxy({ endpoint: emulator.api });
  stops.push(other.close);
  const ann = page(proxy.api);
  const job = await ann.client.createJob(generateJob(emulator.origin).createJobRequest);
  await ann.client.waitForJob(job.id);
  const elsewhere = page(other.api, { cookie: ann.cookie() });
  const started = Date.now();
  const done = await elsewhere.client.waitForJob(job.id, { intervalMs: 300 });
  assert.ok(Date.now() - started >= 300, 'read after the first interval');
  assert.deepEqual(done, await ann.client.getJob(job.id));
  assert.deepEqual(elsewhere.requests(), ['GET /events', 'POST /job GetJob'], 'its own read found the end: no other');
});

test('a client with credentials, or without an endpoint, never asks for events', async () => {
  const log = [];
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    fetch: (request) => {
      log.push(new URL(request.url).pathname);
      return fetch(request);
    },
  });
  const job = await client.createJob(generateJob(emulator.origin).createJobRequest);
  const done = await client.waitForJob(job.id, { intervalMs: 100 });
  assert.equal(done.status, 'COMPLETED');
  assert.ok(!log.some((p) => p.endsWith('/events')), log.join(', '));
});

test('in Deno too: waitForJob over the stream in three requests, and events() (Deno has fetch streams)', async () => {
  const { stdout } = await promisify(execFile)(
    path.join(ROOT, 'node_modules/.bin/deno'),
    [
      'run',
      '--no-prompt',
      '--allow-net',
      '--allow-read',
      '--allow-env',
      path.join(ROOT, 'tests/node/events-deno-child.mjs'),
      proxy.api,
      PAGE_ORIGIN,
      JSON.stringify(generateJob(emulator.origin).createJobRequest),
    ],
    { env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' }, timeout: 60_000 },
  );
  const { status, requests, updates, seen } = JSON.parse(stdout);
  assert.equal(status, 'COMPLETED');
  assert.deepEqual(requests, ['POST /job', 'GET /events', 'POST /job', 'GET /events']);
  assert.deepEqual(updates, ['SUBMITTED', 'COMPLETED']);
  assert.deepEqual(seen, ['SUBMITTED', 'COMPLETED'], 'the replay of the job, from the start');
});
