#!/usr/bin/env node
// `npm run bench`: measures singing-cloning against its peers (@fal-ai/client, replicate, a
// hand-rolled fetch + zod / ajv client), side by side in one run on one machine, and writes
// bench/RESULTS.md. Items: 1 weight in a page, 2 start-up, 3 validation, 4 parsing,
// 5 proxy overhead, 6 waiting, 7 voice, 8 events. Options:
//   --only=1,3   run some items (prints the tables; RESULTS.md is written only for a full run)
//   --quick      short runs, to check the harness (not for figures; RESULTS.md is not written)
//   --build      rebuild pkg/ first (bash scripts/build.sh); otherwise pkg/ is measured as it is
// From a fresh clone it installs what is missing (scripts/setup.sh), builds pkg/ when it is
// missing, and the emulator (cargo build --release -p singing-cloning-emulator) when it is missing.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ROOT, PAGE_FILES, EDGE_FILES } from './weight.mjs';
import { emulatorBin } from '../tests/support/emulator.mjs';
import { table, met } from './lib/stats.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',').map(Number)) : null;

const ITEMS = [
  { n: 1, title: 'Weight in a page', run: async (o) => (await import('./weight.mjs')).run(o) },
  { n: 2, title: 'Start-up', run: async (o) => (await import('./startup.mjs')).run(o) },
  { n: 3, title: 'Validation', run: async (o) => (await import('./throughput.mjs')).runValidation(o) },
  { n: 4, title: 'Parsing', run: async (o) => (await import('./throughput.mjs')).runParsing(o) },
  { n: 5, title: 'Proxy overhead', run: async (o) => (await import('./proxy.mjs')).run(o) },
  { n: 6, title: 'Waiting', run: async (o) => (await import('./waiting.mjs')).run(o) },
  { n: 7, title: 'Voice', run: async (o) => (await import('./voice.mjs')).run(o) },
  { n: 8, title: 'Events', run: async (o) => (await import('./events.mjs')).run(o) },
];

function sh(cmd, cmdArgs) {
  process.stderr.write(`[bench] ${cmd} ${cmdArgs.join(' ')}\n`);
  const env = { ...process.env, PATH: `${path.join(os.homedir(), '.cargo/bin')}:${process.env.PATH}` };
  execFileSync(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 2, 2], env });
}

/** From a fresh clone: installs what is missing (scripts/setup.sh), builds pkg/ and the emulator when absent. */
function preflight() {
  const missingPkg = () => [...PAGE_FILES, ...EDGE_FILES].some((f) => !existsSync(path.join(ROOT, f)));
  const peers = ['@fal-ai/client', 'replicate', 'zod', 'ajv', 'autocannon', 'esbuild'];
  if (
    !existsSync(path.join(ROOT, 'node_modules/.package-lock.json')) ||
    peers.some((p) => !existsSync(path.join(ROOT, 'node_modules', p, 'package.json')))
  ) {
    sh('bash', ['scripts/setup.sh']);
  }
  if (args.includes('--build') || missingPkg()) sh('bash', ['scripts/build.sh']);
  if ((!only || only.has(5) || only.has(8)) && !existsSync(emulatorBin))
    sh('cargo', ['build', '--release', '-p', 'singing-cloning-emulator']);
  if (missingPkg()) throw new Error('pkg/ is still incomplete after the build');
}

function tryRun(cmd, cmdArgs) {
  try {
    return execFileSync(cmd, cmdArgs, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const osRelease = existsSync('/etc/os-release')
    ? /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
    : null;
  const rustc = tryRun('rustc', ['--version']) ?? tryRun(path.join(os.homedir(), '.cargo/bin/rustc'), ['--version']);
  const commit = tryRun('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['status', '--porcelain', '--', 'src', 'js', 'pkg', 'Cargo.toml', 'Cargo.lock']);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    os: `${osRelease ?? os.type()} (${os.type()} ${os.release()}, ${os.arch()})`,
    rustc: rustc ?? 'unknown',
    commit: commit ? `${commit}${dirty ? ' (with uncommitted changes)' : ''}` : 'unknown',
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
    pkgBuilt: existsSync(path.join(ROOT, PAGE_FILES[0]))
      ? statSync(path.join(ROOT, PAGE_FILES[0]))
          .mtime.toISOString()
          .replace(/\.\d+Z$/, 'Z')
      : 'missing',
  };
}

async function main() {
  preflight();
  const m = machine();
  const started = Date.now();
  const done = [];
  for (const item of ITEMS) {
    if (only && !only.has(item.n)) continue;
    const t = Date.now();
    process.stderr.write(`[bench] ${item.n}. ${item.title}…\n`);
    const result = await item.run({ quick });
    process.stderr.write(`[bench] ${item.n}. ${item.title}: ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    done.push({ ...item, result });
  }
  const goals = done.flatMap((d) => d.result.goals.map((g) => ({ ...g, item: d.n })));
  const machineTable = table(
    ['', ''],
    [
      ['date', m.date],
      ['CPU', `${m.cpu}, ${m.cores} cores`],
      ['memory', m.memory],
      ['OS', m.os],
      ['Node', m.node],
      ['Rust (stable toolchain)', m.rustc],
      ['commit', m.commit],
      ['pkg/ built', m.pkgBuilt],
      ['load average at start', m.load],
      ['run time', `${Math.round((Date.now() - started) / 1000)} s`],
    ],
  );
  const md = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.mjs). Do not edit by hand: run it again. -->',
    '',
    `singing-cloning against the JavaScript clients people use for job-based media APIs ` +
      `(\`@fal-ai/client\`, \`replicate\`) and a hand-rolled fetch + schema-validator client (zod, ajv), ` +
      `all measured the same way in one run on one ` +
      `machine${quick ? ' (**--quick run: short, for checking the harness only**)' : ''}.`,
    '',
    machineTable,
    '',
    '## Goals',
    '',
    table(
      ['item', 'goal', 'figure', 'met?'],
      goals.map((g) => [g.item, g.name, g.figure, g.info ? (g.ok ? 'faster' : 'slower') : met(g.ok)]),
    ),
    '',
    ...done.flatMap((d) => [`## ${d.n}. ${d.title}`, '', d.result.markdown, '']),
  ].join('\n');
  if (!only && !quick) {
    writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), md);
    process.stderr.write(`[bench] wrote bench/RESULTS.md in ${Math.round((Date.now() - started) / 1000)} s\n`);
  } else {
    process.stdout.write(md);
  }
}

main().catch((error) => {
  console.error(`[bench] ${error.stack ?? error}`);
  process.exit(1);
});
