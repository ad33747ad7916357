//! A JSON value tree with its own small parser and writer.
//!
//! Validation needs the body as untyped data (to report every wrong type with
//! its path), and the page build must not carry serde_json, so the core parses
//! and prints JSON itself. Typed structs are read from a `Value` through serde
//! ([`Value::decode`]), so the wire model is declared once, with derives.
//!
//! By job: the tree and its lookups here; `parse` reads JSON text, `write` prints it,
//! `ser` turns any `Serialize` type into a tree ([`to_value`]), `de` reads typed values
//! back out of one ([`Value::decode`]) and any self-describing data into one.

use alloc::string::String;
use alloc::vec::Vec;

mod de;
mod parse;
mod ser;
mod write;

pub use de::DecodeError;
pub use parse::SyntaxError;
pub use ser::{to_value, NoError};

/// Nesting deeper than this is refused by the parser, so that no input can
/// exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Any JSON value. Objects keep their keys in the order they came in.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A JSON number: its value, and, when it was parsed from JSON text, that text, which
/// [`Value::to_json`] writes back unchanged. The proxy relays the upstream's answers
/// through this tree, and an `f64` alone would change 17-digit doubles, integers past
/// 2^53 and `1.7976931348623157e308` on the way through.
///
/// The page build (WebAssembly without the proxy) keeps no text: it never writes back
/// JSON it read, and the text costs it page weight.
#[derive(Debug, Clone)]
pub struct Number {
    value: f64,
    /// Only the parser sets it, so it is always a valid JSON number.
    #[cfg(any(feature = "proxy", not(target_arch = "wasm32")))]
    text: Option<Box<str>>,
}

impl Number {
    /// The number's value (the nearest `f64`; see the parser for its precision).
    pub fn get(&self) -> f64 {
        self.value
    }

    /// The JSON text the number was parsed from; `None` for a number made in Rust (and
    /// always in the page build).
    pub fn text(&self) -> Option<&str> {
        #[cfg(any(feature = "proxy", not(target_arch = "wasm32")))]
        return self.text.as_deref();
        #[cfg(not(any(feature = "proxy", not(target_arch = "wasm32"))))]
        None
    }
}

impl From<f64> for Number {
    fn from(value: f64) -> Number {
        Number {
            value,
            #[cfg(any(feature = "proxy", not(target_arch = "wasm32")))]
            text: None,
        }
    }
}

/// Numbers are equal when their values are: `1.0` and `1` are the same number.
impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.value == other.value
    }
}

impl Value {
    /// The member `key` of an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key` of an object, unless it is missing or `null`: JavaScript callers
    /// pass `undefined` and `null` alike for a field they leave out.
    pub fn get_non_null(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !matches!(v, Value::Null))
    }

    /// The member `key` of an object, mutably; `None` for a missing key or a non-object.
    /// The same search as [`Value::get`], to the instruction: the two compile to one function.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets the member `key` of an object, replacing an existing one; does nothing on a non-object.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                if let Value::Object(members) = self {
                    members.push((key.into(), value));
                }
            }
        }
    }

    /// Removes the member `key` of an object and returns it.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        match self {
            Value::Object(members) => {
                let at = members.iter().position(|(k, _)| k == key)?;
                Some(members.remove(at).1)
            }
            _ => None,
        }
    }

    /// The text of a string; `None` for any other value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON type's name, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// How deeply arrays and objects nest in the value (a scalar is 0, `{}` is 1).
    pub fn depth(&self) -> usize {
        match self {
            Value::Array(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Object(members) => 1 + members.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
    /// The same tree without `null` members in objects: what an optional field left
    /// unset looks like on the wire.
    pub fn without_nulls(&self) -> Value {
        match self {
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .filter(|(_, v)| *v != Value::Null)
                    .map(|(k, v)| (k.clone(), v.without_nulls()))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(Value::without_nulls).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn looks_members_up_one_way() {
        let mut v = Value::parse(r#"{"a":1,"b":null}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Number(1.0.into())));
        assert_eq!(v.get("b"), Some(&Value::Null));
        assert_eq!(v.get_non_null("b"), None);
        v.set("a", Value::Bool(true));
        v.set("c", Value::Array(Vec::new()));
        *v.get_mut("b").unwrap() = Value::String("x".into());
        assert_eq!(v.to_json(), r#"{"a":true,"b":"x","c":[]}"#);
        assert_eq!(v.remove("a"), Some(Value::Bool(true)));
        assert_eq!(v.remove("a"), None);
        assert_eq!(Value::Null.get("a"), None);
        let mut not_object = Value::Array(Vec::new());
        not_object.set("a", Value::Null);
        assert_eq!(not_object, Value::Array(Vec::new()));
    }

    #[test]
    fn measures_depth() {
        assert_eq!(Value::parse("1").unwrap().depth(), 0);
        assert_eq!(Value::parse(r#"{"a":[{"b":[]}]}"#).unwrap().depth(), 4);
    }
}
