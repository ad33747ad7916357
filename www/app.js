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

// ——— Sources: a sample, or a URL ———

const trainForm = $('#train-form');
const coverForm = $('#cover-form');

for (const [form, sample, audio] of [
  [trainForm, config.samples?.voice, '#train-sample'],
  [coverForm, config.samples?.song, '#cover-sample'],
]) {
  const urlField = $('.url-field', form);
  if (sample) {
    $(audio).src = sample.play;
    const sync = () => (urlField.hidden = form.elements.source.value !== 'url');
    for (const radio of form.elements.source) radio.addEventListener('change', sync);
    sync();
  } else {
    // No samples with the real service: a URL it is.
    for (const el of form.querySelectorAll('.sample-only')) el.hidden = true;
    form.elements.source.value = 'url';
  }
}

function sourceOf(form, sample) {
  if (sample && form.elements.source.value === 'sample') return { url: sample.url };
  return { url: form.elements.url.value.trim() };
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
            text: 'The service refused the proxy’s credentials: check SINGING_CLONING_SECRET_ID and SINGING_CLONING_SECRET_KEY.',
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
    const message = holder ? $('.issue', holder) : null;
    if (!holder || !message) {
      leftover.push(`${param ? `${param}: ` : ''}${issue.message}`);
      continue;
    }
    message.textContent = [message.textContent, sentence(issue.message)].filter(Boolean).join(' ');
    message.hidden = false;
    const control = $('input[name=url], input:not([type=radio]), select', holder);
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
    const base = resultBase(output);
    const result = $('.result', el);
    if (base && result.hidden) {
      const url = client.resultUrl(output, base);
      const audio = $('audio', result);
      audio.src = url;
      audio.setAttribute('aria-label', `${meta.title}: result`);
      const link = $('.download', result);
      link.href = url;
      link.download = song;
      link.setAttribute('aria-label', `Download the result of ${meta.title} (${song})`);
      result.hidden = false;
    } else if (!base) {
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
  const params = {
    ...sourceOf(form, config.samples?.voice),
    modelName,
    totalEpoch: epochs.value === '' && !epochs.validity.badInput ? undefined : Number(epochs.value || NaN),
  };
  const epochsNote =
    params.totalEpoch === undefined ? '' : ` (${params.totalEpoch} ${params.totalEpoch === 1 ? 'epoch' : 'epochs'})`;
  submit(form, () => client.train(params), { kind: 'train', modelName, title: `Training “${modelName}”${epochsNote}` });
});

coverForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = coverForm;
  const modelName = form.elements.modelName.value;
  const source = sourceOf(form, config.samples?.song);
  const song = config.samples && form.elements.source.value === 'sample' ? 'the sample song' : fileName(source.url);
  const params = {
    ...source,
    modelName,
    contentId: config.contentId,
    separateVocals: form.elements.separateVocals.checked,
  };
  submit(form, () => client.generate(params), {
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
