// Node ESM, Deno and Bun: `<runtime> check.mjs API` prints the check's result as JSON.
import { check } from '../../check.js';

console.log(JSON.stringify({ ok: true, ...(await check(globalThis.Deno?.args[0] ?? process.argv[2])) }));
