// A CreateJob sent twice through the proxy, as Chromium resends a POST whose reused
// connection closed before any answer: one job, and both copies get it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Browser, generateJob, leakedIn, seen, startEmulator, startProxy } from './harness.mjs';

let emulator;
let proxy;

before(async () => {
  emulator = await startEmulator();
  proxy = await startProxy({ endpoint: emulator.api, rateLimit: { capacity: 1000, refillPerSecond: 100 } });
});

after(async () => {
  await proxy?.close();
  await emulator?.stop();
});

const jobCount = async () => (await emulator.admin('/admin/jobs')).total;

async function page() {
  const browser = new Browser(proxy.api);
  // The first answer sets the session cookie that the copies below share.
  assert.equal(
    (await browser.post('/music_model', { action: 'ListModels', listModelsRequest: { offset: 0, limit: 1, type: 2 } }))
      .status,
    200,
  );
  return browser;
}

test('two copies in flight at once make one job, and both answers name it', async () => {
  const browser = await page();
  const before = await jobCount();
  const body = generateJob(emulator.origin, { customId: 'resent_together' });
  const [first, second] = await Promise.all([browser.post('/job', body), browser.post('/job', body)]);
  assert.equal(first.status, 200, first.body);
  assert.equal(second.status, 200, second.body);
  assert.equal(first.json.createJobResponse.job.id, second.json.createJobResponse.job.id);
  assert.equal(second.json.createJobResponse.job.customId, 'resent_together');
  assert.equal((await jobCount()) - before, 1);
});

test('a copy that comes after the answer gets the same job', async () => {
  const browser = await page();
  const before = await jobCount();
  const body = generateJob(emulator.origin, { customId: 'resent_later' });
  const first = await browser.post('/job', body);
  const second = await browser.post('/job', body);
  assert.equal(second.json.createJobResponse.job.id, first.json.createJobResponse.job.id);
  assert.equal((await jobCount()) - before, 1);
});

test('only true copies are merged: another body, no customId, or another user make new jobs', async () => {
  const browser = await page();
  const before = await jobCount();
  const a = await browser.post('/job', generateJob(emulator.origin, { customId: 'same_id' }));
  const b = await browser.post('/job', generateJob(emulator.origin, { customId: 'same_id', timeout: 600 }));
  assert.notEqual(a.json.createJobResponse.job.id, b.json.createJobResponse.job.id, 'another body is another job');
  const unnamed = generateJob(emulator.origin);
  const c = await browser.post('/job', unnamed);
  const d = await browser.post('/job', unnamed);
  assert.notEqual(
    c.json.createJobResponse.job.id,
    d.json.createJobResponse.job.id,
    'jobs without a customId are never merged',
  );
  const stranger = await page();
  const e = await stranger.post('/job', generateJob(emulator.origin, { customId: 'same_id' }));
  assert.notEqual(e.json.createJobResponse.job.id, a.json.createJobResponse.job.id, "another user's job is their own");
  assert.equal((await jobCount()) - before, 5);
});

test('a copy of a refused CreateJob is sent again, not answered from memory', async () => {
  const browser = await page();
  const before = await jobCount();
  // A model that does not exist: the emulator refuses (404 ModelNotFound), twice.
  const body = generateJob(emulator.origin, { customId: 'refused' });
  body.createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName = 'no_such_model';
  const first = await browser.post('/job', body);
  const second = await browser.post('/job', body);
  assert.equal(first.status, 404);
  assert.equal(second.status, 404);
  assert.equal((await jobCount()) - before, 0);
});

test('leak scan over every answer of this suite', () => {
  for (const answer of seen) assert.deepEqual(leakedIn(answer.headers + answer.body), [], answer.where);
});

test("the config's fetch carries every outgoing request", async () => {
  const { nodeFetch } = await import('../../js/proxy-server.js');
  const sent = [];
  const counting = (request) => {
    sent.push(new URL(request.url).pathname);
    return nodeFetch(request);
  };
  const own = await startProxy({ endpoint: emulator.api, fetch: counting });
  try {
    const browser = new Browser(own.api);
    const answer = await browser.post('/music_model', {
      action: 'ListModels',
      listModelsRequest: { offset: 0, limit: 5, type: 2 },
    });
    assert.equal(answer.status, 200, answer.body);
    assert.ok(answer.json.listModelsResponse.models.some((m) => m.name === 'default'));
    assert.deepEqual(sent, ['/release/music_model']);
  } finally {
    await own.close();
  }
});
