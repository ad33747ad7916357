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
use super::signing::{hmac_sha256, verify_sha256};

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

/// The original target of a token made for `custom_id`; `None` for a forged or altered token.
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

/// Checks a callback target against the config.
pub fn check_target(target: &str, rules: &CallbackTargets) -> Result<(), Refusal> {
    let host = host_of(target).ok_or(Refusal::Malformed)?;
    if let Some(hosts) = &rules.allowed_hosts {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let listed = hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
            Some(suffix) => bare.len() > suffix.len() + 1 && bare.ends_with(suffix) && bare[..bare.len() - suffix.len()].ends_with('.'),
            None => bare == allowed,
        });
        if !listed {
            return Err(Refusal::NotListed);
        }
    }
    if !rules.allow_private && is_private_host(&host)? {
        return Err(Refusal::Private);
    }
    Ok(())
}

/// The lowercased host of an http(s) URL (IPv6 in brackets), refusing user info,
/// percent-encoding and anything a URL parser might read differently.
fn host_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains(['@', '%', '\\', ' ']) || rest.contains('\\') {
        return None;
    }
    let host = if authority.starts_with('[') {
        &authority[..=authority.find(']')?]
    } else {
        authority.split(':').next()?
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').map(String::from).unwrap_or(host);
    (!host.is_empty() && host.is_ascii()).then_some(host)
}

/// Whether a host is private. IPv4 literals are read the way browsers' URL parsers read
/// them (`127.1`, `0x7f.0.0.1`, `2130706433` all mean loopback); `None` for a host that
/// looks numeric but is no address.
fn is_private_host(host: &str) -> Result<bool, Refusal> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| Refusal::Malformed)?;
        return Ok(is_private_v6(ip));
    }
    let last = host.rsplit('.').next().unwrap_or("");
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit()) || (last.starts_with("0x") && last[2..].bytes().all(|b| b.is_ascii_hexdigit())));
    if numeric {
        let ip = parse_ipv4(host).ok_or(Refusal::Malformed)?;
        return Ok(is_private_v4(ip));
    }
    let local_suffix = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"].iter().any(|s| host.ends_with(s));
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

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link local
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 reaches IPv4 addresses
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
        assert_eq!(open(SECRET, "nonsense", "x"), None);
        assert_eq!(open(SECRET, "!!.!!", "x"), None);
    }

    #[test]
    fn builds_and_reads_callback_urls() {
        let u = url("https://proxy.example/", "/api/singing-cloning", "abc.def");
        assert_eq!(u, "https://proxy.example/api/singing-cloning/callbacks/abc.def");
        assert_eq!(token_of(&u, "/api/singing-cloning"), Some("abc.def"));
        assert_eq!(token_of("https://proxy.example/other/callbacks/abc", "/api/singing-cloning"), None);
        assert_eq!(token_of("https://proxy.example/api/singing-cloning/callbacks/a/b", "/api/singing-cloning"), None);
    }

    #[test]
    fn refuses_private_and_local_targets() {
        let rules = CallbackTargets::default();
        for target in [
            "http://127.0.0.1:8080/hook", "http://localhost/x", "http://api.localhost/x", "http://10.1.2.3/",
            "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/",
            "http://[::1]/", "http://[fd00::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://2130706433/",
            "http://0x7f.0.0.1/", "http://127.1/", "http://0177.0.0.1/", "http://metadata/", "http://printer.local/",
            "http://LOCALHOST./", "http://100.64.0.1/",
        ] {
            assert_eq!(check_target(target, &rules), Err(Refusal::Private), "{target}");
        }
        for target in ["http://user@example.com/", "ftp://example.com/", "http://exa%6dple.com/", "http://1.2.3.4.5/", "http://256.1.1.1/"] {
            assert_eq!(check_target(target, &rules), Err(Refusal::Malformed), "{target}");
        }
        for target in ["https://hooks.example.com/x", "http://93.184.216.34/", "https://[2606:4700::1111]/"] {
            assert_eq!(check_target(target, &rules), Ok(()), "{target}");
        }
        let open = CallbackTargets { allow_private: true, allowed_hosts: None };
        assert_eq!(check_target("http://127.0.0.1:9/x", &open), Ok(()));
    }

    #[test]
    fn keeps_to_the_allowed_hosts() {
        let rules = CallbackTargets { allow_private: false, allowed_hosts: Some(vec!["hooks.example.com".into(), "*.example.org".into()]) };
        assert_eq!(check_target("https://hooks.example.com/a", &rules), Ok(()));
        assert_eq!(check_target("https://a.b.example.org/a", &rules), Ok(()));
        assert_eq!(check_target("https://example.org/a", &rules), Err(Refusal::NotListed));
        assert_eq!(check_target("https://evilexample.org/a", &rules), Err(Refusal::NotListed));
        assert_eq!(check_target("https://other.example.com/a", &rules), Err(Refusal::NotListed));
    }
}
