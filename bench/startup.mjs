// Item 2, start-up: the time from `import` to the first result in a fresh Node process
// (bench/startup-child.mjs), 20 processes per subject, interleaved subject by subject,
// after one unrecorded round that warms the file cache.
import path from 'node:path';
import { ROOT } from './weight.mjs';
import { runNode } from './lib/child.mjs';
import { summary, fmt, spread, ratio, table, met } from './lib/stats.mjs';

export const SUBJECTS = [
  { id: 'ours', name: 'singing-cloning: import, first `validate`' },
  { id: 'replicate', name: '`replicate`: import, `new Replicate()`' },
  { id: 'fal', name: '`@fal-ai/client`: import, `createFalClient()`' },
  { id: 'handrolled-zod', name: 'hand-rolled fetch + zod: import, client, first validation' },
  { id: 'handrolled-ajv', name: 'hand-rolled fetch + ajv: import, compile, client, first validation' },
];

export async function run({ quick = false } = {}) {
  const processes = quick ? 3 : 20;
  const script = path.join(ROOT, 'bench/startup-child.mjs');
  const times = Object.fromEntries(SUBJECTS.map((s) => [s.id, []]));
  for (let round = -1; round < processes; round++) {
    for (const s of SUBJECTS) {
      const { ms } = await runNode(script, [s.id], { cwd: ROOT });
      if (round >= 0) times[s.id].push(ms);
    }
  }
  const stats = Object.fromEntries(SUBJECTS.map((s) => [s.id, summary(times[s.id])]));
  const ours = stats.ours.median;
  const replicate = stats.replicate.median;
  const goalOk = ours <= 2 * replicate;
  const rows = SUBJECTS.map((s) => [
    s.name,
    spread(stats[s.id], ' ms'),
    `${fmt(stats[s.id].q1)}–${fmt(stats[s.id].q3)} ms`,
    s.id === 'ours' ? '1×' : ratio(ours, stats[s.id].median),
    s.id === 'ours' ? `${met(goalOk)} (≤ 2× replicate: ${fmt(ours / replicate)}×)` : '',
  ]);
  const markdown = [
    `Median of ${processes} fresh \`node\` processes per subject (interleaved), timed inside each ` +
      `process with \`performance.now()\` from before the dynamic \`import()\` to after the first result; ` +
      `Node's own start (the same for all) is not included. Spread: min–max, and the interquartile ` +
      `range. Ratio = ours ÷ theirs (below 1× is faster).`,
    '',
    table(['subject', 'median (min–max)', 'IQR', 'ours ÷ theirs', 'goal: ≤ 2× replicate'], rows),
  ].join('\n');
  return {
    markdown,
    goals: [
      {
        name: 'Start-up within 2× of importing `replicate`',
        ok: goalOk,
        figure: `${fmt(ours)} ms vs ${fmt(replicate)} ms (${fmt(ours / replicate)}×)`,
      },
    ],
    data: { stats },
  };
}
