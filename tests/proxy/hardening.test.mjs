// Issue #11 ("Hardened"), the proxy's half: each item with the attack it stops, over HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest, createServer } from 'node:http';
import net from 'node:net';

import { createProxyHandler } from '../../js/proxy.js';
import { DEFAULT_TIMEOUTS, nodeFetch, serve } from '../../js/proxy-server.js';
import {
  Browser,
  PAGE_ORIGIN,
  PREFIX,
  PROXY_SECRET,
  SECRET_ID,
  SECRET_KEY,
  call,
  generateJob,
  leakedIn,
  startEmulator,
  startProxy,
  startServer,
  until,
} from './harness.mjs';

let emulator;
const stops = [];

before(async () => {
  emulator = await startEmulator();
  stops.push(emulator.stop);
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

const getJob = (id) => ({ action: 'GetJob', getJobRequest: { id } });

async function proxyFor(config, serveOptions) {
  const proxy = await startProxy({ endpoint: emulator.api, ...config }, serveOptions);
  stops.push(proxy.close);
  return proxy;
}

/** A POST with headers fetch will not send (`Host`), over node:http. */
function rawPost(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify(body));
  });
}

// Item 2: nothing is built from `Host`.
test('Host steers no callback: without publicUrl callbacks are refused, never addressed to Host', async () => {
  const proxy = await proxyFor({ publicUrl: undefined, callbackTargets: { allowPrivate: true } });
  const body = generateJob(emulator.origin, { customId: 'host-steered', callback: 'https://hooks.example.com/x' });
  const answer = await rawPost(`${proxy.api}/job`, { host: 'attacker.example' }, body);
  assert.equal(answer.status, 400, answer.body);
  assert.equal(answer.json.error.code, 'callbacks_not_configured');
  const jobs = (await emulator.admin('/admin/jobs')).jobs;
  assert.ok(!jobs.some((j) => String(j.callback ?? '').includes('attacker.example')), 'no job calls back to Host');
  // Without a callback, such a proxy works.
  const plain = await rawPost(`${proxy.api}/job`, { host: 'attacker.example' }, getJob('nope'));
  assert.equal(plain.status, 404);
});

const rebindingTitle =
  'a matching Host and Origin is not same-origin (DNS rebinding): only configured origins and publicUrl are';
test(rebindingTitle, async () => {
  const proxy = await proxyFor({ publicUrl: 'https://proxy.example' });
  const port = new URL(proxy.url).port;
  const rebound = `rebind.example:${port}`;
  const refused = await rawPost(`${proxy.api}/job`, { host: rebound, origin: `http://${rebound}` }, getJob('nope'));
  assert.equal(refused.status, 403, refused.body);
  assert.equal(refused.json.error.code, 'origin_not_allowed');
  // The proxy's listening address is no origin of its own either, unless configured.
  const local = await rawPost(`${proxy.api}/job`, { origin: proxy.url }, getJob('nope'));
  assert.equal(local.status, 403);
  for (const origin of ['https://proxy.example', PAGE_ORIGIN]) {
    const allowed = await rawPost(`${proxy.api}/job`, { host: rebound, origin }, getJob('nope'));
    assert.equal(allowed.status, 404, origin);
    assert.equal(allowed.headers['access-control-allow-origin'], origin);
  }
});

// Item 4: limits a client cannot reset by dropping its cookie.
test('anonymous clients that drop their cookie hit the per-address session limit', async () => {
  const proxy = await proxyFor({ sessionRateLimit: { capacity: 3, refillPerSecond: 0.001 } });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await new Browser(proxy.api).job(getJob('x'))).status);
  assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
  const refused = await new Browser(proxy.api).job(getJob('x'));
  assert.equal(refused.json.error.code, 'too_many_sessions');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(refused.headers.get('set-cookie'), null, 'no session was made');
});

test('requests of anonymous sessions count against their address, whatever their cookie', async () => {
  const proxy = await proxyFor({ addressRateLimit: { capacity: 4, refillPerSecond: 0.001 } });
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await new Browser(proxy.api).job(getJob('x'))).status);
  assert.deepEqual(statuses, [404, 404, 404, 404, 429, 429]);
  // A client header is not trusted unless configured: X-Forwarded-For changes nothing.
  const spoofed = await new Browser(proxy.api, { headers: { 'x-forwarded-for': '203.0.113.9' } }).job(getJob('x'));
  assert.equal(spoofed.status, 429);
  // Signed-in users count per identity.
  const users = await proxyFor({
    addressRateLimit: { capacity: 1, refillPerSecond: 0.001 },
    authenticate: () => 'carol',
  });
  for (let i = 0; i < 3; i++) assert.equal((await new Browser(users.api).job(getJob('x'))).status, 404);
});

test('behind a trusted front proxy, the configured header names the client', async () => {
  const proxy = await proxyFor({
    clientAddressHeader: 'X-Real-IP',
    addressRateLimit: { capacity: 2, refillPerSecond: 0.001 },
  });
  const from = (address) => new Browser(proxy.api, { headers: { 'x-real-ip': address } }).job(getJob('x'));
  assert.deepEqual(
    [(await from('203.0.113.1')).status, (await from('203.0.113.1')).status, (await from('203.0.113.1')).status],
    [404, 404, 429],
  );
  assert.equal((await from('203.0.113.2')).status, 404, 'another client');
  assert.equal((await from('2001:db8:1:2::1')).status, 404);
  assert.equal((await from('2001:db8:1:2::2')).status, 404);
  assert.equal((await from('2001:db8:1:2:ffff::3')).status, 429, 'an IPv6 client counts per /64');
});

test('without any client address, new sessions still have a global ceiling', async () => {
  const handler = createProxyHandler({
    endpoint: emulator.api,
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    proxySecret: PROXY_SECRET,
    allowedOrigins: [],
    globalSessionRateLimit: { capacity: 2, refillPerSecond: 0.001 },
  });
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const request = new Request(`http://proxy.internal${PREFIX}/job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(getJob('x')),
    });
    statuses.push((await handler(request)).status);
  }
  assert.deepEqual(statuses, [404, 404, 429, 429]);
});

// Item 5: replays cost no upstream call, and the route is limited.
test('callback replays are refused before any upstream call; the callback route is rate-limited', async () => {
  const receiver = await startServer(() => ({ status: 200, body: '{}' }));
  stops.push(receiver.close);
  const getJobs = [];
  const counting = async (request) => {
    const copy = request.clone();
    if (request.url.startsWith(emulator.api)) {
      const body = JSON.parse(await copy.text());
      if (body.action === 'GetJob') getJobs.push(body.getJobRequest.id);
    }
    return fetch(request);
  };
  const proxy = await proxyFor({ fetch: counting, callbackTargets: { allowPrivate: true } });
  const page = new Browser(proxy.api);
  const created = await page.job(
    generateJob(emulator.origin, { customId: 'replayed', callback: `${receiver.url}/hook` }),
  );
  assert.equal(created.status, 200, created.body);
  const id = created.json.createJobResponse.job.id;
  await until(
    () => receiver.received.length,
    (n) => n >= 1,
  );
  const upstream = (await emulator.admin('/admin/jobs')).jobs.find((j) => j.id === id);
  const before = getJobs.filter((j) => j === id).length;
  for (let i = 0; i < 5; i++) {
    const replay = await call(upstream.callback, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(upstream),
    });
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error.code, 'already_delivered');
  }
  assert.equal(getJobs.filter((j) => j === id).length, before, 'no GetJob for a replay');

  const limited = await proxyFor({ callbackRateLimit: { capacity: 3, refillPerSecond: 0.001 } });
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const forged = await call(`${limited.api}/callbacks/made-up.token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    statuses.push(forged.status);
  }
  assert.deepEqual(statuses, [403, 403, 403, 429, 429]);
});

// Item 6: connections that send nothing useful are closed soon.
function closedWithin(port, send, ms) {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => send && socket.write(send));
    socket.resume(); // reading, so that the server's end of the connection is seen
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Infinity);
    }, ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

test('idle, slow and kept-alive connections are closed after short, configurable times', async () => {
  assert.ok(
    DEFAULT_TIMEOUTS.headersTimeoutMs <= 10_000 &&
      DEFAULT_TIMEOUTS.requestTimeoutMs <= 30_000 &&
      DEFAULT_TIMEOUTS.keepAliveTimeoutMs <= 5_000,
  );
  const proxy = await proxyFor({}, { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 });
  const port = Number(new URL(proxy.url).port);
  assert.ok((await closedWithin(port, null, 4000)) < 2500, 'a connection that sends nothing');
  assert.ok(
    (await closedWithin(port, 'POST /api/singing-cloning/job HTTP/1.1\r\nHost: x\r\n', 4000)) < 2500,
    'headers that never end',
  );
  const slowBody =
    'POST /api/singing-cloning/job HTTP/1.1\r\nHost: x\r\n' +
    'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{';
  assert.ok((await closedWithin(port, slowBody, 4000)) < 3000, 'a body that never ends');
  const keptAlive =
    'POST /api/singing-cloning/job HTTP/1.1\r\nHost: x\r\n' +
    'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
  assert.ok((await closedWithin(port, keptAlive, 4000)) < 2500, 'a kept-alive connection left idle');
  await assert.rejects(
    serve(() => null, { port: 0, headersTimeoutMs: 0 }),
    RangeError,
  );
});

// Item 7: an upstream answer of any size is not read whole.
async function hugeUpstream(bytes, { declareLength = false } = {}) {
  let written = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': String(bytes + 2) } : {}),
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.write('"');
      const pump = () => {
        while (written < bytes) {
          written += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end('"');
      };
      res.on('close', () => {});
      pump();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${server.address().port}/release`, written: () => written };
}

for (const [name, fetch] of [
  ["the Node server's nodePost", undefined],
  ['the global fetch', (request) => globalThis.fetch(request)],
  ['nodeFetch', nodeFetch],
]) {
  test(`an upstream answer past maxUpstreamBytes is a 502 upstream_too_large, not read on (${name})`, async () => {
    const upstream = await hugeUpstream(50 * 1024 * 1024);
    const proxy = await proxyFor({ endpoint: upstream.url, fetch, maxUpstreamBytes: 1024 * 1024 });
    const answer = await new Browser(proxy.api).job(getJob('x'));
    assert.equal(answer.status, 502, answer.body.slice(0, 200));
    assert.equal(answer.json.error.code, 'upstream_too_large');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(
      upstream.written() < 20 * 1024 * 1024,
      `the upstream wrote ${upstream.written()} bytes before it was stopped`,
    );
    const declared = await hugeUpstream(2 * 1024 * 1024, { declareLength: true });
    const early = await proxyFor({ endpoint: declared.url, fetch, maxUpstreamBytes: 1024 * 1024 });
    assert.equal((await new Browser(early.api).job(getJob('x'))).json.error.code, 'upstream_too_large');
  });
}

// Item 11: a failure that is not JSON is replaced by a neutral error.
test('an upstream failure that is not JSON leaks no form of a secret: it becomes a neutral error', async () => {
  const forms = [
    SECRET_KEY.toUpperCase(),
    SECRET_KEY.toLowerCase(),
    SECRET_KEY.replaceAll('/', '&#x2F;').replaceAll('+', '&#43;').replaceAll('=', '&#61;'),
    Buffer.from(SECRET_KEY).toString('base64'),
    Buffer.from(SECRET_ID).toString('base64url'),
    SECRET_ID.toUpperCase(),
  ];
  const page = `<html><body>bad key ${forms.join(' ')}</body></html>`;
  const upstream = await startServer(() => ({
    status: 503,
    headers: { 'content-type': 'text/html', 'retry-after': '7' },
    body: page,
  }));
  stops.push(upstream.close);
  const proxy = await proxyFor({ endpoint: `${upstream.url}/release` });
  const answer = await new Browser(proxy.api).job(getJob('x'));
  assert.equal(answer.status, 503);
  assert.equal(answer.json.error.code, 'upstream_not_json');
  assert.equal(answer.headers.get('retry-after'), '7', 'the status and Retry-After stay, for retries');
  for (const form of forms) assert.ok(!answer.body.includes(form), form);
  assert.ok(!answer.body.toLowerCase().includes(SECRET_KEY.toLowerCase()));
  assert.deepEqual(leakedIn(answer.body), []);
  const ok = await startServer(() => ({
    status: 200,
    headers: { 'content-type': 'text/html' },
    body: '<html>hello</html>',
  }));
  stops.push(ok.close);
  const success = await new Browser((await proxyFor({ endpoint: `${ok.url}/release` })).api).job(getJob('x'));
  assert.equal(success.status, 502);
  assert.equal(success.json.error.code, 'upstream_not_json');
});

// Item 12: numbers pass through as the upstream wrote them.
test('numbers in upstream answers come back exactly as written, unknown fields included', async () => {
  const numbers = [
    '0.30000000000000004',
    '9007199254740993',
    '1.7976931348623157e308',
    '-0.0',
    '1E+2',
    '123456789012345678901234567890',
  ];
  const upstream = await startServer((_req, body) => {
    const request = JSON.parse(body);
    const customId = request.createJobRequest?.customId ?? '';
    const job =
      `{"id":"j1","customId":${JSON.stringify(customId)},"state":1,"createTime":1603432763000,` +
      `"extra":{"n":[${numbers.join(',')}]},"weight":${numbers[0]}}`;
    return { status: 200, body: `{"requestId":"r1","createJobResponse":{"job":${job}},"total":${numbers[2]}}` };
  });
  stops.push(upstream.close);
  const proxy = await proxyFor({ endpoint: `${upstream.url}/release` });
  const answer = await new Browser(proxy.api).job(generateJob(emulator.origin, { customId: 'numbers' }));
  assert.equal(answer.status, 200, answer.body);
  assert.ok(answer.body.includes(`"extra":{"n":[${numbers.join(',')}]}`), answer.body);
  assert.ok(answer.body.includes(`"weight":${numbers[0]}`), answer.body);
  assert.ok(answer.body.includes(`"total":${numbers[2]}`), answer.body);
  assert.ok(answer.body.includes('"createTime":1603432763000'));
});

// Item 13: targets are read by the URL parser fetch uses.
test('callback targets in every special-purpose spelling are refused', async () => {
  const proxy = await proxyFor({});
  const page = new Browser(proxy.api);
  for (const target of [
    'http://[::ffff:0:127.0.0.1]/x',
    'http://[2002:7f00:1::]/x',
    'http://[fec0::1]/x',
    'http://[100::1]/x',
    'http://localhost../x',
    'http://127.0.0.1../x',
    'http://[::ffff:7f00:1]/x',
    'http://0x7f.1/x',
    'http://[64:ff9b::7f00:1]/x',
    'http://192.0.2.1/x',
    'http://[2001:db8::1]/x',
    'http://198.18.0.1/x',
    'http://LOCALHOST/x',
    'http://127.0.0.1%2e/x',
    'http://user:pw@hooks.example.com/x',
    'ftp://hooks.example.com/x',
  ]) {
    const answer = await page.job(generateJob(emulator.origin, { callback: target }));
    if (answer.status === 400 && answer.json.error.code === 'validation') continue; // the SDK's own URL rule came first
    assert.equal(answer.status, 400, `${target}: ${answer.body}`);
    assert.equal(answer.json.error.code, 'callback_not_allowed', target);
  }
  const fine = await page.job(generateJob(emulator.origin, { callback: 'https://hooks.example.com/x' }));
  assert.equal(fine.status, 200, fine.body);
});

// Item 8: a session has an issue time under its MAC and a maximum age.
function cookieFor(issuedS, secret = PROXY_SECRET) {
  const id = randomBytes(16).toString('base64url');
  const mac = createHmac('sha256', secret).update(`singing-cloning session\0${id}\0${issuedS}`).digest('base64url');
  return `sc_session=${id}.${issuedS}.${mac}`;
}

test('sessions end at their maximum age, and a cookie has one spelling', async () => {
  const proxy = await proxyFor({ sessionMaxAgeSeconds: 60 });
  const now = Math.floor(Date.now() / 1000);
  const ask = (cookie) => new Browser(proxy.api, { headers: { cookie } }).job(getJob('x'));
  const fresh = await ask(cookieFor(now - 30));
  assert.equal(fresh.status, 404);
  assert.equal(fresh.headers.get('set-cookie'), null, 'a fresh session is kept');
  const old = await ask(cookieFor(now - 61));
  assert.match(
    old.headers.get('set-cookie') ?? '',
    /^sc_session=[\w-]{22}\.\d+\.[\w-]{43}; Path=\/api\/singing-cloning; Max-Age=60; HttpOnly; SameSite=Strict$/,
  );
  const future = await ask(cookieFor(now + 3600));
  assert.ok(future.headers.get('set-cookie'), 'an issue time in the future is refused');
  const quoted = `${cookieFor(now).replace('sc_session=', 'sc_session="')}"`;
  assert.ok((await ask(quoted)).headers.get('set-cookie'), 'a quoted cookie is another spelling');
  const padded = await ask(`${cookieFor(now)}=`);
  assert.ok(padded.headers.get('set-cookie'), 'a padded MAC is another spelling');
});
