// An uncaught SingingCloningError, as Node prints it to a developer's terminal: its name, code and
// message and a short stack, not the wasm-bindgen glue's source (which once came as one 12 KB line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

for (const [name, args] of [
  [
    'ESM',
    [
      '--input-type=module',
      '-e',
      "import { parseResponse } from 'singing-cloning'; parseResponse('GetJob', 'not json');",
    ],
  ],
  ['CommonJS', ['-e', "require('singing-cloning').parseResponse('GetJob', 'not json');"]],
]) {
  test(`an uncaught error prints readably (${name})`, () => {
    const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /SingingCloningError/);
    assert.match(run.stderr, /code: 'parse'/);
    assert.match(run.stderr, /not JSON|JSON/i);
    const longest = Math.max(...run.stderr.split('\n').map((line) => line.length));
    assert.ok(run.stderr.length < 3000, `${run.stderr.length} characters printed:\n${run.stderr.slice(0, 3000)}`);
    assert.ok(longest < 300, `a line of ${longest} characters`);
  });
}
