// `singing-cloning/proxy-redis`: the proxy's shared state in Redis, for Node deployments
// of several proxies (`store: redisStore(url)` in the config; `npm run proxy` does it when
// SINGING_CLONING_REDIS_URL is set). It runs the operations of src/proxy/shared.rs (their
// JSON is written there), each atomic: a Lua script, or one command. The client library,
// ioredis, is an optional peer dependency, loaded by this file only: never in a page.
import Redis from 'ioredis';

/** Events kept per scope and for how long: as in the proxy's memory (src/proxy/events.rs). */
const MAX_EVENTS_PER_SCOPE = 200;
const MAX_EVENT_AGE_MS = 15 * 60 * 1000;
/** How long claims last: `PENDING_MS`, `CREATE_MS` and `DELIVERED_MS` of src/proxy/shared.rs. */
const PENDING_MS = 60_000;
const CLAIM_MS = { create: 120_000, delivered: 7 * 86_400_000 };

// The time inside Redis, so that every proxy's buckets agree whatever their clocks say.
const NOW_MS = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

const SCRIPTS = {
  // A token bucket (as src/proxy/rate_limit.rs): refilled by the time passed, never past
  // its capacity; a clock going backwards refills nothing. Returns {1} or {0, seconds}.
  take: `${NOW_MS}
    local capacity, refill = tonumber(ARGV[1]), tonumber(ARGV[2])
    local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
    local tokens, at = tonumber(b[1]), tonumber(b[2])
    if tokens == nil or at == nil then tokens = capacity at = now end
    tokens = math.min(capacity, tokens + math.max(0, (now - at) / 1000) * refill)
    at = math.max(at, now)
    local result = {1}
    if tokens >= 1 then tokens = tokens - 1
    else result = {0, math.min(86400, math.max(1, math.ceil((1 - tokens) / refill)))} end
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', at)
    redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / refill * 1000) + 1000)
    return result`,
  // The first claim holds the key ('p' while pending, for ARGV[1] ms); later ones see the
  // value once settled ('v' and the value). Returns {1}, {0} or {0, value}.
  claim: `local held = redis.call('GET', KEYS[1])
    if held then
      if string.sub(held, 1, 1) == 'v' then return {0, string.sub(held, 2)} end
      return {0}
    end
    redis.call('SET', KEYS[1], 'p', 'PX', ARGV[1])
    return {1}`,
  // One upload against the day's counts (ARGV: size, most uploads, most bytes, the day).
  // Returns {1} or {0, seconds to the next UTC day}.
  quota: `${NOW_MS}
    local size, count_max, bytes_max, day = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
    local used = redis.call('HMGET', KEYS[1], 'count', 'bytes')
    local count, bytes = tonumber(used[1]) or 0, tonumber(used[2]) or 0
    if count >= count_max or bytes + size > bytes_max then
      return {0, math.min(86400, math.max(1, math.ceil((day + 1) * 86400 - now / 1000)))}
    end
    redis.call('HINCRBY', KEYS[1], 'count', 1)
    redis.call('HINCRBY', KEYS[1], 'bytes', size)
    redis.call('PEXPIRE', KEYS[1], 2 * 86400000)
    return {1}`,
  // A job's state for its scope: an event when it differs from the last one recorded
  // (KEYS: the scope's last states, its events, the counter, the epoch; ARGV: job id,
  // state, job JSON, the pub/sub channel, the scope). The event goes to every proxy's
  // listeners. Returns {latest} or {latest, event JSON}.
  record: `${NOW_MS}
    redis.call('SET', KEYS[4], now, 'NX')
    if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
      return {tonumber(redis.call('GET', KEYS[3]) or '0')}
    end
    local seq = redis.call('INCR', KEYS[3])
    local event = cjson.encode({id = redis.call('GET', KEYS[4]) .. '-' .. seq, seq = seq, atMs = now, data = ARGV[3]})
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    redis.call('RPUSH', KEYS[2], event)
    redis.call('LTRIM', KEYS[2], -${MAX_EVENTS_PER_SCOPE}, -1)
    redis.call('PEXPIRE', KEYS[1], ${MAX_EVENT_AGE_MS})
    redis.call('PEXPIRE', KEYS[2], ${MAX_EVENT_AGE_MS})
    redis.call('PUBLISH', ARGV[4], ARGV[5] .. '\\n' .. event)
    return {seq, event}`,
  // A scope's events, the counter, the epoch and the time, read at one instant.
  replay: `${NOW_MS}
    return {redis.call('LRANGE', KEYS[1], 0, -1), tonumber(redis.call('GET', KEYS[2]) or '0'),
      redis.call('GET', KEYS[3]) or '', now}`,
};

/**
 * A store of the proxy's shared state in the Redis at `url` (`redis://host:6379/0`): pass
 * it as the config's `store`. Every proxy given the same Redis and `keyPrefix` acts as one.
 * While Redis is unreachable, `run` rejects at once (no queue), so the proxy fails creates
 * closed and keeps serving reads; ioredis reconnects by itself.
 */
export function redisStore(url, { keyPrefix = 'singing-cloning:' } = {}) {
  const options = { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 };
  const redis = new Redis(url, options);
  // Errors are the `run` callers' to see; without a listener ioredis would print each retry.
  redis.on('error', () => {});
  // Operations wait for the first connection (up to the command timeout): a proxy just started
  // is not a store that went away.
  let connected = false;
  const firstConnection = new Promise((resolve) => redis.once('ready', resolve)).then(() => {
    connected = true;
  });
  const untilConnected = () => {
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, options.commandTimeout);
    });
    return Promise.race([firstConnection, late]).finally(() => clearTimeout(timer));
  };
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    redis.defineCommand(`sc_${name}`, { lua, numberOfKeys: { record: 4, replay: 3 }[name] ?? 1 });
  }
  const key = (...parts) => keyPrefix + parts.join(':');
  const channel = key('events');
  const listeners = new Map();
  let subscriber;

  const outcomes = {
    async take({ key: bucket, capacity, refillPerSecond }) {
      const [allowed, waitS] = await redis.sc_take(key('bucket', bucket), capacity, refillPerSecond);
      return allowed ? { outcome: 'allowed' } : { outcome: 'refused', waitS };
    },
    async claim({ set, key: claimed, pending }) {
      const [won, value] = await redis.sc_claim(key('claim', set, claimed), pending ? PENDING_MS : CLAIM_MS[set]);
      return won ? { outcome: 'claimed' } : { outcome: 'held', value: value ?? null };
    },
    async settle({ set, key: claimed, value }) {
      await redis.set(key('claim', set, claimed), `v${value}`, 'PX', CLAIM_MS[set]);
      return { outcome: 'done' };
    },
    async release({ set, key: claimed }) {
      await redis.del(key('claim', set, claimed));
      return { outcome: 'done' };
    },
    async quota({ key: who, day, size, maxCount, maxBytes }) {
      const [allowed, waitS] = await redis.sc_quota(key('quota', day, who), size, maxCount, maxBytes, day);
      return allowed ? { outcome: 'allowed' } : { outcome: 'refused', waitS };
    },
    async record({ scope, job }) {
      const { id, state } = JSON.parse(job);
      if (typeof id !== 'string') return { outcome: 'events', events: [], latest: 0 };
      const keys = [key('last', scope), key('events', scope), key('seq'), key('epoch')];
      const [latest, event] = await redis.sc_record(...keys, id, JSON.stringify(state ?? null), job, channel, scope);
      return { outcome: 'events', events: event ? [JSON.parse(event)] : [], latest };
    },
    async replay({ scope, lastEventId }) {
      const [stored, latest, epoch, now] = await redis.sc_replay(key('events', scope), key('seq'), key('epoch'));
      const events = stored.map((text) => JSON.parse(text)).filter((e) => now - e.atMs < MAX_EVENT_AGE_MS);
      // As src/proxy/events.rs replays: after a known id still buffered, else everything.
      const [idEpoch, n] = String(lastEventId ?? '').split('-');
      const after = idEpoch === epoch && /^\d+$/.test(n ?? '') ? Number(n) : null;
      const known = after !== null && after <= latest && events.length > 0 && after >= events[0].seq;
      return { outcome: 'events', events: known ? events.filter((e) => e.seq > after) : events, latest };
    },
  };

  function subscribe() {
    // Queued until connected: a subscription made while Redis is away is made when it returns.
    subscriber = redis.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel, message) => {
      const cut = message.indexOf('\n');
      for (const onEvent of listeners.get(message.slice(0, cut)) ?? []) onEvent(message.slice(cut + 1));
    });
    subscriber.subscribe(channel).catch(() => {});
  }

  return {
    async run(op) {
      if (!connected) await untilConnected();
      const parsed = JSON.parse(op);
      const outcome = outcomes[parsed.op];
      if (!outcome) throw new Error(`unknown store operation ${parsed.op}`);
      return JSON.stringify(await outcome(parsed));
    },
    listen(scope, onEvent, signal) {
      if (signal.aborted) return;
      if (!subscriber) subscribe();
      const set = listeners.get(scope) ?? new Set();
      listeners.set(scope, set.add(onEvent));
      signal.addEventListener(
        'abort',
        () => {
          set.delete(onEvent);
          if (set.size === 0) listeners.delete(scope);
        },
        { once: true },
      );
    },
    /** Closes the connections, and stops reconnecting. */
    async close() {
      listeners.clear();
      const connections = [redis, subscriber].filter(Boolean);
      // quit() lets what was sent finish; a connection that is down is disconnected at once.
      await Promise.allSettled(connections.map((c) => (c.status === 'ready' ? c.quit() : Promise.resolve())));
      for (const connection of connections) connection.disconnect();
    },
  };
}
