#!/usr/bin/env node
// `npm start` (after setup and build): the whole demo on one origin. Starts the local
// emulator (unless SINGING_CLONING_ENDPOINT names the real service), the proxy in front of
// it, and a static server for the page (www/) and the package files it imports; prints
//   singing-cloning demo: http://127.0.0.1:8787/
// and stops everything it started on Ctrl-C (SIGINT) or SIGTERM.
//
// Environment:
//   PORT (8787; 0 for a free one), SINGING_CLONING_HOST (127.0.0.1)
//   SINGING_CLONING_EMULATOR_JOB_MS  the emulator's job speed (1500 ms)
//   SINGING_CLONING_ENDPOINT, SINGING_CLONING_SECRET_ID, SINGING_CLONING_SECRET_KEY
//                                    the real service instead of the emulator
//   SINGING_CLONING_CONTENT_ID       the repository covers are written to (covers)
//   SINGING_CLONING_RESULT_BASE_URL  where the page plays results from with the real
//                                    service and no storage, `{contentId}` standing for
//                                    the repository
//   SINGING_CLONING_STORAGE_*        S3-compatible storage for uploads and results (with the
//                                    emulator: its own content store, by default)
//   and every proxy setting of docs/proxy.md (SINGING_CLONING_PROXY_SECRET, policies, …).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { createProxyHandler, configFromEnv } from '../js/proxy.js';
import { nodeFetch, serve } from '../js/proxy-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCAL_SECRET_ID = 'local-secret-id';
const LOCAL_SECRET_KEY = 'local-secret-key';
// The emulator's content store takes only URLs presigned with this pair, as S3 would: the
// proxy presigns uploads and results with it. A fresh secret each run unless one is given.
const LOCAL_STORE_KEY_ID = process.env.SINGING_CLONING_STORAGE_ACCESS_KEY_ID || 'local-store-key-id';
const LOCAL_STORE_SECRET =
  process.env.SINGING_CLONING_STORAGE_SECRET_ACCESS_KEY || randomBytes(24).toString('base64url');

const env = process.env;
const work = await mkdtemp(path.join(tmpdir(), 'singing-cloning-demo-'));
let emulator = null;
let server = null;
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  await server?.close();
  if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
    const exited = new Promise((resolve) => emulator.once('exit', resolve));
    emulator.kill('SIGTERM');
    const timer = setTimeout(() => emulator.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  await rm(work, { recursive: true, force: true });
  process.exit(code);
}

async function fail(message) {
  console.error(`singing-cloning demo: ${message}`);
  await stop(1);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => stop(0));
// Whatever happens, the emulator does not outlive the demo.
process.once('exit', () => emulator?.kill('SIGKILL'));

/** Starts the emulator binary on a free port; resolves to its API URL and its presigned sample URLs. */
function startEmulator(dataDir) {
  const bin = env.SINGING_CLONING_EMULATOR_BIN || path.join(ROOT, 'target/release/singing-cloning-emulator');
  const jobMs = env.SINGING_CLONING_EMULATOR_JOB_MS || '1500';
  // The emulator reads SINGING_CLONING_SECRET_* as the pair it accepts: it gets the local pair.
  const childEnv = {
    ...env,
    SINGING_CLONING_EMULATOR_STORE_ACCESS_KEY_ID: LOCAL_STORE_KEY_ID,
    SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY: LOCAL_STORE_SECRET,
  };
  delete childEnv.SINGING_CLONING_SECRET_ID;
  delete childEnv.SINGING_CLONING_SECRET_KEY;
  emulator = spawn(bin, ['--port', '0', '--data-dir', dataDir, '--job-ms', jobMs], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: emulator.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the emulator did not start within 30 s')), 30_000);
    emulator.once('error', (error) =>
      reject(
        new Error(
          `cannot start the emulator (${bin}): ${error.message}; ` +
            'build it with: cargo build --release -p singing-cloning-emulator',
        ),
      ),
    );
    let listening = false;
    emulator.once('exit', (code, signal) => {
      if (!listening) reject(new Error(`the emulator exited (${signal ?? code}) before it listened`));
      // Ctrl-C reaches the emulator too (one process group): let our own handler win.
      else setTimeout(() => stopping || fail(`the emulator stopped (${signal ?? code})`), 500);
    });
    let api = null;
    lines.on('line', (line) => {
      // The banner is read, not shown: one URL is printed.
      if (api === null) {
        clearTimeout(timer);
        listening = true;
        api = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (!api) reject(new Error(`unexpected first line from the emulator: ${line}`));
        return;
      }
      const samples = /^\s*samples:\s+(\S+) \(voice[^)]*\), (\S+) \(song/.exec(line);
      if (samples) resolve({ api, voice: samples[1], song: samples[2] });
    });
  });
}

const proxyEnv = { ...env };
const mounts = {
  '/sdk/js/': path.join(ROOT, 'js'),
  '/sdk/pkg/': path.join(ROOT, 'pkg'),
  '/demo/': path.join(work, 'public'),
};
const prefix = env.SINGING_CLONING_PREFIX || '/api/singing-cloning';
const pageConfig = { endpoint: prefix, contentId: env.SINGING_CLONING_CONTENT_ID || 'covers' };

try {
  if (env.SINGING_CLONING_ENDPOINT) {
    if (!env.SINGING_CLONING_SECRET_ID || !env.SINGING_CLONING_SECRET_KEY) {
      await fail(
        'SINGING_CLONING_ENDPOINT is set, so SINGING_CLONING_SECRET_ID and SINGING_CLONING_SECRET_KEY must ' +
          'be set too (or unset SINGING_CLONING_ENDPOINT to use the local emulator)',
      );
    }
    pageConfig.upstream = 'service';
    pageConfig.samples = null;
    pageConfig.resultBase = env.SINGING_CLONING_RESULT_BASE_URL || null;
  } else {
    const dataDir = path.join(work, 'emulator');
    const { api, voice, song } = await startEmulator(dataDir);
    const origin = new URL(api).origin;
    proxyEnv.SINGING_CLONING_ENDPOINT = api;
    proxyEnv.SINGING_CLONING_SECRET_ID = LOCAL_SECRET_ID;
    proxyEnv.SINGING_CLONING_SECRET_KEY = LOCAL_SECRET_KEY;
    // Uploads and results in the emulator's content store, which speaks S3: the proxy
    // presigns, the page sends and plays the bytes itself.
    proxyEnv.SINGING_CLONING_STORAGE_ENDPOINT ||= `${origin}/cos`;
    proxyEnv.SINGING_CLONING_STORAGE_BUCKET ||= 'uploads';
    proxyEnv.SINGING_CLONING_STORAGE_ACCESS_KEY_ID ||= LOCAL_STORE_KEY_ID;
    proxyEnv.SINGING_CLONING_STORAGE_SECRET_ACCESS_KEY ||= LOCAL_STORE_SECRET;
    pageConfig.upstream = 'emulator';
    // The emulator's banner gives the samples as presigned URLs (7 days).
    pageConfig.samples = { voice: { url: voice, play: voice }, song: { url: song, play: song } };
  }
  // With storage, results play through the proxy's results route, each caller's own only.
  pageConfig.uploads = Boolean(proxyEnv.SINGING_CLONING_STORAGE_ENDPOINT);
} catch (error) {
  await fail(error.message);
}

// Sessions then last as long as this process.
proxyEnv.SINGING_CLONING_PROXY_SECRET ||= randomBytes(32).toString('base64');
if (!proxyEnv.SINGING_CLONING_ALLOWED_ORIGINS?.trim()) delete proxyEnv.SINGING_CLONING_ALLOWED_ORIGINS;

let handler;
try {
  handler = createProxyHandler({ ...configFromEnv(proxyEnv), fetch: nodeFetch });
} catch (error) {
  const issues = (error.issues ?? []).map((i) => `\n  ${i.path}: ${i.message}`).join('');
  await fail(`the proxy's configuration: ${error.message}${issues}`);
}

await mkdir(path.join(work, 'public'));
await writeFile(path.join(work, 'public/config.json'), JSON.stringify(pageConfig, null, 2));

const port = Number(env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) await fail('PORT must be a port number, 0 for a free one');
try {
  // Through a closure: the handler is made again below once the server's own address is known.
  server = await serve((request, info) => handler(request, info), {
    port,
    host: env.SINGING_CLONING_HOST || '127.0.0.1',
    prefix,
    staticDir: path.join(ROOT, 'www'),
    mounts,
  });
} catch (error) {
  await fail(
    error.code === 'EADDRINUSE'
      ? `port ${port} is in use: stop what uses it, or choose another with PORT=… (0 for a free one)`
      : `cannot listen: ${error.message}`,
  );
}

// The proxy builds no origin from `Host`: the page's origin is the server's own address, known
// only now (PORT=0 picks a free port). The demo is served at exactly that address.
if (!proxyEnv.SINGING_CLONING_PUBLIC_URL) {
  handler = createProxyHandler({ ...configFromEnv(proxyEnv), publicUrl: server.url, fetch: nodeFetch });
}

console.log(`singing-cloning demo: ${server.url}/`);
