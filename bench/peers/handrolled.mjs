// A hand-rolled client of the kind people write for a job-based API: fetch, a schema
// validator for the request, JSON.parse + the schema for the answer, fixed 500 ms polling.
// `check(body)` returns the issues of a request body (an empty array when valid), `read(json)`
// whether an answer has the GetJob shape. One per validator: handrolled-zod.mjs, handrolled-ajv.mjs.
export function makeHandRolledClient({ endpoint, check, read, fetch: fetchFn = globalThis.fetch }) {
  async function post(path, body) {
    const issues = check(body);
    if (issues.length) throw Object.assign(new Error('invalid request'), { issues });
    const response = await fetchFn(`${endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = JSON.parse(await response.text());
    if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { body: json });
    return json;
  }
  return {
    validate: check,
    createJob: (createJobRequest) => post('/job', { action: 'CreateJob', createJobRequest }),
    async getJob(id) {
      const json = await post('/job', { action: 'GetJob', getJobRequest: { id } });
      if (!read(json)) throw new Error('unexpected answer');
      return json.getJobResponse.job;
    },
    async waitForJob(id, intervalMs = 500) {
      for (;;) {
        const job = await this.getJob(id);
        if (job.state >= 3) return job;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    },
  };
}
