// Uploads and results through the proxy, against s3s-fs: an S3 server this project did not
// write (crates.io's s3s, installed by scripts/setup.sh), which checks SigV4 presigned URLs
// itself, so that the proxy's signer and the emulator's store cannot share one mistake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Browser,
  SECRETS,
  call,
  freePort,
  generateJob,
  leakedIn,
  seen,
  spawnUntil,
  startEmulator,
  startProxy,
  until,
} from './harness.mjs';

const ACCESS_KEY_ID = 'storageKeyIdForTests01';
const SECRET_ACCESS_KEY = 'storage/Secret+Key=ForTests02';
const BUCKET = 'uploads';

let root;
let store;
let emulator;
let proxy;
const stops = [];

function s3sBinary() {
  try {
    return execFileSync('sh', ['-c', 'command -v s3s-fs'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('s3s-fs is not installed: run scripts/setup.sh (cargo install s3s-fs --features binary)');
  }
}

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 's3s-'));
  mkdirSync(path.join(root, BUCKET));
  mkdirSync(path.join(root, 'results'));
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--access-key', ACCESS_KEY_ID];
  const server = await spawnUntil(s3sBinary(), [...args, '--secret-key', SECRET_ACCESS_KEY, root], {}, null);
  stops.push(server.stop);
  store = `http://127.0.0.1:${port}`;
  // s3s-fs prints nothing when it is ready: wait until it answers.
  await until(
    () =>
      fetch(store).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status > 0,
  );
  emulator = await startEmulator();
  stops.push(emulator.stop);
  proxy = await startProxy({
    endpoint: emulator.api,
    storage: {
      endpoint: store,
      bucket: BUCKET,
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      maxUploadBytes: 1_000_000,
      dailyUploads: 5,
    },
  });
  stops.push(proxy.close);
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(root, { recursive: true, force: true });
});

const wav = (bytes) => Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(bytes - 4, 7)]);

test('storage: an upload is presigned for its type and length, and the store takes exactly that', async () => {
  const page = new Browser(proxy.api);
  const body = wav(4096);
  const asked = await page.post('/uploads', { contentType: 'audio/wav', size: body.length });
  assert.equal(asked.status, 201, asked.body);
  const { uploadUrl, method, headers, expiresAt, input } = asked.json;
  assert.equal(method, 'PUT');
  assert.deepEqual(headers, { 'content-type': 'audio/wav' });
  assert.ok(Date.parse(expiresAt) > Date.now() + 800_000 && Date.parse(expiresAt) < Date.now() + 1_000_000, expiresAt);
  const key = new URL(uploadUrl).pathname.slice(`/${BUCKET}/`.length);
  assert.match(key, /^uploads\/u[a-z2-7]{11}_\/[0-9a-f]{32}\.wav$/);

  // The store refuses what was not signed: another type, another length, a tampered key.
  const wrongType = await fetch(uploadUrl, { method, headers: { 'content-type': 'audio/flac' }, body });
  assert.equal(wrongType.status, 403, await wrongType.text());
  const wrongLength = await fetch(uploadUrl, { method, headers, body: body.subarray(1) });
  assert.equal(wrongLength.status, 403, await wrongLength.text());
  const otherKey = await fetch(uploadUrl.replace('.wav?', 'x.wav?'), { method, headers, body });
  assert.equal(otherKey.status, 403, await otherKey.text());

  const put = await fetch(uploadUrl, { method, headers, body });
  assert.equal(put.status, 200, await put.text());
  assert.deepEqual(readFileSync(path.join(root, BUCKET, key)), body, 'the store holds the exact bytes');
  const read = await fetch(input.url);
  assert.equal(read.status, 200);
  assert.deepEqual(Buffer.from(await read.arrayBuffer()), body, 'the input URL reads them back');
  const tampered = await fetch(input.url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'));
  assert.equal(tampered.status, 403, 'a lengthened expiry breaks the signature');
});

test('storage: uploads are checked, limited per day, and each caller has its own folder', async () => {
  const page = new Browser(proxy.api);
  const refused = await page.post('/uploads', { contentType: 'text/html', size: 0 });
  assert.equal(refused.status, 400);
  assert.deepEqual(
    refused.json.error.issues.map((i) => [i.path, i.code]),
    [
      ['contentType', 'pattern'],
      ['size', 'range'],
    ],
  );
  const tooBig = await page.post('/uploads', { contentType: 'audio/mpeg', size: 1_000_001 });
  assert.equal(tooBig.status, 400);
  const notJson = await page.post('/uploads', '{', { raw: true });
  assert.equal(notJson.json.error.code, 'bad_json');

  const folder = async (browser) => {
    const answer = await browser.post('/uploads', { contentType: 'audio/flac', size: 10 });
    assert.equal(answer.status, 201, answer.body);
    return new URL(answer.json.uploadUrl).pathname.split('/')[3];
  };
  const other = new Browser(proxy.api);
  const [mine, again, theirs] = [await folder(page), await folder(page), await folder(other)];
  assert.equal(mine, again);
  assert.notEqual(mine, theirs);

  let answer;
  for (let i = 0; i < 5; i++) answer = await page.post('/uploads', { contentType: 'audio/wav', size: 10 });
  assert.equal(answer.status, 429, 'five a day: two above, and three more');
  assert.equal(answer.json.error.code, 'upload_quota_exceeded');
  assert.ok(Number(answer.headers.get('retry-after')) > 0);
});

test('storage: a result is a redirect to its file for its owner only', async () => {
  const page = new Browser(proxy.api);
  const created = await page.job(generateJob(emulator.origin, {}));
  assert.equal(created.status, 200, created.body);
  const id = created.json.createJobResponse.job.id;
  const notYet = await call(`${proxy.api}/results/${id}`, { headers: { cookie: page.cookie } });
  assert.ok([302, 409].includes(notYet.status), notYet.body);
  const done = await until(
    () => page.job({ action: 'GetJob', getJobRequest: { id } }),
    (r) => r.json?.getJobResponse?.job?.state === 3,
  );
  const output = done.json.getJobResponse.job.outputs[0];
  const song = output.smartContentResult.singingCloning.songName;

  const result = await call(`${proxy.api}/results/${id}`, { headers: { cookie: page.cookie } });
  assert.equal(result.status, 302, result.body);
  const location = new URL(result.headers.get('location'));
  assert.equal(location.origin, store);
  // The result went to the caller's own folder; the caller still sees its own destination.
  assert.equal(output.destination, '/out');
  const key = decodeURIComponent(location.pathname);
  assert.match(key, new RegExp(`^/results/u[a-z2-7]{11}_/out/${song}$`));
  // The emulator wrote the file into its own store at that key; put the same bytes where the
  // proxy says it is, then read it through the presigned URL, as a page's <audio> would.
  const file = Buffer.from(await (await fetch(`${emulator.origin}/cos${key}`)).arrayBuffer());
  assert.ok(file.length > 1000);
  const target = path.join(root, key);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, file);
  const played = await fetch(location);
  assert.equal(played.status, 200);
  assert.deepEqual(Buffer.from(await played.arrayBuffer()), file);

  // Another identity's job is answered exactly as an unknown one.
  const other = new Browser(proxy.api);
  await other.post('/uploads', { contentType: 'audio/wav', size: 1 });
  const stolen = await call(`${proxy.api}/results/${id}`, { headers: { cookie: other.cookie } });
  const unknown = await call(`${proxy.api}/results/no-such-job`, { headers: { cookie: other.cookie } });
  assert.equal(stolen.status, 404);
  assert.equal(stolen.body, unknown.body);
  assert.equal(stolen.json.error.code, 'job_not_found');
  const index = await call(`${proxy.api}/results/${id}/1`, { headers: { cookie: page.cookie } });
  assert.equal(index.json.error.code, 'result_not_found');
});

test("storage: a job's source may name only the caller's own files", async () => {
  const page = new Browser(proxy.api);
  const body = generateJob(emulator.origin, { inputs: [{ source: { contentId: 'samples', path: '/voice.wav' } }] });
  const refused = await page.job(body);
  assert.equal(refused.status, 400, refused.body);
  assert.deepEqual(
    refused.json.error.issues.map((i) => [i.path, i.code]),
    [['createJobRequest.inputs[0].source.path', 'forbidden']],
  );
});

test('storage: without storage settings the routes say so', async () => {
  const bare = await startProxy({ endpoint: emulator.api });
  try {
    const answer = await new Browser(bare.api).post('/uploads', { contentType: 'audio/wav', size: 1 });
    assert.equal(answer.status, 404);
    assert.equal(answer.json.error.code, 'storage_not_configured');
  } finally {
    await bare.close();
  }
});

test('storage: no answer carries a secret', () => {
  // The access key id is in every presigned URL (X-Amz-Credential), as S3 requires; its secret never is.
  const secrets = [...SECRETS, SECRET_ACCESS_KEY];
  for (const { where, headers, body } of seen) {
    const text = headers + body;
    assert.deepEqual(
      secrets.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s))),
      [],
      where,
    );
    assert.deepEqual(leakedIn(text), [], where);
  }
});
