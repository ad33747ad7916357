// Items 3 and 4 in one fresh process: operations per second, subjects interleaved in rounds.
// Each round runs every subject for ~`msPerRound` ms, in an order that rotates per round;
// one unrecorded round first warms the JIT. Prints JSON: { [case]: { [subject]: [ops/s per round] } }.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { validate, parseResponse } from 'singing-cloning';
import {
  zodCreateJobBody,
  zodGetJobResponse,
  ajvValidateCreateJobBody,
  ajvCheckGetJobResponse,
  validCreateJob,
  invalidCreateJob,
  INVALID_ISSUES,
} from './schemas.mjs';
import { ROOT } from './weight.mjs';

const rounds = Number(process.argv[2] ?? 10);
const msPerRound = Number(process.argv[3] ?? 200);

const zodCompiledCreateJob = z.compile(zodCreateJobBody, { strict: true });
const zodCompiledGetJob = z.compile(zodGetJobResponse, { strict: true });
const zodIssues = (schema, body) => {
  const r = schema.safeParse(body);
  return r.success ? [] : r.error.issues;
};

const getJobText = readFileSync(path.join(ROOT, 'tests/fixtures/get_job_generate_response.json'), 'utf8');

const cases = {
  'validate-valid': {
    ours: () => validate(validCreateJob),
    zod: () => zodIssues(zodCreateJobBody, validCreateJob),
    'zod-compiled': () => zodIssues(zodCompiledCreateJob, validCreateJob),
    ajv: () => ajvValidateCreateJobBody(validCreateJob),
  },
  'validate-invalid': {
    ours: () => validate(invalidCreateJob),
    zod: () => zodIssues(zodCreateJobBody, invalidCreateJob),
    'zod-compiled': () => zodIssues(zodCompiledCreateJob, invalidCreateJob),
    ajv: () => ajvValidateCreateJobBody(invalidCreateJob),
  },
  parse: {
    ours: () => parseResponse('GetJob', getJobText),
    zod: () => {
      const r = zodGetJobResponse.safeParse(JSON.parse(getJobText));
      if (!r.success) throw new Error('not a GetJob answer');
      return r.data;
    },
    'zod-compiled': () => {
      const r = zodCompiledGetJob.safeParse(JSON.parse(getJobText));
      if (!r.success) throw new Error('not a GetJob answer');
      return r.data;
    },
    ajv: () => {
      const json = JSON.parse(getJobText);
      if (!ajvCheckGetJobResponse(json)) throw new Error('not a GetJob answer');
      return json;
    },
  },
};

// Every subject must agree on what it measures: valid passes, invalid has all five issues, the answer parses.
for (const [subject, fn] of Object.entries(cases['validate-valid'])) {
  if (fn().length !== 0) throw new Error(`${subject} rejects the valid body`);
}
for (const [subject, fn] of Object.entries(cases['validate-invalid'])) {
  const n = fn().length;
  if (n !== INVALID_ISSUES) throw new Error(`${subject} finds ${n} issues in the invalid body, not ${INVALID_ISSUES}`);
}
for (const [subject, fn] of Object.entries(cases.parse)) {
  if (fn().getJobResponse.job.id !== 'a95e9d74-6602-4405-a3fc-6408a76bcc98')
    throw new Error(`${subject} misreads the answer`);
}

let sink = 0;
function opsPerSecond(fn, ms) {
  // Batches of calls between clock reads, sized so a batch takes about 1 ms.
  let batch = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) sink ^= fn() ? 1 : 0;
    if (performance.now() - t >= 1 || batch >= 1 << 20) break;
    batch *= 2;
  }
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) sink ^= fn() ? 1 : 0;
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const results = {};
for (const [name, subjects] of Object.entries(cases)) {
  const ids = Object.keys(subjects);
  results[name] = Object.fromEntries(ids.map((id) => [id, []]));
  for (let round = -1; round < rounds; round++) {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[(k + Math.max(round, 0)) % ids.length];
      const rate = opsPerSecond(subjects[id], msPerRound);
      if (round >= 0) results[name][id].push(rate);
    }
  }
}
process.stdout.write(`${JSON.stringify({ results, sink })}\n`);
