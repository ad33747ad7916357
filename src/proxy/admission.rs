//! Who may be served now: the rate limits. Each identity has a token bucket, but
//! anonymous identities are free (a client that drops its cookie gets a new one), so the
//! limits that matter for them are the ones a client cannot reset: a bucket per client
//! address for their requests, a bucket per address for new sessions, and a global
//! ceiling on new sessions. The callback route has a bucket per address of its own.
//!
//! The client address comes from the platform (the socket in Node, `CF-Connecting-IP` on
//! Workers) or from a header that the operator's own front proxy sets
//! (`clientAddressHeader`); never from a header a client could choose, unless configured.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};

use super::error_code::ProxyErrorCode;
use super::rate_limit::RateLimit;
use super::reply::Reply;
use super::shared::{Op, Outcome};

/// The key of the bucket for a client address, or `None` when there is none to trust.
///
/// With `header` configured, its value is read (the last of a comma-separated list, which
/// is the one the operator's own front proxy appended) and the platform's address is
/// ignored; otherwise the platform's. IPv6 addresses count per /64, the block one
/// subscriber usually holds (one address each would let a client change address at will);
/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
pub fn client_key(header: Option<&str>, header_value: Option<&str>, platform: Option<&str>) -> Option<String> {
    let text = match header {
        Some(_) => header_value?.rsplit(',').next()?,
        None => platform?,
    };
    let text = text.trim();
    let bare = text.strip_prefix('[').and_then(|t| t.split_once(']')).map_or(text, |(inner, _)| inner);
    let ip: IpAddr = bare.parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    Some(match ip {
        IpAddr::V4(v4) => alloc::format!("{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            alloc::format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    })
}

/// Every limit's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests per identity (`rateLimit`).
    pub identity: RateLimit,
    /// Requests of anonymous sessions per client address (`addressRateLimit`).
    pub address: RateLimit,
    /// New anonymous sessions per client address (`sessionRateLimit`).
    pub sessions: RateLimit,
    /// New anonymous sessions in all (`globalSessionRateLimit`).
    pub global_sessions: RateLimit,
    /// Callbacks per client address, or in all when the address is unknown (`callbackRateLimit`).
    pub callbacks: RateLimit,
}

/// A refusal: the error code and the seconds to wait (`Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub code: ProxyErrorCode,
    pub wait_s: u32,
}

impl Refused {
    /// The 429 answer.
    pub fn reply(&self) -> Reply {
        let message = match self.code {
            ProxyErrorCode::TooManySessions => "too many new sessions; try again later",
            _ => "too many requests; try again later",
        };
        let mut seconds = String::new();
        crate::error::push_number(&mut seconds, self.wait_s as u64);
        Reply::error(429, self.code, message).with_header("retry-after", seconds)
    }
}

/// One bucket a request must get a token from, and the refusal's code if it cannot.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub key: String,
    pub limit: RateLimit,
    pub code: ProxyErrorCode,
}

impl Check {
    fn new(family: &str, key: &str, limit: RateLimit, code: ProxyErrorCode) -> Check {
        Check { key: alloc::format!("{family}:{key}"), limit, code }
    }

    /// The store operation that takes the token.
    pub fn op(&self) -> Op {
        Op::Take {
            key: self.key.clone(),
            capacity: self.limit.capacity,
            refill_per_second: self.limit.refill_per_second,
        }
    }

    /// The refusal when the store said `outcome`, if it refused.
    pub fn refusal(&self, outcome: &Outcome) -> Option<Refused> {
        match outcome {
            Outcome::Refused { wait_s } => Some(Refused { code: self.code, wait_s: *wait_s }),
            _ => None,
        }
    }
}

/// The one key of the global bucket, and of callbacks from an unknown address.
const ALL: &str = "*";

/// The buckets of a new anonymous session for a client at `address`: its address's
/// bucket first, so that one address cannot drain the global one.
pub fn new_session(limits: &Limits, address: Option<&str>) -> Vec<Check> {
    let code = ProxyErrorCode::TooManySessions;
    let by_address = address.map(|a| Check::new("sessions", a, limits.sessions, code));
    by_address.into_iter().chain([Check::new("global-sessions", ALL, limits.global_sessions, code)]).collect()
}

/// The buckets of a request of `identity`; anonymous sessions also count against their address.
pub fn request(limits: &Limits, identity: &str, anonymous: bool, address: Option<&str>) -> Vec<Check> {
    let code = ProxyErrorCode::RateLimited;
    let by_address = address.filter(|_| anonymous).map(|a| Check::new("address", a, limits.address, code));
    by_address.into_iter().chain([Check::new("identity", identity, limits.identity, code)]).collect()
}

/// The bucket of a callback from `address`.
pub fn callback(limits: &Limits, address: Option<&str>) -> Vec<Check> {
    alloc::vec![Check::new("callbacks", address.unwrap_or(ALL), limits.callbacks, ProxyErrorCode::RateLimited)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::shared::MemoryState;

    /// The checks run in order against one memory store, as the shell runs them.
    struct Admission(MemoryState);

    impl Admission {
        fn new(_: &Limits) -> Admission {
            Admission(MemoryState::new(0.0))
        }

        fn run(&mut self, checks: Vec<Check>, now_ms: f64) -> Result<(), Refused> {
            for check in checks {
                if let Some(refused) = check.refusal(&self.0.run(&check.op(), now_ms)) {
                    return Err(refused);
                }
            }
            Ok(())
        }

        fn new_session(&mut self, address: Option<&str>, now_ms: f64) -> Result<(), Refused> {
            self.run(new_session(&limits(), address), now_ms)
        }

        fn request(
            &mut self,
            identity: &str,
            anonymous: bool,
            address: Option<&str>,
            now_ms: f64,
        ) -> Result<(), Refused> {
            self.run(request(&limits(), identity, anonymous, address), now_ms)
        }

        fn callback(&mut self, address: Option<&str>, now_ms: f64) -> Result<(), Refused> {
            self.run(callback(&limits(), address), now_ms)
        }
    }

    fn limits() -> Limits {
        let l = |capacity, refill_per_second| RateLimit { capacity, refill_per_second };
        Limits {
            identity: l(5.0, 1.0),
            address: l(8.0, 1.0),
            sessions: l(3.0, 0.1),
            global_sessions: l(6.0, 1.0),
            callbacks: l(2.0, 1.0),
        }
    }

    #[test]
    fn reads_client_addresses_only_from_where_it_is_told() {
        assert_eq!(client_key(None, None, Some("203.0.113.7")).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_key(None, None, Some("::ffff:203.0.113.7")).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_key(None, None, Some("2001:db8:1:2:3:4:5:6")).as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(
            client_key(None, None, Some("2001:db8:1:2:ffff::1")),
            client_key(None, None, Some("2001:db8:1:2::9"))
        );
        assert_eq!(client_key(None, None, None), None);
        assert_eq!(client_key(None, None, Some("not an address")), None);
        // Without a configured header, no header is read at all (the caller passes none).
        assert_eq!(
            client_key(Some("x-forwarded-for"), Some("198.51.100.1, 203.0.113.9"), Some("10.0.0.1")).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            client_key(Some("x-real-ip"), None, Some("10.0.0.1")),
            None,
            "the platform's address is the front proxy's"
        );
        assert_eq!(client_key(Some("x-real-ip"), Some("[2001:db8::1]:443"), None).as_deref(), Some("2001:db8::/64"));
        assert_eq!(client_key(Some("x-real-ip"), Some("garbage"), None), None);
    }

    #[test]
    fn dropping_the_cookie_does_not_reset_the_limits() {
        let mut a = Admission::new(&limits());
        let address = Some("203.0.113.7");
        // A client that starts a new session for every request: three sessions, then none.
        for _ in 0..3 {
            assert_eq!(a.new_session(address, 0.0), Ok(()));
        }
        assert_eq!(a.new_session(address, 0.0).map_err(|r| r.code), Err(ProxyErrorCode::TooManySessions));
        // Its requests count against its address whatever session they carry.
        for i in 0..8 {
            assert_eq!(a.request(&format!("anon:{i}"), true, address, 0.0), Ok(()), "{i}");
        }
        assert_eq!(a.request("anon:fresh", true, address, 0.0).map_err(|r| r.code), Err(ProxyErrorCode::RateLimited));
        // Another address is not held up by it; signed-in users count per identity only.
        assert_eq!(a.request("anon:other", true, Some("198.51.100.1"), 0.0), Ok(()));
        assert_eq!(a.request("user:alice", false, address, 0.0), Ok(()));
    }

    #[test]
    fn new_sessions_have_a_global_ceiling() {
        let mut a = Admission::new(&limits());
        let mut made = 0;
        for i in 0..20 {
            if a.new_session(Some(&format!("198.51.100.{i}")), 0.0).is_ok() {
                made += 1;
            }
        }
        assert_eq!(made, 6, "the global bucket's capacity");
        assert_eq!(
            a.new_session(None, 0.0).map_err(|r| r.code),
            Err(ProxyErrorCode::TooManySessions),
            "unknown addresses too"
        );
        assert_eq!(a.new_session(Some("192.0.2.1"), 1000.0), Ok(()), "refilled after a second");
    }

    #[test]
    fn identities_keep_their_own_bucket() {
        let mut a = Admission::new(&limits());
        for _ in 0..5 {
            assert_eq!(a.request("user:bob", false, None, 0.0), Ok(()));
        }
        let refused = a.request("user:bob", false, None, 0.0).unwrap_err();
        assert_eq!(refused, Refused { code: ProxyErrorCode::RateLimited, wait_s: 1 });
        let reply = refused.reply();
        assert_eq!(reply.status, 429);
        assert!(reply.headers.contains(&("retry-after", "1".into())));
    }

    #[test]
    fn callbacks_have_their_own_bucket() {
        let mut a = Admission::new(&limits());
        assert!(a.callback(Some("203.0.113.7"), 0.0).is_ok());
        assert!(a.callback(Some("203.0.113.7"), 0.0).is_ok());
        assert_eq!(a.callback(Some("203.0.113.7"), 0.0).map_err(|r| r.code), Err(ProxyErrorCode::RateLimited));
        assert!(a.callback(Some("198.51.100.1"), 0.0).is_ok());
        assert!(a.callback(None, 0.0).is_ok());
        assert!(a.callback(None, 0.0).is_ok());
        assert!(a.callback(None, 0.0).is_err(), "unknown addresses share one bucket");
    }
}
