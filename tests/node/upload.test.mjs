// The client's uploads (js/bind.js) against a fake proxy and a fake store in one node:http
// server: the presign's JSON, the exact bytes and headers the store receives for each kind of
// data, the order of upload and CreateJob in train/generate({ file }), every error code, and, in
// headless Chromium, onProgress. The fakes follow the proxy's contract (POST {prefix}/uploads
// answers a presigned PUT that signs content-length and content-type) and S3's (a PUT whose
// headers break the signature is an XML 403), not the client's code.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { SingingCloningClient } from 'singing-cloning';
import { launchChromium } from '../support/chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What the fakes saw, in order, and how they are to answer; reset before each test. */
let seen;
let script;
beforeEach(() => {
  seen = { events: [], presigns: [], puts: [], creates: [] };
  script = {
    /** The proxy's answer to presign number `n`, when not the usual 201: `{ status, body, headers }` or 'drop'. */
    presign: () => undefined,
    /** How the store takes a PUT: 'ok', 'drop' (closes the connection after the first chunk), 'slow', 'refuse'. */
    store: 'ok',
    /** Called when the store has the first chunk of a PUT. */
    onFirstChunk: () => {},
  };
});

const readBody = (request) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

const json = (response, status, body, headers = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
};

let server;
let origin;
let endpoint;

/** The presigned PUT's headers, as a store checks them against its signature. */
const signed = new Map();

async function proxy(request, response) {
  const url = new URL(request.url, origin);
  if (url.pathname === '/api/uploads' && request.method === 'POST') {
    const asked = JSON.parse((await readBody(request)).toString());
    const n = seen.presigns.push(asked) - 1;
    seen.events.push('presign');
    const scripted = script.presign(n);
    if (scripted === 'drop') return request.socket.destroy();
    if (scripted === 'hang') return;
    if (scripted) return json(response, scripted.status, scripted.body, scripted.headers);
    const key = `k${n}-${Math.random().toString(36).slice(2)}`;
    signed.set(key, { contentType: asked.contentType, size: asked.size });
    return json(response, 201, {
      uploadUrl: `${origin}/store/${key}?X-Amz-Signature=fake`,
      method: 'PUT',
      headers: { 'content-type': asked.contentType },
      expiresAt: '2026-12-01T21:00:00Z',
      input: { url: `${origin}/store/${key}?X-Amz-Signature=get` },
    });
  }
  if (url.pathname === '/api/job' && request.method === 'POST') {
    const body = JSON.parse((await readBody(request)).toString());
    if (body.action !== 'CreateJob') return json(response, 400, { error: { code: 'wrong_route', message: 'test' } });
    seen.creates.push(body.createJobRequest);
    seen.events.push('create');
    const job = { id: `job-${seen.creates.length}`, state: 1, ...body.createJobRequest };
    job.timing = { createdAt: String(Date.now()), startedAt: '0', completedAt: '0' };
    return json(response, 200, { requestId: 'r1', createJobResponse: { job } });
  }
  if (url.pathname.startsWith('/store/') && request.method === 'PUT') return store(request, response, url);
  if (url.pathname === '/page') {
    response.writeHead(200, { 'content-type': 'text/html' });
    return response.end('<!doctype html><title>upload</title>');
  }
  if (url.pathname.startsWith('/pkg/')) {
    const name = url.pathname.slice('/pkg/'.length);
    if (!['browser.js', 'singing_cloning_bg.wasm'].includes(name)) return json(response, 404, {});
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    response.writeHead(200, { 'content-type': type });
    return response.end(await readFile(`${root}pkg/${name}`));
  }
  json(response, 404, { error: { code: 'not_found', message: url.pathname } });
}

async function store(request, response, url) {
  const key = url.pathname.slice('/store/'.length);
  const put = {
    key,
    contentType: request.headers['content-type'],
    contentLength: request.headers['content-length'],
    bytes: null,
    complete: false,
  };
  seen.puts.push(put);
  seen.events.push('put');
  const chunks = [];
  const done = new Promise((resolve) => {
    request.on('data', (chunk) => {
      if (chunks.length === 0) script.onFirstChunk();
      chunks.push(chunk);
      if (script.store === 'drop') request.socket.destroy();
      if (script.store === 'slow') {
        // A slow link: the client's bytes go out over a second or so, in steps it can report.
        request.pause();
        setTimeout(() => request.resume(), 25);
      }
    });
    request.on('end', resolve);
    request.on('close', resolve);
  });
  await done;
  put.bytes = Buffer.concat(chunks);
  if (!request.complete) return;
  put.complete = true;
  seen.events.push('stored');
  const expected = signed.get(key);
  if (
    script.store === 'refuse' ||
    !expected ||
    put.contentType !== expected.contentType ||
    Number(put.contentLength) !== expected.size
  ) {
    response.writeHead(403, { 'content-type': 'application/xml' });
    return response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code></Error>');
  }
  response.writeHead(200, { etag: '"x"', 'access-control-allow-origin': '*' });
  response.end();
}

before(async () => {
  server = createServer((request, response) => {
    proxy(request, response).catch((error) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  endpoint = `${origin}/api`;
});
after(() => server?.close());

/** Bytes that show any reordering or truncation: a counter mixed with their index. */
function pattern(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 255;
  return bytes;
}

const client = (options) => new SingingCloningClient({ endpoint, maxRetries: 0, ...options });

async function rejection(promise) {
  return promise.then(
    (value) => assert.fail(`resolved with ${JSON.stringify(value)}`),
    (error) => error,
  );
}

test('every kind of data goes to the store as its exact bytes, with its type and size', async () => {
  const bytes = pattern(300_001);
  // A view into the middle of a larger buffer: only the view's bytes may go.
  const framed = new Uint8Array(bytes.length + 20);
  framed.set(bytes, 10);
  const cases = [
    ['Blob', new Blob([bytes], { type: 'audio/wav' }), undefined, 'audio/wav'],
    ['File', new File([bytes], 'take.flac', { type: 'audio/flac' }), undefined, 'audio/flac'],
    ['ArrayBuffer', bytes.slice().buffer, 'audio/mpeg', 'audio/mpeg'],
    ['Uint8Array', framed.subarray(10, 10 + bytes.length), 'audio/x-wav', 'audio/x-wav'],
    ['DataView', new DataView(framed.buffer, 10, bytes.length), 'audio/wave', 'audio/wave'],
    ['Buffer', Buffer.from(bytes), 'audio/wav', 'audio/wav'],
    ['Blob, its type overridden', new Blob([bytes], { type: 'audio/x-flac' }), 'audio/flac', 'audio/flac'],
  ];
  for (const [kind, data, contentType, expectedType] of cases) {
    seen.presigns.length = 0;
    seen.puts.length = 0;
    const input = await client().upload(data, contentType ? { contentType } : undefined);
    assert.deepEqual(seen.presigns, [{ contentType: expectedType, size: bytes.length }], kind);
    assert.equal(seen.puts.length, 1, kind);
    const [put] = seen.puts;
    assert.equal(put.contentType, expectedType, kind);
    assert.equal(put.contentLength, String(bytes.length), kind);
    assert.ok(put.bytes.equals(Buffer.from(bytes)), `${kind}: the store got other bytes`);
    assert.deepEqual(input, { url: `${origin}/store/${put.key}?X-Amz-Signature=get` }, kind);
  }
});

test("the presign goes through the client's fetch, the PUT straight to the store", async () => {
  const through = [];
  const fetchLog = (request) => {
    through.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  };
  await client({ fetch: fetchLog }).upload(pattern(10), { contentType: 'audio/wav' });
  assert.deepEqual(through, ['POST /api/uploads']);
  assert.equal(seen.puts.length, 1);
  assert.ok(seen.puts[0].complete);
});

const storedCopyTitle =
  "train({ file }) and generate({ file }) create their job after the PUT, with the stored copy's address";
test(storedCopyTitle, async () => {
  const c = client();
  const job = await c.train({
    file: new Blob([pattern(5000)], { type: 'audio/wav' }),
    modelName: 'alto',
    totalEpoch: 5,
    onProgress: () => {},
  });
  assert.deepEqual(seen.events, ['presign', 'put', 'stored', 'create']);
  const [created] = seen.creates;
  assert.deepEqual(created.inputs, [{ url: `${origin}/store/${seen.puts[0].key}?X-Amz-Signature=get` }]);
  assert.equal(created.outputs[0].smartContentDescriptor.singingCloning.modelName, 'alto');
  // The file's parameters are the client's, never the wire's.
  const wire = JSON.stringify(created);
  for (const name of ['file', 'contentType', 'onProgress']) assert.ok(!wire.includes(name), wire);
  assert.equal(job.status, 'SUBMITTED');

  seen.events.length = 0;
  await c.generate({ file: pattern(64), contentType: 'audio/mpeg', modelName: 'alto', contentId: 'covers' });
  assert.deepEqual(seen.events, ['presign', 'put', 'stored', 'create']);
  assert.deepEqual(seen.presigns[1], { contentType: 'audio/mpeg', size: 64 });
  assert.equal(seen.creates[1].inputs[0].url, `${origin}/store/${seen.puts[1].key}?X-Amz-Signature=get`);
});

test('a PUT that fails half-way, is refused or is aborted half-way starts no job', async () => {
  const params = (extra) => ({
    file: new Blob([pattern(4_000_000)], { type: 'audio/wav' }),
    modelName: 'alto',
    ...extra,
  });

  script.store = 'drop';
  const dropped = await rejection(client().train(params()));
  assert.equal(dropped.code, 'network', dropped.message);
  assert.equal(dropped.name, 'SingingCloningError');
  assert.equal(dropped.retryable, true);
  assert.equal(seen.puts[0].complete, false);
  assert.equal(seen.creates.length, 0);

  script.store = 'slow';
  const controller = new AbortController();
  script.onFirstChunk = () => controller.abort('the singer left');
  const aborted = await rejection(client().train(params({ signal: controller.signal })));
  assert.equal(aborted.code, 'aborted', aborted.message);
  assert.match(aborted.message, /the singer left/);
  assert.equal(aborted.retryable, false);
  assert.equal(seen.puts[1].complete, false, 'the PUT was cut short');
  assert.equal(seen.creates.length, 0);

  // A store that takes the body but refuses it (an expired or broken signature) is `http`.
  script.store = 'refuse';
  script.onFirstChunk = () => {};
  const refused = await rejection(client().generate({ ...params(), contentId: 'covers' }));
  assert.equal(refused.code, 'http');
  assert.equal(refused.status, 403);
  assert.equal(refused.retryable, false);
  assert.match(refused.body, /SignatureDoesNotMatch/);
  assert.equal(seen.creates.length, 0);
});

test("the proxy's refusals are `api` errors with its apiCode, other answers `http`", async () => {
  const refusals = [
    [400, 'validation', false, { issues: [{ path: 'contentType', code: 'pattern', message: 'not audio' }] }],
    [400, 'bad_json', false],
    [401, 'unauthenticated', false],
    [404, 'storage_not_configured', false],
    [413, 'too_large', false],
    [415, 'unsupported_media_type', false],
    [429, 'rate_limited', true],
    [429, 'upload_quota_exceeded', true],
    [500, 'storage_misconfigured', true],
  ];
  for (const [status, code, retryable, extra] of refusals) {
    script.presign = () => ({
      status,
      body: { error: { code, message: `refused: ${code}`, ...extra } },
      headers: status === 429 ? { 'retry-after': '3600' } : {},
    });
    const error = await rejection(client().upload(pattern(8), { contentType: 'audio/wav' }));
    assert.equal(error.code, 'api', `${code}: ${error.message}`);
    assert.equal(error.apiCode, code);
    assert.equal(error.status, status);
    assert.equal(error.retryable, retryable, code);
    assert.match(error.message, new RegExp(`refused: ${code}`));
  }
  script.presign = () => ({ status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
  const gateway = await rejection(client().upload(pattern(8), { contentType: 'audio/wav' }));
  assert.equal(gateway.code, 'http');
  assert.equal(gateway.status, 502);
  script.presign = () => ({ status: 201, body: { uploadUrl: 5 } });
  const unreadable = await rejection(client().upload(pattern(8), { contentType: 'audio/wav' }));
  assert.equal(unreadable.code, 'parse');
  assert.equal(seen.puts.length, 0, 'nothing was PUT');
});

test('a presign is retried after a network failure or a 5xx, up to maxRetries', async () => {
  script.presign = (n) =>
    [() => 'drop', () => ({ status: 503, body: { error: { code: 'x', message: 'busy' } } })][n]?.();
  const input = await client({ maxRetries: 2 }).upload(pattern(8), { contentType: 'audio/wav' });
  assert.equal(seen.presigns.length, 3);
  assert.ok(input.url.startsWith(`${origin}/store/k2-`), input.url);

  seen.presigns.length = 0;
  script.presign = () => 'drop';
  const error = await rejection(client({ maxRetries: 1 }).upload(pattern(8), { contentType: 'audio/wav' }));
  assert.equal(error.code, 'network');
  assert.equal(seen.presigns.length, 2);
});

test('a presign past timeoutMs is `timeout`; a proxy that is not there is `network`', async () => {
  script.presign = () => 'hang';
  const started = Date.now();
  const slow = await rejection(client({ timeoutMs: 200 }).upload(pattern(8), { contentType: 'audio/wav' }));
  assert.equal(slow.code, 'timeout', slow.message);
  assert.equal(slow.retryable, true);
  assert.ok(Date.now() - started < 5000);

  const gone = createServer();
  await new Promise((resolve) => gone.listen(0, '127.0.0.1', resolve));
  const closed = `http://127.0.0.1:${gone.address().port}/api`;
  await new Promise((resolve) => gone.close(resolve));
  const error = await rejection(
    new SingingCloningClient({ endpoint: closed, maxRetries: 0 }).upload(pattern(8), { contentType: 'audio/wav' }),
  );
  assert.equal(error.code, 'network', error.message);
});

test('bad arguments are `validation` errors naming the parameter, and nothing is sent', async () => {
  const c = client();
  const cases = [
    [() => c.upload(new Uint8Array(0), { contentType: 'audio/wav' }), 'data', 'required'],
    [() => c.upload(new Blob([]), { contentType: 'audio/wav' }), 'data', 'required'],
    [() => c.upload('RIFF....WAVE', { contentType: 'audio/wav' }), 'data', 'type'],
    [() => c.upload(undefined), 'data', 'type'],
    [() => c.upload(pattern(4)), 'contentType', 'required'],
    [() => c.upload(new Blob([pattern(4)])), 'contentType', 'required'],
    [() => c.train({ file: new Uint8Array(0), contentType: 'audio/wav', modelName: 'alto' }), 'file', 'required'],
    [() => c.train({ file: [1, 2, 3], contentType: 'audio/wav', modelName: 'alto' }), 'file', 'type'],
    [() => c.train({ file: pattern(4), modelName: 'alto' }), 'contentType', 'required'],
    [
      () => c.train({ file: pattern(4), contentType: 'audio/wav', url: 'https://a.example/v.wav', modelName: 'alto' }),
      'file',
      'one_of',
    ],
    // Every other parameter is checked before the upload, so that a bad one costs none.
    [() => c.train({ file: pattern(4), contentType: 'audio/wav', modelName: 'bad name' }), 'modelName', 'pattern'],
    [() => c.generate({ file: pattern(4), contentType: 'audio/wav', modelName: 'alto' }), 'contentId', 'required'],
  ];
  for (const [call, path, code] of cases) {
    const error = await rejection(call());
    assert.equal(error.code, 'validation', `${path}: ${error.message}`);
    assert.equal(error.name, 'SingingCloningError');
    assert.equal(error.retryable, false);
    assert.deepEqual(
      error.issues.map((issue) => [issue.path, issue.code]),
      [[path, code]],
      error.message,
    );
    assert.ok(error.message.includes(path), error.message);
  }
  assert.deepEqual(seen.events, [], 'nothing was sent');
});

test('an upload aborted before it starts, or during its presign, is `aborted`', async () => {
  const early = new AbortController();
  early.abort();
  const error = await rejection(client().upload(pattern(8), { contentType: 'audio/wav', signal: early.signal }));
  assert.equal(error.code, 'aborted');
  assert.deepEqual(seen.events, []);

  script.presign = () => 'hang';
  const late = new AbortController();
  setTimeout(() => late.abort(new Error('changed my mind')), 100);
  const cut = await rejection(client().upload(pattern(8), { contentType: 'audio/wav', signal: late.signal }));
  assert.equal(cut.code, 'aborted');
  assert.match(cut.message, /changed my mind/);
});

test('in Chromium, onProgress follows a 2 MB upload up to loaded === total', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/page`);
    // A link of 2 MB/s (DevTools' throttling), so that the upload takes a second: on the loopback
    // the socket buffers take 2 MB at once, and the platform has no progress to report.
    const devtools = await page.context().newCDPSession(page);
    await devtools.send('Network.enable');
    await devtools.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 2 * 1024 * 1024,
    });
    const result = await page.evaluate(async (endpoint) => {
      const { SingingCloningClient } = await import('/pkg/browser.js');
      const bytes = new Uint8Array(2 * 1024 * 1024).map((_, i) => i & 255);
      const progress = [];
      const client = new SingingCloningClient({ endpoint });
      const input = await client.upload(new Blob([bytes], { type: 'audio/wav' }), {
        onProgress: (event) => progress.push({ ...event }),
      });
      return { input, progress, size: bytes.length };
    }, endpoint);
    const { progress, size } = result;
    assert.ok(progress.length >= 3, `only ${progress.length} progress calls: ${JSON.stringify(progress)}`);
    for (const [i, event] of progress.entries()) {
      assert.equal(event.total, size);
      if (i > 0) assert.ok(event.loaded >= progress[i - 1].loaded, JSON.stringify(progress));
    }
    assert.ok(progress[0].loaded < size, 'the first call came before the end');
    assert.equal(progress.at(-1).loaded, size);
    assert.equal(seen.puts.length, 1);
    assert.equal(seen.puts[0].bytes.length, size);
    assert.equal(seen.puts[0].contentType, 'audio/wav');
    assert.equal(result.input.url, `${origin}/store/${seen.puts[0].key}?X-Amz-Signature=get`);
  } finally {
    await browser.close();
  }
});

test('the client keeps no copy of its credentials where logs can see it', () => {
  const secretKey = 'a-secret-key-only-this-test-knows';
  const client = new SingingCloningClient({ endpoint: 'http://127.0.0.1:9/x', secretId: 'AKIDid', secretKey });
  const shown = inspect(client, { showHidden: true, depth: 5 });
  assert.ok(!shown.includes(secretKey), shown);
  assert.ok(!JSON.stringify(Object.getOwnPropertySymbols(client).map((s) => client[s])).includes(secretKey));
});
