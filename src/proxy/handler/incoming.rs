//! A request as the shell reads it: a fetch `Request` (Deno, Workers, any framework), or the
//! parts the Node server hands over (`ProxyHandler.handleParts`). Parts spare Node building
//! a `Request` and reading it back, which cost more than the proxy's own work. I/O only.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::{Request, RequestInit};

use crate::proxy::outbound::{read_stream, StreamError};

/// A request coming in.
pub struct Incoming {
    pub method: String,
    pub url: String,
    source: Source,
}

enum Source {
    Request(Request),
    /// Header names in lower case with their values (repeated names joined with `, `, as
    /// `Headers.get` joins them), and the body, read whole by the server.
    Parts {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

impl Incoming {
    pub fn from_request(request: Request) -> Incoming {
        Incoming { method: request.method(), url: request.url(), source: Source::Request(request) }
    }

    /// From `method`, an absolute `url`, headers as `[name, value, name, value, …]` (Node's
    /// `rawHeaders`) and the whole body.
    pub fn from_parts(method: String, url: String, raw_headers: &Array, body: Vec<u8>) -> Incoming {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut at = 0;
        while at + 1 < raw_headers.length() {
            let (name, value) = (raw_headers.get(at).as_string(), raw_headers.get(at + 1).as_string());
            at += 2;
            let (Some(name), Some(value)) = (name, value) else { continue };
            let name = name.to_ascii_lowercase();
            match headers.iter_mut().find(|(n, _)| *n == name) {
                Some((_, joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value.trim());
                }
                None => headers.push((name, value.trim().into())),
            }
        }
        Incoming { method, url, source: Source::Parts { headers, body } }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        match &self.source {
            Source::Request(request) => request.headers().get(name).ok().flatten(),
            Source::Parts { headers, .. } => headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
        }
    }

    /// The body, reading no further than `max` bytes of it.
    pub async fn body(&self, max: usize) -> Result<Vec<u8>, StreamError> {
        match &self.source {
            Source::Request(request) => read_stream(request.body(), max).await,
            Source::Parts { body, .. } if body.len() > max => Err(StreamError::TooLarge),
            Source::Parts { body, .. } => Ok(body.clone()),
        }
    }

    /// The request as a fetch `Request`, for the `authenticate` hook (which must not read the
    /// body, so one made from parts has none).
    pub fn request(&self) -> Option<Request> {
        match &self.source {
            Source::Request(request) => Some(Clone::clone(request)),
            Source::Parts { headers, .. } => {
                let all = web_sys::Headers::new().ok()?;
                for (name, value) in headers {
                    all.append(name, value).ok()?;
                }
                let init = RequestInit::new();
                init.set_method(&self.method);
                init.set_headers(&all);
                Request::new_with_str_and_init(&self.url, &init).ok()
            }
        }
    }
}

/// The bytes of a body the Node server read (a `Uint8Array`, or nothing).
pub fn body_bytes(body: &wasm_bindgen::JsValue) -> Vec<u8> {
    body.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).unwrap_or_default()
}
