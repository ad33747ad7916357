//! From a response's status and text to the typed result of its action, or a typed error.

use alloc::string::String;

use super::envelope::Action;
use super::job::{Job, JobResponse, JobState, ListJobsResponse};
use super::music_model::ListModelsResponse;
use super::validate::check_response;
use super::value::{SyntaxError, Value};
use crate::error::Error;

/// The typed result of one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    CreateJob(JobResponse),
    GetJob(JobResponse),
    ListJobs(ListJobsResponse),
    ListModels(ListModelsResponse),
}

/// A successful answer: the body as it came (unknown fields included), checked to have
/// the shape of the action's response. [`ParsedResponse::response`] reads it as typed
/// Rust; the page build reads the few fields it needs straight from the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedResponse {
    pub action: Action,
    pub request_id: Option<String>,
    pub raw: Value,
    /// The body's text, as it came.
    pub text: String,
}

impl ParsedResponse {
    /// The typed result. The shape was checked when parsing, so this fails only if the
    /// check and the typed model disagree, which the tests rule out.
    pub fn response(&self) -> Result<Response, Error> {
        let payload = self.payload().without_nulls();
        let result = match self.action {
            Action::CreateJob => payload.decode().map(Response::CreateJob),
            Action::GetJob => payload.decode().map(Response::GetJob),
            Action::ListJobs => payload.decode().map(Response::ListJobs),
            Action::ListModels => payload.decode().map(Response::ListModels),
        };
        result.map_err(|_| Error::Parse {
            status: 200,
            request_id: self.request_id.clone(),
            reason: SHAPE,
            body: self.raw.to_json(),
        })
    }

    /// The action's result object: `getJobResponse`, `listJobsResponse`, ….
    pub fn payload(&self) -> &Value {
        self.raw.get(self.action.response_key()).unwrap_or(&Value::Null)
    }

    /// The job of a CreateJob or GetJob answer, typed.
    pub fn job(&self) -> Option<Job> {
        match self.response() {
            Ok(Response::CreateJob(r) | Response::GetJob(r)) => Some(r.job),
            _ => None,
        }
    }

    /// The state of the job of a CreateJob or GetJob answer, read from the tree.
    pub fn job_state(&self) -> Option<JobState> {
        match self.payload().get("job")?.get("state")? {
            Value::Number(n) => Some(JobState::from_code(n.get() as i64)),
            _ => None,
        }
    }

    /// The raw body with `status` (`SUBMITTED` … `UNKNOWN`) added to every job in it.
    pub fn raw_with_status(&self) -> Value {
        let mut raw = self.raw.clone();
        if let Some(Value::Object(members)) = raw.get_mut(self.action.response_key()) {
            for (name, item) in members.iter_mut() {
                match (name.as_str(), item) {
                    ("job", job) => add_status(job),
                    ("jobs", Value::Array(jobs)) => jobs.iter_mut().for_each(add_status),
                    _ => {}
                }
            }
        }
        raw
    }
}

const SHAPE: &str = "the response object does not have the expected shape";

/// Adds `status` beside `state`, from the same number.
pub fn add_status(job: &mut Value) {
    job.set("status", Value::String(job_status(job).into()));
}

/// The name of a job's `state` (`SUBMITTED` … `CANCELED`, `UNKNOWN`).
pub fn job_status(job: &Value) -> &'static str {
    match job.get("state") {
        Some(Value::Number(n)) if n.get().fract() == 0.0 => JobState::from_code(n.get() as i64).name(),
        _ => JobState::Unknown(0).name(),
    }
}

/// Reads an answer of the service to `action`. Never panics: whatever the text, the result
/// is the typed response or an [`Error`] with the status, the `requestId` where there is
/// one, and the body.
pub fn parse_response(action: Action, status: u16, text: &str) -> Result<ParsedResponse, Error> {
    let success = (200..300).contains(&status);
    let raw = match Value::parse(text) {
        Ok(raw @ Value::Object(_)) => raw,
        other => {
            if !success {
                return Err(Error::Http { status, request_id: None, body: text.into() });
            }
            let reason = match other {
                Err(SyntaxError::Truncated) => "the body ends before its JSON does",
                Err(SyntaxError::TooDeep) => "the body's JSON nests too deeply",
                Err(SyntaxError::Invalid(_)) if text.trim_start().starts_with('<') => {
                    "the body is an HTML page, not JSON"
                }
                Err(SyntaxError::Invalid(_)) => "the body is not JSON",
                Ok(_) => "the body is not a JSON object",
            };
            return Err(Error::Parse { status, request_id: None, reason, body: text.into() });
        }
    };
    let request_id = find_request_id(&raw);
    let payload = raw.get(action.response_key());
    if let Some((error_code, message)) = find_api_error(&raw, success && payload.is_some()) {
        return Err(Error::Api { status, request_id, error_code, message, body: text.into() });
    }
    if !success {
        return Err(Error::Http { status, request_id, body: text.into() });
    }
    let parse_error = |reason| Error::Parse { status, request_id: request_id.clone(), reason, body: text.into() };
    let payload = payload.ok_or_else(|| parse_error("the body lacks the action's response object"))?;
    if !check_response(action, payload).is_empty() {
        return Err(parse_error(SHAPE));
    }
    Ok(ParsedResponse { action, request_id, raw, text: text.into() })
}

/// Reads a Job alone, as the service posts it to a callback.
pub fn parse_job(text: &str) -> Result<Job, Error> {
    let parse_error = |reason| Error::Parse { status: 200, request_id: None, reason, body: text.into() };
    let value = Value::parse(text).map_err(|_| parse_error("the body is not JSON"))?;
    let mut wrapped = Value::Object(alloc::vec![("job".into(), value)]);
    if !check_response(Action::GetJob, &wrapped).is_empty() {
        return Err(parse_error("the body is not a Job"));
    }
    wrapped
        .remove("job")
        .unwrap_or(Value::Null)
        .without_nulls()
        .decode()
        .map_err(|_| parse_error("the body is not a Job"))
}

fn string_at(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let n = &n.get();
            let mut out = String::new();
            crate::error::push_number(&mut out, *n as u64);
            Some(out).filter(|_| n.fract() == 0.0 && *n >= 0.0)
        }
        _ => None,
    }
}

fn find_request_id(raw: &Value) -> Option<String> {
    string_at(raw, "requestId")
        .or_else(|| string_at(raw, "RequestId"))
        .or_else(|| raw.get("Response").and_then(|r| string_at(r, "RequestId")))
}

/// The error code and message of the usual error shapes: `{"error": {code, message}}`,
/// `{"error": "…"}`, `{"code", "message"}`, Tencent Cloud's `{"Response": {"Error": {Code, Message}}}`,
/// and, on a failure status, a lone `{"message"}` as API gateways send.
fn find_api_error(raw: &Value, has_payload: bool) -> Option<(Option<String>, String)> {
    let no_message = || String::from("(no message)");
    match raw.get("error") {
        Some(Value::String(message)) => return Some((None, message.clone())),
        Some(error @ Value::Object(_)) => {
            return Some((string_at(error, "code"), string_at(error, "message").unwrap_or_else(no_message)));
        }
        _ => {}
    }
    if let Some(error) = raw.get("Response").and_then(|r| r.get("Error")) {
        return Some((string_at(error, "Code"), string_at(error, "Message").unwrap_or_else(no_message)));
    }
    if has_payload {
        return None;
    }
    let code = string_at(raw, "code").or_else(|| string_at(raw, "errorCode"));
    let message = string_at(raw, "message").or_else(|| string_at(raw, "errorMessage"));
    let success_code = code.as_deref().is_some_and(|c| c == "0" || c.eq_ignore_ascii_case("success"));
    match (code, message) {
        (Some(code), message) if !success_code => Some((Some(code), message.unwrap_or_else(no_message))),
        (None, Some(message)) => Some((None, message)),
        _ => None,
    }
}
