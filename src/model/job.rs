//! The job resource (`/release/job`): CreateJob, GetJob, ListJobs and the Job they return.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(feature = "js")]
use tsify::Tsify;

/// The body of a CreateJob request (`createJobRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct CreateJobRequest {
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    /// Where the service posts the finished Job; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub callback: Option<String>,
    /// Caller's id for the job, under 64 characters; not unique on the service side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub custom_id: Option<String>,
    /// Seconds after which the service sets the job to ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub timeout: Option<u32>,
}

impl CreateJobRequest {
    /// A request with its required parts; set the optional ones on the fields.
    pub fn new(inputs: Vec<Input>, outputs: Vec<Output>) -> Self {
        CreateJobRequest { inputs, outputs, callback: None, custom_id: None, timeout: None }
    }
}

/// One input of a job: exactly one of `sourceData`, `url` or `source` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Text input, at most 512 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source_data: Option<String>,
    /// An http(s) address of an audio file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub url: Option<String>,
    /// A file in a content repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub source: Option<Source>,
}

impl Input {
    pub fn url(url: impl Into<String>) -> Self {
        Input { url: Some(url.into()), ..Input::default() }
    }
    pub fn source(content_id: impl Into<String>, path: impl Into<String>) -> Self {
        Input { source: Some(Source { content_id: content_id.into(), path: path.into() }), ..Input::default() }
    }
    pub fn source_data(text: impl Into<String>) -> Self {
        Input { source_data: Some(text.into()), ..Input::default() }
    }
}

/// A file in a content repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content_id: String,
    pub path: String,
}

/// One output of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// The repository the generated audio is written to; required for type 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub content_id: Option<String>,
    /// Output directory in the repository, `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub destination: Option<String>,
    /// Indexes into `inputs`.
    pub input_selectors: Vec<u32>,
    pub smart_content_descriptor: SmartContentDescriptor,
    /// Present on a COMPLETED job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub smart_content_result: Option<SmartContentResult>,
}

/// The output directory when an output names none: the repository's root.
pub const DEFAULT_DESTINATION: &str = "/";

impl Output {
    /// An output that reads `input_selectors` and runs `singing_cloning`.
    pub fn new(input_selectors: Vec<u32>, singing_cloning: SingingCloning) -> Self {
        Output {
            content_id: None,
            destination: None,
            input_selectors,
            smart_content_descriptor: SmartContentDescriptor { output_prefix: None, singing_cloning },
            smart_content_result: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct SmartContentDescriptor {
    /// Output file prefix, under 20 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub output_prefix: Option<String>,
    pub singing_cloning: SingingCloning,
}

/// Training epochs when a training names no `totalEpoch`: the service's default.
pub const DEFAULT_TOTAL_EPOCH: u32 = 30;

/// What to do: train a model or sing with one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct SingingCloning {
    #[serde(rename = "type")]
    pub kind: SingingCloningType,
    /// Training epochs, 1 to 50, only for training; the service's default is 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub total_epoch: Option<u32>,
    /// For training the new model's name; for generating the model to sing with (`default` or a trained one).
    pub model_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub use_separate: Option<SwitchOption>,
}

impl SingingCloning {
    /// Generation of audio with `model_name`.
    pub fn generate(model_name: impl Into<String>) -> Self {
        SingingCloning {
            kind: SingingCloningType::Generate,
            total_epoch: None,
            model_name: model_name.into(),
            use_separate: None,
        }
    }
    /// Training of a new model named `model_name`.
    pub fn train(model_name: impl Into<String>) -> Self {
        SingingCloning {
            kind: SingingCloningType::Train,
            total_epoch: None,
            model_name: model_name.into(),
            use_separate: None,
        }
    }
}

/// The file names a COMPLETED job produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct SmartContentResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub singing_cloning: Option<SingingCloningResult>,
}

/// `songName` for a generation, `modelName` for a training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct SingingCloningResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub song_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub model_name: Option<String>,
}

/// Declares a wire enum that travels as a bare number, with its TypeScript type beside it.
macro_rules! number_enum {
    ($(#[$meta:meta])* $name:ident, $ts:literal, { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The number on the wire.
            pub fn code(self) -> u32 {
                match self { $($name::$variant => $value),+ }
            }
            /// The variant of a wire number.
            pub fn from_code(code: u32) -> Option<Self> {
                match code { $($value => Some($name::$variant),)+ _ => None }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u32(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = u32::deserialize(deserializer)?;
                $name::from_code(code).ok_or_else(|| serde::de::Error::custom("unknown value"))
            }
        }

        #[cfg(feature = "js")]
        #[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
        const _: &str = $ts;
    };
}

number_enum!(
    /// `singingCloning.type`.
    SingingCloningType, "export type SingingCloningType = 1 | 2;", {
        /// 1: sing a song with a model.
        Generate = 1,
        /// 2: train a model from recordings.
        Train = 2,
    }
);

number_enum!(
    /// An off/on switch, as `useSeparate`.
    SwitchOption, "export type SwitchOption = 1 | 2;", {
        /// 1: off.
        Off = 1,
        /// 2: on.
        On = 2,
    }
);

impl From<bool> for SwitchOption {
    /// `true` is on, `false` off.
    fn from(on: bool) -> Self {
        if on {
            SwitchOption::On
        } else {
            SwitchOption::Off
        }
    }
}

/// `job.state`. Numbers the reference does not list parse as `Unknown`, so a
/// new state upstream never breaks a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Submitted,
    Processing,
    Completed,
    Error,
    Canceled,
    Unknown(i64),
}

impl JobState {
    pub fn code(self) -> i64 {
        match self {
            JobState::Submitted => 1,
            JobState::Processing => 2,
            JobState::Completed => 3,
            JobState::Error => 4,
            JobState::Canceled => 5,
            JobState::Unknown(code) => code,
        }
    }

    pub fn from_code(code: i64) -> Self {
        match code {
            1 => JobState::Submitted,
            2 => JobState::Processing,
            3 => JobState::Completed,
            4 => JobState::Error,
            5 => JobState::Canceled,
            other => JobState::Unknown(other),
        }
    }

    /// The name of the state, as the reference writes it: `SUBMITTED` … `CANCELED`, or `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Submitted => "SUBMITTED",
            JobState::Processing => "PROCESSING",
            JobState::Completed => "COMPLETED",
            JobState::Error => "ERROR",
            JobState::Canceled => "CANCELED",
            JobState::Unknown(_) => "UNKNOWN",
        }
    }

    /// COMPLETED, ERROR and CANCELED: the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::Error | JobState::Canceled)
    }
}

impl Serialize for JobState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(JobState::from_code)
    }
}

#[cfg(feature = "js")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const JOB_STATE_TS: &str = r#"
/** `job.state` on the wire: 1 SUBMITTED, 2 PROCESSING, 3 COMPLETED, 4 ERROR, 5 CANCELED. */
export type JobState = number;
/** The name of a job's state, added by `parseResponse` as `job.status`. */
export type JobStatus = 'SUBMITTED' | 'PROCESSING' | 'COMPLETED' | 'ERROR' | 'CANCELED' | 'UNKNOWN';
"#;

/// When a job was created, started and completed: milliseconds since the epoch, as strings, `"0"` for not yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub completed_at: String,
}

impl Timing {
    /// A wire timestamp as milliseconds; `None` for `"0"`, empty or not a number.
    pub fn millis(field: &str) -> Option<u64> {
        field.parse::<u64>().ok().filter(|&ms| ms > 0)
    }
}

/// A job as the service reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub state: JobState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(optional))]
    pub callback: Option<String>,
    #[serde(default)]
    pub inputs: Vec<Input>,
    #[serde(default)]
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub timing: Timing,
}

/// `getJobRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct GetJobRequest {
    pub id: String,
}

/// `listJobsRequest`: every job with this `customId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ListJobsRequest {
    pub custom_id: String,
}

/// `createJobResponse` and `getJobResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct JobResponse {
    pub job: Job,
}

/// `listJobsResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(Tsify))]
pub struct ListJobsResponse {
    #[serde(default)]
    pub jobs: Vec<Job>,
    #[serde(default)]
    pub total: u64,
}
