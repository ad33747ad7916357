// The client in Node against the emulator: exactly-once CreateJob under a storm of
// ambiguous faults, Retry-After, and the credential rules of a server-side client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { SingingCloningClient } from 'singing-cloning';
import { startEmulator } from '../support/emulator.mjs';

let emulator;
before(async () => {
  // Jobs stay SUBMITTED: the stress test counts them, it does not need them processed.
  emulator = await startEmulator(['--job-ms', '3600000']);
});
after(() => emulator?.stop());

/** A fetch that adds an emulator fault to some attempts, chosen by `pick(attempt)`. */
function faultyFetch(pick, log = []) {
  return (request) => {
    const fault = pick(log.length);
    log.push({ at: Date.now(), fault });
    if (!fault) return fetch(request);
    const headers = new Headers(request.headers);
    headers.set('x-emulator-fault', fault);
    return fetch(new Request(request, { headers }));
  };
}

const generateParams = (i) => ({
  source: { contentId: 'samples', path: '/song.wav' },
  modelName: 'default',
  contentId: 'results',
  outputPrefix: `s${i}_`,
});

test('1,000 CreateJob calls through random ambiguous faults create exactly 1,000 jobs', async () => {
  const before = (await (await fetch(`${emulator.origin}/admin/jobs`)).json()).total;
  // A seeded generator, so that a failure can be replayed.
  let seed = 20261125;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const faults = ['drop', 'drop-after-create', '500', '502', '503', '504', '429', 'html'];
  const log = [];
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    maxRetries: 12,
    fetch: faultyFetch(() => (random() < 0.3 ? faults[Math.floor(random() * faults.length)] : ''), log),
  });
  const ids = new Set();
  const total = 1000;
  const concurrency = 25;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const job = await client.generate(generateParams(i));
        ids.add(job.id);
      }
    }),
  );
  const after = (await (await fetch(`${emulator.origin}/admin/jobs`)).json()).total;
  const injected = log.filter((entry) => entry.fault).length;
  assert.ok(injected > 300, `only ${injected} faults were injected`);
  assert.ok(
    log.some((e) => e.fault === 'drop-after-create'),
    'some jobs were created and their answer lost',
  );
  assert.equal(ids.size, total, 'every call returned a distinct job');
  assert.equal(after - before, total, `the emulator holds exactly ${total} new jobs`);
});

test('a 429 with Retry-After is obeyed', async () => {
  const log = [];
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    fetch: faultyFetch((attempt) => (attempt === 0 ? '429=2' : ''), log),
  });
  await client.listModels();
  assert.equal(log.length, 2);
  assert.ok(log[1].at - log[0].at >= 2000, `the second request came ${log[1].at - log[0].at} ms after the first`);
});

test('errors never carry the credentials, even when the service echoes them', async () => {
  const echo = async (request) => {
    const body = await request.text();
    return new Response(JSON.stringify({ error: { code: 'Echo', message: `you sent ${body}` } }), { status: 400 });
  };
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: 'AKID-visible',
    secretKey: 'very-secret-key',
    fetch: echo,
  });
  const error = await client.listModels().then(
    () => assert.fail('resolved'),
    (e) => e,
  );
  assert.equal(error.code, 'api');
  const everything = JSON.stringify({ message: error.message, body: error.body, stack: error.stack, ...error });
  assert.ok(!everything.includes('very-secret-key') && !everything.includes('AKID-visible'), everything);
  assert.match(error.message, /\[redacted\]/);
});

test('options and arguments of the wrong type are validation errors', async () => {
  assert.throws(() => new SingingCloningClient({ maxRetries: -1 }), { code: 'validation' });
  assert.throws(() => new SingingCloningClient({ secretId: 'only-one' }), { code: 'validation' });
  assert.throws(() => new SingingCloningClient('https://example.com'), { code: 'validation' });
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
  });
  await assert.rejects(client.getJob(''), { code: 'validation' });
  await assert.rejects(client.listModels({ limit: 500 }), { code: 'validation' });
  await assert.rejects(client.waitForJob('x', { signal: 'not a signal' }), { code: 'validation' });
  await assert.rejects(
    client.createJob({ inputs: [] }),
    (e) => e.code === 'validation' && e.issues.some((i) => i.path === 'createJobRequest.inputs'),
  );
});

/**
 * A ListModels upstream holding `stored`, paging as the reference says: `offset` from 0,
 * `limit` from 1 to 100, `type` 2; anything else is a 400. Logs each page asked for.
 */
async function modelsUpstream(stored) {
  const pages = [];
  const server = createServer(async (request, response) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    const body = JSON.parse(text);
    const { offset, limit, type } = body.listModelsRequest ?? {};
    pages.push({ offset, limit });
    const valid =
      request.url === '/release/music_model' &&
      body.action === 'ListModels' &&
      type === 2 &&
      Number.isInteger(offset) &&
      offset >= 0 &&
      Number.isInteger(limit) &&
      limit >= 1 &&
      limit <= 100;
    response.writeHead(valid ? 200 : 400, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        valid
          ? {
              requestId: `r${pages.length}`,
              listModelsResponse: { total: stored.length, models: stored.slice(offset, offset + limit) },
            }
          : { requestId: `r${pages.length}`, error: { code: 'InvalidParameter', message: text } },
      ),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Keep-alive connections too, or a failed assertion would leave the test file running.
  const close = () => {
    server.close();
    server.closeAllConnections();
  };
  return { endpoint: `http://127.0.0.1:${server.address().port}/release`, pages, close };
}

test('models() walks 250 models page by page: each once, in order, with no page too many', async (t) => {
  const stored = Array.from({ length: 250 }, (_, i) => ({
    name: `voice_${String(i).padStart(3, '0')}`,
    createdAt: String(1_700_000_000_000 + i),
  }));
  const upstream = await modelsUpstream(stored);
  t.after(upstream.close);
  const client = new SingingCloningClient({
    endpoint: upstream.endpoint,
    secretId: 'id-12345678',
    secretKey: 'key-12345678',
    maxRetries: 0,
  });
  // [options, the first model, the page size the client must use]: the default page is
  // the reference's largest, 100; 50 divides 250, so a last full page must end the walk.
  for (const [options, from, size] of [
    [undefined, 0, 100],
    [{ limit: 50 }, 0, 50],
    [{ limit: 30 }, 0, 30],
    [{ offset: 5 }, 5, 100],
    [{ offset: 249, limit: 7 }, 249, 7],
  ]) {
    upstream.pages.length = 0;
    const names = [];
    for await (const model of client.models(options)) names.push(model.name);
    const label = JSON.stringify(options);
    assert.deepEqual(
      names,
      stored.slice(from).map((m) => m.name),
      label,
    );
    const offsets = Array.from({ length: Math.ceil((stored.length - from) / size) }, (_, i) => from + i * size);
    assert.deepEqual(
      upstream.pages,
      offsets.map((offset) => ({ offset, limit: size })),
      label,
    );
  }
});

test('redirects are not followed, so a body with credentials never goes elsewhere', async () => {
  let reachedTarget = 0;
  const server = createServer((request, response) => {
    if (request.url.startsWith('/elsewhere')) {
      reachedTarget++;
      response.end('{}');
      return;
    }
    response.writeHead(307, { location: '/elsewhere/job' }).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}/release`;
  const client = new SingingCloningClient({
    endpoint,
    secretId: 'id-12345678',
    secretKey: 'key-12345678',
    maxRetries: 0,
  });
  await assert.rejects(client.getJob('x'), (e) => e.code === 'network' && /redirect/.test(e.message));
  server.close();
  assert.equal(reachedTarget, 0);
});
