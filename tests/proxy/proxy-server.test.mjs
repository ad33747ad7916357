// `npm run proxy` (js/proxy-server.js) as a child process: configured by the environment,
// on PORT=0, serving the API and a static directory beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as httpRequest } from 'node:http';
import net from 'node:net';

import {
  Browser,
  PAGE_ORIGIN,
  PROXY_SECRET,
  ROOT,
  SECRET_ID,
  SECRET_KEY,
  call,
  leakedIn,
  seen,
  spawnUntil,
  startEmulator,
} from './harness.mjs';

let emulator;
let server;
let dir;
let base;

before(async () => {
  emulator = await startEmulator();
  dir = await mkdtemp(path.join(tmpdir(), 'proxy-static-'));
  await mkdir(path.join(dir, 'www'));
  await writeFile(path.join(dir, 'www/index.html'), '<!doctype html><title>demo</title>');
  await writeFile(path.join(dir, 'www/app.js'), 'export {};');
  await writeFile(path.join(dir, 'www/mod.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  await writeFile(path.join(dir, 'www/.env'), `SECRET=${SECRET_KEY}`);
  await writeFile(path.join(dir, 'outside.txt'), 'outside');
  await symlink(path.join(dir, 'outside.txt'), path.join(dir, 'www/link.txt'));
  server = await spawnUntil(
    process.execPath,
    [path.join(ROOT, 'js/proxy-server.js')],
    {
      PORT: '0',
      SINGING_CLONING_ENDPOINT: emulator.api,
      SINGING_CLONING_SECRET_ID: SECRET_ID,
      SINGING_CLONING_SECRET_KEY: SECRET_KEY,
      SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
      SINGING_CLONING_ALLOWED_ORIGINS: `${PAGE_ORIGIN}, http://localhost:5173`,
      SINGING_CLONING_STATIC_DIR: path.join(dir, 'www'),
      SINGING_CLONING_HEADERS_TIMEOUT_MS: '400',
      SINGING_CLONING_KEEP_ALIVE_TIMEOUT_MS: '400',
    },
    /^singing-cloning proxy listening on (http:\/\/127\.0\.0\.1:\d+)$/m,
  );
  base = server.match[1];
});

after(async () => {
  await server?.stop();
  await emulator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the server answers the API with the env config', async () => {
  const page = new Browser(`${base}/api/singing-cloning`);
  const answer = await page.job({ action: 'GetJob', getJobRequest: { id: 'nope' } });
  assert.equal(answer.status, 404);
  assert.equal(answer.json.error.code, 'job_not_found');
  assert.ok(page.cookie, 'a session cookie was set');
  const models = await page.post('/music_model', {
    action: 'ListModels',
    listModelsRequest: { offset: 0, limit: 10, type: 2 },
  });
  assert.equal(models.status, 200, models.body);
  const evil = await new Browser(`${base}/api/singing-cloning`, { origin: 'https://evil.example' }).job({
    action: 'GetJob',
    getJobRequest: { id: 'x' },
  });
  assert.equal(evil.status, 403);
});

test('static files: content types, index, no traversal, no dotfiles, no links out', async () => {
  const index = await call(`${base}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await call(`${base}/app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await call(`${base}/mod.wasm`)).headers.get('content-type'), 'application/wasm');
  for (const p of [
    '/.env',
    '/link.txt',
    '/missing.js',
    '/%2e%2e/outside.txt',
    '/..%2foutside.txt',
    '/%2e%2e%2f%2e%2e%2fpackage.json',
  ]) {
    const answer = await call(`${base}${p}`);
    assert.equal(answer.status, 404, p);
    assert.ok(!answer.body.includes('outside') || answer.body === 'not found', p);
  }
  // A raw path with dot segments, as no fetch would send it.
  const raw = await new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/../outside.txt`, { path: '/../outside.txt' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.notEqual(raw.body, 'outside');
  assert.equal((await call(`${base}/app.js`, { method: 'POST' })).status, 405);
});

test('leak scan of the server suite', () => {
  assert.deepEqual(
    seen.flatMap((r) => leakedIn(r.body + r.headers)),
    [],
  );
});

const headersTimeoutTitle =
  'connections that send nothing are closed after the configured time (SINGING_CLONING_HEADERS_TIMEOUT_MS)';
test(headersTimeoutTitle, async () => {
  const started = Date.now();
  const closedAfter = await new Promise((resolve) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume(); // reading, so that the server's end of the connection is seen
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Infinity);
    }, 5000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
  assert.ok(closedAfter < 3000, `closed after ${closedAfter} ms`);
});
