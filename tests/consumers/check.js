// What every consumer app runs once it has imported the package the way its toolchain does: a
// synchronous call before `ready` (which only a page that loads the WebAssembly asynchronously
// refuses, with `not_ready`), then `validate` on a bad model name and a client call that reaches
// the emulator at `api`. The harness (consumers.test.mjs) compares the result with what it expects.
import { ready, validate, SingingCloningClient } from 'singing-cloning';

const BAD_MODEL_NAME = {
  action: 'CreateJob',
  createJobRequest: {
    inputs: [{ url: 'https://example.com/voice.wav' }],
    outputs: [{ inputSelectors: [0], smartContentDescriptor: { singingCloning: { type: 2, modelName: 'my voice' } } }],
  },
};

/** Runs the check; resolves to `{ early, issues, total }` (plain data, for postMessage and JSON). */
export async function check(api) {
  let early;
  try {
    validate(BAD_MODEL_NAME);
    early = 'ok';
  } catch (error) {
    early = error.code;
  }
  // The constructor and an async method, before `ready`: they wait by themselves.
  const client = new SingingCloningClient({
    endpoint: api,
    secretId: 'local-secret-id',
    secretKey: 'local-secret-key',
    dangerouslyAllowCredentialsInBrowser: true,
  });
  const listed = client.listModels({ limit: 1 });
  await ready;
  const issues = validate(BAD_MODEL_NAME).map(({ path, code }) => `${path} ${code}`);
  const { total } = await listed;
  return { early, issues, total };
}
