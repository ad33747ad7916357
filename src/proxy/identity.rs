//! Who is calling: the anonymous session cookie (an id and its HMAC), and the short
//! scope prefix derived from an identity, which the proxy puts in front of the caller's
//! `customId`s and model names.

use alloc::string::String;

use super::base64;
use super::signing::{hmac_sha256, verify_sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sc_session";
/// Thirty days, in seconds.
pub const SESSION_MAX_AGE_S: u32 = 30 * 24 * 3600;
/// Characters of a scope prefix: `u`, eleven base32 characters and `_`.
pub const SCOPE_PREFIX_CHARS: usize = 13;

/// The identity an anonymous session id stands for; apart from the hook's, so that no
/// `authenticate` result can be mistaken for an anonymous session or the other way round.
pub fn anonymous(session_id: &str) -> String {
    let mut out = String::from("anon:");
    out.push_str(session_id);
    out
}

/// The identity of a user the `authenticate` hook named.
pub fn user(name: &str) -> String {
    let mut out = String::from("user:");
    out.push_str(name);
    out
}

/// A session id from 16 random bytes.
pub fn new_session_id(random: &[u8; 16]) -> String {
    base64::encode_url(random)
}

/// The cookie value for a session: `<id>.<HMAC>`.
pub fn session_value(secret: &str, session_id: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), &[b"singing-cloning session\0", session_id.as_bytes()]);
    let mut out = String::from(session_id);
    out.push('.');
    out.push_str(&base64::encode_url(&mac));
    out
}

/// The session id of a cookie value whose HMAC checks out.
pub fn open_session<'a>(secret: &str, value: &'a str) -> Option<&'a str> {
    let (id, mac) = value.split_once('.')?;
    if id.len() != 22 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    let mac = base64::decode(mac)?;
    (mac.len() == 32 && verify_sha256(secret.as_bytes(), &[b"singing-cloning session\0", id.as_bytes()], &mac)).then_some(id)
}

/// The value of the cookie `name` in a `Cookie` header.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

/// The `Set-Cookie` header for a session: HttpOnly, SameSite=Strict, scoped to the
/// proxy's routes, and Secure when the proxy is reached over https.
pub fn set_cookie(value: &str, path: &str, secure: bool) -> String {
    let mut out = String::from(SESSION_COOKIE);
    out.push('=');
    out.push_str(value);
    out.push_str("; Path=");
    out.push_str(if path.is_empty() { "/" } else { path });
    out.push_str("; Max-Age=");
    crate::error::push_number(&mut out, SESSION_MAX_AGE_S as u64);
    out.push_str("; HttpOnly; SameSite=Strict");
    if secure {
        out.push_str("; Secure");
    }
    out
}

/// The scope prefix of an identity: `u` + 11 base32 characters of an HMAC + `_`, which
/// fits both a `customId` and a model name (letters, digits, underscores).
pub fn scope_prefix(secret: &str, identity: &str) -> String {
    const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mac = hmac_sha256(secret.as_bytes(), &[b"singing-cloning scope\0", identity.as_bytes()]);
    let mut bits: u64 = 0;
    for byte in &mac[..8] {
        bits = bits << 8 | *byte as u64;
    }
    let mut out = String::from("u");
    for i in 0..11 {
        out.push(BASE32[(bits >> (59 - 5 * i) & 31) as usize] as char);
    }
    out.push('_');
    out
}

/// Whether `text` starts with something shaped like a scope prefix.
pub fn prefix_of(text: &str) -> Option<&str> {
    let prefix = text.get(..SCOPE_PREFIX_CHARS)?;
    let b = prefix.as_bytes();
    let shaped = b[0] == b'u' && b[12] == b'_' && b[1..12].iter().all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7'));
    shaped.then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a proxy secret of some length";

    #[test]
    fn signed_sessions_open_and_forged_ones_do_not() {
        let id = new_session_id(&[7; 16]);
        assert_eq!(id.len(), 22);
        let value = session_value(SECRET, &id);
        assert_eq!(open_session(SECRET, &value), Some(id.as_str()));
        assert_eq!(open_session("another secret entirely", &value), None);
        let other = new_session_id(&[8; 16]);
        let (_, mac) = value.split_once('.').unwrap();
        assert_eq!(open_session(SECRET, &format!("{other}.{mac}")), None);
        assert_eq!(open_session(SECRET, &format!("{id}.")), None);
        assert_eq!(open_session(SECRET, "garbage"), None);
        assert_eq!(open_session(SECRET, &format!("{id}.{}", &mac[..10])), None);
    }

    #[test]
    fn reads_cookie_headers() {
        assert_eq!(find_cookie("a=1; sc_session=abc.def; b=2", SESSION_COOKIE), Some("abc.def"));
        assert_eq!(find_cookie("xsc_session=1", SESSION_COOKIE), None);
        assert_eq!(find_cookie("", SESSION_COOKIE), None);
    }

    #[test]
    fn writes_a_strict_http_only_cookie() {
        let header = set_cookie("v", "/api/singing-cloning", true);
        assert_eq!(header, "sc_session=v; Path=/api/singing-cloning; Max-Age=2592000; HttpOnly; SameSite=Strict; Secure");
        assert!(!set_cookie("v", "", false).contains("Secure"));
    }

    #[test]
    fn scope_prefixes_are_short_stable_and_distinct() {
        let a = scope_prefix(SECRET, &user("alice"));
        let b = scope_prefix(SECRET, &user("bob"));
        assert_eq!(a.len(), SCOPE_PREFIX_CHARS);
        assert_eq!(a, scope_prefix(SECRET, &user("alice")));
        assert_ne!(a, b);
        assert_ne!(scope_prefix(SECRET, &anonymous("alice")), scope_prefix(SECRET, &user("alice")));
        assert!(crate::model::validate::is_model_name(&a));
        assert_eq!(prefix_of(&format!("{a}job-1")), Some(a.as_str()));
        assert_eq!(prefix_of("short"), None);
        assert_eq!(prefix_of("uABCDEFGHIJK_x"), None);
    }
}
