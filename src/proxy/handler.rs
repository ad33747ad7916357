//! The JavaScript face of the proxy: `ProxyHandler` turns a fetch `Request` into a
//! `Response`, doing the I/O (reading the body within its limit, calling the
//! `authenticate` hook, the upstream and callback targets) while every decision is made
//! by the pure modules beside it. Whatever comes in, the answer is a `Response`; the
//! promise rejects only when given something that is not a `Request`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{Headers, ReadableStreamDefaultReader, Request as JsRequest, Response, ResponseInit};

use super::admission::{self, Admission};
use super::callback::{self, ParsedUrl, Refusal};
use super::config::{self, CallbackTargets, Models, ProxyConfig};
use super::cors::{self, Origin};
use super::delivered::Delivered;
use super::idempotency::{self, Recent};
use super::identity;
use super::inbound;
use super::outbound::{self, Failure};
use super::policy;
use super::reply::Reply;
use super::route::{self, Endpoint, Route};
use super::scope::{member_mut, Owned, Scope};
use super::scrub::Scrubber;
use super::signing::{self, WebhookFault};
use super::webhook;
use crate::error::{Error, Issue, IssueCode};
use crate::js::value::{from_js, to_js};
use crate::model::value::to_value;
use crate::model::{Action, Envelope, GetJobRequest, ListModelsRequest, Request, Value};
use crate::transport::{now_ms, Answer};

/// Pages of 100 read at most to list one identity's models.
const MAX_MODEL_PAGES: u32 = 20;
/// The most of a callback target's answer read: only its status matters.
const WEBHOOK_ANSWER_BYTES: Option<usize> = None;

#[wasm_bindgen]
extern "C" {
    /// The platform's WHATWG URL parser, the one `fetch` uses.
    #[wasm_bindgen(js_name = URL)]
    type WhatwgUrl;
    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(url: &str) -> Result<WhatwgUrl, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn protocol(this: &WhatwgUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn username(this: &WhatwgUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn password(this: &WhatwgUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn hostname(this: &WhatwgUrl) -> String;
}

/// Checks a callback target as `fetch` will read it: parsed by the platform's `URL`,
/// then the pure check of the parsed parts.
fn check_target(target: &str, rules: &CallbackTargets) -> Result<(), Refusal> {
    let url = WhatwgUrl::new(target).map_err(|_| Refusal::Malformed)?;
    let (protocol, username, password, hostname) = (url.protocol(), url.username(), url.password(), url.hostname());
    let parsed = ParsedUrl { protocol: &protocol, username: &username, password: &password, hostname: &hostname };
    callback::check_target(&parsed, rules)
}

/// A CreateJob sent upstream: `done` resolves once its answer is in `answer` (a 2xx
/// answer only; a failure leaves it empty, and copies waiting on it send their own).
struct CreateInFlight {
    done: Promise,
    answer: Rc<RefCell<Option<Answer>>>,
}

struct State {
    config: ProxyConfig,
    authenticate: Option<Function>,
    /// The config's `fetch`, replacing the global one for every outgoing request.
    fetch: Option<Function>,
    admission: RefCell<Admission>,
    delivered: RefCell<Delivered>,
    creates: RefCell<Recent<CreateInFlight>>,
    scrubber: Scrubber,
    webhook_key: Vec<u8>,
}

/// A credential-holding proxy for the Singing Cloning API: a standard fetch handler.
#[wasm_bindgen]
pub struct ProxyHandler {
    state: Rc<State>,
}

#[wasm_bindgen]
impl ProxyHandler {
    /// Checks the config; throws a `validation` error naming every wrong field.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "ProxyConfig")] config: JsValue) -> Result<ProxyHandler, JsValue> {
        let (config, Hooks { authenticate, fetch }) = read_config(&config)?;
        let scrubber = Scrubber::new(&config.secrets());
        let webhook_key = signing::webhook_key(config.webhook_secret());
        let admission = RefCell::new(Admission::new(&config.limits));
        let state = State {
            config,
            authenticate,
            fetch,
            admission,
            delivered: RefCell::default(),
            creates: RefCell::default(),
            scrubber,
            webhook_key,
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
                return Err(validation("request", IssueCode::Type, "must be a fetch Request").into());
            };
            let reply = handle(&state, &request, &platform_address(&info)).await;
            Ok(to_response(reply, &state.scrubber).into())
        })
    }
}

fn validation(path: &str, code: IssueCode, message: &'static str) -> Error {
    Error::Validation { issues: vec![Issue { path: path.into(), code, message }] }
}

/// The functions of a config: they are not data, so they are read beside the tree.
#[derive(Default)]
struct Hooks {
    authenticate: Option<Function>,
    fetch: Option<Function>,
}

/// The config object as the core's tree, and its functions beside it.
fn read_config(config: &JsValue) -> Result<(ProxyConfig, Hooks), Error> {
    if !config.is_object() || config.is_function() {
        return Err(validation("config", IssueCode::Type, "must be an object"));
    }
    let mut members = Vec::new();
    let mut issues = Vec::new();
    let mut hooks = Hooks::default();
    for key in Object::keys(config.unchecked_ref::<Object>()).iter() {
        let Some(name) = key.as_string() else { continue };
        let Ok(value) = Reflect::get(config, &key) else {
            issues.push(Issue { path: format!("config.{name}"), code: IssueCode::Type, message: "could not be read" });
            continue;
        };
        if name == "authenticate" || name == "fetch" {
            let slot = if name == "fetch" { &mut hooks.fetch } else { &mut hooks.authenticate };
            match value.dyn_into::<Function>() {
                Ok(hook) => *slot = Some(hook),
                Err(v) if v.is_null() || v.is_undefined() => {}
                Err(_) => issues.push(Issue {
                    path: format!("config.{name}"),
                    code: IssueCode::Type,
                    message: "must be a function",
                }),
            }
            continue;
        }
        if value.is_undefined() {
            continue;
        }
        match from_js(&value) {
            Ok(v) => members.push((name, v)),
            Err(issue) => {
                let sep = if issue.path.is_empty() || issue.path.starts_with('[') { "" } else { "." };
                issues.push(Issue { path: format!("config.{name}{sep}{}", issue.path), ..issue });
            }
        }
    }
    match ProxyConfig::from_value(&Value::Object(members)) {
        Ok(config) if issues.is_empty() => Ok((config, hooks)),
        Ok(_) => Err(Error::Validation { issues }),
        Err(more) => {
            issues.extend(more);
            Err(Error::Validation { issues })
        }
    }
}

/// Reads the proxy's config from environment variables (`SINGING_CLONING_*`): Node's
/// `process.env`, a Worker's `env`, `Deno.env.toObject()`. Throws a `validation` error
/// for a variable that cannot be read; the config itself is checked by `createProxyHandler`.
#[wasm_bindgen(js_name = configFromEnv, unchecked_return_type = "ProxyConfig")]
pub fn config_from_env(
    #[wasm_bindgen(unchecked_param_type = "Record<string, string | undefined>")] env: JsValue,
) -> Result<JsValue, JsValue> {
    if !env.is_object() {
        return Err(validation("env", IssueCode::Type, "must be an object of strings").into());
    }
    let get = |name: &str| Reflect::get(&env, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
    let value = config::from_env(get).map_err(|issues| Error::Validation { issues })?;
    Ok(to_js(&value))
}

/// Verifies a Standard Webhooks message as the proxy forwards callbacks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), in constant time
/// and within `toleranceSeconds` (300 by default) of now. Returns the parsed payload;
/// throws a `validation` error naming the header or field at fault.
#[wasm_bindgen(js_name = verifyWebhook)]
pub fn verify_webhook(
    #[wasm_bindgen(unchecked_param_type = "{ headers: Record<string, string> | object; body: string | Uint8Array }")]
    message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] secret: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ toleranceSeconds?: number } | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let secret = secret
        .as_string()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| validation("secret", IssueCode::Required, "must be the webhook secret"))?;
    if !message.is_object() {
        return Err(validation("message", IssueCode::Type, "must be { headers, body }").into());
    }
    let headers = Reflect::get(&message, &"headers".into()).unwrap_or(JsValue::UNDEFINED);
    let header = |name: &str| header_of(&headers, name);
    let body = Reflect::get(&message, &"body".into()).unwrap_or(JsValue::UNDEFINED);
    let body = match body.as_string() {
        Some(text) => text,
        None => match body.dyn_ref::<Uint8Array>().map(|b| String::from_utf8(b.to_vec())) {
            Some(Ok(text)) => text,
            _ => {
                return Err(validation(
                    "body",
                    IssueCode::Type,
                    "must be the body as received: a string or a Uint8Array of UTF-8",
                )
                .into())
            }
        },
    };
    let tolerance = match Reflect::get(&options, &"toleranceSeconds".into()).ok().filter(|v| !v.is_undefined()) {
        None => 300.0,
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => n,
            _ => {
                return Err(validation(
                    "options.toleranceSeconds",
                    IssueCode::Range,
                    "must be a number of seconds, 0 or more",
                )
                .into())
            }
        },
    };
    let key = signing::webhook_key(&secret);
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    let checked = signing::verify_webhook(
        &key,
        id.as_deref(),
        timestamp.as_deref(),
        signature.as_deref(),
        &body,
        now_ms() / 1000.0,
        tolerance,
    );
    if let Err(fault) = checked {
        let (path, code, message) = match fault {
            WebhookFault::MissingId => ("headers.webhook-id", IssueCode::Required, "is required"),
            WebhookFault::MissingTimestamp => ("headers.webhook-timestamp", IssueCode::Required, "is required"),
            WebhookFault::BadTimestamp => {
                ("headers.webhook-timestamp", IssueCode::Type, "must be whole seconds since the epoch")
            }
            WebhookFault::OutsideTolerance => {
                ("headers.webhook-timestamp", IssueCode::Range, "is too far from now: an old message, or a replay")
            }
            WebhookFault::MissingSignature => ("headers.webhook-signature", IssueCode::Required, "is required"),
            WebhookFault::BadSignature => {
                ("headers.webhook-signature", IssueCode::Pattern, "matches no signature of this body with this secret")
            }
        };
        return Err(validation(path, code, message).into());
    }
    let payload = Value::parse(&body).map_err(|_| validation("body", IssueCode::Type, "is signed but is not JSON"))?;
    Ok(to_js(&payload))
}

/// A header from a `Headers` object or a plain object (any case, first of an array).
fn header_of(headers: &JsValue, name: &str) -> Option<String> {
    if let Some(h) = headers.dyn_ref::<Headers>() {
        return h.get(name).ok().flatten();
    }
    if !headers.is_object() {
        return None;
    }
    for key in Object::keys(headers.unchecked_ref::<Object>()).iter() {
        if key.as_string().is_some_and(|k| k.eq_ignore_ascii_case(name)) {
            let value = Reflect::get(headers, &key).ok()?;
            return value.as_string().or_else(|| value.dyn_ref::<js_sys::Array>().and_then(|a| a.get(0).as_string()));
        }
    }
    None
}

/// The `Response` for a reply, scrubbed one last time; a reply that cannot become one
/// (it cannot happen with the headers the proxy writes) becomes a bare 500.
fn to_response(reply: Reply, scrubber: &Scrubber) -> Response {
    let build = || -> Result<Response, JsValue> {
        let headers = Headers::new()?;
        for (name, value) in &reply.headers {
            headers.append(name, &scrubber.text(value))?;
        }
        let init = ResponseInit::new();
        init.set_status(reply.status);
        init.set_headers(&headers);
        let body = reply.body.as_deref().map(|b| scrubber.text(b));
        Response::new_with_opt_str_and_init(body.as_deref(), &init)
    };
    build().or_else(|_| Response::new_with_opt_str(None)).unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into())
}

fn header(request: &JsRequest, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

/// The client's address as the platform gives it in `fetch`'s second argument.
fn platform_address(info: &JsValue) -> Option<String> {
    if !info.is_object() {
        return None;
    }
    let get = |target: &JsValue, key: &str| Reflect::get(target, &key.into()).ok().filter(|v| !v.is_undefined());
    if let Some(address) = get(info, "clientAddress").and_then(|v| v.as_string()) {
        return Some(address);
    }
    get(info, "remoteAddr").and_then(|r| get(&r, "hostname")).and_then(|v| v.as_string())
}

/// What the handler knows of the caller's connection.
struct Client {
    /// The key of the client's address bucket (see [`admission::client_key`]).
    address: Option<String>,
}

async fn handle(state: &State, request: &JsRequest, platform: &Option<String>) -> Reply {
    let config = &state.config;
    let url = request.url();
    // The proxy's own origin is the configured public URL's, never one made from `Host`:
    // a page on a rebound name sends a matching Host and Origin.
    let own: Vec<&str> = config.public_url.as_deref().and_then(cors::origin_of).into_iter().collect();
    let origin = cors::check(header(request, "origin").as_deref(), &config.allowed_origins, &own);
    let trusted = config.client_address_header.as_deref();
    let client = Client {
        address: {
            let value = trusted.and_then(|h| header(request, h));
            admission::client_key(trusted, value.as_deref(), platform.as_deref())
        },
    };
    let mut reply = match origin {
        Origin::Refused => Reply::error(403, "origin_not_allowed", "this origin may not use the proxy"),
        _ => dispatch(state, request, &url, &origin, &client).await,
    };
    if origin != Origin::Refused {
        for (name, value) in cors::headers(&origin) {
            reply.headers.push((name, value));
        }
    }
    reply
}

async fn dispatch(state: &State, request: &JsRequest, url: &str, origin: &Origin, client: &Client) -> Reply {
    let route = route::route(route::path_of(url), &state.config.prefix);
    if route == Route::Unknown {
        return Reply::error(404, "not_found", "no such route");
    }
    match request.method().as_str() {
        "POST" => {}
        "OPTIONS" => {
            let mut reply = Reply::empty(204).with_header("allow", "POST, OPTIONS".into());
            if matches!(origin, Origin::Allowed(_)) {
                reply.headers.extend(cors::preflight_headers());
            }
            return reply;
        }
        _ => {
            return Reply::error(405, "method_not_allowed", "only POST is answered here")
                .with_header("allow", "POST, OPTIONS".into())
        }
    }
    if let Some(reply) = too_large_by_length(state, request) {
        return reply;
    }
    match route {
        Route::Api(endpoint) => api(state, request, url, endpoint, client).await,
        Route::Callback(token) => callback_in(state, request, &token, client).await,
        Route::Unknown => Reply::error(404, "not_found", "no such route"),
    }
}

fn too_large() -> Reply {
    Reply::error(413, "too_large", "the body is larger than the proxy accepts")
}

/// A 413 decided from `Content-Length` alone, before reading anything.
fn too_large_by_length(state: &State, request: &JsRequest) -> Option<Reply> {
    let length: u64 = header(request, "content-length")?.trim().parse().ok()?;
    (length > state.config.max_body_bytes as u64).then(too_large)
}

enum BodyError {
    TooLarge,
    Unreadable,
}

/// The body's bytes, reading no further than `max` of them.
async fn read_limited(request: &JsRequest, max: usize) -> Result<Vec<u8>, BodyError> {
    let Some(stream) = request.body() else { return Ok(Vec::new()) };
    let reader = ReadableStreamDefaultReader::new(&stream).map_err(|_| BodyError::Unreadable)?;
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| BodyError::Unreadable)?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(out);
        }
        let value = Reflect::get(&chunk, &"value".into()).unwrap_or(JsValue::UNDEFINED);
        let Some(bytes) = value.dyn_ref::<Uint8Array>() else {
            let _ = reader.cancel();
            return Err(BodyError::Unreadable);
        };
        let start = out.len();
        let length = bytes.length() as usize;
        if start + length > max {
            // Stop the sender: nothing more of this body will be read.
            let _ = reader.cancel();
            return Err(BodyError::TooLarge);
        }
        out.resize(start + length, 0);
        bytes.copy_to(&mut out[start..]);
    }
}

async fn read_body(state: &State, request: &JsRequest) -> Result<Vec<u8>, Reply> {
    read_limited(request, state.config.max_body_bytes).await.map_err(|e| match e {
        BodyError::TooLarge => too_large(),
        BodyError::Unreadable => Reply::error(400, "bad_body", "the body could not be read"),
    })
}

/// 16 bytes from the platform's cryptographic random source.
fn random_bytes() -> Option<[u8; 16]> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let fill = Reflect::get(&crypto, &"getRandomValues".into()).ok()?.dyn_into::<Function>().ok()?;
    let array = Uint8Array::new_with_length(16);
    fill.call1(&crypto, &array).ok()?;
    let mut out = [0u8; 16];
    array.copy_to(&mut out);
    Some(out)
}

/// The caller's identity, whether it is an anonymous session, and the `Set-Cookie` of a new one.
async fn identify(
    state: &State,
    request: &JsRequest,
    url: &str,
    client: &Client,
) -> Result<(String, bool, Option<String>), Reply> {
    let config = &state.config;
    if let Some(hook) = &state.authenticate {
        let hook_failed = || Reply::error(500, "authenticate_failed", "the proxy's authenticate hook failed");
        let mut result = hook.call1(&JsValue::NULL, request).map_err(|_| hook_failed())?;
        if result.has_type::<Promise>() || Reflect::get(&result, &"then".into()).is_ok_and(|t| t.is_function()) {
            result = JsFuture::from(Promise::resolve(&result)).await.map_err(|_| hook_failed())?;
        }
        return match result.as_string() {
            Some(name) if !name.is_empty() => Ok((identity::user(&name), false, None)),
            Some(_) => Err(unauthenticated()),
            None if result.is_null() || result.is_undefined() => Err(unauthenticated()),
            None => Err(Reply::error(
                500,
                "authenticate_failed",
                "the proxy's authenticate hook must return a string or null",
            )),
        };
    }
    let now_s = (now_ms() / 1000.0) as u64;
    let max_age = config.session_max_age_s;
    let cookie = header(request, "cookie");
    let session = cookie.as_deref().and_then(|c| identity::find_cookie(c, identity::SESSION_COOKIE));
    let opened = session.and_then(|value| identity::open_session(&config.proxy_secret, value, now_s, max_age as u64));
    if let Some(id) = opened {
        return Ok((identity::anonymous(id), true, None));
    }
    // The borrow ends within the statement: no await holds it.
    let allowed = state.admission.borrow_mut().new_session(client.address.as_deref(), now_ms());
    allowed.map_err(|refused| refused.reply())?;
    let random = random_bytes()
        .ok_or_else(|| Reply::error(500, "no_random_source", "the platform has no crypto.getRandomValues"))?;
    let id = identity::new_session_id(&random);
    let value = identity::session_value(&config.proxy_secret, &id, now_s);
    let secure = url.starts_with("https:") || config.public_url.as_deref().is_some_and(|u| u.starts_with("https:"));
    let set_cookie = identity::set_cookie(&value, &config.prefix, max_age, secure);
    Ok((identity::anonymous(&id), true, Some(set_cookie)))
}

fn unauthenticated() -> Reply {
    Reply::error(401, "unauthenticated", "sign in to use this proxy")
}

async fn api(state: &State, request: &JsRequest, url: &str, endpoint: Endpoint, client: &Client) -> Reply {
    if !inbound::is_json(header(request, "content-type").as_deref()) {
        return Reply::error(415, "unsupported_media_type", "the body must be sent as application/json");
    }
    let (identity, anonymous, set_cookie) = match identify(state, request, url, client).await {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    // The borrow ends within the statement: no await holds it.
    let admitted = state.admission.borrow_mut().request(&identity, anonymous, client.address.as_deref(), now_ms());
    let reply = match admitted {
        Ok(()) => scoped_api(state, request, endpoint, &identity).await,
        Err(refused) => refused.reply(),
    };
    match set_cookie {
        Some(cookie) => reply.with_header("set-cookie", cookie),
        None => reply,
    }
}

async fn scoped_api(state: &State, request: &JsRequest, endpoint: Endpoint, identity: &str) -> Reply {
    let config = &state.config;
    let bytes = match read_body(state, request).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let mut envelope = match inbound::read_body(&bytes, endpoint, config.max_depth) {
        Ok(envelope) => envelope,
        Err(reply) => return reply,
    };
    let issues = policy::apply(&mut envelope, &config.policy);
    if !issues.is_empty() {
        return Reply::error_with_issues(
            403,
            "forbidden_by_policy",
            "the proxy's policy does not allow this request",
            &issues,
        );
    }
    let scope = Scope {
        prefix: identity::scope_prefix(&config.proxy_secret, identity),
        models: config.models == Models::PerIdentity,
    };
    let issues = scope.scope_request(&mut envelope);
    if !issues.is_empty() {
        return Reply::error_with_issues(
            400,
            "validation",
            "the body breaks rules of the API behind this proxy",
            &issues,
        );
    }
    if let Request::CreateJob(create) = &mut envelope.request {
        if let Some(target) = create.callback.take() {
            if check_target(&target, &config.callback_targets).is_err() {
                return callback::not_allowed();
            }
            let custom_id = create.custom_id.as_deref().unwrap_or("");
            let token = callback::token(&config.proxy_secret, custom_id, &target);
            match callback::upstream_url(config.public_url.as_deref(), &config.prefix, &token) {
                Ok(url) => create.callback = Some(url),
                Err(reply) => return reply,
            }
        }
    }
    if envelope.action() == Action::ListModels && scope.models {
        return list_models(state, &envelope, &scope).await;
    }
    let answer = match &envelope.request {
        Request::CreateJob(create) => create_once(state, &envelope, create.custom_id.as_deref().unwrap_or("")).await,
        _ => forward(state, &envelope).await,
    };
    match answer {
        Ok(answer) => relay(state, envelope.action(), &answer, &scope),
        Err(reply) => reply,
    }
}

/// Forwards a CreateJob, unless the same one (same scoped `customId`, same body) was sent
/// moments ago: then its answer is given again, once it is in (see [`idempotency`]).
async fn create_once(state: &State, envelope: &Envelope, scoped_custom_id: &str) -> Result<Answer, Reply> {
    let body = to_value(envelope).to_json();
    let Some(key) = idempotency::create_key(&state.config.proxy_secret, scoped_custom_id, &body) else {
        return forward(state, envelope).await;
    };
    // The borrow ends within the statement: no await holds it.
    let earlier = state.creates.borrow_mut().get(&key, now_ms()).map(|f| (f.done.clone(), f.answer.clone()));
    if let Some((done, answer)) = earlier {
        let _ = JsFuture::from(done).await;
        if let Some(answer) = answer.borrow().clone() {
            return Ok(answer);
        }
        return forward(state, envelope).await;
    }
    let mut resolve = None;
    let done = Promise::new(&mut |resolve_fn, _reject| resolve = Some(resolve_fn));
    let answer = Rc::new(RefCell::new(None));
    state.creates.borrow_mut().insert(key.clone(), now_ms(), CreateInFlight { done, answer: answer.clone() });
    let result = forward(state, envelope).await;
    match &result {
        Ok(sent) if (200..300).contains(&sent.status) => *answer.borrow_mut() = Some(sent.clone()),
        _ => state.creates.borrow_mut().remove(&key),
    }
    if let Some(resolve) = resolve {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    }
    result
}

/// Sends an envelope upstream with the credentials (and the gateway signature).
async fn forward(state: &State, envelope: &Envelope) -> Result<Answer, Reply> {
    let config = &state.config;
    let action = envelope.action();
    let body = to_value(&envelope.clone().with_credentials(config.credentials.clone())).to_json();
    let mut url = config.endpoint.clone();
    url.push_str(action.path());
    let gateway = config
        .gateway
        .as_ref()
        .map(|g| signing::gateway_headers(&g.secret_id, &g.secret_key, &g.source, &signing::http_date(now_ms())));
    let headers: Vec<(&str, &str)> = gateway.iter().flatten().map(|(n, v)| (*n, v.as_str())).collect();
    let max = Some(config.max_upstream_bytes);
    let sent = outbound::post(&url, &body, &headers, config.upstream_timeout_ms, max, state.fetch.as_ref()).await;
    sent.map_err(|failure| match failure {
        Failure::Timeout => Reply::error(504, "upstream_timeout", "the service did not answer in time"),
        Failure::TooLarge => {
            Reply::error(502, "upstream_too_large", "the service's answer is larger than the proxy reads")
        }
        Failure::Unreachable => Reply::error(502, "upstream_unreachable", "the service could not be reached"),
    })
}

/// The canonical answer for a job that is not the caller's, the same as for one that does not exist.
fn job_not_found() -> Reply {
    Reply::error(404, "JobNotFound", "no job has this id")
}

/// An upstream answer as it is (status kept), secrets scrubbed; a body that is not JSON
/// becomes a neutral error (see [`Reply::upstream_not_json`]).
fn pass(state: &State, answer: &Answer) -> Reply {
    let reply = match Value::parse(&answer.text) {
        Ok(_) => Reply::json(answer.status, state.scrubber.body(&answer.text)),
        Err(_) => Reply::upstream_not_json(answer.status),
    };
    match &answer.retry_after {
        Some(wait) if answer.status == 429 || answer.status == 503 => reply.with_header("retry-after", wait.clone()),
        _ => reply,
    }
}

/// The upstream's answer for the caller: scope taken off, foreign jobs hidden.
fn relay(state: &State, action: Action, answer: &Answer, scope: &Scope) -> Reply {
    let config = &state.config;
    let success = (200..300).contains(&answer.status);
    if action == Action::GetJob && answer.status == 404 {
        return job_not_found();
    }
    let Some(mut raw) = Value::parse(&answer.text).ok().filter(|_| success) else { return pass(state, answer) };
    let restore = |custom_id: &str, url: &str| {
        let token = callback::token_of(url, &config.prefix)?;
        callback::open(&config.proxy_secret, token, custom_id)
    };
    match scope.unscope_answer(action, &mut raw, &restore) {
        Owned::No => job_not_found(),
        Owned::Yes => Reply::json(answer.status, state.scrubber.body(&raw.to_json())),
    }
}

/// ListModels with models scoped per identity: the upstream cannot filter, so the
/// proxy reads the listing (up to 2,000 models) and pages the caller's part itself.
async fn list_models(state: &State, envelope: &Envelope, scope: &Scope) -> Reply {
    let Request::ListModels(asked) = &envelope.request else {
        return Reply::error(400, "wrong_route", "not a ListModels request");
    };
    let mut models = Vec::new();
    let mut request_id = None;
    let mut offset = 0u32;
    for _ in 0..MAX_MODEL_PAGES {
        let page = Envelope::new(Request::ListModels(ListModelsRequest::new(offset, 100)));
        let answer = match forward(state, &page).await {
            Ok(answer) => answer,
            Err(reply) => return reply,
        };
        let parsed = Value::parse(&answer.text).ok().filter(|_| (200..300).contains(&answer.status));
        let Some(mut raw) = parsed else { return pass(state, &answer) };
        if request_id.is_none() {
            request_id = raw.get("requestId").cloned();
        }
        let Some(listing) = member_mut(&mut raw, "listModelsResponse") else { return pass(state, &answer) };
        let total = match listing.get("total") {
            Some(Value::Number(n)) => n.get(),
            _ => 0.0,
        };
        let Some(Value::Array(page_models)) = listing.remove("models") else { break };
        let count = page_models.len() as u32;
        models.extend(page_models);
        offset += count;
        if count == 0 || offset as f64 >= total {
            break;
        }
    }
    let visible = scope.visible_models(models);
    let total = visible.len();
    let page: Vec<Value> = visible.into_iter().skip(asked.offset as usize).take(asked.limit as usize).collect();
    let mut body = Value::Object(Vec::new());
    if let Some(id) = request_id {
        body.set("requestId", id);
    }
    body.set(
        "listModelsResponse",
        Value::Object(vec![
            ("total".into(), Value::Number((total as f64).into())),
            ("models".into(), Value::Array(page)),
        ]),
    );
    Reply::json(200, state.scrubber.body(&body.to_json()))
}

/// A callback from the upstream: token checked, job re-read, then forwarded signed.
async fn callback_in(state: &State, request: &JsRequest, token: &str, client: &Client) -> Reply {
    let config = &state.config;
    let forged = || Reply::error(403, "bad_callback", "this callback does not match a job of the proxy");
    // The borrow ends within the statement: no await holds it.
    let admitted = state.admission.borrow_mut().callback(client.address.as_deref(), now_ms());
    if let Err(refused) = admitted {
        return refused.reply();
    }
    let bytes = match read_body(state, request).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let Some(claimed) = core::str::from_utf8(&bytes).ok().and_then(|t| Value::parse(t).ok()) else {
        return Reply::error(400, "bad_json", "the body is not JSON");
    };
    let (Some(job_id), Some(custom_id)) = (
        claimed.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()),
        claimed.get("customId").and_then(Value::as_str),
    ) else {
        return forged();
    };
    // A forged or altered token is refused here, before anything reaches the upstream.
    let Some(target) = callback::open(&config.proxy_secret, token, custom_id) else { return forged() };
    // A replay of a delivered callback is refused before it costs a GetJob upstream.
    if state.delivered.borrow().contains(job_id) {
        return already_delivered();
    }
    let reread = Envelope::new(Request::GetJob(GetJobRequest { id: job_id.into() }));
    let answer = match forward(state, &reread).await {
        Ok(answer) => answer,
        Err(reply) => return reply,
    };
    if answer.status == 404 {
        return forged();
    }
    let unverified = || Reply::error(502, "callback_unverified", "the job could not be re-read from the service");
    if !(200..300).contains(&answer.status) {
        return unverified();
    }
    let Ok(raw) = Value::parse(&answer.text) else { return unverified() };
    let Some(job) = raw.get("getJobResponse").and_then(|r| r.get("job")) else { return unverified() };
    let cx = webhook::Context {
        prefix: &config.prefix,
        scoped_models: config.models == Models::PerIdentity,
        key: &state.webhook_key,
        scrubber: &state.scrubber,
    };
    let delivery = match webhook::plan(job, custom_id, token, target, (now_ms() / 1000.0) as u64, &cx) {
        Ok(delivery) => delivery,
        Err(reply) => return reply,
    };
    if check_target(&delivery.target, &config.callback_targets).is_err() {
        return Reply::error(403, "callback_not_allowed", "the callback target is no longer allowed");
    }
    // Recorded before sending, so that a replay arriving meanwhile is refused too.
    if !state.delivered.borrow_mut().insert(job_id) {
        return already_delivered();
    }
    let headers = [
        ("webhook-id", delivery.id.as_str()),
        ("webhook-timestamp", delivery.timestamp.as_str()),
        ("webhook-signature", delivery.signature.as_str()),
    ];
    let timeout = config.upstream_timeout_ms;
    let sent =
        outbound::post(&delivery.target, &delivery.body, &headers, timeout, WEBHOOK_ANSWER_BYTES, state.fetch.as_ref())
            .await;
    match sent {
        Ok(answer) if (200..300).contains(&answer.status) => Reply::json(200, r#"{"delivered":true}"#.into()),
        _ => {
            state.delivered.borrow_mut().forget(job_id);
            Reply::error(502, "callback_delivery_failed", "the callback target did not accept the job")
        }
    }
}

fn already_delivered() -> Reply {
    Reply::error(409, "already_delivered", "this callback was delivered already")
}

#[wasm_bindgen(typescript_custom_section)]
const PROXY_TS: &str = r#"
/** The proxy's settings (docs/proxy.md). A wrong one makes `createProxyHandler` throw a `validation` error naming it. */
export interface ProxyConfig {
  /** The upstream base, as `https://service-….apigw.tencentcs.com/release`. */
  endpoint: string;
  /** The API key pair, added to every upstream body; at least 8 characters each. */
  secretId: string;
  secretKey: string;
  /** Signs session cookies and callback tokens (and webhooks without `webhookSecret`); at least 16 characters. */
  proxySecret: string;
  /** Origins (`https://app.example`) whose pages may call the proxy; `publicUrl`'s origin always may. */
  allowedOrigins: string[];
  /** Where the routes hang: `/api/singing-cloning` by default. */
  prefix?: string;
  /**
   * The proxy's address as the upstream reaches it: callbacks need it (they are refused
   * without it), and its origin counts as the proxy's own.
   */
  publicUrl?: string;
  /** Largest body accepted: 65536 by default. */
  maxBodyBytes?: number;
  /** Deepest JSON nesting accepted, 8 to 64: 32 by default. */
  maxDepth?: number;
  /** Time the upstream has to answer: 30000 ms by default. */
  upstreamTimeoutMs?: number;
  /** Signs every upstream request with an API Gateway key pair (HMAC-SHA1). */
  gateway?: { secretId: string; secretKey: string; source: string };
  /** The caller's identity, or null for 401. Without it, each browser gets an anonymous session cookie. Must not read the body. */
  authenticate?: (request: RequestLike) => string | null | undefined | Promise<string | null | undefined>;
  /** Replaces the global fetch for the proxy's outgoing requests (upstream and webhooks); Node servers pass `nodeFetch` from js/proxy-server.js. */
  fetch?: (request: RequestLike) => Promise<ResponseLike>;
  /** Whether trained models are visible to every identity or only to their trainer: `per-identity` by default. */
  models?: 'shared' | 'per-identity';
  policy?: {
    /** `true` by default. */
    allowTraining?: boolean;
    /** Most epochs of a training (1 to 50); also set on trainings that name none. */
    maxTotalEpoch?: number;
    /** The models callers may generate audio with, as they name them. */
    allowedModels?: string[];
  };
  /** A token bucket per identity: 60 requests, refilled at 1 per second, by default. */
  rateLimit?: { capacity: number; refillPerSecond: number };
  callbackTargets?: {
    /** Allow loopback, private, link-local and single-label hosts: `false` by default. */
    allowPrivate?: boolean;
    /** Only these hosts (`hooks.example.com`, `*.example.com`). */
    allowedHosts?: string[];
  };
  /** Signs forwarded callbacks (`whsec_<base64>` or any text); `proxySecret` when absent. */
  webhookSecret?: string;
  /** How long an anonymous session lasts from its issue, in seconds (60 to 400 days): 30 days by default. */
  sessionMaxAgeSeconds?: number;
  /** Requests of anonymous sessions per client address: 300, refilled at 5 per second, by default. */
  addressRateLimit?: { capacity: number; refillPerSecond: number };
  /** New anonymous sessions per client address: 60, refilled at one per 6 seconds, by default. */
  sessionRateLimit?: { capacity: number; refillPerSecond: number };
  /** New anonymous sessions in all: 1000, refilled at 10 per second, by default. */
  globalSessionRateLimit?: { capacity: number; refillPerSecond: number };
  /** Callbacks per client address (in all when it is unknown): 120, refilled at 2 per second, by default. */
  callbackRateLimit?: { capacity: number; refillPerSecond: number };
  /**
   * A header your own front proxy sets to the client's address (`x-real-ip`; of a list, the
   * last entry is read). Only behind such a proxy: clients can send any header.
   */
  clientAddressHeader?: string;
  /** The largest upstream answer read, in bytes: 4194304 by default; larger ones are a 502 `upstream_too_large`. */
  maxUpstreamBytes?: number;
}

/**
 * What the platform knows of a request's connection, `fetch`'s second argument: Node
 * servers pass `{ clientAddress }`; Deno's `Deno.serve` passes `{ remoteAddr }` itself.
 */
export interface ConnectionInfo {
  clientAddress?: string | null;
  remoteAddr?: { hostname?: string };
}
"#;
