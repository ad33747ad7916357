//! The pure core: the wire model of every action, its validation and the parsing of answers.
//! No I/O and no JavaScript here; everything is tested natively.

pub mod envelope;
pub mod job;
pub mod job_builder;
pub mod music_model;
pub mod read;
pub mod response;
pub mod validate;
pub mod value;

pub use envelope::{Action, Credentials, Envelope, Request};
pub use job::{
    CreateJobRequest, GetJobRequest, Input, Job, JobResponse, JobState, ListJobsRequest, ListJobsResponse, Output,
    SingingCloning, SingingCloningResult, SingingCloningType, SmartContentDescriptor, SmartContentResult, Source,
    SwitchOption, Timing,
};
pub use music_model::{ListModelsRequest, ListModelsResponse, Model};
pub use response::{parse_job, parse_response, ParsedResponse, Response};
pub use validate::{check_request, validate_body};
pub use value::{Number, Value};
