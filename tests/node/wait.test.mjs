// waitForJob's polling, which it does wherever there are no events (a client with credentials,
// an endpoint without the route, a stream that failed): its schedule, read on a virtual clock
// in a child process (tests/node/wait-clock.mjs), and its ends against the emulator, CANCELED
// and ERROR told apart, and a timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SingingCloningClient } from 'singing-cloning';
import { startEmulator } from '../support/emulator.mjs';

const CHILD = fileURLToPath(new URL('wait-clock.mjs', import.meta.url));

/** The child's outcome for `{ client, wait, endsAt }`. */
function onTheClock(setup) {
  return JSON.parse(execFileSync(process.execPath, [CHILD, JSON.stringify(setup)], { encoding: 'utf8' }));
}

const gaps = (reads) => reads.slice(1).map((at, i) => at - reads[i]);

test('polls at once, then from 1 s doubling to a 10 s cap, and notices the end at the next read', () => {
  const { reads, status } = onTheClock({ endsAt: 30_000 });
  assert.equal(status, 'COMPLETED');
  assert.deepEqual(reads, [0, 1000, 3000, 7000, 15_000, 25_000, 35_000]);
});

test("the call's intervals come before the client's, the client's before the defaults", () => {
  const client = { pollIntervalMs: 200, maxPollIntervalMs: 800 };
  assert.deepEqual(gaps(onTheClock({ client, endsAt: 3000 }).reads), [200, 400, 800, 800, 800]);
  const wait = { intervalMs: 50, maxIntervalMs: 150 };
  assert.deepEqual(gaps(onTheClock({ client, wait, endsAt: 400 }).reads), [50, 100, 150, 150]);
  // A cap below the first interval: the first interval throughout.
  const below = { intervalMs: 500, maxIntervalMs: 100 };
  assert.deepEqual(gaps(onTheClock({ wait: below, endsAt: 1500 }).reads), [500, 500, 500]);
});

test('timeoutMs ends the wait with `timeout` at its time, whatever the schedule', () => {
  const { reads, code, at } = onTheClock({ wait: { timeoutMs: 5000 } });
  assert.equal(code, 'timeout');
  assert.equal(at, 5000);
  assert.deepEqual(reads, [0, 1000, 3000]);
});

let emulator;
before(async () => {
  emulator = await startEmulator(['--job-ms', '400']);
});
after(() => emulator?.stop());

const server = () =>
  new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    // Every 50 ms: SUBMITTED and PROCESSING (each at least 400 ms) are read.
    pollIntervalMs: 50,
    maxPollIntervalMs: 50,
  });
const song = (url) => ({ url, modelName: 'default', contentId: 'results' });

test('ends at COMPLETED, ERROR or CANCELED, telling onUpdate of each state once', async () => {
  const client = server();
  const job = await client.generate(song(`${emulator.origin}/cos/samples/song.wav`));
  const updates = [];
  const done = await client.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
  assert.equal(done.status, 'COMPLETED');
  assert.deepEqual(done, await client.getJob(job.id));
  assert.deepEqual(updates, ['SUBMITTED', 'PROCESSING', 'COMPLETED']);

  const failed = await client.generate(song('http://127.0.0.1:9/nothing.wav'));
  const broken = () => {
    throw new Error('a listener that fails does not end the wait');
  };
  assert.equal((await client.waitForJob(failed.id, { onUpdate: broken })).status, 'ERROR');

  // Canceled as the service's console would: the client's fetch sets the real job to CANCELED
  // (state 5) on its way.
  const canceling = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    fetch: async (request) => {
      const action = JSON.parse(await request.clone().text()).action;
      const response = await fetch(request);
      if (action !== 'GetJob') return response;
      const answer = await response.json();
      answer.getJobResponse.job.state = 5;
      return new Response(JSON.stringify(answer), { status: response.status });
    },
  });
  const canceled = await canceling.waitForJob(job.id);
  assert.equal(canceled.status, 'CANCELED');
  assert.equal(canceled.state, 5);
});

test('a read that fails ends the wait with its error; options are checked before any read', async () => {
  const client = server();
  await assert.rejects(client.waitForJob('no-such-job'), { name: 'SingingCloningError', code: 'api' });
  const log = [];
  const counted = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    fetch: (request) => log.push(request.url) && fetch(request),
  });
  const cases = [
    [5, { path: 'id', code: 'type', message: 'must be a string' }],
    ['', { path: 'id', code: 'required', message: 'must not be empty' }],
    ['j', { path: 'options', code: 'type', message: 'must be an object' }, 'soon'],
    ['j', { path: 'options.timeoutMs', code: 'range', message: 'is out of range' }, { timeoutMs: 0 }],
    ['j', { path: 'options.timeoutMs', code: 'range', message: 'is out of range' }, { timeoutMs: 2 ** 31 }],
    ['j', { path: 'options.intervalMs', code: 'range', message: 'is out of range' }, { intervalMs: 1.5 }],
    ['j', { path: 'options.maxIntervalMs', code: 'type', message: 'must be a number' }, { maxIntervalMs: '9' }],
    ['j', { path: 'options.onUpdate', code: 'type', message: 'must be a function' }, { onUpdate: true }],
    ['j', { path: 'options.signal', code: 'type', message: 'must be an AbortSignal' }, { signal: {} }],
  ];
  for (const [id, issue, options] of cases) {
    await assert.rejects(counted.waitForJob(id, options), { code: 'validation', issues: [issue] });
  }
  await assert.rejects(counted.waitForJob('j', { signal: AbortSignal.abort('left') }), {
    code: 'aborted',
    message: 'aborted: left',
  });
  assert.deepEqual(log, [], 'nothing sent');
});
