// Item 1, weight in a page: gzip and brotli bytes (node:zlib, maximum levels) of everything
// a page downloads to use the client, each file compressed on its own as a server sends it.
// `pageWeight()` is the one way the page weight is measured: the size budget test
// (tests/node/size-budget.test.mjs) uses it too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What a page downloads to use the client: the loader, the wasm-bindgen glue, the wasm. */
export const PAGE_FILES = ['pkg/browser.js', 'pkg/singing_cloning_bg.wasm'];
/** What an edge worker loads for the proxy. */
export const EDGE_FILES = [
  'js/proxy.js',
  'js/load-wasm.js',
  'pkg/singing_cloning_edge.js',
  'pkg/singing_cloning_edge_bg.wasm',
];

export function gzipBytes(buffer) {
  return gzipSync(buffer, { level: 9 }).length;
}

export function brotliBytes(buffer) {
  return brotliCompressSync(buffer, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: buffer.length,
    },
  }).length;
}

/** Sizes of named buffers: `{ files: [{ name, raw, gzip, brotli }], raw, gzip, brotli }`. */
export function measure(named) {
  const files = named.map(({ name, buffer }) => ({
    name,
    raw: buffer.length,
    gzip: gzipBytes(buffer),
    brotli: brotliBytes(buffer),
  }));
  const sum = (key) => files.reduce((n, f) => n + f[key], 0);
  return { files, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
}

export function measureFiles(relativePaths, root = ROOT) {
  return measure(relativePaths.map((name) => ({ name, buffer: readFileSync(path.join(root, name)) })));
}

/** The page weight of the built package in `root`/pkg (wasm + JS). */
export function pageWeight(root = ROOT) {
  return measureFiles(PAGE_FILES, root);
}

/** The proxy's weight in an edge worker (wasm + JS). */
export function edgeWeight(root = ROOT) {
  return measureFiles(EDGE_FILES, root);
}

/**
 * A peer's entry bundled by esbuild for the browser (`--bundle --minify --format=esm --platform=browser`),
 * measured.
 */
export async function bundleWeight(entry) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  const files = result.outputFiles.map((f) => ({ name: path.relative(ROOT, entry), buffer: Buffer.from(f.contents) }));
  return measure(files);
}

/** The recorded budget (bench/budget.json). */
export function readBudget(root = ROOT) {
  return JSON.parse(readFileSync(path.join(root, 'bench/budget.json'), 'utf8'));
}

const PEERS = [
  { id: 'fal', name: '`@fal-ai/client` 1.10.1', entry: 'bench/peers/fal.mjs' },
  { id: 'replicate', name: '`replicate` 1.4.0', entry: 'bench/peers/replicate.mjs' },
  { id: 'handrolled-zod', name: 'hand-rolled fetch + zod 4.6.7', entry: 'bench/peers/handrolled-zod.mjs' },
  { id: 'handrolled-ajv', name: 'hand-rolled fetch + ajv 8.20.0', entry: 'bench/peers/handrolled-ajv.mjs' },
];

/** Item 1 for bench/run.mjs. Sizes are exact, so one measurement is the figure (no spread). */
export async function run() {
  const { bytes, fmt, ratio, table, met } = await import('./lib/stats.mjs');
  const ours = pageWeight();
  const edge = edgeWeight();
  const budget = readBudget();
  const peers = [];
  for (const p of PEERS) peers.push({ ...p, w: await bundleWeight(path.join(ROOT, p.entry)) });
  const goalOk = ours.gzip <= budget.goalGzipBytes;
  const stretchOk = ours.gzip <= budget.stretchGzipBytes;
  const budgetOk = ours.gzip <= budget.pageWeightGzipBytes;
  const rows = [
    [
      `**singing-cloning** (page build: ${PAGE_FILES.map((f) => `\`${f}\``).join(' + ')})`,
      bytes(ours.raw),
      bytes(ours.gzip),
      bytes(ours.brotli),
      '1×',
      '1×',
    ],
    ...peers.map((p) => [
      `${p.name} (\`${p.entry}\` bundled)`,
      bytes(p.w.raw),
      bytes(p.w.gzip),
      bytes(p.w.brotli),
      ratio(ours.gzip, p.w.gzip),
      ratio(ours.brotli, p.w.brotli),
    ]),
  ];
  const fileRows = [...ours.files, ...edge.files].map((f) => [
    `\`${f.name}\``,
    bytes(f.raw),
    bytes(f.gzip),
    bytes(f.brotli),
  ]);
  const markdown = [
    'Bytes a page downloads to use the client, compressed with node:zlib at maximum levels (gzip level ' +
      '9; brotli quality 11, window 24), each file on its own as a server sends it. Ours: the files as ' +
      'built in `pkg/`, as a page loads them: `pkg/browser.js` (js/browser.js and js/bind.js bundled with ' +
      'the glue, minified) and the wasm. Peers: an entry that imports the peer and makes a client ' +
      '(`bench/peers/`), bundled by esbuild with `--bundle --minify --format=esm --platform=browser`. KB = ' +
      '1,000 bytes. Ratio = ours ÷ theirs (below 1× is lighter). Sizes are exact: no spread.',
    '',
    table(['subject', 'raw', 'gzip', 'brotli', 'gzip ours ÷ theirs', 'brotli ours ÷ theirs'], rows),
    '',
    table(
      ['goal (page weight, wasm + JS, gzip)', 'figure', 'met?'],
      [
        [`≤ ${fmt(budget.goalGzipBytes / 1000)} KB`, bytes(ours.gzip), met(goalOk)],
        [`stretch: ≤ ${fmt(budget.stretchGzipBytes / 1000)} KB`, bytes(ours.gzip), met(stretchOk)],
        [
          `the CI budget in \`bench/budget.json\` (${bytes(budget.pageWeightGzipBytes)}), held by ` +
            `\`tests/node/size-budget.test.mjs\``,
          bytes(ours.gzip),
          met(budgetOk),
        ],
      ],
    ),
    '',
    `The edge build a worker needs for the proxy (${EDGE_FILES.map((f) => `\`${f}\``).join(' + ')}): ` +
      `${bytes(edge.raw)} raw, **${bytes(edge.gzip)} gzip**, ${bytes(edge.brotli)} brotli. No peer ships a ` +
      `proxy to compare with. By file:`,
    '',
    table(['file', 'raw', 'gzip', 'brotli'], fileRows),
  ].join('\n');
  return {
    markdown,
    goals: [
      { name: 'Page weight (wasm + JS, gzip) ≤ 45 KB', ok: goalOk, figure: bytes(ours.gzip) },
      { name: 'Stretch: page weight ≤ 35 KB', ok: stretchOk, figure: bytes(ours.gzip) },
      {
        name: 'Page weight within the CI budget (bench/budget.json)',
        ok: budgetOk,
        figure: `${bytes(ours.gzip)} of ${bytes(budget.pageWeightGzipBytes)}`,
      },
    ],
    data: { ours, edge, peers: Object.fromEntries(peers.map((p) => [p.id, p.w])) },
  };
}
