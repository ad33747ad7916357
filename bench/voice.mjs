#!/usr/bin/env node
// The voice section of the bench: the engine's conversion quality (tests/voice/check_voice.py, an
// analysis independent of the engine: pyworld), its speed and memory on 30 s, 3 min and 10 min
// songs, and the vocal separation's quality (SI-SDR on synthetic mixes), each against the engine
// before the WORLD conversion (commit 4650749: WSOLA pitch shift, formants moved with the pitch).
// `export run({ quick })` → { markdown, goals, data } for bench/run.mjs; `node bench/voice.mjs` prints
// the section. Needs scripts/setup-voice.sh (run here when missing) and the release example
// `voice_bench` (built here). VOICE_BASELINE_BIN and VOICE_BASELINE_BENCH, when set, re-measure
// the baseline from an old build (the emulator binary and its `voice_bench` example) instead of
// using the figures recorded below.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// VOICE_EMULATOR_BIN and VOICE_BENCH_BIN, when both set, measure those builds (nothing is built).
const EMULATOR = process.env.VOICE_EMULATOR_BIN || path.join(ROOT, 'target/release/singing-cloning-emulator');
const BENCH = process.env.VOICE_BENCH_BIN || path.join(ROOT, 'target/release/examples/voice_bench');
const PYTHON = path.join(ROOT, '.venv-voice/bin/python');
const SEED = 20261201;

// The engine before this change (commit 4650749), measured on this machine (AMD EPYC, 2 cores)
// with the same scripts: check_voice.py --seed 20261201, voice_bench generate 30|180|600, separation 1.
const BASELINE = {
  quality: {
    'low singer → high voice': {
      medianCents: 32.5,
      framesWithin40Cents: 0.974,
      formantScaleVsIdeal: 1.557,
      lsdDb: 9.11,
      clicks: 0,
    },
    'high singer → low voice': {
      medianCents: -12.0,
      framesWithin40Cents: 0.741,
      formantScaleVsIdeal: 1.67,
      lsdDb: 17.45,
      clicks: 0,
    },
  },
};

function sh(cmd, args, options = {}) {
  const env = { ...process.env, PATH: `${path.join(os.homedir(), '.cargo/bin')}:${process.env.PATH}` };
  return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env, maxBuffer: 1 << 26, ...options });
}

function prepare() {
  if (!existsSync(PYTHON)) sh('bash', ['scripts/setup-voice.sh'], { stdio: ['ignore', 2, 2] });
  if (process.env.VOICE_EMULATOR_BIN && process.env.VOICE_BENCH_BIN) return;
  sh(
    'cargo',
    [
      'build',
      '--release',
      '-p',
      'singing-cloning-emulator',
      '--bin',
      'singing-cloning-emulator',
      '--example',
      'voice_bench',
    ],
    { stdio: ['ignore', 2, 2] },
  );
}

function quality(binary) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voice-bench-'));
  const file = path.join(dir, 'figures.json');
  try {
    try {
      sh(PYTHON, ['tests/voice/check_voice.py', '--emulator', binary, '--seed', String(SEED), '--json', file], {
        stdio: ['ignore', 2, 2],
      });
    } catch {
      // A check that fails still wrote its figures: the table shows them.
    }
    return JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const json = (bin, args) => JSON.parse(sh(bin, args).trim().split('\n').pop());

function measure(bench, quick) {
  const sizes = quick ? [30] : [30, 180, 600];
  return {
    generate: sizes.map((s) => json(bench, ['generate', String(s)])),
    separation: [1, 2, 3].map((seed) => json(bench, ['separation', String(seed)])),
  };
}

const f = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d));

export async function run({ quick = false } = {}) {
  prepare();
  const ours = { quality: quality(EMULATOR), ...measure(BENCH, quick) };
  const base = { ...BASELINE };
  if (process.env.VOICE_BASELINE_BIN) base.quality = quality(process.env.VOICE_BASELINE_BIN);
  Object.assign(base, process.env.VOICE_BASELINE_BENCH ? measure(process.env.VOICE_BASELINE_BENCH, quick) : RECORDED);

  const goals = [];
  const rows = [];
  for (const direction of ['low singer → high voice', 'high singer → low voice']) {
    const q = ours.quality[direction];
    const b = base.quality[direction] || {};
    if (!q) continue;
    rows.push([direction, 'median pitch vs model (cents; goal ≤ 50)', f(q.medianCents, 1), f(b.medianCents, 1)]);
    rows.push([
      direction,
      'frames within 40 cents of the moved melody (goal ≥ 95%)',
      `${f(q.framesWithin40Cents * 100, 1)}%`,
      `${f(b.framesWithin40Cents * 100, 1)}%`,
    ]);
    rows.push([
      direction,
      'formant scale vs the ideal (goal 1 ± 0.05)',
      f(q.formantScaleVsIdeal, 3),
      f(b.formantScaleVsIdeal, 3),
    ]);
    rows.push([direction, 'mean envelope LSD vs the ideal, dB (goal ≤ 1.5)', f(q.lsdDb), f(b.lsdDb)]);
    rows.push([direction, 'clicks found', String(q.clicks), String(b.clicks ?? '—')]);
    goals.push({
      name: `Voice, ${direction}: median within 50 cents of the model`,
      ok: Math.abs(q.medianCents) <= 50,
      figure: `${f(q.medianCents, 1)} cents`,
    });
    goals.push({
      name: `Voice, ${direction}: ≥ 95% of frames within 40 cents of the melody moved`,
      ok: q.framesWithin40Cents >= 0.95,
      figure: `${f(q.framesWithin40Cents * 100, 1)}%`,
    });
    goals.push({
      name: `Voice, ${direction}: formant scale within 5% of the voice's`,
      ok: Math.abs(q.formantScaleVsIdeal - 1) <= 0.05,
      figure: f(q.formantScaleVsIdeal, 3),
    });
    goals.push({
      name: `Voice, ${direction}: mean envelope within 1.5 dB of the ideal`,
      ok: q.lsdDb <= 1.5,
      figure: `${f(q.lsdDb)} dB (before: ${f(b.lsdDb)} dB)`,
    });
  }
  const speed = ours.generate.map((g) => {
    const b = (base.generate || []).find((x) => x.seconds === g.seconds) || {};
    goals.push({
      name: `Voice: generation RTF ≤ 0.25 on one core, ${g.seconds} s song`,
      ok: g.cpuRtf <= 0.25,
      figure: `${f(g.cpuRtf, 3)} (wall ${f(g.rtf, 3)})`,
    });
    if (g.seconds === 600)
      goals.push({
        name: 'Voice: a 10-minute song within 300 MB',
        ok: g.peakMB <= 300,
        figure: `${f(g.peakMB, 0)} MB peak (input ${f(g.inputMB, 0)} MB)`,
      });
    return [`${g.seconds} s`, f(g.cpuRtf, 3), f(b.cpuRtf, 3), f(g.peakMB, 0), f(b.peakMB, 0), f(g.inputMB, 0)];
  });
  const sdr = (list) => (list?.length ? list.reduce((a, s) => a + s.meanSdrDb, 0) / list.length : null);
  const markdown = [
    `Generation is WORLD analysis (DIO + StoneMask, CheapTrick at 2048 points, D4C on every other ` +
      `frame), the F0 moved by one interval to the model's median, the recording's noise floor taken out ` +
      `of the envelope, the envelope warped to the model's formant scale, moved to its per-band mean and ` +
      `then, frame by frame, to the model's own codebook envelopes it resembles (k-means shapes learned in ` +
      `training), and WORLD synthesis, block by block, the vocal streamed and converted in place. ` +
      `"Before" is the engine of commit 4650749 (WSOLA pitch shift that moved the formants with the pitch).`,
    '',
    `Quality: \`tests/voice/check_voice.py --seed ${SEED}\`, its analysis pyworld's (Harvest F0, ` +
      `CheapTrick envelope), on singers it synthesizes (Rosenberg glottal source, five formant resonators, ` +
      `vowels a e i o u, vibrato). The ideal is the song's melody sung by the trained voice's own source ` +
      `and vocal tract, at the song's level (the "before" figures were measured with it peak-normalised, ` +
      `which left a low voice's 16-bit floor 4–5 dB higher in the output than in the ideal).`,
    '',
    '| direction | measure | now | before |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'Speed and memory: `voice_bench generate SECONDS` (the stereo sample song repeated, with separation: ' +
      'the whole cover), one process per size; RTF = CPU seconds of the generation ÷ song seconds ' +
      "(single-threaded); peak = the process's VmHWM, input and output included.",
    '',
    '| song | RTF now | RTF before | peak MB now | peak MB before | input MB (f32) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...speed.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Vocal separation: \`voice_bench separation SEED\` (seeds 1–3, four mixes each: a sung vocal and a ` +
      `bass in the centre, an arpeggio and an organ panned to the sides); scale-invariant SDR of the ` +
      `extracted vocal: now ${f(sdr(ours.separation))} dB, before ${f(sdr(base.separation))} dB. The ` +
      `separator's algorithm is unchanged (only its memory: it runs hop by hop, nothing signal-long); a centre mask ` +
      `keeps the centred bass with the vocal, hence the low figure.`,
  ].join('\n');
  return { markdown, goals, data: { ours, base } };
}

// Recorded from the baseline build (see BASELINE's comment).
const RECORDED = {
  generate: [
    { seconds: 30, wallSeconds: 4.354, cpuSeconds: 0.74, rtf: 0.1451, cpuRtf: 0.0247, peakMB: 48.1, inputMB: 10.1 },
    { seconds: 180, wallSeconds: 26.997, cpuSeconds: 4.44, rtf: 0.15, cpuRtf: 0.0247, peakMB: 276.4, inputMB: 60.6 },
    {
      seconds: 600,
      wallSeconds: 59.694,
      cpuSeconds: 15.09,
      rtf: 0.0995,
      cpuRtf: 0.0251,
      peakMB: 916.3,
      inputMB: 201.9,
    },
  ],
  separation: [
    { seed: 1, sdrDb: [-9.08, -7.51, -6.31, -7.67], meanSdrDb: -7.64 },
    { seed: 2, sdrDb: [-8.6, -8.89, -9.34, -8.03], meanSdrDb: -8.72 },
    { seed: 3, sdrDb: [-9.73, -8.7, -4.45, -7.42], meanSdrDb: -7.58 },
  ],
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await run({ quick: process.argv.includes('--quick') });
  console.log(result.markdown);
  console.log();
  for (const g of result.goals) console.log(`${g.ok ? 'yes' : 'NO '} ${g.name}: ${g.figure}`);
}
