// Item 8, events: how soon a page notices that its job ended, and with how many requests,
// measured for real: the emulator (`--job-ms 1000`) calls back our proxy (its own process,
// bench/events-proxy.mjs, which notes when each callback arrives), and clients in this process,
// each a page of its own (its own session cookie), wait four ways on jobs of their own:
// `waitForJob` over the proxy's event stream, `client.events()` alone, today's `waitForJob`
// polling (1 s doubling to 10 s: the client is told the route is missing), and fixed 500 ms
// polling. Delay = when the waiter noticed COMPLETED minus when the upstream's callback reached
// the proxy (the same machine's clock; a poll can read the end just before the callback lands,
// so a delay can be below zero). Requests = every request the page sent for its job.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SingingCloningClient } from '../js/node.js';
import { ROOT } from './weight.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { fmt, met, quantile, summary, spread, table } from './lib/stats.mjs';

const GOAL_P95_MS = 250;
const GOAL_REQUESTS = 3;
const JOB_MS = 1000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The proxy's process; resolves with its API address, the callbacks' arrival times and `stop`. */
async function startProxy(emulator) {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bench/events-proxy.mjs'), emulator.api, emulator.secretId, emulator.secretKey],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const arrivals = new Map();
  const waiting = new Map();
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the events proxy did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the events proxy exited with ${code}`)));
    lines.on('line', (line) => {
      const started = /^events proxy listening on (\S+)/.exec(line);
      if (started) {
        clearTimeout(timer);
        resolve(started[1]);
      }
      if (!line.startsWith('callback ')) return;
      const { id, state, at } = JSON.parse(line.slice('callback '.length));
      if (state !== 3) return;
      arrivals.set(id, at);
      waiting.get(id)?.(at);
    });
  });
  /** When the callback of job `id`'s completion reached the proxy (waits for its line). */
  const arrival = (id) =>
    arrivals.has(id)
      ? arrivals.get(id)
      : Promise.race([
          new Promise((resolve) => waiting.set(id, resolve)),
          sleep(30_000).then(() => Promise.reject(new Error(`no callback for job ${id}`))),
        ]);
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { api: `${url}/api/singing-cloning`, arrival, stop };
}

/**
 * A page: a client of the proxy whose fetch keeps the session cookie and counts what it sends;
 * with `noEvents`, the events route answers 404 here, unsent (the page then polls as before).
 */
function page(api, { noEvents = false } = {}) {
  let cookie;
  let opened;
  const sent = [];
  const connected = new Promise((resolve) => (opened = resolve));
  const fetchEvents = async (request) => {
    if (noEvents && request.url.endsWith('/events')) return new Response('not found', { status: 404 });
    sent.push(`${request.method} ${new URL(request.url).pathname}`);
    const headers = new Headers(request.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(new Request(request, { headers }));
    const set = response.headers.getSetCookie();
    if (set.length) cookie = set[0].split(';')[0];
    if (request.url.endsWith('/events')) opened();
    return response;
  };
  return { client: new SingingCloningClient({ endpoint: api, fetch: fetchEvents }), sent, connected };
}

const WAITERS = [
  {
    id: 'stream',
    name: '`waitForJob` over the event stream (this change)',
    async wait(p, create) {
      const job = await create();
      const done = await p.client.waitForJob(job.id);
      return { job, done, at: now() };
    },
  },
  {
    id: 'events',
    name: '`client.events()` alone: the `job` event itself, no confirming read',
    async wait(p, create) {
      const events = p.client.events();
      const first = events.next();
      await p.connected;
      const job = await create();
      for (let next = await first; ; next = await events.next()) {
        if (next.value.id === job.id && next.value.status === 'COMPLETED') {
          const at = now();
          await events.return();
          return { job, done: next.value, at };
        }
      }
    },
  },
  {
    id: 'backoff',
    name: '`waitForJob` polling, as before (1 s doubling to 10 s; the route missing)',
    noEvents: true,
    async wait(p, create) {
      const job = await create();
      const done = await p.client.waitForJob(job.id);
      return { job, done, at: now() };
    },
  },
  {
    id: 'fixed',
    name: 'fixed 500 ms polling (`getJob`, then 500 ms, until the end)',
    async wait(p, create) {
      const job = await create();
      for (;;) {
        const done = await p.client.getJob(job.id);
        if (['COMPLETED', 'ERROR', 'CANCELED'].includes(done.status)) return { job, done, at: now() };
        await sleep(500);
      }
    },
  },
];

export async function run({ quick = false } = {}) {
  const rounds = quick ? 2 : 12;
  const emulator = await startEmulator(['--job-ms', String(JOB_MS)]);
  const proxy = await startProxy(emulator).catch(async (error) => {
    await emulator.stop();
    throw error;
  });
  const results = Object.fromEntries(WAITERS.map((w) => [w.id, []]));
  try {
    const body = {
      inputs: [{ url: `${emulator.origin}/cos/samples/song.wav` }],
      outputs: [
        {
          contentId: 'results',
          destination: '/out',
          inputSelectors: [0],
          smartContentDescriptor: { singingCloning: { type: 1, modelName: 'default' } },
        },
      ],
    };
    for (let round = 0; round < rounds; round++) {
      // One job per waiter at a time, all four at once.
      await Promise.all(
        WAITERS.map(async (waiter) => {
          const p = page(proxy.api, waiter);
          const { job, done, at } = await waiter.wait(p, () => p.client.createJob(body));
          if (done.status !== 'COMPLETED') throw new Error(`${waiter.id}: the job ended ${done.status}`);
          results[waiter.id].push({ delayMs: at - (await proxy.arrival(job.id)), requests: p.sent.length });
        }),
      );
    }
  } finally {
    await proxy.stop();
    await emulator.stop();
  }
  const rows = [];
  const figures = {};
  for (const waiter of WAITERS) {
    const r = results[waiter.id];
    const delays = r.map((x) => x.delayMs);
    const requests = summary(r.map((x) => x.requests));
    figures[waiter.id] = { p50: quantile(delays, 0.5), p95: quantile(delays, 0.95), requests };
    rows.push([
      waiter.name,
      spread(requests),
      `${fmt(quantile(delays, 0.5))} ms`,
      `${fmt(quantile(delays, 0.95))} ms`,
      `${fmt(Math.min(...delays))} – ${fmt(Math.max(...delays))} ms`,
    ]);
  }
  const stream = figures.stream;
  const fastEnough = stream.p95 <= GOAL_P95_MS;
  const fewEnough = stream.requests.max <= GOAL_REQUESTS;
  const markdown = [
    `Measured for real on loopback: the emulator (\`--job-ms ${JOB_MS}\`: jobs of about 2–3 s with the ` +
      `voice conversion) calls back our proxy (\`serve\` and the handler, its own process, \`publicUrl\` ` +
      `set, \`bench/events-proxy.mjs\`), which notes when each callback arrives before it reads it. ` +
      `Each waiter is a page of its own in this process (its own session cookie, counting what it sends), ` +
      `waiting on a job of its own; the four wait at once, ${rounds} rounds, so ${rounds} jobs each. ` +
      `Delay = when the waiter noticed COMPLETED minus when the upstream's callback reached the proxy ` +
      `(below zero: a poll read the end just before the callback landed). Requests = all the page sent ` +
      `for its job, the CreateJob included. \`waitForJob\` over the stream includes its confirming GetJob.`,
    '',
    table(['waiter', 'requests per job', 'delay p50', 'delay p95', 'delay min – max'], rows),
    '',
    table(
      ['goal (`waitForJob` over the stream)', 'figure', 'met?'],
      [
        [`completion noticed ≤ ${GOAL_P95_MS} ms (p95) after the callback`, `${fmt(stream.p95)} ms`, met(fastEnough)],
        [`≤ ${GOAL_REQUESTS} requests per job`, `at most ${stream.requests.max}`, met(fewEnough)],
      ],
    ),
  ].join('\n');
  return {
    markdown,
    goals: [
      {
        name:
          `\`waitForJob\` notices completion ≤ ${GOAL_P95_MS} ms (p95) after the upstream's callback ` +
          'reaches the proxy',
        ok: fastEnough,
        figure:
          `${fmt(stream.p95)} ms (p50 ${fmt(stream.p50)} ms); today's backoff p95 ${fmt(figures.backoff.p95)} ms, ` +
          `fixed 500 ms p95 ${fmt(figures.fixed.p95)} ms`,
      },
      {
        name: `\`waitForJob\` sends ≤ ${GOAL_REQUESTS} requests per job (create, the stream, one confirming read)`,
        ok: fewEnough,
        figure:
          `at most ${stream.requests.max}; today's backoff ${fmt(figures.backoff.requests.median)}, ` +
          `fixed 500 ms ${fmt(figures.fixed.requests.median)} (medians)`,
      },
    ],
    data: results,
  };
}
