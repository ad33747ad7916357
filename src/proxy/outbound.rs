//! The proxy's outgoing POSTs (to the upstream and to callback targets): I/O only, built
//! for wasm32. Unlike the client's transport, the answer is read from its stream with a
//! cap, so that an upstream answering without end cannot fill the proxy's memory.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStream, ReadableStreamDefaultReader, Response};

use super::upstream::Failure;
use crate::transport::{clear_timeout, fetch_with, json_post, set_timeout, Answer};

/// Aborts the request when the time is up, for as long as it lives.
struct Timer {
    id: JsValue,
    fired: Rc<Cell<bool>>,
    _on_timeout: Closure<dyn FnMut()>,
}

impl Timer {
    fn start(controller: &AbortController, ms: u32) -> Timer {
        let fired = Rc::new(Cell::new(false));
        let (flag, controller) = (fired.clone(), controller.clone());
        let on_timeout = Closure::<dyn FnMut()>::new(move || {
            flag.set(true);
            controller.abort_with_reason(&js_sys::Error::new("timed out").into());
        });
        let id = set_timeout(on_timeout.as_ref().unchecked_ref(), ms as f64);
        Timer { id, fired, _on_timeout: on_timeout }
    }

    fn failure(&self) -> Failure {
        if self.fired.get() {
            Failure::Timeout
        } else {
            Failure::Unreachable
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// How the proxy sends a request.
pub enum Sender<'a> {
    /// Through `fetch`: the config's, or the global one (`None`).
    Fetch(Option<&'a Function>),
    /// Through the Node server's `post(url, body, [name, value, …], timeoutMs, maxBytes)`
    /// (js/proxy-server.js), which resolves to `{ status, retryAfter, text }` and rejects
    /// with an error whose `code` is `timeout`, `too_large` or `unreachable`; `maxBytes`
    /// -1 reads none of the answer. It spares Node fetch's `Request` and `Response`.
    Post(&'a Function),
}

/// POSTs `body` (JSON) to `url` through `sender` and reads at most `max_bytes` of the
/// answer; `None` reads none of it (a webhook's target says what it needs to say with its
/// status).
pub async fn post(
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
    timeout_ms: u32,
    max_bytes: Option<usize>,
    sender: Sender<'_>,
) -> Result<Answer, Failure> {
    let fetch = match sender {
        Sender::Post(post) => return post_parts(post, url, body, headers, timeout_ms, max_bytes).await,
        Sender::Fetch(fetch) => fetch,
    };
    let controller = AbortController::new().map_err(|_| Failure::Unreachable)?;
    let timer = Timer::start(&controller, timeout_ms);
    let request = json_post(url, body, headers, &controller.signal()).ok_or(Failure::Unreachable)?;
    let returned = fetch_with(&request, fetch);
    let settled =
        JsFuture::from(Promise::resolve(&returned.map_err(|_| timer.failure())?)).await.map_err(|_| timer.failure())?;
    let response: Response = settled.dyn_into().map_err(|_| Failure::Unreachable)?;
    let status = response.status();
    // Browsers answer a redirect not followed with an opaque response of status 0; other runtimes with the 3xx.
    if status == 0 || (300..400).contains(&status) {
        cancel(&response);
        return Err(Failure::Unreachable);
    }
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let Some(max_bytes) = max_bytes else {
        cancel(&response);
        return Ok(Answer { status, retry_after, text: String::new() });
    };
    let declared = response.headers().get("content-length").ok().flatten().and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        cancel(&response);
        return Err(Failure::TooLarge);
    }
    let bytes = read_capped(&response, max_bytes).await.map_err(|failure| match failure {
        Failure::TooLarge => Failure::TooLarge,
        _ => timer.failure(),
    })?;
    drop(timer);
    // As `Response.text()` reads it: UTF-8, a byte order mark dropped, bad sequences replaced.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    Ok(Answer { status, retry_after, text: String::from_utf8_lossy(bytes).into_owned() })
}

/// [`post`] through the Node server's `post`.
async fn post_parts(
    post: &Function,
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
    timeout_ms: u32,
    max_bytes: Option<usize>,
) -> Result<Answer, Failure> {
    let flat = js_sys::Array::new();
    for (name, value) in [("content-type", "application/json")].iter().chain(headers) {
        flat.push(&(*name).into());
        flat.push(&(*value).into());
    }
    let max = max_bytes.map_or(-1.0, |m| m as f64);
    let args = js_sys::Array::of5(&url.into(), &body.into(), &flat, &timeout_ms.into(), &max.into());
    let returned = post.apply(&JsValue::UNDEFINED, &args).map_err(|_| Failure::Unreachable)?;
    let settled = JsFuture::from(Promise::resolve(&returned)).await.map_err(|error| {
        match Reflect::get(&error, &"code".into()).ok().and_then(|c| c.as_string()).as_deref() {
            Some("timeout") => Failure::Timeout,
            Some("too_large") => Failure::TooLarge,
            _ => Failure::Unreachable,
        }
    })?;
    let get = |key: &str| Reflect::get(&settled, &key.into()).ok();
    let status = get("status").and_then(|s| s.as_f64()).filter(|s| (100.0..600.0).contains(s)).map(|s| s as u16);
    let Some(status) = status.filter(|s| !(300..400).contains(s)) else { return Err(Failure::Unreachable) };
    let retry_after = get("retryAfter").and_then(|r| r.as_string());
    let text = get("text").and_then(|t| t.as_string()).unwrap_or_default();
    Ok(Answer { status, retry_after, text })
}

fn cancel(response: &Response) {
    if let Some(stream) = response.body() {
        let _ = stream.cancel();
    }
}

/// The body's bytes, stopping (and cancelling the stream) past `max` of them.
async fn read_capped(response: &Response, max: usize) -> Result<Vec<u8>, Failure> {
    read_stream(response.body(), max).await.map_err(|e| match e {
        StreamError::TooLarge => Failure::TooLarge,
        StreamError::Unreadable => Failure::Unreachable,
    })
}

/// Why a body stream could not be read whole.
pub enum StreamError {
    TooLarge,
    Unreadable,
}

/// A body stream's bytes (none for no stream), reading no further than `max` of them: past
/// it the stream is cancelled, so that its sender stops. Requests coming in and answers
/// coming back are both read this way.
pub async fn read_stream(stream: Option<ReadableStream>, max: usize) -> Result<Vec<u8>, StreamError> {
    let Some(stream) = stream else { return Ok(Vec::new()) };
    let reader = ReadableStreamDefaultReader::new(&stream).map_err(|_| StreamError::Unreadable)?;
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| StreamError::Unreadable)?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(out);
        }
        let value = Reflect::get(&chunk, &"value".into()).unwrap_or(JsValue::UNDEFINED);
        let Some(bytes) = value.dyn_ref::<Uint8Array>() else {
            let _ = reader.cancel();
            return Err(StreamError::Unreadable);
        };
        let start = out.len();
        let length = bytes.length() as usize;
        if start + length > max {
            let _ = reader.cancel();
            return Err(StreamError::TooLarge);
        }
        out.resize(start + length, 0);
        bytes.copy_to(&mut out[start..]);
    }
}
