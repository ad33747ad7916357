// Several proxies as one on Workers, in the real workerd: two Worker services (two isolates)
// running js/proxy-workerd.js, in front of the emulator, share one Durable Object namespace
// (js/proxy-durable.js's ProxyState, bound as SINGING_CLONING_STATE; tests/workerd/durable.capnp).
// They share one rate-limit bucket, a CreateJob sent to both at once is one job, and a callback
// delivered to one is an event on a stream held by the other. A third proxy, whose state object
// is down, fails creates closed and serves reads. The object's storage is a directory that
// outlives workerd: after a restart, a resent CreateJob and a replayed callback still find the
// claims. Also measures workerd's CPU time per request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Browser,
  assertSharedEvents,
  PAGE_ORIGIN,
  call,
  PROXY_SECRET,
  SECRET_ID,
  SECRET_KEY,
  generateJob,
  leakedIn,
  openEvents,
  freePort,
  seen,
  startEmulator,
  startWorkerd,
  until,
} from '../proxy/harness.mjs';

const RATE_CAPACITY = 50;

let emulator;
let workerd;
let stateDir;
/** The proxies by socket name: `{ base, api }`. */
const proxy = {};

/** Starts workerd with the three proxies; the object's storage in `stateDir`, which outlives it. */
let launch;

before(async () => {
  emulator = await startEmulator();
  const sockets = {};
  for (const name of ['a', 'b', 'c']) {
    const base = `http://127.0.0.1:${await freePort()}`;
    proxy[name] = { base, api: `${base}/api/singing-cloning` };
    sockets[name] = base;
  }
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'durable-state-'));
  launch = () =>
    startWorkerd(
      'durable.capnp',
      sockets,
      {
        SINGING_CLONING_ENDPOINT: emulator.api,
        SINGING_CLONING_SECRET_ID: SECRET_ID,
        SINGING_CLONING_SECRET_KEY: SECRET_KEY,
        SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
        SINGING_CLONING_ALLOWED_ORIGINS: PAGE_ORIGIN,
        // Every callback comes to proxy a.
        SINGING_CLONING_PUBLIC_URL: proxy.a.base,
        SINGING_CLONING_RATE_LIMIT_CAPACITY: String(RATE_CAPACITY),
      },
      ['--directory-path', `state-disk=${stateDir}`],
    );
  workerd = await launch();
});

after(async () => {
  await workerd?.stop();
  await emulator?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** A cheap read: the jobs of a `customId`. */
const listJobs = (browser) => browser.job({ action: 'ListJobs', listJobsRequest: { customId: 'none-such' } });

/** One page (one cookie jar) as seen through each of the proxies `names`. */
function pageOn(...names) {
  let cookie = null;
  const jar = { get: () => cookie, set: (value) => (cookie = value) };
  return names.map((name) => Object.defineProperty(new Browser(proxy[name].api), 'cookie', jar));
}

test('two Workers share one rate-limit bucket per identity', async () => {
  const [onA, onB] = pageOn('a', 'b');
  const statuses = [];
  for (let i = 0; i < RATE_CAPACITY + 2; i++) statuses.push((await listJobs(i % 2 ? onB : onA)).status);
  // Each alone would allow 50, so 100 alternating: together they allow 50 in all.
  assert.deepEqual(statuses, [...Array(RATE_CAPACITY).fill(200), 429, 429]);
  // Another identity has its own bucket.
  assert.equal((await listJobs(new Browser(proxy.b.api))).status, 200);
});

test('a CreateJob sent to both Workers at once is one job', async () => {
  const [onA, onB] = pageOn('a', 'b');
  assert.equal((await listJobs(onA)).status, 200); // the session
  const body = generateJob(emulator.origin, { customId: 'bobs-doubled-song' });
  const [first, second] = await Promise.all([onA.job(body), onB.job(body)]);
  assert.equal(first.status, 200, first.body);
  assert.equal(second.status, 200, second.body);
  assert.equal(first.json.createJobResponse.job.id, second.json.createJobResponse.job.id);
  const upstream = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('bobs-doubled-song'));
  assert.equal(upstream.length, 1, 'one job upstream');
  // Sent again later, to either: the same job still.
  const again = await onB.job(body);
  assert.equal(again.json.createJobResponse.job.id, first.json.createJobResponse.job.id);
});

test('a callback delivered to one Worker is an event on a stream held by the other', async () => {
  const [onA, onB] = pageOn('a', 'b');
  assert.equal((await listJobs(onA)).status, 200);
  const streams = [await openEvents(onB), await openEvents(onA)];
  for (const stream of streams) assert.equal(stream.response.status, 200);
  // Created through b; its end is learned only from the callback, which goes to a.
  const created = await onB.job(generateJob(emulator.origin, { customId: 'carols-song' }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  assert.equal(job.customId, 'carols-song');
  const ids = await assertSharedEvents(streams, job);
  for (const stream of streams) await stream.close();
  // A stream opened later on b replays them from the object.
  const later = await openEvents(onB);
  await until(
    () => later.of(job.id),
    (all) => all.length >= ids.length,
  );
  assert.deepEqual(
    later.of(job.id).map((e) => e.id),
    ids,
  );
  await later.close();
});

test('with the state object down, creates fail closed and reads go on', async () => {
  const [onA, onC] = pageOn('a', 'c');
  const made = await onA.job(generateJob(emulator.origin, { customId: 'daves-first' }));
  assert.equal(made.status, 200, made.body);
  const jobId = made.json.createJobResponse.job.id;
  const body = generateJob(emulator.origin, { customId: 'daves-second' });
  const refused = await onC.job(body);
  assert.equal(refused.status, 503, refused.body);
  assert.equal(refused.json.error.code, 'store_unavailable');
  assert.ok(refused.headers.get('retry-after'));
  const read = await onC.job({ action: 'GetJob', getJobRequest: { id: jobId } });
  assert.equal(read.status, 200, read.body);
  assert.equal(read.json.getJobResponse.job.id, jobId);
  assert.equal((await listJobs(onC)).status, 200);
  const none = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('daves-second'));
  assert.equal(none.length, 0, 'nothing was created');
});

/** workerd's CPU time so far (user and system), in milliseconds. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
}

test('CPU time per proxied request in workerd, state in the Durable Object', {
  skip: !existsSync('/proc/self/stat'),
}, async (t) => {
  // A fresh page (a new session) every `perPage` requests, under its bucket's capacity.
  const perPage = RATE_CAPACITY - 1;
  const pages = [];
  const send = async (i) => {
    if (i % perPage === 0) pages.push(pageOn('a', 'b'));
    return (await listJobs(pages.at(-1)[i % 2])).status;
  };
  const statuses = new Set();
  // Warmed up first: the isolates' and the object's first requests compile the code.
  for (let i = 0; i < perPage; i++) statuses.add(await send(i));
  const count = 300;
  const start = cpuMs(workerd.child.pid);
  const startAt = performance.now();
  for (let i = perPage; i < perPage + count; i++) statuses.add(await send(i));
  const perRequest = (cpuMs(workerd.child.pid) - start) / count;
  const wallPerRequest = (performance.now() - startAt) / count;
  assert.deepEqual([...statuses], [200], 'every request was proxied');
  assert.ok(perRequest > 0);
  const report =
    `workerd CPU per proxied ListJobs (both proxies, the object, HTTP): ${perRequest.toFixed(2)} ms;` +
    ` wall ${wallPerRequest.toFixed(2)} ms; ${count} requests, one at a time`;
  t.diagnostic(report);
});

test("the object's claims outlive a restart of workerd: a resent CreateJob and a replayed callback", async () => {
  const [onA, onB] = pageOn('a', 'b');
  assert.equal((await listJobs(onA)).status, 200); // the session
  const stream = await openEvents(onB);
  const body = generateJob(emulator.origin, { customId: 'erins-song' });
  const first = await onA.job(body);
  assert.equal(first.status, 200, first.body);
  const jobId = first.json.createJobResponse.job.id;
  // Its end came by callback to a, which the object claimed as delivered.
  await stream.untilCompleted(jobId);
  await stream.close();
  const upstream = (await emulator.admin('/admin/jobs')).jobs.find((j) => j.id === jobId);

  // Everything in memory is gone: the isolates and the object; its storage stays.
  await workerd.stop();
  workerd = await launch();

  const again = await onB.job(body);
  assert.equal(again.status, 200, again.body);
  assert.equal(again.json.createJobResponse.job.id, jobId, 'the first job, not a new one');
  const made = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('erins-song'));
  assert.equal(made.length, 1, 'one job upstream');
  const replay = await call(upstream.callback, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(upstream),
  });
  assert.equal(replay.status, 409, replay.body);
  assert.equal(replay.json.error.code, 'already_delivered');
});

test('durable: leak scan', () => {
  assert.ok(seen.length >= 20);
  assert.deepEqual(
    seen.flatMap((r) => leakedIn(r.body + r.headers)),
    [],
  );
});
