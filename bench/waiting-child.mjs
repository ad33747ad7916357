// Item 6's child, on a virtual clock (lib/virtual-clock.mjs): the real `waitForJob` of our
// client and a fixed 500 ms poller (the peers' default: @fal-ai/client's queue and
// replicate's `wait` both poll every 500 ms) wait for jobs of 5, 30 and 120 s, against a fake
// `fetch` that answers GetJob from the virtual time: SUBMITTED for the first second,
// PROCESSING until the job's length, then COMPLETED. Each request takes a simulated round
// trip drawn from 20–80 ms (seeded), the service reading the state halfway. Prints JSON:
// { [seconds]: { ours: [{ requests, delayMs, updates }], fixed: [...] } }.
import { VirtualClock } from './lib/virtual-clock.mjs';

const repeats = Number(process.argv[2] ?? 5);
const JOBS_S = [5, 30, 120];

const clock = new VirtualClock().install();
const { SingingCloningClient } = await import('singing-cloning');

let seed = 20261125;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

/** A fake service with one job of `lengthMs`, created at virtual time `createdAt`. */
function fakeService(lengthMs, createdAt) {
  const log = { requests: 0 };
  const jobId = '7b0c3f4e-0000-4000-8000-000000000001';
  const fetch = async (input, init) => {
    log.requests++;
    const request = input instanceof Request ? input : new Request(input, init);
    const body = JSON.parse(await request.text());
    if (body.action !== 'GetJob' || body.getJobRequest?.id !== jobId)
      throw new Error(`unexpected request ${JSON.stringify(body)}`);
    const rtt = 20 + random() * 60;
    await clock.sleep(rtt / 2);
    const t = clock.now - createdAt;
    const state = t < 1000 ? 1 : t < lengthMs ? 2 : 3;
    const at = (ms) => String(clock.epoch + createdAt + ms);
    const job = {
      id: jobId,
      state,
      customId: 'bench_wait',
      timing: {
        createdAt: at(0),
        startedAt: state >= 2 ? at(1000) : '0',
        completedAt: state === 3 ? at(lengthMs) : '0',
      },
      inputs: [{ url: 'https://cdn.example.com/song.wav' }],
      outputs: [
        {
          contentId: 'covers',
          inputSelectors: [0],
          smartContentDescriptor: { singingCloning: { type: 1, modelName: 'default' } },
        },
      ],
    };
    const text = JSON.stringify({ requestId: `r${log.requests}`, getJobResponse: { job } });
    await clock.sleep(rtt / 2);
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, log, jobId };
}

async function ours(lengthMs) {
  const createdAt = clock.now;
  const service = fakeService(lengthMs, createdAt);
  const client = new SingingCloningClient({
    endpoint: 'https://bench.invalid/release',
    secretId: 'bench-secret-id',
    secretKey: 'bench-secret-key',
    fetch: service.fetch,
  });
  let updates = 0;
  const job = await clock.run(client.waitForJob(service.jobId, { onUpdate: () => updates++ }));
  if (job.status !== 'COMPLETED') throw new Error(`waitForJob ended with ${job.status}`);
  return { requests: service.log.requests, delayMs: clock.now - createdAt - lengthMs, updates };
}

async function fixed(lengthMs) {
  const createdAt = clock.now;
  const service = fakeService(lengthMs, createdAt);
  const poll = async () => {
    for (;;) {
      const response = await service.fetch('https://bench.invalid/release/job', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          action: 'GetJob',
          secretId: 'bench-secret-id',
          secretKey: 'bench-secret-key',
          getJobRequest: { id: service.jobId },
        }),
      });
      const job = JSON.parse(await response.text()).getJobResponse.job;
      if (job.state >= 3) return job;
      await clock.sleep(500);
    }
  };
  await clock.run(poll());
  return { requests: service.log.requests, delayMs: clock.now - createdAt - lengthMs };
}

const results = {};
for (const seconds of JOBS_S) {
  results[seconds] = { ours: [], fixed: [] };
  for (let i = 0; i < repeats; i++) {
    results[seconds].ours.push(await ours(seconds * 1000));
    results[seconds].fixed.push(await fixed(seconds * 1000));
  }
}
clock.uninstall();
process.stdout.write(`${JSON.stringify(results)}\n`);
