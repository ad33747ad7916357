// What a TypeScript user writes against `singing-cloning` (ESM): the harness compiles it with
// --strict under each moduleResolution, with and without the DOM lib; it must be clean.
import { ready, validate, parseResponse, SingingCloningClient } from 'singing-cloning';
import type { Issue, JobWithStatus, SingingCloningError, ResponseBody, GenerateParams } from 'singing-cloning';
import { createProxyHandler, configFromEnv } from 'singing-cloning/proxy';

export async function use(api: string): Promise<string | undefined> {
  const client = new SingingCloningClient({ endpoint: api, timeoutMs: 10_000 });
  await ready;
  const issues: Issue[] = validate({ action: 'GetJob', getJobRequest: { id: 'x' } });
  // The status is optional: 200 by default.
  const body: ResponseBody = parseResponse('GetJob', '{}');
  const job: JobWithStatus | undefined = body.getJobResponse?.job;
  const params: GenerateParams = { url: 'https://example.com/song.mp3', modelName: 'alto', contentId: 'covers' };
  const cover = await client.generate(params);
  const done = await client.waitForJob(cover.id, { timeoutMs: 60_000, onUpdate: (j) => j.status });
  for await (const model of client.models({ limit: 10 })) issues.push({ path: model.name, code: 'type', message: '' });
  return done.outputs?.[0] ? client.resultUrl(done.outputs[0], 'https://cos.example/covers') : job?.status;
}

export function explain(error: unknown): string {
  const e = error as SingingCloningError;
  return e.code === 'not_ready' ? 'await ready first' : `${e.code} ${e.status ?? ''}`;
}

export const handler = createProxyHandler(configFromEnv({ SINGING_CLONING_ENDPOINT: 'https://x.example/release' }));
