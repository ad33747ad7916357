//! Reading the option objects JavaScript passes to the client. Option objects may hold
//! functions and signals, which are not JSON, so they are read property by property;
//! a wrong value is a `validation` error naming `options.<field>`.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::error::{Error, Issue, IssueCode};

/// An options argument: `undefined`, `null` or an object.
pub struct Options {
    object: JsValue,
    /// The argument's name in issue paths, e.g. `options`.
    name: &'static str,
}

fn invalid(name: &str, key: &str, code: IssueCode, message: &'static str) -> Error {
    let mut path = String::from(name);
    if !key.is_empty() {
        path.push('.');
        path.push_str(key);
    }
    Error::Validation { issues: vec![Issue { path, code, message }] }
}

impl Options {
    pub fn new(object: JsValue, name: &'static str) -> Result<Options, Error> {
        if object.is_undefined() || object.is_null() || object.is_object() {
            Ok(Options { object, name })
        } else {
            Err(invalid(name, "", IssueCode::Type, "must be an object"))
        }
    }

    /// The property, or `None` when absent, `undefined` or `null`.
    pub fn get(&self, key: &str) -> Option<JsValue> {
        if !self.object.is_object() {
            return None;
        }
        Reflect::get(&self.object, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                v.as_string().map(Some).ok_or_else(|| invalid(self.name, key, IssueCode::Type, "must be a string"))
            }
        }
    }

    /// A whole number from `min` to `max`.
    pub fn integer(&self, key: &str, min: u32, max: u32) -> Result<Option<u32>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(Some(n as u32)),
                Some(_) => Err(invalid(self.name, key, IssueCode::Range, "is out of range")),
                None => Err(invalid(self.name, key, IssueCode::Type, "must be a number")),
            },
        }
    }

    pub fn boolean(&self, key: &str) -> Result<bool, Error> {
        match self.get(key) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| invalid(self.name, key, IssueCode::Type, "must be true or false")),
        }
    }

    pub fn function(&self, key: &str) -> Result<Option<Function>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                v.dyn_into().map(Some).map_err(|_| invalid(self.name, key, IssueCode::Type, "must be a function"))
            }
        }
    }

    /// `signal`: an `AbortSignal`.
    pub fn signal(&self) -> Result<Option<AbortSignal>, Error> {
        match self.get("signal") {
            None => Ok(None),
            Some(v) => v
                .dyn_into()
                .map(Some)
                .map_err(|_| invalid(self.name, "signal", IssueCode::Type, "must be an AbortSignal")),
        }
    }
}
