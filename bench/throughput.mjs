// Items 3 (validation) and 4 (parsing): operations per second in one fresh process
// (bench/throughput-child.mjs), every subject interleaved in rounds.
import path from 'node:path';
import { statSync } from 'node:fs';
import { ROOT } from './weight.mjs';
import { runNode } from './lib/child.mjs';
import { summary, fmt, spread, ratio, table, met } from './lib/stats.mjs';

const NAMES = {
  ours: 'singing-cloning',
  zod: 'zod 4 (`safeParse`)',
  'zod-compiled': 'zod 4 with `z.compile` (its ahead-of-time fast path)',
  ajv: 'ajv 8 (compiled JSON Schema, `allErrors`, + selector post-check)',
};

let cached;
async function measure(quick) {
  cached ??= runNode(path.join(ROOT, 'bench/throughput-child.mjs'), quick ? ['3', '100'] : ['10', '200'], {
    cwd: ROOT,
  });
  return cached;
}

function rowsFor(results, caseName) {
  const stats = Object.fromEntries(Object.entries(results[caseName]).map(([id, rates]) => [id, summary(rates)]));
  return stats;
}

const how = (rounds, ms) =>
  `Operations per second, all subjects in one fresh process, interleaved: ${rounds} rounds, each ` +
  `running every subject for ${ms} ms in an order that rotates per round, after one unrecorded warm-up ` +
  `round. Median of the rounds (min–max). Ratio = ours ÷ theirs (above 1× means we are faster). ` +
  `Before timing, every subject is checked to accept the valid body, find all 5 issues of the invalid ` +
  `one, and read the answer.`;

export async function runValidation({ quick = false } = {}) {
  const { results } = await measure(quick);
  const [rounds, ms] = quick ? [3, 100] : [10, 200];
  const goals = [];
  const sections = [
    how(rounds, ms),
    '',
    'The peer schemas are in `bench/schemas-zod.mjs` and `bench/schemas-ajv.mjs`: the same CreateJob ' +
      'rules as `src/model/validate.rs`. Cross-field rules: zod uses `refine`/`superRefine` (one input ' +
      'source; a selector names an input; totalEpoch only for type 2; contentId for type 1); ajv uses ' +
      '`if`/`then`, a custom keyword `exactlyOneOf` and a plain-JavaScript post-check for selectors (JSON ' +
      'Schema cannot compare two arrays). Both use `rules.mjs` `isHttpUrl` for the URL rule.',
  ];
  for (const [caseName, label] of [
    ['validate-valid', 'a valid CreateJob body (the reference\u2019s generate example, filled in)'],
    ['validate-invalid', 'an invalid CreateJob body (5 issues)'],
  ]) {
    const stats = rowsFor(results, caseName);
    const ours = stats.ours.median;
    const beatsZod = ours > stats.zod.median;
    const beatsZodCompiled = ours > stats['zod-compiled'].median;
    const nearAjv = ours * 3 >= stats.ajv.median;
    const goalCell = {
      ours: '',
      zod: `faster than zod: ${met(beatsZod)}`,
      'zod-compiled': `faster than zod compiled: ${met(beatsZodCompiled)}`,
      ajv: `within 3× of ajv: ${met(nearAjv)}`,
    };
    const rows = Object.keys(stats).map((id) => [
      NAMES[id],
      spread(stats[id], ' ops/s'),
      id === 'ours' ? '1×' : ratio(ours, stats[id].median),
      goalCell[id],
    ]);
    const header = ['subject', 'ops/s, median (min–max)', 'ours ÷ theirs', 'goal'];
    sections.push('', `**${label}**`, '', table(header, rows));
    const which = caseName === 'validate-valid' ? 'valid' : 'invalid';
    goals.push({
      name: `\`validate\` faster than zod (${which} body)`,
      ok: beatsZod,
      figure:
        `${fmt(ours)} vs ${fmt(stats.zod.median)} ops/s (${ratio(ours, stats.zod.median)}); ` +
        `zod compiled ${fmt(stats['zod-compiled'].median)}`,
    });
    goals.push({
      name: `\`validate\` within 3× of ajv (${which} body)`,
      ok: nearAjv,
      figure: `${fmt(ours)} vs ${fmt(stats.ajv.median)} ops/s (ajv ${fmt(stats.ajv.median / ours)}× faster)`,
    });
  }
  return { markdown: sections.join('\n'), goals, data: results };
}

export async function runParsing({ quick = false } = {}) {
  const { results } = await measure(quick);
  const [rounds, ms] = quick ? [3, 100] : [10, 200];
  const stats = rowsFor(results, 'parse');
  const ours = stats.ours.median;
  const names = {
    ours: "singing-cloning `parseResponse('GetJob', text)`",
    zod: '`JSON.parse` + zod schema',
    'zod-compiled': '`JSON.parse` + zod schema with `z.compile`',
    ajv: '`JSON.parse` + ajv schema',
  };
  const rows = Object.keys(stats).map((id) => [
    names[id],
    spread(stats[id], ' ops/s'),
    id === 'ours' ? '1×' : ratio(ours, stats[id].median),
  ]);
  const beatsZod = ours > stats.zod.median;
  const markdown = [
    how(rounds, ms).replace(
      ' Before timing, every subject is checked to accept the valid body, find all 5 issues of the invalid ' +
        'one, and read the answer.',
      '',
    ),
    `The text is the reference\u2019s GetJob answer (\`tests/fixtures/get_job_generate_response.json\`, ` +
      `${statSync(path.join(ROOT, 'tests/fixtures/get_job_generate_response.json')).size} bytes). The zod ` +
      `and ajv schemas check the fields \`parseResponse\` checks, with unknown fields kept ` +
      `(\`z.looseObject\`); \`parseResponse\` also adds \`status\` to the job and would recognise error ` +
      `bodies, which the peers do not do.`,
    '',
    table(['subject', 'ops/s, median (min–max)', 'ours ÷ theirs'], rows),
  ].join('\n');
  return {
    markdown,
    goals: [
      {
        name: '`parseResponse` against `JSON.parse` + zod (no goal set; for the record)',
        ok: beatsZod,
        figure: `${fmt(ours)} vs ${fmt(stats.zod.median)} ops/s (${ratio(ours, stats.zod.median)})`,
        info: true,
      },
    ],
    data: results,
  };
}
