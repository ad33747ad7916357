// `singing-cloning/proxy-workerd`: the proxy for Cloudflare Workers, and a ready Worker.
import type { RequestLike, ResponseLike } from '../pkg/singing_cloning_edge.js';

export * from './proxy.js';
export { durableStore, ProxyState } from './proxy-durable.js';
export type { StateNamespace } from './proxy-durable.js';

/**
 * The proxy configured by the Worker's env (`SINGING_CLONING_*`); its shared state in the
 * Durable Object namespace bound as `SINGING_CLONING_STATE` when there is one, else in memory.
 */
declare const worker: { fetch(request: RequestLike, env: Record<string, unknown>): Promise<ResponseLike> };
export default worker;
