// `singing-cloning/proxy-durable`: the proxy's shared state in a Cloudflare Durable Object.
import type { RequestLike, ResponseLike } from '../pkg/singing_cloning_edge.js';
import type { ProxyStore } from './proxy.js';

/** What `durableStore` uses of a Durable Object namespace binding (a `DurableObjectNamespace`). */
export interface StateNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(url: string, init?: object): Promise<ResponseLike> };
}

/**
 * The `ProxyStore` of the object `name` (`singing-cloning` by default) in `namespace`, the
 * Worker's `env.SINGING_CLONING_STATE`: pass it as the config's `store`.
 */
export function durableStore(namespace: StateNamespace, name?: string): ProxyStore;

/**
 * The Durable Object holding the shared state: export it from the Worker's entry and bind its
 * namespace as `SINGING_CLONING_STATE` (docs/proxy.md, "Workers with Durable Objects").
 */
export class ProxyState {
  constructor(state?: unknown, env?: unknown);
  fetch(request: RequestLike): Promise<ResponseLike>;
}
