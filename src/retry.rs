//! When to send a request again, and how long to wait first.
//! Pure functions of their inputs (the clock and the random number are passed in), so
//! the policy is tested natively.

use crate::error::{is_retryable_status, Error};
use crate::model::Action;

/// Retry settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first; 3 by default.
    pub max_retries: u32,
    /// The first backoff's ceiling, doubled on each attempt.
    pub base_delay_ms: u32,
    /// No backoff, and no `Retry-After`, waits longer than this.
    pub max_delay_ms: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay_ms: 250, max_delay_ms: 20_000 }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Give up and report the error.
    Fail,
    /// Send the same request again after this many milliseconds.
    Retry { delay_ms: u32 },
    /// The request may have been carried out (a CreateJob whose answer was lost): look
    /// for its job by `customId` before anything is sent again, after this delay.
    LookUp { delay_ms: u32 },
}

impl RetryPolicy {
    /// Exponential backoff with full jitter: a uniform wait in `[0, min(max, base·2^attempt))`.
    /// `attempt` counts from 0 for the first retry; `random` is in `[0, 1)`.
    pub fn backoff_ms(&self, attempt: u32, random: f64) -> u32 {
        let ceiling = (self.base_delay_ms as f64 * 2f64.powi(attempt.min(30) as i32)).min(self.max_delay_ms as f64);
        (ceiling * random.clamp(0.0, 1.0)) as u32
    }

    /// Decides after attempt number `attempt` (0 for the first) of `action` failed with `error`.
    /// `retry_after` is the answer's `Retry-After` header, `now_ms` the clock for its date form.
    pub fn decide(
        &self,
        action: Action,
        attempt: u32,
        error: &Error,
        retry_after: Option<&str>,
        now_ms: f64,
        random: f64,
    ) -> Decision {
        if attempt >= self.max_retries || !error.is_retryable() {
            return Decision::Fail;
        }
        let delay_ms = retry_after
            .and_then(|header| retry_after_ms(header, now_ms))
            .map(|ms| ms.min(self.max_delay_ms))
            .unwrap_or_else(|| self.backoff_ms(attempt, random));
        if action.is_idempotent() || !is_ambiguous(error) {
            Decision::Retry { delay_ms }
        } else {
            Decision::LookUp { delay_ms }
        }
    }
}

/// Whether a failed request may still have been carried out: a network error or a
/// timeout (the body may have arrived), or a 5xx. A 408 and a 429 say the request was
/// not processed, and a caller's abort is no failure to retry.
pub fn is_ambiguous(error: &Error) -> bool {
    match error {
        Error::Network { .. } | Error::Timeout => true,
        _ => error.status().is_some_and(|s| is_retryable_status(s) && s >= 500),
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`) relative to `now_ms`. `None` when it is neither.
pub fn retry_after_ms(header: &str, now_ms: f64) -> Option<u32> {
    let header = header.trim();
    if !header.is_empty() && header.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = header.parse().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1000).min(u32::MAX as u64) as u32);
    }
    let at = crate::http_date::parse(header)?;
    Some((at - now_ms).clamp(0.0, u32::MAX as f64) as u32)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn http(status: u16) -> Error {
        Error::Http { status, request_id: None, body: String::new() }
    }

    #[test]
    fn backoff_is_exponential_with_full_jitter_and_capped() {
        let p = RetryPolicy { max_retries: 10, base_delay_ms: 100, max_delay_ms: 1000 };
        assert_eq!(p.backoff_ms(0, 0.999_999), 99);
        assert_eq!(p.backoff_ms(1, 0.5), 100);
        assert_eq!(p.backoff_ms(2, 0.5), 200);
        assert_eq!(p.backoff_ms(20, 0.5), 500);
        assert_eq!(p.backoff_ms(3, 0.0), 0);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after_ms("3", 0.0), Some(3000));
        assert_eq!(retry_after_ms(" 0 ", 0.0), Some(0));
        // RFC 9110's example date is 784111777 s after the epoch.
        let now = 784_111_777_000.0;
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:42 GMT", now), Some(5000));
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:30 GMT", now), Some(0));
        assert_eq!(retry_after_ms("Thu, 01 Jan 1970 00:00:00 GMT", 0.0), Some(0));
        assert_eq!(retry_after_ms("Wed, 25 Nov 2026 22:30:00 GMT", 1_795_645_790_000.0), Some(10_000));
        for bad in ["", "-1", "1.5", "soon", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 PST"] {
            assert_eq!(retry_after_ms(bad, 0.0), None, "{bad}");
        }
    }

    #[test]
    fn decisions_follow_the_action_and_the_error() {
        let p = RetryPolicy::default();
        let get = Action::GetJob;
        let create = Action::CreateJob;
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(p.decide(get, 0, &http(status), None, 0.0, 0.5), Decision::Retry { .. }), "{status}");
        }
        for status in [400, 401, 403, 404, 409] {
            assert_eq!(p.decide(get, 0, &http(status), None, 0.0, 0.5), Decision::Fail, "{status}");
        }
        assert!(matches!(p.decide(get, 0, &Error::Timeout, None, 0.0, 0.5), Decision::Retry { .. }));
        assert_eq!(p.decide(get, 0, &Error::Aborted { reason: "x".into() }, None, 0.0, 0.5), Decision::Fail);
        assert_eq!(p.decide(get, 3, &http(503), None, 0.0, 0.5), Decision::Fail);
        // CreateJob: an answer that may hide a created job asks for a look-up first.
        assert!(matches!(
            p.decide(create, 0, &Error::Network { message: String::new() }, None, 0.0, 0.5),
            Decision::LookUp { .. }
        ));
        assert!(matches!(p.decide(create, 0, &Error::Timeout, None, 0.0, 0.5), Decision::LookUp { .. }));
        assert!(matches!(p.decide(create, 0, &http(502), None, 0.0, 0.5), Decision::LookUp { .. }));
        assert!(matches!(p.decide(create, 0, &http(429), None, 0.0, 0.5), Decision::Retry { .. }));
        assert_eq!(p.decide(create, 0, &http(400), None, 0.0, 0.5), Decision::Fail);
        let parse = Error::Parse { status: 200, request_id: None, reason: "", body: String::new() };
        assert_eq!(p.decide(create, 0, &parse, None, 0.0, 0.5), Decision::Fail);
    }

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        let p = RetryPolicy { max_retries: 3, base_delay_ms: 100, max_delay_ms: 5000 };
        assert_eq!(
            p.decide(Action::ListModels, 0, &http(429), Some("2"), 0.0, 0.0),
            Decision::Retry { delay_ms: 2000 }
        );
        assert_eq!(
            p.decide(Action::ListModels, 0, &http(503), Some("3600"), 0.0, 0.0),
            Decision::Retry { delay_ms: 5000 }
        );
        assert_eq!(
            p.decide(Action::ListModels, 0, &http(503), Some("junk"), 0.0, 0.0),
            Decision::Retry { delay_ms: 0 }
        );
    }
}
