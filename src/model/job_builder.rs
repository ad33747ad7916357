//! The parameters of the two kinds of CreateJob: [`GenerateParams`] (sing a song with a
//! model) and [`TrainParams`] (learn a model), flat objects whose fields carry the wire's
//! names. The builder puts each parameter into the wire object whose type has a field of
//! its name, the one validator checks the request, and every issue comes back named by
//! parameter: the parameters' types and the wire model's types say all the names. The
//! [`FILE_PARAMS`] (a file to upload instead of an address) are the client's, not the wire's.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;
#[cfg(feature = "js")]
use tsify::Tsify;

use super::envelope::Action;
use super::job::{
    CreateJobRequest, Input, Output, SingingCloning, SingingCloningType, SmartContentDescriptor, Source, SwitchOption,
    DEFAULT_DESTINATION,
};
use super::validate::validate_body;
use super::value::{DecodeError, Value};
use crate::error::{Issue, IssueCode};

/// The parameters of `generate`: sing a song (exactly one of `url`, `source` and
/// `sourceData`) with the model `modelName`, into the repository `contentId`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct GenerateParams {
    /// The song: an http(s) address of an audio file.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub url: Option<String>,
    /// The song: a file in a content repository.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source: Option<Source>,
    /// The song as text, at most 512 characters.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source_data: Option<String>,
    /// The model to sing with: `default` or a trained one.
    pub model_name: String,
    /// The repository the song is written to.
    pub content_id: String,
    /// The directory in the repository, `/` when absent.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub destination: Option<String>,
    /// The prefix of the file's name, under 20 characters.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub output_prefix: Option<String>,
    /// Whether to separate the vocals from the music first (`useSeparate`); off when absent.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub separate_vocals: Option<bool>,
    /// Where the service posts the finished job.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub callback: Option<String>,
    /// The caller's id for the job, under 64 characters.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub custom_id: Option<String>,
    /// Seconds after which the service gives the job up.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub timeout: Option<u32>,
    /// The song as a file, instead of `url`, `source` or `sourceData`: the client uploads it
    /// through the proxy first (see `upload`) and the job takes the stored copy's address.
    /// Never part of the wire request: the client reads it, so its type here only carries the declaration.
    #[cfg_attr(feature = "js", tsify(optional, type = "FileData"))]
    pub file: Option<IgnoredAny>,
    /// The file's media type (`audio/wav`, `audio/mpeg`, `audio/flac`); a `Blob`'s own type when absent.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub content_type: Option<String>,
    /// Called as the file's bytes go out: `{ loaded, total }`, where the platform can tell (pages).
    #[cfg_attr(feature = "js", tsify(optional, type = "(progress: UploadProgress) => void"))]
    pub on_progress: Option<IgnoredAny>,
}

/// The parameters of `train`: learn the model `modelName` from a recording (exactly one
/// of `url`, `source` and `sourceData`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct TrainParams {
    /// The recording: an http(s) address of an audio file.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub url: Option<String>,
    /// The recording: a file in a content repository.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source: Option<Source>,
    /// The recording as text, at most 512 characters.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source_data: Option<String>,
    /// The new model's name: ASCII letters, digits and underscores, under 64 of them, unique.
    pub model_name: String,
    /// Training epochs, 1 to 50; the service's default is 30.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub total_epoch: Option<u32>,
    /// Where the service posts the finished job.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub callback: Option<String>,
    /// The caller's id for the job, under 64 characters.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub custom_id: Option<String>,
    /// Seconds after which the service gives the job up.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub timeout: Option<u32>,
    /// The recording as a file, instead of `url`, `source` or `sourceData`: the client uploads it
    /// through the proxy first (see `upload`) and the job takes the stored copy's address.
    /// Never part of the wire request: the client reads it, so its type here only carries the declaration.
    #[cfg_attr(feature = "js", tsify(optional, type = "FileData"))]
    pub file: Option<IgnoredAny>,
    /// The file's media type (`audio/wav`, `audio/mpeg`, `audio/flac`); a `Blob`'s own type when absent.
    #[cfg_attr(feature = "js", tsify(optional))]
    pub content_type: Option<String>,
    /// Called as the file's bytes go out: `{ loaded, total }`, where the platform can tell (pages).
    #[cfg_attr(feature = "js", tsify(optional, type = "(progress: UploadProgress) => void"))]
    pub on_progress: Option<IgnoredAny>,
}

/// The parameters of [`GenerateParams`] and [`TrainParams`] that are no wire field: a file
/// that the client uploads first, whose stored copy's address becomes the input's `url`.
/// The client (js/bind.js) takes them out before the WebAssembly sees the parameters, so the
/// builder never meets them (and spends no page weight passing over them).
pub const FILE_PARAMS: [&str; 3] = ["file", "contentType", "onProgress"];

#[cfg(feature = "js")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const FILE_TS: &str = r#"
/** The platform's `Blob` (and so `File`) where the program has its type (the DOM lib, @types/node). */
export type BlobLike = typeof globalThis extends { Blob: { prototype: infer T } } ? T
  : { readonly size: number; readonly type: string; arrayBuffer(): Promise<ArrayBuffer> };
/**
 * The bytes of a file to upload: a `Blob` or `File`, an `ArrayBuffer`, or a view of one
 * (`Uint8Array`, a Node `Buffer`).
 */
export type FileData = BlobLike | ArrayBuffer | ArrayBufferView;
/** How much of an upload has gone out, in bytes. */
export interface UploadProgress { loaded: number; total: number }
"#;

/// The parameters of one kind of CreateJob.
pub trait JobParams: for<'de> Deserialize<'de> {
    /// What the job does.
    const KIND: SingingCloningType;
}

impl JobParams for GenerateParams {
    const KIND: SingingCloningType = SingingCloningType::Generate;
}

impl JobParams for TrainParams {
    const KIND: SingingCloningType = SingingCloningType::Train;
}

/// The whole CreateJob body (without credentials) of untyped parameters of type `P`
/// ([`GenerateParams`] or [`TrainParams`]), or every issue, named by parameter.
/// `null` counts as absent; parameters `P` does not have are ignored.
pub fn create_job_body<P: JobParams>(params: &Value) -> Result<Value, Vec<Issue>> {
    job_body(params, P::KIND, field_names::<P>())
}

/// The body of a job of `kind` with one input and one output, from the parameters `names`.
///
/// Each parameter goes, as it is, into the wire object whose type has a field of its
/// name; the validator, not this function, checks its type and value. So the names come
/// from the types, and only the frame of one input and one output is written here. The
/// parameters are not read into typed structs that fill a [`CreateJobRequest`] written
/// out with `to_value`: that costs the page about 2 KB gzip more than this rearrangement
/// (serde's code for each type read and written), and the page weight must not grow.
fn job_body(params: &Value, kind: SingingCloningType, names: &'static [&'static str]) -> Result<Value, Vec<Issue>> {
    if !matches!(params, Value::Object(_)) {
        return Err(vec![Issue {
            path: String::new(),
            code: IssueCode::Type,
            message: "must be an object of parameters",
        }]);
    }
    let number = |n: u32| Value::Number((n as f64).into());
    let mut issues = Vec::new();
    let mut request = Value::Object(Vec::new());
    let mut input = Value::Object(Vec::new());
    let mut output = Value::Object(vec![("inputSelectors".into(), Value::Array(vec![number(0)]))]);
    let mut descriptor = Value::Object(Vec::new());
    let mut cloning = Value::Object(vec![("type".into(), number(kind.code()))]);
    for &name in names {
        let Some(value) = params.get(name).filter(|v| **v != Value::Null) else { continue };
        let wire = [
            (field_names::<CreateJobRequest>(), &mut request),
            (field_names::<Input>(), &mut input),
            (field_names::<Output>(), &mut output),
            (field_names::<SmartContentDescriptor>(), &mut descriptor),
            (field_names::<SingingCloning>(), &mut cloning),
        ];
        if let Some((_, object)) = wire.into_iter().find(|(fields, _)| fields.contains(&name)) {
            object.set(name, value.clone());
            continue;
        }
        // The one parameter that is no wire field: a boolean for the switch `useSeparate`.
        match value {
            Value::Bool(on) => cloning.set("useSeparate", number(SwitchOption::from(*on).code())),
            _ => issues.push(Issue { path: name.into(), code: IssueCode::Type, message: "must be true or false" }),
        }
    }
    descriptor.set("singingCloning", cloning);
    output.set("smartContentDescriptor", descriptor);
    request.set("inputs", Value::Array(vec![input]));
    request.set("outputs", Value::Array(vec![output]));
    let action = Action::CreateJob;
    let body = Value::Object(vec![
        ("action".into(), Value::String(action.name().into())),
        (action.request_key().into(), request),
    ]);
    issues.extend(validate_body(&body).into_iter().map(|issue| named_by_parameter(issue, names)));
    if issues.is_empty() {
        Ok(body.without_nulls())
    } else {
        Err(issues)
    }
}

/// An issue of the validator named by the parameter it is about.
///
/// Parameters carry the wire's field names, so a wire path names its parameter from its
/// first segment that is one (`createJobRequest.inputs[0].source.path` is `source.path`).
/// The input as a whole has no parameter of its name: its one rule (exactly one of its
/// three fields) is named `input`. (`useSeparate` needs no name: `separateVocals` always
/// fills it with a valid switch.)
fn named_by_parameter(mut issue: Issue, names: &[&str]) -> Issue {
    let mut rest = issue.path.as_str();
    loop {
        if names.contains(&rest.split('.').next().unwrap_or_default()) {
            issue.path = rest.into();
            return issue;
        }
        match rest.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => break,
        }
    }
    if issue.code == IssueCode::OneOf {
        issue.path = "input".into();
        issue.message = "must have exactly one of url, source and sourceData";
    }
    issue
}

/// The names of `T`'s fields on the wire, as serde's derived `Deserialize` hands them to
/// `deserialize_struct` before it reads anything (serde-aux's `serde_introspect` reads
/// them the same way). Only the call is in the page: nothing is read.
fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut names));
    names
}

/// A deserializer that keeps the field names it is asked for and gives no value.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = DecodeError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, DecodeError> {
        *self.0 = fields;
        Err(DecodeError)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, DecodeError> {
        Err(DecodeError)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The address of a generated file: the repository's base URL, the output's
/// `destination` ([`DEFAULT_DESTINATION`] when absent) and the `songName`, joined with single slashes.
pub fn result_url(base_url: &str, destination: Option<&str>, song_name: &str) -> String {
    let mut url = String::from(base_url.trim_end_matches('/'));
    for part in [destination.unwrap_or(DEFAULT_DESTINATION), song_name] {
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
    use serde_json::json;

    use super::*;

    fn generate(params: serde_json::Value) -> Result<serde_json::Value, Vec<(String, &'static str)>> {
        body::<GenerateParams>(params)
    }

    fn train(params: serde_json::Value) -> Result<serde_json::Value, Vec<(String, &'static str)>> {
        body::<TrainParams>(params)
    }

    /// The body as serde_json sees it, or the issues as (path, code).
    fn body<P: JobParams>(params: serde_json::Value) -> Result<serde_json::Value, Vec<(String, &'static str)>> {
        let params = Value::parse(&params.to_string()).unwrap();
        match create_job_body::<P>(&params) {
            Ok(body) => Ok(serde_json::from_str(&body.to_json()).unwrap()),
            Err(issues) => Err(issues.into_iter().map(|i| (i.path, i.code.name())).collect()),
        }
    }

    fn issues(found: &[(&str, &'static str)]) -> Result<serde_json::Value, Vec<(String, &'static str)>> {
        Err(found.iter().map(|&(path, code)| (path.into(), code)).collect())
    }

    #[test]
    fn generate_fills_the_wire_request() {
        let body = generate(json!({
            "url": "https://a.example/song.mp3", "modelName": "my_voice", "contentId": "repo",
            "destination": "/covers", "outputPrefix": "c_", "separateVocals": true, "customId": "x1", "timeout": 60,
            "callback": "https://hooks.example/done"
        }));
        assert_eq!(
            body,
            Ok(json!({
                "action": "CreateJob",
                "createJobRequest": {
                    "inputs": [{"url": "https://a.example/song.mp3"}],
                    "outputs": [{
                        "contentId": "repo",
                        "destination": "/covers",
                        "inputSelectors": [0],
                        "smartContentDescriptor": {
                            "outputPrefix": "c_",
                            "singingCloning": {"type": 1, "modelName": "my_voice", "useSeparate": 2}
                        }
                    }],
                    "callback": "https://hooks.example/done",
                    "customId": "x1",
                    "timeout": 60
                }
            }))
        );
        let body =
            generate(json!({"sourceData": "la", "modelName": "default", "contentId": "r", "separateVocals": false}));
        assert_eq!(
            body,
            Ok(json!({
                "action": "CreateJob",
                "createJobRequest": {
                    "inputs": [{"sourceData": "la"}],
                    "outputs": [{
                        "contentId": "r",
                        "inputSelectors": [0],
                        "smartContentDescriptor": {
                            "singingCloning": {"type": 1, "modelName": "default", "useSeparate": 1}
                        }
                    }]
                }
            }))
        );
    }

    #[test]
    fn train_fills_the_wire_request() {
        let body = train(
            json!({"source": {"contentId": "samples", "path": "/voice.wav"}, "modelName": "alto", "totalEpoch": 12}),
        );
        assert_eq!(
            body,
            Ok(json!({
                "action": "CreateJob",
                "createJobRequest": {
                    "inputs": [{"source": {"contentId": "samples", "path": "/voice.wav"}}],
                    "outputs": [{
                        "inputSelectors": [0],
                        "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "alto", "totalEpoch": 12}}
                    }]
                }
            }))
        );
    }

    #[test]
    fn null_is_absent_and_unknown_parameters_are_ignored() {
        let body = train(json!({
            "url": "https://a.example/v.wav", "source": null, "modelName": "alto", "totalEpoch": null,
            "timeout": null, "contentId": "not for training", "signal": {}
        }));
        assert_eq!(
            body,
            Ok(json!({
                "action": "CreateJob",
                "createJobRequest": {
                    "inputs": [{"url": "https://a.example/v.wav"}],
                    "outputs": [{
                        "inputSelectors": [0],
                        "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "alto"}}
                    }]
                }
            }))
        );
    }

    #[test]
    fn issues_are_named_by_parameter() {
        assert_eq!(
            generate(json!({
                "modelName": "bad name", "separateVocals": "yes",
                "outputPrefix": "0123456789012345678901", "timeout": 0
            })),
            issues(&[
                ("separateVocals", "type"),
                ("timeout", "range"),
                ("input", "one_of"),
                ("outputPrefix", "too_long"),
                ("modelName", "pattern"),
                ("contentId", "required"),
            ])
        );
        assert_eq!(
            train(json!({"url": "nope", "modelName": "ok", "totalEpoch": 99})),
            issues(&[("url", "url"), ("totalEpoch", "range")])
        );
        assert_eq!(
            generate(json!({"url": "ftp://x/y.mp3", "modelName": "my voice", "contentId": "results"})),
            issues(&[("url", "url"), ("modelName", "pattern")])
        );
        assert_eq!(
            train(
                json!({"source": {"contentId": "", "path": 3}, "sourceData": "x", "modelName": "a", "callback": "x"})
            ),
            issues(&[
                ("callback", "url"),
                ("input", "one_of"),
                ("source.contentId", "required"),
                ("source.path", "type"),
            ])
        );
        assert_eq!(train(json!([])), issues(&[("", "type")]));
        assert_eq!(train(json!(null)), issues(&[("", "type")]));
    }

    #[test]
    fn wrong_types_are_named_at_their_parameter() {
        assert_eq!(
            generate(json!({
                "url": 5, "modelName": 42, "contentId": false, "destination": [], "outputPrefix": {},
                "callback": 1, "customId": 2, "timeout": "60"
            })),
            issues(&[
                ("callback", "type"),
                ("customId", "type"),
                ("timeout", "type"),
                ("url", "type"),
                ("contentId", "type"),
                ("destination", "type"),
                ("outputPrefix", "type"),
                ("modelName", "type"),
            ])
        );
        assert_eq!(
            train(json!({"source": "repo/path", "modelName": "a", "totalEpoch": 2.5, "timeout": -5})),
            issues(&[("timeout", "range"), ("source", "type"), ("totalEpoch", "type")])
        );
        assert_eq!(
            train(json!({"source": {}, "totalEpoch": 1e12, "sourceData": 7})),
            issues(&[
                ("input", "one_of"),
                ("sourceData", "type"),
                ("source.contentId", "required"),
                ("source.path", "required"),
                ("modelName", "required"),
                ("totalEpoch", "range"),
            ])
        );
    }

    #[test]
    fn field_names_are_serde_names() {
        assert_eq!(field_names::<Source>(), ["contentId", "path"]);
        assert_eq!(
            field_names::<TrainParams>(),
            [
                "url",
                "source",
                "sourceData",
                "modelName",
                "totalEpoch",
                "callback",
                "customId",
                "timeout",
                "file",
                "contentType",
                "onProgress"
            ]
        );
        for params in [field_names::<GenerateParams>(), field_names::<TrainParams>()] {
            assert!(FILE_PARAMS.iter().all(|name| params.contains(name)), "{params:?}");
        }
    }

    #[test]
    fn every_parameter_but_separate_vocals_has_one_wire_object() {
        let wire = [
            field_names::<CreateJobRequest>(),
            field_names::<Input>(),
            field_names::<Output>(),
            field_names::<SmartContentDescriptor>(),
            field_names::<SingingCloning>(),
        ];
        let wire_params = field_names::<GenerateParams>().iter().chain(field_names::<TrainParams>());
        for name in wire_params.filter(|name| !FILE_PARAMS.contains(name)) {
            let places = wire.iter().filter(|fields| fields.contains(name)).count();
            assert_eq!(places, usize::from(*name != "separateVocals"), "{name}");
        }
    }

    #[test]
    fn result_urls_join_with_single_slashes() {
        assert_eq!(result_url("http://h/cos/repo/", Some("/out/"), "a.wav"), "http://h/cos/repo/out/a.wav");
        assert_eq!(result_url("http://h/cos/repo", None, "a.wav"), "http://h/cos/repo/a.wav");
        assert_eq!(result_url("http://h/cos/repo", Some("/"), "/a.wav"), "http://h/cos/repo/a.wav");
    }
}
