// Starts the local emulator binary on a free port and reads its URL from the first line
// it prints. Used by the Node tests and by scripts/with-emulator.mjs.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The emulator binary: $SINGING_CLONING_EMULATOR_BIN, or the release build in target/. */
export const emulatorBin = process.env.SINGING_CLONING_EMULATOR_BIN || `${root}target/release/singing-cloning-emulator`;

/**
 * Starts an emulator. `args` are extra flags (e.g. ['--job-ms', '50']).
 * Resolves to { api, origin, secretId, secretKey, stop() }: `api` is the base URL with
 * its /release stage, `origin` the server's root (admin endpoints, content store).
 */
export async function startEmulator(args = [], { quiet = true } = {}) {
  const child = spawn(emulatorBin, ['--port', '0', ...args], {
    stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const api = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the emulator did not start within 30 s')), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /listening on (http:\/\/\S+)/.exec(line);
      match ? resolve(match[1]) : reject(new Error(`unexpected first line: ${line}`));
    });
  });
  if (!quiet) lines.on('line', (line) => console.log(`[emulator] ${line}`));
  else lines.resume();
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return {
    api,
    origin: new URL(api).origin,
    secretId: 'local-secret-id',
    secretKey: 'local-secret-key',
    stop,
    process: child,
  };
}
