//! CreateJob once, even when a browser sends it twice. Chromium resends a request (a POST
//! included) by itself when a reused connection closes before any byte of the answer, and
//! no page code can see that; a page's client that retries after an ambiguous failure
//! looks its job up first, but two copies in flight at once would both create a job. So
//! the proxy remembers, for a short while, each CreateJob that carries a `customId` of the
//! caller's: a copy with the same scoped `customId` and the same body gets the first one's
//! answer (waiting for it while it is in flight) instead of a second job.

use alloc::string::String;
use std::collections::{HashMap, VecDeque};

use super::base64;
use super::identity::SCOPE_PREFIX_CHARS;
use super::signing::hmac_sha256;

/// How long a CreateJob is remembered: resends come within seconds.
pub const REMEMBER_MS: f64 = 120_000.0;
/// CreateJobs remembered at most; the oldest are forgotten first.
pub const MAX_REMEMBERED: usize = 10_000;

/// The key of a CreateJob: an HMAC over its scoped `customId` and its upstream body (the
/// credentials left out), or `None` when the caller gave no `customId` of its own, so
/// that two jobs a caller did not name are never taken for one.
pub fn create_key(secret: &str, scoped_custom_id: &str, body_json: &str) -> Option<String> {
    if scoped_custom_id.len() <= SCOPE_PREFIX_CHARS {
        return None;
    }
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[b"singing-cloning create\0", scoped_custom_id.as_bytes(), b"\0", body_json.as_bytes()],
    );
    Some(base64::encode_url(&mac))
}

/// Values remembered by key for [`REMEMBER_MS`], at most [`MAX_REMEMBERED`] of them.
pub struct Recent<T> {
    entries: HashMap<String, (f64, T)>,
    order: VecDeque<(String, f64)>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent { entries: HashMap::new(), order: VecDeque::new() }
    }
}

impl<T> Recent<T> {
    /// The value of `key`, if it was remembered less than [`REMEMBER_MS`] before `now_ms`.
    pub fn get(&mut self, key: &str, now_ms: f64) -> Option<&T> {
        self.expire(now_ms);
        self.entries.get(key).map(|(_, value)| value)
    }

    /// Remembers `value` under `key` from `now_ms`, replacing an older one.
    pub fn insert(&mut self, key: String, now_ms: f64, value: T) {
        self.expire(now_ms);
        self.order.push_back((key.clone(), now_ms));
        self.entries.insert(key, (now_ms, value));
        while self.entries.len() > MAX_REMEMBERED {
            match self.order.pop_front() {
                Some((old, at)) => self.forget_if_at(&old, at),
                None => break,
            }
        }
    }

    /// Forgets `key` (a CreateJob that failed may be sent again).
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn expire(&mut self, now_ms: f64) {
        while let Some((key, at)) = self.order.front() {
            if now_ms - at < REMEMBER_MS {
                break;
            }
            let (key, at) = (key.clone(), *at);
            self.order.pop_front();
            self.forget_if_at(&key, at);
        }
    }

    /// Forgets `key` unless it was remembered again after `at`.
    fn forget_if_at(&mut self, key: &str, at: f64) {
        if self.entries.get(key).is_some_and(|(since, _)| *since <= at) {
            self.entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a proxy secret of some length";
    const SCOPED: &str = "uabcdefghijk_lesson_1";

    #[test]
    fn keys_need_a_custom_id_of_the_caller_and_differ_by_body_and_id() {
        assert_eq!(create_key(SECRET, "uabcdefghijk_", "{}"), None);
        let key = create_key(SECRET, SCOPED, r#"{"a":1}"#).unwrap();
        assert_eq!(create_key(SECRET, SCOPED, r#"{"a":1}"#).as_deref(), Some(key.as_str()));
        assert_ne!(create_key(SECRET, SCOPED, r#"{"a":2}"#).unwrap(), key);
        assert_ne!(create_key(SECRET, "uabcdefghijk_lesson_2", r#"{"a":1}"#).unwrap(), key);
        assert_ne!(create_key("another secret entirely", SCOPED, r#"{"a":1}"#).unwrap(), key);
        // The parts are separated, so that moving text from the id to the body changes the key.
        assert_ne!(
            create_key(SECRET, "uabcdefghijk_ab", "c").unwrap(),
            create_key(SECRET, "uabcdefghijk_a", "bc").unwrap()
        );
    }

    #[test]
    fn values_are_remembered_for_a_while_then_forgotten() {
        let mut recent = Recent::default();
        recent.insert("k".into(), 1000.0, 7);
        assert_eq!(recent.get("k", 1000.0 + REMEMBER_MS - 1.0), Some(&7));
        assert_eq!(recent.get("k", 1000.0 + REMEMBER_MS), None);
        assert!(recent.is_empty());
        recent.insert("k".into(), 0.0, 1);
        recent.remove("k");
        assert_eq!(recent.get("k", 1.0), None);
    }

    #[test]
    fn a_key_remembered_again_outlives_its_first_time() {
        let mut recent = Recent::default();
        recent.insert("k".into(), 0.0, 1);
        recent.insert("k".into(), 100_000.0, 2);
        assert_eq!(recent.get("k", REMEMBER_MS + 1.0), Some(&2));
        assert_eq!(recent.get("k", 100_000.0 + REMEMBER_MS), None);
    }

    #[test]
    fn the_oldest_are_forgotten_beyond_the_limit() {
        let mut recent = Recent::default();
        for i in 0..MAX_REMEMBERED + 5 {
            recent.insert(i.to_string(), 0.0, i);
        }
        assert_eq!(recent.len(), MAX_REMEMBERED);
        assert_eq!(recent.get("0", 1.0), None);
        assert_eq!(recent.get("5", 1.0), Some(&5));
    }
}
