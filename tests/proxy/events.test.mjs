// Job events (`GET {prefix}/events`) in front of the emulator: a page's stream carries the
// state changes of its own jobs (the last one learned from the upstream's callback, which
// the proxy asks for on every CreateJob), never another identity's; a reconnect with
// `Last-Event-ID` gets what it missed; a keep-alive comment on a timer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Browser, PAGE_ORIGIN, generateJob, openEvents, startEmulator, startProxy, until } from './harness.mjs';

let emulator;
let proxy;
const stops = [];

before(async () => {
  emulator = await startEmulator();
  stops.push(emulator.stop);
  proxy = await startProxy({ endpoint: emulator.api, rateLimit: { capacity: 1000, refillPerSecond: 100 } });
  stops.push(proxy.close);
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

test("a page's stream carries its own job's changes, the last from the callback, and never another's", async () => {
  const ann = new Browser(proxy.api);
  const bob = new Browser(proxy.api);
  const anns = await openEvents(ann);
  // A page without a session gets one, as on every route, and the stream is its identity's.
  assert.ok(ann.cookie?.startsWith('sc_session='), 'a session is made at connect');
  const headers = anns.response.headers;
  assert.equal(headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.equal(headers.get('x-accel-buffering'), 'no');
  assert.equal(headers.get('access-control-allow-origin'), PAGE_ORIGIN);
  assert.equal(headers.get('access-control-allow-credentials'), 'true');
  const bobs = await openEvents(bob);

  const created = await ann.job(generateJob(emulator.origin, { customId: 'anns-song' }));
  assert.equal(created.status, 200, created.body);
  const job = created.json.createJobResponse.job;
  assert.equal(job.callback, undefined, 'the callback the proxy asked for is not the page’s');
  const upstream = (await emulator.admin('/admin/jobs')).jobs.find((j) => j.id === job.id);
  assert.ok(upstream.callback?.startsWith(`${proxy.api}/callbacks/`), 'asked for a callback without the page');

  // Ann never polls: the final state comes from the upstream's callback.
  const seen = await anns.untilCompleted(job.id);
  assert.equal(seen[0].job.status, 'SUBMITTED', 'from the CreateJob answer');
  assert.equal(seen.at(-1).job.status, 'COMPLETED');
  for (const event of seen) {
    assert.equal(event.event, 'job');
    assert.equal(event.job.customId, 'anns-song', 'unscoped, as the page sees the job');
    assert.equal(event.job.callback, undefined);
  }
  const states = seen.map((e) => e.job.state);
  assert.deepEqual(states, [...new Set(states)], 'one event per state');
  const ids = anns.events.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');

  // Bob's own job reaches Bob, never Ann; Ann's never reaches Bob.
  const bobsJob = (await bob.job(generateJob(emulator.origin, { customId: 'bobs-song' }))).json.createJobResponse.job;
  await bobs.untilCompleted(bobsJob.id);
  // Another job of Ann's after Bob's finished: when it arrives, Bob's would have too.
  const later = (await ann.job(generateJob(emulator.origin))).json.createJobResponse.job;
  await anns.untilCompleted(later.id);
  assert.deepEqual(anns.of(bobsJob.id), []);
  assert.ok(
    anns.events.every((e) => [job.id, later.id].includes(e.job.id)),
    'only Ann’s jobs',
  );
  assert.ok(
    bobs.events.every((e) => e.job.id === bobsJob.id),
    'only Bob’s job',
  );
  await anns.close();
  await bobs.close();
});

test('a reconnect with Last-Event-ID gets what it missed; an unknown id gets everything buffered', async () => {
  const page = new Browser(proxy.api);
  const first = await openEvents(page);
  const job = (await page.job(generateJob(emulator.origin, { customId: 'replayed' }))).json.createJobResponse.job;
  const all = await first.untilCompleted(job.id);
  await first.close();
  assert.ok(all.length >= 2, JSON.stringify(all));

  const again = await openEvents(page, { 'last-event-id': all[0].id });
  await until(
    () => again.events,
    (events) => events.length >= all.length - 1,
  );
  assert.deepEqual(
    again.events.map((e) => e.id),
    all.slice(1).map((e) => e.id),
    'the events after the last one seen, in order',
  );
  assert.deepEqual(again.events.at(-1).job, all.at(-1).job);
  await again.close();

  const unknown = await openEvents(page, { 'last-event-id': '1-999999' });
  await until(
    () => unknown.events,
    (events) => events.length >= all.length,
  );
  assert.deepEqual(
    unknown.events.map((e) => e.id),
    all.map((e) => e.id),
  );
  await unknown.close();

  // Another identity gets nothing of it, whatever id it names.
  const stranger = await openEvents(new Browser(proxy.api), { 'last-event-id': all[0].id });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(stranger.events, []);
  await stranger.close();
});

const heartbeatTitle =
  'a keep-alive comment comes on the configured heartbeat; the stream ends cleanly when the client goes';
test(heartbeatTitle, async () => {
  const quick = await startProxy({ endpoint: emulator.api, eventsHeartbeatMs: 50 });
  try {
    const page = new Browser(quick.api);
    const stream = await openEvents(page);
    await until(
      () => stream.comments,
      (comments) => comments.length >= 3,
      5000,
    );
    assert.ok(stream.comments.every((c) => c === ': keep-alive'));
    assert.deepEqual(stream.events, []);
    await stream.close();
    // With the client gone the proxy's timer stops (an interval left running would also keep
    // this test's process from ending): another stream still works.
    const next = await openEvents(page);
    await until(
      () => next.comments,
      (comments) => comments.length >= 1,
      5000,
    );
    await next.close();
  } finally {
    await quick.close();
  }
});

test('events follow the rules of every route: origin, method, identity; 8 streams per identity', async () => {
  const foreign = await openEvents(new Browser(proxy.api, { origin: 'http://evil.example' }));
  assert.equal(foreign.response.status, 403);
  const posted = await fetch(`${proxy.api}/events`, { method: 'POST', headers: { origin: PAGE_ORIGIN } });
  assert.equal(posted.status, 405);
  assert.equal(posted.headers.get('allow'), 'GET, OPTIONS');
  await posted.body?.cancel();
  // At most 8 streams per identity; one closed makes room.
  const page = new Browser(proxy.api);
  const streams = [];
  for (let i = 0; i < 8; i++) streams.push(await openEvents(page));
  assert.ok(streams.every((s) => s.response.status === 200));
  const ninth = await openEvents(page);
  assert.equal(ninth.response.status, 429);
  assert.equal(JSON.parse(ninth.text).error.code, 'rate_limited');
  assert.equal(ninth.response.headers.get('retry-after'), '15');
  await streams.pop().close();
  await until(
    async () => {
      const next = await openEvents(page);
      if (next.response.status === 200) streams.push(next);
      return next.response.status;
    },
    (status) => status === 200,
    5000,
  );
  for (const stream of streams) await stream.close();
  const hooked = await startProxy({ endpoint: emulator.api, authenticate: (r) => r.headers.get('x-user') });
  try {
    const nobody = await openEvents(new Browser(hooked.api));
    assert.equal(nobody.response.status, 401);
    const named = await openEvents(new Browser(hooked.api), { 'x-user': 'ann' });
    assert.equal(named.response.status, 200);
    assert.equal(named.response.headers.get('set-cookie'), null, 'a hook’s identity needs no session');
    await named.close();
  } finally {
    await hooked.close();
  }
});
