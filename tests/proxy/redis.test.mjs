// Several proxies as one through Redis: two `npm run proxy` processes (js/proxy-server.js
// with SINGING_CLONING_REDIS_URL) behind a round-robin, in front of the emulator, with a
// real redis-server (Debian's, installed by scripts/setup.sh) started and stopped here.
// They share one rate-limit bucket, a CreateJob resent to the other gets the first job, and
// a callback delivered to either is an event on streams held by both. With Redis stopped,
// creates fail closed (503 store_unavailable) and reads go on; started again, all recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import path from 'node:path';

import {
  Browser,
  assertSharedEvents,
  PAGE_ORIGIN,
  PROXY_SECRET,
  ROOT,
  SECRET_ID,
  SECRET_KEY,
  closer,
  freePort,
  generateJob,
  openEvents,
  spawnUntil,
  startEmulator,
  startRedis,
  until,
} from './harness.mjs';

const RATE_CAPACITY = 20;

let emulator;
let redis;
let redisPort;
let front;
const proxies = [];
const stops = [];

/**
 * A round-robin in front of the proxies: each request goes to the next one, its body and
 * answer streamed through; `sent` records which proxy had each path.
 */
async function startFront(targets) {
  let next = 0;
  const sent = [];
  const server = createServer((req, res) => {
    const target = targets[next++ % targets.length];
    sent.push({ path: req.url, target: target.url });
    const out = request(`${target.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, sent, close: closer(server) };
}

before(async () => {
  emulator = await startEmulator();
  stops.push(emulator.stop);
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  const targets = [{ url: `http://127.0.0.1:${await freePort()}` }, { url: `http://127.0.0.1:${await freePort()}` }];
  front = await startFront(targets);
  stops.push(front.close);
  for (const target of targets) {
    const proxy = await spawnUntil(
      process.execPath,
      [path.join(ROOT, 'js/proxy-server.js')],
      {
        PORT: new URL(target.url).port,
        SINGING_CLONING_ENDPOINT: emulator.api,
        SINGING_CLONING_SECRET_ID: SECRET_ID,
        SINGING_CLONING_SECRET_KEY: SECRET_KEY,
        SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
        SINGING_CLONING_ALLOWED_ORIGINS: PAGE_ORIGIN,
        // The emulator calls back through the round-robin, so either proxy may get it.
        SINGING_CLONING_PUBLIC_URL: front.url,
        SINGING_CLONING_CALLBACK_ALLOW_PRIVATE: 'true',
        SINGING_CLONING_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        SINGING_CLONING_RATE_LIMIT_CAPACITY: String(RATE_CAPACITY),
        SINGING_CLONING_RATE_LIMIT_REFILL_PER_SECOND: '0.01',
        SINGING_CLONING_ADDRESS_RATE_LIMIT_CAPACITY: '100000',
        SINGING_CLONING_ADDRESS_RATE_LIMIT_REFILL_PER_SECOND: '1000',
        SINGING_CLONING_SESSION_RATE_LIMIT_CAPACITY: '100000',
        SINGING_CLONING_SESSION_RATE_LIMIT_REFILL_PER_SECOND: '1000',
      },
      /singing-cloning proxy listening on (http:\/\/\S+)/,
    );
    proxies.push({ ...proxy, url: target.url, api: `${target.url}/api/singing-cloning` });
    stops.push(proxy.stop);
  }
  stops.push(() => redis.stop());
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

const api = () => `${front.url}/api/singing-cloning`;

/** A cheap read: the jobs of a `customId`. */
const listJobs = (browser) => browser.job({ action: 'ListJobs', listJobsRequest: { customId: 'none-such' } });

test('two proxies share one rate-limit bucket per identity', async () => {
  const ann = new Browser(api());
  const statuses = [];
  for (let i = 0; i < RATE_CAPACITY + 3; i++) statuses.push((await listJobs(ann)).status);
  // Each proxy alone would allow 20: together they allow 20 in all, alternating.
  assert.deepEqual(statuses, [...Array(RATE_CAPACITY).fill(200), 429, 429, 429]);
  const targets = new Set(front.sent.slice(-statuses.length).map((s) => s.target));
  assert.equal(targets.size, 2, 'both proxies answered');
  // Another identity has its own bucket.
  assert.equal((await listJobs(new Browser(api()))).status, 200);
});

test('a CreateJob resent to the other proxy gets the first job', async () => {
  const bob = new Browser(api());
  await listJobs(bob); // the session
  const body = generateJob(emulator.origin, { customId: 'bobs-resent-song' });
  // The two copies at once, one to each proxy (the round-robin alternates).
  const [first, second] = await Promise.all([bob.job(body), bob.job(body)]);
  assert.equal(first.status, 200, first.body);
  assert.equal(second.status, 200, second.body);
  assert.equal(first.json.createJobResponse.job.id, second.json.createJobResponse.job.id);
  const upstream = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('bobs-resent-song'));
  assert.equal(upstream.length, 1, 'one job upstream');
});

test('a callback delivered to one proxy is an event on streams held by both', async () => {
  const carol = new Browser(api());
  await listJobs(carol);
  // One stream on each proxy, directly.
  const streams = [];
  for (const proxy of proxies) {
    const page = new Browser(proxy.api);
    page.cookie = carol.cookie;
    streams.push(await openEvents(page));
  }
  for (const stream of streams) assert.equal(stream.response.status, 200);
  const created = await carol.job(generateJob(emulator.origin, { customId: 'carols-song' }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  assert.equal(job.customId, 'carols-song');
  await assertSharedEvents(streams, job);
  const callback = front.sent.find((s) => s.path.includes('/callbacks/'));
  assert.ok(callback, 'the callback came through the round-robin');
  for (const stream of streams) await stream.close();
});

test('without Redis, creates fail closed and reads go on; with it back, all recovers once', async () => {
  const dave = new Browser(api());
  assert.equal((await listJobs(dave)).status, 200);
  const done = await dave.job(generateJob(emulator.origin, { customId: 'daves-first' }));
  const jobId = done.json.createJobResponse.job.id;

  await redis.stop();
  const body = generateJob(emulator.origin, { customId: 'daves-second' });
  for (let i = 0; i < 2; i++) {
    const refused = await dave.job(body);
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.json.error.code, 'store_unavailable');
    assert.ok(refused.headers.get('retry-after'));
  }
  for (let i = 0; i < 2; i++) {
    const read = await dave.job({ action: 'GetJob', getJobRequest: { id: jobId } });
    assert.equal(read.status, 200, read.body);
    assert.equal(read.json.getJobResponse.job.id, jobId);
  }
  assert.equal((await listJobs(dave)).status, 200);
  const none = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('daves-second'));
  assert.equal(none.length, 0, 'nothing was created while the store was away');

  redis = await startRedis(redisPort);
  // ioredis reconnects by itself (its backoff is at most 2 s).
  const again = await until(
    () => dave.job(body),
    (answer) => answer.status !== 503,
    15000,
    250,
  );
  assert.equal(again.status, 200, again.body);
  const [a, b] = await Promise.all([dave.job(body), dave.job(body)]);
  assert.equal(a.json.createJobResponse.job.id, again.json.createJobResponse.job.id);
  assert.equal(b.json.createJobResponse.job.id, again.json.createJobResponse.job.id);
  const created = (await emulator.admin('/admin/jobs')).jobs.filter((j) => j.customId.endsWith('daves-second'));
  assert.equal(created.length, 1, 'one job, however often it was sent');
});
