// The same package from CommonJS: compiled by tsc (module node16) to usage.cjs, which the harness
// then runs with Node, `node usage.cjs API`, printing the check's result.
import { ready, validate, SingingCloningClient } from 'singing-cloning';
import type { Issue } from 'singing-cloning';

// Compiled without @types/node or the DOM lib: what this file uses of Node, declared here.
declare const process: { argv: string[]; exitCode?: number };
declare const console: { log(...values: unknown[]): void; error(...values: unknown[]): void };

async function main(api: string): Promise<void> {
  let early = 'ok';
  try {
    validate({});
  } catch (error) {
    early = (error as { code: string }).code;
  }
  const client = new SingingCloningClient({
    endpoint: api,
    secretId: 'local-secret-id',
    secretKey: 'local-secret-key',
  });
  await ready;
  const issues: Issue[] = validate({
    action: 'CreateJob',
    createJobRequest: {
      inputs: [{ url: 'https://example.com/voice.wav' }],
      outputs: [
        { inputSelectors: [0], smartContentDescriptor: { singingCloning: { type: 2, modelName: 'my voice' } } },
      ],
    },
  });
  const { total } = await client.listModels({ limit: 1 });
  console.log(JSON.stringify({ ok: true, early, issues: issues.map(({ path, code }) => `${path} ${code}`), total }));
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
