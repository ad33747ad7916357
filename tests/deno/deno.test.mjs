// The same proxy handler answering in Deno (the `deno` binary from npm), in front of the
// emulator: the API through it, its refusals, scoping, and the leak scan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
  Browser,
  PROXY_SECRET,
  ROOT,
  SECRET_ID,
  SECRET_KEY,
  generateJob,
  leakedIn,
  openEvents,
  seen,
  spawnUntil,
  startEmulator,
  until,
} from '../proxy/harness.mjs';

const ORIGIN = 'http://page.example';
let emulator;
let deno;
let api;

before(async () => {
  emulator = await startEmulator();
  const bin = path.join(ROOT, 'node_modules/.bin/deno');
  deno = await spawnUntil(
    bin,
    ['run', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', path.join(ROOT, 'tests/deno/server.js')],
    {
      DENO_NO_UPDATE_CHECK: '1',
      SINGING_CLONING_ENDPOINT: emulator.api,
      SINGING_CLONING_SECRET_ID: SECRET_ID,
      SINGING_CLONING_SECRET_KEY: SECRET_KEY,
      SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
      SINGING_CLONING_ALLOWED_ORIGINS: ORIGIN,
      SINGING_CLONING_EVENTS_HEARTBEAT_MS: '100',
    },
    /singing-cloning proxy in Deno on (http:\/\/127\.0\.0\.1:\d+)/,
    60000,
  );
  api = `${deno.match[1]}/api/singing-cloning`;
});

after(async () => {
  await deno?.stop();
  await emulator?.stop();
});

test('Deno: the proxy carries the API with the credentials it holds', async () => {
  const browser = new Browser(api, { origin: ORIGIN });
  const models = await browser.post('/music_model', {
    action: 'ListModels',
    listModelsRequest: { offset: 0, limit: 10, type: 2 },
  });
  assert.equal(models.status, 200, models.body);
  assert.ok(models.json.listModelsResponse.models.some((m) => m.name === 'default'));
  assert.match(models.headers.get('set-cookie') ?? '', /sc_session=/);

  const created = await browser.post('/job', generateJob(emulator.origin, { customId: 'deno_1' }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  assert.equal(job.customId, 'deno_1', 'the scope prefix is taken off');
  const again = await browser.post('/job', { action: 'GetJob', getJobRequest: { id: job.id } });
  assert.equal(again.status, 200);

  const stranger = new Browser(api, { origin: ORIGIN });
  const other = await stranger.post('/job', { action: 'GetJob', getJobRequest: { id: job.id } });
  assert.equal(other.status, 404, 'another browser cannot read the job');
});

test('Deno: credentials from a browser and disallowed origins are refused', async () => {
  const browser = new Browser(api, { origin: ORIGIN });
  const withSecrets = await browser.post('/music_model', {
    action: 'ListModels',
    secretId: 'x',
    secretKey: 'y',
    listModelsRequest: { offset: 0, limit: 10, type: 2 },
  });
  assert.equal(withSecrets.status, 400);
  assert.equal(withSecrets.json.error.code, 'credentials_in_body');
  const elsewhere = new Browser(api, { origin: 'http://evil.example' });
  const refused = await elsewhere.post('/music_model', {
    action: 'ListModels',
    listModelsRequest: { offset: 0, limit: 10, type: 2 },
  });
  assert.equal(refused.status, 403);
});

test('Deno: job events stream the caller’s job as the proxy reads it, with keep-alive comments', async () => {
  const browser = new Browser(api, { origin: ORIGIN });
  const stream = await openEvents(browser);
  assert.equal(stream.response.status, 200);
  assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const created = await browser.post('/job', generateJob(emulator.origin, { customId: 'deno_events' }));
  const job = created.json.createJobResponse.job;
  // No publicUrl here, so no callback: the proxy's own reads are the news.
  await until(
    async () => (await browser.post('/job', { action: 'GetJob', getJobRequest: { id: job.id } })).json,
    (answer) => answer?.getJobResponse?.job?.state === 3,
  );
  const seen = await stream.untilCompleted(job.id);
  assert.equal(seen[0].job.status, 'SUBMITTED');
  assert.ok(seen.every((e) => e.job.customId === 'deno_events'));
  await until(
    () => stream.comments,
    (comments) => comments.length >= 1,
    5000,
  );
  await stream.close();
});

test('Deno: leak scan over every answer', () => {
  assert.ok(seen.length >= 5, `${seen.length} answers`);
  for (const answer of seen) assert.deepEqual(leakedIn(answer.headers + answer.body), [], answer.where);
});
