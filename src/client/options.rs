//! Reading the option objects JavaScript passes to the client. Option objects may hold
//! functions and signals, which are not JSON, so they are read property by property: data
//! through the core's [`Reader`], so that a wrong value has the code and message it has in
//! a request body or the proxy's config; the first wrong value is a `validation` error
//! naming `options.<field>`.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::error::{Error, IssueCode};
use crate::model::read::{Field, Path, Reader};
use crate::model::Value;

/// An options argument: `undefined`, `null` or an object.
pub struct Options {
    object: JsValue,
    /// The argument's name in issue paths, e.g. `options`.
    name: &'static str,
}

/// A property as the reader sees it. Only strings, numbers and booleans are read as data
/// here, so anything else stands in as an empty object: the reader only needs to know that
/// it is none of them. Non-finite numbers stay, to be reported as out of range.
fn data(value: &JsValue) -> Value {
    if let Some(s) = value.as_string() {
        Value::String(s)
    } else if let Some(n) = value.as_f64() {
        Value::Number(n.into())
    } else if let Some(b) = value.as_bool() {
        Value::Bool(b)
    } else {
        Value::Object(Vec::new())
    }
}

/// What a data property must be.
enum Kind {
    /// A string, empty too.
    String,
    /// A whole number from the first to the second.
    Integer(u32, u32),
    /// `true` or `false`.
    Boolean,
}

impl Options {
    /// The argument `object`, named `name` in issue paths.
    pub fn new(object: JsValue, name: &'static str) -> Result<Options, Error> {
        if object.is_undefined() || object.is_null() || object.is_object() {
            Ok(Options { object, name })
        } else {
            Err(Error::validation(name, IssueCode::Type, "must be an object"))
        }
    }

    /// The property, or `None` when absent, `undefined` or `null`.
    pub fn get(&self, key: &str) -> Option<JsValue> {
        if !self.object.is_object() {
            return None;
        }
        Reflect::get(&self.object, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// The property `key` as data, once the reader found it to be of `kind`; what the
    /// reader reports is the error. One body for every kind of property, not one per
    /// kind: copies cost page weight.
    fn read(&self, key: &str, kind: Kind) -> Result<Option<Value>, Error> {
        let value = self.get(key).map(|v| data(&v));
        let root = Path::Root;
        let name = Path::Key(&root, self.name);
        let field = Field::new(value.as_ref(), Path::Key(&name, key));
        let mut reader = Reader::default();
        match kind {
            Kind::String => _ = reader.string(field, false),
            Kind::Integer(min, max) => _ = reader.number_in(field, min as f64, max as f64, true),
            Kind::Boolean => _ = reader.boolean(field, "must be true or false"),
        }
        reader.finish(value).map_err(Error::from)
    }

    /// A `type` error at the property `key`, for the values that are not data.
    fn not_a(&self, key: &str, message: &'static str) -> Error {
        let root = Path::Root;
        let name = Path::Key(&root, self.name);
        Error::validation(&Path::Key(&name, key).rendered(), IssueCode::Type, message)
    }

    /// A string, empty too.
    pub fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.read(key, Kind::String)? {
            Some(Value::String(s)) => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// A whole number from `min` to `max`.
    pub fn integer(&self, key: &str, min: u32, max: u32) -> Result<Option<u32>, Error> {
        match self.read(key, Kind::Integer(min, max))? {
            Some(Value::Number(n)) => Ok(Some(n.get() as u32)),
            _ => Ok(None),
        }
    }

    /// A boolean; `false` when absent.
    pub fn boolean(&self, key: &str) -> Result<bool, Error> {
        Ok(matches!(self.read(key, Kind::Boolean)?, Some(Value::Bool(true))))
    }

    /// A function.
    pub fn function(&self, key: &str) -> Result<Option<Function>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.dyn_into().map(Some).map_err(|_| self.not_a(key, "must be a function")),
        }
    }

    /// `signal`: an `AbortSignal`.
    pub fn signal(&self) -> Result<Option<AbortSignal>, Error> {
        match self.get("signal") {
            None => Ok(None),
            Some(v) => v.dyn_into().map(Some).map_err(|_| self.not_a("signal", "must be an AbortSignal")),
        }
    }
}
