//! Typed data to a [`Value`] ([`to_value`]): a serde serializer, and `Serialize` for the
//! tree itself, so that a `Value` can be written by any serde format.

use alloc::string::String;
use alloc::vec::Vec;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::Serialize;

use super::Value;

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => serializer.serialize_f64(n.get()),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, item) in members {
                    map.serialize_entry(key, item)?;
                }
                map.end()
            }
        }
    }
}

/// Writes any `Serialize` type as a `Value`: the one way typed data becomes wire JSON,
/// natively (then [`Value::to_json`]) and in the page (then a JavaScript object).
#[inline]
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    // The serializer below never fails; the types it cannot represent become null.
    value.serialize(ValueSerializer).unwrap_or(Value::Null)
}

/// A serde serializer into [`Value`]. Maps with non-string keys and other shapes
/// JSON cannot hold write `null`, never an error.
struct ValueSerializer;

/// Never produced; the serializer's error type.
#[derive(Debug)]
pub struct NoError;

impl core::fmt::Display for NoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unrepresentable value")
    }
}

impl serde::ser::StdError for NoError {}

impl serde::ser::Error for NoError {
    fn custom<T: core::fmt::Display>(_msg: T) -> Self {
        NoError
    }
}

/// A sequence or map under construction.
struct Collect {
    items: Vec<Value>,
    members: Vec<(String, Value)>,
    key: Option<String>,
    /// For an enum variant with data: `{variant: ...}`.
    variant: Option<&'static str>,
}

impl Collect {
    fn new(variant: Option<&'static str>) -> Self {
        Collect { items: Vec::new(), members: Vec::new(), key: None, variant }
    }

    /// `value`, inside `{variant: …}` for an enum variant with data.
    fn wrap(variant: Option<&'static str>, value: Value) -> Value {
        match variant {
            Some(name) => Value::Object(alloc::vec![(name.into(), value)]),
            None => value,
        }
    }
}

macro_rules! serialize_number {
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<Value, NoError> {
            Ok(Value::Number((v as f64).into()))
        })*
    };
}

impl serde::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = NoError;
    type SerializeSeq = Collect;
    type SerializeTuple = Collect;
    type SerializeTupleStruct = Collect;
    type SerializeTupleVariant = Collect;
    type SerializeMap = Collect;
    type SerializeStruct = Collect;
    type SerializeStructVariant = Collect;

    serialize_number!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_f32: f32, serialize_f64: f64);

    fn serialize_bool(self, v: bool) -> Result<Value, NoError> {
        Ok(Value::Bool(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, NoError> {
        Ok(Value::String(v.into()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, NoError> {
        Ok(Value::String(v.into()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, NoError> {
        Ok(Value::Array(v.iter().map(|&b| Value::Number((b as f64).into())).collect()))
    }
    fn serialize_none(self) -> Result<Value, NoError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, NoError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, NoError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, NoError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, NoError> {
        Ok(Value::String(variant.into()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<Value, NoError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, NoError> {
        Ok(Collect::wrap(Some(variant), to_value(value)))
    }
    // Shorter than the default through `serialize_seq`, once for each type of item.
    fn collect_seq<I: IntoIterator>(self, items: I) -> Result<Value, NoError>
    where
        I::Item: Serialize,
    {
        let mut out = Vec::new();
        for item in items {
            out.push(to_value(&item));
        }
        Ok(Value::Array(out))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Collect, NoError> {
        Ok(Collect::new(None))
    }
    fn serialize_tuple(self, _: usize) -> Result<Collect, NoError> {
        Ok(Collect::new(None))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Collect, NoError> {
        Ok(Collect::new(None))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Collect, NoError> {
        Ok(Collect::new(Some(variant)))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Collect, NoError> {
        Ok(Collect::new(None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Collect, NoError> {
        Ok(Collect::new(None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Collect, NoError> {
        Ok(Collect::new(Some(variant)))
    }
}

impl Collect {
    // Not generic, so that each type serialized adds only its call of `to_value`.
    fn push(&mut self, value: Value) -> Result<(), NoError> {
        self.items.push(value);
        Ok(())
    }
    fn field(&mut self, key: &str, value: Value) -> Result<(), NoError> {
        self.members.push((key.into(), value));
        Ok(())
    }
    fn array(self) -> Result<Value, NoError> {
        Ok(Collect::wrap(self.variant, Value::Array(self.items)))
    }
    fn object(self) -> Result<Value, NoError> {
        Ok(Collect::wrap(self.variant, Value::Object(self.members)))
    }
}

/// The four serde shapes that are a JSON array: elements pushed in order.
macro_rules! serialize_as_array {
    ($($trait:ident :: $method:ident),+) => {
        $(impl serde::ser::$trait for Collect {
            type Ok = Value;
            type Error = NoError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NoError> {
                self.push(to_value(value))
            }
            fn end(self) -> Result<Value, NoError> {
                self.array()
            }
        })+
    };
}

serialize_as_array!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl serde::ser::SerializeMap for Collect {
    type Ok = Value;
    type Error = NoError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NoError> {
        self.key = match to_value(key) {
            Value::String(key) => Some(key),
            _ => None,
        };
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NoError> {
        // A key JSON cannot hold drops its entry.
        if let Some(key) = self.key.take() {
            self.members.push((key, to_value(value)));
        }
        Ok(())
    }
    fn end(self) -> Result<Value, NoError> {
        self.object()
    }
}

impl serde::ser::SerializeStruct for Collect {
    type Ok = Value;
    type Error = NoError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), NoError> {
        self.field(key, to_value(value))
    }
    fn end(self) -> Result<Value, NoError> {
        self.object()
    }
}

impl serde::ser::SerializeStructVariant for Collect {
    type Ok = Value;
    type Error = NoError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), NoError> {
        self.field(key, to_value(value))
    }
    fn end(self) -> Result<Value, NoError> {
        self.object()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn typed_values_write_the_same_json_as_serde_json() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct T {
            a_b: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            none: Option<u8>,
            some: Option<&'static str>,
            list: Vec<i64>,
            nested: (bool, f64),
            unit: E,
            newtype: E,
            tuple: E,
            strukt: E,
        }
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tup(u8, u8),
            Struct { x: u8 },
        }
        let t = T {
            a_b: 1,
            none: None,
            some: Some("s"),
            list: vec![-1, 2],
            nested: (true, 0.5),
            unit: E::Unit,
            newtype: E::New(1),
            tuple: E::Tup(1, 2),
            strukt: E::Struct { x: 3 },
        };
        let ours: serde_json::Value = serde_json::from_str(&to_value(&t).to_json()).unwrap();
        assert_eq!(ours, serde_json::to_value(&t).unwrap());
    }
}
