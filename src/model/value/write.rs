//! A [`Value`] as compact JSON text.

use alloc::string::String;
use core::fmt::Write;

use super::Value;

impl Value {
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
                None => write_number(n.get(), out),
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
    // Runs of characters that need no escape go in one push: the proxy writes every answer.
    let mut start = 0;
    for (at, byte) in s.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // `at` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(s.get(start..at).unwrap_or_default());
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", byte);
        } else {
            out.push_str(escaped);
        }
        start = at + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
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
}
