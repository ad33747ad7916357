// Starts the WebDriver server of one of the three browser engines the tests run in, with
// the capabilities that make its browser headless and give it a fake microphone:
//   chromium  Debian's chromium through chromedriver
//   firefox   Debian's firefox-esr through geckodriver (from crates.io)
//   webkit    WebKitGTK's MiniBrowser through WebKitWebDriver, on a private Xvfb display
//             (MiniBrowser has no headless mode)
// scripts/setup-browsers.sh installs them. Sessions are W3C WebDriver, opened with
// selenium-webdriver against the server started here, so no driver is ever downloaded.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { CHROMIUM_ARGS } from './chromium.mjs';

/** The engines, in the order the tests run them. */
export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The engines named in $SINGING_CLONING_ENGINES (comma-separated), or all of them. */
export function selectedEngines(env = process.env) {
  const names = (env.SINGING_CLONING_ENGINES || ENGINES.join(',')).split(',');
  const wanted = names.map((name) => name.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !ENGINES.includes(name));
  if (unknown.length) throw new Error(`unknown engine(s) in SINGING_CLONING_ENGINES: ${unknown.join(', ')}`);
  return wanted;
}

/** The first of `candidates` that exists, or the first one `PATH` has. */
function which(...candidates) {
  for (const candidate of candidates) {
    if (candidate.includes('/')) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    for (const dir of (process.env.PATH || '').split(':')) {
      const full = path.join(dir || '.', candidate);
      if (existsSync(full)) return full;
    }
  }
  return null;
}

/** WebKitGTK's MiniBrowser, wherever the distribution's multiarch directory put it. */
function miniBrowser() {
  for (const lib of ['/usr/lib', '/usr/libexec']) {
    if (!existsSync(lib)) continue;
    for (const dir of ['', ...readdirSync(lib)]) {
      const candidate = path.join(lib, dir, 'webkit2gtk-4.1', 'MiniBrowser');
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `bin`, keeping the last of its output for error messages. */
function start(bin, args, env) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('error', (error) => keep(`\n${error.message}`));
  return child;
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts Xvfb on a display it picks itself; resolves to `{ display, process }`. */
async function startXvfb() {
  const bin = which('Xvfb');
  if (!bin) throw new Error('Xvfb is missing: run scripts/setup-browsers.sh');
  // -displayfd: Xvfb takes the first free display and writes its number once it is ready.
  const child = spawn(bin, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk) => {
    errors = (errors + chunk).slice(-2000);
  });
  const display = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start within 10 s: ${errors}`)), 10_000);
    let text = '';
    child.stdio[3].on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${errors}`)));
  });
  return { display, process: child };
}

/** Waits until the WebDriver server at `url` says it is ready for a session. */
async function waitReady(url, child, name) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${child.output}`);
    try {
      const response = await fetch(`${url}/status`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer within 20 s:\n${child.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `engine`'s WebDriver server. Resolves to `{ engine, url, capabilities, stop() }`:
 * `capabilities` are what a new session asks for (headless, a fake microphone that needs no
 * permission prompt), `stop()` ends the server and anything started for it.
 */
export async function startDriver(engine) {
  const port = await freePort();
  const env = { ...process.env };
  let xvfb = null;
  let bin;
  let args;
  let capabilities;
  if (engine === 'chromium') {
    bin = which(process.env.CHROMEDRIVER || 'chromedriver', '/usr/bin/chromedriver');
    const browser = which(process.env.CHROMIUM_BIN || 'chromium', '/usr/bin/chromium');
    if (!bin || !browser) throw new Error('chromium or chromedriver is missing: run scripts/setup.sh');
    args = [`--port=${port}`];
    capabilities = {
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: browser,
        args: [
          ...CHROMIUM_ARGS,
          '--disable-dev-shm-usage',
          '--window-size=1280,900',
          // A fake microphone (a beep), granted without a prompt.
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
          '--autoplay-policy=no-user-gesture-required',
        ],
      },
    };
  } else if (engine === 'firefox') {
    bin = which(process.env.GECKODRIVER || 'geckodriver', `${process.env.HOME}/.cargo/bin/geckodriver`);
    const browser = which(process.env.FIREFOX_BIN || 'firefox-esr', 'firefox');
    if (!bin || !browser) throw new Error('firefox-esr or geckodriver is missing: run scripts/setup-browsers.sh');
    args = [`--port=${port}`, '--host=127.0.0.1'];
    capabilities = {
      browserName: 'firefox',
      'moz:firefoxOptions': {
        binary: browser,
        args: ['-headless', '-width=1280', '-height=900'],
        prefs: {
          // A fake microphone (a tone), granted without a prompt.
          'media.navigator.streams.fake': true,
          'media.navigator.permission.disabled': true,
          'media.autoplay.default': 0,
        },
      },
    };
  } else if (engine === 'webkit') {
    bin = which(process.env.WEBKITWEBDRIVER || 'WebKitWebDriver');
    const browser = process.env.MINIBROWSER_BIN || miniBrowser();
    if (!bin || !browser) throw new Error('WebKitWebDriver or MiniBrowser is missing: run scripts/setup-browsers.sh');
    if (!env.DISPLAY) {
      xvfb = await startXvfb();
      env.DISPLAY = xvfb.display;
    }
    args = [`--port=${port}`];
    capabilities = {
      'webkitgtk:browserOptions': {
        binary: browser,
        // MiniBrowser takes every WebKitSettings property as a flag: mock capture devices give
        // it a fake microphone.
        args: [
          '--automation',
          '--enable-media-stream=true',
          '--enable-mock-capture-devices=true',
          '--media-playback-requires-user-gesture=false',
        ],
      },
    };
  } else {
    throw new Error(`unknown engine: ${engine}`);
  }
  const child = start(bin, args, env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, path.basename(bin));
  } catch (error) {
    await stopChild(child);
    if (xvfb) await stopChild(xvfb.process);
    throw error;
  }
  return {
    engine,
    url,
    capabilities,
    output: () => child.output,
    async stop() {
      await stopChild(child);
      if (xvfb) await stopChild(xvfb.process);
    },
  };
}
