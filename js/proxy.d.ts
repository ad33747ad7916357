// `singing-cloning/proxy`: the credential-holding proxy (docs/proxy.md).
import type { ProxyConfig } from '../pkg/singing_cloning_edge.js';

export type { ProxyConfig, SingingCloningError } from '../pkg/singing_cloning_edge.js';

/**
 * A standard fetch handler that forwards a page's requests to the Singing Cloning API
 * with the credentials of `config`. Throws a `SingingCloningError` (code `validation`,
 * with `issues` named `config.…`) for a wrong config.
 */
export function createProxyHandler(config: ProxyConfig): (request: Request) => Promise<Response>;

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
  message: { headers: Headers | Record<string, string | string[] | undefined>; body: string | Uint8Array },
  secret: string,
  options?: { toleranceSeconds?: number },
): unknown;
