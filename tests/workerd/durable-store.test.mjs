// js/proxy-durable.js in process, where the test can do what workerd's config cannot: restart the
// object under open listens. A namespace of real ProxyState objects stands in for a Durable
// Object namespace (each stub fetch a Request to the object; its `/listen` bodies cut when the
// object restarts). The `.wasm` import is given as a compiled module, as workerd gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'node:module';

import { until } from '../proxy/harness.mjs';

const LOADER = `
export async function load(url, context, next) {
  if (!url.endsWith('.wasm')) return next(url, context);
  const source = 'import { readFileSync } from "node:fs";' +
    'export default new WebAssembly.Module(readFileSync(new URL(' + JSON.stringify(url) + ')));';
  return { format: 'module', shortCircuit: true, source };
}`;
register(`data:text/javascript,${encodeURIComponent(LOADER)}`);
const { ProxyState, durableStore } = await import('../../js/proxy-durable.js');

/** A Durable Object namespace of ProxyState objects: `restart(name)` replaces one, cutting its open connections. */
function namespace() {
  const objects = new Map();
  const stats = { listens: 0 };
  const object = (name) => {
    if (!objects.has(name)) objects.set(name, { state: new ProxyState(), cut: new AbortController() });
    return objects.get(name);
  };
  return {
    stats,
    object: (name) => object(name).state,
    restart(name) {
      object(name).cut.abort();
      objects.delete(name);
    },
    idFromName: (name) => ({ name }),
    get: (id) => ({
      async fetch(url, init = {}) {
        const { state, cut } = object(id.name);
        if (init.signal?.aborted) throw init.signal.reason;
        if (url.includes('/listen')) stats.listens++;
        const response = await state.fetch(new Request(url, { method: init.method, body: init.body }));
        if (!response.body) return response;
        // The connection: cut by a restart, or by the caller's signal.
        const signal = AbortSignal.any([cut.signal, ...(init.signal ? [init.signal] : [])]);
        const body = response.body.pipeThrough(new TransformStream(), { signal });
        return new Response(body, { status: response.status, headers: response.headers });
      },
    }),
  };
}

const take = (key) => JSON.stringify({ op: 'take', key, capacity: 2, refillPerSecond: 0.001 });
const record = (scope, id, state) => JSON.stringify({ op: 'record', scope, job: JSON.stringify({ id, state }) });

test('run: each operation runs in the one object, whichever store asks', async () => {
  const objects = namespace();
  const [one, two] = [durableStore(objects), durableStore(objects)];
  const outcomes = [];
  for (const store of [one, two, one]) outcomes.push(JSON.parse(await store.run(take('identity:a'))).outcome);
  assert.deepEqual(outcomes, ['allowed', 'allowed', 'refused']);
  // Another name is another object, another state.
  assert.equal(JSON.parse(await durableStore(objects, 'other').run(take('identity:a'))).outcome, 'allowed');
});

test('run: rejects when the object fails or refuses the operation', async () => {
  const down = {
    idFromName: () => ({}),
    get: () => ({
      fetch: async () => {
        throw new Error('Durable Object reset');
      },
    }),
  };
  await assert.rejects(durableStore(down).run(take('k')));
  await assert.rejects(durableStore(namespace()).run('{"op":"explode"}'), /answered 400/);
});

test('listen: every event of the scope once, again after the object restarts, none after abort', async () => {
  const objects = namespace();
  const store = durableStore(objects);
  const seen = [];
  const controller = new AbortController();
  // Recorded just before the listen opens: the overlap carries it (the stream's cursor drops repeats).
  await store.run(record('s', 'early', 1));
  store.listen('s', (event) => seen.push(JSON.parse(event)), controller.signal);
  await until(
    () => seen.length,
    (n) => n === 1,
  );
  assert.equal(JSON.parse(seen[0].data).id, 'early');
  await durableStore(objects).run(record('s', 'j', 1));
  await durableStore(objects).run(record('other', 'j', 1));
  await durableStore(objects).run(record('s', 'j', 1)); // the same state: no event
  await durableStore(objects).run(record('s', 'j', 2));
  await until(
    () => seen.length,
    (n) => n === 3,
  );
  assert.deepEqual(
    seen.map((e) => JSON.parse(e.data).state),
    [1, 1, 2],
  );
  assert.deepEqual(
    seen.map((e) => e.seq),
    [1, 2, 4],
    'numbered by the one object',
  );
  // A second listen gets the recent events; the first does not get them again.
  const second = [];
  const secondController = new AbortController();
  store.listen('s', (event) => second.push(JSON.parse(event)), secondController.signal);
  await until(
    () => second.length,
    (n) => n === 3,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(seen.length, 3, 'no repeats for the first');
  secondController.abort();

  const listens = objects.stats.listens;
  objects.restart('singing-cloning');
  await until(
    () => objects.stats.listens,
    (n) => n === listens + 1,
    5000,
  );
  await until(
    () => objects.object('singing-cloning').listeners.size,
    (n) => n === 1,
  );
  await durableStore(objects).run(record('s', 'after', 1));
  await until(
    () => seen.length,
    (n) => n === 4,
  );
  assert.equal(JSON.parse(seen[3].data).id, 'after');

  controller.abort();
  await until(
    () => objects.object('singing-cloning').listeners.size,
    (n) => n === 0,
  );
  await durableStore(objects).run(record('s', 'late', 1));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(seen.length, 4, 'nothing after the abort');
  assert.equal(objects.stats.listens, listens + 1, 'not opened again');
});

/**
 * A Durable Object's `state` whose storage is a sorted map, as Cloudflare's: `list` by prefix
 * and exclusive end, `put`, `delete` of a key list; `blockConcurrencyWhile` is the constructor's wait.
 */
function durableState(entries = new Map()) {
  let ready = Promise.resolve();
  const inRange = (key, { prefix = '', end }) => key.startsWith(prefix) && (end === undefined || key < end);
  return {
    entries,
    ready: () => ready,
    blockConcurrencyWhile(run) {
      ready = run();
      return ready;
    },
    storage: {
      async list(options) {
        return new Map([...entries].filter(([key]) => inRange(key, options)).sort(([a], [b]) => (a < b ? -1 : 1)));
      },
      async put(key, value) {
        entries.set(key, structuredClone(value));
      },
      async delete(keys) {
        for (const key of keys) entries.delete(key);
      },
    },
  };
}

const claim = (key) => JSON.stringify({ op: 'claim', set: 'delivered', key, pending: false });
const settle = (key) => JSON.stringify({ op: 'settle', set: 'create', key, value: 'the-answer' });
const outcomeOf = async (state, op) =>
  (await state.fetch(new Request('https://s/run', { method: 'POST', body: op }))).json();

test('storage: a new object runs the log again; what is older than a week is dropped, buckets start full', async () => {
  const state = durableState();
  const first = new ProxyState(state);
  await state.ready();
  assert.equal((await outcomeOf(first, claim('job-1'))).outcome, 'claimed');
  assert.equal((await outcomeOf(first, settle('create-1'))).outcome, 'done');
  for (let i = 0; i < 2; i++) assert.equal((await outcomeOf(first, take('identity:a'))).outcome, 'allowed');
  assert.equal((await outcomeOf(first, take('identity:a'))).outcome, 'refused');
  // Only the claims went to storage, each with its time.
  const logged = [...state.entries.values()];
  assert.deepEqual(
    logged.map((entry) => JSON.parse(entry.op).op),
    ['claim', 'settle'],
  );
  assert.ok(logged.every((entry) => Math.abs(entry.atMs - Date.now()) < 5000));
  // A claim eight days old, as an object evicted long ago left it.
  const eightDaysAgo = Date.now() - 8 * 86_400_000;
  state.entries.set(`log:${String(eightDaysAgo).padStart(16, '0')}:0`, { op: claim('job-old'), atMs: eightDaysAgo });
  // And one this version cannot read: passed over.
  state.entries.set(`log:${String(Date.now()).padStart(16, '0')}:9`, { op: '{"op":"unknown"}', atMs: Date.now() });

  const second = new ProxyState(state);
  await state.ready();
  assert.deepEqual(await outcomeOf(second, claim('job-1')), { outcome: 'held', value: null }, 'delivered: still');
  const create = JSON.stringify({ op: 'claim', set: 'create', key: 'create-1', pending: true });
  assert.deepEqual(await outcomeOf(second, create), { outcome: 'held', value: 'the-answer' });
  assert.equal((await outcomeOf(second, claim('job-old'))).outcome, 'claimed', 'past a week: forgotten');
  assert.ok(![...state.entries.values()].some((entry) => entry.atMs === eightDaysAgo), 'and deleted');
  assert.equal((await outcomeOf(second, take('identity:a'))).outcome, 'allowed', 'a bucket starts full');
});

test('storage: operations of one millisecond run again in the order they ran', async (t) => {
  // Eleven operations at one instant: the tenth claims, the eleventh releases (a failed delivery).
  const now = Date.now();
  t.mock.method(Date, 'now', () => now);
  const state = durableState();
  const first = new ProxyState(state);
  await state.ready();
  for (let i = 0; i < 9; i++) await outcomeOf(first, claim(`filler-${i}`));
  assert.equal((await outcomeOf(first, claim('job-z'))).outcome, 'claimed');
  const release = JSON.stringify({ op: 'release', set: 'delivered', key: 'job-z' });
  assert.equal((await outcomeOf(first, release)).outcome, 'done');
  const second = new ProxyState(state);
  await state.ready();
  assert.equal((await outcomeOf(second, claim('job-z'))).outcome, 'claimed', 'released, as before the restart');
  assert.equal((await outcomeOf(second, claim('filler-3'))).outcome, 'held');
});

test('storage: an object that lives long drops entries past a week as it goes', async (t) => {
  let now = Date.now();
  t.mock.method(Date, 'now', () => now);
  const state = durableState();
  const object = new ProxyState(state);
  await state.ready();
  await outcomeOf(object, claim('job-a'));
  const [kept] = state.entries.keys();
  // Eight days on, never restarted: the next lasting operation prunes job-a's entry, past a week.
  now += 8 * 86_400_000;
  await outcomeOf(object, claim('job-b'));
  // The prune is not awaited by the answer: given a moment (Date.now stands still here, so no `until`).
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(!state.entries.has(kept), "job-a's entry is deleted");
  assert.equal(state.entries.size, 1, "job-b's entry stays");
});
