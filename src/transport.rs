//! One HTTP POST of JSON text through `fetch`, with a per-attempt timeout and the caller's
//! `AbortSignal`; and a `sleep` that the same signal cuts short.
//!
//! The global `fetch` is bound as a global function, not through `Window` or
//! `WorkerGlobalScope`, so this runs in pages, web workers, edge workers, Deno and Node alike.
//! An abort rejects fetch with the signal's reason, which can be any value (a string,
//! `undefined`), so fetch never sees the caller's signal: it gets a controller of ours, and
//! the caller's reason is read from the caller's signal.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, Request, RequestInit, RequestRedirect, Response};

use crate::error::Error;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(id: &JsValue);
    // Looked up on each call, so a fetch installed after loading (a polyfill, a test's) is the one used.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(request: &Request) -> Result<JsValue, JsValue>;
}

/// What came back: the status, the `Retry-After` header and the body text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub text: String,
}

/// Why an attempt was cut short, set by the closures that abort our controller.
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    No,
    Timeout,
    Caller,
}

/// Links the caller's signal and a timer to a controller of ours for as long as it lives.
struct Attempt {
    controller: AbortController,
    cut: Rc<Cell<Cut>>,
    caller: Option<(AbortSignal, Closure<dyn FnMut()>)>,
    timer: Option<(JsValue, Closure<dyn FnMut()>)>,
}

impl Attempt {
    fn new(signal: Option<&AbortSignal>, timeout_ms: Option<u32>) -> Result<Attempt, Error> {
        if let Some(signal) = signal.filter(|s| s.aborted()) {
            return Err(aborted(signal));
        }
        let controller = AbortController::new().map_err(|_| network("AbortController is not available"))?;
        let cut = Rc::new(Cell::new(Cut::No));
        let abort = |why: Cut| {
            let (controller, cut) = (controller.clone(), cut.clone());
            move || {
                if cut.get() == Cut::No {
                    cut.set(why);
                    controller.abort_with_reason(&js_sys::Error::new("aborted").into());
                }
            }
        };
        let caller = signal.map(|signal| {
            let on_abort = Closure::<dyn FnMut()>::new(abort(Cut::Caller));
            let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
            (signal.clone(), on_abort)
        });
        let timer = timeout_ms.map(|ms| {
            let on_timeout = Closure::<dyn FnMut()>::new(abort(Cut::Timeout));
            (set_timeout(on_timeout.as_ref().unchecked_ref(), ms as f64), on_timeout)
        });
        Ok(Attempt { controller, cut, caller, timer })
    }

    /// A promise that settles once this attempt is cut (its timer or the caller's signal):
    /// resolved, or rejected when `reject`.
    fn when_cut(&self, reject: bool) -> Promise {
        let done = self.controller.signal();
        Promise::new(&mut |resolve, rejecter| {
            let settle = if reject { rejecter } else { resolve };
            if done.aborted() {
                let _ = settle.call0(&JsValue::UNDEFINED);
            } else {
                let _ = done.add_event_listener_with_callback("abort", &settle);
            }
        })
    }

    /// `promise`, or a rejection once this attempt is cut, whichever comes first. A caller's
    /// own `fetch` may not pass our signal on (WebKit drops it from `new Request(request, init)`),
    /// and the attempt's time limit and the caller's abort must hold all the same.
    fn or_cut(&self, promise: &Promise) -> JsFuture {
        JsFuture::from(Promise::race(&js_sys::Array::of2(promise, &self.when_cut(true))))
    }

    /// The error for a failure of this attempt: the abort that caused it, if any.
    fn error(&self, otherwise: Error) -> Error {
        match (self.cut.get(), &self.caller) {
            (Cut::Caller, Some((signal, _))) => aborted(signal),
            (Cut::Timeout, _) => Error::Timeout,
            _ => otherwise,
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Some((id, _)) = &self.timer {
            clear_timeout(id);
        }
        if let Some((signal, on_abort)) = &self.caller {
            let _ = signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
    }
}

fn network(message: &str) -> Error {
    Error::Network { message: message.into() }
}

/// The `aborted` error for a signal, its reason as text: an `Error`'s message, a
/// string as it is, anything else as JSON, `undefined` as "aborted".
pub fn aborted(signal: &AbortSignal) -> Error {
    Error::Aborted { reason: describe(&signal.reason()) }
}

/// Any JavaScript value as a short text, without throwing.
pub fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    if let Some(text) = value.as_string() {
        return text;
    }
    if value.is_undefined() {
        return "aborted".into();
    }
    js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "aborted".into())
}

/// POSTs `body` (JSON text) to `url` with the given extra headers, and reads the whole
/// answer. `fetch` replaces the global fetch when given (a caller's own, for tests or
/// instrumentation); whatever it returns or throws ends in a typed error.
///
/// Redirects are not followed: a 307 or 308 would send the body, credentials and all,
/// to wherever the answer points. A redirect ends as a `network` error.
pub async fn post_json(
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
    timeout_ms: Option<u32>,
    signal: Option<&AbortSignal>,
    fetch: Option<&Function>,
) -> Result<Answer, Error> {
    let attempt = Attempt::new(signal, timeout_ms)?;
    let request = json_post(url, body, headers, &attempt.controller.signal())
        .ok_or_else(|| network("the request could not be built"))?;
    let returned = fetch_with(&request, fetch).map_err(|e| attempt.error(network(&describe(&e))))?;
    let settled =
        attempt.or_cut(&Promise::resolve(&returned)).await.map_err(|e| attempt.error(network(&describe(&e))))?;
    let response: Response = settled.dyn_into().map_err(|_| network("fetch did not return a Response"))?;
    let status = response.status();
    // Browsers answer a redirect not followed with an opaque response of status 0; other runtimes with the 3xx.
    if status == 0 || (300..400).contains(&status) {
        return Err(network("the service answered with a redirect, which is not followed"));
    }
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = match response.text() {
        Ok(promise) => attempt.or_cut(&promise).await.map_err(|e| attempt.error(network(&describe(&e))))?,
        Err(e) => return Err(network(&describe(&e))),
    };
    Ok(Answer { status, retry_after, text: text.as_string().unwrap_or_default() })
}

/// A POST of the JSON text `body` to `url` with the extra `headers`, cut by `signal`, that does not
/// follow redirects; `None` when the platform refuses it (a malformed URL or header).
pub(crate) fn json_post(url: &str, body: &str, headers: &[(&str, &str)], signal: &AbortSignal) -> Option<Request> {
    let all = Headers::new().ok()?;
    all.set("content-type", "application/json").ok()?;
    for (name, value) in headers {
        all.set(name, value).ok()?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&all);
    init.set_body(&JsValue::from_str(body));
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(signal));
    Request::new_with_str_and_init(url, &init).ok()
}

/// Hands `request` to `fetch` (a caller's own, for tests or instrumentation) or to the global
/// fetch: what it returned (a promise, or anything a caller's function gives), or what it threw.
pub(crate) fn fetch_with(request: &Request, fetch: Option<&Function>) -> Result<JsValue, JsValue> {
    match fetch {
        Some(fetch) => fetch.call1(&JsValue::UNDEFINED, request),
        None => global_fetch(request),
    }
}

/// Waits `ms` milliseconds; the caller's signal ends the wait at once with `aborted`.
pub async fn sleep(ms: u32, signal: Option<&AbortSignal>) -> Result<(), Error> {
    let attempt = Attempt::new(signal, Some(ms))?;
    // Resolves when our controller aborts: on the timer or on the caller's signal.
    let _ = JsFuture::from(attempt.when_cut(false)).await;
    match attempt.cut.get() {
        Cut::Caller => Err(attempt.error(Error::Timeout)),
        _ => Ok(()),
    }
}

/// Milliseconds since the epoch, from the JavaScript clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A random number in [0, 1), for retry jitter.
pub fn random() -> f64 {
    js_sys::Math::random()
}
