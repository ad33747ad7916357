// `singing-cloning/proxy`: the credential-holding proxy (docs/proxy.md).
import type { ConnectionInfo, ProxyConfig, RequestLike, ResponseLike } from '../pkg/singing_cloning_edge.js';

/** The platform's Headers where the program has its type (the DOM lib, @types/node). */
type HeadersLike = typeof globalThis extends { Headers: { prototype: infer T } } ? T : never;

export type {
  ConnectionInfo,
  ProxyConfig,
  ProxyErrorCode,
  ProxyStore,
  SingingCloningError,
} from '../pkg/singing_cloning_edge.js';

/**
 * A standard fetch handler that forwards a page's requests to the Singing Cloning API
 * with the credentials of `config`. Throws a `SingingCloningError` (code `validation`,
 * with `issues` named `config.…`) for a wrong config. `info` is what the platform knows
 * of the connection: pass `{ clientAddress }` (the socket's address) so that anonymous
 * clients are rate-limited per address; Deno's `Deno.serve` passes `{ remoteAddr }` itself.
 */
export function createProxyHandler(
  config: ProxyConfig,
): (request: RequestLike, info?: ConnectionInfo) => Promise<ResponseLike>;

/**
 * The config from `SINGING_CLONING_*` environment variables (Node's `process.env`, a
 * Worker's `env`, `Deno.env.toObject()`); lists comma-separated.
 */
export function configFromEnv(env: Record<string, string | undefined>): ProxyConfig;

/**
 * Verifies a callback the proxy forwarded (Standard Webhooks: `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), in constant time
 * and within `toleranceSeconds` (300) of now. Returns the parsed Job; throws a
 * `SingingCloningError` with code `validation` naming the header at fault.
 * `secret`: `whsec_<base64>` (the key is the decoded bytes) or any other text (its UTF-8 bytes).
 */
export function verifyWebhook(
  message: { headers: HeadersLike | Record<string, string | string[] | undefined>; body: string | Uint8Array },
  secret: string,
  options?: { toleranceSeconds?: number },
): unknown;
