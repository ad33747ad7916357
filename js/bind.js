// The readiness contract, the same in every entry (js/browser.js, js/node.js, js/workerd.js):
// `ready` resolves once the WebAssembly is instantiated (at once where an entry can load it
// synchronously); a synchronous function called before then throws a SingingCloningError with
// code `not_ready` instead of a wasm-bindgen internal error; the client's constructor and
// asynchronous methods wait by themselves, so only `validate`/`parseResponse`/`resultUrl`
// ever need `await ready`.

const INNER = Symbol('client');

function notReady(cause) {
  const error = new Error(
    cause
      ? `the package's WebAssembly could not be loaded: ${cause?.message ?? cause}`
      : "the package's WebAssembly is still loading: `await ready` before calling synchronous functions",
    cause ? { cause } : undefined,
  );
  error.name = 'SingingCloningError';
  error.code = 'not_ready';
  error.retryable = !cause;
  return error;
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

  /** See the glue's SingingCloningClient: the same methods, usable before `ready`. */
  class SingingCloningClient {
    constructor(options) {
      // Before the WebAssembly is there, the options are checked at the first call instead.
      const create = () => new glue.SingingCloningClient(options);
      const inner = loaded ? create() : ready.then(create);
      Object.defineProperty(this, INNER, { value: inner, writable: true });
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
    generate(...args) {
      return call(this, 'generate', args);
    }
    train(...args) {
      return call(this, 'train', args);
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
    waitForJob(...args) {
      return call(this, 'waitForJob', args);
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
