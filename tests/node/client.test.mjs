// The client in Node against the emulator: exactly-once CreateJob under a storm of
// ambiguous faults, Retry-After, and the credential rules of a server-side client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

test('models() iterates every page with for await', async () => {
  const log = [];
  const client = new SingingCloningClient({
    endpoint: emulator.api,
    secretId: emulator.secretId,
    secretKey: emulator.secretKey,
    fetch: faultyFetch(() => '', log),
  });
  const all = await client.listModels({ limit: 100 });
  const names = [];
  for await (const model of client.models({ limit: 1 })) names.push(model.name);
  assert.deepEqual(
    names,
    all.models.map((m) => m.name),
  );
  assert.ok(names.includes('default'));
  assert.equal(log.length, 1 + names.length, 'one request per page of one, and no more once total is reached');
});

test('redirects are not followed, so a body with credentials never goes elsewhere', async () => {
  const { createServer } = await import('node:http');
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
