//! Every rule of the reference, checked on an untyped body so that all issues
//! are found at once, each with the path of its field.

use alloc::string::String;
use alloc::vec::Vec;

use super::envelope::{Action, Credentials, Envelope, Request};
use super::music_model::{LIST_MODELS_TYPE, MAX_LIST_MODELS_LIMIT};
use super::value::Value;
use crate::error::{push_number, Issue, IssueCode};

/// `customId`, `modelName`: fewer than this many characters.
pub const MAX_ID_CHARS: usize = 63;
/// `sourceData`: at most this many characters.
pub const MAX_SOURCE_DATA_CHARS: usize = 512;
/// `outputPrefix`: fewer than 20 characters.
pub const MAX_OUTPUT_PREFIX_CHARS: usize = 19;
/// `totalEpoch`: 1 to this.
pub const MAX_TOTAL_EPOCH: u32 = 50;

/// Every issue in a request body; empty when the body is valid.
pub fn validate(body: &Value) -> Vec<Issue> {
    let mut checker = Checker::default();
    checker.body(body);
    checker.issues
}

/// Validates a body and reads it as a typed [`Envelope`].
pub fn check_request(body: &Value) -> Result<Envelope, Vec<Issue>> {
    let issues = validate(body);
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
    let mut checker = Checker::default();
    let root = Path::Root;
    let path = Path::Key(&root, action.response_key());
    let Some(payload) = checker.object(Some(payload), &path) else { return checker.issues };
    let member = Checker::member;
    match action {
        Action::CreateJob | Action::GetJob => {
            let at = Path::Key(&path, "job");
            if let Some(job) = checker.object(member(payload, "job"), &at) {
                checker.job(job, &at);
            }
        }
        Action::ListJobs => {
            let at = Path::Key(&path, "jobs");
            for (i, job) in
                checker.list(member(payload, "jobs"), &at, false, true).unwrap_or_default().iter().enumerate()
            {
                let at = Path::Index(&at, i);
                if let Some(job) = checker.object(Some(job), &at) {
                    checker.job(job, &at);
                }
            }
            checker.bounded(member(payload, "total"), &Path::Key(&path, "total"), false, 0.0, 9.0e15);
        }
        Action::ListModels => {
            checker.bounded(member(payload, "total"), &Path::Key(&path, "total"), false, 0.0, 9.0e15);
            let at = Path::Key(&path, "models");
            for (i, model) in
                checker.list(member(payload, "models"), &at, false, true).unwrap_or_default().iter().enumerate()
            {
                let at = Path::Index(&at, i);
                if let Some(model) = checker.object(Some(model), &at) {
                    checker.text(member(model, "name"), &Path::Key(&at, "name"), true);
                    checker.text(member(model, "createdAt"), &Path::Key(&at, "createdAt"), false);
                }
            }
        }
    }
    checker.issues
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

/// A field's place in the body, kept as a chain of borrowed segments and
/// written out only when an issue needs it.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self, out: &mut String) {
        match *self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.render(out);
                out.push('[');
                push_number(out, index as u64);
                out.push(']');
            }
        }
    }
}

/// A number that the typed model can hold as an integer.
enum Int {
    Absent,
    Invalid,
    Value(f64),
}

#[derive(Default)]
struct Checker {
    issues: Vec<Issue>,
}

impl Checker {
    fn report(&mut self, path: &Path, code: IssueCode, message: &'static str) {
        let mut rendered = String::new();
        path.render(&mut rendered);
        self.issues.push(Issue { path: rendered, code, message });
    }

    /// The member `key` of `object`; a `null` counts as absent, as JavaScript callers pass `undefined` and `null` alike.
    fn member<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
        object.get(key).filter(|v| **v != Value::Null)
    }

    fn object<'v>(&mut self, value: Option<&'v Value>, path: &Path) -> Option<&'v Value> {
        match value {
            None => {
                self.report(path, IssueCode::Required, "is required");
                None
            }
            Some(v @ Value::Object(_)) => Some(v),
            Some(_) => {
                self.report(path, IssueCode::Type, "must be an object");
                None
            }
        }
    }

    /// A required or optional string; a required one must not be empty.
    fn string<'v>(&mut self, value: Option<&'v Value>, path: &Path, required: bool) -> Option<&'v str> {
        match value {
            None if required => {
                self.report(path, IssueCode::Required, "is required");
                None
            }
            None => None,
            Some(Value::String(s)) if required && s.is_empty() => {
                self.report(path, IssueCode::Required, "must not be empty");
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.report(path, IssueCode::Type, "must be a string");
                None
            }
        }
    }

    /// A string that may be empty; in answers, where the service decides what is valid.
    fn text(&mut self, value: Option<&Value>, path: &Path, required: bool) {
        match value {
            None if required => self.report(path, IssueCode::Required, "is required"),
            None | Some(Value::String(_)) => {}
            Some(_) => self.report(path, IssueCode::Type, "must be a string"),
        }
    }

    /// An integer from `min` to `max`, as the typed model holds it.
    fn bounded(&mut self, value: Option<&Value>, path: &Path, required: bool, min: f64, max: f64) {
        if let Int::Value(n) = self.integer(value, path, required) {
            if n < min || n > max {
                self.report(path, IssueCode::Range, "is out of range");
            }
        }
    }

    fn max_chars(&mut self, value: Option<&str>, max: usize, path: &Path, message: &'static str) {
        if value.is_some_and(|s| s.chars().count() > max) {
            self.report(path, IssueCode::TooLong, message);
        }
    }

    fn integer(&mut self, value: Option<&Value>, path: &Path, required: bool) -> Int {
        match value {
            None if required => {
                self.report(path, IssueCode::Required, "is required");
                Int::Invalid
            }
            None => Int::Absent,
            Some(Value::Number(n)) if n.get().fract() == 0.0 => Int::Value(n.get()),
            Some(_) => {
                self.report(path, IssueCode::Type, "must be an integer");
                Int::Invalid
            }
        }
    }

    fn http_url(&mut self, value: Option<&str>, path: &Path) {
        if value.is_some_and(|url| !is_http_url(url)) {
            self.report(path, IssueCode::Url, "must be an absolute http or https URL");
        }
    }

    fn array<'v>(&mut self, value: Option<&'v Value>, path: &Path) -> Option<&'v [Value]> {
        self.list(value, path, true, false)
    }

    /// An array; `required` when it must be there, `allow_empty` when `[]` will do.
    fn list<'v>(
        &mut self,
        value: Option<&'v Value>,
        path: &Path,
        required: bool,
        allow_empty: bool,
    ) -> Option<&'v [Value]> {
        match value {
            None if !required => None,
            None => {
                self.report(path, IssueCode::Required, "is required");
                None
            }
            Some(Value::Array(items)) if items.is_empty() && !allow_empty => {
                self.report(path, IssueCode::Required, "must not be empty");
                None
            }
            Some(Value::Array(items)) => Some(items),
            Some(_) => {
                self.report(path, IssueCode::Type, "must be an array");
                None
            }
        }
    }

    fn body(&mut self, body: &Value) {
        let root = Path::Root;
        if !matches!(body, Value::Object(_)) {
            self.report(&root, IssueCode::Type, "must be a JSON object");
            return;
        }
        // Credentials are optional (a body from a browser has none), but never empty.
        for key in ["secretId", "secretKey"] {
            let at = Path::Key(&root, key);
            if self.string(Self::member(body, key), &at, false) == Some("") {
                self.report(&at, IssueCode::Required, "must not be empty");
            }
        }
        let action_path = Path::Key(&root, "action");
        let Some(name) = self.string(Self::member(body, "action"), &action_path, true) else { return };
        let Some(action) = Action::from_name(name) else {
            self.report(&action_path, IssueCode::UnknownAction, "must be CreateJob, GetJob, ListJobs or ListModels");
            return;
        };
        let key = action.request_key();
        let path = Path::Key(&root, key);
        let Some(request) = self.object(Self::member(body, key), &path) else { return };
        match action {
            Action::CreateJob => self.create_job(request, &path),
            Action::GetJob => {
                self.string(Self::member(request, "id"), &Path::Key(&path, "id"), true);
            }
            Action::ListJobs => {
                let at = Path::Key(&path, "customId");
                let custom_id = self.string(Self::member(request, "customId"), &at, true);
                self.max_chars(custom_id, MAX_ID_CHARS, &at, "must be shorter than 64 characters");
            }
            Action::ListModels => self.list_models(request, &path),
        }
    }

    fn create_job(&mut self, request: &Value, path: &Path) {
        let at = Path::Key(path, "callback");
        let callback = self.string(Self::member(request, "callback"), &at, false);
        self.http_url(callback, &at);

        let at = Path::Key(path, "customId");
        let custom_id = self.string(Self::member(request, "customId"), &at, false);
        self.max_chars(custom_id, MAX_ID_CHARS, &at, "must be shorter than 64 characters");

        let at = Path::Key(path, "timeout");
        if let Int::Value(n) = self.integer(Self::member(request, "timeout"), &at, false) {
            if !(1.0..=u32::MAX as f64).contains(&n) {
                self.report(&at, IssueCode::Range, "must be a positive number of seconds");
            }
        }

        let inputs_path = Path::Key(path, "inputs");
        let inputs = self.array(Self::member(request, "inputs"), &inputs_path);
        for (i, input) in inputs.unwrap_or_default().iter().enumerate() {
            self.input(input, &Path::Index(&inputs_path, i));
        }
        // Without a valid `inputs` array, selectors cannot be checked against it.
        let input_count = inputs.map(<[Value]>::len);

        let outputs_path = Path::Key(path, "outputs");
        let outputs = self.array(Self::member(request, "outputs"), &outputs_path);
        for (i, output) in outputs.unwrap_or_default().iter().enumerate() {
            self.output(output, &Path::Index(&outputs_path, i), input_count);
        }
    }

    fn input(&mut self, input: &Value, path: &Path) {
        let Some(input) = self.object(Some(input), path) else { return };
        let fields = ["sourceData", "url", "source"];
        let set = fields.iter().filter(|key| Self::member(input, key).is_some()).count();
        if set != 1 {
            self.report(path, IssueCode::OneOf, "must have exactly one of sourceData, url and source");
        }

        let at = Path::Key(path, "sourceData");
        let source_data = self.string(Self::member(input, "sourceData"), &at, false);
        self.max_chars(source_data, MAX_SOURCE_DATA_CHARS, &at, "must be at most 512 characters");

        let at = Path::Key(path, "url");
        let url = self.string(Self::member(input, "url"), &at, false);
        self.http_url(url, &at);

        let at = Path::Key(path, "source");
        if let Some(source) = Self::member(input, "source") {
            if let Some(source) = self.object(Some(source), &at) {
                self.string(Self::member(source, "contentId"), &Path::Key(&at, "contentId"), true);
                self.string(Self::member(source, "path"), &Path::Key(&at, "path"), true);
            }
        }
    }

    fn output(&mut self, output: &Value, path: &Path, input_count: Option<usize>) {
        let Some(output) = self.object(Some(output), path) else { return };

        let content_id_path = Path::Key(path, "contentId");
        let content_id = self.string(Self::member(output, "contentId"), &content_id_path, false);
        self.string(Self::member(output, "destination"), &Path::Key(path, "destination"), false);

        let selectors_path = Path::Key(path, "inputSelectors");
        let selectors = self.array(Self::member(output, "inputSelectors"), &selectors_path);
        for (i, selector) in selectors.unwrap_or_default().iter().enumerate() {
            let at = Path::Index(&selectors_path, i);
            if let Int::Value(n) = self.integer(Some(selector), &at, true) {
                if input_count.is_some_and(|count| n < 0.0 || n >= count as f64) {
                    self.report(&at, IssueCode::Reference, "must be the index of an input");
                }
            }
        }

        let descriptor_path = Path::Key(path, "smartContentDescriptor");
        let Some(descriptor) = self.object(Self::member(output, "smartContentDescriptor"), &descriptor_path) else {
            return;
        };
        let at = Path::Key(&descriptor_path, "outputPrefix");
        let prefix = self.string(Self::member(descriptor, "outputPrefix"), &at, false);
        self.max_chars(prefix, MAX_OUTPUT_PREFIX_CHARS, &at, "must be shorter than 20 characters");

        let cloning_path = Path::Key(&descriptor_path, "singingCloning");
        let Some(cloning) = self.object(Self::member(descriptor, "singingCloning"), &cloning_path) else { return };

        let at = Path::Key(&cloning_path, "type");
        let kind = match self.integer(Self::member(cloning, "type"), &at, true) {
            Int::Value(n) if n == 1.0 || n == 2.0 => Some(n as u32),
            Int::Value(_) => {
                self.report(&at, IssueCode::Enum, "must be 1 (generate audio) or 2 (train a model)");
                None
            }
            _ => None,
        };

        let at = Path::Key(&cloning_path, "modelName");
        if let Some(name) = self.string(Self::member(cloning, "modelName"), &at, true) {
            if name.chars().count() > MAX_ID_CHARS {
                self.report(&at, IssueCode::TooLong, "must be shorter than 64 characters");
            } else if !is_model_name(name) {
                self.report(&at, IssueCode::Pattern, "must contain only ASCII letters, digits and underscores");
            }
        }

        let at = Path::Key(&cloning_path, "totalEpoch");
        if let Int::Value(n) = self.integer(Self::member(cloning, "totalEpoch"), &at, false) {
            if kind == Some(1) {
                self.report(&at, IssueCode::NotApplicable, "applies only to training (type 2)");
            } else if !(1.0..=MAX_TOTAL_EPOCH as f64).contains(&n) {
                self.report(&at, IssueCode::Range, "must be from 1 to 50");
            }
        }

        let at = Path::Key(&cloning_path, "useSeparate");
        if let Int::Value(n) = self.integer(Self::member(cloning, "useSeparate"), &at, false) {
            if n != 1.0 && n != 2.0 {
                self.report(&at, IssueCode::Enum, "must be 1 (off) or 2 (on)");
            }
        }

        if kind == Some(1) && content_id.is_none_or(str::is_empty) && !self.reported_at(&content_id_path) {
            self.report(&content_id_path, IssueCode::Required, "is required to generate audio (type 1)");
        }
    }

    /// A Job in an answer: what [`crate::model::Job`] reads, with its types.
    fn job(&mut self, job: &Value, path: &Path) {
        let member = Self::member;
        self.text(member(job, "id"), &Path::Key(path, "id"), true);
        self.bounded(member(job, "state"), &Path::Key(path, "state"), true, -9.0e15, 9.0e15);
        for key in ["customId", "callback"] {
            self.text(member(job, key), &Path::Key(path, key), false);
        }
        let at = Path::Key(path, "timing");
        if let Some(timing) = member(job, "timing") {
            if let Some(timing) = self.object(Some(timing), &at) {
                for key in ["createdAt", "startedAt", "completedAt"] {
                    self.text(member(timing, key), &Path::Key(&at, key), false);
                }
            }
        }
        let inputs = Path::Key(path, "inputs");
        for (i, input) in self.list(member(job, "inputs"), &inputs, false, true).unwrap_or_default().iter().enumerate()
        {
            let at = Path::Index(&inputs, i);
            let Some(input) = self.object(Some(input), &at) else { continue };
            for key in ["sourceData", "url"] {
                self.text(member(input, key), &Path::Key(&at, key), false);
            }
            let at = Path::Key(&at, "source");
            if let Some(source) = member(input, "source") {
                if let Some(source) = self.object(Some(source), &at) {
                    self.text(member(source, "contentId"), &Path::Key(&at, "contentId"), true);
                    self.text(member(source, "path"), &Path::Key(&at, "path"), true);
                }
            }
        }
        let outputs = Path::Key(path, "outputs");
        for (i, output) in
            self.list(member(job, "outputs"), &outputs, false, true).unwrap_or_default().iter().enumerate()
        {
            let at = Path::Index(&outputs, i);
            if let Some(output) = self.object(Some(output), &at) {
                self.job_output(output, &at);
            }
        }
    }

    fn job_output(&mut self, output: &Value, path: &Path) {
        let member = Self::member;
        for key in ["contentId", "destination"] {
            self.text(member(output, key), &Path::Key(path, key), false);
        }
        let at = Path::Key(path, "inputSelectors");
        for (i, selector) in
            self.list(member(output, "inputSelectors"), &at, true, true).unwrap_or_default().iter().enumerate()
        {
            self.bounded(Some(selector), &Path::Index(&at, i), true, 0.0, u32::MAX as f64);
        }
        let descriptor_path = Path::Key(path, "smartContentDescriptor");
        if let Some(descriptor) = self.object(member(output, "smartContentDescriptor"), &descriptor_path) {
            self.text(member(descriptor, "outputPrefix"), &Path::Key(&descriptor_path, "outputPrefix"), false);
            let at = Path::Key(&descriptor_path, "singingCloning");
            if let Some(cloning) = self.object(member(descriptor, "singingCloning"), &at) {
                self.bounded(member(cloning, "type"), &Path::Key(&at, "type"), true, 1.0, 2.0);
                self.text(member(cloning, "modelName"), &Path::Key(&at, "modelName"), true);
                self.bounded(member(cloning, "totalEpoch"), &Path::Key(&at, "totalEpoch"), false, 0.0, u32::MAX as f64);
                self.bounded(member(cloning, "useSeparate"), &Path::Key(&at, "useSeparate"), false, 1.0, 2.0);
            }
        }
        let at = Path::Key(path, "smartContentResult");
        if let Some(result) = member(output, "smartContentResult") {
            if let Some(result) = self.object(Some(result), &at) {
                let at = Path::Key(&at, "singingCloning");
                if let Some(cloning) = member(result, "singingCloning") {
                    if let Some(cloning) = self.object(Some(cloning), &at) {
                        self.text(member(cloning, "songName"), &Path::Key(&at, "songName"), false);
                        self.text(member(cloning, "modelName"), &Path::Key(&at, "modelName"), false);
                    }
                }
            }
        }
    }

    /// Whether an issue was already reported at `path` (so a wrong type is not reported twice).
    fn reported_at(&self, path: &Path) -> bool {
        let mut rendered = String::new();
        path.render(&mut rendered);
        self.issues.iter().any(|issue| issue.path == rendered)
    }

    fn list_models(&mut self, request: &Value, path: &Path) {
        let at = Path::Key(path, "offset");
        if let Int::Value(n) = self.integer(Self::member(request, "offset"), &at, true) {
            if !(0.0..=u32::MAX as f64).contains(&n) {
                self.report(&at, IssueCode::Range, "must be 0 or more");
            }
        }
        let at = Path::Key(path, "limit");
        if let Int::Value(n) = self.integer(Self::member(request, "limit"), &at, true) {
            if !(1.0..=MAX_LIST_MODELS_LIMIT as f64).contains(&n) {
                self.report(&at, IssueCode::Range, "must be from 1 to 100");
            }
        }
        let at = Path::Key(path, "type");
        if let Int::Value(n) = self.integer(Self::member(request, "type"), &at, true) {
            if n != LIST_MODELS_TYPE as f64 {
                self.report(&at, IssueCode::Enum, "must be 2");
            }
        }
    }
}
