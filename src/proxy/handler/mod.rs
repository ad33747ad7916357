//! The proxy's shell: the JavaScript `ProxyHandler` over `Request`/`Response`, built for
//! wasm32 only. It turns a request into the inputs of the pure decisions in
//! `crate::proxy` (route, origin, identity, plan, listing, webhook), posts what they ask
//! for upstream, and turns their replies into a `Response`. Nothing is decided here.

mod incoming;
mod js_config;
mod platform;
mod shared_store;
mod stream;
mod verify;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{ReadableStream, Request as JsRequest};

use self::incoming::Incoming;
use self::js_config::{read_config, Hooks};
use self::platform::{check_target, platform_address, random_bytes, to_parts, to_response};
use self::shared_store::{SharedStore, StoreDown};
use self::stream::{Listener, Source, Streams};
use super::admission::{self, Check};
use super::config::ProxyConfig;
use super::cors::{self, Origin};
use super::error_code::ProxyErrorCode;
use super::events;
use super::identity;
use super::listing::ModelListing;
use super::outbound::{self, StreamError};
use super::plan::{self, Planned, Way};
use super::reply::Reply;
use super::route::{self, Endpoint, Route};
use super::scope::Scope;
use super::scrub::Scrubber;
use super::session::{self, Caller, HookAnswer};
use super::shared::{ClaimSet, Op, Outcome, PENDING_MS};
use super::signing;
use super::storage::{Storage, Store};
use super::uploads;
use super::upstream::{self, Outgoing};
use super::webhook;
use crate::error::{Error, IssueCode};
use crate::model::{Envelope, GetJobRequest, Request, Value};
use crate::transport::{now_ms, sleep, Answer};

/// The most of a callback target's answer read: only its status matters.
const WEBHOOK_ANSWER_BYTES: Option<usize> = None;

/// How often a copy of a CreateJob in flight looks for the first one's answer.
const CLAIM_POLL_MS: u32 = 50;

struct State {
    config: ProxyConfig,
    authenticate: Option<Function>,
    /// The config's `fetch`, replacing the global one for every outgoing request.
    fetch: Option<Function>,
    /// The Node server's `post` (see [`outbound::Sender::Post`]), used when the config has no `fetch`.
    post: Option<Function>,
    /// Rate limits, claims, quotas and job events: in memory, or shared with other proxies.
    shared: Rc<SharedStore>,
    scrubber: Scrubber,
    webhook_key: Vec<u8>,
    /// The open event streams.
    streams: Rc<RefCell<Streams>>,
    /// Whether a request may write to another's event stream (not on Workers): then events
    /// are written as they are recorded, else by each stream's own timer.
    push_events: bool,
}

/// A credential-holding proxy for the Singing Cloning API: a standard fetch handler.
#[wasm_bindgen]
pub struct ProxyHandler {
    state: Rc<State>,
}

#[wasm_bindgen]
impl ProxyHandler {
    /// Checks the config; throws a `validation` error naming every wrong field. `io` is the
    /// Node server's own I/O (js/proxy-server.js): `{ post }`, which sends the proxy's
    /// outgoing requests without fetch's objects.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ProxyConfig")] config: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ post?: Function } | undefined")] io: JsValue,
    ) -> Result<ProxyHandler, JsValue> {
        let (config, Hooks { authenticate, fetch, store }) = read_config(&config)?;
        let post = Reflect::get(&io, &"post".into()).ok().and_then(|p| p.dyn_into::<Function>().ok());
        let shared = match store {
            Some(store) => SharedStore::external(store).ok_or_else(|| {
                Error::validation("config.store", IssueCode::Type, "must be an object with a run function")
            })?,
            None => SharedStore::memory(),
        };
        let state = State {
            scrubber: Scrubber::new(&config.secrets()),
            webhook_key: signing::webhook_key(config.webhook_secret()),
            shared: Rc::new(shared),
            streams: Rc::default(),
            push_events: platform::shares_io_across_requests(),
            config,
            authenticate,
            fetch,
            post,
        };
        Ok(ProxyHandler { state: Rc::new(state) })
    }

    /// Answers one request. `info` says what the platform knows of the connection:
    /// `{ clientAddress }` (js/proxy-server.js passes the socket's address, the Workers
    /// entry `CF-Connecting-IP`), or Deno's `{ remoteAddr: { hostname } }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<ResponseLike>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestLike")] request: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ConnectionInfo | undefined")] info: JsValue,
    ) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let Ok(request) = request.dyn_into::<JsRequest>() else {
                return Err(Error::validation("request", IssueCode::Type, "must be a fetch Request").into());
            };
            let request = Incoming::from_request(request);
            let Handled { reply, stream } = handle(&state, &request, &platform_address(&info)).await;
            Ok(to_response(reply, stream.as_ref(), &state.scrubber).into())
        })
    }

    /// Answers one request given as parts, for the Node server (js/proxy-server.js): the
    /// method, the absolute URL, `rawHeaders`, the whole body and the client's address.
    /// Resolves to `[status, [name, value, …], body: string | null, stream: ReadableStream |
    /// null]`.
    #[wasm_bindgen(js_name = handleParts)]
    pub fn handle_parts(
        &self,
        method: String,
        url: String,
        raw_headers: js_sys::Array,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | null")] body: JsValue,
        client_address: Option<String>,
    ) -> Promise {
        let state = self.state.clone();
        let request = Incoming::from_parts(method, url, &raw_headers, incoming::body_bytes(&body));
        future_to_promise(async move {
            let Handled { reply, stream } = handle(&state, &request, &client_address).await;
            Ok(to_parts(reply, stream.as_ref(), &state.scrubber))
        })
    }
}

impl State {
    /// How outgoing requests are sent: the config's `fetch`, else the Node server's `post`,
    /// else the global `fetch`.
    fn sender(&self) -> outbound::Sender<'_> {
        match (&self.fetch, &self.post) {
            (None, Some(post)) => outbound::Sender::Post(post),
            (fetch, _) => outbound::Sender::Fetch(fetch.as_ref()),
        }
    }
}

/// What the handler knows of the caller's connection.
struct Client {
    /// The key of the client's address bucket (see [`admission::client_key`]).
    address: Option<String>,
}

/// A reply, and the stream that is its body when it has one (the events route).
struct Handled {
    reply: Reply,
    stream: Option<ReadableStream>,
}

impl From<Reply> for Handled {
    fn from(reply: Reply) -> Handled {
        Handled { reply, stream: None }
    }
}

async fn handle(state: &State, request: &Incoming, platform: &Option<String>) -> Handled {
    let config = &state.config;
    // The proxy's own origin is the configured public URL's, never one made from `Host`:
    // a page on a rebound name sends a matching Host and Origin.
    let own: Vec<&str> = config.public_url.as_deref().and_then(cors::origin_of).into_iter().collect();
    let origin = cors::check(request.header("origin").as_deref(), &config.allowed_origins, &own);
    if origin == Origin::Refused {
        return Reply::error(403, ProxyErrorCode::OriginNotAllowed, "this origin may not use the proxy").into();
    }
    let trusted = config.client_address_header.as_deref();
    let forwarded = trusted.and_then(|h| request.header(h));
    let client = Client { address: admission::client_key(trusted, forwarded.as_deref(), platform.as_deref()) };
    let mut outcome = dispatch(state, request, &origin, &client).await;
    outcome.reply.headers.extend(cors::headers(&origin));
    outcome
}

async fn dispatch(state: &State, request: &Incoming, origin: &Origin, client: &Client) -> Handled {
    let config = &state.config;
    let url = request.url.clone();
    let admitted = route::admit(
        route::path_of(&url),
        &request.method,
        request.header("content-length").as_deref(),
        &config.prefix,
        config.max_body_bytes,
        matches!(origin, Origin::Allowed(_)),
    );
    let reply = match admitted {
        Ok(Route::Api(endpoint)) => api(state, request, &url, endpoint, client).await,
        Ok(Route::Callback(token)) => callback_in(state, request, &token, client).await,
        Ok(route @ (Route::Uploads | Route::Result { .. })) => files(state, request, &url, route, client).await,
        Ok(Route::Events) => return job_events(state, request, &url, client).await,
        Ok(Route::Unknown) => Reply::error(404, ProxyErrorCode::NotFound, "no such route"),
        Err(reply) => reply,
    };
    reply.into()
}

/// `GET {prefix}/events`: the caller's job events as Server-Sent Events, identified and
/// admitted once, at connect, like every route.
async fn job_events(state: &State, request: &Incoming, url: &str, client: &Client) -> Handled {
    let config = &state.config;
    let caller = match identify(state, request, url, client).await {
        Ok(caller) => caller,
        Err(reply) => return reply.into(),
    };
    let checks = admission::request(&config.limits, &caller.identity, caller.anonymous, client.address.as_deref());
    if let Err(reply) = admit(state, checks).await {
        return with_cookie(reply, &caller).into();
    }
    let scope = identity::scope_prefix(&config.proxy_secret, &caller.identity);
    if stream::open_of(&state.streams, &scope) >= events::MAX_STREAMS_PER_SCOPE {
        return events::too_many_streams().into();
    }
    // With a shared store, the stream listens before the replay is read, so that nothing
    // recorded in between is lost (the cursor drops what the replay already had).
    let source = match state.shared.listens() {
        true => match Listener::start(&state.shared, &scope) {
            Some(listener) => Source::Listened(listener),
            None => Source::Memory(state.shared.clone()),
        },
        false => Source::Memory(state.shared.clone()),
    };
    let last = request.header("last-event-id");
    let replay = Op::Replay { scope: scope.clone(), last_event_id: last };
    let (missed, latest) = match state.shared.run(&replay).await {
        Ok(Outcome::Events { events, latest }) => (events, latest),
        _ => (Vec::new(), 0),
    };
    let first: String = missed.iter().map(|e| events::Event::from(e.clone()).to_sse()).collect();
    let cursor = missed.last().map_or(latest, |e| e.seq);
    let heartbeat = config.events_heartbeat_ms;
    let Some(stream) = stream::open(&state.streams, source, scope, first, cursor, heartbeat) else {
        return Reply::error(500, ProxyErrorCode::NoReadableStream, "the platform could not make a ReadableStream")
            .into();
    };
    let mut reply = Reply::empty(200)
        .with_header("content-type", "text/event-stream; charset=utf-8".into())
        .with_header("x-accel-buffering", "no".into());
    if let Some(cookie) = caller.set_cookie {
        reply = reply.with_header("set-cookie", cookie);
    }
    Handled { reply, stream: Some(stream) }
}

/// Records jobs of `scope` as their caller sees them, and sends the events they make to
/// the scope's open streams (a shared store sends them to every proxy's streams itself).
async fn record(state: &State, scope: &str, jobs: &[Value]) {
    let mut made = false;
    for job in jobs {
        let recorded = state.shared.record(scope, job).await;
        made |= matches!(recorded, Ok(Outcome::Events { events, .. }) if !events.is_empty());
    }
    if made && state.push_events && !state.shared.listens() {
        stream::send(&state.streams, scope);
    }
}

/// Takes a token from each bucket of `checks` in order; the first refusal is the answer.
async fn admit(state: &State, checks: Vec<Check>) -> Result<(), Reply> {
    for check in checks {
        // Rate limits never fail closed: without the store, this process's memory counts.
        let outcome = state.shared.run(&check.op()).await.map_err(|down| down.reply())?;
        if let Some(refused) = check.refusal(&outcome) {
            return Err(refused.reply());
        }
    }
    Ok(())
}

async fn read_body(state: &State, request: &Incoming) -> Result<Vec<u8>, Reply> {
    request.body(state.config.max_body_bytes).await.map_err(|e| match e {
        StreamError::TooLarge => route::too_large(),
        StreamError::Unreadable => Reply::error(400, ProxyErrorCode::BadBody, "the body could not be read"),
    })
}

/// The caller: named by the `authenticate` hook, or an anonymous session (a new one, with
/// its cookie, when the request brings none).
async fn identify(state: &State, request: &Incoming, url: &str, client: &Client) -> Result<Caller, Reply> {
    if let Some(hook) = &state.authenticate {
        return session::from_hook(call_authenticate(hook, request).await);
    }
    let now_s = (now_ms() / 1000.0) as u64;
    if let Some(caller) = session::from_cookie(&state.config, request.header("cookie").as_deref(), now_s) {
        return Ok(caller);
    }
    admit(state, admission::new_session(&state.config.limits, client.address.as_deref())).await?;
    let random = random_bytes().ok_or_else(no_random_source)?;
    Ok(session::new_session(&state.config, &random, now_s, url))
}

fn no_random_source() -> Reply {
    Reply::error(500, ProxyErrorCode::NoRandomSource, "the platform has no crypto.getRandomValues")
}

/// Calls the `authenticate` hook and awaits its answer when it is a promise (or thenable).
async fn call_authenticate(hook: &Function, request: &Incoming) -> HookAnswer {
    let Some(request) = request.request() else { return HookAnswer::Failed };
    let Ok(mut result) = hook.call1(&JsValue::NULL, &request) else { return HookAnswer::Failed };
    if result.has_type::<Promise>() || Reflect::get(&result, &"then".into()).is_ok_and(|t| t.is_function()) {
        match JsFuture::from(Promise::resolve(&result)).await {
            Ok(resolved) => result = resolved,
            Err(_) => return HookAnswer::Failed,
        }
    }
    match result.as_string() {
        Some(name) => HookAnswer::Text(name),
        None if result.is_null() || result.is_undefined() => HookAnswer::Nothing,
        None => HookAnswer::WrongType,
    }
}

/// The 415 for a body that is not declared JSON.
fn require_json(request: &Incoming) -> Result<(), Reply> {
    if super::inbound::is_json(request.header("content-type").as_deref()) {
        return Ok(());
    }
    Err(Reply::error(415, ProxyErrorCode::UnsupportedMediaType, "the body must be sent as application/json"))
}

/// The caller, identified and admitted by the rate limits; a refusal carries a new
/// session's cookie too, so that the next request is the same caller.
async fn admitted_caller(state: &State, request: &Incoming, url: &str, client: &Client) -> Result<Caller, Reply> {
    let caller = identify(state, request, url, client).await?;
    let checks =
        admission::request(&state.config.limits, &caller.identity, caller.anonymous, client.address.as_deref());
    match admit(state, checks).await {
        Ok(()) => Ok(caller),
        Err(reply) => Err(with_cookie(reply, &caller)),
    }
}

/// `reply`, with the `Set-Cookie` of a session made for this request.
fn with_cookie(reply: Reply, caller: &Caller) -> Reply {
    match &caller.set_cookie {
        Some(cookie) => reply.with_header("set-cookie", cookie.clone()),
        None => reply,
    }
}

async fn api(state: &State, request: &Incoming, url: &str, endpoint: Endpoint, client: &Client) -> Reply {
    if let Err(reply) = require_json(request) {
        return reply;
    }
    match admitted_caller(state, request, url, client).await {
        Ok(caller) => with_cookie(identified_api(state, request, endpoint, &caller.identity).await, &caller),
        Err(reply) => reply,
    }
}

async fn identified_api(state: &State, request: &Incoming, endpoint: Endpoint, identity: &str) -> Reply {
    let config = &state.config;
    let bytes = match read_body(state, request).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let check = |target: &str| check_target(target, &config.callback_targets);
    let Planned { envelope, scope, way } = match plan::plan(&bytes, endpoint, identity, config, &check) {
        Ok(planned) => planned,
        Err(reply) => return reply,
    };
    let answer = match way {
        Way::ListModels(asked) => return list_models(state, &asked, &scope).await,
        Way::CreateOnce { key } => create_once(state, &envelope, key).await,
        Way::Forward => forward(state, &envelope).await,
    };
    let (reply, jobs) = match answer {
        Ok(answer) => upstream::for_caller(envelope.action(), &answer, &scope, config, &state.scrubber),
        Err(reply) => return reply,
    };
    // What the caller is told of its jobs is news for its event streams too.
    if !jobs.is_empty() {
        record(state, &scope.prefix, &jobs).await;
    }
    reply
}

/// Uploads and results (see [`super::uploads`]): for identified callers, when the proxy has storage.
async fn files(state: &State, request: &Incoming, url: &str, route: Route, client: &Client) -> Reply {
    let config = &state.config;
    let Some(storage) = &config.storage else {
        let message = "this proxy has no storage: its operator has not set SINGING_CLONING_STORAGE_*";
        return Reply::error(404, ProxyErrorCode::StorageNotConfigured, message);
    };
    let Ok(store) = storage.store() else { return uploads::storage_misconfigured() };
    if route == Route::Uploads {
        if let Err(reply) = require_json(request) {
            return reply;
        }
    }
    let caller = match admitted_caller(state, request, url, client).await {
        Ok(caller) => caller,
        Err(reply) => return reply,
    };
    let now_s = (now_ms() / 1000.0) as i64;
    let reply = match route {
        Route::Result { job_id, output } => {
            let scope = plan::scope_of(config, &caller.identity);
            let read = Envelope::new(Request::GetJob(GetJobRequest { id: job_id }));
            let job =
                forward(state, &read).await.and_then(|answer| uploads::owned_job(&answer, &scope, &state.scrubber));
            job.map_or_else(|reply| reply, |job| uploads::result_redirect(&store, storage, &job, output, now_s))
        }
        _ => upload(state, request, &store, storage, &caller.identity, now_s).await.unwrap_or_else(|reply| reply),
    };
    with_cookie(reply, &caller)
}

/// A presigned upload for the caller: its request read and checked, the daily quota taken.
async fn upload(
    state: &State,
    request: &Incoming,
    store: &Store,
    storage: &Storage,
    identity: &str,
    now_s: i64,
) -> Result<Reply, Reply> {
    let bytes = read_body(state, request).await?;
    let asked = uploads::read_request(&bytes, storage.max_upload_bytes)?;
    let quota = uploads::quota_op(identity, asked.size, storage, now_s);
    if let Outcome::Refused { wait_s } = state.shared.run(&quota).await.map_err(|down| down.reply())? {
        return Err(uploads::quota_exceeded(wait_s));
    }
    let random = random_bytes().ok_or_else(no_random_source)?;
    let prefix = identity::scope_prefix(&state.config.proxy_secret, identity);
    Ok(uploads::presign_upload(store, storage, &prefix, &random, &asked, now_s))
}

/// Forwards a CreateJob, unless the same one was sent moments ago (the same `key`), to
/// this proxy or another sharing its store: then its answer is given again, once it is in
/// (see [`super::idempotency`]). Without the store, no CreateJob is sent (503).
async fn create_once(state: &State, envelope: &Envelope, key: String) -> Result<Answer, Reply> {
    let claim = Op::Claim { set: ClaimSet::Create, key: key.clone(), pending: true };
    let deadline = now_ms() + PENDING_MS;
    loop {
        match state.shared.run(&claim).await.map_err(|down| down.reply())? {
            Outcome::Claimed => break,
            Outcome::Held { value: Some(answer) } => {
                return upstream::stored_answer(&answer).ok_or_else(|| StoreDown.reply());
            }
            // The first copy is in flight: its answer comes soon, or its claim lapses.
            Outcome::Held { value: None } if now_ms() < deadline => {
                let _ = sleep(CLAIM_POLL_MS, None).await;
            }
            _ => return Err(StoreDown.reply()),
        }
    }
    let result = forward(state, envelope).await;
    let done = match &result {
        Ok(sent) if (200..300).contains(&sent.status) => {
            Op::Settle { set: ClaimSet::Create, key, value: upstream::answer_to_store(sent) }
        }
        _ => Op::Release { set: ClaimSet::Create, key },
    };
    // Should the store fail here, the claim lapses after PENDING_MS: copies wait till then.
    let _ = state.shared.run(&done).await;
    result
}

/// Sends an envelope upstream as [`upstream::request`] builds it.
async fn forward(state: &State, envelope: &Envelope) -> Result<Answer, Reply> {
    let config = &state.config;
    let Outgoing { url, body, headers } = upstream::request(config, envelope, now_ms());
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let max = Some(config.max_upstream_bytes);
    outbound::post(&url, &body, &headers, config.upstream_timeout_ms, max, state.sender())
        .await
        .map_err(upstream::failure_reply)
}

/// ListModels with per-identity models: the pages [`ModelListing`] asks for, then its answer.
async fn list_models(state: &State, asked: &crate::model::ListModelsRequest, scope: &super::scope::Scope) -> Reply {
    let mut listing = ModelListing::new();
    while let Some(page) = listing.next_request() {
        let answer = match forward(state, &Envelope::new(Request::ListModels(page))).await {
            Ok(answer) => answer,
            Err(reply) => return reply,
        };
        if let Err(reply) = listing.add_page(&answer, &state.scrubber) {
            return reply;
        }
    }
    listing.answer(asked, scope, &state.scrubber)
}

/// A callback from the upstream: token checked, job re-read, then forwarded signed.
async fn callback_in(state: &State, request: &Incoming, token: &str, client: &Client) -> Reply {
    let config = &state.config;
    if let Err(reply) = admit(state, admission::callback(&config.limits, client.address.as_deref())).await {
        return reply;
    }
    let bytes = match read_body(state, request).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let claim = match webhook::read_claim(&bytes) {
        Ok(claim) => claim,
        Err(reply) => return reply,
    };
    // A forged or altered token is refused here, before anything reaches the upstream.
    let Some(target) = super::callback::open(&config.proxy_secret, token, &claim.custom_id) else {
        return webhook::forged();
    };
    // A replay of a delivered callback is refused before it costs a GetJob upstream; the
    // claim is held while this one is looked at, and kept once delivered (or recorded final).
    match state.shared.run(&webhook::delivery_claim(&claim.job_id)).await {
        Ok(Outcome::Claimed) => {}
        Ok(_) => return webhook::already_delivered(),
        Err(down) => return down.reply(),
    }
    let (reply, keep) = claimed_callback(state, &claim, token, &target).await;
    if !keep {
        let _ = state.shared.run(&Op::Release { set: ClaimSet::Delivered, key: claim.job_id.clone() }).await;
    }
    reply
}

/// A callback whose delivery this proxy has claimed: the job re-read and recorded, then
/// forwarded signed to its target. With whether the claim is to be kept (a delivery made,
/// or a finished job's events recorded).
async fn claimed_callback(state: &State, claim: &webhook::Claim, token: &str, target: &str) -> (Reply, bool) {
    let config = &state.config;
    let reread = Envelope::new(Request::GetJob(GetJobRequest { id: claim.job_id.clone() }));
    let job = match forward(state, &reread).await.and_then(|answer| webhook::reread_job(&answer)) {
        Ok(job) => job,
        Err(reply) => return (reply, false),
    };
    // The job is the upstream's own now, and its token verified: news for its caller's streams.
    let job_state = match webhook::verify(&job, &claim.custom_id, token, &config.prefix) {
        Ok(job_state) => job_state,
        Err(reply) => return (reply, false),
    };
    if let Some(prefix) = super::identity::prefix_of(&claim.custom_id) {
        let scope = Scope {
            prefix: prefix.into(),
            models: config.models == super::config::Models::PerIdentity,
            files: config.storage.is_some(),
        };
        let restore = |custom_id: &str, url: &str| upstream::restore_callback(config, custom_id, url);
        record(state, prefix, &[events::job_for_caller(&job, &scope, &restore, &state.scrubber)]).await;
    }
    if target == super::callback::EVENTS_ONLY {
        // Nothing to forward. A finished job's callback is remembered like a delivery, so
        // that a replay costs no GetJob.
        return (webhook::recorded(), job_state.is_final());
    }
    let cx = webhook::Context {
        prefix: &config.prefix,
        scoped_models: config.models == super::config::Models::PerIdentity,
        scoped_files: config.storage.is_some(),
        key: &state.webhook_key,
        scrubber: &state.scrubber,
    };
    let delivery = match webhook::plan(&job, &claim.custom_id, token, target.into(), (now_ms() / 1000.0) as u64, &cx) {
        Ok(delivery) => delivery,
        Err(reply) => return (reply, false),
    };
    if check_target(&delivery.target, &config.callback_targets).is_err() {
        let reply = Reply::error(403, ProxyErrorCode::CallbackNotAllowed, "the callback target is no longer allowed");
        return (reply, false);
    }
    let headers = [
        ("webhook-id", delivery.id.as_str()),
        ("webhook-timestamp", delivery.timestamp.as_str()),
        ("webhook-signature", delivery.signature.as_str()),
    ];
    let timeout = config.upstream_timeout_ms;
    let sent =
        outbound::post(&delivery.target, &delivery.body, &headers, timeout, WEBHOOK_ANSWER_BYTES, state.sender()).await;
    let accepted = matches!(&sent, Ok(answer) if (200..300).contains(&answer.status));
    (webhook::delivered(accepted), accepted)
}
