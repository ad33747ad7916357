//! Callbacks that can be trusted. A job's `callback` is replaced by the proxy's own
//! `{publicUrl}{prefix}/callbacks/{token}`, the token carrying the original target and an
//! HMAC over the job's (scoped) `customId` and that target. Targets are checked against
//! the config, so the proxy never posts to loopback, private or link-local addresses
//! unless told to.

use alloc::string::String;
use alloc::vec::Vec;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::base64;
use super::config::CallbackTargets;
use super::error_code::ProxyErrorCode;
use super::reply::Reply;
use super::signing::{hmac_sha256, verify_sha256};
use crate::error::{Issue, IssueCode};

/// The path segment the callback route hangs under, after the prefix.
pub const ROUTE: &str = "/callbacks/";

fn mac(secret: &str, custom_id: &str, target: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), &[b"singing-cloning callback\0", custom_id.as_bytes(), b"\0", target.as_bytes()])
}

/// `<base64url target>.<base64url HMAC>`.
pub fn token(secret: &str, custom_id: &str, target: &str) -> String {
    let mut out = base64::encode_url(target.as_bytes());
    out.push('.');
    out.push_str(&base64::encode_url(&mac(secret, custom_id, target)));
    out
}

/// The target of a token that forwards nothing: the upstream's callback only tells the
/// proxy of a job's change, for its job events. No page's target is empty (an empty URL
/// is refused as malformed), so it cannot be taken for one.
pub const EVENTS_ONLY: &str = "";

/// The token of a callback the proxy asks for itself, for job events alone (see [`EVENTS_ONLY`]).
pub fn events_only_token(secret: &str, custom_id: &str) -> String {
    token(secret, custom_id, EVENTS_ONLY)
}

/// The original target of a token made for `custom_id`; `None` for a forged or altered
/// token; [`EVENTS_ONLY`] for one the proxy asked for itself.
pub fn open(secret: &str, token: &str, custom_id: &str) -> Option<String> {
    let (target, tag) = token.split_once('.')?;
    let target = String::from_utf8(base64::decode(target)?).ok()?;
    let tag = base64::decode(tag)?;
    let parts: [&[u8]; 4] = [b"singing-cloning callback\0", custom_id.as_bytes(), b"\0", target.as_bytes()];
    (tag.len() == 32 && verify_sha256(secret.as_bytes(), &parts, &tag)).then_some(target)
}

/// `{base}{prefix}/callbacks/{token}`.
pub fn url(base: &str, prefix: &str, token: &str) -> String {
    let mut out = String::from(base.trim_end_matches('/'));
    out.push_str(prefix);
    out.push_str(ROUTE);
    out.push_str(token);
    out
}

/// The callback URL the upstream is given instead of the caller's target. Only the
/// configured `publicUrl` says where the proxy is: an address built from the request's
/// `Host` would let any client send the upstream's callbacks, with valid tokens, anywhere.
pub fn upstream_url(public_url: Option<&str>, prefix: &str, token: &str) -> Result<String, Reply> {
    match public_url {
        Some(base) => Ok(url(base, prefix, token)),
        None => Err(Reply::error(
            400,
            ProxyErrorCode::CallbacksNotConfigured,
            "this proxy takes no callbacks: its operator has not set publicUrl (SINGING_CLONING_PUBLIC_URL)",
        )),
    }
}

/// The 400 for a callback target that is not allowed.
pub fn not_allowed() -> Reply {
    let issue = Issue {
        path: "createJobRequest.callback".into(),
        code: IssueCode::Url,
        message: "is not a callback target this proxy allows \
                  (loopback, private, special-purpose and unlisted hosts are refused)",
    };
    Reply::error_with_issues(400, ProxyErrorCode::CallbackNotAllowed, "the callback target is not allowed", &[issue])
}

/// The token of one of the proxy's callback URLs (whatever its origin).
pub fn token_of<'a>(callback_url: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = callback_url.split_once("://")?.1;
    let path = &rest[rest.find('/')?..];
    let token = path.strip_prefix(prefix)?.strip_prefix(ROUTE)?;
    (!token.is_empty() && !token.contains(['/', '?', '#'])).then_some(token)
}

/// Why a target is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an http(s) URL with a plain host, or with user info.
    Malformed,
    /// Loopback, private, link-local, reserved, or a name that only resolves locally.
    Private,
    /// Not on `callbackTargets.allowedHosts`.
    NotListed,
}

/// A target as the platform's WHATWG `URL` parser reads it: the parser `fetch` uses, so
/// that the host checked is the host the proxy will post to. The JavaScript face parses;
/// the decision below is pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedUrl<'a> {
    /// `http:` or `https:`.
    pub protocol: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// As the parser writes it: IPv4 as four decimal parts, IPv6 in brackets, names lowercased.
    pub hostname: &'a str,
}

/// Checks a parsed callback target against the config.
pub fn check_target(url: &ParsedUrl, rules: &CallbackTargets) -> Result<(), Refusal> {
    let http = url.protocol.eq_ignore_ascii_case("http:") || url.protocol.eq_ignore_ascii_case("https:");
    if !http || !url.username.is_empty() || !url.password.is_empty() {
        return Err(Refusal::Malformed);
    }
    check_host(url.hostname, rules)
}

/// Checks a host (a WHATWG URL's `hostname`) against the config.
pub fn check_host(hostname: &str, rules: &CallbackTargets) -> Result<(), Refusal> {
    let lower = hostname.to_ascii_lowercase();
    // `example.com.` and `example.com..` name what `example.com` names.
    let host = lower.trim_end_matches('.');
    if host.is_empty() || !host.is_ascii() || host.contains("..") || host.contains(['%', '@', '/', '\\', ' ']) {
        return Err(Refusal::Malformed);
    }
    if let Some(hosts) = &rules.allowed_hosts {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let listed = hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
            Some(suffix) => {
                bare.len() > suffix.len() + 1
                    && bare.ends_with(suffix)
                    && bare[..bare.len() - suffix.len()].ends_with('.')
            }
            None => bare == allowed.trim_end_matches('.'),
        });
        if !listed {
            return Err(Refusal::NotListed);
        }
    }
    if !rules.allow_private && is_private_host(host)? {
        return Err(Refusal::Private);
    }
    Ok(())
}

/// Whether a host (lowercase, no trailing dot) is private. IPv4 literals are read the way
/// WHATWG URL parsers read them (`127.1`, `0x7f.0.0.1`, `2130706433` all mean loopback),
/// in case a host comes here unparsed; a host that looks numeric but is no address is malformed.
fn is_private_host(host: &str) -> Result<bool, Refusal> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| Refusal::Malformed)?;
        return Ok(!is_public_v6(ip));
    }
    let last = host.rsplit('.').next().unwrap_or("");
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || (last.starts_with("0x") && last[2..].bytes().all(|b| b.is_ascii_hexdigit())));
    if numeric {
        let ip = parse_ipv4(host).ok_or(Refusal::Malformed)?;
        return Ok(!is_public_v4(ip));
    }
    let local_suffix =
        [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"].iter().any(|s| host.ends_with(s));
    Ok(host == "localhost" || !host.contains('.') || local_suffix)
}

/// An IPv4 address in any of the forms the WHATWG URL standard accepts: one to four
/// parts, each decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes.
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(4);
    for part in &parts {
        let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (*part, 10)
        };
        let n = if digits.is_empty() { 0 } else { u64::from_str_radix(digits, radix).ok()? };
        numbers.push(n);
    }
    let last = numbers.pop()?;
    if numbers.iter().any(|&n| n > 255) || last >= 1u64 << (8 * (4 - numbers.len())) {
        return None;
    }
    let mut value = last;
    for (i, n) in numbers.iter().enumerate() {
        value += n << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(value as u32))
}

/// Every block of IANA's IPv4 Special-Purpose Address Registry (RFC 6890 and its
/// updates), multicast and the reserved 240/4 (with the limited broadcast): no callback
/// goes to any of them, globally reachable anycast blocks included.
const V4_SPECIAL: [(u32, u8); 19] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (carrier-grade NAT)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link local
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments (DS-Lite, NAT64 discovery, …)
    (0xc000_0200, 24), // 192.0.2.0/24 documentation (TEST-NET-1)
    (0xc01f_c400, 24), // 192.31.196.0/24 AS112
    (0xc034_c100, 24), // 192.52.193.0/24 AMT
    (0xc058_6300, 24), // 192.88.99.0/24 6to4 relay anycast (deprecated)
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc0af_3000, 24), // 192.175.48.0/24 AS112 direct delegation
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation (TEST-NET-2)
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation (TEST-NET-3)
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, with 255.255.255.255 (limited broadcast)
    (0xffff_ffff, 32), // 255.255.255.255 (inside the previous; listed as the registry lists it)
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    !V4_SPECIAL.iter().any(|&(base, bits)| n >> (32 - bits as u32) == base >> (32 - bits as u32))
}

/// The blocks of IANA's IPv6 Special-Purpose Address Registry that lie inside global
/// unicast (2000::/3). Everything outside 2000::/3 is refused as a whole: loopback,
/// unspecified, IPv4-mapped and -translated (`::ffff:0:0/96`, `::ffff:0:0:0/96`),
/// IPv4-compatible, NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), discard (`100::/64`),
/// SRv6 (`5f00::/16`), unique local, link local, site local (`fec0::/10`) and multicast.
const V6_SPECIAL_IN_GLOBAL: [(u128, u8); 5] = [
    (0x2001_0000 << 96, 23), // 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID, …)
    (0x2001_0db8 << 96, 32), // 2001:db8::/32 documentation
    (0x2002 << 112, 16),     // 2002::/16 6to4, which carries any IPv4 address (loopback too)
    (0x2620_004f_8000 << 80, 48), // 2620:4f:8000::/48 AS112
    (0x3fff << 112, 20),     // 3fff::/20 documentation
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    let special =
        V6_SPECIAL_IN_GLOBAL.iter().any(|&(base, bits)| n >> (128 - bits as u32) == base >> (128 - bits as u32));
    n >> 125 == 0b001 && !special
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a proxy secret of some length";

    #[test]
    fn tokens_bind_the_custom_id_and_the_target() {
        let t = token(SECRET, "uabcdefghijk_song", "https://hooks.example/done?x=1");
        assert_eq!(open(SECRET, &t, "uabcdefghijk_song").as_deref(), Some("https://hooks.example/done?x=1"));
        assert_eq!(open(SECRET, &t, "uzzzzzzzzzzz_song"), None);
        assert_eq!(open("some other secret value", &t, "uabcdefghijk_song"), None);
        let (_, tag) = t.split_once('.').unwrap();
        let swapped = format!("{}.{tag}", base64::encode_url(b"https://evil.example/"));
        assert_eq!(open(SECRET, &swapped, "uabcdefghijk_song"), None);
        let events = events_only_token(SECRET, "uabcdefghijk_song");
        assert_eq!(open(SECRET, &events, "uabcdefghijk_song").as_deref(), Some(EVENTS_ONLY));
        assert_eq!(open(SECRET, &events, "uzzzzzzzzzzz_song"), None);
        assert_eq!(open(SECRET, "nonsense", "x"), None);
        assert_eq!(open(SECRET, "!!.!!", "x"), None);
    }

    #[test]
    fn callback_urls_come_from_the_public_url_only() {
        let u = upstream_url(Some("https://proxy.example"), "/api/singing-cloning", "abc.def");
        assert_eq!(u.ok().as_deref(), Some("https://proxy.example/api/singing-cloning/callbacks/abc.def"));
        let refused = upstream_url(None, "/api/singing-cloning", "abc.def").err().unwrap();
        assert_eq!((refused.status, refused.error_code().as_deref()), (400, Some("callbacks_not_configured")));
        assert_eq!(not_allowed().error_code().as_deref(), Some("callback_not_allowed"));
    }

    #[test]
    fn builds_and_reads_callback_urls() {
        let u = url("https://proxy.example/", "/api/singing-cloning", "abc.def");
        assert_eq!(u, "https://proxy.example/api/singing-cloning/callbacks/abc.def");
        assert_eq!(token_of(&u, "/api/singing-cloning"), Some("abc.def"));
        assert_eq!(token_of("https://proxy.example/other/callbacks/abc", "/api/singing-cloning"), None);
        assert_eq!(token_of("https://proxy.example/api/singing-cloning/callbacks/a/b", "/api/singing-cloning"), None);
    }

    fn http(hostname: &str) -> ParsedUrl<'_> {
        ParsedUrl { protocol: "http:", username: "", password: "", hostname }
    }

    #[test]
    fn refuses_private_and_local_targets() {
        let rules = CallbackTargets::default();
        for host in [
            "127.0.0.1",
            "localhost",
            "api.localhost",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "[::1]",
            "[fd00::1]",
            "[fe80::1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "2130706433",
            "0x7f.0.0.1",
            "127.1",
            "0177.0.0.1",
            "metadata",
            "printer.local",
            "LOCALHOST.",
            "100.64.0.1",
            // The spellings of issue #11.
            "[::ffff:0:127.0.0.1]",
            "[::ffff:0:7f00:1]",
            "[2002:7f00:1::]",
            "[fec0::1]",
            "[100::1]",
            "localhost..",
            "127.0.0.1..",
            "metadata...",
            "printer.local..",
        ] {
            assert_eq!(check_host(host, &rules), Err(Refusal::Private), "{host}");
        }
        for host in ["1.2.3.4.5", "256.1.1.1", "", ".", "a..b", "[::g]", "exa%6dple.com"] {
            assert_eq!(check_host(host, &rules), Err(Refusal::Malformed), "{host}");
        }
        for host in ["hooks.example.com", "hooks.example.com.", "93.184.216.34", "[2606:4700::1111]", "8.8.8.8"] {
            assert_eq!(check_host(host, &rules), Ok(()), "{host}");
        }
        let open = CallbackTargets { allow_private: true, allowed_hosts: None };
        assert_eq!(check_host("127.0.0.1", &open), Ok(()));
    }

    #[test]
    fn refuses_other_schemes_and_user_info() {
        let rules = CallbackTargets::default();
        assert_eq!(check_target(&http("hooks.example.com"), &rules), Ok(()));
        assert_eq!(check_target(&ParsedUrl { protocol: "https:", ..http("hooks.example.com") }, &rules), Ok(()));
        for refused in [
            ParsedUrl { protocol: "ftp:", ..http("hooks.example.com") },
            ParsedUrl { username: "u", ..http("hooks.example.com") },
            ParsedUrl { password: "p", ..http("hooks.example.com") },
        ] {
            assert_eq!(check_target(&refused, &rules), Err(Refusal::Malformed), "{refused:?}");
        }
        assert_eq!(check_target(&http("127.0.0.1"), &rules), Err(Refusal::Private));
    }

    /// Every block of IANA's special-purpose registries (IPv4: iana-ipv4-special-registry,
    /// IPv6: iana-ipv6-special-registry, as of 2025), with their first and last addresses,
    /// plus multicast, site local and reserved space: the expectation written from the
    /// registries, not from the code's table.
    #[test]
    fn refuses_every_special_purpose_block_of_the_iana_registries() {
        let rules = CallbackTargets::default();
        let v4: [(&str, &str, &str); 24] = [
            ("0.0.0.0/8", "0.0.0.0", "0.255.255.255"),
            ("10.0.0.0/8", "10.0.0.0", "10.255.255.255"),
            ("100.64.0.0/10", "100.64.0.0", "100.127.255.255"),
            ("127.0.0.0/8", "127.0.0.0", "127.255.255.255"),
            ("169.254.0.0/16", "169.254.0.0", "169.254.255.255"),
            ("172.16.0.0/12", "172.16.0.0", "172.31.255.255"),
            ("192.0.0.0/24", "192.0.0.0", "192.0.0.255"),
            ("192.0.0.0/29 DS-Lite", "192.0.0.0", "192.0.0.7"),
            ("192.0.0.8/32", "192.0.0.8", "192.0.0.8"),
            ("192.0.0.9/32 PCP anycast", "192.0.0.9", "192.0.0.9"),
            ("192.0.0.10/32 TURN anycast", "192.0.0.10", "192.0.0.10"),
            ("192.0.0.170/31 NAT64 discovery", "192.0.0.170", "192.0.0.171"),
            ("192.0.2.0/24", "192.0.2.0", "192.0.2.255"),
            ("192.31.196.0/24", "192.31.196.0", "192.31.196.255"),
            ("192.52.193.0/24", "192.52.193.0", "192.52.193.255"),
            ("192.88.99.0/24", "192.88.99.0", "192.88.99.255"),
            ("192.168.0.0/16", "192.168.0.0", "192.168.255.255"),
            ("192.175.48.0/24", "192.175.48.0", "192.175.48.255"),
            ("198.18.0.0/15", "198.18.0.0", "198.19.255.255"),
            ("198.51.100.0/24", "198.51.100.0", "198.51.100.255"),
            ("203.0.113.0/24", "203.0.113.0", "203.0.113.255"),
            ("224.0.0.0/4 multicast", "224.0.0.0", "239.255.255.255"),
            ("240.0.0.0/4 reserved", "240.0.0.0", "255.255.255.254"),
            ("255.255.255.255/32", "255.255.255.255", "255.255.255.255"),
        ];
        for (block, first, last) in v4 {
            for host in [first, last] {
                assert_eq!(check_host(host, &rules), Err(Refusal::Private), "{block}: {host}");
            }
        }
        let v6: [(&str, &str, &str); 28] = [
            ("::1/128", "::1", "::1"),
            ("::/128", "::", "::"),
            ("::ffff:0:0/96 IPv4-mapped", "::ffff:0:0", "::ffff:ffff:ffff"),
            ("::ffff:0:0:0/96 IPv4-translated", "::ffff:0:0:0", "::ffff:0:ffff:ffff"),
            ("::/96 IPv4-compatible", "::2", "::ffff:ffff"),
            ("64:ff9b::/96", "64:ff9b::", "64:ff9b::ffff:ffff"),
            ("64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"),
            ("100::/64 discard", "100::", "100::ffff:ffff:ffff:ffff"),
            ("100:0:0:1::/64 dummy", "100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff"),
            ("2001::/23", "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001::/32 Teredo", "2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:1::1/128 PCP anycast", "2001:1::1", "2001:1::1"),
            ("2001:1::2/128 TURN anycast", "2001:1::2", "2001:1::2"),
            ("2001:1::3/128 DNS-SD SRP anycast", "2001:1::3", "2001:1::3"),
            ("2001:2::/48 benchmarking", "2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff"),
            ("2001:3::/32 AMT", "2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:4:112::/48 AS112-v6", "2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff"),
            ("2001:10::/28 ORCHID", "2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:20::/28 ORCHIDv2", "2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:30::/28 drone remote ID", "2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2001:db8::/32 documentation", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2002::/16 6to4", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("2620:4f:8000::/48 AS112", "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff"),
            ("3fff::/20 documentation", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("5f00::/16 SRv6 SIDs", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("fc00::/7 unique local", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("fe80::/10 link local; fec0::/10 site local", "fe80::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ("ff00::/8 multicast", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ];
        for (block, first, last) in v6 {
            for host in [first, last] {
                let bracketed = format!("[{host}]");
                assert_eq!(check_host(&bracketed, &rules), Err(Refusal::Private), "{block}: {host}");
            }
        }
        // The neighbours of the blocks are public.
        for host in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "[2000::]",
            "[2001:200::]",
            "[2001:db7:ffff::]",
            "[2001:db9::]",
            "[2003::]",
            "[2620:4f:7fff::]",
            "[2620:4f:8001::]",
            "[3ffe:ffff::]",
            "[3fff:1000::]",
        ] {
            assert_eq!(check_host(host, &rules), Ok(()), "{host}");
        }
    }

    #[test]
    fn keeps_to_the_allowed_hosts() {
        let rules = CallbackTargets {
            allow_private: false,
            allowed_hosts: Some(vec!["hooks.example.com".into(), "*.example.org".into()]),
        };
        assert_eq!(check_host("hooks.example.com", &rules), Ok(()));
        assert_eq!(check_host("hooks.example.com..", &rules), Ok(()));
        assert_eq!(check_host("a.b.example.org", &rules), Ok(()));
        assert_eq!(check_host("example.org", &rules), Err(Refusal::NotListed));
        assert_eq!(check_host("evilexample.org", &rules), Err(Refusal::NotListed));
        assert_eq!(check_host("other.example.com", &rules), Err(Refusal::NotListed));
    }
}
