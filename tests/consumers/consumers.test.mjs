// The package as its users meet it: packed with `npm pack`, installed from the tarball into small
// real apps (tests/consumers/apps/, tool versions pinned in tests/consumers/package.json), built
// with each toolchain's defaults, and run where users run them: pages and a module worker in
// headless Chromium, a Worker in real workerd, and Node (ESM and CommonJS), Deno and Bun. Each
// runs check.js: `validate` must name the bad model name and a client call must reach an emulator,
// with no console error. Also: the declarations under tsc's resolution modes, with and without
// the DOM lib, and the tarball's contents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

import { launchChromium } from '../support/chromium.mjs';
import { startEmulator } from '../support/emulator.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const APPS = path.join(HERE, 'apps');
const BIN = path.join(HERE, 'node_modules/.bin');
const MODEL_NAME_ISSUE = 'createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName pattern';

let emulator;
let browser;
let tarball;
const work = mkdtempSync(path.join(tmpdir(), 'singing-cloning-consumers-'));

/** Runs a command to its end; throws with its output when it fails. */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { cwd: HERE, encoding: 'utf8', stdio: 'pipe', timeout: 300_000, ...options });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  }
}

/** Colour and style escapes, should a tool print them anyway. */
const ANSI_ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Starts a long-running command and resolves once `ready` matches its output. */
function serve(command, args, ready, options = {}) {
  // No colours: with CI set, the tools colour their output even into a pipe.
  const env = { ...process.env, ...options.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  const child = spawn(command, args, { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'], ...options, env });
  let output = '';
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Killed, or its open pipes would keep this test file from ever ending.
      child.kill('SIGKILL');
      reject(new Error(`${command} did not start within 120 s:\n${output}`));
    }, 120_000);
    const onData = (chunk) => {
      output += String(chunk).replace(ANSI_ESCAPES, '');
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}:\n${output}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return started.then((match) => ({ match, stop, output: () => output }));
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
};

/** A static file server for a built app's output folder, as any host would serve it. */
function serveStatic(dir) {
  const server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end('not found');
      return;
    }
    response
      .writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' })
      .end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }),
    ),
  );
}

/** The page of the apps whose toolchain makes none: runs the bundle `main.js`. */
const PLAIN_PAGE =
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">' +
  '<pre id="result">pending</pre><script src="main.js"></script>\n';

/** Opens `url` in Chromium, waits for the app's result, and returns it with the console errors. */
async function inChromium(url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', (response) => response.status() >= 400 && errors.push(`${response.status()} ${response.url()}`));
  try {
    await page.goto(`${url}${url.includes('?') ? '&' : '?'}api=${encodeURIComponent(emulator.api)}`);
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== 'pending', null, {
      timeout: 60_000,
    });
    return { result: JSON.parse(await page.textContent('#result')), errors };
  } finally {
    await page.close();
  }
}

/** The check's result as every consumer must report it. `early`: what a sync call before `ready` did. */
function assertChecked({ result, errors = [] }, early) {
  assert.equal(result.ok, true, `the app failed: ${result.error}`);
  assert.deepEqual(result.issues, [MODEL_NAME_ISSUE]);
  assert.equal(typeof result.total, 'number', 'the client call did not reach the emulator');
  // Where the WebAssembly loads asynchronously, the early call may come before or after it is
  // there (a cached file, a framework's effect running late): it must work or say `not_ready`,
  // never fail otherwise. tests/node/readiness.test.mjs pins the `not_ready` case down.
  const allowed = early === 'ok' ? ['ok'] : ['ok', 'not_ready'];
  assert.ok(allowed.includes(result.early), `a synchronous call before \`ready\`: ${result.early}`);
  assert.deepEqual(errors, [], 'console errors');
}

/** The Vite app's page and its module worker both checked (each loads the WebAssembly asynchronously). */
function assertCheckedWithWorker(checked) {
  const { worker, ...page } = checked.result;
  assertChecked({ ...checked, result: page }, 'not_ready');
  assertChecked({ result: { ok: true, ...worker } }, 'not_ready');
}

before(async () => {
  // The tools are installed by scripts/setup.sh (npm ci here); the package, fresh from this tree.
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }));
  tarball = path.join(work, packed[0].filename);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', tarball]);
  emulator = await startEmulator(['--job-ms', '50']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await emulator?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the licence and what consumers load, nothing else', () => {
  const listed = run('tar', ['-tzf', tarball])
    .trim()
    .split('\n')
    .map((name) => name.replace(/^package\//, ''));
  for (const name of [
    'LICENSE',
    'LICENSE-MIT',
    'LICENSE-APACHE',
    'package.json',
    'README.md',
    'js/browser.js',
    'js/node.js',
    'js/workerd.js',
    'pkg/index.cjs',
    'pkg/index.d.ts',
    'pkg/singing_cloning_bg.wasm',
  ]) {
    assert.ok(listed.includes(name), `${name} is missing from the tarball`);
  }
  const unexpected = listed.filter(
    (name) =>
      !new RegExp(
        String.raw`^(LICENSE(-MIT|-APACHE)?|package\.json|README\.md|js\/[\w-]+\.(js|d\.ts)|` +
          String.raw`pkg\/[\w-]+(\.inline)?\.(js|cjs|wasm|d\.ts|d\.cts))$`,
      ).test(name),
  );
  assert.deepEqual(unexpected, []);
});

test('Vite 7 dev server: the page', async () => {
  // The dev server's root is the app's project folder, with node_modules in it, as in a new Vite app.
  // Vite 7 by its own path: both pinned Vites install a `vite` command, and either may win .bin/.
  const vite7 = path.join(HERE, 'node_modules/vite7/bin/vite.js');
  const dev = await serve(
    process.execPath,
    [vite7, '--port', '0', '--host', '127.0.0.1'],
    /Local:\s+(http:\/\/\S+?)\/?\s/,
  );
  try {
    assertCheckedWithWorker(await inChromium(`${dev.match[1]}/apps/vite/`));
  } finally {
    await dev.stop();
  }
});

for (const [name, vite] of [
  ['Vite 7', 'vite7'],
  ['Vite 6 (default targets)', 'vite6'],
]) {
  test(`${name} build: the page and a module worker at the default worker settings`, async () => {
    const out = path.join(work, vite);
    const bin = path.join(HERE, `node_modules/${vite}/bin/vite.js`);
    run(process.execPath, [bin, 'build', 'apps/vite', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn']);
    const site = await serveStatic(out);
    try {
      assertCheckedWithWorker(await inChromium(`${site.url}/`));
    } finally {
      site.close();
    }
  });
}

test('webpack 5 with no configuration', async () => {
  run(process.execPath, [path.join(HERE, 'node_modules/webpack-cli/bin/cli.js'), '--mode', 'production'], {
    cwd: path.join(APPS, 'webpack'),
  });
  const dist = path.join(APPS, 'webpack/dist');
  writeFileSync(path.join(dist, 'index.html'), PLAIN_PAGE);
  const site = await serveStatic(dist);
  try {
    assertChecked(await inChromium(`${site.url}/`), 'not_ready');
  } finally {
    site.close();
  }
});

test('esbuild --bundle --platform=browser, no flags', async () => {
  const out = path.join(work, 'esbuild');
  run(path.join(ROOT, 'node_modules/.bin/esbuild'), [
    path.join(APPS, 'esbuild/main.js'),
    '--bundle',
    '--platform=browser',
    `--outfile=${out}/main.js`,
    '--log-level=error',
  ]);
  // The README's one step for esbuild: the WebAssembly file next to the bundle.
  cpSync(
    path.join(HERE, 'node_modules/singing-cloning/pkg/singing_cloning_bg.wasm'),
    path.join(out, 'singing_cloning_bg.wasm'),
  );
  writeFileSync(path.join(out, 'index.html'), PLAIN_PAGE);
  const site = await serveStatic(out);
  try {
    assertChecked(await inChromium(`${site.url}/`), 'not_ready');
  } finally {
    site.close();
  }
});

test('Next.js 15 app router: prerendered with next build, served by next start', async () => {
  const app = path.join(APPS, 'next');
  run(process.execPath, [path.join(HERE, 'node_modules/next/dist/bin/next'), 'build', app], {
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  const server = await serve(
    process.execPath,
    [path.join(HERE, 'node_modules/next/dist/bin/next'), 'start', app, '-p', '0', '-H', '127.0.0.1'],
    /(http:\/\/127\.0\.0\.1:\d+)/,
    {
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    },
  );
  try {
    assertChecked(await inChromium(`${server.match[1]}/`), 'not_ready');
  } finally {
    await server.stop();
  }
});

test('Cloudflare workerd: a Worker bundled the way wrangler bundles', async () => {
  const out = path.join(work, 'workerd');
  mkdirSync(out, { recursive: true });
  // wrangler's own rule: `.wasm` imports stay imports, of modules it uploads beside the bundle.
  const wasmModules = {
    name: 'wasm-modules',
    setup(build) {
      build.onResolve({ filter: /\.wasm$/ }, (args) => {
        const file = path.resolve(args.resolveDir, args.path);
        cpSync(file, path.join(out, path.basename(file)));
        return { path: `./${path.basename(file)}`, external: true };
      });
    },
  };
  await esbuild.build({
    entryPoints: [path.join(APPS, 'workerd/worker.js')],
    outfile: path.join(out, 'worker.js'),
    bundle: true,
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'error',
    plugins: [wasmModules],
  });
  writeFileSync(
    path.join(out, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker), ` +
      `(name = "loopback", network = (allow = ["public", "private", "local"]))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "singing_cloning_bg.wasm", wasm = embed "singing_cloning_bg.wasm"),
  ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
);
`,
  );
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const workerd = spawn(
    path.join(ROOT, 'node_modules/.bin/workerd'),
    ['serve', path.join(out, 'config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logs = '';
  workerd.stdout.on('data', (chunk) => (logs += chunk));
  workerd.stderr.on('data', (chunk) => (logs += chunk));
  try {
    let answer;
    for (let attempt = 0; attempt < 200 && !answer; attempt++) {
      answer = await fetch(`http://127.0.0.1:${port}/?api=${encodeURIComponent(emulator.api)}`).then(
        (r) => r.json(),
        () => undefined,
      );
      if (!answer) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(answer, `workerd did not answer:\n${logs}`);
    assertChecked({ result: answer }, 'ok');
    assert.doesNotMatch(logs, /error|uncaught/i, 'workerd logged an error');
  } finally {
    workerd.kill('SIGTERM');
  }
});

for (const [name, command, args] of [
  ['Node ESM', process.execPath, []],
  ['Deno', path.join(ROOT, 'node_modules/.bin/deno'), ['run', '--allow-net', '--allow-read', '--allow-env']],
  ['Bun', `${BIN}/bun`, []],
]) {
  test(`${name}: import`, () => {
    const output = run(command, [...args, path.join(APPS, 'runtimes/check.mjs'), emulator.api], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    assertChecked({ result: JSON.parse(output.trim().split('\n').at(-1)) }, 'ok');
  });
}

/** tsc over apps/types with one configuration; returns its output (empty when clean). */
function tsc(options, files) {
  const config = path.join(
    APPS,
    'types',
    `tsconfig.${options.moduleResolution}-${options.lib.length > 1 ? 'dom' : 'nodom'}.json`,
  );
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, types: [], target: 'ES2022', ...options },
      files,
    }),
  );
  try {
    return run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config]);
  } finally {
    rmSync(config);
  }
}

for (const moduleResolution of ['bundler', 'node16', 'nodenext']) {
  for (const lib of [['ES2022'], ['ES2022', 'DOM']]) {
    test(`TypeScript --strict, moduleResolution ${moduleResolution}, lib ${lib.join('+')}`, () => {
      const module = moduleResolution === 'bundler' ? 'ESNext' : moduleResolution;
      const files = moduleResolution === 'bundler' ? ['usage.ts'] : ['usage.ts', 'usage.cts'];
      tsc({ moduleResolution, module, lib }, files);
    });
  }
}

test('Node CommonJS: a .cts file that compiles also runs (require)', () => {
  const out = path.join(work, 'cts');
  const config = path.join(APPS, 'types', 'tsconfig.emit.json');
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'ES2022',
        lib: ['ES2022'],
        types: [],
        outDir: out,
        rootDir: '.',
      },
      files: ['usage.cts'],
    }),
  );
  try {
    run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config]);
  } finally {
    rmSync(config);
  }
  // Run from inside the consumers' folder, where `require('singing-cloning')` finds the tarball.
  const compiled = path.join(APPS, 'types', 'usage.compiled.cjs');
  cpSync(path.join(out, 'usage.cjs'), compiled);
  try {
    const output = run(process.execPath, [compiled, emulator.api]);
    assertChecked({ result: JSON.parse(output.trim().split('\n').at(-1)) }, 'ok');
  } finally {
    rmSync(compiled);
  }
});
