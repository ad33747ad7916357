// What a TypeScript user writes against the package's declarations: `tsc --noEmit` must
// accept it (tests/node/types.test.mjs), and the lines marked @ts-expect-error must fail.
import { validate, parseResponse, SingingCloningClient } from 'singing-cloning';
import type {
  Issue,
  Job,
  JobWithStatus,
  CreateJobRequest,
  SingingCloningError,
  ResponseBody,
  GenerateParams,
  TrainParams,
  UploadProgress,
  UploadOptions,
  FileData,
  JobStatus,
} from 'singing-cloning';
import { createProxyHandler, configFromEnv, verifyWebhook } from 'singing-cloning/proxy';
import type { ProxyErrorCode } from 'singing-cloning/proxy';

const issues: Issue[] = validate({ action: 'GetJob', getJobRequest: { id: 'x' } });
const codes: string[] = issues.map((issue) => `${issue.path} ${issue.code} ${issue.message}`);

const body: ResponseBody = parseResponse('GetJob', '{}', 200);
const job: JobWithStatus | undefined = body.getJobResponse?.job;
const state: number | undefined = job?.state;
const status: 'SUBMITTED' | 'PROCESSING' | 'COMPLETED' | 'ERROR' | 'CANCELED' | 'UNKNOWN' | undefined = job?.status;
const plain: Job | undefined = job;

const request: CreateJobRequest = {
  inputs: [{ url: 'https://example.com/a.wav' }],
  outputs: [
    { inputSelectors: [0], smartContentDescriptor: { singingCloning: { type: 2, modelName: 'alto', totalEpoch: 10 } } },
  ],
  customId: 'lesson_1',
};

async function use(client: SingingCloningClient, signal: AbortSignal): Promise<string | undefined> {
  const created: JobWithStatus = await client.createJob(request, { signal });
  const params: GenerateParams = {
    url: 'https://example.com/song.mp3',
    modelName: 'alto',
    contentId: 'covers',
    separateVocals: true,
  };
  const cover = await client.generate(params);
  const training: TrainParams = {
    source: { contentId: 'samples', path: '/voice.wav' },
    modelName: 'alto',
    totalEpoch: 10,
  };
  await client.train({ ...training, signal });
  // Files: uploaded through the proxy, by themselves or as a job's input.
  const take = new File([new Uint8Array(44)], 'take.wav', { type: 'audio/wav' });
  const onProgress = ({ loaded, total }: UploadProgress): void => console.log(`${loaded} of ${total}`);
  const input: { url: string } = await client.upload(take, { signal, onProgress });
  const options: UploadOptions = { contentType: 'audio/mpeg' };
  const bytes: FileData[] = [new Uint8Array(4), new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), take];
  for (const data of bytes) await client.upload(data, options);
  await client.train({ file: take, modelName: 'alto', totalEpoch: 10, onProgress, signal });
  const fromBytes: GenerateParams = {
    file: new Uint8Array(4),
    contentType: 'audio/flac',
    modelName: 'alto',
    contentId: 'covers',
  };
  await client.generate({ ...fromBytes, url: input.url, file: undefined });
  const done = await client.waitForJob(cover.id, { timeoutMs: 60_000, onUpdate: (j) => console.log(j.status), signal });
  const { jobs, total } = await client.listJobs(created.customId ?? '');
  const page = await client.listModels({ offset: 0, limit: 10 });
  for await (const model of client.models()) console.log(model.name, model.createdAt, jobs.length, total, page.total);
  for await (const job of client.events({ signal })) {
    const state: JobStatus = job.status;
    const typed: JobWithStatus = job;
    if (typed.id === cover.id && state === 'COMPLETED') break;
  }
  // @ts-expect-error events() yields jobs, not strings
  for await (const id of client.events()) id.startsWith('x') && console.log(id);
  const output = done.outputs?.[0];
  return output ? client.resultUrl(output, 'https://cos.example/covers') : undefined;
}

function explain(error: unknown): string {
  const e = error as SingingCloningError;
  return `${e.code} ${e.status ?? ''} ${e.requestId ?? ''} ${e.retryable} ${(e.issues ?? []).length}`;
}

const client = new SingingCloningClient({ endpoint: '/api/singing-cloning', timeoutMs: 10_000, maxRetries: 3 });
const handler: (request: Request) => Promise<Response> = createProxyHandler(
  configFromEnv({ SINGING_CLONING_ENDPOINT: 'https://x.example/release' }),
);
const refused: ProxyErrorCode = 'job_not_found';
// @ts-expect-error: the proxy's codes are one type, in one casing
const misspelt: ProxyErrorCode = 'JobNotFound';
const verified = verifyWebhook({ headers: new Headers(), body: '{}' }, 'whsec_c2VjcmV0', { toleranceSeconds: 300 });

const wrongType: CreateJobRequest = {
  inputs: [],
  outputs: [
    {
      inputSelectors: [0],
      smartContentDescriptor: {
        singingCloning: {
          // @ts-expect-error: type is 1 or 2
          type: 3,
          modelName: 'x',
        },
      },
    },
  ],
};
const wrongSwitch: GenerateParams = {
  url: 'https://example.com/song.mp3',
  modelName: 'alto',
  contentId: 'covers',
  // @ts-expect-error: separateVocals is true or false, not the wire's switch
  separateVocals: 2,
};
// @ts-expect-error: a generation needs the repository it writes to
const noRepository: GenerateParams = { url: 'https://example.com/song.mp3', modelName: 'alto' };
// @ts-expect-error: an action name the API does not have
parseResponse('DeleteJob', '{}');
// @ts-expect-error: a file is bytes, not text
const textFile: TrainParams = { file: 'RIFF....WAVE', modelName: 'alto' };
async function uploadText(client: SingingCloningClient): Promise<void> {
  // @ts-expect-error: upload takes bytes, not text
  await client.upload('RIFF....WAVE', { contentType: 'audio/wav' });
}

export {
  codes,
  state,
  status,
  plain,
  use,
  explain,
  client,
  handler,
  verified,
  wrongType,
  wrongSwitch,
  noRepository,
  refused,
  misspelt,
  textFile,
  uploadText,
};
