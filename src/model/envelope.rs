//! The action envelope every request travels in: `action`, the credentials and one request object.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::job::{CreateJobRequest, GetJobRequest, ListJobsRequest};
use super::music_model::ListModelsRequest;
use super::value::Value;

/// The four actions of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CreateJob,
    GetJob,
    ListJobs,
    ListModels,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::CreateJob, Action::GetJob, Action::ListJobs, Action::ListModels];

    /// The `action` value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateJob => "CreateJob",
            Action::GetJob => "GetJob",
            Action::ListJobs => "ListJobs",
            Action::ListModels => "ListModels",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The path the action is posted to, under the service's base (`…/release`).
    pub fn path(self) -> &'static str {
        match self {
            Action::ListModels => "/music_model",
            _ => "/job",
        }
    }

    /// The key of the action's request object in the body.
    pub fn request_key(self) -> &'static str {
        match self {
            Action::CreateJob => "createJobRequest",
            Action::GetJob => "getJobRequest",
            Action::ListJobs => "listJobsRequest",
            Action::ListModels => "listModelsRequest",
        }
    }

    /// The key of the action's result in the response.
    pub fn response_key(self) -> &'static str {
        match self {
            Action::CreateJob => "createJobResponse",
            Action::GetJob => "getJobResponse",
            Action::ListJobs => "listJobsResponse",
            Action::ListModels => "listModelsResponse",
        }
    }

    /// A body of this action without credentials, its request object `request`, as the wire has it.
    pub fn body(self, request: Value) -> Value {
        Value::Object(alloc::vec![
            ("action".into(), Value::String(self.name().into())),
            (self.request_key().into(), request),
        ])
    }

    /// Whether sending the request twice is harmless (everything but CreateJob).
    pub fn is_idempotent(self) -> bool {
        self != Action::CreateJob
    }
}

/// The account's key pair. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// The request object of one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    CreateJob(CreateJobRequest),
    GetJob(GetJobRequest),
    ListJobs(ListJobsRequest),
    ListModels(ListModelsRequest),
}

impl Request {
    pub fn action(&self) -> Action {
        match self {
            Request::CreateJob(_) => Action::CreateJob,
            Request::GetJob(_) => Action::GetJob,
            Request::ListJobs(_) => Action::ListJobs,
            Request::ListModels(_) => Action::ListModels,
        }
    }
}

/// A whole request body: the action, the credentials when the sender holds them, and the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub request: Request,
    /// `None` in a body from a browser; the proxy or a server-side client adds them.
    pub credentials: Option<Credentials>,
}

impl Envelope {
    /// A body without credentials.
    pub fn new(request: Request) -> Self {
        Envelope { request, credentials: None }
    }

    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    pub fn action(&self) -> Action {
        self.request.action()
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("action", self.action().name())?;
        if let Some(credentials) = &self.credentials {
            map.serialize_entry("secretId", &credentials.secret_id)?;
            map.serialize_entry("secretKey", &credentials.secret_key)?;
        }
        let key = self.action().request_key();
        match &self.request {
            Request::CreateJob(r) => map.serialize_entry(key, r)?,
            Request::GetJob(r) => map.serialize_entry(key, r)?,
            Request::ListJobs(r) => map.serialize_entry(key, r)?,
            Request::ListModels(r) => map.serialize_entry(key, r)?,
        }
        map.end()
    }
}
