// After wasm-bindgen: the files of the main entry that are made, not written (scripts/build.sh).
// - pkg/browser.js: the page entry, minified (below).
// - pkg/index.cjs: js/node.js built as CommonJS, for `require('singing-cloning')`.
// - pkg/index.d.ts and pkg/index.d.cts: the declarations of every entry, from wasm-bindgen's,
//   without its loader functions (whose types need the DOM lib) and with `ready`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = (name) => `${root}pkg/${name}`;

// What pages load: js/browser.js with js/bind.js and the glue in one minified file, in pkg/ (where
// `../pkg/…` from js/ still names the same files).
await esbuild.build({
  entryPoints: [`${root}js/browser.js`],
  outfile: pkg('browser.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  logLevel: 'warning',
});

await esbuild.build({
  entryPoints: [`${root}js/node.js`],
  outfile: pkg('index.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // pkg/index.cjs sits in pkg/, where `../pkg/…` from js/ still names the same files.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

/** wasm-bindgen's declarations of `name` without its loader functions, whose types need the DOM lib. */
function declarationsOf(name) {
  const generated = readFileSync(pkg(`${name}.d.ts`), 'utf8');
  const loaderAt = generated.indexOf('export type InitInput');
  // `[Symbol.dispose]` needs lib esnext.disposable; `free()` does the same. (Already stripped: as is;
  // the consumers' tsc check without the DOM lib fails if wasm-bindgen's layout ever changes.)
  return generated.slice(0, loaderAt < 0 ? undefined : loaderAt).replace(/^\s*\[Symbol\.dispose\]\(\): void;\n/gm, '');
}

// The proxy entries (js/proxy.d.ts) import the edge build's declarations.
writeFileSync(pkg('singing_cloning_edge.d.ts'), declarationsOf('singing_cloning_edge'));

const declarations =
  '// The declarations of `singing-cloning` (every entry): made by scripts/package-entries.mjs.\n' +
  declarationsOf('singing_cloning') +
  '/**\n' +
  ' * Resolves when the synchronous functions (`validate`, `parseResponse`, `resultUrl`) can be called;\n' +
  ' * already resolved in Node, Deno, Bun and Workers. Rejects with code `not_ready` if the\n' +
  " * WebAssembly cannot be loaded. The client's constructor and async methods wait by themselves.\n" +
  ' */\n' +
  'export declare const ready: Promise<void>;\n';
writeFileSync(pkg('index.d.ts'), declarations);
writeFileSync(pkg('index.d.cts'), declarations);
