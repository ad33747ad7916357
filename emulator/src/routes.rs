//! The HTTP routes: the API (`{base}/job`, `{base}/music_model`), the content store
//! (`/cos/{contentId}/{path}`, S3's GET, HEAD and PUT of an object, presigned once the store
//! has a key pair: see [`crate::sigv4`]) and the admin endpoints (`/admin/...`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use serde_json::json;
use singing_cloning::model::value::SyntaxError;
use singing_cloning::{check_request, Action, JobResponse, ListJobsResponse, Request, Value};

use crate::errors::{json_response, s3_error, success, ApiError};
use crate::faults::{self, GlobalFault};
use crate::jobs;
use crate::sigv4::{self, SignedRequest, Verified};
use crate::state::AppState;
use crate::store::ContentError;

/// Every route of the emulator; the API routes are faulted by `global_fault` and by the
/// `x-emulator-fault` header.
pub fn router(state: Arc<AppState>, global_fault: GlobalFault) -> Router {
    let base = state.config.base.clone();
    let api = Router::new()
        .route(&format!("{base}/job"), post(job_endpoint).fallback(method_not_allowed))
        .route(&format!("{base}/music_model"), post(music_model_endpoint).fallback(method_not_allowed))
        .layer(middleware::from_fn_with_state(Arc::new(global_fault), faults::apply));
    let admin = Router::new()
        .route("/admin/health", get(|| async { json_response(StatusCode::OK, json!({"ok": true}).to_string()) }))
        .route("/admin/jobs", get(admin_jobs))
        .route("/admin/models", get(admin_models))
        .route("/admin/jobs/{id}/cancel", post(admin_cancel))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), admin_guard));
    let store = Router::new()
        .route("/cos/{content_id}/{*path}", get(get_content).put(put_content))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), store_guard));
    Router::new()
        .merge(api)
        .merge(admin)
        .merge(store)
        .fallback(|| async { ApiError::not_found("NotFound", "no such endpoint").into_response() })
        .with_state(state)
}

/// The path prefix of the admin routes, which get no CORS headers (see [`crate::server`]).
pub const ADMIN_PREFIX: &str = "/admin/";

/// The path prefix of the content store, whose CORS preflight allows uploads (see [`crate::server`]).
pub const STORE_PREFIX: &str = "/cos/";

/// With a key pair configured, refuses every content store request that is not presigned
/// with it (403 and S3's XML error), before a byte of an upload is read; what the signature
/// vouches for ([`Verified`]) goes on to the handler, which holds the body to it.
async fn store_guard(State(state): State<Arc<AppState>>, mut request: HttpRequest, next: Next) -> Response {
    let Some(keys) = &state.store_keys else {
        return next.run(request).await;
    };
    let signed = SignedRequest {
        method: request.method().as_str(),
        path: request.uri().path(),
        query: request.uri().query(),
        headers: request.headers(),
    };
    match sigv4::verify(keys, &signed, sigv4::now_s()) {
        Ok(verified) => {
            request.extensions_mut().insert(verified);
            next.run(request).await
        }
        Err(refusal) => {
            let mut response = s3_error(StatusCode::FORBIDDEN, refusal.code, &refusal.message);
            if request.method() == Method::PUT {
                // The upload's body is left unread: the connection cannot carry another request.
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    }
}

/// Refuses admin requests a web page could send: the admin routes cancel jobs and show
/// callback URLs (with their tokens), so only same-origin pages and programs (which send
/// no `Origin`) may use them. A cross-origin browser request carries `Origin` (always on a
/// POST) or `Sec-Fetch-Site`; a DNS-rebinding page is same-origin to the browser but
/// carries a `Host` that is a name of its own, so a browser's request must be addressed to
/// an IP address, `localhost` or the `--host`.
pub fn admin_refusal(headers: &HeaderMap, configured_host: &str) -> Option<&'static str> {
    let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return Some("the admin endpoints refuse cross-site requests");
        }
    }
    let host = text(header::HOST);
    // Browsers send `Origin` or `Sec-Fetch-*`; programs (curl, Node, the tests) send
    // neither and may use any name for the emulator.
    let browser = headers.contains_key(header::ORIGIN) || headers.keys().any(|k| k.as_str().starts_with("sec-fetch-"));
    if let Some(host) = host.filter(|_| browser) {
        let name = host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(n, _)| n);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let local = name.parse::<std::net::IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || name.eq_ignore_ascii_case(configured_host);
        if !local {
            return Some("the admin endpoints answer browsers only at an IP address or localhost");
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        if host.is_none_or(|host| origin != format!("http://{host}")) {
            return Some("the admin endpoints refuse cross-origin requests");
        }
    }
    None
}

/// The middleware of the admin routes: 403 for what [`admin_refusal`] refuses.
async fn admin_guard(State(state): State<Arc<AppState>>, request: HttpRequest, next: Next) -> Response {
    match admin_refusal(request.headers(), &state.config.host) {
        Some(reason) => ApiError::new(StatusCode::FORBIDDEN, "Forbidden", reason).into_response(),
        None => next.run(request).await,
    }
}

/// Reads a request body of at most `limit` bytes within `--body-timeout-ms`. A declared
/// `Content-Length` over the limit is refused before any of the body is read; a body
/// without one is refused as soon as it passes the limit.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body, limit: u64) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestSizeLimitExceeded",
            format!("the request body is larger than {limit} bytes"),
        )
        .with_header(header::CONNECTION, "close")
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "InvalidBody", "the body broke off"))?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(bytes))
    };
    let timeout = Duration::from_millis(state.config.body_timeout_ms);
    tokio::time::timeout(timeout, read).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            format!("the request body did not arrive within {} ms", timeout.as_millis()),
        )
        .with_header(header::CONNECTION, "close"))
    })
}

/// 405 for anything but POST on an API path.
async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "the API takes POST requests only")
        .into_response()
}

/// The resource an API request was posted to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    Job,
    MusicModel,
}

impl Resource {
    fn path(self) -> &'static str {
        match self {
            Resource::Job => "/job",
            Resource::MusicModel => "/music_model",
        }
    }
}

async fn job_endpoint(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    api_endpoint(&state, Resource::Job, &headers, body).await
}

async fn music_model_endpoint(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    api_endpoint(&state, Resource::MusicModel, &headers, body).await
}

/// The size limit first (a body over `--max-body-bytes` is never read), then the request.
async fn api_endpoint(state: &Arc<AppState>, resource: Resource, headers: &HeaderMap, body: Body) -> Response {
    let body = match read_body(state, headers, body, state.config.max_body_bytes).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    api(state, resource, &body).unwrap_or_else(IntoResponse::into_response)
}

/// One API request: JSON, credentials, action against path, the validator, then the action.
/// The body is parsed once (linear, and bounded by `--max-body-bytes`); the credentials,
/// two lookups and two comparisons, are checked before the validator walks the request
/// and before anything is created.
fn api(state: &Arc<AppState>, resource: Resource, body: &[u8]) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::invalid_json("the body is not UTF-8 text"))?;
    let value = Value::parse(text).map_err(|e| {
        ApiError::invalid_json(match e {
            SyntaxError::Invalid(at) => format!("the body is not JSON (at byte {at})"),
            SyntaxError::Truncated => "the body ends before its JSON does".into(),
            SyntaxError::TooDeep => "the body's JSON nests too deeply".into(),
        })
    })?;
    authenticate(state, &value)?;
    if let Some(action) = value.get("action").and_then(Value::as_str).and_then(Action::from_name) {
        if action.path() != resource.path() {
            return Err(ApiError::invalid_action(action.name(), action.path()));
        }
    }
    let envelope = check_request(&value).map_err(ApiError::invalid_parameter)?;
    let key = envelope.action().response_key();
    Ok(match envelope.request {
        Request::CreateJob(request) => success(key, &JobResponse { job: jobs::create(state, request)? }),
        Request::GetJob(request) => {
            let job = jobs::get(state, &request.id).ok_or_else(|| ApiError::job_not_found(&request.id))?;
            success(key, &JobResponse { job })
        }
        Request::ListJobs(request) => {
            let jobs = jobs::with_custom_id(state, &request.custom_id);
            success(key, &ListJobsResponse { total: jobs.len() as u64, jobs })
        }
        Request::ListModels(request) => success(key, &state.registry().models.page(request.offset, request.limit)),
    })
}

/// `secretId` and `secretKey` must be the configured pair.
fn authenticate(state: &AppState, body: &Value) -> Result<(), ApiError> {
    let id = body.get("secretId").and_then(Value::as_str);
    let key = body.get("secretKey").and_then(Value::as_str);
    match (id, key) {
        (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
            let matches = sigv4::constant_time_eq(id.as_bytes(), state.config.secret_id.as_bytes())
                & sigv4::constant_time_eq(key.as_bytes(), state.config.secret_key.as_bytes());
            if matches {
                Ok(())
            } else {
                Err(ApiError::auth_failure("the secretId or the secretKey is wrong"))
            }
        }
        _ => Err(ApiError::auth_failure("secretId and secretKey are required")),
    }
}

fn invalid_path(message: &str) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidPath", message).into_response()
}

/// GET (and HEAD) /cos/{contentId}/{path}: a file of the content store (never through a
/// symbolic link); a `Range` of one span (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answers 206
/// with that part, so that an `<audio>` element can seek.
async fn get_content(
    State(state): State<Arc<AppState>>,
    Path((content_id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(file) = state.store.content_path(&content_id, &path) else {
        return invalid_path("the path leaves the content store");
    };
    let store = state.store.clone();
    let read = tokio::task::spawn_blocking(move || store.read_content(&file, u64::MAX)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(ContentError::NotFound)) => {
            return ApiError::not_found(
                "ContentNotFound",
                format!("no file {path:?} in content repository {content_id:?}"),
            )
            .into_response()
        }
        Ok(Err(ContentError::Refused)) => return invalid_path("the path is a symbolic link or not a regular file"),
        _ => return ApiError::internal("cannot read the file").into_response(),
    };
    let common = [
        (header::CONTENT_TYPE, content_type(&path)),
        (header::CACHE_CONTROL, "no-cache"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::ACCEPT_RANGES, "bytes"),
    ];
    let total = bytes.len() as u64;
    match headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(|v| byte_range(v, total)) {
        Some(Some(Ok((start, end)))) => {
            let part = Bytes::from(bytes).slice(start as usize..=end as usize);
            let range = format!("bytes {start}-{end}/{total}");
            (StatusCode::PARTIAL_CONTENT, common, [(header::CONTENT_RANGE, range)], part).into_response()
        }
        Some(Some(Err(()))) => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{total}"))],
            ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "the range is outside the file").body(),
        )
            .into_response(),
        // No range, or one this does not serve (several spans, another unit): the whole file,
        // as RFC 9110 allows.
        _ => (StatusCode::OK, common, bytes).into_response(),
    }
}

/// The first and last byte of a one-span `Range` over `total` bytes: `None` for a header
/// this does not serve, `Some(Err(()))` for a span that starts past the end (416).
fn byte_range(value: &str, total: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
    };
    let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-n`: the last n bytes.
        (true, false) => {
            let suffix = number(last)?;
            if suffix == 0 || total == 0 {
                return Some(Err(()));
            }
            (total.saturating_sub(suffix), total - 1)
        }
        (false, true) => (number(first)?, total.saturating_sub(1)),
        (false, false) => {
            let (start, end) = (number(first)?, number(last)?);
            if end < start {
                return None;
            }
            (start, end.min(total.saturating_sub(1)))
        }
        (true, true) => return None,
    };
    Some(if start >= total { Err(()) } else { Ok((start, end)) })
}

/// PUT /cos/{contentId}/{path}: stores a file (for `source` inputs and `url`s of the store),
/// at most `--max-input-bytes`. Presigned, the body must have as many bytes as the signed
/// `content-length` (HTTP already holds it to the header, whose value the signature covers:
/// this is a second guard, should a body ever arrive otherwise).
async fn put_content(
    State(state): State<Arc<AppState>>,
    Path((content_id, path)): Path<(String, String)>,
    verified: Option<Extension<Verified>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(file) = state.store.content_path(&content_id, &path) else {
        return invalid_path("the path leaves the content store");
    };
    let body = match read_body(&state, &headers, body, state.config.max_input_bytes).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    if let Some(Extension(verified)) = verified {
        if let Some(length) = verified.content_length.filter(|length| *length != body.len() as u64) {
            let message = format!("the body is {} bytes, not the signed content-length {length}", body.len());
            return s3_error(StatusCode::FORBIDDEN, "AccessDenied", &message);
        }
    }
    let store = state.store.clone();
    let written = tokio::task::spawn_blocking(move || store.write_content(&file, &body)).await;
    match written {
        Ok(Ok(())) => {
            let path = format!("/{}", path.trim_start_matches('/'));
            let url = state.content_url(&content_id, &path);
            json_response(StatusCode::CREATED, json!({"contentId": content_id, "path": path, "url": url}).to_string())
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            invalid_path("the path goes through a symbolic link or a file")
        }
        _ => ApiError::internal("cannot store the file").into_response(),
    }
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// GET /admin/jobs: every job in creation order, each with `errorMessage` when in ERROR.
async fn admin_jobs(State(state): State<Arc<AppState>>) -> Response {
    let jobs: Vec<serde_json::Value> = state
        .registry()
        .jobs_in_order()
        .into_iter()
        .map(|record| {
            let mut job = serde_json::to_value(&record.job).unwrap_or_default();
            if let (Some(error), Some(object)) = (&record.error, job.as_object_mut()) {
                object.insert("errorMessage".into(), error.clone().into());
            }
            job
        })
        .collect();
    json_response(StatusCode::OK, json!({"total": jobs.len(), "jobs": jobs}).to_string())
}

/// GET /admin/models: every model with its voice profile.
async fn admin_models(State(state): State<Arc<AppState>>) -> Response {
    let models = state.registry().models.all();
    json_response(StatusCode::OK, json!({"total": models.len(), "models": models}).to_string())
}

/// POST /admin/jobs/{id}/cancel: sets a job that has not ended to CANCELED.
async fn admin_cancel(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match jobs::cancel(&state, &id) {
        Ok(job) => success("job", &job),
        Err(error) => error.into_response(),
    }
}
