// The readiness contract of the page entry (pkg/browser.js), with its WebAssembly held back: a
// synchronous call before `ready` throws `not_ready`, the client's constructor and async methods
// wait, and everything works once the file arrives; a file that never comes rejects `ready` with
// `not_ready` and its cause. The page entry loads by `fetch`, so Node can play the browser here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const ROOT = new URL('../..', import.meta.url);
const wasm = readFileSync(new URL('pkg/singing_cloning_bg.wasm', ROOT));
const BAD_NAME = { action: 'GetJob', getJobRequest: { id: '' } };

/** A fresh copy of the page entry (its own module instance), loading through `fetch`. */
async function pageEntry(fetch) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = fetch;
  try {
    return await import(`${new URL('pkg/browser.js', ROOT)}?copy=${Math.random()}`);
  } finally {
    globalThis.fetch = realFetch;
  }
}

test('before the WebAssembly arrives, sync calls say not_ready and the client waits', async () => {
  let deliver;
  const arrived = new Promise((resolve) => (deliver = resolve));
  const sdk = await pageEntry(() => arrived);
  assert.throws(
    () => sdk.validate(BAD_NAME),
    (error) =>
      error.name === 'SingingCloningError' &&
      error.code === 'not_ready' &&
      error.retryable === true &&
      /await ready/.test(error.message),
  );
  // The constructor works now; its options are checked at the first call.
  const client = new sdk.SingingCloningClient({ endpoint: 'http://127.0.0.1:9/release', timeoutMs: 'soon' });
  const call = client.getJob('x');
  deliver(new Response(wasm, { headers: { 'content-type': 'application/wasm' } }));
  await sdk.ready;
  assert.deepEqual(
    sdk.validate(BAD_NAME).map((issue) => issue.code),
    ['required'],
  );
  await assert.rejects(call, (error) => error.code === 'validation' && error.issues[0].path === 'options.timeoutMs');
});

test('a file that is not WebAssembly rejects ready with not_ready and the cause', async () => {
  const sdk = await pageEntry(
    async () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }),
  );
  await assert.rejects(sdk.ready, (error) => error.code === 'not_ready' && /no WebAssembly/.test(error.message));
  assert.throws(
    () => sdk.validate(BAD_NAME),
    (error) => error.code === 'not_ready' && error.retryable === false,
  );
  await assert.rejects(new sdk.SingingCloningClient().getJob('x'), (error) => error.code === 'not_ready');
});
