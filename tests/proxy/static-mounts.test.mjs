// serve()'s static side, as the demo uses it: directories mounted under URL prefixes, and
// single byte ranges (audio players seek with them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '../../js/proxy-server.js';

let dir;
let server;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'static-mounts-'));
  await mkdir(path.join(dir, 'www'));
  await mkdir(path.join(dir, 'sdk'));
  await writeFile(path.join(dir, 'www/index.html'), '<!doctype html><title>page</title>');
  await writeFile(path.join(dir, 'sdk/index.js'), 'export const sdk = 1;');
  await writeFile(path.join(dir, 'sdk/sound.wav'), Buffer.from('0123456789'));
  await writeFile(path.join(dir, 'secret.txt'), 'outside the mounts');
  const api = async () => new Response('{"api":true}', { headers: { 'content-type': 'application/json' } });
  server = await serve(api, {
    port: 0,
    staticDir: path.join(dir, 'www'),
    mounts: { '/sdk/js/': path.join(dir, 'sdk') },
  });
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('mounted directories are served under their prefix, and nothing outside them', async () => {
  const js = await fetch(`${server.url}/sdk/js/index.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.equal(await js.text(), 'export const sdk = 1;');
  assert.equal((await fetch(`${server.url}/index.html`)).status, 200);
  for (const escaping of [
    '/sdk/js/../../secret.txt',
    '/sdk/js/%2e%2e/%2e%2e/secret.txt',
    '/sdk/js/..%2f..%2fsecret.txt',
  ]) {
    const answer = await fetch(`${server.url}${escaping}`);
    assert.notEqual(answer.status, 200, escaping);
    assert.ok(!(await answer.text()).includes('outside the mounts'), escaping);
  }
  assert.equal(await (await fetch(`${server.url}/api/singing-cloning/job`, { method: 'POST' })).text(), '{"api":true}');
});

test('a single byte range is answered 206, and a range past the end 416', async () => {
  const full = await fetch(`${server.url}/sdk/js/sound.wav`);
  assert.equal(full.headers.get('accept-ranges'), 'bytes');
  assert.equal(full.headers.get('content-length'), '10');
  const cases = [
    ['bytes=2-5', '2345', 'bytes 2-5/10'],
    ['bytes=7-', '789', 'bytes 7-9/10'],
    ['bytes=-3', '789', 'bytes 7-9/10'],
  ];
  for (const [range, body, contentRange] of cases) {
    const part = await fetch(`${server.url}/sdk/js/sound.wav`, { headers: { range } });
    assert.equal(part.status, 206, range);
    assert.equal(part.headers.get('content-range'), contentRange, range);
    assert.equal(await part.text(), body, range);
  }
  const past = await fetch(`${server.url}/sdk/js/sound.wav`, { headers: { range: 'bytes=20-' } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), 'bytes */10');
});
