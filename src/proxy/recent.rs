//! The one bounded memory of the proxy's process: keys remembered for a while, the oldest
//! forgotten first beyond a count, so that no client can grow it without end. It holds
//! the CreateJobs in flight (see [`super::idempotency`]) and the delivered callbacks.

use alloc::collections::VecDeque;
use alloc::string::String;
use std::collections::HashMap;

/// Values remembered by key for `ttl_ms` from their insertion, at most `max` of them.
pub struct Recent<T> {
    ttl_ms: f64,
    max: usize,
    entries: HashMap<String, (f64, T)>,
    /// Insertion order, for expiry and for the count bound; a key re-inserted after a
    /// removal appears twice, and only its newest time counts.
    order: VecDeque<(String, f64)>,
}

impl<T> Recent<T> {
    /// An empty memory; `ttl_ms` may be `f64::INFINITY` (remembered until pushed out by count).
    pub fn new(ttl_ms: f64, max: usize) -> Self {
        Recent { ttl_ms, max, entries: HashMap::new(), order: VecDeque::new() }
    }

    /// The value of `key`, if it was remembered less than `ttl_ms` before `now_ms`.
    pub fn get(&mut self, key: &str, now_ms: f64) -> Option<&T> {
        self.expire(now_ms);
        self.entries.get(key).map(|(_, value)| value)
    }

    /// Remembers `value` under `key` from `now_ms`; `false` (and nothing changed) when the
    /// key is remembered already, which is how a replay is told from a first time.
    pub fn insert(&mut self, key: String, now_ms: f64, value: T) -> bool {
        self.expire(now_ms);
        if self.entries.contains_key(&key) {
            return false;
        }
        self.order.push_back((key.clone(), now_ms));
        self.entries.insert(key, (now_ms, value));
        while self.entries.len() > self.max {
            match self.order.pop_front() {
                Some((old, at)) => self.forget_if_at(&old, at),
                None => break,
            }
        }
        true
    }

    /// Forgets `key` (a CreateJob that failed may be sent again; a delivery that failed may be retried).
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
            if now_ms - at < self.ttl_ms {
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

    const TTL: f64 = 120_000.0;

    #[test]
    fn values_are_remembered_for_a_while_then_forgotten() {
        let mut recent = Recent::new(TTL, 10);
        assert!(recent.insert("k".into(), 1000.0, 7));
        assert_eq!(recent.get("k", 1000.0 + TTL - 1.0), Some(&7));
        assert_eq!(recent.get("k", 1000.0 + TTL), None);
        assert!(recent.is_empty());
        recent.insert("k".into(), 0.0, 1);
        recent.remove("k");
        assert_eq!(recent.get("k", 1.0), None);
    }

    #[test]
    fn a_second_insert_is_refused_until_the_key_is_forgotten() {
        let mut recent = Recent::new(f64::INFINITY, 10);
        assert!(recent.insert("job-1".into(), 0.0, ()));
        assert!(!recent.insert("job-1".into(), 1e12, ()), "a replay, however late");
        recent.remove("job-1");
        assert!(recent.insert("job-1".into(), 5.0, ()));
    }

    #[test]
    fn a_key_remembered_again_outlives_its_first_time() {
        let mut recent = Recent::new(TTL, 10);
        recent.insert("k".into(), 0.0, 1);
        recent.remove("k");
        recent.insert("k".into(), 100_000.0, 2);
        assert_eq!(recent.get("k", TTL + 1.0), Some(&2));
        assert_eq!(recent.get("k", 100_000.0 + TTL), None);
    }

    #[test]
    fn the_oldest_are_forgotten_beyond_the_limit() {
        let max = 1000;
        let mut recent = Recent::new(TTL, max);
        for i in 0..max + 5 {
            recent.insert(i.to_string(), 0.0, i);
        }
        assert_eq!(recent.len(), max);
        assert_eq!(recent.get("0", 1.0), None);
        assert_eq!(recent.get("4", 1.0), None);
        assert_eq!(recent.get("5", 1.0), Some(&5));
    }
}
