// Item 6, waiting: requests sent and the delay in noticing completion, `waitForJob` (its
// defaults: 1 s doubling to a 10 s cap) against fixed 500 ms polling, for jobs of 5, 30 and
// 120 s. Measured by running both for real on a virtual clock in a fresh process
// (bench/waiting-child.mjs), so nothing really waits; repeated with seeded random round trips.
import path from 'node:path';
import { ROOT } from './weight.mjs';
import { runNode } from './lib/child.mjs';
import { summary, fmt, spread, table, met } from './lib/stats.mjs';

const CAP_MS = 10_000;

export async function run({ quick = false } = {}) {
  const repeats = quick ? 3 : 9;
  const results = await runNode(path.join(ROOT, 'bench/waiting-child.mjs'), [String(repeats)], { cwd: ROOT });
  const rows = [];
  const goals = [];
  for (const [seconds, r] of Object.entries(results)) {
    const ours = {
      requests: summary(r.ours.map((x) => x.requests)),
      delay: summary(r.ours.map((x) => x.delayMs / 1000)),
    };
    const fixed = {
      requests: summary(r.fixed.map((x) => x.requests)),
      delay: summary(r.fixed.map((x) => x.delayMs / 1000)),
    };
    const share = ours.requests.median / fixed.requests.median;
    const withinCap = ours.delay.max * 1000 <= CAP_MS;
    const fewer = Number(seconds) >= 30 ? share <= 0.2 : null;
    rows.push([
      `${seconds} s`,
      '`waitForJob` (1 s doubling, 10 s cap)',
      spread(ours.requests),
      spread(ours.delay, ' s'),
      `${fmt(share * 100)}% of fixed`,
      `${fewer === null ? '— (goal is for 30 s and 120 s)' : met(fewer)}; within cap: ${met(withinCap)}`,
    ]);
    rows.push([
      `${seconds} s`,
      'fixed 500 ms polling (the peers\u2019 default)',
      spread(fixed.requests),
      spread(fixed.delay, ' s'),
      '100%',
      '',
    ]);
    if (fewer !== null)
      goals.push({
        name: `\`waitForJob\` sends ≤ 1/5 of fixed 500 ms polling's requests on a ${seconds} s job`,
        ok: fewer,
        figure: `${fmt(ours.requests.median)} vs ${fmt(fixed.requests.median)} (${fmt(share * 100)}%)`,
      });
    goals.push({
      name: `\`waitForJob\` notices a ${seconds} s job's completion within its 10 s cap`,
      ok: withinCap,
      figure: `at most ${fmt(ours.delay.max)} s late`,
    });
  }
  const markdown = [
    `Both waiters really run (our client's \`waitForJob\`, polling with its defaults, as a client with ` +
      `credentials does), on a virtual clock: \`setTimeout\`, \`clearTimeout\` and \`Date.now\` are ` +
      `replaced in a fresh process, ` +
      `so 120 s jobs take milliseconds. The fake service answers GetJob from the virtual time: SUBMITTED ` +
      `for 1 s, PROCESSING until the job's length, then COMPLETED; each request takes a simulated round ` +
      `trip of 20–80 ms (seeded random), the state read halfway. ${repeats} runs per job length and ` +
      `waiter; median (min–max). Delay = when the waiter returned minus when the job completed.`,
    '',
    table(
      [
        'job',
        'waiter',
        'requests',
        'delay in noticing',
        'requests vs fixed',
        'goal: ≤ 1/5 of the requests; delay within the cap',
      ],
      rows,
    ),
  ].join('\n');
  return { markdown, goals, data: results };
}
