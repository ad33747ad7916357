// `singing-cloning/proxy-durable`: the proxy's shared state in a Cloudflare Durable Object, for
// a proxy on Workers, whose isolates (many, in many places) must act as one. `ProxyState` is
// the object: one `MemoryStore` (the operations of src/proxy/shared.rs, run in Rust) that every
// isolate's proxy asks, and the fan-out of job events to every isolate's open streams.
// `durableStore(namespace)` is the `ProxyStore` a Worker passes as the config's `store`.
// Workers only: the WebAssembly comes in as a compiled module, as in js/proxy-workerd.js.
import { initSync, MemoryStore } from '../pkg/singing_cloning_edge.js';
import wasm from '../pkg/singing_cloning_edge_bg.wasm';

// A no-op when js/proxy-workerd.js has initialised it already.
initSync({ module: wasm });

/** Stub fetches need an absolute URL; this one never leaves the runtime. */
const BASE = 'https://singing-cloning-state';
/** The object a namespace holds the state in, unless told otherwise. */
const DEFAULT_NAME = 'singing-cloning';
/** How long `run` waits for the object: then the store counts as unreachable (creates get 503). */
const RUN_TIMEOUT_MS = 5000;
/**
 * How far back a new `/listen` starts: the stream subscribes before it reads its replay, but
 * the two requests may reach the object in either order. The overlap is dropped by the
 * stream's cursor (src/proxy/handler/stream.rs), so nothing recorded in between is lost.
 */
const LISTEN_OVERLAP_MS = 10_000;
/** Writes a listener may leave unread before the object drops it (its memory is the object's). */
const MAX_QUEUED_WRITES = 1000;
/** The object's storage keys of its log of lasting operations: `log:<ms, 16 digits>:<n, 12 digits>`, in order. */
const LOG = 'log:';
/** How often a long-lived object drops what its log holds beyond `MemoryStore.lastingMs()`. */
const PRUNE_EVERY_MS = 3_600_000;
/** Keys Durable Object storage deletes at most in one call. */
const DELETE_BATCH = 128;
/** A dropped `/listen` is opened again after this, doubling up to `MAX_RELISTEN_MS`. */
const RELISTEN_MS = 100;
const MAX_RELISTEN_MS = 5000;

const encoder = new TextEncoder();

const text = (body, status) => new Response(body, { status, headers: { 'content-type': 'text/plain' } });

/** A log key for an operation run at `atMs`, the `n`th of this object: keys sort by time. */
const logKey = (atMs, n) => `${LOG}${String(Math.floor(atMs)).padStart(16, '0')}:${String(n).padStart(12, '0')}`;

/**
 * The Durable Object: export it from the Worker's entry (js/proxy-workerd.js does) and bind
 * its namespace as `SINGING_CLONING_STATE`. It answers `POST /run` (an operation's JSON in,
 * its outcome's JSON out) and `GET /listen?scope=…` (each event recorded for that scope, one
 * StoredEvent JSON a line, until the caller goes). Its state is in memory, and each lasting
 * operation (the claims and the upload quota, `MemoryStore.lasts`) also goes to the object's
 * storage with its time: an object evicted or restarted runs them again, in order at their
 * times, and is what it was. Rate buckets start full again and the event buffer empty.
 * Without a `state` (in a test), it keeps nothing.
 */
export class ProxyState {
  constructor(state) {
    this.storage = state?.storage ?? null;
    this.store = new MemoryStore();
    /** Open `/listen` streams by scope: their controllers. */
    this.listeners = new Map();
    /** Operations this object has logged, for unique keys within a millisecond. */
    this.logged = 0;
    this.prunedAtMs = Date.now();
    // No request is let in before the log has run.
    if (this.storage) state.blockConcurrencyWhile(() => this.restore());
  }

  /** Runs the log again, in one read of it, and deletes what is too old to count. */
  async restore() {
    const oldest = logKey(Date.now() - MemoryStore.lastingMs(), 0);
    const old = [];
    for (const [key, { op, atMs }] of await this.storage.list({ prefix: LOG })) {
      if (key < oldest) {
        old.push(key);
        continue;
      }
      // An entry this version cannot read (written by another) is passed over, not a reason to fail.
      try {
        this.store.run(op, atMs);
      } catch {}
    }
    await this.deleteKeys(old);
  }

  /** Deletes the log's entries from before `cutoff` (an object that lives long, once an hour). */
  async prune(cutoff) {
    await this.deleteKeys([...(await this.storage.list({ prefix: LOG, end: logKey(cutoff, 0) })).keys()]);
  }

  /** Deletes `keys` from storage, as many at a time as it takes. */
  async deleteKeys(keys) {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) await this.storage.delete(keys.slice(i, i + DELETE_BATCH));
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/run') return this.run(await request.text());
    const scope = url.searchParams.get('scope');
    if (request.method === 'GET' && url.pathname === '/listen' && scope) return this.listen(scope);
    return text('not found', 404);
  }

  run(op) {
    const atMs = Date.now();
    let outcome;
    try {
      outcome = this.store.run(op, atMs);
    } catch {
      return text('not an operation', 400);
    }
    if (this.storage && MemoryStore.lasts(op)) {
      // Not awaited: the object's output gate holds the answer until the write is stored (and a
      // failed write resets the object, so nothing is answered that storage does not hold).
      this.storage.put(logKey(atMs, this.logged++), { op, atMs }).catch(() => {});
      if (atMs - this.prunedAtMs >= PRUNE_EVERY_MS) {
        this.prunedAtMs = atMs;
        this.prune(atMs - MemoryStore.lastingMs()).catch(() => {});
      }
    }
    // Only a record makes events; nothing is parsed when nobody listens.
    if (this.listeners.size > 0) {
      const { op: name, scope } = JSON.parse(op);
      const open = name === 'record' && this.listeners.get(scope);
      if (open) this.send(scope, open, JSON.parse(outcome).events);
    }
    return new Response(outcome, { headers: { 'content-type': 'application/json' } });
  }

  /** Writes `events` to every open listener of `scope`. The object may write to streams other requests opened. */
  send(scope, open, events) {
    if (!events?.length) return;
    const chunk = encoder.encode(events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    for (const controller of open) {
      try {
        if (controller.desiredSize < -MAX_QUEUED_WRITES) throw new Error('not read');
        controller.enqueue(chunk);
      } catch {
        // Gone or not reading: its caller listens again when it reads once more.
        this.forget(scope, controller);
        try {
          controller.close();
        } catch {}
      }
    }
  }

  listen(scope) {
    const now = Date.now();
    const replay = JSON.parse(this.store.run(JSON.stringify({ op: 'replay', scope, lastEventId: null })));
    const recent = replay.events.filter((event) => now - event.atMs <= LISTEN_OVERLAP_MS);
    let held;
    const body = new ReadableStream({
      start: (controller) => {
        held = controller;
        const open = this.listeners.get(scope) ?? new Set();
        this.listeners.set(scope, open.add(controller));
        this.send(scope, [controller], recent);
      },
      // The caller went (its signal aborted, or its isolate is gone).
      cancel: () => this.forget(scope, held),
    });
    return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } });
  }

  forget(scope, controller) {
    const open = this.listeners.get(scope);
    open?.delete(controller);
    if (open?.size === 0) this.listeners.delete(scope);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** Calls `onLine` with each line of `body` until it ends or `signal` aborts. */
async function readLines(body, onLine, signal) {
  const reader = body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n');
      for (; end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line) onLine(line);
      }
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/**
 * The `ProxyStore` of the object named `name` in the Durable Object `namespace` (the Worker's
 * `env.SINGING_CLONING_STATE`): pass it as the config's `store`. Every Worker given the same
 * namespace and name acts as one proxy. `run` rejects when the object does not answer in
 * time or answers an error, so the proxy fails creates closed and keeps serving reads.
 */
export function durableStore(namespace, name = DEFAULT_NAME) {
  const id = namespace.idFromName(name);
  // A stub per call: stubs are I/O objects of the request that made them, and each call here
  // comes from the request it serves.
  const stub = () => namespace.get(id);

  return {
    async run(op) {
      const signal = AbortSignal.timeout(RUN_TIMEOUT_MS);
      const response = await stub().fetch(`${BASE}/run`, { method: 'POST', body: op, signal });
      const outcome = await response.text();
      if (!response.ok) throw new Error(`the proxy's state object answered ${response.status}`);
      return outcome;
    },
    listen(scope, onEvent, signal) {
      // Open until the stream's signal aborts; opened again whenever it drops (the object was
      // evicted or restarted). Events recorded while it was away are not seen by this stream.
      const onLine = (line) => {
        try {
          onEvent(line);
        } catch {}
      };
      (async () => {
        let wait = RELISTEN_MS;
        while (!signal.aborted) {
          try {
            const url = `${BASE}/listen?scope=${encodeURIComponent(scope)}`;
            const response = await stub().fetch(url, { signal });
            if (response.ok) {
              wait = RELISTEN_MS;
              await readLines(response.body, onLine, signal);
            } else {
              await response.body?.cancel();
            }
          } catch {}
          await pause(wait, signal);
          wait = Math.min(wait * 2, MAX_RELISTEN_MS);
        }
      })();
    },
  };
}
