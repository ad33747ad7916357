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
