//! JSON text to a [`Value`]: a strict parser with a depth limit, duplicate keys resolved as
//! `JSON.parse` does, and numbers read without the standard library's float parser.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Number, Value, MAX_DEPTH};

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
}

impl Number {
    /// A number read from its (checked) JSON text.
    fn parsed(text: &str) -> Number {
        Number {
            value: decimal_to_f64(text.as_bytes()),
            #[cfg(any(feature = "proxy", not(target_arch = "wasm32")))]
            text: Some(text.into()),
        }
    }
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

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
}
