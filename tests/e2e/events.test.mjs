// Job events in a real browser: two pages in headless Chromium (two contexts, so two cookie
// jars and two identities), each loading the page build (pkg/browser.js) from the proxy's own
// origin, in front of the emulator. Ann's `client.events()` gets the `job` events of her own
// jobs and never Bob's; Bob's `waitForJob` sends three requests for his job (create, the stream,
// one confirming read), counted by the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { launchChromium } from '../support/chromium.mjs';
import { ROOT, generateJob, startEmulator, startProxy } from '../proxy/harness.mjs';

let emulator;
let proxy;
let browser;
let dir;

/** A page of its own context, on the proxy's origin, with the package as `window.sc`; and its requests. */
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/api/')) return;
    const action = request.method() === 'POST' ? JSON.parse(request.postData()).action : '';
    requests.push(`${request.method()} ${url.pathname.slice('/api/singing-cloning'.length)} ${action}`.trim());
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${proxy.url}/index.html`);
  await page.waitForFunction(() => window.sc);
  await page.evaluate(async () => {
    window.client = new window.sc.SingingCloningClient({ endpoint: `${location.origin}/api/singing-cloning` });
    // The page's session, as any call to the proxy makes it.
    await window.client.listModels();
  });
  return { page, requests, errors };
}

before(async () => {
  emulator = await startEmulator();
  dir = await mkdtemp(path.join(tmpdir(), 'events-page-'));
  await writeFile(
    path.join(dir, 'index.html'),
    '<!doctype html><title>events</title>' +
      '<script type="module">import * as sc from "/pkg/browser.js"; await sc.ready; window.sc = sc;</script>',
  );
  proxy = await startProxy({ endpoint: emulator.api }, { staticDir: dir, mounts: { '/pkg/': path.join(ROOT, 'pkg') } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await proxy?.close();
  await emulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a page's events() gets its own job's events and never another identity's", { timeout: 60_000 }, async () => {
  const ann = await openPage();
  const bob = await openPage();
  const request = (customId) => generateJob(emulator.origin, { customId }).createJobRequest;

  // Ann listens from now on.
  await ann.page.evaluate(() => {
    window.seen = [];
    window.stop = new AbortController();
    window.listening = (async () => {
      try {
        for await (const job of window.client.events({ signal: window.stop.signal })) window.seen.push(job);
      } catch (error) {
        window.ended = `${error.name} ${error.code}`;
      }
    })();
  });
  await ann.page.waitForResponse((r) => r.url().endsWith('/events') && r.status() === 200);

  const annsJob = await ann.page.evaluate((r) => window.client.createJob(r), request('anns'));
  // Bob's job ends while Ann listens; Bob waits for it over his own stream.
  const bobsJob = await bob.page.evaluate(async (r) => {
    const job = await window.client.createJob(r);
    const updates = [];
    const done = await window.client.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
    return { job, done, updates };
  }, request('bobs'));
  assert.equal(bobsJob.done.status, 'COMPLETED');
  assert.deepEqual(bobsJob.updates, ['SUBMITTED', 'COMPLETED']);
  assert.deepEqual(
    bob.requests.slice(-3),
    ['POST /job CreateJob', 'GET /events', 'POST /job GetJob'],
    'three requests for the job: create, the stream, one confirming read',
  );
  assert.equal(bob.requests.length, 4, `only these after the session's first call: ${bob.requests}`);

  await ann.page.waitForFunction(
    (id) => window.seen.some((job) => job.id === id && job.status === 'COMPLETED'),
    annsJob.id,
    { timeout: 20_000 },
  );
  // Another job of Ann's, made after Bob's ended: were Bob's events reaching her, they would have by now.
  const later = await ann.page.evaluate((r) => window.client.createJob(r), request('later'));
  await ann.page.waitForFunction(
    (id) => window.seen.some((job) => job.id === id && job.status === 'COMPLETED'),
    later.id,
    { timeout: 20_000 },
  );
  const seen = await ann.page.evaluate(() => window.seen);
  assert.deepEqual(
    seen.filter((job) => job.id === annsJob.id).map((job) => job.status),
    ['SUBMITTED', 'COMPLETED'],
  );
  assert.ok(
    seen.every((job) => [annsJob.id, later.id].includes(job.id)),
    `only Ann's jobs: ${seen.map((j) => `${j.id} ${j.customId}`)}`,
  );
  assert.ok(!seen.some((job) => job.id === bobsJob.job.id));
  assert.equal(seen.at(-1).customId, 'later', 'as the page sees its jobs (unscoped)');
  // The job of an event is the job GetJob gives the page.
  const read = await ann.page.evaluate((id) => window.client.getJob(id), annsJob.id);
  assert.deepEqual(seen.filter((job) => job.id === annsJob.id).at(-1), read);

  // Ann stops listening: the loop ends with the client's `aborted`.
  await ann.page.evaluate(() => {
    window.stop.abort();
    return window.listening;
  });
  assert.equal(await ann.page.evaluate(() => window.ended), 'SingingCloningError aborted');
  assert.equal(ann.requests.filter((r) => r === 'GET /events').length, 1, 'one stream throughout');
  assert.deepEqual([...ann.errors, ...bob.errors], []);
});
