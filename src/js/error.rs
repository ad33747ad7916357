//! The crate's [`Error`] as a JavaScript `Error` with a `code` and the details that apply.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::Error;

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error object cannot fail; a failure would only lose that detail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        let js = js_sys::Error::new(&error.message());
        js.set_name("SingingCloningError");
        set(&js, "code", &error.code().into());
        if let Some(status) = error.status() {
            set(&js, "status", &status.into());
        }
        if let Some(id) = error.request_id() {
            set(&js, "requestId", &id.into());
        }
        set(&js, "retryable", &error.is_retryable().into());
        if let Some(body) = error.body_excerpt() {
            set(&js, "body", &body.into());
        }
        match &error {
            Error::Validation { issues } => {
                set(&js, "issues", &super::value::to_js(&crate::model::value::to_value(issues)));
            }
            Error::Api { error_code: Some(code), .. } => set(&js, "apiCode", &code.into()),
            _ => {}
        }
        js.into()
    }
}

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TS: &str = r#"
/** What every function of this package throws or rejects with. */
export interface SingingCloningError extends Error {
  name: 'SingingCloningError';
  /** `not_ready`: a synchronous function called before `ready` resolved (or the WebAssembly failed to load). */
  code: 'validation' | 'api' | 'http' | 'network' | 'timeout' | 'aborted' | 'parse' | 'not_ready';
  /** The HTTP status of the answer, where there was one. */
  status?: number;
  /** The service's requestId, where the answer had one. */
  requestId?: string;
  /** Whether sending the same request again may succeed. */
  retryable: boolean;
  /** With `validation`: every broken rule. */
  issues?: Issue[];
  /** With `api`: the service's own error code. */
  apiCode?: string;
  /** At most 1024 characters of the answer's body. */
  body?: string;
}
"#;
