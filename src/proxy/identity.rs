//! Who is calling: the anonymous session cookie (an id and its HMAC), and the short
//! scope prefix derived from an identity, which the proxy puts in front of the caller's
//! `customId`s and model names.

use alloc::string::String;

use super::base64;
use super::signing::{hmac_sha256, verify_sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sc_session";
/// Thirty days, in seconds: how long a session lasts unless `sessionMaxAgeSeconds` says otherwise.
pub const SESSION_MAX_AGE_S: u32 = 30 * 24 * 3600;
/// How far in the future an issue time may lie (another instance's clock running ahead).
pub const SESSION_CLOCK_SKEW_S: u64 = 300;
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

fn session_mac(secret: &str, session_id: &str, issued: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), &[b"singing-cloning session\0", session_id.as_bytes(), b"\0", issued.as_bytes()])
}

/// The cookie value for a session issued at `issued_s` (seconds since the epoch):
/// `<id>.<issued_s>.<HMAC over both>`, so that a cookie cannot outlive its maximum age.
pub fn session_value(secret: &str, session_id: &str, issued_s: u64) -> String {
    let mut issued = String::new();
    crate::error::push_number(&mut issued, issued_s);
    let mac = session_mac(secret, session_id, &issued);
    let mut out = String::from(session_id);
    out.push('.');
    out.push_str(&issued);
    out.push('.');
    out.push_str(&base64::encode_url(&mac));
    out
}

/// The session id of a cookie value whose HMAC checks out and that was issued less than
/// `max_age_s` seconds before `now_s`. Exactly the encoding [`session_value`] writes is
/// accepted: an id of 22 URL-safe characters, the time in decimal without leading zeros,
/// and the HMAC in unpadded URL-safe base64 that re-encodes to itself (no other alphabet,
/// padding or stray bits), so that no cookie has a second spelling.
pub fn open_session<'a>(secret: &str, value: &'a str, now_s: u64, max_age_s: u64) -> Option<&'a str> {
    let mut parts = value.split('.');
    let (id, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    if id.len() != 22 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    let canonical_time = !issued.is_empty()
        && issued.len() <= 12
        && issued.bytes().all(|b| b.is_ascii_digit())
        && (issued == "0" || !issued.starts_with('0'));
    if !canonical_time || mac.len() != 43 {
        return None;
    }
    let tag = base64::decode(mac)?;
    if tag.len() != 32 || base64::encode_url(&tag) != mac {
        return None;
    }
    let issued_s: u64 = issued.parse().ok()?;
    if issued_s > now_s.saturating_add(SESSION_CLOCK_SKEW_S) || now_s.saturating_sub(issued_s) >= max_age_s {
        return None;
    }
    let parts: [&[u8]; 4] = [b"singing-cloning session\0", id.as_bytes(), b"\0", issued.as_bytes()];
    verify_sha256(secret.as_bytes(), &parts, &tag).then_some(id)
}

/// The value of the cookie `name` in a `Cookie` header.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        // The value as it is: a quoted copy would be a second spelling of the same cookie.
        (key.trim() == name).then(|| value.trim())
    })
}

/// The `Set-Cookie` header for a session: HttpOnly, SameSite=Strict, scoped to the
/// proxy's routes, kept `max_age_s` seconds, and Secure when the proxy is reached over https.
pub fn set_cookie(value: &str, path: &str, max_age_s: u32, secure: bool) -> String {
    let mut out = String::from(SESSION_COOKIE);
    out.push('=');
    out.push_str(value);
    out.push_str("; Path=");
    out.push_str(if path.is_empty() { "/" } else { path });
    out.push_str("; Max-Age=");
    crate::error::push_number(&mut out, max_age_s as u64);
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

    const NOW: u64 = 1_800_000_000;
    const DAY: u64 = 86_400;

    #[test]
    fn signed_sessions_open_and_forged_ones_do_not() {
        let id = new_session_id(&[7; 16]);
        assert_eq!(id.len(), 22);
        let value = session_value(SECRET, &id, NOW);
        assert_eq!(value.split('.').nth(1), Some("1800000000"));
        assert_eq!(open_session(SECRET, &value, NOW, 30 * DAY), Some(id.as_str()));
        assert_eq!(open_session("another secret entirely", &value, NOW, 30 * DAY), None);
        let other = new_session_id(&[8; 16]);
        let mac = value.rsplit('.').next().unwrap();
        assert_eq!(open_session(SECRET, &format!("{other}.{NOW}.{mac}"), NOW, 30 * DAY), None);
        assert_eq!(open_session(SECRET, &format!("{id}.{NOW}."), NOW, 30 * DAY), None);
        assert_eq!(open_session(SECRET, "garbage", NOW, 30 * DAY), None);
        assert_eq!(open_session(SECRET, &format!("{id}.{NOW}.{}", &mac[..10]), NOW, 30 * DAY), None);
    }

    #[test]
    fn the_issue_time_is_under_the_mac_and_old_sessions_end() {
        let id = new_session_id(&[7; 16]);
        let value = session_value(SECRET, &id, NOW);
        // A later time with the old MAC: refused, so a cookie cannot be made younger.
        let mac = value.rsplit('.').next().unwrap();
        assert_eq!(open_session(SECRET, &format!("{id}.{}.{mac}", NOW + DAY), NOW + 40 * DAY, 30 * DAY), None);
        assert_eq!(open_session(SECRET, &value, NOW + 30 * DAY - 1, 30 * DAY), Some(id.as_str()));
        assert_eq!(open_session(SECRET, &value, NOW + 30 * DAY, 30 * DAY), None, "at its maximum age");
        assert_eq!(open_session(SECRET, &value, NOW + 2 * DAY, DAY), None, "a shorter configured age");
        assert_eq!(open_session(SECRET, &value, NOW - SESSION_CLOCK_SKEW_S, DAY), Some(id.as_str()));
        assert_eq!(open_session(SECRET, &value, NOW - SESSION_CLOCK_SKEW_S - 1, DAY), None, "issued in the future");
        // The cookie of the former format (an id and a MAC of the id alone) opens no more.
        let old = hmac_sha256(SECRET.as_bytes(), &[b"singing-cloning session\0", id.as_bytes()]);
        assert_eq!(open_session(SECRET, &format!("{id}.{}", base64::encode_url(&old)), NOW, 30 * DAY), None);
    }

    #[test]
    fn a_cookie_has_exactly_one_spelling() {
        // A session whose MAC has a character the two alphabets spell differently.
        let (id, value) = (0..=255u8)
            .map(|seed| {
                let id = new_session_id(&[seed; 16]);
                let value = session_value(SECRET, &id, NOW);
                (id, value)
            })
            .find(|(_, value)| value.rsplit('.').next().unwrap().contains(['-', '_']))
            .unwrap();
        let mac = value.rsplit('.').next().unwrap();
        let tag = base64::decode(mac).unwrap();
        assert_eq!(tag.len(), 32);
        assert_eq!(open_session(SECRET, &value, NOW, DAY), Some(id.as_str()));
        let standard = base64::encode(&tag);
        let respelled = [
            format!("{id}.{NOW}.{standard}"),                         // padded standard alphabet
            format!("{id}.{NOW}.{}", standard.trim_end_matches('=')), // standard alphabet
            format!("{id}.{NOW}.{mac}="),                             // padding
            format!("{id}.0{NOW}.{mac}"),                             // a leading zero
            format!("{id}.+{NOW}.{mac}"),
            format!("{id}.{NOW}.{mac}.x"),
            format!("\"{value}\""),
        ];
        for spelling in respelled {
            assert_eq!(open_session(SECRET, &spelling, NOW, DAY), None, "{spelling}");
        }
        // The last character of 32 bytes in base64 carries 2 unused bits: setting them is another spelling.
        let last = mac.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.iter().position(|&c| c == last).unwrap();
        let stray = format!("{}{}", &mac[..42], alphabet[index ^ 1] as char);
        assert_ne!(stray, mac);
        assert_eq!(open_session(SECRET, &format!("{id}.{NOW}.{stray}"), NOW, DAY), None);
        // Quotes around the value are not taken off.
        let header = format!("sc_session=\"{value}\"");
        assert_eq!(find_cookie(&header, SESSION_COOKIE).and_then(|v| open_session(SECRET, v, NOW, DAY)), None);
    }

    #[test]
    fn reads_cookie_headers() {
        assert_eq!(find_cookie("a=1; sc_session=abc.def; b=2", SESSION_COOKIE), Some("abc.def"));
        assert_eq!(find_cookie("xsc_session=1", SESSION_COOKIE), None);
        assert_eq!(find_cookie("", SESSION_COOKIE), None);
    }

    #[test]
    fn writes_a_strict_http_only_cookie() {
        let header = set_cookie("v", "/api/singing-cloning", SESSION_MAX_AGE_S, true);
        assert_eq!(
            header,
            "sc_session=v; Path=/api/singing-cloning; Max-Age=2592000; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie("v", "", 60, false).contains("Secure"));
        assert!(set_cookie("v", "", 60, false).contains("Max-Age=60;"));
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
