//! `SingingCloningClient`: every action over fetch, with safe retries and CreateJob exactly
//! once. The decisions (what to retry, how long to wait) are the pure [`crate::retry`]
//! policy; this module only carries them out. Waiting for a job, events, paging and uploads
//! are the package's entry's (js/bind.js), over these methods: lighter there for the page.

mod options;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::error::{Error, Issue, IssueCode};
use crate::js::answer_to_js;
use crate::js::value::{from_js, to_js};
use crate::model::job_builder::{create_job_body, result_url, GenerateParams, TrainParams};
use crate::model::music_model::{LIST_MODELS_TYPE, MAX_LIST_MODELS_LIMIT};
use crate::model::read::join;
use crate::model::{parse_response, validate_body, Action, Credentials, ParsedResponse, Timing, Value};
use crate::retry::{Decision, RetryPolicy};
use crate::transport::{self, post_json};
use options::Options;

/// The reference's address, with its `/release` stage.
pub const DEFAULT_ENDPOINT: &str = "https://service-mqk0mc83-1257411467.bj.apigw.tencentcs.com/release";

/// Settings fixed when the client is made.
struct Config {
    endpoint: String,
    credentials: Option<Credentials>,
    timeout_ms: u32,
    retry: RetryPolicy,
    fetch: Option<Function>,
}

/// A client of the Singing Cloning API (or of the proxy in front of it).
#[wasm_bindgen]
pub struct SingingCloningClient {
    config: Rc<Config>,
}

/// Whether this code runs in a browser page or a page's worker, where credentials would leak.
fn in_browser() -> bool {
    let global = js_sys::global();
    let has = |key: &str| js_sys::Reflect::get(&global, &JsValue::from_str(key)).is_ok_and(|v| !v.is_undefined());
    has("document") || has("importScripts")
}

/// Work of one method, boxed so that every method shares one instance of the promise glue.
type Work = Pin<Box<dyn Future<Output = Result<JsValue, Error>>>>;

/// Runs `work` as a JavaScript promise that rejects with a `SingingCloningError`.
fn promise(work: Work) -> Promise {
    future_to_promise(async move { work.await.map_err(JsValue::from) })
}

#[wasm_bindgen]
impl SingingCloningClient {
    /// `new SingingCloningClient({ endpoint?, secretId?, secretKey?, timeoutMs?, maxRetries?, fetch?,
    /// pollIntervalMs?, maxPollIntervalMs?, dangerouslyAllowCredentialsInBrowser? })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "ClientOptions")] options: Option<JsValue>,
    ) -> Result<SingingCloningClient, JsValue> {
        Ok(SingingCloningClient { config: Rc::new(Self::config(options.unwrap_or_default())?) })
    }

    fn config(options: JsValue) -> Result<Config, Error> {
        let options = Options::new(options, "options")?;
        let endpoint = options.string("endpoint")?.unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        let credentials = match (options.string("secretId")?, options.string("secretKey")?) {
            (None, None) => None,
            (Some(secret_id), Some(secret_key)) if !secret_id.is_empty() && !secret_key.is_empty() => {
                Some(Credentials { secret_id, secret_key })
            }
            _ => {
                return Err(Error::validation(
                    "options.secretKey",
                    IssueCode::Required,
                    "secretId and secretKey go together, both non-empty",
                ))
            }
        };
        if credentials.is_some() && in_browser() && !options.boolean("dangerouslyAllowCredentialsInBrowser")? {
            return Err(Error::validation(
                "options.secretKey",
                IssueCode::Forbidden,
                "credentials in a browser would leak to every visitor: use the proxy, \
                 or set dangerouslyAllowCredentialsInBrowser",
            ));
        }
        let defaults = RetryPolicy::default();
        // waitForJob's intervals, which the package's entry (js/bind.js) reads: checked with the rest.
        options.integer("pollIntervalMs", 1, 3_600_000)?;
        options.integer("maxPollIntervalMs", 1, 3_600_000)?;
        Ok(Config {
            endpoint: String::from(endpoint.trim_end_matches('/')),
            credentials,
            timeout_ms: options.integer("timeoutMs", 1, 3_600_000)?.unwrap_or(30_000),
            retry: RetryPolicy {
                max_retries: options.integer("maxRetries", 0, 20)?.unwrap_or(defaults.max_retries),
                ..defaults
            },
            fetch: options.function("fetch")?,
        })
    }

    /// Creates a job from a whole `createJobRequest`, exactly once: see [`create_job`].
    #[wasm_bindgen(js_name = createJob, unchecked_return_type = "Promise<JobWithStatus>")]
    pub fn create_job(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateJobRequest")] request: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let prepared = signal_of(options).and_then(|signal| {
            let request = from_js(&request).map_err(|mut issue| {
                issue.path = join("createJobRequest", &issue.path);
                Error::from(issue)
            })?;
            Ok((Action::CreateJob.body(request), signal))
        });
        self.start_create_job(prepared)
    }

    /// Sings a song with a model: `GenerateParams`, and the call's `signal`.
    /// Issues are named by these parameters. A `file` is uploaded first, by the package's entry
    /// (js/bind.js), which hands this method its address as `url`.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobWithStatus>")]
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateParams & CallOptions")] params: JsValue,
    ) -> Promise {
        self.create_job_from_params(params, create_job_body::<GenerateParams>)
    }

    /// Trains a model: `TrainParams`, and the call's `signal`. Issues are named by these parameters.
    /// A `file` is uploaded first, by the package's entry (js/bind.js), which hands this method
    /// its address as `url`.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobWithStatus>")]
    pub fn train(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrainParams & CallOptions")] params: JsValue,
    ) -> Promise {
        self.create_job_from_params(params, create_job_body::<TrainParams>)
    }

    /// CreateJob from the parameters of `generate` or `train`, which `body_of` reads
    /// (the `signal` is no parameter it knows, so it leaves it out).
    fn create_job_from_params(&self, params: JsValue, body_of: fn(&Value) -> Result<Value, Vec<Issue>>) -> Promise {
        let prepared = Options::new(params.clone(), "params").and_then(|options| options.signal()).and_then(|signal| {
            let params = from_js(&params).map_err(Error::from)?;
            let body = body_of(&params).map_err(|issues| Error::Validation { issues })?;
            Ok((body, signal))
        });
        self.start_create_job(prepared)
    }

    /// The job with this id.
    #[wasm_bindgen(js_name = getJob, unchecked_return_type = "Promise<JobWithStatus>")]
    pub fn get_job(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let prepared = signal_of(options).and_then(|signal| Ok((get_job_request(string_arg(&id, "id")?), signal)));
        self.start_call(Action::GetJob, prepared, job_of)
    }

    /// Every job with this `customId`: `{ jobs, total }`.
    #[wasm_bindgen(js_name = listJobs, unchecked_return_type = "Promise<{ jobs: JobWithStatus[]; total: number }>")]
    pub fn list_jobs(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] custom_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let prepared =
            signal_of(options).and_then(|signal| Ok((list_jobs_request(string_arg(&custom_id, "customId")?), signal)));
        self.start_call(Action::ListJobs, prepared, payload)
    }

    /// One page of models: `{ models, total }`. `offset` defaults to 0, `limit` to 100.
    #[wasm_bindgen(js_name = listModels, unchecked_return_type = "Promise<ListModelsResponse>")]
    pub fn list_models(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListModelsOptions")] options: Option<JsValue>,
    ) -> Promise {
        let prepared = Options::new(options.unwrap_or_default(), "options").and_then(|options| {
            let offset = options.integer("offset", 0, u32::MAX)?.unwrap_or(0);
            let limit = options.integer("limit", 1, MAX_LIST_MODELS_LIMIT)?.unwrap_or(MAX_LIST_MODELS_LIMIT);
            let number = |n: u32| Value::Number((n as f64).into());
            let request = Value::Object(vec![
                ("offset".into(), number(offset)),
                ("limit".into(), number(limit)),
                ("type".into(), number(LIST_MODELS_TYPE)),
            ]);
            Ok((request, options.signal()?))
        });
        self.start_call(Action::ListModels, prepared, payload)
    }

    /// CreateJob with a body and signal read beforehand; a failed reading rejects.
    fn start_create_job(&self, prepared: Prepared) -> Promise {
        let config = self.config.clone();
        promise(Box::pin(async move {
            let (body, signal) = prepared?;
            create_job(&config, body, signal.as_ref()).await
        }))
    }

    /// Any other action, with a request and signal read beforehand; answers with `pick` of the answer.
    fn start_call(&self, action: Action, prepared: Prepared, pick: fn(&ParsedResponse) -> JsValue) -> Promise {
        let config = self.config.clone();
        promise(Box::pin(async move {
            let (request, signal) = prepared?;
            let parsed = call(&config, action, request, signal.as_ref()).await?;
            Ok(pick(&parsed))
        }))
    }

    /// The address of a generated file: `baseUrl` (the repository's), the output's
    /// `destination` and its `songName`.
    #[wasm_bindgen(js_name = resultUrl)]
    pub fn result_url(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Output")] output: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] base_url: JsValue,
    ) -> Result<String, JsValue> {
        let output = from_js(&output).map_err(Error::from)?;
        let base = string_arg(&base_url, "baseUrl")?;
        let song = output
            .get("smartContentResult")
            .and_then(|r| r.get("singingCloning"))
            .and_then(|r| r.get("songName"))
            .and_then(Value::as_str);
        let Some(song) = song else {
            return Err(Error::validation(
                "output.smartContentResult.singingCloning.songName",
                IssueCode::Required,
                "is missing: the output has no generated file yet",
            )
            .into());
        };
        Ok(result_url(&base, output.get("destination").and_then(Value::as_str), song))
    }
}

/// A call's request (or body) and signal, read from its arguments before anything is sent.
type Prepared = Result<(Value, Option<AbortSignal>), Error>;

/// The `signal` of a call's `options`.
fn signal_of(options: Option<JsValue>) -> Result<Option<AbortSignal>, Error> {
    Options::new(options.unwrap_or_default(), "options")?.signal()
}

fn string_arg(value: &JsValue, name: &'static str) -> Result<String, Error> {
    match value.as_string() {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(Error::validation(name, IssueCode::Required, "must not be empty")),
        None => Err(Error::validation(name, IssueCode::Type, "must be a string")),
    }
}

/// The action's result object of an answer (`getJobResponse`, …), with `status` on its jobs.
fn payload(parsed: &ParsedResponse) -> JsValue {
    let body = answer_to_js(parsed);
    js_sys::Reflect::get(&body, &JsValue::from_str(parsed.action.response_key())).unwrap_or(JsValue::NULL)
}

/// The job of a CreateJob or GetJob answer, with `status`.
fn job_of(parsed: &ParsedResponse) -> JsValue {
    js_sys::Reflect::get(&payload(parsed), &JsValue::from_str("job")).unwrap_or(JsValue::NULL)
}

/// Sends one body, retrying as the policy says. Not for CreateJob, which has its own loop.
async fn call(
    config: &Config,
    action: Action,
    request: Value,
    signal: Option<&AbortSignal>,
) -> Result<ParsedResponse, Error> {
    let text = wire_text(config, &action.body(request))?;
    let mut attempt = 0;
    loop {
        let (error, retry_after) = match send(config, action, &text, signal).await {
            Ok(parsed) => return Ok(parsed),
            Err(failure) => failure,
        };
        match config.retry.decide(
            action,
            attempt,
            &error,
            retry_after.as_deref(),
            transport::now_ms(),
            transport::random(),
        ) {
            Decision::Retry { delay_ms } | Decision::LookUp { delay_ms } => transport::sleep(delay_ms, signal).await?,
            Decision::Fail => return Err(redact(config, error)),
        }
        attempt += 1;
    }
}

/// Checks a body, adds the credentials and writes it as wire JSON text.
fn wire_text(config: &Config, body: &Value) -> Result<String, Error> {
    let mut body = body.clone();
    if let Some(credentials) = &config.credentials {
        body.set("secretId", Value::String(credentials.secret_id.clone()));
        body.set("secretKey", Value::String(credentials.secret_key.clone()));
    }
    let issues = validate_body(&body);
    if !issues.is_empty() {
        return Err(Error::Validation { issues });
    }
    // The checked tree is the wire body: reading it into typed structs and writing it
    // back would only cost page weight. JSON.stringify writes it, for the same reason.
    js_sys::JSON::stringify(&to_js(&body.without_nulls()))
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| Error::Network { message: "the body could not be written".into() })
}

/// One attempt: the parsed answer, or the error with the answer's `Retry-After`.
async fn send(
    config: &Config,
    action: Action,
    text: &str,
    signal: Option<&AbortSignal>,
) -> Result<ParsedResponse, (Error, Option<String>)> {
    let mut url = config.endpoint.clone();
    url.push_str(action.path());
    let answer = post_json(&url, text, &[], Some(config.timeout_ms), signal, config.fetch.as_ref())
        .await
        .map_err(|e| (e, None))?;
    parse_response(action, answer.status, &answer.text).map_err(|e| (e, answer.retry_after))
}

fn redact(config: &Config, error: Error) -> Error {
    match &config.credentials {
        Some(c) => error.redact(&[&c.secret_id, &c.secret_key]),
        None => error,
    }
}

/// CreateJob, exactly once. The body gets a `customId` when it has none; after an answer
/// that may hide a created job (a network error or timeout once the body was sent, or a
/// 5xx), ListJobs asks for that `customId`, and the body is sent again only when no job
/// has it. After a success status whose body cannot be read, the job found is the answer
/// and the body is never sent again. Jobs are found by `customId`, so a caller's own
/// `customId` must be unique.
async fn create_job(config: &Config, mut body: Value, signal: Option<&AbortSignal>) -> Result<JsValue, Error> {
    let custom_id = match body.get("createJobRequest").and_then(|r| r.get("customId")) {
        Some(Value::String(id)) => id.clone(),
        _ => {
            let id = new_custom_id();
            if let Some(Value::Object(request)) = body.get_mut("createJobRequest") {
                request.retain(|(k, _)| k != "customId");
                request.push(("customId".into(), Value::String(id.clone())));
            }
            id
        }
    };
    let text = wire_text(config, &body)?;
    let mut attempt = 0;
    loop {
        let (error, retry_after) = match send(config, Action::CreateJob, &text, signal).await {
            Ok(parsed) => return Ok(job_of(&parsed)),
            Err(failure) => failure,
        };
        match config.retry.decide(
            Action::CreateJob,
            attempt,
            &error,
            retry_after.as_deref(),
            transport::now_ms(),
            transport::random(),
        ) {
            // A success status whose body cannot be read: the service took the body, so the job
            // most likely exists. WebKit hands a chunked answer whose connection closed early to
            // the page as if it were whole (Chromium and Firefox fail the read, a network error
            // and so a look-up above), so this is the same ambiguity: look the job up, once, and
            // never send the body again.
            Decision::Fail if matches!(error, Error::Parse { .. }) => {
                let found =
                    list_jobs(config, custom_id.clone(), signal).await.map_err(|_| redact(config, error.clone()))?;
                return newest_job(&found).ok_or_else(|| redact(config, error));
            }
            Decision::Fail => return Err(redact(config, error)),
            Decision::Retry { delay_ms } => transport::sleep(delay_ms, signal).await?,
            Decision::LookUp { delay_ms } => {
                transport::sleep(delay_ms, signal).await?;
                // If the look-up fails too, the job may or may not exist: report the first error.
                let found = list_jobs(config, custom_id.clone(), signal).await.map_err(|_| redact(config, error))?;
                if let Some(job) = newest_job(&found) {
                    return Ok(job);
                }
            }
        }
        attempt += 1;
    }
}

/// The most recently created job of a ListJobs answer, with `status`.
fn newest_job(parsed: &ParsedResponse) -> Option<JsValue> {
    let Some(Value::Array(jobs)) = parsed.payload().get("jobs") else { return None };
    let created = |job: &Value| {
        job.get("timing").and_then(|t| t.get("createdAt")).and_then(Value::as_str).and_then(Timing::millis)
    };
    let newest = (0..jobs.len()).max_by_key(|&i| created(&jobs[i]).unwrap_or(0))?;
    let js_jobs = js_sys::Reflect::get(&payload(parsed), &JsValue::from_str("jobs")).ok()?;
    js_sys::Reflect::get_u32(&js_jobs, newest as u32).ok()
}

/// A fresh `customId`: `sc-` and 20 random base-36 characters from the platform's CSPRNG.
fn new_custom_id() -> String {
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
        fn get_random_values(buffer: &mut [u8]);
    }
    let mut bytes = [0u8; 20];
    get_random_values(&mut bytes);
    let mut id = String::from("sc-");
    for b in bytes {
        id.push(char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(b % 36) as usize]));
    }
    id
}

fn get_job_request(id: String) -> Value {
    Value::Object(vec![("id".into(), Value::String(id))])
}

fn list_jobs_request(custom_id: String) -> Value {
    Value::Object(vec![("customId".into(), Value::String(custom_id))])
}

async fn list_jobs(config: &Config, custom_id: String, signal: Option<&AbortSignal>) -> Result<ParsedResponse, Error> {
    call(config, Action::ListJobs, list_jobs_request(custom_id), signal).await
}

#[wasm_bindgen(typescript_custom_section)]
const CLIENT_TS: &str = r#"
/** The platform's own types where the program has them (the DOM lib, @types/node): the declarations need neither. */
export type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer T } } ? T
  : { readonly aborted: boolean; readonly reason?: unknown };
export type RequestLike = typeof globalThis extends { Request: { prototype: infer T } } ? T : unknown;
export type ResponseLike = typeof globalThis extends { Response: { prototype: infer T } } ? T : unknown;
export interface CallOptions { signal?: AbortSignalLike }
export interface ClientOptions {
  /** The base under which `/job` and `/music_model` hang; the reference's address by default. */
  endpoint?: string;
  /** Server side only: added to every body. Without them, bodies go without (through the proxy). */
  secretId?: string;
  secretKey?: string;
  /** Each attempt's time limit; 30000 by default. */
  timeoutMs?: number;
  /** Retries of GetJob, ListJobs and ListModels (and safe ones of CreateJob); 3 by default. */
  maxRetries?: number;
  /** Replaces the global fetch. */
  fetch?: (request: RequestLike) => Promise<ResponseLike>;
  /** waitForJob's first interval (1000) and its cap (10000), in milliseconds. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Credentials in a page leak to every visitor; this says you mean it. */
  dangerouslyAllowCredentialsInBrowser?: boolean;
}
export interface ListModelsOptions { offset?: number; limit?: number; signal?: AbortSignalLike }
/** `upload`'s options. */
export interface UploadOptions {
  /** The data's media type (`audio/wav`, `audio/mpeg`, `audio/flac`); a Blob's own type when absent. */
  contentType?: string;
  signal?: AbortSignalLike;
  /** Called as the bytes go out, in pages and web workers (XMLHttpRequest); the last call has `loaded === total`. */
  onProgress?: (progress: UploadProgress) => void;
}
export interface SingingCloningClient {
  /**
   * Uploads a file through the proxy (`endpoint`), and resolves to the input a job takes, `{ url }`:
   * `POST {endpoint}/uploads` with its type and size (retried like a read), then a PUT of its bytes
   * to the store's presigned address (not retried: a new `upload` gets a fresh address). Rejects with
   * `validation` (`data`, `contentType`), `api` (the proxy's refusal, with its `apiCode`), `http` (the
   * store's refusal, with its status), `network`, `timeout` (the presign) or `aborted`.
   * Written in JavaScript (js/bind.js), which keeps the page's WebAssembly smaller.
   */
  upload(data: FileData, options?: UploadOptions): Promise<{ url: string }>;
  /**
   * Every model, page after page (`limit` a page, from `offset`): `for await (const model of client.models())`.
   * Written in JavaScript (js/bind.js) over `listModels`, which keeps the page's WebAssembly smaller.
   */
  models(options?: ListModelsOptions): AsyncGenerator<Model, void, undefined>;
  /**
   * Waits until the job is COMPLETED, ERROR or CANCELED, and resolves to it; calls `onUpdate(job)` once
   * for each state it sees; rejects with `timeout` after `timeoutMs`, `aborted` on the signal, or the
   * error of a read that failed. Through the proxy it listens to `events()` and reads the job once when
   * the stream tells of its end (also when the stream has said nothing of the job for `intervalMs`, and
   * then for a minute); it polls otherwise (credentials or no `endpoint`, no events route, a stream that
   * failed): from `intervalMs` (`pollIntervalMs`, 1000) doubling to `maxIntervalMs` (`maxPollIntervalMs`,
   * 10000). Written in JavaScript (js/bind.js), which keeps the page's WebAssembly smaller.
   */
  waitForJob(id: string, options?: WaitOptions): Promise<JobWithStatus>;
  /**
   * The caller's jobs as they change, from the proxy's `GET {endpoint}/events` (Server-Sent Events,
   * read through the client's `fetch`; no EventSource needed): `for await (const job of client.events())`.
   * Starts with the changes the proxy still holds for the caller (15 minutes); a stream that is cut
   * is opened again with `Last-Event-ID`, so nothing is missed. Never ends by itself: `break`, or
   * abort the `signal` (which rejects with `aborted`). Rejects with `http` (404: the endpoint has no
   * events), `api` (the proxy's refusal), `network` or `timeout` once `maxRetries` attempts in a row
   * failed, or `parse`. Written in JavaScript (js/bind.js), which keeps the page's WebAssembly smaller.
   */
  events(options?: CallOptions): AsyncGenerator<JobWithStatus, void, undefined>;
}
export interface WaitOptions {
  signal?: AbortSignalLike; timeoutMs?: number; onUpdate?: (job: JobWithStatus) => void;
  intervalMs?: number; maxIntervalMs?: number;
}
"#;
