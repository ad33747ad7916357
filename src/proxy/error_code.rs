//! Every error code the proxy answers with, as one type: `{"error": {"code", …}}` carries
//! its snake_case name, which is also the TypeScript union `ProxyErrorCode` (a page's
//! `SingingCloningError.apiCode` when the proxy, not the service, refused). Codes the
//! service itself sends (`ModelExists`, `AuthFailure`, …) pass through unchanged.

use serde::Serialize;
#[cfg(feature = "js")]
use tsify::Tsify;

/// Declares the enum once: each variant with its doc and its wire name, which serde's
/// `rename` (and so the generated TypeScript) and [`ProxyErrorCode::as_str`] both take from here.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $name:literal,)+) => {
        /// Why the proxy refused or failed a request (docs/proxy.md lists them by route).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[cfg_attr(feature = "js", derive(Tsify))]
        #[non_exhaustive]
        pub enum ProxyErrorCode {
            $($(#[doc = $doc])+ #[serde(rename = $name)] $variant,)+
        }

        impl ProxyErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ProxyErrorCode] = &[$(ProxyErrorCode::$variant,)+];

            /// The code as it goes on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProxyErrorCode::$variant => $name,)+
                }
            }
        }
    };
}

error_codes! {
    /// The page's `Origin` is not in `allowedOrigins` (403).
    OriginNotAllowed = "origin_not_allowed",
    /// No route has this path (404).
    NotFound = "not_found",
    /// The route answers POST (and OPTIONS) only (405).
    MethodNotAllowed = "method_not_allowed",
    /// The body is larger than `maxBodyBytes` (413).
    TooLarge = "too_large",
    /// The body is not `application/json` (415).
    UnsupportedMediaType = "unsupported_media_type",
    /// The body could not be read (400).
    BadBody = "bad_body",
    /// The body is not JSON (400).
    BadJson = "bad_json",
    /// The body nests deeper than `maxDepth` (400).
    TooDeep = "too_deep",
    /// The body carries credentials; the proxy adds its own (400).
    CredentialsInBody = "credentials_in_body",
    /// The body's action is not the route's (400).
    WrongRoute = "wrong_route",
    /// The body breaks a rule of the API; `issues` name the fields (400).
    Validation = "validation",
    /// The proxy's `policy` does not allow the request; `issues` say why (403).
    ForbiddenByPolicy = "forbidden_by_policy",
    /// No identity: `authenticate` returned null or an empty name (401).
    Unauthenticated = "unauthenticated",
    /// The `authenticate` hook threw or returned something other than a string or null (500).
    AuthenticateFailed = "authenticate_failed",
    /// The platform has no `crypto.getRandomValues` to make a session (500).
    NoRandomSource = "no_random_source",
    /// The platform has no `ReadableStream` to carry job events (500).
    NoReadableStream = "no_readable_stream",
    /// Too many requests from this identity or address; `Retry-After` says when (429).
    RateLimited = "rate_limited",
    /// Too many new anonymous sessions; `Retry-After` says when (429).
    TooManySessions = "too_many_sessions",
    /// A job that is not the caller's, answered exactly as one that does not exist (404).
    JobNotFound = "job_not_found",
    /// The service did not answer within `upstreamTimeoutMs` (504).
    UpstreamTimeout = "upstream_timeout",
    /// The service could not be reached (502).
    UpstreamUnreachable = "upstream_unreachable",
    /// The service's answer is larger than `maxUpstreamBytes` (502).
    UpstreamTooLarge = "upstream_too_large",
    /// The service answered with a body that is not JSON; the body is dropped (its status, or 502).
    UpstreamNotJson = "upstream_not_json",
    /// A job asks for a callback but the proxy has no `publicUrl` to receive it (400).
    CallbacksNotConfigured = "callbacks_not_configured",
    /// The callback target is not allowed by `callbackTargets` (400; 403 at delivery).
    CallbackNotAllowed = "callback_not_allowed",
    /// A callback whose token or job does not match a job of the proxy (403).
    BadCallback = "bad_callback",
    /// A callback for a job that has not finished (409).
    JobNotFinished = "job_not_finished",
    /// A callback that was delivered already: a replay (409).
    AlreadyDelivered = "already_delivered",
    /// The job of a callback could not be re-read from the service (502).
    CallbackUnverified = "callback_unverified",
    /// The callback target did not accept the job (502).
    CallbackDeliveryFailed = "callback_delivery_failed",
    /// The proxy has no `storage` settings: uploads and results are off (404).
    StorageNotConfigured = "storage_not_configured",
    /// The proxy's storage settings cannot sign the object (500).
    StorageMisconfigured = "storage_misconfigured",
    /// The identity's daily uploads or bytes are used up; `Retry-After` says when (429).
    UploadQuotaExceeded = "upload_quota_exceeded",
    /// The job has not completed, so it has no result file yet (409).
    ResultNotReady = "result_not_ready",
    /// The job has no result file at that output index (404).
    ResultNotFound = "result_not_found",
    /// The shared `store` (Redis, a Durable Object) did not answer, so nothing that must be
    /// counted or claimed once across proxies was done: a job, an upload, a delivery (503).
    StoreUnavailable = "store_unavailable",
    /// The ready Worker's env holds a wrong config; `issues` name the settings (500).
    Misconfigured = "misconfigured",
}

impl core::fmt::Display for ProxyErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProxyErrorCode;
    use crate::model::value::to_value;
    use crate::model::Value;

    #[test]
    fn every_code_is_snake_case_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for code in ProxyErrorCode::ALL {
            let name = code.as_str();
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
            assert!(seen.insert(name), "{name} twice");
            // serde's name (and so TypeScript's) is the same text.
            assert_eq!(to_value(code), Value::String(name.into()));
        }
        assert_eq!(ProxyErrorCode::JobNotFound.as_str(), "job_not_found");
    }
}
