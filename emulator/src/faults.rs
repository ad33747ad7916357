//! Faults for client tests, on the API endpoints: per request with the header
//! `x-emulator-fault: <spec>`, or globally with `--fault <spec>` (`<spec>@N`: every Nth
//! API request only). A spec is a comma-separated list of `delay=<ms>` and at most one of
//! `429`, `429=<seconds>`, `500`, `502`, `503`, `504`, `drop`, `drop-after-create`,
//! `cut-after-create`, `malformed`, `truncated`, `html`.
//!
//! The middleware holds what it needs itself ([`GlobalFault`]), and asks the connection
//! layer to close a connection with a marker ([`AbortConnection`]): it depends on no other
//! part of the emulator but its error answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{new_request_id, ApiError};

/// The request header that asks for a fault, and the response header that names it.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with `Retry-After: <seconds>`; the request is not run.
    TooManyRequests { retry_after: u64 },
    /// 500, 502, 503 or 504 with the JSON error body; the request is not run.
    Status(u16),
    /// The connection is closed without an answer; the request is not run.
    Drop,
    /// The request is run (a CreateJob creates its job), then the connection is closed without an answer.
    DropAfterCreate,
    /// The request is run, then its answer is cut off halfway: the headers and half the
    /// body go out, then the connection closes. Unlike `drop-after-create`, a browser
    /// never resends such a request by itself (Chromium resends a request whose reused
    /// connection closes before any byte of an answer, POST included).
    CutAfterCreate,
    /// The request is run, then answered 200 with a body that is not JSON.
    Malformed,
    /// The request is run, then answered with the first half of its body (Content-Length says the half).
    Truncated,
    /// 502 with an HTML error page, as a gateway sends; the request is not run.
    Html,
}

/// A parsed fault spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    pub delay_ms: u64,
    pub kind: Option<FaultKind>,
    /// Apply to every Nth request only (global faults); 1 = every request.
    pub every: u64,
    /// The spec as written back in the `x-emulator-fault` response header.
    pub label: String,
}

impl FaultSpec {
    /// Reads a spec such as `delay=200,503` or `503@3`.
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let spec = spec.trim();
        let (list, every) = match spec.rsplit_once('@') {
            Some((list, n)) => {
                let every: u64 = n.trim().parse().map_err(|_| format!("@{n} is not a positive number"))?;
                if every == 0 {
                    return Err("@0 is not a positive number".into());
                }
                (list, every)
            }
            None => (spec, 1),
        };
        let mut delay_ms = 0;
        let mut kind = None;
        let mut labels = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = match part {
                "429" => FaultKind::TooManyRequests { retry_after: 1 },
                "500" | "502" | "503" | "504" => FaultKind::Status(part.parse().unwrap_or(500)),
                "drop" => FaultKind::Drop,
                "drop-after-create" => FaultKind::DropAfterCreate,
                "cut-after-create" => FaultKind::CutAfterCreate,
                "malformed" => FaultKind::Malformed,
                "truncated" => FaultKind::Truncated,
                "html" => FaultKind::Html,
                _ => {
                    if let Some(ms) = part.strip_prefix("delay=") {
                        delay_ms = ms.parse().map_err(|_| format!("{part:?}: the delay is not a number of ms"))?;
                        labels.push(part.to_string());
                        continue;
                    }
                    if let Some(seconds) = part.strip_prefix("429=") {
                        let retry_after =
                            seconds.parse().map_err(|_| format!("{part:?}: Retry-After is not a number of seconds"))?;
                        FaultKind::TooManyRequests { retry_after }
                    } else {
                        return Err(format!("unknown fault {part:?}"));
                    }
                }
            };
            if kind.replace(parsed).is_some() {
                return Err("a spec has at most one fault besides delay".into());
            }
            labels.push(part.to_string());
        }
        if labels.is_empty() {
            return Err("the fault spec is empty".into());
        }
        Ok(FaultSpec { delay_ms, kind, every, label: labels.join(",") })
    }
}

/// Marks a response whose connection must be closed without sending it: the connection
/// layer (see [`crate::server`]) turns it into a closed connection.
#[derive(Debug, Clone, Copy)]
pub struct AbortConnection;

impl std::fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an emulated fault")
    }
}

impl std::error::Error for AbortConnection {}

/// The fault of `--fault`, if any, and the count of API requests that its `@N` picks from.
#[derive(Debug)]
pub struct GlobalFault {
    spec: Option<FaultSpec>,
    requests: AtomicU64,
}

impl GlobalFault {
    /// `spec` applied to API requests (every one, or every Nth); `None` for no global fault.
    pub fn new(spec: Option<FaultSpec>) -> Self {
        GlobalFault { spec, requests: AtomicU64::new(0) }
    }
}

/// The middleware of the API routes: picks the fault of the request, if any, and applies it.
pub async fn apply(State(global): State<Arc<GlobalFault>>, request: Request, next: Next) -> Response {
    let count = global.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let spec = match request.headers().get(FAULT_HEADER) {
        Some(value) => {
            match value.to_str().map_err(|_| "the fault spec is not text".to_string()).and_then(FaultSpec::parse) {
                Ok(spec) if spec.every != 1 => {
                    return ApiError::new(StatusCode::BAD_REQUEST, "InvalidFault", "@N is for the global --fault only")
                        .into_response()
                }
                Ok(spec) => spec,
                Err(message) => return ApiError::new(StatusCode::BAD_REQUEST, "InvalidFault", message).into_response(),
            }
        }
        None => match &global.spec {
            Some(spec) if count % spec.every == 0 => spec.clone(),
            _ => return next.run(request).await,
        },
    };
    if spec.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(spec.delay_ms)).await;
    }
    let mut response = match spec.kind {
        None => next.run(request).await,
        Some(FaultKind::Drop) => return abort(),
        Some(FaultKind::DropAfterCreate) => {
            let response = next.run(request).await;
            // Read the answer to its end, so the work is done, then say nothing.
            let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            return abort();
        }
        Some(FaultKind::CutAfterCreate) => {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            // Content-Length still promises the whole body; the stream fails after half of
            // it, a moment later, so that the half is on the wire before the connection closes.
            use futures_util::StreamExt;
            let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(half) });
            let failure = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("cut after create"))
            });
            Response::from_parts(parts, Body::from_stream(first.chain(failure)))
        }
        Some(FaultKind::TooManyRequests { retry_after }) => {
            let message = "too many requests (an emulated fault)";
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RequestLimitExceeded", message)
                .with_header(header::RETRY_AFTER, retry_after.to_string())
                .into_response()
        }
        Some(FaultKind::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let name = match code {
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                _ => "InternalError",
            };
            ApiError::new(status, name, format!("HTTP {code} (an emulated fault)")).into_response()
        }
        Some(FaultKind::Html) => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            concat!(
                "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n",
                "<body><center><h1>502 Bad Gateway</h1></center>\n",
                "<hr><center>emulated gateway</center></body></html>\n",
            ),
        )
            .into_response(),
        Some(FaultKind::Malformed) => {
            let _ = axum::body::to_bytes(next.run(request).await.into_body(), usize::MAX).await;
            let id = new_request_id();
            let body = format!("{{\"requestId\": \"{id}\", \"createJobResponse\": {{\"job\": {{\"id\": oops, ]");
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Some(FaultKind::Truncated) => {
            let (mut parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
            Response::from_parts(parts, Body::from(half))
        }
    };
    if let Ok(label) = HeaderValue::from_str(&spec.label) {
        response.headers_mut().insert(FAULT_HEADER, label);
    }
    response
}

/// A response the connection layer turns into a closed connection without an answer.
fn abort() -> Response {
    let mut response = Response::new(Body::empty());
    response.extensions_mut().insert(AbortConnection);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let spec = FaultSpec::parse("delay=200, 503").unwrap();
        assert_eq!(
            (spec.delay_ms, spec.kind, spec.every, spec.label.as_str()),
            (200, Some(FaultKind::Status(503)), 1, "delay=200,503")
        );
        assert_eq!(FaultSpec::parse("503@3").unwrap().every, 3);
        assert_eq!(FaultSpec::parse("429=7").unwrap().kind, Some(FaultKind::TooManyRequests { retry_after: 7 }));
        assert_eq!(FaultSpec::parse("drop-after-create").unwrap().kind, Some(FaultKind::DropAfterCreate));
        for bad in ["", "418", "503,504", "delay=x", "503@0", "nope"] {
            assert!(FaultSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
