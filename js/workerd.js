// `singing-cloning` in Cloudflare Workers: the WebAssembly arrives as a compiled module through a
// static import (wrangler bundles `.wasm` imports so), since workerd forbids fetching at the top
// level. Instantiating it is synchronous, so `ready` is already resolved.
import * as glue from '../pkg/singing_cloning.js';
import wasm from '../pkg/singing_cloning_bg.wasm';
import { bindApi } from './bind.js';

export const { ready, validate, parseResponse, SingingCloningClient } = bindApi(glue, () =>
  glue.initSync({ module: wasm }),
);
