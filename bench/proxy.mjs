// Item 5, proxy overhead: autocannon (10 connections, 10 s, after a 2 s warm-up) POSTs a
// GetJob of an existing job (SUBMITTED: `--job-ms 3600000` keeps it so) three ways, on
// loopback: straight to the emulator (credentials in the body), through a plain Node
// pass-through proxy (bench/passthrough.mjs, no checks; credentials in the body), and
// through our proxy (js/proxy-server.js, its own process, configured by env; the body
// without credentials, as from a page). Each server is its own process; autocannon runs here.
//
// Identity: without an `authenticate` hook the proxy gives every cookie-less request a new
// anonymous session, and each new identity would have a full rate-limit bucket. A browser
// keeps its cookie, so the benchmark does too: one `sc_session` cookie from the CreateJob
// that made the job is sent with every request, and the one identity's bucket is made large
// (SINGING_CLONING_RATE_LIMIT_CAPACITY / _REFILL_PER_SECOND = 1e9) so nothing is throttled.
import { spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { ROOT } from './weight.mjs';
import { startEmulator } from '../tests/support/emulator.mjs';
import { fmt, ratio, table, met } from './lib/stats.mjs';

const PREFIX = '/api/singing-cloning';
const PROXY_SECRET = 'bench-proxy-secret-0123456789abcdef';

function spawnServer(args, env, pattern) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} did not start:\n${out}`));
    }, 20_000);
    const onData = (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        url: match[1],
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code}:\n${out}`));
    });
  });
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

export async function run({ quick = false } = {}) {
  const duration = quick ? 2 : 10;
  const warmup = quick ? 1 : 2;
  const connections = 10;
  const emulator = await startEmulator(['--job-ms', '3600000']);
  const servers = [];
  try {
    const proxy = await spawnServer(
      [path.join(ROOT, 'js/proxy-server.js')],
      {
        PORT: '0',
        SINGING_CLONING_ENDPOINT: emulator.api,
        SINGING_CLONING_SECRET_ID: emulator.secretId,
        SINGING_CLONING_SECRET_KEY: emulator.secretKey,
        SINGING_CLONING_PROXY_SECRET: PROXY_SECRET,
        SINGING_CLONING_ALLOWED_ORIGINS: 'http://app.example',
        SINGING_CLONING_RATE_LIMIT_CAPACITY: '1000000000',
        SINGING_CLONING_RATE_LIMIT_REFILL_PER_SECOND: '1000000000',
        // Every request comes from 127.0.0.1 in one anonymous session: its address's bucket too.
        SINGING_CLONING_ADDRESS_RATE_LIMIT_CAPACITY: '1000000000',
        SINGING_CLONING_ADDRESS_RATE_LIMIT_REFILL_PER_SECOND: '1000000000',
      },
      /proxy listening on (http:\/\/\S+)/,
    );
    servers.push(proxy);
    const passthrough = await spawnServer(
      [path.join(ROOT, 'bench/passthrough.mjs')],
      { UPSTREAM: emulator.api },
      /pass-through listening on (http:\/\/\S+)/,
    );
    servers.push(passthrough);

    // The job, made through the proxy so that it is in the session's scope; its cookie is the session's.
    const created = await fetch(`${proxy.url}${PREFIX}/job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        action: 'CreateJob',
        createJobRequest: {
          inputs: [{ sourceData: 'la la la' }],
          outputs: [
            {
              contentId: 'bench',
              inputSelectors: [0],
              smartContentDescriptor: { singingCloning: { type: 1, modelName: 'default' } },
            },
          ],
        },
      }),
    });
    const createdText = await created.text();
    if (created.status !== 200) throw new Error(`CreateJob through the proxy: ${created.status} ${createdText}`);
    const id = JSON.parse(createdText).createJobResponse.job.id;
    const cookie = created.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith('sc_session='));
    if (!cookie) throw new Error('the proxy set no session cookie');

    const withCredentials = JSON.stringify({
      action: 'GetJob',
      secretId: emulator.secretId,
      secretKey: emulator.secretKey,
      getJobRequest: { id },
    });
    const fromPage = JSON.stringify({ action: 'GetJob', getJobRequest: { id } });
    const subjects = [
      {
        id: 'direct',
        name: 'straight to the emulator',
        url: `${emulator.api}/job`,
        body: withCredentials,
        headers: {},
      },
      {
        id: 'passthrough',
        name: 'plain Node pass-through proxy (no checks)',
        url: `${passthrough.url}/job`,
        body: withCredentials,
        headers: {},
      },
      {
        id: 'proxy',
        name: 'our proxy (`js/proxy-server.js`)',
        url: `${proxy.url}${PREFIX}/job`,
        body: fromPage,
        headers: { cookie },
      },
    ];
    // Each way must answer the GetJob with 200 before it is measured.
    for (const s of subjects) {
      const r = await fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...s.headers },
        body: s.body,
      });
      const text = await r.text();
      if (r.status !== 200 || JSON.parse(text).getJobResponse?.job?.id !== id)
        throw new Error(`${s.name}: ${r.status} ${text}`);
    }
    const results = {};
    for (const s of subjects) {
      const opts = {
        url: s.url,
        method: 'POST',
        connections,
        headers: { 'content-type': 'application/json', ...s.headers },
        body: s.body,
      };
      await cannon({ ...opts, duration: warmup });
      const r = await cannon({ ...opts, duration });
      results[s.id] = {
        rps: r.requests.average,
        rpsMin: r.requests.min,
        rpsMax: r.requests.max,
        p50: r.latency.p50,
        mean: r.latency.average,
        p99: r.latency.p99,
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      };
    }
    // The goals (issue #14) hold our proxy against a plain pass-through, which does no work of its own.
    const plain = results.passthrough;
    const ours = results.proxy;
    const keeps = ours.rps / plain.rps;
    const adds = ours.p50 - plain.p50;
    const rateOk = keeps >= 0.5;
    const latencyOk = adds <= 2;
    const rows = subjects.map((s) => {
      const r = results[s.id];
      return [
        s.name,
        `${fmt(r.rps)} (${fmt(r.rpsMin)}–${fmt(r.rpsMax)})`,
        `${fmt(r.p50)} ms`,
        `${r.mean.toFixed(2)} ms`,
        `${fmt(r.p99)} ms`,
        `${r.requests.toLocaleString('en-US')}`,
        `${r.non2xx} / ${r.errors}`,
        s.id === 'proxy' ? '1×' : `${ratio(ours.rps, r.rps)} rate, ${fmt(ours.p50 - r.p50)} ms p50`,
      ];
    });
    const markdown = [
      `autocannon, ${connections} connections, ${duration} s per subject after a ${warmup} s warm-up, one ` +
        `after another, on loopback; a GetJob of one existing job. The emulator, our proxy and the ` +
        `pass-through each run in their own process, autocannon in the bench's. Requests per second: mean of ` +
        `the per-second samples (min–max of them); latency from autocannon's histogram (p50 and p99 in whole ` +
        `milliseconds, so the mean is shown as well).`,
      'Our proxy does its whole job on every request: session cookie check, rate limit, body checks and ' +
        'validation, scope, a rebuilt upstream body with credentials, scope taken off the answer, secrets ' +
        'scrubbed. The session cookie is fixed (a browser keeps it), the rate limit set to 10⁹ so it does ' +
        'not throttle.',
      '',
      table(
        [
          'path',
          'requests/s (min–max)',
          'p50',
          'mean',
          'p99',
          'requests',
          'non-2xx / errors',
          'ours: rate ÷ this, ' + 'p50 − this',
        ],
        rows,
      ),
      '',
      table(
        ['goal', 'figure', 'met?'],
        [
          ['keeps ≥ 50% of the plain pass-through’s request rate', `${fmt(keeps * 100)}%`, met(rateOk)],
          [
            'adds ≤ 2 ms at p50 over the pass-through',
            `${fmt(adds)} ms (mean: ${(ours.mean - plain.mean).toFixed(2)} ms)`,
            met(latencyOk),
          ],
        ],
      ),
    ].join('\n');
    // A run with failed requests measured something else than the GetJob: the table shows the counts,
    // and the goal fails.
    const clean = subjects.every((s) => !results[s.id].non2xx && !results[s.id].errors);
    return {
      markdown,
      goals: [
        {
          name: 'Proxy keeps ≥ 50% of a plain pass-through’s request rate',
          ok: rateOk,
          figure: `${fmt(keeps * 100)}% (${fmt(ours.rps)} vs ${fmt(plain.rps)} req/s)`,
        },
        {
          name: 'Proxy adds ≤ 2 ms at p50 over the pass-through (10 connections)',
          ok: latencyOk,
          figure: `${fmt(adds)} ms (${fmt(ours.p50)} vs ${fmt(plain.p50)} ms)`,
        },
        {
          name: 'Every request of the proxy benchmark answered 2xx, without errors',
          ok: clean,
          figure: subjects
            .map((s) => `${s.id}: ${results[s.id].non2xx} non-2xx, ${results[s.id].errors} errors`)
            .join('; '),
        },
      ],
      data: results,
    };
  } finally {
    for (const s of servers) await s.stop();
    await emulator.stop();
  }
}
