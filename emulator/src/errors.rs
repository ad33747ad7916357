//! The one error format of every endpoint: an HTTP status and
//! `{"requestId": "<uuid>", "error": {"code": "<Code>", "message": "<text>", "issues": [...]}}`;
//! but for the content store's signature refusals, which S3 clients read as S3 writes them:
//! `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>` ([`s3_error`]).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use singing_cloning::Issue;

/// An error answer of the emulator.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The validator's issues, for `InvalidParameter`.
    pub issues: Vec<Issue>,
    /// Extra response headers, such as `Retry-After`.
    pub headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), issues: Vec::new(), headers: Vec::new() }
    }

    /// 401: `secretId`/`secretKey` missing or not the configured pair.
    pub fn auth_failure(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "AuthFailure", message)
    }

    /// 400: the body is not JSON.
    pub fn invalid_json(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidJson", message)
    }

    /// 400: the body breaks rules of the API; `issues` says which.
    pub fn invalid_parameter(issues: Vec<Issue>) -> Self {
        let first =
            issues.first().map(|i| format!(": {} {}", if i.path.is_empty() { "body" } else { &i.path }, i.message));
        let message = format!("the request has {} invalid field(s){}", issues.len(), first.unwrap_or_default());
        ApiError { issues, ..ApiError::new(StatusCode::BAD_REQUEST, "InvalidParameter", message) }
    }

    /// 400: an action posted to the path of another resource.
    pub fn invalid_action(action: &str, expected_path: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("{action} is not served here; post it to {{base}}{expected_path}"),
        )
    }

    /// 404: no job has this id.
    pub fn job_not_found(id: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "JobNotFound", format!("no job has the id {id:?}"))
    }

    /// 409: a training names a model that exists or is being trained.
    pub fn model_exists(name: &str) -> Self {
        ApiError::new(StatusCode::CONFLICT, "ModelExists", format!("a model named {name:?} exists or is being trained"))
    }

    /// 404: a generation names a model that does not exist.
    pub fn model_not_found(name: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "ModelNotFound", format!("no model is named {name:?}"))
    }

    /// 409: the admin cancel of a job that already ended.
    pub fn job_already_final(id: &str, state: &str) -> Self {
        ApiError::new(StatusCode::CONFLICT, "JobAlreadyFinal", format!("job {id} has already ended ({state})"))
    }

    /// 404: no route, or no file in the content store.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 500: the emulator itself failed (a file could not be written, …).
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The JSON body, with a fresh `requestId`.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(rename = "requestId")]
            request_id: String,
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "<[Issue]>::is_empty")]
            issues: &'a [Issue],
        }
        let body = Body {
            request_id: new_request_id(),
            error: Detail { code: self.code, message: &self.message, issues: &self.issues },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| String::from("{\"error\":{\"code\":\"InternalError\"}}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, self.body());
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name.clone(), value);
            }
        }
        response
    }
}

/// A new `requestId`.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A success answer: `{"requestId": "<uuid>", "<key>": <payload>}`.
pub fn success<T: Serialize>(key: &str, payload: &T) -> Response {
    match serde_json::to_string(payload) {
        Ok(payload) => {
            let id = serde_json::to_string(&new_request_id()).unwrap_or_default();
            let key = serde_json::to_string(key).unwrap_or_default();
            json_response(StatusCode::OK, format!("{{\"requestId\":{id},{key}:{payload}}}"))
        }
        Err(e) => ApiError::internal(format!("cannot write the response: {e}")).into_response(),
    }
}

/// An S3 error answer: `status` with an XML body naming `code` (`AccessDenied`,
/// `SignatureDoesNotMatch`, …), as S3 answers a request whose signature it refuses.
pub fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        ),
        xml_escape(code),
        xml_escape(message),
        new_request_id()
    );
    (status, [(axum::http::header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}
