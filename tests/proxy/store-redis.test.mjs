// The Redis store (js/store-redis.js, Lua scripts) against the proxy's own memory store
// (src/proxy/shared.rs, the `MemoryStore` of the edge build): two implementations of the
// same operations, written apart, must give the same outcomes for the same sequence of
// operations, on a real redis-server. Seeded random sequences over a few keys, so that
// buckets run dry, claims collide and events repeat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import '../../js/proxy.js'; // loads the edge build's WebAssembly
import { MemoryStore } from '../../pkg/singing_cloning_edge.js';
import { redisStore } from '../../js/store-redis.js';
import { freePort, startRedis } from './harness.mjs';

let redis;
let port;

before(async () => {
  port = await freePort();
  redis = await startRedis(port);
});

after(async () => {
  await redis?.stop();
});

/** A small seeded generator (mulberry32), so that a failure can be run again. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random operation over a few keys. Buckets refill too slowly for the clocks to matter. */
function randomOp(random) {
  const pick = (items) => items[Math.floor(random() * items.length)];
  const key = pick(['a', 'b', 'c']);
  const set = pick(['create', 'delivered']);
  const day = 20_000 + Math.floor(random() * 2);
  switch (pick(['take', 'claim', 'settle', 'release', 'quota', 'record', 'record', 'replay'])) {
    case 'take':
      return { op: 'take', key: `identity:${key}`, capacity: 3, refillPerSecond: 1e-9 };
    case 'claim':
      return { op: 'claim', set, key, pending: set === 'create' };
    case 'settle':
      return { op: 'settle', set, key, value: `answer ${Math.floor(random() * 5)}` };
    case 'release':
      return { op: 'release', set, key };
    case 'quota':
      return { op: 'quota', key, day, size: Math.floor(random() * 400), maxCount: 4, maxBytes: 1000 };
    case 'record': {
      const job = { id: `job-${key}`, state: 1 + Math.floor(random() * 3), customId: 'song' };
      return { op: 'record', scope: pick(['uaaaaaaaaaaa_', 'ubbbbbbbbbbb_']), job: JSON.stringify(job) };
    }
    default:
      return { op: 'replay', scope: pick(['uaaaaaaaaaaa_', 'ubbbbbbbbbbb_']), lastEventId: null };
  }
}

/**
 * An outcome with what may differ between two stores taken out: event ids and times (each
 * store has its own epoch and clock), and the seconds a quota waits (the clock's).
 */
function comparable(outcome) {
  const parsed = JSON.parse(outcome);
  if (parsed.outcome === 'refused' && parsed.waitS > 1) parsed.waitS = 'until tomorrow';
  if (parsed.events) parsed.events = parsed.events.map(({ seq, data }) => ({ seq, data: JSON.parse(data) }));
  return parsed;
}

test('the Redis store and the memory store give the same outcomes', async () => {
  for (const seed of [1, 2, 3, 4]) {
    const memory = new MemoryStore();
    const shared = redisStore(`redis://127.0.0.1:${port}`, { keyPrefix: `diff-${seed}:` });
    try {
      const random = generator(seed);
      // Today's UTC day for the quota's days, so that neither store starts a new day midway.
      const today = Math.floor(Date.now() / 86_400_000);
      for (let i = 0; i < 400; i++) {
        const op = randomOp(random);
        if (op.op === 'quota') op.day = today;
        const text = JSON.stringify(op);
        const expected = comparable(memory.run(text));
        const got = comparable(await shared.run(text));
        assert.deepEqual(got, expected, `seed ${seed}, operation ${i}: ${text}`);
      }
    } finally {
      memory.free();
      await shared.close();
    }
  }
});

test('an event recorded by one proxy reaches a listener of another, and only for its scope', async () => {
  const url = `redis://127.0.0.1:${port}`;
  const [one, two] = [redisStore(url, { keyPrefix: 'listen:' }), redisStore(url, { keyPrefix: 'listen:' })];
  try {
    const heard = [];
    const controller = new AbortController();
    two.listen('uaaaaaaaaaaa_', (event) => heard.push(JSON.parse(event)), controller.signal);
    // The subscription is made asynchronously: record until it is heard.
    let recorded;
    for (let state = 1; heard.length === 0 && state < 50; state++) {
      const job = JSON.stringify({ id: 'j', state });
      await one.run(JSON.stringify({ op: 'record', scope: 'ubbbbbbbbbbb_', job }));
      recorded = JSON.parse(await one.run(JSON.stringify({ op: 'record', scope: 'uaaaaaaaaaaa_', job })));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(heard.length > 0, 'heard');
    assert.deepEqual(heard.at(-1), recorded.events[0]);
    assert.ok(heard.every((e) => JSON.parse(e.data).id === 'j'));
    controller.abort();
    const count = heard.length;
    await one.run(
      JSON.stringify({ op: 'record', scope: 'uaaaaaaaaaaa_', job: JSON.stringify({ id: 'j', state: 99 }) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(heard.length, count, 'nothing after the signal');
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test('an unreachable Redis rejects at once', async () => {
  const store = redisStore('redis://127.0.0.1:1');
  try {
    const started = Date.now();
    await assert.rejects(store.run(JSON.stringify({ op: 'release', set: 'create', key: 'k' })));
    assert.ok(Date.now() - started < 2500, 'no offline queue');
  } finally {
    await store.close();
  }
});
