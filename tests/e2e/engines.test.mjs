// The demo end to end in the three browser engines a singer's phone or desktop may run:
// Chromium, Firefox (Gecko) and WebKit (every iPhone browser is WebKit; WebKitGTK's
// MiniBrowser here). Each engine gets its own scripts/demo.mjs (emulator and proxy, as
// `npm start` runs them) and its own W3C WebDriver session (tests/support/webdriver.mjs),
// and goes through what a user does: the page loads the package and the models, a bad field
// shows its issue and sends nothing, a voice is trained on the sample, the sample song is
// covered with it and the result plays, the layout fits a phone, and the fake microphone
// records audio the page can decode. The request- and response-level secret scan is
// engine-independent and lives in demo.test.mjs (Chromium, where the whole traffic can be
// read). SINGING_CLONING_ENGINES=firefox,webkit picks engines.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { By, WebDriver } from 'selenium-webdriver';
import { Capabilities } from 'selenium-webdriver/lib/capabilities.js';
import { Executor, HttpClient } from 'selenium-webdriver/http/index.js';
import { selectedEngines, startDriver } from '../support/webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'test-results');

/** Environment variables that would point the demo elsewhere than a fresh emulator. */
const UPSTREAM_ENV = [
  'SINGING_CLONING_ENDPOINT',
  'SINGING_CLONING_SECRET_ID',
  'SINGING_CLONING_SECRET_KEY',
  'SINGING_CLONING_PREFIX',
  'SINGING_CLONING_RESULT_BASE_URL',
];

/** Starts scripts/demo.mjs against a fresh emulator; resolves to `{ base, output(), stop() }`. */
async function startDemo() {
  const env = { ...process.env, PORT: '0', SINGING_CLONING_EMULATOR_JOB_MS: '300' };
  for (const name of UPSTREAM_ENV) delete env[name];
  const script = path.join(ROOT, 'scripts/demo.mjs');
  const child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /^singing-cloning demo: (http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { base, output: () => output, stop };
}

// Page-side code, run by WebDriver in the page: selenium-webdriver sends a function's source, so
// each of these stands alone (no closure over this module).

/** The text of the first element matching `selector`, or null. */
const textOf = (selector) => document.querySelector(selector)?.textContent ?? null;

/** The DOM id of the job entry titled `title`, if there is one. */
const jobIdOf = (title) =>
  [...document.querySelectorAll('#jobs > li')].find((li) => li.querySelector('.job-title')?.textContent === title)?.id;

/** How many requests to the API the page has made so far. */
const apiRequests = () => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).length;

/** Plays `id`'s result muted until its clock passes 0.2 s; calls `done` with the time or an error. */
function playResult(id, done) {
  const el = document.querySelector(`#${CSS.escape(id)} .result audio`);
  el.muted = true;
  const timer = setTimeout(() => done({ error: 'no progress within 10 s', time: el.currentTime }), 10_000);
  el.addEventListener('timeupdate', function check() {
    if (el.currentTime <= 0.2) return;
    clearTimeout(timer);
    el.removeEventListener('timeupdate', check);
    el.pause();
    done({ time: el.currentTime });
  });
  el.play().catch((error) => {
    clearTimeout(timer);
    done({ error: String(error) });
  });
}

/** Fetches `url` in the page; calls `done` with its type and the WAV header's two tags. */
function wavHead(url, done) {
  fetch(url).then(
    async (response) => {
      const bytes = new Uint8Array(await response.arrayBuffer());
      const tag = (from) => String.fromCharCode(...bytes.slice(from, from + 4));
      done({ type: response.headers.get('content-type'), riff: tag(0), wave: tag(8) });
    },
    (error) => done({ error: String(error) }),
  );
}

/**
 * Opens the page in an iframe `width` px wide over itself (a viewport of its own, so media
 * queries apply), shows the jobs run so far in it, and calls `done` with what it measured.
 */
function phoneFrame(width, done) {
  const frame = document.createElement('iframe');
  frame.id = 'phone';
  frame.style.cssText = `position: fixed; left: 0; top: 0; width: ${width}px; height: 844px; border: 0; z-index: 9`;
  frame.src = location.href;
  frame.addEventListener('load', () => {
    const doc = frame.contentDocument;
    const started = Date.now();
    (function ready() {
      if (doc.documentElement.dataset.ready !== 'true') {
        if (Date.now() - started > 15_000) done({ error: 'the page in the frame was not ready within 15 s' });
        else setTimeout(ready, 50);
        return;
      }
      doc.querySelector('#jobs').innerHTML = document.querySelector('#jobs').innerHTML;
      doc.querySelector('#jobs-empty').hidden = true;
      requestAnimationFrame(() =>
        requestAnimationFrame(() =>
          done({
            viewport: frame.contentWindow.innerWidth,
            jobs: doc.querySelectorAll('#jobs > li').length,
            overflow: doc.documentElement.scrollWidth - doc.documentElement.clientWidth,
          }),
        ),
      );
    })();
  });
  document.body.append(frame);
}

/**
 * Records 1.5 s from the microphone and decodes it; calls `done` with what a recording page
 * meets in this engine: the track, the recorder's type once started, the data's type, the
 * size, and the decoded length.
 */
function recordMicrophone(done) {
  (async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const track = stream.getAudioTracks()[0];
    const state = track.readyState;
    const recorder = new MediaRecorder(stream);
    const chunks = [];
    recorder.ondataavailable = (event) => event.data.size && chunks.push(event.data);
    const started = new Promise((resolve) => (recorder.onstart = () => resolve(recorder.mimeType)));
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    const mimeType = await started;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    recorder.stop();
    await stopped;
    for (const t of stream.getTracks()) t.stop();
    // The recording's type is the data's: Firefox empties recorder.mimeType once stopped.
    const type = chunks[0]?.type ?? '';
    const blob = new Blob(chunks, { type });
    const context = new AudioContext();
    const audio = await context.decodeAudioData(await blob.arrayBuffer());
    await context.close();
    return { kind: track.kind, state, mimeType, type, size: blob.size, seconds: audio.duration };
  })().then(done, (error) => done({ error: String(error) }));
}

/** What each engine's MediaRecorder records by default: Chromium WebM, Firefox Ogg, WebKit MP4 (AAC). */
const RECORDING_TYPES = {
  chromium: /^audio\/webm;\s?codecs=opus$/,
  firefox: /^audio\/ogg;\s?codecs=opus$/,
  webkit: /^audio\/mp4;\s?codecs=mp4a/,
};

for (const engine of selectedEngines()) {
  describe(`the demo in ${engine}`, { timeout: 150_000 }, () => {
    let demo;
    let server;
    let driver;

    /** Runs `fn` in the page with `args`; its result. */
    const run = (fn, ...args) => driver.executeScript(fn, ...args);
    /** Runs `fn` in the page with `args` and a `done` callback; what it passed to `done`. */
    const runAsync = (fn, ...args) => driver.executeAsyncScript(fn, ...args);
    const text = (selector) => run(textOf, selector);
    /** Polls `fn(...args)` in the page until it returns something truthy; that value. */
    async function until(fn, args, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await run(fn, ...args);
        if (value) return value;
        if (Date.now() > deadline) {
          const state = await run(
            () =>
              `${document.querySelector('#jobs')?.textContent} | ${document.querySelector('#page-error')?.textContent}`,
          );
          assert.fail(`${engine}: ${what} within ${timeoutMs} ms (page: ${state})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    /** Types `value` into the field, as a user would, after emptying it. */
    async function fill(selector, value) {
      const field = await driver.findElement(By.css(selector));
      await field.clear();
      await field.sendKeys(value);
      assert.equal(await field.getAttribute('value'), value, `${engine}: ${selector} holds what was typed`);
    }
    const click = async (selector) => (await driver.findElement(By.css(selector))).click();
    const jobId = (title, timeoutMs) => until(jobIdOf, [title], timeoutMs, `a job entry "${title}"`);
    const completed = (id, timeoutMs, what) =>
      until(
        (id) => document.querySelector(`#${CSS.escape(id)} .badge`)?.textContent === 'Completed',
        [id],
        timeoutMs,
        `${what} completes`,
      );
    const visible = (selector, what) => until((s) => !document.querySelector(s).hidden, [selector], 5000, what);
    const screenshot = async (name) =>
      writeFile(path.join(RESULTS, `${name}.png`), Buffer.from(await driver.takeScreenshot(), 'base64'));

    before(
      async () => {
        // Both started at once; whichever starts is kept for `after` to stop, even if the other fails.
        const [started, driverStarted] = await Promise.allSettled([startDemo(), startDriver(engine)]);
        demo = started.value;
        server = driverStarted.value;
        for (const outcome of [started, driverStarted]) if (outcome.status === 'rejected') throw outcome.reason;
        const capabilities = new Capabilities(server.capabilities);
        driver = await WebDriver.createSession(new Executor(new HttpClient(server.url)), capabilities);
        await driver.manage().setTimeouts({ script: 20_000, pageLoad: 30_000 });
        await driver.manage().window().setRect({ width: 1280, height: 900 });
        await mkdir(RESULTS, { recursive: true });
      },
      { timeout: 60_000 },
    );

    after(
      async () => {
        await driver?.quit().catch(() => {});
        await server?.stop();
        await demo?.stop();
      },
      { timeout: 20_000 },
    );

    test('the page loads the package and the models', { timeout: 40_000 }, async () => {
      assert.match(demo.base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      await driver.get(demo.base);
      await until(() => document.documentElement.dataset.ready === 'true', [], 20_000, 'the page is ready');
      // From here on, an uncaught error or rejection anywhere in the page is kept for the last test.
      await run(() => {
        window.__errors = [];
        addEventListener('error', (event) => window.__errors.push(String(event.message)));
        addEventListener('unhandledrejection', (event) => {
          window.__errors.push(String(event.reason?.message ?? event.reason));
        });
      });
      assert.equal(await text('#upstream'), 'Running against the local emulator: jobs take a few seconds.');
      const listed = (name) => document.querySelector('#models-body')?.textContent.includes(name);
      await until(listed, ['default'], 10_000, 'the default model is listed');
      assert.match(await text('#models-status'), /^Models 1–1 of 1$/);
      const options = await run(() => [...document.querySelectorAll('#cover-model option')].map((o) => o.value));
      assert.deepEqual(options, ['default']);
      assert.equal(await run(() => document.querySelector('#page-error').hidden), true);
    });

    test('a bad model name shows its issue next to the field, and sends nothing', { timeout: 20_000 }, async () => {
      const sentBefore = await run(apiRequests);
      await fill('#train-name', 'my voice!');
      await click('#train-form button[type=submit]');
      await visible('#train-name-issue', 'the name issue shows');
      assert.equal(await text('#train-name-issue'), 'Must contain only ASCII letters, digits and underscores.');
      const field = await driver.findElement(By.css('#train-name'));
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.match(await field.getAttribute('aria-describedby'), /\btrain-name-issue\b/);
      assert.equal(await run(() => document.activeElement?.id), 'train-name', 'focus on the field to fix');
      assert.equal(await run(() => document.querySelectorAll('#jobs > li').length), 0);
      assert.equal(await run(apiRequests), sentBefore, 'the SDK validated before sending');

      await fill('#train-name', 'fine_name');
      await fill('#train-epochs', '80');
      await click('#train-form button[type=submit]');
      await visible('#train-epochs-issue', 'the epochs issue shows');
      assert.equal(await text('#train-epochs-issue'), 'Must be from 1 to 50.');
      const cleared = await run(() => document.querySelector('#train-name-issue').hidden);
      assert.equal(cleared, true, 'the fixed field is clear again');
    });

    test('trains a model on the sample voice, covers the sample song with it, and plays the result', {
      timeout: 60_000,
    }, async () => {
      await fill('#train-name', 'demo_voice');
      await fill('#train-epochs', '5');
      await click('#train-form button[type=submit]');
      const training = await jobId('Training “demo_voice” (5 epochs)', 10_000);
      await completed(training, 20_000, 'the training');
      assert.match(
        await text(`#${training} .timing`),
        /^Model “demo_voice” is ready\. Queued \d+\.\d s · processed \d+\.\d s · total \d+\.\d s\.$/,
      );
      await until(
        () => document.querySelector('#cover-model')?.value === 'demo_voice',
        [],
        10_000,
        'the new model is chosen for the cover',
      );
      const listed = (name) => document.querySelector('#models-body')?.textContent.includes(name);
      await until(listed, ['demo_voice'], 10_000, 'the new model is listed');
      assert.equal(await text('#models-status'), 'Models 1–2 of 2');

      assert.equal(await run(() => document.querySelector('#cover-separate').checked), true);
      await click('#cover-form button[type=submit]');
      const cover = await jobId('Cover of the sample song by “demo_voice”', 10_000);
      await completed(cover, 25_000, 'the cover');
      assert.match(await text(`#${cover} .timing`), /^Queued \d+\.\d s · processed \d+\.\d s · total \d+\.\d s\.$/);

      const audio = await driver.findElement(By.css(`#${cover} .result audio`));
      const src = await audio.getAttribute('src');
      // Played through the proxy's results route (WebDriver gives the resolved address).
      assert.match(src, new RegExp(`^${demo.base}api/singing-cloning/results/[^/]+$`));
      // The engine itself reads the WAV: its metadata, then real playback moving the clock.
      const duration = await until(
        (id) => {
          const el = document.querySelector(`#${CSS.escape(id)} .result audio`);
          return el && el.readyState >= 1 && el.duration > 0 && el.duration;
        },
        [cover],
        15_000,
        "the cover's audio has loaded its metadata",
      );
      assert.ok(Math.abs(duration - 6) < 0.1, `${engine}: the cover keeps the 6 s song's duration: ${duration}`);
      const played = await runAsync(playResult, cover);
      assert.equal(played.error, undefined, `${engine}: the cover plays: ${JSON.stringify(played)}`);
      assert.deepEqual(await runAsync(wavHead, src), { type: 'audio/wav', riff: 'RIFF', wave: 'WAVE' });
      const link = await driver.findElement(By.css(`#${cover} a.download`));
      assert.equal(await link.getAttribute('href'), src);
      assert.match(await link.getAttribute('download'), /\.wav$/);
      await screenshot(`demo-${engine}`);
    });

    test("the page fits a phone's width", { timeout: 40_000 }, async () => {
      // Desktop Firefox and MiniBrowser windows stop shrinking at about 450 px, so the phone is
      // an iframe of the page, showing the jobs just run.
      for (const width of [360, 390]) {
        const result = await runAsync(phoneFrame, width);
        assert.equal(result.error, undefined, `${engine}: ${JSON.stringify(result)}`);
        assert.equal(result.viewport, width, `${engine}: the frame's viewport`);
        assert.equal(result.jobs, 2, `${engine}: the jobs are shown in the frame`);
        await screenshot(`demo-${engine}-phone-${width}`);
        await run(() => document.querySelector('#phone').remove());
        assert.ok(result.overflow <= 0, `${engine}: no sideways scroll at ${width} px (${result.overflow} px over)`);
      }
    });

    test('the fake microphone records audio that the page can decode', { timeout: 30_000 }, async () => {
      const result = await runAsync(recordMicrophone);
      assert.equal(result.error, undefined, `${engine}: ${JSON.stringify(result)}`);
      assert.deepEqual([result.kind, result.state], ['audio', 'live']);
      assert.match(result.mimeType, RECORDING_TYPES[engine], `${engine}: the recorder's type once started`);
      assert.match(result.type, RECORDING_TYPES[engine], `${engine}: the recording's type`);
      assert.ok(result.size > 1000, `${engine}: the recording has bytes (${result.size})`);
      assert.ok(result.seconds > 0.8 && result.seconds < 3, `${engine}: about 1.5 s decoded (${result.seconds} s)`);
    });

    test('the page raised no error and shows none', { timeout: 10_000 }, async () => {
      assert.deepEqual(await run(() => window.__errors), []);
      assert.equal(await run(() => document.querySelector('#page-error').hidden), true);
      const origin = new URL(demo.base).origin;
      const urls = await run(() => performance.getEntriesByType('resource').map((e) => e.name));
      const foreign = urls.filter((url) => !url.startsWith(`${origin}/`) && !url.includes('X-Amz-Signature='));
      assert.deepEqual(foreign, [], "every request went to the page's own server, or to its store presigned");
    });
  });
}
