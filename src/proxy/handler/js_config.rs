//! The proxy's config as JavaScript hands it over: an object whose data the core reads
//! (`ProxyConfig::from_value`) and whose functions (`authenticate`, `fetch`) and shared
//! `store` object stay beside it; and `configFromEnv`. The `ProxyConfig` TypeScript lives here too.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Issue, IssueCode};
use crate::js::value::{from_js, to_js};
use crate::model::read::join;
use crate::model::Value;
use crate::proxy::config::{self, ProxyConfig};

/// The functions and objects of a config: they are not data, so they are read beside the tree.
#[derive(Default)]
pub struct Hooks {
    pub authenticate: Option<Function>,
    pub fetch: Option<Function>,
    /// The shared state's store (see `shared_store`), checked by its reader.
    pub store: Option<JsValue>,
}

/// The config object as the core's tree, and its functions beside it.
pub fn read_config(config: &JsValue) -> Result<(ProxyConfig, Hooks), Error> {
    if !config.is_object() || config.is_function() {
        return Err(Error::validation("config", IssueCode::Type, "must be an object"));
    }
    let mut members = Vec::new();
    let mut issues = Vec::new();
    let mut hooks = Hooks::default();
    for key in Object::keys(config.unchecked_ref::<Object>()).iter() {
        let Some(name) = key.as_string() else { continue };
        let path = join("config", &name);
        let Ok(value) = Reflect::get(config, &key) else {
            issues.push(Issue { path, code: IssueCode::Type, message: "could not be read" });
            continue;
        };
        if name == "authenticate" || name == "fetch" {
            let slot = if name == "fetch" { &mut hooks.fetch } else { &mut hooks.authenticate };
            match value.dyn_into::<Function>() {
                Ok(hook) => *slot = Some(hook),
                Err(v) if v.is_null() || v.is_undefined() => {}
                Err(_) => issues.push(Issue { path, code: IssueCode::Type, message: "must be a function" }),
            }
            continue;
        }
        if value.is_undefined() {
            continue;
        }
        if name == "store" {
            if !value.is_null() {
                hooks.store = Some(value);
            }
            continue;
        }
        match from_js(&value) {
            Ok(v) => members.push((name, v)),
            Err(issue) => issues.push(Issue { path: join(&path, &issue.path), ..issue }),
        }
    }
    match ProxyConfig::from_value(&Value::Object(members)) {
        Ok(config) if issues.is_empty() => Ok((config, hooks)),
        Ok(_) => Err(Error::Validation { issues }),
        Err(more) => {
            issues.extend(more);
            Err(Error::Validation { issues })
        }
    }
}

/// Reads the proxy's config from environment variables (`SINGING_CLONING_*`): Node's
/// `process.env`, a Worker's `env`, `Deno.env.toObject()`. Throws a `validation` error
/// for a variable that cannot be read; the config itself is checked by `createProxyHandler`.
#[wasm_bindgen(js_name = configFromEnv, unchecked_return_type = "ProxyConfig")]
pub fn config_from_env(
    #[wasm_bindgen(unchecked_param_type = "Record<string, string | undefined>")] env: JsValue,
) -> Result<JsValue, JsValue> {
    if !env.is_object() {
        return Err(Error::validation("env", IssueCode::Type, "must be an object of strings").into());
    }
    let get = |name: &str| Reflect::get(&env, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
    let value = config::from_env(get).map_err(|issues| Error::Validation { issues })?;
    Ok(to_js(&value))
}

#[wasm_bindgen(typescript_custom_section)]
const PROXY_TS: &str = r#"
/**
 * The proxy's settings (docs/proxy.md). A wrong one makes `createProxyHandler` throw a
 * `validation` error naming it.
 */
export interface ProxyConfig {
  /** The upstream base, as `https://service-….apigw.tencentcs.com/release`. */
  endpoint: string;
  /** The API key pair, added to every upstream body; at least 8 characters each. */
  secretId: string;
  secretKey: string;
  /** Signs session cookies and callback tokens (and webhooks without `webhookSecret`); at least 16 characters. */
  proxySecret: string;
  /** Origins (`https://app.example`) whose pages may call the proxy; `publicUrl`'s origin always may. */
  allowedOrigins: string[];
  /** Where the routes hang: `/api/singing-cloning` by default. */
  prefix?: string;
  /**
   * The proxy's address as the upstream reaches it: callbacks need it (they are refused
   * without it), and its origin counts as the proxy's own. With it, every CreateJob asks
   * the upstream for a callback, so that `{prefix}/events` learns of each job's end.
   */
  publicUrl?: string;
  /** Largest body accepted: 65536 by default. */
  maxBodyBytes?: number;
  /** Deepest JSON nesting accepted, 8 to 64: 32 by default. */
  maxDepth?: number;
  /** Time the upstream has to answer: 30000 ms by default. */
  upstreamTimeoutMs?: number;
  /** How often an open `{prefix}/events` stream gets a keep-alive comment line, 10 to 300000 ms: 15000 by default. */
  eventsHeartbeatMs?: number;
  /** Signs every upstream request with an API Gateway key pair (HMAC-SHA1). */
  gateway?: { secretId: string; secretKey: string; source: string };
  /**
   * The caller's identity, or null for 401. Without it, each browser gets an anonymous
   * session cookie. Must not read the body.
   */
  authenticate?: (request: RequestLike) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Replaces the global fetch for the proxy's outgoing requests (upstream and webhooks);
   * `nodeFetch` from js/proxy-server.js is one over node:http (`npm run proxy` sends through its own `nodePost`).
   */
  fetch?: (request: RequestLike) => Promise<ResponseLike>;
  /**
   * Where the rate limits, the resent-CreateJob guard, delivered callbacks, upload quotas and
   * job events live when several proxies must act as one: `redisStore(url)` from
   * `singing-cloning/proxy-redis` (Node), or the Worker's Durable Object (`singing-cloning/proxy-workerd`).
   * This process's memory when absent.
   */
  store?: ProxyStore;
  /** Whether trained models are visible to every identity or only to their trainer: `per-identity` by default. */
  models?: 'shared' | 'per-identity';
  policy?: {
    /** `true` by default. */
    allowTraining?: boolean;
    /** Most epochs of a training (1 to 50); also set on trainings that name none. */
    maxTotalEpoch?: number;
    /** The models callers may generate audio with, as they name them. */
    allowedModels?: string[];
  };
  /** A token bucket per identity: 60 requests, refilled at 1 per second, by default. */
  rateLimit?: { capacity: number; refillPerSecond: number };
  callbackTargets?: {
    /** Allow loopback, private, link-local and single-label hosts: `false` by default. */
    allowPrivate?: boolean;
    /** Only these hosts (`hooks.example.com`, `*.example.com`). */
    allowedHosts?: string[];
  };
  /** Signs forwarded callbacks (`whsec_<base64>` or any text); `proxySecret` when absent. */
  webhookSecret?: string;
  /** How long an anonymous session lasts from its issue, in seconds (60 to 400 days): 30 days by default. */
  sessionMaxAgeSeconds?: number;
  /** Requests of anonymous sessions per client address: 300, refilled at 5 per second, by default. */
  addressRateLimit?: { capacity: number; refillPerSecond: number };
  /** New anonymous sessions per client address: 60, refilled at one per 6 seconds, by default. */
  sessionRateLimit?: { capacity: number; refillPerSecond: number };
  /** New anonymous sessions in all: 1000, refilled at 10 per second, by default. */
  globalSessionRateLimit?: { capacity: number; refillPerSecond: number };
  /** Callbacks per client address (in all when it is unknown): 120, refilled at 2 per second, by default. */
  callbackRateLimit?: { capacity: number; refillPerSecond: number };
  /**
   * A header your own front proxy sets to the client's address (`x-real-ip`; of a list, the
   * last entry is read). Only behind such a proxy: clients can send any header.
   */
  clientAddressHeader?: string;
  /** The largest upstream answer read, in bytes: 4194304 by default; larger ones are a 502 `upstream_too_large`. */
  maxUpstreamBytes?: number;
  /**
   * S3-compatible object storage (AWS S3, COS's S3 endpoint, R2, MinIO) for `POST {prefix}/uploads` and
   * `GET {prefix}/results/{jobId}`: the proxy presigns, the page sends and fetches the bytes itself.
   */
  storage?: {
    /** The S3 API's base URL, path style: `https://s3.us-east-1.amazonaws.com`. */
    endpoint: string;
    /** The bucket uploads go to (under `uploads/{the caller's scope}/`). */
    bucket: string;
    /** `us-east-1` by default. */
    region?: string;
    accessKeyId: string;
    secretAccessKey: string;
    /** The largest upload in bytes: 50000000 by default. */
    maxUploadBytes?: number;
    /** How long an upload's PUT URL lasts: 900 s by default. */
    uploadExpiresSeconds?: number;
    /** How long an upload's GET URL (the job's input) lasts: 21600 s by default. */
    inputExpiresSeconds?: number;
    /** How long a result's GET URL lasts: 300 s by default. */
    resultExpiresSeconds?: number;
    /** Uploads per identity per day (UTC): 100 by default. */
    dailyUploads?: number;
    /** Bytes uploaded per identity per day (UTC): 1000000000 by default. */
    dailyUploadBytes?: number;
    /**
     * The bucket of each content repository (`contentId`) results are written to; unlisted
     * ones are buckets of that name.
     */
    repositories?: Record<string, string>;
  };
}

/**
 * A store of the proxy's shared state. `run` takes one operation's JSON and resolves to its
 * outcome's JSON, each atomic; it rejects when the store is unreachable. `listen` calls
 * `onEvent` with each job event of `scope` recorded by any proxy, until `signal` aborts.
 */
export interface ProxyStore {
  run(op: string): Promise<string>;
  listen?(scope: string, onEvent: (event: string) => void, signal: AbortSignalLike): void;
}

/**
 * What the platform knows of a request's connection, `fetch`'s second argument: Node
 * servers pass `{ clientAddress }`; Deno's `Deno.serve` passes `{ remoteAddr }` itself.
 */
export interface ConnectionInfo {
  clientAddress?: string | null;
  remoteAddr?: { hostname?: string };
}
"#;
