// tests/node/wait.test.mjs's child, on a virtual clock (bench/lib/virtual-clock.mjs, which
// replaces setTimeout, clearTimeout and Date.now for the whole process): the package's
// `waitForJob`, polling (a client with credentials never asks for events), against a fake
// service whose one job is COMPLETED from `endsAt` virtual ms on (never, when absent), answering
// at once. Prints JSON: `{ reads: [virtual ms of each GetJob], status, code, at }`.
// Argument: JSON `{ client, wait, endsAt }` (the client's and waitForJob's options).
import { VirtualClock } from '../../bench/lib/virtual-clock.mjs';

const { client: clientOptions = {}, wait = {}, endsAt } = JSON.parse(process.argv[2]);
const clock = new VirtualClock().install();
const { SingingCloningClient } = await import('singing-cloning');

const reads = [];
const id = '7b0c3f4e-0000-4000-8000-000000000002';
const fetch = async (request) => {
  const body = JSON.parse(await request.text());
  if (body.action !== 'GetJob' || body.getJobRequest.id !== id) throw new Error(`unexpected ${JSON.stringify(body)}`);
  reads.push(clock.now);
  const state = endsAt !== undefined && clock.now >= endsAt ? 3 : 1;
  const job = { id, state, customId: 'clock', timing: { createdAt: String(clock.epoch) }, inputs: [], outputs: [] };
  return new Response(JSON.stringify({ requestId: `r${reads.length}`, getJobResponse: { job } }));
};
const client = new SingingCloningClient({
  endpoint: 'https://clock.invalid/release',
  secretId: 'clock-id',
  secretKey: 'clock-key',
  fetch,
  ...clientOptions,
});
const outcome = await clock.run(client.waitForJob(id, wait)).then(
  (job) => ({ status: job.status }),
  (error) => ({ code: error.code }),
);
process.stdout.write(JSON.stringify({ reads, ...outcome, at: clock.now }));
