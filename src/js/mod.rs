//! The JavaScript face of the core: plain functions over `JsValue`, each turning
//! whatever JavaScript passes in into typed Rust first, and every failure into a
//! thrown `Error` with a `code` (see [`error`]).

pub mod error;
pub mod value;

use js_sys::JsString;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, IssueCode};
use crate::model::value::to_value;
use crate::model::{parse_response, validate_body, Action};

/// A string argument, or a `validation` error naming it.
pub(crate) fn string_arg(value: &JsValue, name: &'static str, message: &'static str) -> Result<String, Error> {
    value.dyn_ref::<JsString>().map(String::from).ok_or_else(|| Error::validation(name, IssueCode::Type, message))
}

/// Checks a request body against every rule of the API and returns all the issues
/// found (`[]` when the body is valid). Credentials are optional.
#[wasm_bindgen(unchecked_return_type = "Issue[]")]
pub fn validate(#[wasm_bindgen(unchecked_param_type = "unknown")] body: JsValue) -> JsValue {
    let issues = match value::from_js(&body) {
        Ok(body) => validate_body(&body),
        Err(issue) => vec![issue],
    };
    value::to_js(&to_value(&issues))
}

/// Reads the text of an answer to `action` (`CreateJob`, `GetJob`, `ListJobs` or
/// `ListModels`) as its body object, with `status` added to each job. Throws an
/// `Error` with `code` `api`, `http` or `parse` (with `status`, `requestId` and
/// `body`) when the answer is no success.
#[wasm_bindgen(js_name = parseResponse, unchecked_return_type = "ResponseBody")]
pub fn parse_response_js(
    #[wasm_bindgen(unchecked_param_type = "ActionName")] action: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "number")] status: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let action = action_arg(&action)?;
    let text = string_arg(&text, "text", "must be the response text")?;
    let status = status.unwrap_or_default();
    let status = match status.as_f64() {
        None if status.is_undefined() => 200,
        Some(n) if (100.0..=599.0).contains(&n) && n.fract() == 0.0 => n as u16,
        _ => return Err(Error::validation("status", IssueCode::Range, "must be an HTTP status from 100 to 599").into()),
    };
    let parsed = parse_response(action, status, &text)?;
    Ok(answer_to_js(&parsed))
}

/// A checked answer's body as `JSON.parse` reads it (exact numbers, one call into
/// JavaScript rather than one per field), with `status` added to every job.
pub(crate) fn answer_to_js(parsed: &crate::model::ParsedResponse) -> JsValue {
    let Ok(body) = js_sys::JSON::parse(&parsed.text) else { return value::to_js(&parsed.raw_with_status()) };
    let key = JsValue::from_str(parsed.action.response_key());
    let Ok(payload) = js_sys::Reflect::get(&body, &key) else { return body };
    let set_status = |js_job: JsValue, job: &crate::model::Value| {
        let _ = js_sys::Reflect::set(
            &js_job,
            &JsValue::from_str("status"),
            &JsValue::from_str(crate::model::response::job_status(job)),
        );
    };
    let raw = parsed.payload();
    if let Some(job) = raw.get("job") {
        if let Ok(js_job) = js_sys::Reflect::get(&payload, &JsValue::from_str("job")) {
            set_status(js_job, job);
        }
    }
    if let (Some(crate::model::Value::Array(jobs)), Ok(js_jobs)) =
        (raw.get("jobs"), js_sys::Reflect::get(&payload, &JsValue::from_str("jobs")))
    {
        for (i, job) in jobs.iter().enumerate() {
            if let Ok(js_job) = js_sys::Reflect::get_u32(&js_jobs, i as u32) {
                set_status(js_job, job);
            }
        }
    }
    body
}

/// An action name argument, or a `validation` error with an `unknown_action` issue.
pub(crate) fn action_arg(value: &JsValue) -> Result<Action, Error> {
    let message = "must be CreateJob, GetJob, ListJobs or ListModels";
    let name = string_arg(value, "action", message)?;
    Action::from_name(&name).ok_or_else(|| Error::validation("action", IssueCode::UnknownAction, message))
}

#[wasm_bindgen(typescript_custom_section)]
const RESPONSE_TS: &str = r#"
/** The action names of the API. */
export type ActionName = 'CreateJob' | 'GetJob' | 'ListJobs' | 'ListModels';
/** A Job as parsed: every wire field, plus `status`, the name of `state`. */
export type JobWithStatus = Job & { status: JobStatus };
/** A successful answer's body, as `parseResponse` returns it; unknown fields are kept. */
export interface ResponseBody {
  requestId?: string;
  createJobResponse?: { job: JobWithStatus };
  getJobResponse?: { job: JobWithStatus };
  listJobsResponse?: { jobs: JobWithStatus[]; total: number };
  listModelsResponse?: ListModelsResponse;
  [key: string]: unknown;
}
"#;
