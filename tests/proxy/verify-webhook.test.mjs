// verifyWebhook, as a receiver of the proxy's callbacks uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

import { verifyWebhook } from '../../js/proxy.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const key = Buffer.from(secret.slice(6), 'base64');

function sign(id, timestamp, body, withKey = key) {
  return `v1,${createHmac('sha256', withKey).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

function message(body = '{"id":"job-1","state":3}', timestamp = Math.floor(Date.now() / 1000)) {
  return {
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign('msg_1', timestamp, body),
    },
    body,
  };
}

const faultAt = (path) => (e) =>
  e.name === 'SingingCloningError' && e.code === 'validation' && e.issues[0].path === path;

test('accepts a signed message and returns its payload', () => {
  assert.deepEqual(verifyWebhook(message(), secret), { id: 'job-1', state: 3 });
  const m = message();
  assert.deepEqual(verifyWebhook({ headers: new Headers(m.headers), body: new TextEncoder().encode(m.body) }, secret), {
    id: 'job-1',
    state: 3,
  });
  const upper = Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k.toUpperCase(), v]));
  assert.deepEqual(verifyWebhook({ headers: upper, body: m.body }, secret).id, 'job-1');
  // Several signatures (a key rotation): one must match.
  m.headers['webhook-signature'] = `v1,AAAA ${m.headers['webhook-signature']}`;
  assert.equal(verifyWebhook(m, secret).state, 3);
});

test('the reference example of Standard Webhooks', () => {
  const body = '{"test": 2432232314}';
  const headers = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const tolerance = Math.ceil(Date.now() / 1000 - 1614265330) + 10;
  assert.deepEqual(verifyWebhook({ headers, body }, secret, { toleranceSeconds: tolerance }), { test: 2432232314 });
  assert.throws(() => verifyWebhook({ headers, body }, secret), faultAt('headers.webhook-timestamp'));
});

test('refuses tampered, re-signed, stale and incomplete messages', () => {
  const m = message();
  assert.throws(
    () => verifyWebhook({ ...m, body: m.body.replace('3', '4') }, secret),
    faultAt('headers.webhook-signature'),
  );
  assert.throws(
    () => verifyWebhook(m, `whsec_${Buffer.from('another key').toString('base64')}`),
    faultAt('headers.webhook-signature'),
  );
  const old = message(undefined, Math.floor(Date.now() / 1000) - 301);
  assert.throws(() => verifyWebhook(old, secret), faultAt('headers.webhook-timestamp'));
  assert.equal(verifyWebhook(old, secret, { toleranceSeconds: 600 }).id, 'job-1');
  const future = message(undefined, Math.floor(Date.now() / 1000) + 400);
  assert.throws(() => verifyWebhook(future, secret), faultAt('headers.webhook-timestamp'));
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const { [name]: _, ...rest } = m.headers;
    assert.throws(() => verifyWebhook({ headers: rest, body: m.body }, secret), faultAt(`headers.${name}`));
  }
  assert.throws(() => verifyWebhook(m, ''), faultAt('secret'));
  assert.throws(() => verifyWebhook(null, secret), faultAt('message'));
  assert.throws(() => verifyWebhook({ headers: m.headers, body: 42 }, secret), faultAt('body'));
  assert.throws(() => verifyWebhook(m, secret, { toleranceSeconds: -1 }), faultAt('options.toleranceSeconds'));
  const notJson = message('plain text');
  assert.throws(() => verifyWebhook(notJson, secret), faultAt('body'));
});

test('a secret without the whsec_ prefix is used as its UTF-8 bytes', () => {
  const body = '{"a":1}';
  const ts = Math.floor(Date.now() / 1000);
  const headers = {
    'webhook-id': 'm',
    'webhook-timestamp': String(ts),
    'webhook-signature': sign('m', ts, body, Buffer.from('plain-secret')),
  };
  assert.deepEqual(verifyWebhook({ headers, body }, 'plain-secret'), { a: 1 });
});
