// Runs a command with an emulator started for it: node scripts/with-emulator.mjs [emulator flags] -- command args…
// The command sees SINGING_CLONING_TEST_ENDPOINT (the API base) and SINGING_CLONING_TEST_ORIGIN.
import { spawn } from 'node:child_process';
import { startEmulator } from '../tests/support/emulator.mjs';

const split = process.argv.indexOf('--');
const flags = process.argv.slice(2, split < 0 ? undefined : split);
const [command, ...args] = split < 0 ? [] : process.argv.slice(split + 1);
if (!command) {
  console.error('usage: node scripts/with-emulator.mjs [emulator flags] -- command args…');
  process.exit(2);
}
const emulator = await startEmulator(flags);
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, SINGING_CLONING_TEST_ENDPOINT: emulator.api, SINGING_CLONING_TEST_ORIGIN: emulator.origin },
});
const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(signal ? 1 : c)));
await emulator.stop();
process.exit(code);
