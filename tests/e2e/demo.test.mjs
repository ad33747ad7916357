// The demo end to end, as a new user meets it: scripts/demo.mjs (what `npm start` runs
// after setup and build) with the emulator and the proxy, and the page in real headless
// Chromium (Debian's, driven by playwright-core). Trains a model on the sample voice,
// covers the sample song with it, plays the result, shows an inline issue, and checks that
// no secret travels in any request or in anything the page loads.
// Saves test-results/demo.png (and docs/demo-screenshot.png with UPDATE_SCREENSHOT=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'test-results');
// The pair the proxy holds for the emulator, and the secret it presigns storage URLs with;
// none may reach the page.
const STORE_SECRET = 'store-secret-of-the-e2e-test';
const SECRETS = ['local-secret-id', 'local-secret-key', STORE_SECRET];

let demo;
let demoOutput = '';
let base;
let browser;
let page;
const requests = [];
const responses = [];
const pageErrors = [];

/** Where a secret shows in `text`, in any form a leak could take. */
function leaks(text) {
  return SECRETS.filter((secret) =>
    [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')].some((form) => text.includes(form)),
  );
}

before(
  async () => {
    const env = {
      ...process.env,
      PORT: '0',
      SINGING_CLONING_EMULATOR_JOB_MS: '300',
      SINGING_CLONING_STORAGE_SECRET_ACCESS_KEY: STORE_SECRET,
    };
    // The emulator, whatever the environment says.
    for (const name of [
      'SINGING_CLONING_ENDPOINT',
      'SINGING_CLONING_SECRET_ID',
      'SINGING_CLONING_SECRET_KEY',
      'SINGING_CLONING_PREFIX',
      'SINGING_CLONING_RESULT_BASE_URL',
    ])
      delete env[name];
    demo = spawn(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${demoOutput}`)), 30_000);
      const onData = (chunk) => {
        demoOutput += chunk;
        const match = /^singing-cloning demo: (http:\/\/\S+)$/m.exec(demoOutput);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      demo.stdout.on('data', onData);
      demo.stderr.on('data', onData);
      demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${demoOutput}`)));
    });

    // The microphone is the sample voice, looped: Chromium's fake capture device.
    const config = await (await fetch(new URL('demo/config.json', base))).json();
    await mkdir(RESULTS, { recursive: true });
    for (const [name, sample] of [
      ['voice', config.samples.voice],
      ['song', config.samples.song],
    ]) {
      const bytes = Buffer.from(await (await fetch(sample.url)).arrayBuffer());
      await writeFile(path.join(RESULTS, `sample-${name}.wav`), bytes);
    }
    browser = await launchChromium([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${path.join(RESULTS, 'sample-voice.wav')}`,
    ]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('request', (request) => {
      requests.push(
        request.allHeaders().then((headers) => ({
          url: request.url(),
          method: request.method(),
          headers,
          body: request.postData() ?? '',
        })),
      );
    });
    page.on('response', (response) => {
      // Media streams answer ranges and may never end; the result's bytes are fetched whole below.
      if (response.request().resourceType() === 'media') return;
      const body = Promise.race([response.body(), new Promise((resolve) => setTimeout(resolve, 5000, null))]).catch(
        () => null,
      );
      responses.push(
        body.then((bytes) => ({
          url: response.url(),
          method: response.request().method(),
          status: response.status(),
          headers: JSON.stringify(response.headers()),
          body: bytes?.toString('latin1') ?? null,
        })),
      );
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  },
  { timeout: 45_000 },
);

after(async () => {
  await browser?.close().catch(() => {});
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    const timer = setTimeout(() => demo.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
});

/** The duration of a job entry's result once its audio has loaded its metadata. */
async function loadedDuration(entry) {
  await page.waitForFunction(
    (id) => {
      const el = document.querySelector(`#${CSS.escape(id)} .result audio`);
      return el && el.readyState >= 1 && el.duration > 0;
    },
    await entry.getAttribute('id'),
    { timeout: 15_000 },
  );
  return entry.locator('.result audio').evaluate((el) => el.duration);
}

const jobEntry = (title) => page.locator('#jobs > li', { has: page.locator('.job-title', { hasText: title }) });

test('npm start prints one URL and the page loads the package and the models', { timeout: 30_000 }, async () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(demoOutput.trim().split('\n').length, 1, `one line of output:\n${demoOutput}`);
  await page.goto(base);
  await page.waitForSelector('html[data-ready=true]', { timeout: 20_000 });
  assert.equal(await page.textContent('#upstream'), 'Running against the local emulator: jobs take a few seconds.');
  await page.waitForFunction(() => document.querySelector('#models-body')?.textContent.includes('default'));
  assert.match(await page.textContent('#models-status'), /^Models 1–1 of 1$/);
  assert.deepEqual(await page.$$eval('#cover-model option', (options) => options.map((o) => o.value)), ['default']);
});

test('a bad model name shows its issue next to the field, and sends nothing', { timeout: 20_000 }, async () => {
  const before = (await Promise.all(requests)).length;
  await page.fill('#train-name', 'my voice!');
  await page.click('#train-form button[type=submit]');
  const issue = page.locator('#train-name-issue');
  await issue.waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await issue.textContent(), 'Must contain only ASCII letters, digits and underscores.');
  assert.equal(await page.getAttribute('#train-name', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#train-name', 'aria-describedby'), /\btrain-name-issue\b/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'train-name', 'focus on the field to fix');
  assert.equal(await page.locator('#jobs > li').count(), 0);
  const sent = (await Promise.all(requests)).slice(before).filter((r) => r.url.includes('/api/'));
  assert.deepEqual(sent, [], 'the SDK validated before sending');

  // Epochs above 50: its own issue, beside its own field.
  await page.fill('#train-name', 'fine_name');
  await page.fill('#train-epochs', '80');
  await page.click('#train-form button[type=submit]');
  await page.locator('#train-epochs-issue').waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await page.textContent('#train-epochs-issue'), 'Must be from 1 to 50.');
  assert.equal(await page.isVisible('#train-name-issue'), false, 'the fixed field is clear again');
});

test('trains a model on the sample voice, covers the sample song with it, and plays the result', {
  timeout: 50_000,
}, async () => {
  await page.fill('#train-name', 'demo_voice');
  await page.fill('#train-epochs', '5');
  await page.click('#train-form button[type=submit]');
  const training = jobEntry('Training “demo_voice” (5 epochs)');
  await training.waitFor({ timeout: 10_000 });
  assert.equal(
    await page.evaluate(() => document.activeElement?.querySelector('.job-title')?.textContent),
    'Training “demo_voice” (5 epochs)',
    'focus on the new job',
  );
  assert.equal(await page.getAttribute('#train-epochs', 'aria-invalid'), null);
  await training.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 20_000 });
  assert.match(
    await training.locator('.timing').textContent(),
    /^Model “demo_voice” is ready\. Queued \d+\.\d s · processed \d+\.\d s · total \d+\.\d s\.$/,
  );
  assert.match(
    await page.textContent('#announcer'),
    /Training “demo_voice” \(5 epochs\): Completed\. The model demo_voice is ready to sing\./,
  );

  // The new model is listed, and chosen for the cover.
  await page.waitForFunction(() => document.querySelector('#cover-model')?.value === 'demo_voice', null, {
    timeout: 10_000,
  });
  await page.waitForFunction(() => document.querySelector('#models-body')?.textContent.includes('demo_voice'), null, {
    timeout: 10_000,
  });
  assert.equal(await page.textContent('#models-status'), 'Models 1–2 of 2');

  assert.equal(await page.isChecked('#cover-separate'), true);
  await page.click('#cover-form button[type=submit]');
  const cover = jobEntry('Cover of the sample song by “demo_voice”');
  await cover.waitFor({ timeout: 10_000 });
  // Live while it runs: a state and a progress bar, until it is done.
  await cover.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 25_000 });
  assert.match(
    await cover.locator('.timing').textContent(),
    /^Queued \d+\.\d s · processed \d+\.\d s · total \d+\.\d s\.$/,
  );
  assert.equal(await cover.locator('.job-progress').isVisible(), false);

  const audio = cover.locator('.result audio');
  const src = await audio.getAttribute('src');
  // Played through the proxy's results route: a redirect to the store, for this caller only.
  assert.match(src, /^\/api\/singing-cloning\/results\/[^/]+$/);
  const duration = await loadedDuration(cover);
  assert.ok(Math.abs(duration - 6) < 0.1, `the cover keeps the 6 s song's duration: ${duration}`);
  const head = await page.evaluate(async (url) => {
    const response = await fetch(url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      type: response.headers.get('content-type'),
      riff: String.fromCharCode(...bytes.slice(0, 4)),
      wave: String.fromCharCode(...bytes.slice(8, 12)),
    };
  }, src);
  assert.deepEqual(head, { type: 'audio/wav', riff: 'RIFF', wave: 'WAVE' });
  const link = cover.locator('a.download');
  assert.equal(await link.getAttribute('href'), src);
  assert.match(await link.getAttribute('download'), /\.wav$/);

  await mkdir(RESULTS, { recursive: true });
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: path.join(RESULTS, 'demo.png'), fullPage: true });
  if (process.env.UPDATE_SCREENSHOT === '1')
    await copyFile(path.join(RESULTS, 'demo.png'), path.join(ROOT, 'docs/demo-screenshot.png'));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(RESULTS, 'demo-phone.png'), fullPage: true });
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow} px too wide)`);
});

test('records a voice, uploads it, trains on it, covers a song from a file, and plays the cover', {
  timeout: 90_000,
}, async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.check('#train-source-record');
  assert.equal(await page.isVisible('#record-button'), true);
  await page.click('#record-button');
  await page.locator('#record-status', { hasText: 'Recording' }).waitFor({ timeout: 10_000 });
  await page.waitForTimeout(5000);
  await page.click('#record-button');
  await page.locator('#record-preview').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await page.textContent('#record-status'), /^Recorded \d+\.\d s\.$/);
  const recorded = await page.evaluate(async () => {
    const audio = document.querySelector('#record-preview');
    const bytes = new Uint8Array(await (await fetch(audio.src)).arrayBuffer());
    return { size: bytes.length, riff: String.fromCharCode(...bytes.slice(0, 4)) };
  });
  assert.equal(recorded.riff, 'RIFF');
  assert.ok(recorded.size > 100_000, `about 5 s of WAV (${recorded.size} bytes)`);

  await page.fill('#train-name', 'my_recording');
  await page.fill('#train-epochs', '3');
  await page.click('#train-form button[type=submit]');
  const training = jobEntry('Training “my_recording” (3 epochs)');
  await training.waitFor({ timeout: 20_000 });
  await training.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 30_000 });
  const sent = await Promise.all(requests);
  const put = sent.find((r) => r.method === 'PUT' && new URL(r.url).pathname.startsWith('/cos/uploads/'));
  assert.ok(put, 'the recording went straight to the store');
  assert.equal(put.headers['content-type'], 'audio/wav');
  assert.ok(new URL(put.url).searchParams.has('X-Amz-Signature'), 'by a presigned URL');

  await page.waitForFunction(() => document.querySelector('#cover-model')?.value === 'my_recording', null, {
    timeout: 10_000,
  });
  await page.check('#cover-source-file');
  await page.setInputFiles('#cover-file', path.join(RESULTS, 'sample-song.wav'));
  await page.click('#cover-form button[type=submit]');
  const cover = jobEntry('Cover of sample-song.wav by “my_recording”');
  await cover.waitFor({ timeout: 20_000 });
  await cover.locator('.badge', { hasText: 'Completed' }).waitFor({ timeout: 30_000 });
  const duration = await loadedDuration(cover);
  assert.ok(Math.abs(duration - 6) < 0.1, `the cover of the uploaded 6 s song lasts 6 s: ${duration}`);
});

test("every request goes to the page's own server, and no secret is in any request or anything loaded", {
  timeout: 20_000,
}, async () => {
  const sent = await Promise.all(requests);
  const loaded = await Promise.all(responses);
  assert.ok(
    sent.some((r) => r.url.endsWith('/api/singing-cloning/job') && r.body.includes('CreateJob')),
    'the jobs went through the proxy',
  );
  assert.ok(
    sent.some((r) => r.url.endsWith('/sdk/pkg/singing_cloning_bg.wasm')),
    'the page loaded the package',
  );
  const origin = new URL(base).origin;
  // The store (the emulator's, speaking S3) is reached by presigned URLs only.
  const foreign = sent.filter((r) => !r.url.startsWith('data:') && new URL(r.url).origin !== origin);
  assert.deepEqual(
    foreign.filter((r) => !new URL(r.url).searchParams.has('X-Amz-Signature')).map((r) => r.url),
    [],
    "only the page's own server, and its store by presigned URLs",
  );
  for (const r of sent) {
    assert.deepEqual(leaks(r.url + JSON.stringify(r.headers) + r.body), [], `request ${r.method} ${r.url}`);
  }
  assert.ok(loaded.length > 5);
  for (const r of loaded) {
    assert.deepEqual(leaks(r.headers), [], `headers of ${r.url}`);
    // A redirect (the results route's) has no body to read, and the store's answer to a PUT
    // made by XMLHttpRequest is not kept by the browser's protocol; only what was loaded counts.
    if ((r.status >= 300 && r.status < 400) || r.method !== 'GET') continue;
    // waitForJob's event streams end unread when the job does: what they carry is scanned below.
    if (r.headers.includes('text/event-stream')) continue;
    assert.notEqual(r.body, null, `the body of ${r.url} was read`);
    assert.deepEqual(leaks(r.body), [], `response of ${r.url}`);
  }
  assert.ok(
    loaded.some((r) => new URL(r.url).pathname.endsWith('.wav') && r.body.startsWith('RIFF')),
    "the result's bytes were scanned too",
  );
  // The page's job events, as its streams carried them: a new stream with its session replays them all.
  assert.ok(loaded.some((r) => r.url.endsWith('/api/singing-cloning/events')));
  const session = (await page.context().cookies()).find((c) => c.name.includes('sc_session'));
  const replay = await fetch(`${origin}/api/singing-cloning/events`, {
    headers: { cookie: `${session.name}=${session.value}` },
    signal: AbortSignal.timeout(2000),
  });
  const reader = replay.body.getReader();
  let events = '';
  while (!events.includes('"COMPLETED"')) events += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(events, /^event: job$/m);
  assert.deepEqual(leaks(events), [], 'the job events');
  assert.deepEqual(pageErrors, []);
});
