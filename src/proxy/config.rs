//! The proxy's settings, read from a JSON-like tree (the JavaScript config object, or the
//! environment through [`from_env`]) and checked all at once: every wrong field is an
//! [`Issue`] whose path starts with `config.`.

use alloc::string::String;
use alloc::vec::Vec;

use super::admission::Limits;
use super::rate_limit::RateLimit;
use super::storage::{
    is_bucket_name, Storage, DEFAULT_DAILY_UPLOADS, DEFAULT_DAILY_UPLOAD_BYTES, DEFAULT_INPUT_EXPIRES_S,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_RESULT_EXPIRES_S, DEFAULT_UPLOAD_EXPIRES_S, MAX_EXPIRES_S,
};
use crate::error::{Issue, IssueCode};
use crate::model::read::{join, Field, Path, Reader};
use crate::model::validate::is_http_url;
use crate::model::{Credentials, Value};

/// The path every route hangs under unless `prefix` says otherwise.
pub const DEFAULT_PREFIX: &str = "/api/singing-cloning";
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_DEPTH: usize = 32;
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u32 = 30_000;
/// How often an open event stream gets a comment line, so that intermediaries that close
/// idle connections (often after 30 to 60 s) keep it open.
pub const DEFAULT_EVENTS_HEARTBEAT_MS: u32 = 15_000;
/// The largest upstream answer read: the API's answers are a few KB (a page of 100
/// models about 30 KB); anything past this is refused rather than held in memory.
pub const DEFAULT_MAX_UPSTREAM_BYTES: usize = 4 * 1024 * 1024;
/// The longest a session may last: what browsers keep a cookie at most (400 days).
pub const MAX_SESSION_MAX_AGE_S: u32 = 400 * 24 * 3600;
/// Shallowest limit that still lets every valid body through (a CreateJob nests 6 deep).
pub const MIN_MAX_DEPTH: usize = 8;
/// The shortest `secretId` and `secretKey` (real ones are far longer).
pub const MIN_SECRET_CHARS: usize = 8;
/// The shortest `proxySecret`: it keys every cookie and token.
pub const MIN_PROXY_SECRET_CHARS: usize = 16;

/// An API Gateway key pair and the `Source` it signs with.
#[derive(Clone)]
pub struct Gateway {
    pub secret_id: String,
    pub secret_key: String,
    pub source: String,
}

/// Whether trained models are visible to everyone or only to whoever trained them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Models {
    Shared,
    PerIdentity,
}

/// What the operator allows callers to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub allow_training: bool,
    /// Highest `totalEpoch` of a training; also set on trainings that name none.
    pub max_total_epoch: Option<u32>,
    /// Model names callers may generate audio with (as the caller writes them).
    pub allowed_models: Option<Vec<String>>,
}

/// Where forwarded callbacks may go.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallbackTargets {
    /// Loopback, private, link-local and single-label hosts too (tests, intranets).
    pub allow_private: bool,
    /// When set, only these hosts (`example.com`, or `*.example.com` for subdomains).
    pub allowed_hosts: Option<Vec<String>>,
}

/// Every setting, checked. Deliberately without `Debug`: it holds the secrets.
#[derive(Clone)]
pub struct ProxyConfig {
    /// The upstream base, without a trailing slash (`https://…/release`).
    pub endpoint: String,
    pub credentials: Credentials,
    pub proxy_secret: String,
    pub allowed_origins: Vec<String>,
    /// Starts with `/` and has no trailing slash, or is empty for the root.
    pub prefix: String,
    /// The proxy's own address as the upstream reaches it, without a trailing slash.
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub max_depth: usize,
    pub upstream_timeout_ms: u32,
    pub gateway: Option<Gateway>,
    pub models: Models,
    pub policy: Policy,
    pub rate_limit: RateLimit,
    pub callback_targets: CallbackTargets,
    /// Signs forwarded callbacks; `proxySecret` when absent.
    pub webhook_secret: Option<String>,
    /// How long an anonymous session lasts, in seconds, counted from its issue.
    pub session_max_age_s: u32,
    /// The limits that anonymous clients cannot reset by dropping their cookie, and the callback route's.
    pub limits: Limits,
    /// A header the operator's own front proxy sets to the client's address (lowercase);
    /// without it, the platform's address is used.
    pub client_address_header: Option<String>,
    /// The largest upstream answer read, in bytes.
    pub max_upstream_bytes: usize,
    /// Object storage for uploads and results; without it those routes answer 404.
    pub storage: Option<Storage>,
    /// How often an open `{prefix}/events` stream gets a keep-alive comment, in ms.
    pub events_heartbeat_ms: u32,
}

/// The keys of the config object (besides `authenticate`, a function the JavaScript face reads).
pub const KEYS: [&str; 27] = [
    "endpoint",
    "secretId",
    "secretKey",
    "proxySecret",
    "allowedOrigins",
    "prefix",
    "publicUrl",
    "maxBodyBytes",
    "maxDepth",
    "upstreamTimeoutMs",
    "gateway",
    "models",
    "policy",
    "rateLimit",
    "callbackTargets",
    "webhookSecret",
    "authenticate",
    "sessionMaxAgeSeconds",
    "addressRateLimit",
    "sessionRateLimit",
    "globalSessionRateLimit",
    "callbackRateLimit",
    "clientAddressHeader",
    "maxUpstreamBytes",
    "storage",
    "fetch",
    "eventsHeartbeatMs",
];

impl ProxyConfig {
    /// The secret that signs forwarded callbacks.
    pub fn webhook_secret(&self) -> &str {
        self.webhook_secret.as_deref().unwrap_or(&self.proxy_secret)
    }

    /// Every secret string that must never leave the proxy.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = alloc::vec![
            self.credentials.secret_id.clone(),
            self.credentials.secret_key.clone(),
            self.proxy_secret.clone(),
        ];
        if let Some(gateway) = &self.gateway {
            out.push(gateway.secret_id.clone());
            out.push(gateway.secret_key.clone());
        }
        if let Some(secret) = &self.webhook_secret {
            out.push(secret.clone());
        }
        // The storage's access key id is not among them: every presigned URL carries it
        // (`X-Amz-Credential`), as S3 requires.
        if let Some(storage) = &self.storage {
            out.push(storage.secret_access_key.clone());
        }
        out
    }

    /// Reads and checks the config tree; `authenticate` is not part of it.
    pub fn from_value(config: &Value) -> Result<ProxyConfig, Vec<Issue>> {
        let mut r = Reader::default();
        let root = Path::Root;
        let config_path = Path::Key(&root, "config");
        let Value::Object(members) = config else {
            r.report(&config_path, IssueCode::Type, "must be an object");
            return Err(r.issues);
        };
        for (key, _) in members {
            if !KEYS.contains(&key.as_str()) {
                r.report(&Path::Key(&config_path, key), IssueCode::UnknownOption, "is not an option of the proxy");
            }
        }
        let config = Field::new(Some(config), config_path);
        let at = config.key("endpoint");
        let endpoint = r.string(at, true).unwrap_or_default();
        if !endpoint.is_empty() && !is_http_url(endpoint) {
            r.report(&at.path, IssueCode::Url, "must be an absolute http or https URL");
        }
        let (id_field, key_field) = (config.key("secretId"), config.key("secretKey"));
        let secret_id = r.string(id_field, true).unwrap_or_default();
        let secret_key = r.string(key_field, true).unwrap_or_default();
        for (value, field) in [(secret_id, &id_field), (secret_key, &key_field)] {
            if !value.is_empty() && value.chars().count() < MIN_SECRET_CHARS {
                // Every answer is scrubbed of the secrets; a very short one would be found everywhere.
                r.report(&field.path, IssueCode::Range, "must be at least 8 characters");
            }
        }
        let at = config.key("proxySecret");
        let proxy_secret = r.string(at, true).unwrap_or_default();
        if !proxy_secret.is_empty() && proxy_secret.chars().count() < MIN_PROXY_SECRET_CHARS {
            r.report(&at.path, IssueCode::Range, "must be at least 16 characters (32 random bytes, base64, are best)");
        }
        let at = config.key("allowedOrigins");
        let allowed_origins = r.strings(at, true).unwrap_or_default();
        for (i, origin) in allowed_origins.iter().enumerate() {
            if !is_origin(origin) {
                r.report(
                    &Path::Index(&at.path, i),
                    IssueCode::Url,
                    "must be an origin: scheme, host and optional port, as https://app.example.com",
                );
            }
        }
        let at = config.key("prefix");
        let prefix = r.non_empty(at).unwrap_or(DEFAULT_PREFIX);
        let prefix_ok = prefix.is_empty()
            || (prefix.starts_with('/')
                && !prefix.ends_with('/')
                && prefix.bytes().all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#' && b != b'%'));
        if !prefix_ok {
            r.report(&at.path, IssueCode::Pattern, "must start with / and not end with one, as /api/singing-cloning");
        }
        let at = config.key("publicUrl");
        let public_url = r.non_empty(at).map(|s| s.trim_end_matches('/'));
        if public_url.is_some_and(|url| !is_http_url(url) || url.contains(['?', '#'])) {
            r.report(&at.path, IssueCode::Url, "must be an absolute http or https URL without query");
        }
        let max_body_bytes = r
            .integer_in(config.key("maxBodyBytes"), false, 1.0, 16.0 * 1024.0 * 1024.0, "must be from 1 to 16777216")
            .map_or(DEFAULT_MAX_BODY_BYTES, |n| n as usize);
        let max_depth = r
            .integer_in(
                config.key("maxDepth"),
                false,
                MIN_MAX_DEPTH as f64,
                crate::model::value::MAX_DEPTH as f64,
                "must be from 8 to 64",
            )
            .map_or(DEFAULT_MAX_DEPTH, |n| n as usize);
        let upstream_timeout_ms = r
            .integer_in(config.key("upstreamTimeoutMs"), false, 1.0, 600_000.0, "must be from 1 to 600000")
            .map_or(DEFAULT_UPSTREAM_TIMEOUT_MS, |n| n as u32);
        let events_heartbeat_ms = r
            .integer_in(config.key("eventsHeartbeatMs"), false, 10.0, 300_000.0, "must be from 10 to 300000")
            .map_or(DEFAULT_EVENTS_HEARTBEAT_MS, |n| n as u32);

        let gateway_field = config.key("gateway");
        let gateway = r.object(gateway_field, false).map(|g| Gateway {
            secret_id: r.string(g.key("secretId"), true).unwrap_or_default().into(),
            secret_key: r.string(g.key("secretKey"), true).unwrap_or_default().into(),
            source: r.string(g.key("source"), true).unwrap_or_default().into(),
        });
        if gateway.as_ref().is_some_and(|g| g.source.contains(['\r', '\n']) || g.secret_id.contains(['"', '\r', '\n']))
        {
            r.report(
                &gateway_field.path,
                IssueCode::Pattern,
                "must not hold quotes or line breaks in secretId or source",
            );
        }

        let at = config.key("models");
        let models = match r.non_empty(at) {
            None | Some("per-identity") => Models::PerIdentity,
            Some("shared") => Models::Shared,
            Some(_) => {
                r.report(&at.path, IssueCode::Enum, "must be 'shared' or 'per-identity'");
                Models::PerIdentity
            }
        };

        let mut policy = Policy { allow_training: true, max_total_epoch: None, allowed_models: None };
        if let Some(p) = r.object(config.key("policy"), false) {
            if let Some(allow) = r.boolean(p.key("allowTraining"), "must be a boolean") {
                policy.allow_training = allow;
            }
            policy.max_total_epoch =
                r.integer_in(p.key("maxTotalEpoch"), false, 1.0, 50.0, "must be from 1 to 50").map(|n| n as u32);
            policy.allowed_models = r.strings(p.key("allowedModels"), false);
        }

        let mut rate_limit = |key, default| read_rate_limit(&mut r, config.key(key), default);
        let identity = rate_limit("rateLimit", RateLimit { capacity: 60.0, refill_per_second: 1.0 });
        let limits = Limits {
            identity,
            address: rate_limit("addressRateLimit", RateLimit { capacity: 300.0, refill_per_second: 5.0 }),
            // 60 at once (an office behind one address), then one every 6 seconds.
            sessions: rate_limit("sessionRateLimit", RateLimit { capacity: 60.0, refill_per_second: 1.0 / 6.0 }),
            global_sessions: rate_limit(
                "globalSessionRateLimit",
                RateLimit { capacity: 1000.0, refill_per_second: 10.0 },
            ),
            callbacks: rate_limit("callbackRateLimit", RateLimit { capacity: 120.0, refill_per_second: 2.0 }),
        };
        let session_max_age_s = r
            .integer_in(
                config.key("sessionMaxAgeSeconds"),
                false,
                60.0,
                MAX_SESSION_MAX_AGE_S as f64,
                "must be from 60 to 34560000",
            )
            .map_or(super::identity::SESSION_MAX_AGE_S, |n| n as u32);
        let at = config.key("clientAddressHeader");
        let client_address_header = r.non_empty(at).map(|h| h.to_ascii_lowercase());
        let header_name = |h: &str| h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if client_address_header.as_deref().is_some_and(|h| !header_name(h)) {
            r.report(&at.path, IssueCode::Pattern, "must be a header name, as x-real-ip");
        }
        let max_upstream_bytes = r
            .integer_in(
                config.key("maxUpstreamBytes"),
                false,
                1024.0,
                256.0 * 1024.0 * 1024.0,
                "must be from 1024 to 268435456",
            )
            .map_or(DEFAULT_MAX_UPSTREAM_BYTES, |n| n as usize);

        let mut callback_targets = CallbackTargets::default();
        if let Some(t) = r.object(config.key("callbackTargets"), false) {
            if let Some(allow) = r.boolean(t.key("allowPrivate"), "must be a boolean") {
                callback_targets.allow_private = allow;
            }
            callback_targets.allowed_hosts = r
                .strings(t.key("allowedHosts"), false)
                .map(|hosts| hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect());
        }
        let webhook_secret = r.non_empty(config.key("webhookSecret")).map(String::from);
        let storage = read_storage(&mut r, config.key("storage"));

        r.finish(ProxyConfig {
            endpoint: endpoint.trim_end_matches('/').into(),
            credentials: Credentials { secret_id: secret_id.into(), secret_key: secret_key.into() },
            proxy_secret: proxy_secret.into(),
            allowed_origins: allowed_origins.into_iter().map(|o| o.to_ascii_lowercase()).collect(),
            prefix: prefix.into(),
            public_url: public_url.map(String::from),
            max_body_bytes,
            max_depth,
            upstream_timeout_ms,
            gateway,
            models,
            policy,
            rate_limit: identity,
            callback_targets,
            webhook_secret,
            session_max_age_s,
            limits,
            client_address_header,
            max_upstream_bytes,
            storage,
            events_heartbeat_ms,
        })
    }
}

/// Whether `text` is an origin: `http(s)://host[:port]`, nothing after.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else { return false };
    (scheme == "http" || scheme == "https") && !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' '])
}

/// A token bucket's `{ capacity, refillPerSecond }`, each part defaulting.
fn read_rate_limit(r: &mut Reader, field: Field, default: RateLimit) -> RateLimit {
    let mut limit = default;
    if let Some(l) = r.object(field, false) {
        if let Some(capacity) = r.number_in(l.key("capacity"), 1.0, 1e9, false) {
            limit.capacity = capacity;
        }
        if let Some(refill) = r.number_in(l.key("refillPerSecond"), 1e-6, 1e9, false) {
            limit.refill_per_second = refill;
        }
    }
    limit
}

/// The `storage` settings: where uploads go and the key pair that presigns for them.
fn read_storage(r: &mut Reader, field: Field) -> Option<Storage> {
    let s = r.object(field, false)?;
    let at = s.key("endpoint");
    let endpoint = r.string(at, true).unwrap_or_default();
    if !endpoint.is_empty() && !is_http_url(endpoint) {
        r.report(&at.path, IssueCode::Url, "must be an absolute http or https URL");
    }
    let at = s.key("bucket");
    let bucket = r.string(at, true).unwrap_or_default();
    if !bucket.is_empty() && !is_bucket_name(bucket) {
        r.report(
            &at.path,
            IssueCode::Pattern,
            "must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots, hyphens",
        );
    }
    let (id_field, key_field) = (s.key("accessKeyId"), s.key("secretAccessKey"));
    let access_key_id = r.string(id_field, true).unwrap_or_default();
    let secret_access_key = r.string(key_field, true).unwrap_or_default();
    for (value, field) in [(access_key_id, &id_field), (secret_access_key, &key_field)] {
        if !value.is_empty() && value.chars().count() < MIN_SECRET_CHARS {
            // Every answer is scrubbed of the secrets; a very short one would be found everywhere.
            r.report(&field.path, IssueCode::Range, "must be at least 8 characters");
        }
    }
    let mut seconds = |key, default, max: u64| {
        let message = "must be a whole number of seconds, from 1 to 604800";
        r.integer_in(s.key(key), false, 1.0, max as f64, message).map_or(default, |n| n as u64)
    };
    let upload_expires_s = seconds("uploadExpiresSeconds", DEFAULT_UPLOAD_EXPIRES_S, MAX_EXPIRES_S);
    let input_expires_s = seconds("inputExpiresSeconds", DEFAULT_INPUT_EXPIRES_S, MAX_EXPIRES_S);
    let result_expires_s = seconds("resultExpiresSeconds", DEFAULT_RESULT_EXPIRES_S, MAX_EXPIRES_S);
    let max_upload_bytes = r
        .integer_in(s.key("maxUploadBytes"), false, 1.0, 5e9, "must be from 1 to 5000000000 (S3's largest PUT)")
        .map_or(DEFAULT_MAX_UPLOAD_BYTES, |n| n as u64);
    let daily_uploads = r
        .integer_in(s.key("dailyUploads"), false, 0.0, 1e6, "must be from 0 to 1000000")
        .map_or(DEFAULT_DAILY_UPLOADS, |n| n as u32);
    let daily_upload_bytes = r
        .integer_in(s.key("dailyUploadBytes"), false, 0.0, 1e15, "must be a whole number of bytes")
        .map_or(DEFAULT_DAILY_UPLOAD_BYTES, |n| n as u64);
    let mut repositories = Vec::new();
    if let Some(map) = r.object(s.key("repositories"), false) {
        if let Some(Value::Object(members)) = map.value {
            for (content_id, _) in members {
                let at = map.key(content_id);
                match r.string(at, true) {
                    Some(bucket) if is_bucket_name(bucket) => repositories.push((content_id.clone(), bucket.into())),
                    Some(_) => r.report(&at.path, IssueCode::Pattern, "must be an S3 bucket name"),
                    None => {}
                }
            }
        }
    }
    let region = r.non_empty(s.key("region")).unwrap_or("us-east-1");
    Some(Storage {
        endpoint: endpoint.trim_end_matches('/').into(),
        bucket: bucket.into(),
        region: region.into(),
        access_key_id: access_key_id.into(),
        secret_access_key: secret_access_key.into(),
        max_upload_bytes,
        upload_expires_s,
        input_expires_s,
        result_expires_s,
        daily_uploads,
        daily_upload_bytes,
        repositories,
    })
}

/// The environment variables [`from_env`] reads, and the config key each sets.
pub const ENV: [(&str, &str); 40] = [
    ("SINGING_CLONING_ENDPOINT", "endpoint"),
    ("SINGING_CLONING_SECRET_ID", "secretId"),
    ("SINGING_CLONING_SECRET_KEY", "secretKey"),
    ("SINGING_CLONING_PROXY_SECRET", "proxySecret"),
    ("SINGING_CLONING_ALLOWED_ORIGINS", "allowedOrigins"),
    ("SINGING_CLONING_PREFIX", "prefix"),
    ("SINGING_CLONING_PUBLIC_URL", "publicUrl"),
    ("SINGING_CLONING_MAX_BODY_BYTES", "maxBodyBytes"),
    ("SINGING_CLONING_MAX_DEPTH", "maxDepth"),
    ("SINGING_CLONING_UPSTREAM_TIMEOUT_MS", "upstreamTimeoutMs"),
    ("SINGING_CLONING_GATEWAY_SECRET_ID", "gateway.secretId"),
    ("SINGING_CLONING_GATEWAY_SECRET_KEY", "gateway.secretKey"),
    ("SINGING_CLONING_GATEWAY_SOURCE", "gateway.source"),
    ("SINGING_CLONING_MODELS", "models"),
    ("SINGING_CLONING_ALLOW_TRAINING", "policy.allowTraining"),
    ("SINGING_CLONING_MAX_TOTAL_EPOCH", "policy.maxTotalEpoch"),
    ("SINGING_CLONING_ALLOWED_MODELS", "policy.allowedModels"),
    ("SINGING_CLONING_RATE_LIMIT_CAPACITY", "rateLimit.capacity"),
    ("SINGING_CLONING_RATE_LIMIT_REFILL_PER_SECOND", "rateLimit.refillPerSecond"),
    ("SINGING_CLONING_CALLBACK_ALLOW_PRIVATE", "callbackTargets.allowPrivate"),
    ("SINGING_CLONING_CALLBACK_ALLOWED_HOSTS", "callbackTargets.allowedHosts"),
    ("SINGING_CLONING_WEBHOOK_SECRET", "webhookSecret"),
    ("SINGING_CLONING_SESSION_MAX_AGE_SECONDS", "sessionMaxAgeSeconds"),
    ("SINGING_CLONING_ADDRESS_RATE_LIMIT_CAPACITY", "addressRateLimit.capacity"),
    ("SINGING_CLONING_ADDRESS_RATE_LIMIT_REFILL_PER_SECOND", "addressRateLimit.refillPerSecond"),
    ("SINGING_CLONING_SESSION_RATE_LIMIT_CAPACITY", "sessionRateLimit.capacity"),
    ("SINGING_CLONING_SESSION_RATE_LIMIT_REFILL_PER_SECOND", "sessionRateLimit.refillPerSecond"),
    ("SINGING_CLONING_GLOBAL_SESSION_RATE_LIMIT_CAPACITY", "globalSessionRateLimit.capacity"),
    ("SINGING_CLONING_GLOBAL_SESSION_RATE_LIMIT_REFILL_PER_SECOND", "globalSessionRateLimit.refillPerSecond"),
    ("SINGING_CLONING_CALLBACK_RATE_LIMIT_CAPACITY", "callbackRateLimit.capacity"),
    ("SINGING_CLONING_CALLBACK_RATE_LIMIT_REFILL_PER_SECOND", "callbackRateLimit.refillPerSecond"),
    ("SINGING_CLONING_CLIENT_ADDRESS_HEADER", "clientAddressHeader"),
    ("SINGING_CLONING_MAX_UPSTREAM_BYTES", "maxUpstreamBytes"),
    ("SINGING_CLONING_EVENTS_HEARTBEAT_MS", "eventsHeartbeatMs"),
    ("SINGING_CLONING_STORAGE_ENDPOINT", "storage.endpoint"),
    ("SINGING_CLONING_STORAGE_BUCKET", "storage.bucket"),
    ("SINGING_CLONING_STORAGE_REGION", "storage.region"),
    ("SINGING_CLONING_STORAGE_ACCESS_KEY_ID", "storage.accessKeyId"),
    ("SINGING_CLONING_STORAGE_SECRET_ACCESS_KEY", "storage.secretAccessKey"),
    ("SINGING_CLONING_STORAGE_MAX_UPLOAD_BYTES", "storage.maxUploadBytes"),
];

/// A config tree from environment variables (`SINGING_CLONING_*`, see [`ENV`]): lists
/// are comma-separated, booleans `true`/`false`/`1`/`0`, numbers decimal. Empty variables
/// count as unset. A value that cannot be read is an issue named after its variable.
pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Value, Vec<Issue>> {
    let mut config = Value::Object(Vec::new());
    let mut issues = Vec::new();
    let number = |text: &str| match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Value::Number(n.into())),
        _ => Err("must be a number"),
    };
    for (name, key) in ENV {
        let Some(text) = get(name).map(|t| String::from(t.trim())).filter(|t| !t.is_empty()) else { continue };
        let value = match key {
            "allowedOrigins" | "policy.allowedModels" | "callbackTargets.allowedHosts" => Ok(Value::Array(
                text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
            )),
            "policy.allowTraining" | "callbackTargets.allowPrivate" => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Value::Bool(true)),
                "false" | "0" | "no" => Ok(Value::Bool(false)),
                _ => Err("must be true or false"),
            },
            "maxBodyBytes"
            | "maxDepth"
            | "upstreamTimeoutMs"
            | "policy.maxTotalEpoch"
            | "sessionMaxAgeSeconds"
            | "maxUpstreamBytes"
            | "eventsHeartbeatMs"
            | "storage.maxUploadBytes" => number(&text),
            _ if key.ends_with(".capacity") || key.ends_with(".refillPerSecond") => number(&text),
            _ => Ok(Value::String(text)),
        };
        let value = match value {
            Ok(value) => value,
            Err(message) => {
                issues.push(Issue { path: join("env", name), code: IssueCode::Type, message });
                continue;
            }
        };
        match key.split_once('.') {
            Some((outer, inner)) => {
                if config.get(outer).is_none() {
                    config.set(outer, Value::Object(Vec::new()));
                }
                if let Some(object) = config.get_mut(outer) {
                    object.set(inner, value);
                }
            }
            None => config.set(key, value),
        }
    }
    if config.get("allowedOrigins").is_none() {
        config.set("allowedOrigins", Value::Array(Vec::new()));
    }
    if issues.is_empty() {
        Ok(config)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Value {
        Value::parse(
            r#"{"endpoint":"https://up.example/release/","secretId":"secret-id","secretKey":"secret-key",
                "proxySecret":"0123456789abcdef0123","allowedOrigins":["https://App.example"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn reads_a_minimal_config_with_defaults() {
        let c = ProxyConfig::from_value(&minimal()).ok().unwrap();
        assert_eq!(c.endpoint, "https://up.example/release");
        assert_eq!(c.prefix, DEFAULT_PREFIX);
        assert_eq!(c.max_body_bytes, 65536);
        assert_eq!(c.max_depth, 32);
        assert_eq!(c.upstream_timeout_ms, 30_000);
        assert_eq!(c.events_heartbeat_ms, 15_000);
        assert_eq!(c.models, Models::PerIdentity);
        assert!(c.policy.allow_training);
        assert_eq!(c.allowed_origins, ["https://app.example"]);
        assert!(!c.callback_targets.allow_private);
        assert_eq!(c.webhook_secret(), "0123456789abcdef0123");
    }

    #[test]
    fn names_every_wrong_field() {
        let config = Value::parse(
            r#"{"endpoint":"ftp://x","secretKey":"","proxySecret":"short","allowedOrigins":["https://a.example/path"],
                "prefix":"api/","maxDepth":100,"gateway":{"secretId":"g"},"models":"mine","policy":{"maxTotalEpoch":0},
                "rateLimit":{"capacity":"5"},"callbackTargets":{"allowPrivate":"yes"},"bogus":1}"#,
        )
        .unwrap();
        let issues = ProxyConfig::from_value(&config).err().unwrap();
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        for path in [
            "config.bogus",
            "config.endpoint",
            "config.secretId",
            "config.secretKey",
            "config.proxySecret",
            "config.allowedOrigins[0]",
            "config.prefix",
            "config.maxDepth",
            "config.gateway.secretKey",
            "config.gateway.source",
            "config.models",
            "config.policy.maxTotalEpoch",
            "config.rateLimit.capacity",
            "config.callbackTargets.allowPrivate",
        ] {
            assert!(paths.contains(&path), "{path} missing from {paths:?}");
        }
        let code_at = |path: &str| issues.iter().find(|i| i.path == path).map(|i| i.code);
        assert_eq!(code_at("config.bogus"), Some(IssueCode::UnknownOption));
        assert_eq!(code_at("config.maxDepth"), Some(IssueCode::Range));
        assert_eq!(code_at("config.callbackTargets.allowPrivate"), Some(IssueCode::Type));
        assert!(ProxyConfig::from_value(&Value::Null).is_err());
    }

    #[test]
    fn reads_the_hardening_options_and_their_defaults() {
        let c = ProxyConfig::from_value(&minimal()).ok().unwrap();
        assert_eq!(c.session_max_age_s, 30 * 24 * 3600);
        assert_eq!(c.limits.identity, RateLimit { capacity: 60.0, refill_per_second: 1.0 });
        assert_eq!(c.limits.address, RateLimit { capacity: 300.0, refill_per_second: 5.0 });
        assert_eq!(c.limits.global_sessions, RateLimit { capacity: 1000.0, refill_per_second: 10.0 });
        assert_eq!(c.client_address_header, None);
        assert_eq!(c.max_upstream_bytes, DEFAULT_MAX_UPSTREAM_BYTES);
        let env = |name: &str| match name {
            "SINGING_CLONING_ENDPOINT" => Some("http://127.0.0.1:9000/release".into()),
            "SINGING_CLONING_SECRET_ID" => Some("secret-id".into()),
            "SINGING_CLONING_SECRET_KEY" => Some("secret-key".into()),
            "SINGING_CLONING_PROXY_SECRET" => Some("0123456789abcdef".into()),
            "SINGING_CLONING_SESSION_MAX_AGE_SECONDS" => Some("3600".into()),
            "SINGING_CLONING_ADDRESS_RATE_LIMIT_CAPACITY" => Some("10".into()),
            "SINGING_CLONING_SESSION_RATE_LIMIT_REFILL_PER_SECOND" => Some("0.5".into()),
            "SINGING_CLONING_GLOBAL_SESSION_RATE_LIMIT_CAPACITY" => Some("20".into()),
            "SINGING_CLONING_CALLBACK_RATE_LIMIT_CAPACITY" => Some("30".into()),
            "SINGING_CLONING_CLIENT_ADDRESS_HEADER" => Some("X-Real-IP".into()),
            "SINGING_CLONING_MAX_UPSTREAM_BYTES" => Some("65536".into()),
            _ => None,
        };
        let c = ProxyConfig::from_value(&from_env(env).ok().unwrap()).ok().unwrap();
        assert_eq!(c.session_max_age_s, 3600);
        assert_eq!(c.limits.address, RateLimit { capacity: 10.0, refill_per_second: 5.0 });
        assert_eq!(c.limits.sessions, RateLimit { capacity: 60.0, refill_per_second: 0.5 });
        assert_eq!(c.limits.global_sessions.capacity, 20.0);
        assert_eq!(c.limits.callbacks.capacity, 30.0);
        assert_eq!(c.client_address_header.as_deref(), Some("x-real-ip"));
        assert_eq!(c.max_upstream_bytes, 65536);
        let bad = Value::parse(
            r#"{"endpoint":"https://up.example","secretId":"secret-id","secretKey":"secret-key",
                "proxySecret":"0123456789abcdef",
                "allowedOrigins":[],"sessionMaxAgeSeconds":10,"clientAddressHeader":"x real ip","maxUpstreamBytes":1,
                "addressRateLimit":{"capacity":0}}"#,
        )
        .unwrap();
        let paths: Vec<String> = ProxyConfig::from_value(&bad).err().unwrap().into_iter().map(|i| i.path).collect();
        for path in [
            "config.sessionMaxAgeSeconds",
            "config.clientAddressHeader",
            "config.maxUpstreamBytes",
            "config.addressRateLimit.capacity",
        ] {
            assert!(paths.iter().any(|p| p == path), "{path} missing from {paths:?}");
        }
    }

    #[test]
    fn reads_the_environment() {
        let env = |name: &str| match name {
            "SINGING_CLONING_ENDPOINT" => Some("http://127.0.0.1:9000/release".into()),
            "SINGING_CLONING_SECRET_ID" => Some("secret-id".into()),
            "SINGING_CLONING_SECRET_KEY" => Some("secret-key".into()),
            "SINGING_CLONING_PROXY_SECRET" => Some("0123456789abcdef".into()),
            "SINGING_CLONING_ALLOWED_ORIGINS" => Some(" http://localhost:5173 , https://a.example".into()),
            "SINGING_CLONING_MAX_TOTAL_EPOCH" => Some("10".into()),
            "SINGING_CLONING_ALLOW_TRAINING" => Some("false".into()),
            "SINGING_CLONING_GATEWAY_SOURCE" => Some("app".into()),
            "SINGING_CLONING_PREFIX" => Some("".into()),
            _ => None,
        };
        let value = from_env(env).ok().unwrap();
        assert_eq!(value.get("allowedOrigins").unwrap().to_json(), r#"["http://localhost:5173","https://a.example"]"#);
        assert_eq!(value.get("policy").unwrap().to_json(), r#"{"allowTraining":false,"maxTotalEpoch":10}"#);
        // A gateway source without its key pair is reported by the config check.
        let issues = ProxyConfig::from_value(&value).err().unwrap();
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| i.path.starts_with("config.gateway.")));

        let bad = from_env(|name| (name == "SINGING_CLONING_MAX_BODY_BYTES").then(|| "lots".into())).err().unwrap();
        assert_eq!(bad[0].path, "env.SINGING_CLONING_MAX_BODY_BYTES");
    }

    #[test]
    fn reads_storage_from_the_environment_and_checks_it() {
        let env = |name: &str| match name {
            "SINGING_CLONING_ENDPOINT" => Some("http://127.0.0.1:9000/release".into()),
            "SINGING_CLONING_SECRET_ID" => Some("secret-id".into()),
            "SINGING_CLONING_SECRET_KEY" => Some("secret-key".into()),
            "SINGING_CLONING_PROXY_SECRET" => Some("0123456789abcdef".into()),
            "SINGING_CLONING_STORAGE_ENDPOINT" => Some("http://127.0.0.1:8790/cos/".into()),
            "SINGING_CLONING_STORAGE_BUCKET" => Some("uploads".into()),
            "SINGING_CLONING_STORAGE_ACCESS_KEY_ID" => Some("local-key-id".into()),
            "SINGING_CLONING_STORAGE_SECRET_ACCESS_KEY" => Some("local-secret-key".into()),
            "SINGING_CLONING_STORAGE_MAX_UPLOAD_BYTES" => Some("1000000".into()),
            _ => None,
        };
        let config = ProxyConfig::from_value(&from_env(env).ok().unwrap()).ok().unwrap();
        let storage = config.storage.as_ref().unwrap();
        assert_eq!((storage.endpoint.as_str(), storage.bucket.as_str()), ("http://127.0.0.1:8790/cos", "uploads"));
        assert_eq!((storage.region.as_str(), storage.max_upload_bytes), ("us-east-1", 1_000_000));
        assert_eq!(storage.upload_expires_s, DEFAULT_UPLOAD_EXPIRES_S);
        assert!(config.secrets().contains(&"local-secret-key".to_string()), "scrubbed from every answer");
        assert_eq!(storage.bucket_of("covers"), "covers");

        let mut bad = minimal();
        bad.set(
            "storage",
            Value::parse(
                r#"{"endpoint":"ftp://x","bucket":"Not_A_Bucket","accessKeyId":"short","uploadExpiresSeconds":0,
                    "repositories":{"covers":"covers-bucket","bad":"UPPER"}}"#,
            )
            .unwrap(),
        );
        let paths: Vec<String> = ProxyConfig::from_value(&bad).err().unwrap().into_iter().map(|i| i.path).collect();
        for path in [
            "config.storage.endpoint",
            "config.storage.bucket",
            "config.storage.accessKeyId",
            "config.storage.secretAccessKey",
            "config.storage.uploadExpiresSeconds",
            "config.storage.repositories.bad",
        ] {
            assert!(paths.contains(&path.to_string()), "{path} missing from {paths:?}");
        }
    }
}
