// tests/node/events.test.mjs's child in Deno: the package's Node entry (Deno reads node: modules)
// waits for a job over the proxy's events with Deno's own fetch and streams, as a page would
// (its Origin, its session cookie), and prints JSON `{ status, requests, updates, seen }`.
// Arguments: the proxy's API address, the page's origin, a CreateJob's createJobRequest (JSON).
import { SingingCloningClient } from '../../js/node.js';

const [api, origin, request] = Deno.args;
let cookie;
const requests = [];
const client = new SingingCloningClient({
  endpoint: api,
  fetch: async (outgoing) => {
    const headers = new Headers(outgoing.headers);
    headers.set('origin', origin);
    if (cookie) headers.set('cookie', cookie);
    requests.push(`${outgoing.method} ${new URL(outgoing.url).pathname.slice(new URL(api).pathname.length)}`);
    const response = await fetch(new Request(outgoing, { headers }));
    const set = response.headers.getSetCookie();
    if (set.length) cookie = set[0].split(';')[0];
    return response;
  },
});
const job = await client.createJob(JSON.parse(request));
const updates = [];
const done = await client.waitForJob(job.id, { onUpdate: (j) => updates.push(j.status) });
// And the stream itself: the replay of this identity's events, taken until the job's end.
const seen = [];
for await (const event of client.events()) {
  seen.push(event.status);
  if (event.status === 'COMPLETED') break;
}
console.log(JSON.stringify({ status: done.status, requests, updates, seen }));
