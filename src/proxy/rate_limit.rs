//! A token bucket per identity, in memory, with the clock passed in. One process's
//! memory is the limit's scope: behind several instances, back it with a Durable Object
//! or KV (see docs/proxy.md).

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
}

/// Buckets by identity.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter { limit, buckets: HashMap::new() }
    }

    /// Takes one token from `key`'s bucket, or says in how many whole seconds one will be there.
    pub fn take(&mut self, key: &str, now_ms: f64) -> Result<(), u32> {
        let RateLimit { capacity, refill_per_second } = self.limit;
        if !self.buckets.contains_key(key) && self.buckets.len() >= MAX_BUCKETS {
            self.evict(now_ms);
        }
        let bucket = self.buckets.entry(key.into()).or_insert(Bucket { tokens: capacity, at_ms: now_ms });
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
        let RateLimit { capacity, refill_per_second } = self.limit;
        self.buckets.retain(|_, b| b.tokens + ((now_ms - b.at_ms) / 1000.0).max(0.0) * refill_per_second < capacity);
        if self.buckets.len() >= MAX_BUCKETS {
            // Still full: forget the half that was idle longest.
            let mut times: alloc::vec::Vec<f64> = self.buckets.values().map(|b| b.at_ms).collect();
            times.sort_by(|a, b| a.total_cmp(b));
            let cut = times[times.len() / 2];
            self.buckets.retain(|_, b| b.at_ms > cut);
        }
    }

    /// How many identities have a bucket.
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
        let mut limiter = RateLimiter::new(RateLimit { capacity: 3.0, refill_per_second: 0.5 });
        for _ in 0..3 {
            assert_eq!(limiter.take("a", 0.0), Ok(()));
        }
        assert_eq!(limiter.take("a", 0.0), Err(2));
        assert_eq!(limiter.take("b", 0.0), Ok(()), "buckets are per identity");
        assert_eq!(limiter.take("a", 1000.0), Err(1));
        assert_eq!(limiter.take("a", 2000.0), Ok(()));
        assert_eq!(limiter.take("a", 2000.0), Err(2));
        // Long idleness refills only up to the capacity.
        for _ in 0..3 {
            assert_eq!(limiter.take("a", 1e9), Ok(()));
        }
        assert!(limiter.take("a", 1e9).is_err());
        assert!(limiter.take("a", 0.0).is_err(), "a clock going backwards refills nothing");
    }

    #[test]
    fn memory_stays_bounded() {
        let mut limiter = RateLimiter::new(RateLimit { capacity: 2.0, refill_per_second: 1.0 });
        for i in 0..(MAX_BUCKETS * 3) {
            let _ = limiter.take(&format!("k{i}"), i as f64);
        }
        assert!(limiter.len() <= MAX_BUCKETS);
    }
}
