//! Token buckets by key, in memory, with the clock passed in: what [`super::shared::MemoryState`]
//! keeps for the rate limits (js/store-redis.js keeps the same buckets in Redis).

use alloc::string::String;
use std::collections::HashMap;

/// A token bucket's settings: `capacity` requests at once, refilled at `refill_per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub capacity: f64,
    pub refill_per_second: f64,
}

/// Buckets kept at most; past this, full and then oldest buckets are dropped.
pub const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: f64,
    limit: RateLimit,
}

impl Bucket {
    /// Whether the bucket would be full at `now_ms`: then forgetting it changes nothing.
    fn full_at(&self, now_ms: f64) -> bool {
        self.tokens + ((now_ms - self.at_ms) / 1000.0).max(0.0) * self.limit.refill_per_second >= self.limit.capacity
    }
}

/// Buckets by key, each with the limit it was first taken with.
#[derive(Default)]
pub struct Buckets {
    buckets: HashMap<String, Bucket>,
}

impl Buckets {
    /// Takes one token from `key`'s bucket of `limit`, or says in how many whole seconds
    /// one will be there.
    pub fn take(&mut self, key: &str, limit: RateLimit, now_ms: f64) -> Result<(), u32> {
        let RateLimit { capacity, refill_per_second } = limit;
        if !self.buckets.contains_key(key) && self.buckets.len() >= MAX_BUCKETS {
            self.evict(now_ms);
        }
        let bucket = self.buckets.entry(key.into()).or_insert(Bucket { tokens: capacity, at_ms: now_ms, limit });
        bucket.limit = limit;
        // A clock that goes backwards refills nothing.
        let elapsed_s = ((now_ms - bucket.at_ms) / 1000.0).max(0.0);
        bucket.tokens = (bucket.tokens + elapsed_s * refill_per_second).min(capacity);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait_s = (1.0 - bucket.tokens) / refill_per_second;
            Err(wait_s.ceil().clamp(1.0, 86_400.0) as u32)
        }
    }

    fn evict(&mut self, now_ms: f64) {
        self.buckets.retain(|_, b| !b.full_at(now_ms));
        if self.buckets.len() >= MAX_BUCKETS {
            // Still full: forget the half that was idle longest.
            let mut times: alloc::vec::Vec<f64> = self.buckets.values().map(|b| b.at_ms).collect();
            times.sort_by(|a, b| a.total_cmp(b));
            let cut = times[times.len() / 2];
            self.buckets.retain(|_, b| b.at_ms > cut);
        }
    }

    /// How many keys have a bucket.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills() {
        let limit = RateLimit { capacity: 3.0, refill_per_second: 0.5 };
        let mut buckets = Buckets::default();
        for _ in 0..3 {
            assert_eq!(buckets.take("a", limit, 0.0), Ok(()));
        }
        assert_eq!(buckets.take("a", limit, 0.0), Err(2));
        assert_eq!(buckets.take("b", limit, 0.0), Ok(()), "buckets are per key");
        assert_eq!(buckets.take("a", limit, 1000.0), Err(1));
        assert_eq!(buckets.take("a", limit, 2000.0), Ok(()));
        assert_eq!(buckets.take("a", limit, 2000.0), Err(2));
        // Long idleness refills only up to the capacity.
        for _ in 0..3 {
            assert_eq!(buckets.take("a", limit, 1e9), Ok(()));
        }
        assert!(buckets.take("a", limit, 1e9).is_err());
        assert!(buckets.take("a", limit, 0.0).is_err(), "a clock going backwards refills nothing");
    }

    #[test]
    fn memory_stays_bounded() {
        let limit = RateLimit { capacity: 2.0, refill_per_second: 1.0 };
        let mut buckets = Buckets::default();
        for i in 0..(MAX_BUCKETS * 3) {
            let _ = buckets.take(&format!("k{i}"), limit, i as f64);
        }
        assert!(buckets.len() <= MAX_BUCKETS);
    }
}
