// The built package as Node users import it: validate and parseResponse on the
// reference's examples and on broken input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validate, parseResponse } from 'singing-cloning';

const fixture = (name) => readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8');
const concrete = (text) =>
  text
    .replaceAll('{url}', 'https://media.example.com/voice.mp3')
    .replaceAll('{callback}', 'https://hooks.example.com/singing')
    .replaceAll('{customId}', 'lesson_42')
    .replaceAll('{secretId}', 'AKIDexample')
    .replaceAll('{secretKey}', 'example-key')
    .replaceAll('{contentId}', 'repo-1')
    .replaceAll('{outputPrefix}', 'cover_')
    .replaceAll('{id}', '13f342e4-6866-450e-b44e-3151431c578b');

test('the reference request examples validate', () => {
  for (const name of [
    'create_job_generate_request',
    'create_job_train_request',
    'get_job_request',
    'list_jobs_request',
    'list_models_request',
  ]) {
    assert.deepEqual(validate(JSON.parse(concrete(fixture(name)))), [], name);
  }
});

test('validate reports every issue with path, code and message', () => {
  const body = JSON.parse(concrete(fixture('create_job_generate_request')));
  delete body.secretId;
  delete body.secretKey;
  body.createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName = 'my voice';
  body.createJobRequest.inputs[0] = { url: 'ftp://x/y', sourceData: 'la' };
  body.createJobRequest.timeout = 1.5;
  assert.deepEqual(validate(body), [
    { path: 'createJobRequest.timeout', code: 'type', message: 'must be an integer' },
    {
      path: 'createJobRequest.inputs[0]',
      code: 'one_of',
      message: 'must have exactly one of sourceData, url and source',
    },
    { path: 'createJobRequest.inputs[0].url', code: 'url', message: 'must be an absolute http or https URL' },
    {
      path: 'createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName',
      code: 'pattern',
      message: 'must contain only ASCII letters, digits and underscores',
    },
  ]);
});

test('validate takes any JavaScript value without throwing', () => {
  const cyclic = { action: 'GetJob', getJobRequest: { id: 'x' } };
  cyclic.self = cyclic;
  for (const value of [
    undefined,
    null,
    42,
    'CreateJob',
    [],
    () => 1,
    Symbol('s'),
    10n,
    cyclic,
    new Date(),
    { action: 'GetJob', getJobRequest: { id: () => 1 } },
  ]) {
    const issues = validate(value);
    assert.ok(Array.isArray(issues) && issues.length > 0, String(typeof value));
    for (const issue of issues) assert.equal(typeof issue.path, 'string');
  }
  // undefined members count as absent, as JavaScript callers expect.
  assert.deepEqual(validate({ action: 'GetJob', getJobRequest: { id: 'x' }, secretId: undefined }), []);
});

test('parseResponse keeps every wire field and adds status', () => {
  const text = fixture('get_job_generate_response');
  const body = parseResponse('GetJob', text);
  const expected = JSON.parse(text);
  expected.getJobResponse.job.status = 'COMPLETED';
  assert.deepEqual(body, expected);

  const list = parseResponse('ListJobs', fixture('list_jobs_train_response'));
  assert.equal(list.listJobsResponse.jobs[0].status, 'COMPLETED');
  assert.equal(list.listJobsResponse.jobs[0].state, 3);
  assert.equal(list.listJobsResponse.jobs[0].timing.createdAt, '1610513575000');

  const created = parseResponse('CreateJob', fixture('create_job_train_response'), 200);
  assert.equal(created.createJobResponse.job.status, 'SUBMITTED');

  const models = parseResponse('ListModels', fixture('list_models_response'));
  assert.deepEqual(models.listModelsResponse.models, [{ name: 'demo', createdAt: '1610513575000' }]);

  const unknown = parseResponse('GetJob', '{"getJobResponse":{"job":{"id":"j","state":7,"future":{"x":1}}}}');
  assert.equal(unknown.getJobResponse.job.status, 'UNKNOWN');
  assert.deepEqual(unknown.getJobResponse.job.future, { x: 1 });
});

test('parseResponse throws typed errors', () => {
  const thrown = (fn) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    assert.fail('did not throw');
  };
  let e = thrown(() => parseResponse('GetJob', '<html>502 Bad Gateway</html>', 502));
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'SingingCloningError');
  assert.equal(e.code, 'http');
  assert.equal(e.status, 502);
  assert.equal(e.retryable, true);
  assert.equal(e.body, '<html>502 Bad Gateway</html>');

  e = thrown(() => parseResponse('GetJob', '{"requestId":"r1","getJobResponse":{"job":{"id":"j",'));
  assert.equal(e.code, 'parse');
  assert.equal(e.retryable, false);

  e = thrown(() =>
    parseResponse('CreateJob', '{"requestId":"r2","error":{"code":"ModelExists","message":"model demo exists"}}', 409),
  );
  assert.equal(e.code, 'api');
  assert.equal(e.requestId, 'r2');
  assert.equal(e.apiCode, 'ModelExists');
  assert.match(e.message, /model demo exists/);

  e = thrown(() => parseResponse('DeleteJob', '{}'));
  assert.equal(e.code, 'validation');
  assert.deepEqual(
    e.issues.map((i) => [i.path, i.code]),
    [['action', 'unknown_action']],
  );

  e = thrown(() => parseResponse('GetJob', { not: 'text' }));
  assert.equal(e.code, 'validation');
  assert.equal(e.issues[0].path, 'text');

  e = thrown(() => parseResponse('GetJob', '{}', 'two hundred'));
  assert.equal(e.issues[0].path, 'status');

  e = thrown(() => parseResponse('GetJob', 'x'.repeat(5000), 500));
  assert.equal(e.body.length, 1024);
});
