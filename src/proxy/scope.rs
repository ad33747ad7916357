//! Each identity in its own jobs (and, by config, its own models): the scope prefix goes
//! in front of `customId`s and model names on the way up, and comes off on the way back;
//! whatever lacks the caller's prefix is not theirs.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Issue, IssueCode};
use crate::model::validate::MAX_ID_CHARS;
use crate::model::{Action, Envelope, Request, SingingCloningType, Value};

/// The built-in model every identity may sing with.
pub const DEFAULT_MODEL: &str = "default";

/// One identity's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub prefix: String,
    /// Model names are scoped too (`models: 'per-identity'`).
    pub models: bool,
    /// Result files are scoped too (the proxy has storage): each output's `destination`
    /// goes under a folder named by the prefix, so that the caller's results are known by
    /// their path (see [`Scope::files_folder`]).
    pub files: bool,
}

/// What became of an answer's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    /// Everything in it belongs to the caller (or there was no job in it).
    Yes,
    /// The job of a GetJob or CreateJob answer belongs to someone else.
    No,
}

impl Scope {
    fn scoped(&self, name: &str) -> String {
        let mut out = self.prefix.clone();
        out.push_str(name);
        out
    }

    /// Puts the prefix into a request's `customId` (every CreateJob gets one, so that
    /// every job is scoped) and, when models are scoped, into its model names. Issues for
    /// names that the prefix would push past 63 characters.
    pub fn scope_request(&self, envelope: &mut Envelope) -> Vec<Issue> {
        let mut issues = Vec::new();
        let too_long = |path: String| Issue {
            path,
            code: IssueCode::TooLong,
            message: "must be at most 50 characters here: the proxy adds a 13-character scope prefix, \
                      and the service allows 63",
        };
        match &mut envelope.request {
            Request::CreateJob(request) => {
                if self.files {
                    for (i, output) in request.outputs.iter_mut().enumerate() {
                        let given = output.destination.as_deref().unwrap_or("/");
                        if given.split('/').any(|part| part == "." || part == "..") {
                            issues.push(Issue {
                                path: alloc::format!("createJobRequest.outputs[{i}].destination"),
                                code: IssueCode::Pattern,
                                message: "must be a folder without `.` or `..` in it",
                            });
                        }
                        output.destination = Some(self.scoped_destination(given));
                    }
                }
                let custom_id = self.scoped(request.custom_id.as_deref().unwrap_or(""));
                if custom_id.chars().count() > MAX_ID_CHARS {
                    issues.push(too_long("createJobRequest.customId".into()));
                }
                request.custom_id = Some(custom_id);
                if self.models {
                    for (i, output) in request.outputs.iter_mut().enumerate() {
                        let cloning = &mut output.smart_content_descriptor.singing_cloning;
                        if cloning.kind == SingingCloningType::Generate && cloning.model_name == DEFAULT_MODEL {
                            continue;
                        }
                        cloning.model_name = self.scoped(&cloning.model_name);
                        if cloning.model_name.len() > MAX_ID_CHARS {
                            issues.push(too_long(alloc::format!(
                                "createJobRequest.outputs[{i}].smartContentDescriptor.singingCloning.modelName"
                            )));
                        }
                    }
                }
            }
            Request::ListJobs(request) => {
                request.custom_id = self.scoped(&request.custom_id);
                if request.custom_id.chars().count() > MAX_ID_CHARS {
                    issues.push(too_long("listJobsRequest.customId".into()));
                }
            }
            Request::GetJob(_) | Request::ListModels(_) => {}
        }
        issues
    }

    /// The folder of the caller's result files, in every repository: `{prefix}` (which ends in `_`).
    pub fn files_folder(&self) -> &str {
        &self.prefix
    }

    /// `/out` becomes `/{prefix}/out`; `/` becomes `/{prefix}`.
    fn scoped_destination(&self, destination: &str) -> String {
        let mut out = String::from("/");
        out.push_str(self.files_folder());
        let rest = destination.trim_matches('/');
        if !rest.is_empty() {
            out.push('/');
            out.push_str(rest);
        }
        out
    }

    /// Whether a job (as JSON) carries the caller's prefix.
    pub fn owns(&self, job: &Value) -> bool {
        job.get("customId").and_then(Value::as_str).is_some_and(|id| id.starts_with(&self.prefix))
    }

    /// Takes the scope off a job of the caller: the prefix off `customId` (dropped when
    /// nothing is left) and off model names; `callback` becomes what `restore` makes of
    /// it and the job's scoped `customId` (dropped on `None`).
    pub fn unscope_job(&self, job: &mut Value, restore: &dyn Fn(&str, &str) -> Option<String>) {
        let scoped_id = String::from(job.get("customId").and_then(Value::as_str).unwrap_or(""));
        if let Some(custom_id) = job.get("customId").and_then(Value::as_str) {
            match custom_id.strip_prefix(self.prefix.as_str()) {
                Some("") => {
                    job.remove("customId");
                }
                Some(rest) => {
                    let rest = rest.into();
                    job.set("customId", Value::String(rest));
                }
                None => {}
            }
        }
        if let Some(callback) = job.get("callback").and_then(Value::as_str) {
            match restore(&scoped_id, callback) {
                Some(original) => job.set("callback", Value::String(original)),
                None => {
                    job.remove("callback");
                }
            }
        }
        if let Some(Value::Array(outputs)) = job.get_mut("outputs") {
            for output in outputs {
                if self.files {
                    let folder = self.scoped_destination("/");
                    let given =
                        output.get("destination").and_then(Value::as_str).and_then(|d| d.strip_prefix(&*folder));
                    if let Some(rest) = given.filter(|rest| rest.is_empty() || rest.starts_with('/')) {
                        let original = if rest.is_empty() { "/".into() } else { String::from(rest) };
                        output.set("destination", Value::String(original));
                    }
                }
                if !self.models {
                    continue;
                }
                for path in [["smartContentDescriptor", "singingCloning"], ["smartContentResult", "singingCloning"]] {
                    let cloning = output.get_mut(path[0]).and_then(|v| v.get_mut(path[1]));
                    if let Some(cloning) = cloning {
                        self.unscope_model_name(cloning, "modelName");
                    }
                }
            }
        }
    }

    fn unscope_model_name(&self, object: &mut Value, key: &str) {
        if let Some(rest) = object.get(key).and_then(Value::as_str).and_then(|n| n.strip_prefix(self.prefix.as_str())) {
            let rest = rest.into();
            object.set(key, Value::String(rest));
        }
    }

    /// Rewrites a successful answer for the caller. A CreateJob or GetJob job outside the
    /// scope makes it [`Owned::No`]; a ListJobs answer keeps only the caller's jobs.
    pub fn unscope_answer(
        &self,
        action: Action,
        raw: &mut Value,
        restore: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Owned {
        let Some(payload) = raw.get_mut(action.response_key()) else { return Owned::Yes };
        match action {
            Action::CreateJob | Action::GetJob => {
                let Some(job) = payload.get_mut("job") else { return Owned::Yes };
                if !self.owns(job) {
                    return Owned::No;
                }
                self.unscope_job(job, restore);
            }
            Action::ListJobs => {
                let mut kept = None;
                if let Some(Value::Array(jobs)) = payload.get_mut("jobs") {
                    let before = jobs.len();
                    jobs.retain(|job| self.owns(job));
                    for job in jobs.iter_mut() {
                        self.unscope_job(job, restore);
                    }
                    if jobs.len() != before {
                        kept = Some(jobs.len());
                    }
                }
                if let Some(count) = kept {
                    payload.set("total", Value::Number((count as f64).into()));
                }
            }
            Action::ListModels => {}
        }
        Owned::Yes
    }

    /// The models of a ListModels listing that the caller may see, names unscoped: with
    /// scoped models, only the caller's own and the built-in `default`.
    pub fn visible_models(&self, models: Vec<Value>) -> Vec<Value> {
        if !self.models {
            return models;
        }
        models
            .into_iter()
            .filter_map(|mut model| {
                let name = model.get("name").and_then(Value::as_str)?;
                if name == DEFAULT_MODEL {
                    return Some(model);
                }
                let rest = String::from(name.strip_prefix(self.prefix.as_str())?);
                model.set("name", Value::String(rest));
                Some(model)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check_request;

    fn scope() -> Scope {
        Scope { prefix: "uabcdefghijk_".into(), models: true, files: false }
    }

    fn envelope(json: &str) -> Envelope {
        check_request(&Value::parse(json).unwrap()).unwrap()
    }

    const CREATE: &str = r#"{"action":"CreateJob","createJobRequest":{"customId":"song-1",
        "inputs":[{"url":"https://a.example/x.wav"}],
        "outputs":[{"contentId":"c","inputSelectors":[0],
                    "smartContentDescriptor":{"singingCloning":{"type":1,"modelName":"default"}}},
                   {"inputSelectors":[0],
                    "smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"my_voice"}}}]}}"#;

    #[test]
    fn scopes_custom_ids_and_model_names() {
        let mut e = envelope(CREATE);
        assert!(scope().scope_request(&mut e).is_empty());
        let Request::CreateJob(r) = &e.request else { panic!() };
        assert_eq!(r.custom_id.as_deref(), Some("uabcdefghijk_song-1"));
        assert_eq!(r.outputs[0].smart_content_descriptor.singing_cloning.model_name, "default");
        assert_eq!(r.outputs[1].smart_content_descriptor.singing_cloning.model_name, "uabcdefghijk_my_voice");

        let shared = Scope { models: false, ..scope() };
        let mut e = envelope(CREATE);
        shared.scope_request(&mut e);
        let Request::CreateJob(r) = &e.request else { panic!() };
        assert_eq!(r.outputs[1].smart_content_descriptor.singing_cloning.model_name, "my_voice");
    }

    #[test]
    fn every_created_job_gets_the_prefix() {
        let mut e = envelope(&CREATE.replace(r#""customId":"song-1","#, ""));
        scope().scope_request(&mut e);
        let Request::CreateJob(r) = &e.request else { panic!() };
        assert_eq!(r.custom_id.as_deref(), Some("uabcdefghijk_"));
    }

    #[test]
    fn refuses_names_the_prefix_would_overflow() {
        let fifty = "x".repeat(50);
        let mut e = envelope(&CREATE.replace("song-1", &fifty));
        assert!(scope().scope_request(&mut e).is_empty());
        let mut e = envelope(&CREATE.replace("song-1", &"x".repeat(51)));
        let issues = scope().scope_request(&mut e);
        assert_eq!(issues[0].path, "createJobRequest.customId");
        let mut e =
            envelope(&format!(r#"{{"action":"ListJobs","listJobsRequest":{{"customId":"{}"}}}}"#, "y".repeat(60)));
        assert_eq!(scope().scope_request(&mut e)[0].path, "listJobsRequest.customId");
        let mut e = envelope(&CREATE.replace("my_voice", &"v".repeat(55)));
        assert_eq!(
            scope().scope_request(&mut e)[0].path,
            "createJobRequest.outputs[1].smartContentDescriptor.singingCloning.modelName"
        );
    }

    #[test]
    fn unscopes_answers_and_hides_foreign_jobs() {
        let restore = |_: &str, _: &str| Some(String::from("https://hooks.example/done"));
        let mut mine = Value::parse(
            r#"{"requestId":"r","getJobResponse":{"job":{"id":"1","state":3,"customId":"uabcdefghijk_song",
            "callback":"https://proxy/cb/t",
            "outputs":[{"smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"uabcdefghijk_v"}},
            "smartContentResult":{"singingCloning":{"modelName":"uabcdefghijk_v"}}}]}}}"#,
        )
        .unwrap();
        assert_eq!(scope().unscope_answer(Action::GetJob, &mut mine, &restore), Owned::Yes);
        assert_eq!(
            mine.to_json(),
            concat!(
                r#"{"requestId":"r","getJobResponse":{"job":{"id":"1","state":3,"customId":"song","#,
                r#""callback":"https://hooks.example/done","#,
                r#""outputs":[{"smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"v"}},"#,
                r#""smartContentResult":{"singingCloning":{"modelName":"v"}}}]}}}"#,
            )
        );
        let mut theirs =
            Value::parse(r#"{"getJobResponse":{"job":{"id":"2","state":1,"customId":"uzzzzzzzzzzz_song"}}}"#).unwrap();
        assert_eq!(scope().unscope_answer(Action::GetJob, &mut theirs, &restore), Owned::No);
        let mut bare = Value::parse(r#"{"getJobResponse":{"job":{"id":"3","state":1}}}"#).unwrap();
        assert_eq!(scope().unscope_answer(Action::GetJob, &mut bare, &restore), Owned::No);

        let mut list = Value::parse(
            r#"{"listJobsResponse":{"jobs":[{"id":"1","customId":"uabcdefghijk_a"},{"id":"2","customId":"other"}],
            "total":2}}"#,
        )
        .unwrap();
        scope().unscope_answer(Action::ListJobs, &mut list, &restore);
        assert_eq!(list.to_json(), r#"{"listJobsResponse":{"jobs":[{"id":"1","customId":"a"}],"total":1}}"#);
    }

    #[test]
    fn shows_only_own_and_default_models() {
        let models = Value::parse(
            r#"[{"name":"default"},{"name":"uabcdefghijk_mine"},{"name":"uzzzzzzzzzzz_theirs"},{"name":"legacy"}]"#,
        )
        .unwrap();
        let Value::Array(models) = models else { panic!() };
        let visible = Value::Array(scope().visible_models(models.clone()));
        assert_eq!(visible.to_json(), r#"[{"name":"default"},{"name":"mine"}]"#);
        let shared = Scope { models: false, ..scope() };
        assert_eq!(shared.visible_models(models).len(), 4);
    }

    #[test]
    fn with_storage_results_go_to_the_callers_folder_and_come_back_as_written() {
        let files = Scope { files: true, ..scope() };
        let mut e = envelope(CREATE);
        let Request::CreateJob(before) = &mut e.request else { panic!() };
        before.outputs[0].destination = Some("/out/".into());
        assert_eq!(files.scope_request(&mut e), vec![]);
        let Request::CreateJob(sent) = &e.request else { panic!() };
        assert_eq!(sent.outputs[0].destination.as_deref(), Some("/uabcdefghijk_/out"));
        let mut job = Value::parse(
            r#"{"id":"1","customId":"uabcdefghijk_a",
            "outputs":[{"destination":"/uabcdefghijk_/out"},{"destination":"/uabcdefghijk_"},
            {"destination":"/uabcdefghijk_x"}]}"#,
        )
        .unwrap();
        files.unscope_job(&mut job, &|_, _| None);
        assert_eq!(
            job.get("outputs").unwrap().to_json(),
            r#"[{"destination":"/out"},{"destination":"/"},{"destination":"/uabcdefghijk_x"}]"#
        );
        let mut escaping = envelope(CREATE);
        let Request::CreateJob(r) = &mut escaping.request else { panic!() };
        r.outputs[0].destination = Some("/a/../b".into());
        let issues = files.scope_request(&mut escaping);
        assert_eq!(issues[0].path, "createJobRequest.outputs[0].destination");
    }
}
