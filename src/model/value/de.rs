//! A [`Value`] to typed data ([`Value::decode`]): a serde deserializer over the tree; and
//! `Deserialize` for the tree itself, reading any self-describing data with a depth limit.

use alloc::string::String;
use alloc::vec::Vec;

use serde::de::{self, IntoDeserializer, Visitor};
use serde::Deserialize;

use super::{Value, MAX_DEPTH};

impl Value {
    /// Reads a typed value from this tree through its serde `Deserialize`.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DecodeError> {
        T::deserialize(self)
    }
}

/// A `Value` did not have the shape of the type read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError;

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the JSON does not have the expected shape")
    }
}

impl de::StdError for DecodeError {}

impl de::Error for DecodeError {
    // The message is dropped on purpose: formatting it costs page weight, and
    // callers report their own static, field-named messages.
    fn custom<T: core::fmt::Display>(_msg: T) -> Self {
        DecodeError
    }
}

impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                let n = n.get();
                if n.fract() == 0.0 && (0.0..1.8e19).contains(&n) {
                    visitor.visit_u64(n as u64)
                } else if n.fract() == 0.0 && n > -9.2e18 && n < 0.0 {
                    visitor.visit_i64(n as i64)
                } else {
                    visitor.visit_f64(n)
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(de::value::SeqDeserializer::new(items.iter())),
            Value::Object(members) => {
                visitor.visit_map(de::value::MapDeserializer::new(members.iter().map(|(k, v)| (k.as_str(), v))))
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, DecodeError> for &'de Value {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Reads any self-describing data (a JavaScript value, for one) as a tree, refusing
    /// nesting deeper than [`MAX_DEPTH`], so that a cyclic or hostile object cannot
    /// exhaust the stack.
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        de::DeserializeSeed::deserialize(ValueSeed { depth: 0 }, deserializer)
    }
}

#[derive(Clone, Copy)]
struct ValueSeed {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;
    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("JSON data")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::DeserializeSeed::deserialize(self, d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number((n as f64).into()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number((n as f64).into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut members: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let item = map.next_value_seed(inner)?;
            members.push((key, item));
        }
        Ok(Value::Object(members))
    }
}

impl ValueSeed {
    fn nested<E: de::Error>(self) -> Result<ValueSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("nested too deeply"));
        }
        Ok(ValueSeed { depth: self.depth + 1 })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn deserializes_from_other_formats_with_a_depth_limit() {
        let v: Value = serde_json::from_str(r#"{"a":[1,{"b":null}]}"#).unwrap();
        assert_eq!(v, Value::parse(r#"{"a":[1,{"b":null}]}"#).unwrap());
        let mut deep = "[".repeat(MAX_DEPTH + 1);
        deep.push_str(&"]".repeat(MAX_DEPTH + 1));
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }

    #[test]
    fn decodes_typed_values() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct T {
            a: u32,
            b: Option<String>,
            c: Vec<i64>,
        }
        let v = Value::parse(r#"{"a":7,"b":null,"c":[-1,2],"z":{"ignored":1}}"#).unwrap();
        assert_eq!(v.decode::<T>(), Ok(T { a: 7, b: None, c: vec![-1, 2] }));
        assert!(Value::parse(r#"{"a":"7","c":[]}"#).unwrap().decode::<T>().is_err());
        assert!(Value::parse(r#"{"a":1.5,"c":[]}"#).unwrap().decode::<T>().is_err());
    }
}
