// The demo page: trains voices and covers songs through the proxy, with the package's
// client and no credentials. No framework, no build step.
const $ = (selector, root = document) => root.querySelector(selector);

const pageError = $('#page-error');
function showPageError(text) {
  pageError.textContent = text;
  pageError.hidden = false;
}

// What scripts/demo.mjs tells the page: the proxy's prefix, the samples, where results are.
const config = await fetch('/demo/config.json')
  .then((response) => (response.ok ? response.json() : {}))
  .catch(() => ({}));
config.endpoint ??= '/api/singing-cloning';
config.contentId ??= 'covers';

let SingingCloningClient;
try {
  const sdk = await import('singing-cloning');
  await sdk.ready;
  ({ SingingCloningClient } = sdk);
} catch (error) {
  showPageError(`The SDK could not load (${error.message}). Start the page with npm start.`);
  throw error;
}
const client = new SingingCloningClient({ endpoint: config.endpoint });

$('#upstream').textContent =
  {
    emulator: 'Running against the local emulator: jobs take a few seconds.',
    service: 'Running against the Singing Cloning API.',
  }[config.upstream] ?? 'Running against the service configured in the proxy.';

// ——— Announcements for screen readers ———

const announcer = $('#announcer');
function announce(text) {
  // Emptied first, so that the same words twice are read twice.
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = text), 50);
}

// ——— Sources: a sample, a recording, a file, or a URL ———

const trainForm = $('#train-form');
const coverForm = $('#cover-form');

// Recording and files need the proxy's storage (uploads); samples need the emulator.
if (!config.uploads) for (const el of document.querySelectorAll('.upload-only')) el.hidden = true;

for (const [form, sample, audio] of [
  [trainForm, config.samples?.voice, '#train-sample'],
  [coverForm, config.samples?.song, '#cover-sample'],
]) {
  if (sample) {
    $(audio).src = sample.play;
  } else {
    // No samples with the real service: a file, or a URL.
    $(audio).hidden = true;
    $('input[value=sample]', form).closest('.choice').hidden = true;
    if (!config.uploads) $('input[value=url]', form).closest('.choice').hidden = true;
    form.elements.source.value = config.uploads ? 'file' : 'url';
  }
  const sync = () => {
    const chosen = form.elements.source.value;
    $('.url-field', form).hidden = chosen !== 'url';
    if (!config.uploads) return;
    $('.file-field', form).hidden = chosen !== 'file';
    const record = $('.record-field', form);
    if (record) record.hidden = chosen !== 'record';
  };
  for (const radio of form.elements.source) radio.addEventListener('change', sync);
  sync();
}

// The recording, a WAV Blob, once one is made.
let recording = null;
let recorder = null;
const recordButton = $('#record-button');
const recordStatus = $('#record-status');
const recordPreview = $('#record-preview');
let recordStarted = 0;
let recordTimer = 0;
recordButton.addEventListener('click', async () => {
  if (recorder) {
    const stopping = recorder;
    recorder = null;
    clearInterval(recordTimer);
    recordButton.textContent = 'Record again';
    recording = await stopping.stop();
    const seconds = (Date.now() - recordStarted) / 1000;
    recordStatus.textContent = `Recorded ${seconds.toFixed(1)} s.`;
    if (recordPreview.src) URL.revokeObjectURL(recordPreview.src);
    recordPreview.src = URL.createObjectURL(recording);
    recordPreview.hidden = false;
    announce(`Recorded ${Math.round(seconds)} seconds.`);
    return;
  }
  try {
    const { startRecording } = await import('./recorder.js');
    recorder = await startRecording();
  } catch (error) {
    recordStatus.textContent = `The microphone could not be used: ${error.message}`;
    return;
  }
  recordStarted = Date.now();
  recordButton.textContent = 'Stop recording';
  recordStatus.textContent = 'Recording… sing now.';
  recordTimer = setInterval(() => {
    recordStatus.textContent = `Recording… ${((Date.now() - recordStarted) / 1000).toFixed(0)} s`;
  }, 500);
});

/** An issue the page finds itself, shown like the client's. */
const localIssue = (path, message) =>
  Object.assign(new Error(message), { code: 'validation', issues: [{ path, code: 'required', message }] });

/** The input parameters of the chosen source: `{ url }`, or `{ file }` to upload first. */
function sourceOf(form, sample) {
  const chosen = form.elements.source.value;
  if (sample && chosen === 'sample') return { url: sample.url };
  if (chosen === 'file') {
    const file = form.elements.file.files[0];
    if (!file) throw localIssue('file', 'choose a WAV, MP3 or FLAC file');
    return { file };
  }
  if (chosen === 'record') {
    if (!recording) throw localIssue('file', 'record your voice first');
    return { file: recording };
  }
  return { url: form.elements.url.value.trim() };
}

/** Upload progress, shown under the form while a file goes to storage. */
function progressOf(form) {
  const bar = $('.upload-progress', form);
  return ({ loaded, total }) => {
    bar.hidden = loaded >= total;
    bar.max = total || 1;
    bar.value = loaded;
  };
}

// ——— Errors in plain words, issues beside their fields ———

const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/** `{ text, issues }` for any error of the client. */
function explain(error) {
  const issues = error.issues ?? [];
  switch (error.code) {
    case 'validation':
      return { text: 'Some fields need a change.', issues };
    case 'api':
      switch (error.apiCode) {
        case 'ModelExists':
          return {
            text: '',
            issues: [
              { path: 'modelName', message: 'a model with this name exists or is being trained: choose another name' },
            ],
          };
        case 'ModelNotFound':
          return {
            text: '',
            issues: [
              { path: 'modelName', message: 'this model does not exist: refresh the models and choose another' },
            ],
          };
        case 'validation':
          return { text: 'The proxy found mistakes in the request.', issues };
        case 'forbidden_by_policy':
          return { text: 'The proxy’s policy does not allow this request.', issues };
        case 'rate_limited':
        case 'RequestLimitExceeded':
          return { text: 'Too many requests for now: wait a few seconds and try again.', issues };
        case 'AuthFailure':
          return {
            text:
              'The service refused the proxy’s credentials: check SINGING_CLONING_SECRET_ID and ' +
              'SINGING_CLONING_SECRET_KEY.',
            issues,
          };
        case 'upstream_unreachable':
          return { text: 'The proxy cannot reach the service. Is it running?', issues };
        case 'upstream_timeout':
          return { text: 'The service did not answer in time. Try again.', issues };
        default:
          return { text: `The service refused the request: ${error.message}`, issues };
      }
    case 'network':
      return { text: 'The page cannot reach its server. Is npm start still running?', issues };
    case 'timeout':
      return { text: 'The server did not answer in time. Try again.', issues };
    case 'http':
      return { text: `The server answered with an error (HTTP ${error.status}). Try again later.`, issues };
    case 'parse':
      return { text: 'The server’s answer could not be read. Try again later.', issues };
    case 'aborted':
      return { text: 'Stopped.', issues };
    default:
      return { text: error.message ?? String(error), issues };
  }
}

/** The parameter an issue is about: `modelName`, or the last name of a body path. */
const paramOf = (issue) =>
  issue.path
    .split(/[.[\]]/)
    .filter((part) => part && !/^\d+$/.test(part))
    .pop() ?? '';

function clearIssues(form) {
  for (const issue of form.querySelectorAll('.issue')) {
    issue.hidden = true;
    issue.textContent = '';
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  const formError = $('.form-error', form);
  formError.hidden = true;
  formError.textContent = '';
}

function showError(form, error) {
  const { text, issues } = explain(error);
  const leftover = [];
  let first = null;
  for (const issue of issues) {
    const param = paramOf(issue);
    const holder = [...form.querySelectorAll('[data-params]')].find((el) =>
      el.dataset.params.split(' ').includes(param),
    );
    const chosen = form.elements.source?.value;
    const message = holder ? (holder.querySelector(`.issue[data-source="${chosen}"]`) ?? $('.issue', holder)) : null;
    if (!holder || !message) {
      leftover.push(`${param ? `${param}: ` : ''}${issue.message}`);
      continue;
    }
    message.textContent = [message.textContent, sentence(issue.message)].filter(Boolean).join(' ');
    message.hidden = false;
    const control =
      chosen === 'record' && holder.matches('fieldset')
        ? recordButton
        : $(chosen === 'file' ? 'input[type=file]' : 'input[name=url], input:not([type=radio]), select', holder);
    control.setAttribute('aria-invalid', 'true');
    first ??= control.closest('[hidden]') ? $('input[name=source]:checked', form) : control;
  }
  const formError = $('.form-error', form);
  const summary = [text, ...leftover.map(sentence)].filter(Boolean).join(' ');
  if (summary && (leftover.length || !first)) {
    formError.textContent = summary;
    formError.hidden = false;
  }
  first?.focus();
}

// ——— Jobs ———

const LABELS = {
  SUBMITTED: 'Queued',
  PROCESSING: 'Processing',
  COMPLETED: 'Completed',
  ERROR: 'Failed',
  CANCELED: 'Canceled',
  UNKNOWN: 'Unknown',
};
const STEP = { SUBMITTED: 1, PROCESSING: 2 };
const FINAL = new Set(['COMPLETED', 'ERROR', 'CANCELED']);

const jobsList = $('#jobs');
const entries = new Set();
const STORE = 'singing-cloning-demo-jobs';

function seconds(ms) {
  if (!(ms >= 0)) return '–';
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function timingText(timing = {}) {
  const [created, started, completed] = [timing.createdAt, timing.startedAt, timing.completedAt].map((v) =>
    Number(v ?? 0),
  );
  const parts = [];
  if (created && started) parts.push(`queued ${seconds(started - created)}`);
  if (started && completed) parts.push(`processed ${seconds(completed - started)}`);
  if (created && completed) parts.push(`total ${seconds(completed - created)}`);
  return parts.length ? sentence(parts.join(' · ')) : '';
}

/** Where the page plays a job's result: the proxy's results route with storage, else a configured base. */
function resultUrl(job, output) {
  if (config.uploads) return `${config.endpoint}/results/${encodeURIComponent(job.id)}`;
  const base = resultBase(output);
  return base ? client.resultUrl(output, base) : null;
}

function resultBase(output) {
  if (!config.resultBase) return null;
  return new URL(
    config.resultBase.replace('{contentId}', encodeURIComponent(output.contentId ?? config.contentId)),
    location.href,
  ).href;
}

function render(entry) {
  const { el, job, meta } = entry;
  const status = job.status ?? 'UNKNOWN';
  const final = FINAL.has(status) || entry.failure;
  const badge = $('.badge', el);
  badge.textContent = entry.failure ? 'Lost' : (LABELS[status] ?? status);
  badge.dataset.status = entry.failure ? 'ERROR' : status;
  el.setAttribute('aria-busy', String(!final));
  const progress = $('progress', el);
  progress.value = STEP[status] ?? 3;
  progress.setAttribute('aria-valuetext', `${LABELS[status] ?? status}, step ${progress.value} of 3`);
  $('.job-progress', el).hidden = final;
  $('.timing', el).textContent = final ? timingText(job.timing) : '';
  let error = '';
  if (entry.failure) error = `Lost track of this job: ${entry.failure}`;
  else if (status === 'ERROR')
    error = 'The service could not finish this job: its audio could not be downloaded or read, or held no voice.';
  else if (status === 'CANCELED') error = 'The job was canceled.';
  $('.job-error', el).textContent = error;
  if (status === 'COMPLETED' && meta.kind === 'train') {
    $('.job-error', el).textContent = '';
    $('.timing', el).textContent = `Model “${meta.modelName}” is ready. ${timingText(job.timing)}`;
  }
  const output = job.outputs?.[0];
  const song = output?.smartContentResult?.singingCloning?.songName;
  if (status === 'COMPLETED' && meta.kind === 'generate' && song) {
    const url = resultUrl(job, output);
    const result = $('.result', el);
    if (url && result.hidden) {
      const audio = $('audio', result);
      audio.src = url;
      audio.setAttribute('aria-label', `${meta.title}: result`);
      const link = $('.download', result);
      link.href = url;
      link.download = song;
      link.setAttribute('aria-label', `Download the result of ${meta.title} (${song})`);
      result.hidden = false;
    } else if (!url) {
      $('.timing', el).textContent +=
        ` Written to ${output.contentId ?? config.contentId}${output.destination ?? '/'}${song}.`;
    }
  }
  tick(entry);
}

function tick(entry) {
  $('.elapsed', entry.el).textContent = `${seconds(Date.now() - entry.since)} so far`;
}
setInterval(() => {
  for (const entry of entries) if (entry.el.getAttribute('aria-busy') === 'true') tick(entry);
}, 250);

function save() {
  const list = [...entries].map(({ job, meta, since }) => ({ id: job.id, meta, since }));
  try {
    sessionStorage.setItem(STORE, JSON.stringify(list.slice(-50)));
  } catch {
    // Storage may be off; the jobs then last as long as the page.
  }
}

function addJob(job, meta, since = Date.now()) {
  const el = $('#job-template').content.firstElementChild.cloneNode(true);
  el.id = `job-${job.id}`;
  const title = $('.job-title', el);
  title.id = `${el.id}-title`;
  title.textContent = meta.title;
  el.setAttribute('aria-labelledby', title.id);
  $('progress', el).setAttribute('aria-labelledby', title.id);
  $('.job-id', el).textContent = `Job ${job.id}`;
  jobsList.prepend(el);
  $('#jobs-empty').hidden = true;
  const entry = { el, job, meta, since };
  entries.add(entry);
  render(entry);
  save();
  return entry;
}

function update(entry, job) {
  const before = entry.job.status;
  entry.job = job;
  render(entry);
  if (job.status === before) return;
  let words = `${entry.meta.title}: ${LABELS[job.status] ?? job.status}.`;
  if (job.status === 'COMPLETED' && entry.meta.kind === 'generate') words += ' The result is ready to play.';
  if (job.status === 'COMPLETED' && entry.meta.kind === 'train') {
    words += ` The model ${entry.meta.modelName} is ready to sing.`;
    refreshModels();
    refreshModelChoices(entry.meta.modelName);
  }
  announce(words);
}

async function track(entry) {
  try {
    const job = await client.waitForJob(entry.job.id, {
      intervalMs: 500,
      maxIntervalMs: 2000,
      timeoutMs: 60 * 60_000,
      onUpdate: (job) => update(entry, job),
    });
    update(entry, job);
  } catch (error) {
    entry.failure = explain(error).text;
    render(entry);
    announce(`${entry.meta.title}: ${entry.failure}`);
  }
}

async function submit(form, create, meta) {
  clearIssues(form);
  const button = $('button[type=submit]', form);
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const job = await create();
    const entry = addJob(job, meta);
    entry.el.focus();
    announce(`${meta.title}: submitted.`);
    track(entry);
  } catch (error) {
    showError(form, error);
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

const fileName = (url) => {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop()) || url;
  } catch {
    return url;
  }
};

trainForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = trainForm;
  const epochs = form.elements.totalEpoch;
  const modelName = form.elements.modelName.value.trim();
  const totalEpoch = epochs.value === '' && !epochs.validity.badInput ? undefined : Number(epochs.value || NaN);
  const epochsNote = totalEpoch === undefined ? '' : ` (${totalEpoch} ${totalEpoch === 1 ? 'epoch' : 'epochs'})`;
  submit(
    form,
    () =>
      client.train({ ...sourceOf(form, config.samples?.voice), modelName, totalEpoch, onProgress: progressOf(form) }),
    { kind: 'train', modelName, title: `Training “${modelName}”${epochsNote}` },
  );
});

coverForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = coverForm;
  const modelName = form.elements.modelName.value;
  const chosen = form.elements.source.value;
  const song =
    chosen === 'sample'
      ? 'the sample song'
      : chosen === 'file'
        ? (form.elements.file.files[0]?.name ?? 'a file')
        : fileName(form.elements.url.value.trim());
  const params = () => ({
    ...sourceOf(form, config.samples?.song),
    modelName,
    contentId: config.contentId,
    separateVocals: form.elements.separateVocals.checked,
    onProgress: progressOf(form),
  });
  submit(form, () => client.generate(params()), {
    kind: 'generate',
    modelName,
    title: `Cover of ${song} by “${modelName}”`,
  });
});

// ——— Models: a paged table, and every model in the cover form's list ———

const PAGE = 5;
let offset = 0;
const modelsStatus = $('#models-status');

async function refreshModels() {
  const body = $('#models-body');
  try {
    const { models = [], total = 0 } = await client.listModels({ offset, limit: PAGE });
    if (offset > 0 && offset >= total) {
      offset = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
      return refreshModels();
    }
    body.replaceChildren(
      ...models.map((model) => {
        const row = document.createElement('tr');
        const name = document.createElement('td');
        name.textContent = model.name;
        if (model.name === 'default') name.insertAdjacentHTML('beforeend', ' <span class="muted">(built in)</span>');
        const created = document.createElement('td');
        const ms = Number(model.createdAt ?? 0);
        created.textContent = ms ? new Date(ms).toLocaleString() : '–';
        row.append(name, created);
        return row;
      }),
    );
    modelsStatus.textContent = total ? `Models ${offset + 1}–${offset + models.length} of ${total}` : 'No models yet';
    $('#models-prev').disabled = offset === 0;
    $('#models-next').disabled = offset + PAGE >= total;
  } catch (error) {
    modelsStatus.textContent = `The models could not be listed. ${explain(error).text}`;
  }
}

async function refreshModelChoices(choose) {
  const select = coverForm.elements.modelName;
  const keep = choose ?? select.value;
  try {
    const names = [];
    for await (const model of client.models()) names.push(model.name);
    select.replaceChildren(...names.map((name) => new Option(name, name, false, name === keep)));
  } catch {
    // The table says what went wrong.
  }
}

$('#models-prev').addEventListener('click', () => {
  offset = Math.max(0, offset - PAGE);
  refreshModels();
});
$('#models-next').addEventListener('click', () => {
  offset += PAGE;
  refreshModels();
});
$('#models-refresh').addEventListener('click', () => {
  refreshModels();
  refreshModelChoices();
});

// ——— Start: the models, and the jobs of this tab before a reload ———

refreshModels();
refreshModelChoices();

let stored = [];
try {
  stored = JSON.parse(sessionStorage.getItem(STORE) ?? '[]');
} catch {
  stored = [];
}
for (const { id, meta, since } of Array.isArray(stored)
  ? stored.filter((item) => typeof item?.id === 'string' && item.meta)
  : []) {
  try {
    const job = await client.getJob(id);
    const entry = addJob(job, meta, since);
    if (!FINAL.has(job.status)) track(entry);
  } catch {
    // Gone (the server restarted, the session ended): forgotten.
  }
}
save();
document.documentElement.dataset.ready = 'true';
