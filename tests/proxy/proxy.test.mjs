// The proxy in front of the emulator, over HTTP: each rule with the attack it stops, and
// at the end a scan of every response for the secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

import { createProxyHandler, verifyWebhook } from '../../js/proxy.js';
import { parseResponse } from '../../js/node.js';
import {
  Browser,
  GATEWAY_ID,
  GATEWAY_KEY,
  PAGE_ORIGIN,
  PROXY_SECRET,
  SECRET_ID,
  SECRET_KEY,
  call,
  generateJob,
  leakedIn,
  seen,
  startEmulator,
  startProxy,
  startServer,
  trainJob,
  until,
} from './harness.mjs';

const WEBHOOK_SECRET = `whsec_${Buffer.from('webhook-secret-of-the-tests').toString('base64')}`;

let emulator;
let proxy;
let receiver; // the original callback target: a page's backend
const stops = [];

before(async () => {
  emulator = await startEmulator();
  stops.push(emulator.stop);
  receiver = await startServer(() => ({ status: 200, body: '{}' }));
  stops.push(receiver.close);
  proxy = await startProxy({
    endpoint: emulator.api,
    webhookSecret: WEBHOOK_SECRET,
    callbackTargets: { allowPrivate: true },
    rateLimit: { capacity: 1000, refillPerSecond: 100 },
  });
  stops.push(proxy.close);
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** A generation singing with `modelName`. */
const generateWith = (modelName) =>
  generateJob(emulator.origin, {
    outputs: [
      {
        contentId: 'r',
        inputSelectors: [0],
        smartContentDescriptor: { singingCloning: { type: 1, modelName } },
      },
    ],
  });

const getJob = (id) => ({ action: 'GetJob', getJobRequest: { id } });
const listJobs = (customId) => ({ action: 'ListJobs', listJobsRequest: { customId } });

async function finished(browser, id) {
  return until(
    () => browser.job(getJob(id)),
    (r) => r.status === 200 && [3, 4, 5].includes(r.json.getJobResponse.job.state),
  );
}

test('a page creates, reads and lists its jobs without credentials; the proxy adds them', async () => {
  const page = new Browser(proxy.api);
  const created = await page.job(generateJob(emulator.origin, { customId: 'song-1' }));
  assert.equal(created.status, 200, created.body);
  assert.match(
    created.headers.get('set-cookie') ?? '',
    /^sc_session=[^;]+; Path=\/api\/singing-cloning; Max-Age=\d+; HttpOnly; SameSite=Strict/,
  );
  const job = created.json.createJobResponse.job;
  assert.equal(job.customId, 'song-1', 'the scope prefix comes off in answers');
  const done = await finished(page, job.id);
  assert.equal(done.json.getJobResponse.job.customId, 'song-1');
  const listed = await page.job(listJobs('song-1'));
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.json.listJobsResponse.jobs.map((j) => j.id),
    [job.id],
  );
  // Upstream, the job carries the caller's prefix.
  const all = await emulator.admin('/admin/jobs');
  const upstream = all.jobs.find((j) => j.id === job.id);
  assert.match(upstream.customId, /^u[a-z2-7]{11}_song-1$/);
  // The SDK reads the proxy's answers as it reads the service's.
  assert.equal(parseResponse('GetJob', done.body, 200).getJobResponse.job.status, 'COMPLETED');
});

test('credentials sent by a client are refused, never forwarded', async () => {
  const page = new Browser(proxy.api);
  for (const body of [
    { ...getJob('x'), secretId: 'mine', secretKey: 'mine' },
    { ...getJob('x'), secretKey: SECRET_KEY },
    { ...getJob('x'), secretId: null },
  ]) {
    const answer = await page.job(body);
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'credentials_in_body');
  }
  // The SDK reads it as a typed api error.
  const answer = await page.job({ ...getJob('x'), secretId: 'a' });
  assert.throws(
    () => parseResponse('GetJob', answer.body, answer.status),
    (e) => e.code === 'api' && e.apiCode === 'credentials_in_body',
  );
});

test('only the four actions pass, each on its own route', async () => {
  const page = new Browser(proxy.api);
  const unknown = await page.job({ action: 'DeleteJob', getJobRequest: { id: 'x' } });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error.code, 'validation');
  assert.equal(unknown.json.error.issues[0].code, 'unknown_action');
  const wrong = await page.job({ action: 'ListModels', listModelsRequest: { offset: 0, limit: 10, type: 2 } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.code, 'wrong_route');
  const invalid = await page.job({ action: 'GetJob', getJobRequest: {} });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.issues[0].path, 'getJobRequest.id');
});

test('unknown paths and methods are refused; no path reaches the upstream', async () => {
  for (const path of [
    '/api/singing-cloning/admin/jobs',
    '/release/job',
    '/api/singing-cloning',
    '/api/singing-cloning/job/x',
    '/api/singing-cloning/%2e%2e/release/job',
    '/admin/jobs',
    '/cos/samples/voice.wav',
  ]) {
    const answer = await call(proxy.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(answer.status, 404, path);
    assert.equal(answer.json.error.code, 'not_found');
  }
  const get = await call(`${proxy.api}/job`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  const put = await call(`${proxy.api}/job`, { method: 'PUT', body: '{}' });
  assert.equal(put.status, 405);
});

test('oversize bodies get 413, whether declared or streamed', async () => {
  const page = new Browser(proxy.api);
  const big = JSON.stringify({ ...getJob('x'), pad: 'x'.repeat(70 * 1024) });
  const declared = await page.post('/job', big, { raw: true });
  assert.equal(declared.status, 413);
  assert.equal(declared.json.error.code, 'too_large');
  // Without Content-Length: the proxy stops reading at the limit.
  const chunks = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
      controller.close();
    },
  });
  const streamed = await call(`${proxy.api}/job`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: PAGE_ORIGIN },
    body: chunks,
    duplex: 'half',
  });
  assert.equal(streamed.status, 413);
});

test('deeply nested JSON, bad JSON and other media types get 400 and 415', async () => {
  const page = new Browser(proxy.api);
  const deep = { ...getJob('x'), pad: JSON.parse('['.repeat(40) + ']'.repeat(40)) };
  assert.equal((await page.job(deep)).json.error.code, 'too_deep');
  const deeper = await page.post('/job', '['.repeat(50000), { raw: true });
  assert.equal(deeper.status, 400);
  assert.equal(deeper.json.error.code, 'too_deep');
  for (const text of ['{"action":', 'not json', '', '{"action":"GetJob"}}']) {
    const answer = await page.post('/job', text, { raw: true });
    assert.equal(answer.status, 400, text);
    assert.equal(answer.json.error.code, 'bad_json', text);
  }
  const form = await page.post('/job', 'action=GetJob', {
    raw: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(form.status, 415);
  const plain = await page.post('/job', JSON.stringify(getJob('x')), {
    raw: true,
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(plain.status, 415, 'a no-preflight cross-site POST is refused');
});

test('CORS: listed origins get answers, preflight included; other origins are refused', async () => {
  const preflight = await call(`${proxy.api}/job`, {
    method: 'OPTIONS',
    headers: {
      origin: PAGE_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), PAGE_ORIGIN);
  assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
  assert.match(preflight.headers.get('access-control-allow-headers'), /content-type/);

  const page = new Browser(proxy.api);
  const allowed = await page.job(getJob('nope'));
  assert.equal(allowed.headers.get('access-control-allow-origin'), PAGE_ORIGIN);

  const evil = new Browser(proxy.api, { origin: 'https://evil.example' });
  const refused = await evil.job(getJob('nope'));
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, 'origin_not_allowed');
  assert.equal(refused.headers.get('access-control-allow-origin'), null);
  assert.equal(refused.headers.get('set-cookie'), null, 'no session for a refused origin');
  const evilPreflight = await call(`${proxy.api}/job`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(evilPreflight.status, 403);
  assert.equal(evilPreflight.headers.get('access-control-allow-origin'), null);
  // The proxy's own origin is always allowed (a page served beside it).
  const own = await new Browser(proxy.api, { origin: proxy.url }).job(getJob('nope'));
  assert.equal(own.status, 404);
});

test("another user's job is not found by id, and not listed by customId", async () => {
  const alice = new Browser(proxy.api);
  const mallory = new Browser(proxy.api);
  const created = await alice.job(generateJob(emulator.origin, { customId: 'private-song' }));
  assert.equal(created.status, 200);
  const id = created.json.createJobResponse.job.id;
  assert.equal((await alice.job(getJob(id))).status, 200);

  const stolen = await mallory.job(getJob(id));
  const unknown = await mallory.job(getJob('00000000-0000-4000-8000-000000000000'));
  assert.equal(stolen.status, 404);
  assert.equal(stolen.body, unknown.body, 'exactly like an unknown id');
  assert.equal(stolen.json.error.code, 'job_not_found');

  const listed = await mallory.job(listJobs('private-song'));
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.json.listJobsResponse.jobs, []);
  assert.equal(listed.json.listJobsResponse.total, 0);
  // Nor by guessing the scoped customId the upstream holds.
  const upstream = (await emulator.admin('/admin/jobs')).jobs.find((j) => j.id === id);
  const guessed = await mallory.job(listJobs(upstream.customId));
  assert.deepEqual(guessed.json.listJobsResponse.jobs, []);
  // A forged session cookie is no identity: it gets a fresh session instead.
  const forger = new Browser(proxy.api);
  const at = alice.cookie.length - 5;
  forger.cookie = alice.cookie.slice(0, at) + (alice.cookie[at] === 'A' ? 'B' : 'A') + alice.cookie.slice(at + 1);
  const forged = await forger.job(getJob(id));
  assert.equal(forged.status, 404);
  assert.notEqual(forger.cookie, alice.cookie);
});

test('a customId that the prefix would push past 63 characters is refused', async () => {
  const page = new Browser(proxy.api);
  const fits = await page.job(generateJob(emulator.origin, { customId: 'x'.repeat(50) }));
  assert.equal(fits.status, 200, fits.body);
  const overflow = await page.job(generateJob(emulator.origin, { customId: 'x'.repeat(51) }));
  assert.equal(overflow.status, 400);
  assert.equal(overflow.json.error.issues[0].path, 'createJobRequest.customId');
  assert.equal(overflow.json.error.issues[0].code, 'too_long');
  assert.equal((await page.job(listJobs('y'.repeat(51)))).status, 400);
});

test('callbacks: forwarded once, signed the Standard Webhooks way; forged and replayed ones are refused', async () => {
  const page = new Browser(proxy.api);
  const target = `${receiver.url}/hooks/singing?x=1`;
  const created = await page.job(generateJob(emulator.origin, { customId: 'with-callback', callback: target }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  assert.equal(job.callback, target, 'the caller sees its own target');
  const upstream = (await emulator.admin('/admin/jobs')).jobs.find((j) => j.id === job.id);
  assert.ok(upstream.callback.startsWith(`${proxy.api}/callbacks/`), upstream.callback);
  assert.ok(!upstream.callback.includes(receiver.url), 'the target is not in clear upstream');

  const delivered = await until(
    () => receiver.received.filter((r) => r.url === '/hooks/singing?x=1'),
    (r) => r.length >= 1,
  );
  assert.equal(delivered.length, 1);
  const message = delivered[0];
  assert.match(message.headers['webhook-id'], /^msg_/);
  assert.match(message.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
  const payload = verifyWebhook({ headers: message.headers, body: message.body }, WEBHOOK_SECRET);
  assert.equal(payload.id, job.id);
  assert.equal(payload.customId, 'with-callback');
  assert.equal(payload.callback, target);
  assert.equal(payload.state, 3);
  // Independently: HMAC-SHA256 over id.timestamp.body with the decoded secret.
  const key = Buffer.from(WEBHOOK_SECRET.slice(6), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${message.headers['webhook-id']}.${message.headers['webhook-timestamp']}.${message.body}`)
    .digest('base64');
  assert.equal(message.headers['webhook-signature'], `v1,${expected}`);

  // Replayed: the same callback again, even with a better story in the body.
  const forgedBody = JSON.stringify({
    ...upstream,
    state: 3,
    outputs: [{ smartContentResult: { singingCloning: { songName: 'evil.mp3' } } }],
  });
  const replay = await call(upstream.callback, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: forgedBody,
  });
  assert.equal(replay.status, 409);
  assert.equal(replay.json.error.code, 'already_delivered');

  // Forged: a made-up token, a token with another job's customId, a token whose target was swapped.
  const [, token] = upstream.callback.split('/callbacks/');
  const [, mac] = token.split('.');
  const swapped = `${Buffer.from('https://evil.example/steal').toString('base64url')}.${mac}`;
  for (const [url, body] of [
    [`${proxy.api}/callbacks/made-up.token`, JSON.stringify(upstream)],
    [upstream.callback, JSON.stringify({ ...upstream, customId: 'uaaaaaaaaaaa_other' })],
    [`${proxy.api}/callbacks/${swapped}`, JSON.stringify(upstream)],
  ]) {
    const forged = await call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(forged.status, 403, url);
    assert.equal(forged.json.error.code, 'bad_callback');
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(
    receiver.received.filter((r) => r.url === '/hooks/singing?x=1').length,
    1,
    'the target got the job once',
  );
  assert.ok(!receiver.received.some((r) => r.url === '/steal'));
});

test('a callback to a private or loopback address is refused unless configured', async () => {
  const strict = await startProxy({ endpoint: emulator.api });
  stops.push(strict.close);
  const page = new Browser(strict.api);
  for (const target of [
    'http://127.0.0.1:9/x',
    'http://localhost/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/x',
    'http://2130706433/x',
    'http://10.0.0.1/x',
    'http://192.168.1.1/x',
    'http://intranet/x',
  ]) {
    const answer = await page.job(generateJob(emulator.origin, { callback: target }));
    assert.equal(answer.status, 400, target);
    assert.equal(answer.json.error.code, 'callback_not_allowed', target);
    assert.equal(answer.json.error.issues[0].path, 'createJobRequest.callback');
  }
  const listed = await startProxy({ endpoint: emulator.api, callbackTargets: { allowedHosts: ['hooks.example.com'] } });
  stops.push(listed.close);
  const other = await new Browser(listed.api).job(
    generateJob(emulator.origin, { callback: 'https://elsewhere.example.com/x' }),
  );
  assert.equal(other.json.error.code, 'callback_not_allowed');
});

test('a flood past the rate limit gets 429 with Retry-After; other identities are unaffected', async () => {
  const limited = await startProxy({ endpoint: emulator.api, rateLimit: { capacity: 5, refillPerSecond: 0.01 } });
  stops.push(limited.close);
  const flooder = new Browser(limited.api);
  const statuses = [];
  for (let i = 0; i < 8; i++) statuses.push((await flooder.job(getJob('x'))).status);
  assert.deepEqual(statuses, [404, 404, 404, 404, 404, 429, 429, 429]);
  const last = await flooder.job(getJob('x'));
  assert.equal(last.json.error.code, 'rate_limited');
  assert.ok(Number(last.headers.get('retry-after')) >= 1);
  assert.equal((await new Browser(limited.api).job(getJob('x'))).status, 404);
});

test('policy: training forbidden, epochs capped, models allowlisted', async () => {
  const noTraining = await startProxy({ endpoint: emulator.api, policy: { allowTraining: false } });
  stops.push(noTraining.close);
  const refused = await new Browser(noTraining.api).job(trainJob(emulator.origin, 'voice'));
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, 'forbidden_by_policy');

  const capped = await startProxy({ endpoint: emulator.api, policy: { maxTotalEpoch: 5, allowedModels: ['default'] } });
  stops.push(capped.close);
  const page = new Browser(capped.api);
  const tooMany = await page.job(trainJob(emulator.origin, 'voice', { totalEpoch: 6 }));
  assert.equal(tooMany.status, 403);
  assert.match(tooMany.json.error.issues[0].path, /totalEpoch$/);
  const unlisted = await page.job(generateWith('someone_else'));
  assert.equal(unlisted.status, 403);
  const defaulted = await page.job(trainJob(emulator.origin, 'capped_voice'));
  assert.equal(defaulted.status, 200, defaulted.body);
  assert.equal(defaulted.json.createJobResponse.job.outputs[0].smartContentDescriptor.singingCloning.totalEpoch, 5);
});

test('models are per identity by default: each sees and uses only its own', async () => {
  const alice = new Browser(proxy.api);
  const bob = new Browser(proxy.api);
  const trained = await alice.job(trainJob(emulator.origin, 'alice_voice'));
  assert.equal(trained.status, 200, trained.body);
  assert.equal(
    trained.json.createJobResponse.job.outputs[0].smartContentDescriptor.singingCloning.modelName,
    'alice_voice',
  );
  const done = await finished(alice, trained.json.createJobResponse.job.id);
  assert.equal(done.json.getJobResponse.job.state, 3, done.body);
  const listModels = { action: 'ListModels', listModelsRequest: { offset: 0, limit: 100, type: 2 } };
  const hers = await alice.post('/music_model', listModels);
  assert.equal(hers.status, 200, hers.body);
  assert.ok(
    hers.json.listModelsResponse.models.some((m) => m.name === 'alice_voice'),
    hers.body,
  );
  const his = await bob.post('/music_model', listModels);
  assert.ok(!his.json.listModelsResponse.models.some((m) => m.name.includes('alice_voice')), his.body);
  // Bob naming her model sings with a model of his own name, which does not exist.
  const borrowed = await bob.job(generateWith('alice_voice'));
  assert.notEqual(borrowed.status, 200);
});

test('an authenticate hook names the identity; without one the answer is 401', async () => {
  const users = await startProxy({
    endpoint: emulator.api,
    authenticate: async (request) => request.headers.get('authorization')?.replace(/^Bearer /, '') || null,
  });
  stops.push(users.close);
  const anonymous = await new Browser(users.api).job(getJob('x'));
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.json.error.code, 'unauthenticated');
  const laptop = new Browser(users.api, { headers: { authorization: 'Bearer carol' } });
  const phone = new Browser(users.api, { headers: { authorization: 'Bearer carol' } });
  const dave = new Browser(users.api, { headers: { authorization: 'Bearer dave' } });
  const created = await laptop.job(generateJob(emulator.origin, { customId: 'c' }));
  assert.equal(created.status, 200);
  assert.equal(created.headers.get('set-cookie'), null, 'no anonymous session with a hook');
  const id = created.json.createJobResponse.job.id;
  assert.equal((await phone.job(getJob(id))).status, 200);
  assert.equal((await dave.job(getJob(id))).status, 404);

  const broken = await startProxy({
    endpoint: emulator.api,
    authenticate: () => {
      throw new Error(`no ${SECRET_KEY}`);
    },
  });
  stops.push(broken.close);
  const failed = await new Browser(broken.api).job(getJob('x'));
  assert.equal(failed.status, 500);
  assert.equal(failed.json.error.code, 'authenticate_failed');
});

test('an upstream that does not answer in time gets 504; one that cannot be reached 502', async () => {
  const hanging = await startServer(() => 'hang');
  stops.push(hanging.close);
  const slow = await startProxy({ endpoint: `${hanging.url}/release`, upstreamTimeoutMs: 300 });
  stops.push(slow.close);
  const started = Date.now();
  const answer = await new Browser(slow.api).job(getJob('x'));
  assert.equal(answer.status, 504);
  assert.equal(answer.json.error.code, 'upstream_timeout');
  assert.ok(Date.now() - started < 5000);

  const gone = await startProxy({ endpoint: 'http://127.0.0.1:9/release' });
  stops.push(gone.close);
  const unreachable = await new Browser(gone.api).job(getJob('x'));
  assert.equal(unreachable.status, 502);
  assert.equal(unreachable.json.error.code, 'upstream_unreachable');
});

test('no URL, path or header of the client reaches the upstream; an echoing upstream leaks nothing', async () => {
  const echo = await startServer((_req, body) => {
    const parsed = JSON.parse(body);
    if (parsed.action === 'GetJob') {
      return {
        status: 401,
        body: JSON.stringify({
          requestId: 'r1',
          error: {
            code: 'AuthFailure',
            message: `secretKey ${parsed.secretKey} does not match secretId ${parsed.secretId}`,
          },
          echo: parsed,
          escaped: JSON.stringify(parsed),
          url: `https://x/?k=${encodeURIComponent(parsed.secretKey)}`,
        }),
      };
    }
    if (parsed.action === 'ListJobs') {
      return {
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: `<html><script>alert(1)</script>${body}</html>`,
      };
    }
    return {
      status: 200,
      body: JSON.stringify({ requestId: 'r2', listModelsResponse: { total: 0, models: [] }, debug: body }),
    };
  });
  stops.push(echo.close);
  const echoing = await startProxy({ endpoint: `${echo.url}/release`, models: 'shared' });
  stops.push(echoing.close);
  const page = new Browser(echoing.api, {
    headers: { 'x-emulator-fault': '500', 'x-forwarded-host': 'evil.example', authorization: 'Bearer t' },
  });
  const auth = await page.job(getJob('x'));
  assert.equal(auth.status, 401, 'the upstream status passes through');
  assert.equal(auth.json.error.code, 'AuthFailure');
  assert.deepEqual(leakedIn(auth.body + JSON.stringify([...auth.headers])), []);
  assert.match(auth.json.error.message, /\[redacted\]/);
  const html = await page.job(listJobs('a'));
  assert.equal(html.status, 502);
  // An HTML page is not passed on at all (it never runs on the proxy's origin): a neutral error replaces it.
  assert.match(html.headers.get('content-type'), /^application\/json/);
  assert.equal(html.json.error.code, 'upstream_not_json');
  assert.ok(!html.body.includes('<script>'));
  assert.deepEqual(leakedIn(html.body), []);
  const models = await page.post('/music_model?target=http://evil.example', {
    action: 'ListModels',
    listModelsRequest: { offset: 0, limit: 10, type: 2 },
  });
  assert.equal(models.status, 200);
  assert.deepEqual(leakedIn(models.body), []);

  for (const got of echo.received) {
    assert.ok(['/release/job', '/release/music_model'].includes(got.url), got.url);
    assert.equal(got.headers['x-emulator-fault'], undefined);
    assert.equal(got.headers['x-forwarded-host'], undefined);
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.headers.cookie, undefined);
    assert.match(got.headers['content-type'], /^application\/json/);
    const body = JSON.parse(got.body);
    assert.equal(body.secretId, SECRET_ID);
    assert.equal(body.secretKey, SECRET_KEY);
  }
});

const gatewaySigningTitle =
  'API gateway signing: node:crypto recomputes the signature, and a pinned clock gives a worked example';
test(gatewaySigningTitle, async (t) => {
  const gatewayUpstream = await startServer(() => ({
    status: 200,
    body: JSON.stringify({ requestId: 'r', getJobResponse: { job: { id: 'x', state: 1, customId: 'not-yours' } } }),
  }));
  stops.push(gatewayUpstream.close);
  const source = 'singing-cloning-tests';
  const signed = await startProxy({
    endpoint: `${gatewayUpstream.url}/release`,
    gateway: { secretId: GATEWAY_ID, secretKey: GATEWAY_KEY, source },
  });
  stops.push(signed.close);
  const authorization = /^hmac id="([^"]*)", algorithm="([^"]*)", headers="([^"]*)", signature="([^"]*)"$/;

  // Live: the signature over what the upstream received, recomputed with node:crypto.
  const before = Date.now();
  await new Browser(signed.api).job(getJob('x'));
  const got = gatewayUpstream.received.at(-1);
  const date = got.headers['x-date'];
  assert.match(
    date,
    new RegExp(
      String.raw`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} ` +
        String.raw`(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$`,
    ),
  );
  assert.ok(Math.abs(Date.parse(date) - before) < 60_000);
  assert.equal(date, new Date(Date.parse(date)).toUTCString(), 'the same format as toUTCString');
  assert.equal(got.headers.source, source);
  const [, id, algorithm, headers, signature] = got.headers.authorization.match(authorization) ?? [];
  assert.equal(id, GATEWAY_ID);
  assert.equal(algorithm, 'hmac-sha1');
  assert.equal(headers, 'x-date source', 'the signed headers, in the order signed');
  const expected = createHmac('sha1', GATEWAY_KEY)
    .update(`x-date: ${got.headers['x-date']}\nsource: ${got.headers.source}`)
    .digest('base64');
  assert.equal(signature, expected);

  // Worked example: the proxy's clock (Date.now, read by the WebAssembly) pinned, the whole
  // header compared with a literal computed apart from Node and the SDK, by OpenSSL:
  //   printf 'x-date: Tue, 31 Dec 2024 23:59:59 GMT\nsource: singing-cloning-tests' \
  //     | openssl dgst -sha1 -hmac gw-key-secret-77bb -binary | base64
  // The milliseconds are dropped, not rounded up into the next year.
  t.mock.method(Date, 'now', () => Date.UTC(2024, 11, 31, 23, 59, 59, 999));
  await new Browser(signed.api).job(getJob('x'));
  t.mock.restoreAll();
  const pinned = gatewayUpstream.received.at(-1);
  assert.equal(pinned.headers['x-date'], 'Tue, 31 Dec 2024 23:59:59 GMT');
  assert.equal(pinned.headers.source, 'singing-cloning-tests');
  assert.equal(
    pinned.headers.authorization,
    'hmac id="AKIDgatewayTest55aa", algorithm="hmac-sha1", headers="x-date source", ' +
      'signature="mlUzIRO6EVP/7P2PAONvhbxN424="',
  );
  assert.equal(gatewayUpstream.received.length, 2);
});

test('a wrong config throws a validation error naming each field', () => {
  assert.throws(
    () =>
      createProxyHandler({ endpoint: 'ftp://x', secretId: '', allowedOrigins: 'https://a', maxDepth: 99, bogus: 1 }),
    (e) => {
      assert.equal(e.name, 'SingingCloningError');
      assert.equal(e.code, 'validation');
      const paths = e.issues.map((i) => i.path);
      for (const p of [
        'config.endpoint',
        'config.secretId',
        'config.secretKey',
        'config.proxySecret',
        'config.allowedOrigins',
        'config.maxDepth',
        'config.bogus',
      ]) {
        assert.ok(paths.includes(p), `${p} in ${paths}`);
      }
      return true;
    },
  );
  assert.throws(
    () => createProxyHandler(null),
    (e) => e.code === 'validation',
  );
  assert.throws(
    () => createProxyHandler({ authenticate: 'yes' }),
    (e) => e.issues.some((i) => i.path === 'config.authenticate'),
  );
});

test('leak scan: neither secret appears in any response of this suite', () => {
  assert.ok(seen.length > 50, `only ${seen.length} responses recorded`);
  const leaks = seen.flatMap((r) =>
    leakedIn(r.body + r.headers).map((secret) => `${r.where} (${r.status}) shows ${secret.slice(0, 4)}…`),
  );
  // The forwarded webhooks too: they leave the proxy as well.
  const hooks = receiver.received.flatMap((r) => leakedIn(r.body + JSON.stringify(r.headers)));
  assert.deepEqual([...leaks, ...hooks], []);
  assert.ok(!PROXY_SECRET.includes(SECRET_ID));
});
