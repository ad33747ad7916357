//! The parameters of the two kinds of CreateJob: [`GenerateParams`] (sing a song with a
//! model) and [`TrainParams`] (learn a model), flat objects whose fields carry the wire's
//! names. Each is read from untyped parameters field by field, by the rule the wire has for
//! that field (validate.rs), so that every issue comes back at once, named by parameter; the
//! typed parameters then make a typed [`CreateJobRequest`], which is written out. The
//! [`FILE_PARAMS`] (a file to upload instead of an address) are the client's, not the wire's.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use serde::de::IgnoredAny;
use serde::Deserialize;
#[cfg(feature = "js")]
use tsify::Tsify;

use super::envelope::Action;
use super::job::{
    CreateJobRequest, Input, Output, SingingCloning, SingingCloningType, Source, SwitchOption, DEFAULT_DESTINATION,
};
use super::read::{Field, Path, Reader};
use super::validate as rule;
use super::value::{to_value, Value};
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
/// The client (js/bind.js) takes them out before the WebAssembly sees the parameters; the
/// builders do not read them either.
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
pub trait JobParams: Sized {
    /// Reads the parameters from an untyped tree, each field by the wire's rule for it: the
    /// typed parameters, or every issue, named by parameter. `null` counts as absent;
    /// parameters of other names are not read. The [`FILE_PARAMS`] are left unset.
    fn read(params: &Value) -> Result<Self, Vec<Issue>>;

    /// The CreateJob request of these parameters: one input, one output reading it.
    fn request(self) -> CreateJobRequest;
}

/// The whole CreateJob body (without credentials) of untyped parameters of type `P`
/// ([`GenerateParams`] or [`TrainParams`]), or every issue, named by parameter.
pub fn create_job_body<P: JobParams>(params: &Value) -> Result<Value, Vec<Issue>> {
    P::read(params).map(|params| written(&params.request()))
}

/// The CreateJob body of `request`, as the wire has it.
fn written(request: &CreateJobRequest) -> Value {
    Action::CreateJob.body(to_value(request))
}

impl JobParams for GenerateParams {
    fn read(params: &Value) -> Result<Self, Vec<Issue>> {
        let (mut r, at) = (Reader::default(), parameters(params)?);
        let separate_vocals = r.boolean(at.key("separateVocals"), "must be true or false");
        let (callback, custom_id, timeout) = job_fields(&mut r, &at);
        let Input { url, source, source_data } = input(&mut r, &at);
        let content_id = r.string(at.key("contentId"), false);
        let destination = r.string(at.key("destination"), false);
        let output_prefix = rule::output_prefix(&mut r, at.key("outputPrefix"));
        let model_name = rule::model_name(&mut r, at.key("modelName"));
        rule::generation_content_id(&mut r, at.key("contentId"), content_id);
        r.finish(GenerateParams {
            url,
            source,
            source_data,
            model_name: model_name.unwrap_or_default().into(),
            content_id: content_id.unwrap_or_default().into(),
            destination: destination.map(String::from),
            output_prefix: output_prefix.map(String::from),
            separate_vocals,
            callback,
            custom_id,
            timeout,
            file: None,
            content_type: None,
            on_progress: None,
        })
    }

    fn request(self) -> CreateJobRequest {
        let mut cloning = SingingCloning::generate(self.model_name);
        cloning.use_separate = self.separate_vocals.map(SwitchOption::from);
        let mut output = Output::new(vec![0], cloning);
        output.content_id = Some(self.content_id);
        output.destination = self.destination;
        output.smart_content_descriptor.output_prefix = self.output_prefix;
        let input = Input { url: self.url, source: self.source, source_data: self.source_data };
        job(input, output, self.callback, self.custom_id, self.timeout)
    }
}

impl JobParams for TrainParams {
    fn read(params: &Value) -> Result<Self, Vec<Issue>> {
        let (mut r, at) = (Reader::default(), parameters(params)?);
        let (callback, custom_id, timeout) = job_fields(&mut r, &at);
        let Input { url, source, source_data } = input(&mut r, &at);
        let model_name = rule::model_name(&mut r, at.key("modelName"));
        let total_epoch = rule::total_epoch(&mut r, at.key("totalEpoch"), Some(SingingCloningType::Train));
        r.finish(TrainParams {
            url,
            source,
            source_data,
            model_name: model_name.unwrap_or_default().into(),
            total_epoch,
            callback,
            custom_id,
            timeout,
            file: None,
            content_type: None,
            on_progress: None,
        })
    }

    fn request(self) -> CreateJobRequest {
        let mut cloning = SingingCloning::train(self.model_name);
        cloning.total_epoch = self.total_epoch;
        let input = Input { url: self.url, source: self.source, source_data: self.source_data };
        job(input, Output::new(vec![0], cloning), self.callback, self.custom_id, self.timeout)
    }
}

/// The parameters as a field to read parameters from, each at its name; an issue when they
/// are no object.
fn parameters(params: &Value) -> Result<Field<'_, 'static>, Vec<Issue>> {
    match params {
        Value::Object(_) => Ok(Field::new(Some(params), Path::Root)),
        _ => {
            Err(vec![Issue { path: String::new(), code: IssueCode::Type, message: "must be an object of parameters" }])
        }
    }
}

/// The parameters every job has: `callback`, `customId` and `timeout`.
fn job_fields(r: &mut Reader, at: &Field) -> (Option<String>, Option<String>, Option<u32>) {
    let callback = rule::callback(r, at.key("callback")).map(String::from);
    let custom_id = rule::custom_id(r, at.key("customId"), false).map(String::from);
    (callback, custom_id, rule::timeout(r, at.key("timeout")))
}

/// The input's parameters, `url`, `source` and `sourceData`: the input as a whole has no
/// parameter, so the rule that exactly one is set is named `input`.
fn input(r: &mut Reader, at: &Field) -> Input {
    let fields = [at.key("url"), at.key("source"), at.key("sourceData")];
    let one_of = "must have exactly one of url, source and sourceData";
    rule::input(r, &Path::Key(&at.path, "input"), fields, one_of)
}

/// A request of one input and one output, which reads it.
fn job(
    input: Input,
    output: Output,
    callback: Option<String>,
    custom_id: Option<String>,
    timeout: Option<u32>,
) -> CreateJobRequest {
    CreateJobRequest { callback, custom_id, timeout, ..CreateJobRequest::new(vec![input], vec![output]) }
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
    fn file_parameters_are_never_read() {
        let without = json!({"url": "https://a.example/v.wav", "modelName": "alto", "contentId": "r"});
        let mut with = without.clone();
        for name in FILE_PARAMS {
            with[name] = json!(7);
        }
        assert_eq!(generate(with.clone()), generate(without.clone()));
        assert_eq!(train(with), train(without));
    }

    #[test]
    fn typed_parameters_make_the_request() {
        let params = TrainParams {
            url: None,
            source: Some(Source { content_id: "samples".into(), path: "/v.wav".into() }),
            source_data: None,
            model_name: "alto".into(),
            total_epoch: Some(12),
            callback: None,
            custom_id: Some("t1".into()),
            timeout: None,
            file: None,
            content_type: None,
            on_progress: None,
        };
        let mut cloning = SingingCloning::train("alto");
        cloning.total_epoch = Some(12);
        let mut expected =
            CreateJobRequest::new(vec![Input::source("samples", "/v.wav")], vec![Output::new(vec![0], cloning)]);
        expected.custom_id = Some("t1".into());
        assert_eq!(params.request(), expected);
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
    fn result_urls_join_with_single_slashes() {
        assert_eq!(result_url("http://h/cos/repo/", Some("/out/"), "a.wav"), "http://h/cos/repo/out/a.wav");
        assert_eq!(result_url("http://h/cos/repo", None, "a.wav"), "http://h/cos/repo/a.wav");
        assert_eq!(result_url("http://h/cos/repo", Some("/"), "/a.wav"), "http://h/cos/repo/a.wav");
    }
}
