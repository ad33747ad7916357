//! Every rule of the reference, checked on an untyped body so that all issues
//! are found at once, each with the path of its field. The rules of the fields that
//! `generate` and `train` take as parameters are functions of their own, which the
//! builders (job_builder.rs) apply to the parameters, so each rule is written once.

use alloc::string::String;
use alloc::vec::Vec;

use super::envelope::{Action, Credentials, Envelope, Request};
use super::job::{Input, SingingCloningType, Source};
use super::music_model::{LIST_MODELS_TYPE, MAX_LIST_MODELS_LIMIT};
use super::read::{Field, Path, Reader};
use super::value::Value;
use crate::error::{Issue, IssueCode};

/// `customId`, `modelName`: fewer than this many characters.
pub const MAX_ID_CHARS: usize = 63;
/// `sourceData`: at most this many characters.
pub const MAX_SOURCE_DATA_CHARS: usize = 512;
/// `outputPrefix`: fewer than 20 characters.
pub const MAX_OUTPUT_PREFIX_CHARS: usize = 19;
/// `totalEpoch`: 1 to this.
pub const MAX_TOTAL_EPOCH: u32 = 50;

/// What an answer's number outside the typed model's range is told.
const OUT_OF_RANGE: &str = "is out of range";

/// Every issue in a request body (any action, with or without credentials); empty when
/// the body is valid.
pub fn validate_body(body: &Value) -> Vec<Issue> {
    let mut r = Reader::default();
    check_body(&mut r, body);
    r.issues
}

/// Validates a body and reads it as a typed [`Envelope`].
pub fn check_request(body: &Value) -> Result<Envelope, Vec<Issue>> {
    let issues = validate_body(body);
    if !issues.is_empty() {
        return Err(issues);
    }
    // The checks above cover every field the typed model reads, so decoding
    // fails only if the two disagree; it is still reported, never unwrapped.
    let shape_issue = |path: &str| {
        alloc::vec![Issue { path: path.into(), code: IssueCode::Type, message: "does not have the expected shape" }]
    };
    let action =
        body.get("action").and_then(Value::as_str).and_then(Action::from_name).ok_or_else(|| shape_issue("action"))?;
    let key = action.request_key();
    let inner = body.get(key).ok_or_else(|| shape_issue(key))?;
    let request = match action {
        Action::CreateJob => inner.decode().map(Request::CreateJob),
        Action::GetJob => inner.decode().map(Request::GetJob),
        Action::ListJobs => inner.decode().map(Request::ListJobs),
        Action::ListModels => inner.decode().map(Request::ListModels),
    }
    .map_err(|_| shape_issue(key))?;
    let credentials =
        match (body.get("secretId").and_then(Value::as_str), body.get("secretKey").and_then(Value::as_str)) {
            (Some(id), Some(key)) => Some(Credentials { secret_id: id.into(), secret_key: key.into() }),
            _ => None,
        };
    Ok(Envelope { request, credentials })
}

/// Issues in the result object of an answer to `action` (`payload`): the fields the
/// typed model reads must have its types; unknown fields and unknown states pass.
pub fn check_response(action: Action, payload: &Value) -> Vec<Issue> {
    let mut r = Reader::default();
    let root = Path::Root;
    let Some(payload) = r.object(Field::new(Some(payload), Path::Key(&root, action.response_key())), true) else {
        return r.issues;
    };
    match action {
        Action::CreateJob | Action::GetJob => {
            if let Some(job) = r.object(payload.key("job"), true) {
                check_job(&mut r, job);
            }
        }
        Action::ListJobs => {
            let jobs = payload.key("jobs");
            for (i, job) in r.array(jobs, false, true).unwrap_or_default().iter().enumerate() {
                if let Some(job) = r.object(jobs.item(i, job), true) {
                    check_job(&mut r, job);
                }
            }
            r.integer_in(payload.key("total"), false, 0.0, 9.0e15, OUT_OF_RANGE);
        }
        Action::ListModels => {
            r.integer_in(payload.key("total"), false, 0.0, 9.0e15, OUT_OF_RANGE);
            let models = payload.key("models");
            for (i, model) in r.array(models, false, true).unwrap_or_default().iter().enumerate() {
                if let Some(model) = r.object(models.item(i, model), true) {
                    r.text(model.key("name"), true);
                    r.text(model.key("createdAt"), false);
                }
            }
        }
    }
    r.issues
}

/// Whether `url` is an absolute http or https URL with a host.
pub fn is_http_url(url: &str) -> bool {
    // Character and byte searches only: substring search costs page weight.
    let Some((scheme, rest)) = url.split_once(':') else { return false };
    let Some(rest) = rest.strip_prefix("//") else { return false };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rfind('@') {
        Some(at) => authority.get(at + 1..).unwrap_or(""),
        None => authority,
    };
    !host.is_empty() && !host.starts_with(':') && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `name` may name a model: ASCII letters, digits and underscores, 1 to 63 of them.
pub fn is_model_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_ID_CHARS && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_body(r: &mut Reader, body: &Value) {
    let root = Path::Root;
    if !matches!(body, Value::Object(_)) {
        r.report(&root, IssueCode::Type, "must be a JSON object");
        return;
    }
    let body = Field::new(Some(body), root);
    // Credentials are optional (a body from a browser has none), but never empty.
    for key in ["secretId", "secretKey"] {
        r.non_empty(body.key(key));
    }
    let action_field = body.key("action");
    let Some(name) = r.string(action_field, true) else { return };
    let Some(action) = Action::from_name(name) else {
        r.report(&action_field.path, IssueCode::UnknownAction, "must be CreateJob, GetJob, ListJobs or ListModels");
        return;
    };
    let Some(request) = r.object(body.key(action.request_key()), true) else { return };
    match action {
        Action::CreateJob => check_create_job(r, request),
        Action::GetJob => {
            r.string(request.key("id"), true);
        }
        Action::ListJobs => {
            custom_id(r, request.key("customId"), true);
        }
        Action::ListModels => check_list_models(r, request),
    }
}

fn check_create_job(r: &mut Reader, request: Field) {
    callback(r, request.key("callback"));
    custom_id(r, request.key("customId"), false);
    timeout(r, request.key("timeout"));

    let inputs = request.key("inputs");
    let input_items = r.array(inputs, true, false);
    for (i, item) in input_items.unwrap_or_default().iter().enumerate() {
        let Some(at) = r.object(inputs.item(i, item), true) else { continue };
        let fields = [at.key("url"), at.key("source"), at.key("sourceData")];
        input(r, &at.path, fields, "must have exactly one of sourceData, url and source");
    }
    // Without a valid `inputs` array, selectors cannot be checked against it.
    let input_count = input_items.map(<[Value]>::len);

    let outputs = request.key("outputs");
    for (i, output) in r.array(outputs, true, false).unwrap_or_default().iter().enumerate() {
        check_output(r, outputs.item(i, output), input_count);
    }
}

fn check_output(r: &mut Reader, output: Field, input_count: Option<usize>) {
    let Some(output) = r.object(output, true) else { return };

    let content_id_at = output.key("contentId");
    let content_id = r.string(content_id_at, false);
    r.string(output.key("destination"), false);

    let selectors = output.key("inputSelectors");
    for (i, selector) in r.array(selectors, true, false).unwrap_or_default().iter().enumerate() {
        let at = selectors.item(i, selector);
        if let Some(n) = r.integer(at, true) {
            if input_count.is_some_and(|count| n < 0.0 || n >= count as f64) {
                r.report(&at.path, IssueCode::Reference, "must be the index of an input");
            }
        }
    }

    let Some(descriptor) = r.object(output.key("smartContentDescriptor"), true) else { return };
    output_prefix(r, descriptor.key("outputPrefix"));

    let Some(cloning) = r.object(descriptor.key("singingCloning"), true) else { return };

    let at = cloning.key("type");
    // `as` saturates, so only 1 and 2 name a kind.
    let kind = r.integer(at, true).and_then(|n| SingingCloningType::from_code(n as u32));
    if kind.is_none() && !r.reported_at(&at.path) {
        r.report(&at.path, IssueCode::Enum, "must be 1 (generate audio) or 2 (train a model)");
    }
    model_name(r, cloning.key("modelName"));
    total_epoch(r, cloning.key("totalEpoch"), kind);

    let at = cloning.key("useSeparate");
    if let Some(n) = r.integer(at, false) {
        if n != 1.0 && n != 2.0 {
            r.report(&at.path, IssueCode::Enum, "must be 1 (off) or 2 (on)");
        }
    }

    if kind == Some(SingingCloningType::Generate) {
        generation_content_id(r, content_id_at, content_id);
    }
}

// The rules of the CreateJob fields that the parameters of `generate` and `train` fill too
// (see job_builder.rs): each written once, and applied wherever the field is, in a wire body
// or among the parameters, so that its issue carries that place's path. Each returns what it
// read, valid or not (an issue means no request is made of it).

/// `callback`: an absolute http(s) URL.
pub(super) fn callback<'v>(r: &mut Reader, at: Field<'v, '_>) -> Option<&'v str> {
    let url = r.string(at, false);
    http_url(r, &at, url)
}

/// `customId`: fewer than 64 characters.
pub(super) fn custom_id<'v>(r: &mut Reader, at: Field<'v, '_>, required: bool) -> Option<&'v str> {
    let id = r.string(at, required);
    max_chars(r, &at, id, MAX_ID_CHARS, "must be shorter than 64 characters")
}

/// `timeout`: a positive number of seconds.
pub(super) fn timeout(r: &mut Reader, at: Field) -> Option<u32> {
    let seconds = r.integer_in(at, false, 1.0, u32::MAX as f64, "must be a positive number of seconds");
    seconds.map(|n| n as u32)
}

/// An input from its fields `[url, source, sourceData]`, exactly one of them set: `whole` is
/// the input's place, where the `one_of` message (which names the fields) is reported.
pub(super) fn input(r: &mut Reader, whole: &Path, fields: [Field; 3], one_of: &'static str) -> Input {
    if fields.iter().filter(|field| field.value.is_some()).count() != 1 {
        r.report(whole, IssueCode::OneOf, one_of);
    }
    let [url, source, source_data] = fields;
    let text = r.string(source_data, false);
    let source_data = max_chars(r, &source_data, text, MAX_SOURCE_DATA_CHARS, "must be at most 512 characters");
    let address = r.string(url, false);
    let url = http_url(r, &url, address);
    let source = r.object(source, false).map(|source| Source {
        content_id: r.string(source.key("contentId"), true).unwrap_or_default().into(),
        path: r.string(source.key("path"), true).unwrap_or_default().into(),
    });
    Input { source_data: source_data.map(String::from), url: url.map(String::from), source }
}

/// `outputPrefix`: fewer than 20 characters.
pub(super) fn output_prefix<'v>(r: &mut Reader, at: Field<'v, '_>) -> Option<&'v str> {
    let prefix = r.string(at, false);
    max_chars(r, &at, prefix, MAX_OUTPUT_PREFIX_CHARS, "must be shorter than 20 characters")
}

/// `modelName`: required, fewer than 64 ASCII letters, digits and underscores.
pub(super) fn model_name<'v>(r: &mut Reader, at: Field<'v, '_>) -> Option<&'v str> {
    let name = r.string(at, true)?;
    if name.chars().count() > MAX_ID_CHARS {
        r.report(&at.path, IssueCode::TooLong, "must be shorter than 64 characters");
    } else if !is_model_name(name) {
        r.report(&at.path, IssueCode::Pattern, "must contain only ASCII letters, digits and underscores");
    }
    Some(name)
}

/// `totalEpoch`, in a job of `kind` (`None`: unknown): from 1 to 50, for training only.
pub(super) fn total_epoch(r: &mut Reader, at: Field, kind: Option<SingingCloningType>) -> Option<u32> {
    let n = r.integer(at, false)?;
    if kind == Some(SingingCloningType::Generate) {
        r.report(&at.path, IssueCode::NotApplicable, "applies only to training (type 2)");
    } else if !(1.0..=MAX_TOTAL_EPOCH as f64).contains(&n) {
        r.report(&at.path, IssueCode::Range, "must be from 1 to 50");
    }
    Some(n as u32)
}

/// The `contentId` of a generation's output, `content_id` as read (by `r.string`, so a wrong
/// type is already reported): required, as the audio is written there.
pub(super) fn generation_content_id(r: &mut Reader, at: Field, content_id: Option<&str>) {
    if content_id.is_none_or(str::is_empty) && !r.reported_at(&at.path) {
        r.report(&at.path, IssueCode::Required, "is required to generate audio (type 1)");
    }
}

/// `value`, reporting it at `field` when it has more than `max` characters.
fn max_chars<'v>(
    r: &mut Reader,
    field: &Field,
    value: Option<&'v str>,
    max: usize,
    message: &'static str,
) -> Option<&'v str> {
    if value.is_some_and(|s| s.chars().count() > max) {
        r.report(&field.path, IssueCode::TooLong, message);
    }
    value
}

/// `value`, reporting it at `field` when it is not an absolute http(s) URL.
fn http_url<'v>(r: &mut Reader, field: &Field, value: Option<&'v str>) -> Option<&'v str> {
    if value.is_some_and(|url| !is_http_url(url)) {
        r.report(&field.path, IssueCode::Url, "must be an absolute http or https URL");
    }
    value
}

/// A Job in an answer: what [`crate::model::Job`] reads, with its types.
fn check_job(r: &mut Reader, job: Field) {
    r.text(job.key("id"), true);
    r.integer_in(job.key("state"), true, -9.0e15, 9.0e15, OUT_OF_RANGE);
    for key in ["customId", "callback"] {
        r.text(job.key(key), false);
    }
    if let Some(timing) = r.object(job.key("timing"), false) {
        for key in ["createdAt", "startedAt", "completedAt"] {
            r.text(timing.key(key), false);
        }
    }
    let inputs = job.key("inputs");
    for (i, input) in r.array(inputs, false, true).unwrap_or_default().iter().enumerate() {
        let Some(input) = r.object(inputs.item(i, input), true) else { continue };
        for key in ["sourceData", "url"] {
            r.text(input.key(key), false);
        }
        if let Some(source) = r.object(input.key("source"), false) {
            r.text(source.key("contentId"), true);
            r.text(source.key("path"), true);
        }
    }
    let outputs = job.key("outputs");
    for (i, output) in r.array(outputs, false, true).unwrap_or_default().iter().enumerate() {
        if let Some(output) = r.object(outputs.item(i, output), true) {
            check_job_output(r, output);
        }
    }
}

fn check_job_output(r: &mut Reader, output: Field) {
    for key in ["contentId", "destination"] {
        r.text(output.key(key), false);
    }
    let selectors = output.key("inputSelectors");
    for (i, selector) in r.array(selectors, true, true).unwrap_or_default().iter().enumerate() {
        r.integer_in(selectors.item(i, selector), true, 0.0, u32::MAX as f64, OUT_OF_RANGE);
    }
    if let Some(descriptor) = r.object(output.key("smartContentDescriptor"), true) {
        r.text(descriptor.key("outputPrefix"), false);
        if let Some(cloning) = r.object(descriptor.key("singingCloning"), true) {
            r.integer_in(cloning.key("type"), true, 1.0, 2.0, OUT_OF_RANGE);
            r.text(cloning.key("modelName"), true);
            r.integer_in(cloning.key("totalEpoch"), false, 0.0, u32::MAX as f64, OUT_OF_RANGE);
            r.integer_in(cloning.key("useSeparate"), false, 1.0, 2.0, OUT_OF_RANGE);
        }
    }
    if let Some(result) = r.object(output.key("smartContentResult"), false) {
        if let Some(cloning) = r.object(result.key("singingCloning"), false) {
            r.text(cloning.key("songName"), false);
            r.text(cloning.key("modelName"), false);
        }
    }
}

fn check_list_models(r: &mut Reader, request: Field) {
    r.integer_in(request.key("offset"), true, 0.0, u32::MAX as f64, "must be 0 or more");
    r.integer_in(request.key("limit"), true, 1.0, MAX_LIST_MODELS_LIMIT as f64, "must be from 1 to 100");
    let at = request.key("type");
    if let Some(n) = r.integer(at, true) {
        if n != LIST_MODELS_TYPE as f64 {
            r.report(&at.path, IssueCode::Enum, "must be 2");
        }
    }
}
