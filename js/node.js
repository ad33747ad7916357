// `singing-cloning` in Node, Deno and Bun (ESM; pkg/index.cjs is this file built as CommonJS):
// the WebAssembly is read and instantiated synchronously at import, so `ready` is already
// resolved and no top-level await is needed (which keeps `require()` working).
import { readFileSync } from 'node:fs';
import * as glue from '../pkg/singing_cloning.js';
import { bindApi } from './bind.js';

const load = () => glue.initSync({ module: readFileSync(new URL('../pkg/singing_cloning_bg.wasm', import.meta.url)) });

export const { ready, validate, parseResponse, SingingCloningClient } = bindApi(glue, load);
