// The same proxy handler answering in the real workerd (Cloudflare's runtime, from npm),
// in front of the emulator: the API, the scoping, the refusals, a callback end to end,
// and the leak scan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { verifyWebhook } from '../../js/proxy.js';
import {
  Browser,
  PROXY_SECRET,
  SECRET_ID,
  SECRET_KEY,
  call,
  generateJob,
  leakedIn,
  openEvents,
  freePort,
  seen,
  startEmulator,
  startServer,
  startWorkerd,
  until,
} from '../proxy/harness.mjs';

const WEBHOOK_SECRET = `whsec_${Buffer.from('workerd-webhook-secret').toString('base64')}`;
const ORIGIN = 'http://page.example';

let emulator;
let workerd;
let receiver;
let base;

before(async () => {
  emulator = await startEmulator();
  receiver = await startServer(() => ({ status: 200, body: '{}' }));
  base = `http://127.0.0.1:${await freePort()}`;
  workerd = await startWorkerd(
    'config.capnp',
    { http: base },
    {
      SINGING_CLONING_ENDPOINT: emulator.api,
      SINGING_CLONING_SECRET_ID: SECRET_ID,
      SINGING_CLONING_SECRET_KEY: SECRET_KEY,
      SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
      SINGING_CLONING_ALLOWED_ORIGINS: ORIGIN,
      SINGING_CLONING_PUBLIC_URL: base,
      SINGING_CLONING_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  );
});

after(async () => {
  await workerd?.stop();
  await receiver?.close();
  await emulator?.stop();
});

const api = () => `${base}/api/singing-cloning`;
const getJob = (id) => ({ action: 'GetJob', getJobRequest: { id } });

test('workerd: jobs are created, scoped and read through the proxy', async () => {
  const alice = new Browser(api(), { origin: ORIGIN });
  const created = await alice.job(generateJob(emulator.origin, { customId: 'in-workerd' }));
  assert.equal(created.status, 200, created.body);
  assert.match(created.headers.get('set-cookie'), /HttpOnly; SameSite=Strict/);
  const job = created.json.createJobResponse.job;
  assert.equal(job.customId, 'in-workerd');
  assert.equal((await alice.job(getJob(job.id))).status, 200);
  const bob = new Browser(api(), { origin: ORIGIN });
  const stolen = await bob.job(getJob(job.id));
  assert.equal(stolen.status, 404);
  assert.equal(stolen.json.error.code, 'job_not_found');
});

test('workerd: the refusals hold', async () => {
  const page = new Browser(api(), { origin: ORIGIN });
  assert.equal((await page.job({ ...getJob('x'), secretKey: 'k' })).json.error.code, 'credentials_in_body');
  assert.equal((await page.post('/job', '{bad', { raw: true })).json.error.code, 'bad_json');
  assert.equal(
    (await page.post('/job', JSON.stringify({ ...getJob('x'), pad: 'x'.repeat(70000) }), { raw: true })).status,
    413,
  );
  assert.equal((await new Browser(api(), { origin: 'https://evil.example' }).job(getJob('x'))).status, 403);
  assert.equal((await call(`${base}/release/job`, { method: 'POST', body: '{}' })).status, 404);
  const preflight = await call(`${api()}/job`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
});

test('workerd: a callback is re-read and forwarded signed', async () => {
  const page = new Browser(api(), { origin: ORIGIN });
  const target = `${receiver.url}/done`;
  const created = await page.job(generateJob(emulator.origin, { customId: 'cb', callback: target }));
  assert.equal(created.status, 200, created.body);
  const [message] = await until(
    () => receiver.received.filter((r) => r.url === '/done'),
    (r) => r.length >= 1,
  );
  const payload = verifyWebhook({ headers: message.headers, body: message.body }, WEBHOOK_SECRET);
  assert.equal(payload.id, created.json.createJobResponse.job.id);
  assert.equal(payload.customId, 'cb');
  assert.equal(payload.callback, target);
});

test('workerd: job events stream a job to its end, learned from the callback', async () => {
  const page = new Browser(api(), { origin: ORIGIN });
  const stream = await openEvents(page);
  assert.equal(stream.response.status, 200);
  assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const created = await page.job(generateJob(emulator.origin, { customId: 'workerd-events' }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  // The page never polls: the end comes from the callback the proxy asked for itself.
  const seen = await stream.untilCompleted(job.id);
  assert.equal(seen[0].job.status, 'SUBMITTED');
  assert.ok(seen.every((e) => e.job.customId === 'workerd-events'));
  assert.ok(stream.comments.length >= 1, 'keep-alive comments (eventsHeartbeatMs 200 in config.capnp)');
  await stream.close();
  const again = await openEvents(page, { 'last-event-id': seen[0].id });
  await until(
    () => again.events,
    (events) => events.length >= seen.length - 1,
  );
  assert.deepEqual(
    again.events.map((e) => e.id),
    seen.slice(1).map((e) => e.id),
  );
  await again.close();
});

test('workerd: leak scan', () => {
  assert.ok(seen.length >= 10);
  assert.deepEqual(
    seen.flatMap((r) => leakedIn(r.body + r.headers)),
    [],
  );
  assert.deepEqual(
    receiver.received.flatMap((r) => leakedIn(r.body + JSON.stringify(r.headers))),
    [],
  );
});
