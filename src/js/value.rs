//! JavaScript values to and from the core's [`Value`], walked by hand: smaller than a
//! serde bridge, and it can name the path of a value that is not JSON data.

use js_sys::{Array, JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Issue, IssueCode};
use crate::model::read::{push_index, push_key};
use crate::model::value::MAX_DEPTH;
use crate::model::Value;

/// A JavaScript object or array for a [`Value`], as `JSON.parse` would build it.
pub fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.get()),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(members) => {
            let object = Object::new();
            for (key, item) in members {
                // Defining a property on a fresh plain object cannot fail.
                let _ = Reflect::set(&object, &JsValue::from_str(key), &to_js(item));
            }
            object.into()
        }
    }
}

/// Reads a JavaScript value as JSON data. `undefined` members are left out, as
/// `JSON.stringify` does; functions, symbols, BigInts, non-finite numbers, cycles and
/// nesting past [`MAX_DEPTH`] are a `type` issue at their path.
pub fn from_js(value: &JsValue) -> Result<Value, Issue> {
    let mut path = String::new();
    read(value, &mut path, 0)
}

fn read(value: &JsValue, path: &mut String, depth: usize) -> Result<Value, Issue> {
    let refuse = |path: &String, message| Err(Issue { path: path.clone(), code: IssueCode::Type, message });
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        if !n.is_finite() {
            return refuse(path, "must be a finite number");
        }
        return Ok(Value::Number(n.into()));
    }
    if let Some(s) = value.dyn_ref::<JsString>() {
        return Ok(Value::String(s.into()));
    }
    if !value.is_object() {
        return refuse(path, "must be JSON data, not a function, symbol or BigInt");
    }
    if depth >= MAX_DEPTH {
        return refuse(path, "nests too deeply (or refers to itself)");
    }
    let mark = path.len();
    if let Some(array) = value.dyn_ref::<Array>() {
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            push_index(path, i);
            items.push(read(&item, path, depth + 1)?);
            path.truncate(mark);
        }
        return Ok(Value::Array(items));
    }
    let object: &Object = value.unchecked_ref();
    let mut members = Vec::new();
    for key in Object::keys(object).iter() {
        let Some(name) = key.as_string() else { continue };
        push_key(path, &name);
        // A getter or a Proxy may throw; that is bad input, not a crash.
        let item = match Reflect::get(object, &key) {
            Ok(item) => item,
            Err(_) => return refuse(path, "could not be read"),
        };
        if !item.is_undefined() {
            members.push((name, read(&item, path, depth + 1)?));
        }
        path.truncate(mark);
    }
    Ok(Value::Object(members))
}
