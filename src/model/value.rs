//! A JSON value tree with its own small parser and writer.
//!
//! Validation needs the body as untyped data (to report every wrong type with
//! its path), and the page build must not carry serde_json, so the core parses
//! and prints JSON itself. Typed structs are read from a `Value` through serde
//! ([`Value::decode`]), so the wire model is declared once, with derives.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use serde::de::{self, IntoDeserializer, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize};

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

    /// A number read from its (checked) JSON text.
    fn parsed(text: &str) -> Number {
        Number {
            value: decimal_to_f64(text.as_bytes()),
            #[cfg(any(feature = "proxy", not(target_arch = "wasm32")))]
            text: Some(text.into()),
        }
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

/// Why a text is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxError {
    /// The text is not JSON at this byte offset.
    Invalid(usize),
    /// The text ends before the value does (a truncated body).
    Truncated,
    /// Arrays and objects nest deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl Value {
    /// Parses one JSON value, with nothing but white space around it.
    pub fn parse(text: &str) -> Result<Value, SyntaxError> {
        let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0 };
        let value = parser.value(0)?;
        parser.skip_space();
        if parser.pos < parser.bytes.len() {
            return Err(SyntaxError::Invalid(parser.pos));
        }
        Ok(value)
    }

    /// The member `key` of an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets the member `key` of an object, replacing an existing one; does nothing on a non-object.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(members) = self {
            match members.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key.into(), value)),
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

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match n.text() {
                Some(text) => out.push_str(text),
                None => write_number(n.value, out),
            },
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (key, item)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    item.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Reads a typed value from this tree through its serde `Deserialize`.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DecodeError> {
        T::deserialize(self)
    }
}

fn write_number(n: f64, out: &mut String) {
    if !n.is_finite() {
        out.push_str("null");
    } else if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        let _ = write!(out, "{}", n as i64);
    } else {
        let _ = write!(out, "{}", n);
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The value of a JSON number's text (already checked for its syntax). Exact (Clinger's
/// fast path) for up to 15 significant digits and exponents within ±22, which covers
/// every number of this API; beyond that within a few units in the last place (and
/// numbers within an ulp or two of `f64::MAX` may become infinite). Written
/// here because the standard library's correctly rounded parser costs page weight.
fn decimal_to_f64(text: &[u8]) -> f64 {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    let negative = text.first() == Some(&b'-');
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut digits = 0;
    let mut after_point = false;
    let mut rest = text.iter().skip(negative as usize);
    for &b in rest.by_ref() {
        match b {
            b'0'..=b'9' => {
                if digits < 19 {
                    mantissa = mantissa * 10 + (b - b'0') as u64;
                    if mantissa > 0 {
                        digits += 1;
                    }
                    exponent -= after_point as i64;
                } else {
                    exponent += !after_point as i64;
                }
            }
            b'.' => after_point = true,
            _ => break,
        }
    }
    let mut explicit: i64 = 0;
    let mut explicit_negative = false;
    for &b in rest {
        match b {
            b'-' => explicit_negative = true,
            b'0'..=b'9' => explicit = (explicit * 10 + (b - b'0') as i64).min(100_000),
            _ => {}
        }
    }
    exponent += if explicit_negative { -explicit } else { explicit };
    let m = mantissa as f64;
    let value = if mantissa == 0 {
        0.0
    } else if mantissa < (1 << 53) && (0..=22).contains(&exponent) {
        m * POW10[exponent as usize]
    } else if mantissa < (1 << 53) && (-22..0).contains(&exponent) {
        m / POW10[(-exponent) as usize]
    } else if exponent > 0 {
        m * 10f64.powi(exponent.min(400) as i32)
    } else {
        // Two steps, so that 1e-320-like values do not underflow through 10^-330.
        m / 10f64.powi((-exponent).min(400) as i32 / 2)
            / 10f64.powi((-exponent).min(400) as i32 - (-exponent).min(400) as i32 / 2)
    };
    if negative {
        -value
    } else {
        value
    }
}

/// Keeps each key once, at its first position with its last value, as `JSON.parse` does.
/// Duplicates are found by sorting the positions by key, in O(n log n) even for keys
/// chosen to collide: comparing each key with every earlier one made a body of many keys
/// cost quadratic time.
fn dedupe(members: &mut Vec<(String, Value)>) {
    let n = members.len();
    if n < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..n).collect();
    // By key, then by position: each run of one key lists its positions in order.
    heap_sort(&mut order, |&a, &b| {
        let (x, y) = (&members[a].0, &members[b].0);
        x < y || (x == y && a < b)
    });
    let mut keep = alloc::vec![true; n];
    let mut run = 0;
    for i in 1..=n {
        if i < n && members[order[i]].0 == members[order[run]].0 {
            continue;
        }
        if i - run > 1 {
            let last = core::mem::replace(&mut members[order[i - 1]].1, Value::Null);
            members[order[run]].1 = last;
            for &dropped in &order[run + 1..i] {
                keep[dropped] = false;
            }
        }
        run = i;
    }
    // Compacted in place, in order; the dropped members end up past the cut.
    let mut kept = 0;
    for (i, &k) in keep.iter().enumerate() {
        if k {
            members.swap(kept, i);
            kept += 1;
        }
    }
    members.truncate(kept);
}

/// Heapsort: O(n log n) in every case, in a few hundred bytes of WebAssembly, where the
/// standard library's sorts cost the page build several kilobytes.
fn heap_sort<T: Copy>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    fn sift<T: Copy>(items: &mut [T], mut root: usize, end: usize, less: &impl Fn(&T, &T) -> bool) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && less(&items[child], &items[child + 1]) {
                child += 1;
            }
            if !less(&items[root], &items[child]) {
                return;
            }
            items.swap(root, child);
            root = child;
        }
    }
    let n = items.len();
    for root in (0..n / 2).rev() {
        sift(items, root, n, &less);
    }
    for end in (1..n).rev() {
        items.swap(0, end);
        sift(items, 0, end, &less);
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Result<u8, SyntaxError> {
        self.bytes.get(self.pos).copied().ok_or(SyntaxError::Truncated)
    }

    fn expect(&mut self, byte: u8) -> Result<(), SyntaxError> {
        if self.peek()? != byte {
            return Err(SyntaxError::Invalid(self.pos));
        }
        self.pos += 1;
        Ok(())
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, SyntaxError> {
        for &b in word.as_bytes() {
            self.expect(b)?;
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.skip_space();
        match self.peek()? {
            b'n' => self.literal("null", Value::Null),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' | b'{' if depth >= MAX_DEPTH => Err(SyntaxError::TooDeep),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_space();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(SyntaxError::Invalid(self.pos)),
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_space();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                loop {
                    self.skip_space();
                    if self.peek()? != b'"' {
                        return Err(SyntaxError::Invalid(self.pos));
                    }
                    let key = self.string()?;
                    self.skip_space();
                    self.expect(b':')?;
                    let item = self.value(depth + 1)?;
                    members.push((key, item));
                    self.skip_space();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            dedupe(&mut members);
                            return Ok(Value::Object(members));
                        }
                        _ => return Err(SyntaxError::Invalid(self.pos)),
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(SyntaxError::Invalid(self.pos)),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        let int_start = self.pos;
        if self.digits() == 0 {
            return Err(self.invalid_or_truncated());
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            return Err(SyntaxError::Invalid(int_start));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.invalid_or_truncated());
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.invalid_or_truncated());
            }
        }
        // `get`, not indexing: the slice is ASCII, and indexing would bring in the page
        // build a panic path that formats its message.
        let text = self.text.get(start..self.pos).unwrap_or_default();
        Ok(Value::Number(Number::parsed(text)))
    }

    fn invalid_or_truncated(&self) -> SyntaxError {
        if self.pos >= self.bytes.len() {
            SyntaxError::Truncated
        } else {
            SyntaxError::Invalid(self.pos)
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = (self.peek()? as char).to_digit(16).ok_or(SyntaxError::Invalid(self.pos))?;
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run stops only at ASCII bytes, so it ends on a character boundary.
            out.push_str(self.text.get(start..self.pos).ok_or(SyntaxError::Invalid(start))?);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escape = self.peek()?;
                    self.pos += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high)
                                && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(SyntaxError::Invalid(self.pos));
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            // A lone surrogate cannot be held in a Rust string; JSON.parse keeps it, we replace it.
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(SyntaxError::Invalid(self.pos - 1)),
                    };
                    out.push(c);
                }
                _ => return Err(SyntaxError::Invalid(self.pos)),
            }
        }
    }
}

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

impl de::StdError for NoError {}

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
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NoError> {
        self.items.push(to_value(value));
        Ok(())
    }
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), NoError> {
        self.members.push((key.into(), to_value(value)));
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
                self.push(value)
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
        self.field(key, value)
    }
    fn end(self) -> Result<Value, NoError> {
        self.object()
    }
}

impl serde::ser::SerializeStructVariant for Collect {
    type Ok = Value;
    type Error = NoError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), NoError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Value, NoError> {
        self.object()
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
    fn parses_and_prints_round_trip() {
        let text = r#"{"a":[1,-2.5,true,false,null],"b":"x\"y\\n\u00e9\ud83c\udfb5","c":{}}"#;
        let value = Value::parse(text).unwrap();
        assert_eq!(value.get("b").unwrap().as_str(), Some("x\"y\\né🎵"));
        assert_eq!(Value::parse(&value.to_json()).unwrap(), value);
        assert_eq!(value.to_json(), r#"{"a":[1,-2.5,true,false,null],"b":"x\"y\\né🎵","c":{}}"#);
    }

    #[test]
    fn agrees_with_serde_json_on_numbers_and_escapes() {
        for text in ["0", "-0.5", "1e3", "1.5E-7", "12345678901234", "\"\\u0001\\t\"", "[[],{}]"] {
            let ours = Value::parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let back: serde_json::Value = serde_json::from_str(&ours.to_json()).unwrap();
            assert_eq!(back.as_f64().or(theirs.as_f64()), theirs.as_f64(), "{text}");
            if !theirs.is_number() {
                assert_eq!(back, theirs, "{text}");
            }
        }
    }

    #[test]
    fn numbers_parse_like_the_standard_library() {
        for text in [
            "0",
            "-0",
            "7",
            "-12",
            "1603432763000",
            "9007199254740991",
            "0.5",
            "-2.25",
            "1e3",
            "1E+2",
            "2.5e-3",
            "123.456",
            "0.1",
            "1e22",
            "4.35",
            "100000000000000000000",
            "1.5e300",
            "5e-324",
            "1e400",
            "12345678901234567890123",
        ] {
            let ours = match Value::parse(text).unwrap() {
                Value::Number(n) => n.get(),
                other => panic!("{other:?}"),
            };
            let std: f64 = text.parse().unwrap();
            let close = ours == std || ((ours - std) / std).abs() < 1e-15;
            assert!(close, "{text}: {ours} vs {std}");
        }
    }

    #[test]
    fn heap_sort_sorts_like_the_standard_library() {
        let mut seed = 7u64;
        for n in 0..200 {
            let mut items: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut expected = items.clone();
            expected.sort();
            heap_sort(&mut items, |a, b| a < b);
            assert_eq!(items, expected, "{n}");
        }
    }

    #[test]
    fn tells_truncated_from_invalid() {
        assert_eq!(Value::parse(r#"{"a": [1, 2"#), Err(SyntaxError::Truncated));
        assert_eq!(Value::parse(r#"{"a": "x"#), Err(SyntaxError::Truncated));
        assert_eq!(Value::parse(""), Err(SyntaxError::Truncated));
        assert_eq!(Value::parse("<html>"), Err(SyntaxError::Invalid(0)));
        assert_eq!(Value::parse("{} x"), Err(SyntaxError::Invalid(3)));
        assert_eq!(Value::parse("01"), Err(SyntaxError::Invalid(0)));
        assert_eq!(Value::parse("[1,]"), Err(SyntaxError::Invalid(3)));
        assert!(matches!(Value::parse("\"\u{1}\""), Err(SyntaxError::Invalid(_))));
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let deep = "[".repeat(100_000);
        assert_eq!(Value::parse(&deep), Err(SyntaxError::TooDeep));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Value::parse(&ok).is_ok());
    }

    #[test]
    fn deserializes_from_other_formats_with_a_depth_limit() {
        let v: Value = serde_json::from_str(r#"{"a":[1,{"b":null}]}"#).unwrap();
        assert_eq!(v, Value::parse(r#"{"a":[1,{"b":null}]}"#).unwrap());
        let mut deep = "[".repeat(MAX_DEPTH + 1);
        deep.push_str(&"]".repeat(MAX_DEPTH + 1));
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }

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
