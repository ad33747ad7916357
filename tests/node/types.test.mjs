// The package's TypeScript declarations, as a TypeScript user compiles against them:
// tests/types/usage.ts must type-check, and its @ts-expect-error lines must be errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the declarations type-check a typical use of the client, the validators and the proxy', () => {
  const tsc = spawnSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tests/types/tsconfig.json`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
