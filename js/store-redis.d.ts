import type { ProxyStore } from './proxy.js';

/** A `ProxyStore` in Redis, with a way to close its connections. */
export interface RedisStore extends ProxyStore {
  close(): Promise<void>;
}

/**
 * The proxy's shared state in the Redis at `url` (`redis://host:6379/0`), for several Node
 * proxies that act as one: pass it as the config's `store`. Needs the `ioredis` package.
 */
export function redisStore(url: string, options?: { keyPrefix?: string }): RedisStore;
