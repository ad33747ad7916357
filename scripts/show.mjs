// What `npm start` shows until the demo page exists: the package at work in Node on the
// reference's request and response examples, and on a request with mistakes in it.
import { readFileSync } from 'node:fs';
import { validate, parseResponse } from 'singing-cloning';

const fixture = (name) => readFileSync(new URL(`../tests/fixtures/${name}.json`, import.meta.url), 'utf8');

const good = JSON.parse(fixture('create_job_train_request'));
delete good.secretId;
delete good.secretKey;
good.createJobRequest.inputs[0].url = 'https://media.example.com/voice.wav';
good.createJobRequest.callback = 'https://hooks.example.com/singing';
console.log('validate(training request) →', validate(good));

const bad = structuredClone(good);
bad.createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName = 'my voice!';
bad.createJobRequest.outputs[0].smartContentDescriptor.singingCloning.totalEpoch = 80;
bad.createJobRequest.outputs[0].inputSelectors = [3];
console.log('validate(request with mistakes) →', validate(bad));

const job = parseResponse('GetJob', fixture('get_job_generate_response')).getJobResponse.job;
console.log('parseResponse(GetJob) → job', job.id, 'state', job.state, job.status,
  'song', job.outputs[0].smartContentResult.singingCloning.songName);

try {
  parseResponse('GetJob', '<html><h1>502 Bad Gateway</h1></html>', 502);
} catch (error) {
  console.log('parseResponse(an HTML 502) throws', { name: error.name, code: error.code, status: error.status, retryable: error.retryable, message: error.message });
}
