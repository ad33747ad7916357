// Item 2's child: one fresh Node process per measurement. Times, from before the dynamic
// import to after the first result, importing one subject and making its first result:
// ours: `validate` of a CreateJob body; the peers: their client; the hand-rolled clients:
// their client and its first validation (zod and ajv compile on first use). Prints JSON.
import { performance } from 'node:perf_hooks';

const subject = process.argv[2];
// The body is built before the clock starts, so that only the subject is timed.
const body = {
  action: 'CreateJob',
  createJobRequest: {
    customId: 'cover_2024_001',
    inputs: [{ url: 'https://cdn.example.com/songs/song.wav' }],
    outputs: [
      {
        contentId: 'covers',
        inputSelectors: [0],
        smartContentDescriptor: { singingCloning: { type: 1, modelName: 'default' } },
      },
    ],
  },
};

let result;
const start = performance.now();
switch (subject) {
  case 'ours': {
    const { validate } = await import('singing-cloning');
    result = validate(body);
    break;
  }
  case 'fal': {
    const { createFalClient } = await import('@fal-ai/client');
    result = createFalClient({ proxyUrl: '/api/fal/proxy' });
    break;
  }
  case 'replicate': {
    const { default: Replicate } = await import('replicate');
    result = new Replicate({ auth: 'r8_benchmark_token_not_used' });
    break;
  }
  case 'handrolled-zod':
  case 'handrolled-ajv': {
    const { make } = await import(`./peers/${subject}.mjs`);
    result = make().validate(body);
    break;
  }
  default:
    throw new Error(`unknown subject ${subject}`);
}
const ms = performance.now() - start;
if (result == null || (Array.isArray(result) && result.length))
  throw new Error(`${subject}: unexpected first result ${JSON.stringify(result)}`);
process.stdout.write(`${JSON.stringify({ subject, ms })}\n`);
