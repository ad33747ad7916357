//! The HTTP routes: the API (`{base}/job`, `{base}/music_model`), the content store
//! (`/cos/{contentId}/{path}`) and the admin endpoints (`/admin/...`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use singing_cloning::model::value::SyntaxError;
use singing_cloning::{check_request, Action, JobResponse, ListJobsResponse, Request, Value};

use crate::errors::{json_response, success, ApiError};
use crate::faults;
use crate::jobs;
use crate::state::AppState;
use crate::store::Store;

/// Every route of the emulator.
pub fn router(state: Arc<AppState>) -> Router {
    let base = state.config.base.clone();
    let api = Router::new()
        .route(&format!("{base}/job"), post(job_endpoint).fallback(method_not_allowed))
        .route(&format!("{base}/music_model"), post(music_model_endpoint).fallback(method_not_allowed))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), faults::apply));
    let max_upload = state.config.max_input_bytes as usize;
    Router::new()
        .merge(api)
        .route("/cos/{content_id}/{*path}", get(get_content).put(put_content).layer(DefaultBodyLimit::max(max_upload)))
        .route("/admin/health", get(|| async { json_response(StatusCode::OK, json!({"ok": true}).to_string()) }))
        .route("/admin/jobs", get(admin_jobs))
        .route("/admin/models", get(admin_models))
        .route("/admin/jobs/{id}/cancel", post(admin_cancel))
        .fallback(|| async { ApiError::not_found("NotFound", "no such endpoint").into_response() })
        .with_state(state)
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

async fn job_endpoint(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    api(&state, Resource::Job, &body).unwrap_or_else(IntoResponse::into_response)
}

async fn music_model_endpoint(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    api(&state, Resource::MusicModel, &body).unwrap_or_else(IntoResponse::into_response)
}

/// One API request: JSON, credentials, action against path, the validator, then the action.
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
        Request::ListModels(request) => success(key, &state.book().models.page(request.offset, request.limit)),
    })
}

/// `secretId` and `secretKey` must be the configured pair.
fn authenticate(state: &AppState, body: &Value) -> Result<(), ApiError> {
    let id = body.get("secretId").and_then(Value::as_str);
    let key = body.get("secretKey").and_then(Value::as_str);
    match (id, key) {
        (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
            let matches = constant_time_eq(id.as_bytes(), state.config.secret_id.as_bytes())
                & constant_time_eq(key.as_bytes(), state.config.secret_key.as_bytes());
            if matches {
                Ok(())
            } else {
                Err(ApiError::auth_failure("the secretId or the secretKey is wrong"))
            }
        }
        _ => Err(ApiError::auth_failure("secretId and secretKey are required")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// GET /cos/{contentId}/{path}: a file of the content store.
async fn get_content(State(state): State<Arc<AppState>>, Path((content_id, path)): Path<(String, String)>) -> Response {
    let Some(file) = state.store.content_path(&content_id, &path) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "InvalidPath", "the path leaves the content store")
            .into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type(&path)), (header::CACHE_CONTROL, "no-cache")], bytes)
                .into_response()
        }
        Err(_) => {
            ApiError::not_found("ContentNotFound", format!("no file {path:?} in content repository {content_id:?}"))
                .into_response()
        }
    }
}

/// PUT /cos/{contentId}/{path}: stores a file (for `source` inputs), at most `--max-input-bytes`.
async fn put_content(
    State(state): State<Arc<AppState>>,
    Path((content_id, path)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(file) = state.store.content_path(&content_id, &path) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "InvalidPath", "the path leaves the content store")
            .into_response();
    };
    let written = tokio::task::spawn_blocking(move || Store::write_atomic(&file, &body)).await;
    match written {
        Ok(Ok(())) => {
            let path = format!("/{}", path.trim_start_matches('/'));
            let url = format!("{}/cos/{content_id}{path}", state.origin);
            json_response(StatusCode::CREATED, json!({"contentId": content_id, "path": path, "url": url}).to_string())
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
        .book()
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
    let models = state.book().models.all();
    json_response(StatusCode::OK, json!({"total": models.len(), "models": models}).to_string())
}

/// POST /admin/jobs/{id}/cancel: sets a job that has not ended to CANCELED.
async fn admin_cancel(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match jobs::cancel(&state, &id) {
        Ok(job) => success("job", &job),
        Err(error) => error.into_response(),
    }
}
