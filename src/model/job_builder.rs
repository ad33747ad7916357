//! Friendly shapes for the two kinds of CreateJob: `generate` (sing a song with a model)
//! and `train` (learn a model). Their flat parameters are rearranged into the wire
//! request, which the one validator checks; its issues come back named by parameter.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::job::{SingingCloningType, SwitchOption};
use super::validate::validate_body;
use super::value::Value;
use crate::error::{Issue, IssueCode};

/// Parameters `generate` and `train` take beside the input and the model name.
const JOB_FIELDS: [&str; 3] = ["callback", "customId", "timeout"];
/// Which input parameters there are; exactly one is given.
const INPUT_FIELDS: [&str; 3] = ["url", "source", "sourceData"];

/// Wire path prefixes and the parameter names they come from, most specific first.
const PARAMETER_PATHS: [(&str, &str); 6] = [
    ("createJobRequest.outputs[0].smartContentDescriptor.singingCloning.useSeparate", "separateVocals"),
    ("createJobRequest.outputs[0].smartContentDescriptor.singingCloning.", ""),
    ("createJobRequest.outputs[0].smartContentDescriptor.", ""),
    ("createJobRequest.outputs[0].", ""),
    ("createJobRequest.inputs[0].", ""),
    ("createJobRequest.", ""),
];

/// The body of a generation: `{url | source | sourceData, modelName, contentId,
/// destination?, outputPrefix?, separateVocals?, callback?, customId?, timeout?}` as a
/// whole CreateJob request body (without credentials).
pub fn generate_body(params: &Value) -> Result<Value, Vec<Issue>> {
    build(params, SingingCloningType::Generate)
}

/// The body of a training: `{url | source | sourceData, modelName, totalEpoch?,
/// callback?, customId?, timeout?}` as a whole CreateJob request body.
pub fn train_body(params: &Value) -> Result<Value, Vec<Issue>> {
    build(params, SingingCloningType::Train)
}

fn build(params: &Value, kind: SingingCloningType) -> Result<Value, Vec<Issue>> {
    if !matches!(params, Value::Object(_)) {
        return Err(vec![Issue {
            path: String::new(),
            code: IssueCode::Type,
            message: "must be an object of parameters",
        }]);
    }
    let given = |key: &str| params.get(key).filter(|v| **v != Value::Null).cloned();
    let mut pre_issues = Vec::new();

    let mut input = Value::Object(Vec::new());
    for key in INPUT_FIELDS {
        if let Some(value) = given(key) {
            input.set(key, value);
        }
    }

    let mut cloning = Value::Object(vec![
        ("type".into(), Value::Number((kind.code() as f64).into())),
        ("modelName".into(), given("modelName").unwrap_or(Value::Null)),
    ]);
    let mut descriptor = Value::Object(Vec::new());
    let mut output = Value::Object(vec![("inputSelectors".into(), Value::Array(vec![Value::Number(0.0.into())]))]);
    match kind {
        SingingCloningType::Generate => {
            for key in ["contentId", "destination"] {
                output.set(key, given(key).unwrap_or(Value::Null));
            }
            if let Some(prefix) = given("outputPrefix") {
                descriptor.set("outputPrefix", prefix);
            }
            match given("separateVocals") {
                None => {}
                Some(Value::Bool(on)) => {
                    let switch = if on { SwitchOption::On } else { SwitchOption::Off };
                    cloning.set("useSeparate", Value::Number((switch.code() as f64).into()));
                }
                Some(_) => pre_issues.push(Issue {
                    path: "separateVocals".into(),
                    code: IssueCode::Type,
                    message: "must be true or false",
                }),
            }
        }
        SingingCloningType::Train => {
            if let Some(epochs) = given("totalEpoch") {
                cloning.set("totalEpoch", epochs);
            }
        }
    }
    descriptor.set("singingCloning", cloning);
    output.set("smartContentDescriptor", descriptor);

    let mut request = Value::Object(vec![
        ("inputs".into(), Value::Array(vec![input])),
        ("outputs".into(), Value::Array(vec![output])),
    ]);
    for key in JOB_FIELDS {
        if let Some(value) = given(key) {
            request.set(key, value);
        }
    }
    let body =
        Value::Object(vec![("action".into(), Value::String("CreateJob".into())), ("createJobRequest".into(), request)]);

    let mut issues = pre_issues;
    issues.extend(validate_body(&body).into_iter().map(rename_to_parameter));
    if issues.is_empty() {
        Ok(body.without_nulls())
    } else {
        Err(issues)
    }
}

/// An issue's wire path as the parameter it came from.
fn rename_to_parameter(mut issue: Issue) -> Issue {
    if issue.path == "createJobRequest.inputs[0]" {
        issue.path = "input".into();
        issue.message = "must have exactly one of url, source and sourceData";
        return issue;
    }
    for (prefix, replacement) in PARAMETER_PATHS {
        if let Some(rest) = issue.path.strip_prefix(prefix) {
            let mut path = String::from(replacement);
            path.push_str(rest);
            issue.path = path;
            break;
        }
    }
    issue
}

/// The address of a generated file: the repository's base URL, the output's
/// `destination` (`/` when absent) and the `songName`, joined with single slashes.
pub fn result_url(base_url: &str, destination: Option<&str>, song_name: &str) -> String {
    let mut url = String::from(base_url.trim_end_matches('/'));
    for part in [destination.unwrap_or("/"), song_name] {
        let part = part.trim_matches('/');
        if !part.is_empty() {
            url.push('/');
            url.push_str(part);
        }
    }
    url
}

impl Value {
    /// The same tree without `null` members in objects: what an optional field left
    /// unset looks like on the wire.
    pub fn without_nulls(&self) -> Value {
        match self {
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .filter(|(_, v)| *v != Value::Null)
                    .map(|(k, v)| (k.clone(), v.without_nulls()))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(Value::without_nulls).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        Value::parse(text).unwrap()
    }

    #[test]
    fn generate_builds_the_wire_request() {
        let body = generate_body(&v(r#"{"url":"https://a.example/song.mp3","modelName":"my_voice","contentId":"repo",
            "destination":"/covers","outputPrefix":"c_","separateVocals":true,"customId":"x1","timeout":60}"#))
        .unwrap();
        assert_eq!(
            body,
            v(r#"{"action":"CreateJob","createJobRequest":{"inputs":[{"url":"https://a.example/song.mp3"}],
                "outputs":[{"inputSelectors":[0],"contentId":"repo","destination":"/covers","smartContentDescriptor":{
                "outputPrefix":"c_","singingCloning":{"type":1,"modelName":"my_voice","useSeparate":2}}}],
                "customId":"x1","timeout":60}}"#)
        );
    }

    #[test]
    fn train_builds_the_wire_request() {
        let body = train_body(&v(
            r#"{"source":{"contentId":"samples","path":"/voice.wav"},"modelName":"alto","totalEpoch":12}"#,
        ))
        .unwrap();
        assert_eq!(
            body,
            v(
                r#"{"action":"CreateJob","createJobRequest":{"inputs":[{"source":{"contentId":"samples","path":"/voice.wav"}}],
                "outputs":[{"inputSelectors":[0],"smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"alto","totalEpoch":12}}}]}}"#
            )
        );
    }

    #[test]
    fn issues_are_named_by_parameter() {
        let issues = generate_body(&v(
            r#"{"modelName":"bad name","separateVocals":"yes","outputPrefix":"0123456789012345678901","timeout":0}"#,
        ))
        .unwrap_err();
        let found: Vec<(String, &str)> = issues.iter().map(|i| (i.path.clone(), i.code.name())).collect();
        assert_eq!(
            found,
            vec![
                ("separateVocals".into(), "type"),
                ("timeout".into(), "range"),
                ("input".into(), "one_of"),
                ("outputPrefix".into(), "too_long"),
                ("modelName".into(), "pattern"),
                ("contentId".into(), "required"),
            ]
        );
        let issues = train_body(&v(r#"{"url":"nope","modelName":"ok","totalEpoch":99}"#)).unwrap_err();
        let found: Vec<(String, &str)> = issues.iter().map(|i| (i.path.clone(), i.code.name())).collect();
        assert_eq!(found, vec![("url".into(), "url"), ("totalEpoch".into(), "range")]);
        let issues = train_body(&v("[]")).unwrap_err();
        assert_eq!(issues[0].path, "");
    }

    #[test]
    fn result_urls_join_with_single_slashes() {
        assert_eq!(result_url("http://h/cos/repo/", Some("/out/"), "a.wav"), "http://h/cos/repo/out/a.wav");
        assert_eq!(result_url("http://h/cos/repo", None, "a.wav"), "http://h/cos/repo/a.wav");
        assert_eq!(result_url("http://h/cos/repo", Some("/"), "/a.wav"), "http://h/cos/repo/a.wav");
    }
}
