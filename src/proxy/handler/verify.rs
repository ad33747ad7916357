//! `verifyWebhook`: checks a message the proxy forwarded, for the receiving server. The
//! checks are the core's (`signing::verify_webhook`, `webhook::fault_issue`); this reads
//! the JavaScript arguments.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Headers;

use crate::error::{Error, IssueCode};
use crate::js::value::to_js;
use crate::model::Value;
use crate::proxy::{signing, webhook};
use crate::transport::now_ms;

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
        .ok_or_else(|| Error::validation("secret", IssueCode::Required, "must be the webhook secret"))?;
    if !message.is_object() {
        return Err(Error::validation("message", IssueCode::Type, "must be { headers, body }").into());
    }
    let headers = Reflect::get(&message, &"headers".into()).unwrap_or(JsValue::UNDEFINED);
    let header = |name: &str| header_of(&headers, name);
    let body = Reflect::get(&message, &"body".into()).unwrap_or(JsValue::UNDEFINED);
    let body = match body.as_string() {
        Some(text) => text,
        None => match body.dyn_ref::<Uint8Array>().map(|b| String::from_utf8(b.to_vec())) {
            Some(Ok(text)) => text,
            _ => {
                return Err(Error::validation(
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
                return Err(Error::validation(
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
        return Err(Error::Validation { issues: vec![webhook::fault_issue(fault)] }.into());
    }
    let payload =
        Value::parse(&body).map_err(|_| Error::validation("body", IssueCode::Type, "is signed but is not JSON"))?;
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
