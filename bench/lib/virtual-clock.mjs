// A virtual clock for item 6: replaces the global setTimeout, clearTimeout and Date.now
// (which the client's WebAssembly calls through its JS glue at call time) so that waits of
// minutes run in milliseconds. Timers fire in order of their due time; between two timers
// the real event loop is drained (setImmediate), so promise chains, fetch Responses and the
// WebAssembly's futures settle before virtual time moves on.
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  dateNow: Date.now,
  setImmediate: globalThis.setImmediate,
};

export class VirtualClock {
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.epoch = startMs;
    this.now = 0; // virtual ms since install
    this.timers = new Map();
    this.nextId = 1;
    this.seq = 0;
  }

  install() {
    globalThis.setTimeout = (fn, ms = 0, ...args) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.now + Math.max(0, Number(ms) || 0), seq: this.seq++, fn, args });
      // Node's timers are objects; a number id works with clearTimeout here and in the wasm glue alike.
      return id;
    };
    globalThis.clearTimeout = (id) => {
      this.timers.delete(typeof id === 'object' && id !== null ? Number(id) : id);
    };
    Date.now = () => this.epoch + this.now;
    return this;
  }

  uninstall() {
    globalThis.setTimeout = real.setTimeout;
    globalThis.clearTimeout = real.clearTimeout;
    Date.now = real.dateNow;
  }

  /** A virtual sleep. */
  sleep(ms) {
    return new Promise((resolve) => globalThis.setTimeout(resolve, ms));
  }

  async #drain() {
    for (let i = 0; i < 8; i++) await new Promise((resolve) => real.setImmediate(resolve));
  }

  /** Runs virtual time until `promise` settles; resolves to its value. */
  async run(promise) {
    let settled = false;
    let value;
    let error;
    let failed = false;
    promise.then(
      (v) => {
        settled = true;
        value = v;
      },
      (e) => {
        settled = true;
        failed = true;
        error = e;
      },
    );
    for (;;) {
      await this.#drain();
      if (settled) break;
      let next = null;
      for (const [id, t] of this.timers) {
        if (!next || t.at < next[1].at || (t.at === next[1].at && t.seq < next[1].seq)) next = [id, t];
      }
      if (!next) throw new Error('stalled: nothing pending on the virtual clock and the promise has not settled');
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].fn(...next[1].args);
    }
    if (failed) throw error;
    return value;
  }
}
