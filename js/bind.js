// The readiness contract, the same in every entry (js/browser.js, js/node.js, js/workerd.js):
// `ready` resolves once the WebAssembly is instantiated (at once where an entry can load it
// synchronously); a synchronous function called before then throws a SingingCloningError with
// code `not_ready` instead of a wasm-bindgen internal error; the client's constructor and
// asynchronous methods wait by themselves, so only `validate`/`parseResponse`/`resultUrl`
// ever need `await ready`.

const INNER = Symbol('client');
const SETTINGS = Symbol('settings');

/**
 * A SingingCloningError made here rather than in the WebAssembly (src/js/error.rs), of the same
 * shape: for what only this file sees (the loading, an upload's own arguments, its PUT).
 */
function sdkError(code, message, details) {
  return Object.assign(new Error(message, details), {
    name: 'SingingCloningError',
    code,
    retryable: code === 'network' || code === 'timeout',
    ...details,
  });
}

function notReady(cause) {
  return sdkError(
    'not_ready',
    cause
      ? `the package's WebAssembly could not be loaded: ${cause?.message ?? cause}`
      : "the package's WebAssembly is still loading: `await ready` before calling synchronous functions",
    { retryable: !cause, cause },
  );
}

/** A `validation` error with one issue, worded as the WebAssembly words them. */
function invalid(path, code, message) {
  return sdkError('validation', `invalid request: ${path} ${message}`, { issues: [{ path, code, message }] });
}

/** The `aborted` error of an aborted signal, its reason as text as src/transport.rs writes it. */
function aborted({ reason }) {
  const text = typeof reason === 'string' ? reason : (reason?.message ?? JSON.stringify(reason));
  return sdkError('aborted', `aborted: ${text ?? 'aborted'}`);
}

/** The error of a request that got no answer: `aborted` by the caller, a `timeout`, or `network`. */
function lost(error, signal, timedOut) {
  return signal?.aborted
    ? aborted(signal)
    : timedOut
      ? sdkError('timeout', 'timed out')
      : sdkError('network', `network error: ${error?.message ?? error}`);
}

/**
 * One request through `fetch` (given a Request, as the client's `fetch` option is), cut short by
 * `signal` and after `ms` (if any): the answer's `[status, text]`.
 */
async function exchange(fetch, url, init, signal, ms) {
  const controller = new AbortController();
  const cut = () => controller.abort();
  const timer = ms && setTimeout(cut, ms);
  signal?.addEventListener('abort', cut);
  try {
    if (signal?.aborted) throw signal.reason;
    const response = await fetch(new Request(url, { ...init, signal: controller.signal }));
    return [response.status, await response.text()];
  } catch (error) {
    throw lost(error, signal, controller.signal.aborted);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', cut);
  }
}

/**
 * The PUT of an upload's bytes as the proxy's answer says: the store's `[status, text]`.
 *
 * XMLHttpRequest where there is one (pages and web workers), since fetch reports no upload
 * progress; the global fetch elsewhere (Node, Deno, Bun, workerd, service workers), which has no
 * `onProgress` to give. Never the client's `fetch` option: the presigned address
 * is the whole authorization, and a fetch that adds the proxy's headers (a session's
 * Authorization, say) would break the store's signature. Not retried: a failure is `retryable`,
 * and a new `upload` gets a fresh address.
 */
function put({ uploadUrl, method = 'PUT', headers }, data, total, signal, onProgress) {
  if (typeof XMLHttpRequest !== 'function') return exchange(fetch, uploadUrl, { method, headers, body: data }, signal);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) throw aborted(signal);
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort);
    xhr.open(method, uploadUrl);
    for (const name in headers) xhr.setRequestHeader(name, headers[name]);
    // The upload's `load` comes last, with every byte counted. A listener that throws is reported
    // as any event listener's error, and the upload goes on.
    xhr.upload.onprogress = xhr.upload.onload = ({ loaded }) => onProgress?.({ loaded, total });
    xhr.onload = () => resolve([xhr.status, xhr.responseText]);
    xhr.onerror = xhr.onabort = () => reject(lost('the upload failed', signal));
    xhr.onloadend = () => signal?.removeEventListener('abort', abort);
    xhr.send(data);
  });
}

/** The `signal` of a call's `options`, checked as the WebAssembly checks it. */
function signalOf(options) {
  const signal = options?.signal;
  if (signal != null && !(signal instanceof AbortSignal))
    throw invalid('options.signal', 'type', 'must be an AbortSignal');
  return signal;
}

/**
 * The wait before retry `attempt` (from 0): full jitter up to 250 ms doubling to 20 s, as the
 * client's (src/retry.rs). An abort ends it, and the next attempt rejects at once.
 */
function pause(attempt, signal) {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.random() * Math.min(20_000, 250 * 2 ** attempt));
    signal?.addEventListener('abort', resolve);
  });
}

/**
 * The main entry's API over the wasm-bindgen `glue`, once `load()` has instantiated it.
 * `load` instantiates it synchronously, or returns a Promise that settles when it has.
 */
export function bindApi(glue, load) {
  let loaded = false;
  let failure;
  const loadedNow = () => {
    loaded = true;
  };
  const fail = (error) => {
    failure = error;
    throw notReady(error);
  };
  let ready;
  try {
    const pending = load();
    ready = typeof pending?.then === 'function' ? pending.then(loadedNow, fail) : Promise.resolve(loadedNow());
  } catch (error) {
    ready = Promise.resolve().then(() => fail(error));
    failure = error;
  }
  // Nobody may await `ready` (a page that only uses the client, a server rendering a page that
  // imports the package): a failed load must not be an unhandled rejection. Calls still see it.
  ready.catch(() => {});

  const sync =
    (fn) =>
    (...args) => {
      if (!loaded) throw notReady(failure);
      return fn(...args);
    };

  async function call(client, method, args) {
    return (await client[INNER])[method](...args);
  }

  /**
   * A presign, `POST {endpoint}/uploads` with `body` (`{ contentType, size }`): the proxy's
   * answer `{ uploadUrl, method, headers, input }`. Through the client's `fetch`, with its
   * `timeoutMs`, and retried up to `maxRetries` times on a network error, a timeout, 408, 429 or
   * 5xx (a presign creates nothing but an address), after a wait of full jitter from 250 ms up to
   * 20 s as the client's (src/retry.rs), without its `Retry-After` (the page weight). A failure answer
   * reads as the client reads every one (parseResponse): the proxy's `{ error }` as `api` with
   * its `apiCode`, anything else as `http`. In JavaScript rather than the WebAssembly, where it
   * cost the page twice the bytes.
   */
  async function presign(settings, url, body, signal) {
    for (let attempt = 0; ; attempt++) {
      try {
        const [status, text] = await exchange(
          settings.fetch ?? fetch,
          url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body },
          signal,
          settings.timeoutMs ?? 30_000,
        );
        if (status > 299) glue.parseResponse('GetJob', text, status);
        const answer = JSON.parse(text);
        if (answer.uploadUrl && answer.input.url) return answer;
        throw 0;
      } catch (caught) {
        const error =
          caught?.name === 'SingingCloningError' ? caught : sdkError('parse', 'unreadable response: no upload answer');
        if (!error.retryable || attempt >= (settings.maxRetries ?? 3)) throw error;
      }
      await pause(attempt, signal);
    }
  }

  /**
   * The caller's job events: `GET {endpoint}/events` through the client's `fetch`, read as
   * Server-Sent Events from the body (Node and Workers have no EventSource), each `job` event's
   * job as parseResponse reads it. A stream that ends or fails is opened again with the
   * `Last-Event-ID` of the last event taken, after a pause as a presign's (reset by each event);
   * an answer that is no event stream fails as parseResponse reads it (404 is `http`), retried
   * when `retryable`, up to `maxRetries` times in a row. Ends with `aborted` on `signal`.
   */
  async function* listen(client, signal) {
    await client[INNER];
    const settings = client[SETTINGS];
    let last;
    for (let attempt = 0; ; ) {
      const controller = new AbortController();
      let reader;
      let timedOut;
      const cut = () => {
        controller.abort();
        // A `fetch` option may drop the signal; the reader stops all the same.
        reader?.cancel().catch(() => {});
      };
      const timer = setTimeout(() => {
        timedOut = 1;
        cut();
      }, settings.timeoutMs ?? 30_000);
      signal?.addEventListener('abort', cut);
      try {
        if (signal?.aborted) throw signal.reason;
        // As EventSource: an empty id (a server's reset) is not sent.
        const headers = last ? { 'last-event-id': last } : {};
        const response = await (settings.fetch ?? fetch)(
          new Request(`${settings.endpoint?.replace(/\/+$/, '')}/events`, { headers, signal: controller.signal }),
        );
        clearTimeout(timer);
        if (response.status > 299) glue.parseResponse('GetJob', await response.text(), response.status);
        if (!/^text\/event-stream/.test(response.headers.get('content-type'))) {
          throw sdkError('parse', 'unreadable response: no event stream');
        }
        reader = response.body.getReader();
        const decoder = new TextDecoder();
        let rest = '';
        let data = '';
        let type = '';
        let id = last;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) throw 'the event stream ended';
          // Lines end at CRLF, CR or LF; a CR that ends the chunk waits for a possible LF.
          const lines = (rest + decoder.decode(value, { stream: true })).split(/\r\n|\r(?!$)|\n/);
          rest = lines.pop();
          for (const line of lines) {
            // A line without a colon is a field without a value; one that starts with a colon, a comment.
            const [, field, value] = /([^:]*):? ?(.*)/.exec(line);
            if (field === 'data') data += `\n${value}`;
            if (field === 'event') type = value;
            if (field === 'id') id = value;
            if (line) continue;
            last = id;
            if (type === 'job' && data) {
              attempt = 0;
              yield glue.parseResponse('GetJob', `{"getJobResponse":{"job":${data.slice(1)}}}`, 200).getJobResponse.job;
            }
            data = type = '';
          }
        }
      } catch (error) {
        const failure = error?.name === 'SingingCloningError' ? error : lost(error, signal, timedOut);
        if (!failure.retryable || attempt >= (settings.maxRetries ?? 3)) throw failure;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cut);
        cut();
      }
      await pause(attempt++, signal);
    }
  }

  /**
   * Uploads `data` (the argument `name` in issues): a presign, then the PUT of its bytes; the
   * proxy's `input` for a job, `{ url }`. A store's refusal is `http` with its status.
   */
  async function upload(client, data, options, name) {
    await client[INNER];
    const settings = client[SETTINGS];
    const { contentType, signal, onProgress } = options ?? {};
    const size =
      data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? data.byteLength
        : data instanceof Blob
          ? data.size
          : undefined;
    if (size === undefined) throw invalid(name, 'type', 'must be a Blob, an ArrayBuffer or a view of one');
    if (!size) throw invalid(name, 'required', 'must not be empty');
    const type = contentType || data.type;
    if (!type) throw invalid('contentType', 'required', 'is required: the data has no type');
    // The proxy's address: uploads go through it (the API itself takes none).
    const url = `${settings.endpoint?.replace(/\/+$/, '')}/uploads`;
    const answer = await presign(settings, url, JSON.stringify({ contentType: type, size }), signal);
    const [status, text] = await put(answer, data, size, signal, onProgress);
    // The store's refusal (an expired or broken signature is an XML 403) as `http` with its status.
    if (status > 299) glue.parseResponse('GetJob', text, status);
    return answer.input;
  }

  /**
   * `generate` or `train` (`method`); with a `file`, uploaded first. Every other parameter is
   * checked before the upload, so that a bad one costs no upload, and the job is created only
   * once the PUT has succeeded, with the stored copy's address as its `url`: a failed or aborted
   * upload starts no job.
   */
  async function createJob(client, method, params) {
    const inner = await client[INNER];
    // Anything but an object goes as it is, for the method's own issue.
    if (Object(params) !== params) return inner[method](params);
    // The file's parameters are no JSON (a Blob, a function): the WebAssembly never sees them.
    const { file, contentType, onProgress, ...rest } = params;
    if (file == null) return inner[method](rest);
    if ((rest.url ?? rest.source ?? rest.sourceData) != null) throw invalid('file', 'one_of', 'goes alone');
    // Checked by the method itself, given a signal aborted already: it checks every parameter
    // first, and then sends nothing (the readiness of a signal is looked at before any request).
    const checked = await inner[method]({ ...rest, url: 'http://x', signal: AbortSignal.abort() }).catch(
      (error) => error,
    );
    if (checked.code === 'validation') throw checked;
    const { url } = await upload(client, file, { contentType, signal: rest.signal, onProgress }, 'file');
    return inner[method]({ ...rest, url });
  }

  /** See the glue's SingingCloningClient: the same methods, usable before `ready`. */
  class SingingCloningClient {
    constructor(options) {
      // Before the WebAssembly is there, the options are checked at the first call instead.
      const create = () => new glue.SingingCloningClient(options);
      const inner = loaded ? create() : ready.then(create);
      Object.defineProperty(this, INNER, { value: inner, writable: true });
      // What an upload's presign needs of the options, read now as the WebAssembly reads them;
      // only these (never the credentials), and hidden from enumeration and logs.
      const { endpoint, fetch, timeoutMs, maxRetries, pollIntervalMs, maxPollIntervalMs, secretId } = options ?? {};
      // Only a proxy has events: a client without an endpoint, or with credentials, calls the API itself.
      const polls = !endpoint || secretId != null;
      Object.defineProperty(this, SETTINGS, {
        value: { endpoint, fetch, timeoutMs, maxRetries, pollIntervalMs, maxPollIntervalMs, polls },
      });
      if (!loaded) {
        inner.then(
          (client) => (this[INNER] = client),
          () => {},
        );
      }
    }
    createJob(...args) {
      return call(this, 'createJob', args);
    }
    /** See `SingingCloningClient.upload` in the declarations, and `upload` above. */
    upload(data, options) {
      return upload(this, data, options, 'data');
    }
    generate(params) {
      return createJob(this, 'generate', params);
    }
    train(params) {
      return createJob(this, 'train', params);
    }
    getJob(...args) {
      return call(this, 'getJob', args);
    }
    listJobs(...args) {
      return call(this, 'listJobs', args);
    }
    listModels(...args) {
      return call(this, 'listModels', args);
    }
    /**
     * Waits for the job's end: over the endpoint's events when it has them, reading the job once
     * when the stream tells of its end, or when the stream has said nothing of it for the first
     * poll interval (the job may be older than the proxy's buffer) and then for a minute (a proxy
     * without callbacks tells only of reads); by polling otherwise (without events, remembered
     * after a 404, or once the stream fails), from the first interval doubling up to the cap.
     * `onUpdate` is told of each state once. In JavaScript: the WebAssembly's cost 1 KB gzip.
     */
    async waitForJob(id, options) {
      const inner = await this[INNER];
      const settings = this[SETTINGS];
      const given = options ?? {};
      if (Object(given) !== given) throw invalid('options', 'type', 'must be an object');
      const signal = signalOf(given);
      const { onUpdate } = given;
      if (onUpdate != null && typeof onUpdate !== 'function') {
        throw invalid('options.onUpdate', 'type', 'must be a function');
      }
      // Whole numbers of milliseconds, as the WebAssembly checks its options.
      const [timeoutMs, intervalMs, maxIntervalMs] = [
        // setTimeout's longest, about 24.8 days.
        ['timeoutMs', 2 ** 31 - 1],
        ['intervalMs', 3_600_000],
        ['maxIntervalMs', 3_600_000],
      ].map(([key, most]) => {
        const ms = given[key];
        if (ms != null && typeof ms !== 'number') throw invalid(`options.${key}`, 'type', 'must be a number');
        if (ms != null && !(Number.isInteger(ms) && ms > 0 && ms <= most)) {
          throw invalid(`options.${key}`, 'range', 'is out of range');
        }
        return ms;
      });
      // The id, checked by getJob, which sends nothing given an aborted signal.
      const checked = await inner.getJob(id, { signal: AbortSignal.abort() }).catch((error) => error);
      if (checked.code === 'validation') throw checked;
      if (signal?.aborted) throw aborted(signal);
      const first = intervalMs ?? settings.pollIntervalMs ?? 1000;
      const cap = Math.max(first, maxIntervalMs ?? settings.maxPollIntervalMs ?? 10_000);
      let state;
      /** Tells `onUpdate` of a new state (its failure does not end the wait); whether the job is final. */
      const update = (job) => {
        if (job.state !== state) {
          state = job.state;
          try {
            onUpdate?.(job);
          } catch {}
        }
        return state > 2 && state < 6;
      };
      const stop = new AbortController();
      const cut = () => stop.abort();
      const timer = timeoutMs && setTimeout(cut, timeoutMs);
      signal?.addEventListener('abort', cut);
      let stream = !settings.polls && listen(this, stop.signal);
      let next;
      let wake;
      try {
        for (let poll = 0, wait = stream ? first : 0; ; ) {
          // The stream's next event, or a read after `wait` ms; a read at once when the stream fails.
          const got = await new Promise((resolve, reject) => {
            wake = setTimeout(resolve, wait);
            stop.signal.addEventListener('abort', reject);
            if (stream) {
              next ??= stream.next();
              next.then(resolve, reject);
            }
          }).catch((error) => {
            if (stop.signal.aborted) throw error;
            // An endpoint without the route (`http`, or a proxy's own `api` 404) is not asked again.
            settings.polls = error.status === 404;
            stream = null;
          });
          clearTimeout(wake);
          next = got ? null : next;
          const job = got ? got.value : await inner.getJob(id, { signal: stop.signal });
          if (job.id !== id) continue;
          if (update(job)) {
            if (!got) return job;
            // The stream's word for it, confirmed by a read at once.
            stream.return();
            stream = null;
            wait = 0;
          } else wait = stream ? 60_000 : Math.min(cap, first * 2 ** poll++);
        }
      } catch (error) {
        // Cut short: `aborted` by the caller, else the time was up.
        throw stop.signal.aborted ? lost(error, signal, 1) : error;
      } finally {
        clearTimeout(timer);
        clearTimeout(wake);
        signal?.removeEventListener('abort', cut);
        stop.abort();
        next?.catch(() => {});
      }
    }
    /** See `SingingCloningClient.events` in the declarations, and `listen` above. */
    events(options) {
      return listen(this, signalOf(options));
    }
    /**
     * Every model, page after page (`limit` a page, from `offset`; both checked by listModels). In
     * JavaScript rather than in the WebAssembly, where an async iterator class cost 2 KB gzip.
     */
    async *models(options) {
      const { offset = 0, limit, signal } = options ?? {};
      for (let at = offset; ; ) {
        const page = await this.listModels({ offset: at, limit, signal });
        const models = page.models ?? [];
        yield* models;
        at += models.length;
        // An empty page ends the walk even if `total` promised more.
        if (models.length === 0 || (typeof page.total === 'number' && at >= page.total)) return;
      }
    }
    resultUrl(output, baseUrl) {
      const inner = this[INNER];
      if (!loaded || inner instanceof Promise) throw notReady(failure);
      return inner.resultUrl(output, baseUrl);
    }
    /** Frees the client's WebAssembly memory now rather than when it is collected. */
    free() {
      const inner = this[INNER];
      if (!(inner instanceof Promise)) inner.free();
    }
  }

  return {
    ready,
    validate: sync(glue.validate),
    parseResponse: sync(glue.parseResponse),
    SingingCloningClient,
  };
}
