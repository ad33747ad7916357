//! What the shell asks of the JavaScript platform: its URL parser, its random source, a
//! request's headers and body, and the `Response` a reply becomes. I/O only.

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Headers, ReadableStream, Response, ResponseInit};

use crate::proxy::callback::{self, ParsedUrl, Refusal};
use crate::proxy::config::CallbackTargets;
use crate::proxy::reply::Reply;
use crate::proxy::scrub::Scrubber;

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

/// Whether one request may write to an object of another, as the proxy's event streams
/// want: not on Cloudflare Workers (workerd), where `navigator.userAgent` is
/// `Cloudflare-Workers` and such a write breaks the stream ("Promise will never complete").
pub fn shares_io_across_requests() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    let agent = Reflect::get(&navigator, &"userAgent".into()).ok().and_then(|a| a.as_string());
    agent.as_deref() != Some("Cloudflare-Workers")
}

/// Checks a callback target as `fetch` will read it: parsed by the platform's `URL`,
/// then the pure check of the parsed parts.
pub fn check_target(target: &str, rules: &CallbackTargets) -> Result<(), Refusal> {
    let url = WhatwgUrl::new(target).map_err(|_| Refusal::Malformed)?;
    let (protocol, username, password, hostname) = (url.protocol(), url.username(), url.password(), url.hostname());
    let parsed = ParsedUrl { protocol: &protocol, username: &username, password: &password, hostname: &hostname };
    callback::check_target(&parsed, rules)
}

/// 16 bytes from the platform's cryptographic random source.
pub fn random_bytes() -> Option<[u8; 16]> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let fill = Reflect::get(&crypto, &"getRandomValues".into()).ok()?.dyn_into::<Function>().ok()?;
    let array = Uint8Array::new_with_length(16);
    fill.call1(&crypto, &array).ok()?;
    let mut out = [0u8; 16];
    array.copy_to(&mut out);
    Some(out)
}

/// The client's address as the platform gives it in `fetch`'s second argument:
/// `{ clientAddress }` or Deno's `{ remoteAddr: { hostname } }`.
pub fn platform_address(info: &JsValue) -> Option<String> {
    if !info.is_object() {
        return None;
    }
    let get = |target: &JsValue, key: &str| Reflect::get(target, &key.into()).ok().filter(|v| !v.is_undefined());
    if let Some(address) = get(info, "clientAddress").and_then(|v| v.as_string()) {
        return Some(address);
    }
    get(info, "remoteAddr").and_then(|r| get(&r, "hostname")).and_then(|v| v.as_string())
}

/// The `Response` for a reply, scrubbed one last time, its body `stream` when there is one
/// (the events route; what it carries is scrubbed as it is made); a reply that cannot
/// become one (it cannot happen with the headers the proxy writes) becomes a bare 500.
pub fn to_response(reply: Reply, stream: Option<&ReadableStream>, scrubber: &Scrubber) -> Response {
    let build = || -> Result<Response, JsValue> {
        let headers = Headers::new()?;
        for (name, value) in &reply.headers {
            headers.append(name, &scrubber.text(value))?;
        }
        let init = ResponseInit::new();
        init.set_status(reply.status);
        init.set_headers(&headers);
        if let Some(stream) = stream {
            return Response::new_with_opt_readable_stream_and_init(Some(stream), &init);
        }
        let body = reply.body.as_deref().map(|b| scrubber.text(b));
        Response::new_with_opt_str_and_init(body.as_deref(), &init)
    };
    build().or_else(|_| Response::new_with_opt_str(None)).unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into())
}

/// A reply as parts for the Node server (see `ProxyHandler.handleParts`), scrubbed one last
/// time like [`to_response`]'s: `[status, [name, value, …], body, stream]`, a list rather
/// than an object because setting an object's members from WebAssembly costs more.
pub fn to_parts(reply: Reply, stream: Option<&ReadableStream>, scrubber: &Scrubber) -> JsValue {
    let headers = js_sys::Array::new();
    for (name, value) in &reply.headers {
        headers.push(&(*name).into());
        headers.push(&scrubber.text(value).into());
    }
    let body = reply.body.as_deref().map(|b| JsValue::from(scrubber.text(b))).unwrap_or(JsValue::NULL);
    let stream = stream.map_or(JsValue::NULL, |s| s.clone().into());
    js_sys::Array::of4(&reply.status.into(), &headers, &body, &stream).into()
}
