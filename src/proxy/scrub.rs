//! Keeps the secrets in: every answer the proxy sends passes through here, so neither
//! the API key pair nor any other configured secret reaches a caller, whether the
//! upstream echoes it, escapes it in JSON or puts it in an error message.

use alloc::string::String;
use alloc::vec::Vec;

use crate::model::Value;

/// What a secret becomes.
pub const REDACTED: &str = "[redacted]";

/// The secrets to remove, in every form they are looked for.
pub struct Scrubber {
    forms: Vec<String>,
}

impl Scrubber {
    /// Looks for each secret as it is, JSON-escaped, and percent-encoded.
    pub fn new(secrets: &[String]) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            let json = Value::String(secret.clone()).to_json();
            let escaped = String::from(&json[1..json.len() - 1]);
            for form in [secret.clone(), escaped.replace('/', "\\/"), escaped, percent_encode(secret)] {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        // Longest first, so that a secret containing another is removed whole.
        forms.sort_by_key(|f| core::cmp::Reverse(f.len()));
        Scrubber { forms }
    }

    /// Whether `text` holds a secret in any form.
    pub fn leaks(&self, text: &str) -> bool {
        // Most strings of an answer (keys, ids, states) are shorter than any form: no search is set up for them.
        let shortest = self.forms.last().map_or(usize::MAX, String::len);
        text.len() >= shortest && self.forms.iter().any(|f| text.contains(f.as_str()))
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        if !self.leaks(text) {
            return String::from(text);
        }
        let mut out = String::from(text);
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// Every string and key of a tree with secrets replaced.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) if self.leaks(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(members) => {
                for (key, item) in members.iter_mut() {
                    if self.leaks(key) {
                        *key = self.text(key);
                    }
                    self.value(item);
                }
            }
            _ => {}
        }
    }

    /// A body for a caller: JSON is cleaned as a tree (which sees through any escaping)
    /// and written again; anything else, and whatever the tree's text still shows, as text.
    pub fn body(&self, text: &str) -> String {
        match Value::parse(text) {
            Ok(mut value) => {
                self.value(&mut value);
                self.text(&value.to_json())
            }
            Err(_) => self.text(text),
        }
    }
}

fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(&["AKID/secret\"id".into(), "key+key".into(), String::new()])
    }

    #[test]
    fn removes_secrets_however_they_are_written() {
        let s = scrubber();
        let echoed =
            r#"{"secretId":"AKID\/secret\"id","note":"AKID\u002fsecret\"id","secretKey":"key+key","q":"a=key%2Bkey"}"#;
        let clean = s.body(echoed);
        assert!(!s.leaks(&clean), "{clean}");
        assert!(!clean.contains("AKID") && !clean.contains("key+key") && !clean.contains("key%2Bkey"), "{clean}");
        assert!(clean.contains(REDACTED));
        assert!(Value::parse(&clean).is_ok());
        let html = "<h1>bad key key+key</h1>";
        assert_eq!(s.body(html), "<h1>bad key [redacted]</h1>");
        assert_eq!(s.body("plain"), "plain");
    }

    #[test]
    fn cleans_keys_too() {
        let s = scrubber();
        let mut v = Value::parse(r#"{"key+key":1}"#).unwrap();
        s.value(&mut v);
        assert_eq!(v.to_json(), r#"{"[redacted]":1}"#);
    }
}
