//! The two HMAC schemes the proxy speaks: Tencent API Gateway's key-pair signature on
//! upstream requests (HMAC-SHA1), and Standard Webhooks signatures on forwarded
//! callbacks (HMAC-SHA256). Verification is constant-time (`Mac::verify_slice`).

use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, Mac};

use super::base64;

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;

/// HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this never fails; the fallback only keeps it panic-free.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return [0; 32] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is the HMAC-SHA256 over `parts`, or a prefix of it at least 16 bytes
/// long; compared in constant time.
pub fn verify_sha256(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return false };
    for part in parts {
        mac.update(part);
    }
    tag.len() >= 16 && mac.verify_truncated_left(tag).is_ok()
}

/// HMAC-SHA1 of `message`.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let Ok(mut mac) = HmacSha1::new_from_slice(key) else { return [0; 20] };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The headers that sign one request with an API Gateway key pair: `X-Date`, `Source`
/// and `Authorization: hmac id="…", algorithm="hmac-sha1", headers="x-date source",
/// signature="…"`, the signature being Base64 of HMAC-SHA1 over `x-date: …\nsource: …`.
pub fn gateway_headers(secret_id: &str, secret_key: &str, source: &str, date: &str) -> [(&'static str, String); 3] {
    let mut signed = String::from("x-date: ");
    signed.push_str(date);
    signed.push_str("\nsource: ");
    signed.push_str(source);
    let signature = base64::encode(&hmac_sha1(secret_key.as_bytes(), signed.as_bytes()));
    let mut authorization = String::from("hmac id=\"");
    authorization.push_str(secret_id);
    authorization.push_str("\", algorithm=\"hmac-sha1\", headers=\"x-date source\", signature=\"");
    authorization.push_str(&signature);
    authorization.push('"');
    [("x-date", date.into()), ("source", source.into()), ("authorization", authorization)]
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) for milliseconds since the epoch.
pub fn http_date(ms: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = if ms.is_finite() && ms > 0.0 { (ms / 1000.0) as i64 } else { 0 };
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    let mut out = String::new();
    out.push_str(DAYS[days.rem_euclid(7) as usize]);
    out.push_str(", ");
    two_digits(&mut out, day);
    out.push(' ');
    out.push_str(MONTHS[(month - 1).clamp(0, 11) as usize]);
    out.push(' ');
    crate::error::push_number(&mut out, year.max(0) as u64);
    out.push(' ');
    two_digits(&mut out, of_day / 3600);
    out.push(':');
    two_digits(&mut out, of_day / 60 % 60);
    out.push(':');
    two_digits(&mut out, of_day % 60);
    out.push_str(" GMT");
    out
}

fn two_digits(out: &mut String, n: i64) {
    out.push((b'0' + (n / 10 % 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// The key bytes of a webhook secret: `whsec_<base64>` decoded, as the Standard Webhooks
/// convention writes it; any other text as its UTF-8 bytes.
pub fn webhook_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(base64::decode)
        .filter(|key| !key.is_empty())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the `webhook-signature` value.
pub fn webhook_signature(key: &[u8], id: &str, timestamp: &str, body: &str) -> String {
    let mac = hmac_sha256(key, &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body.as_bytes()]);
    let mut out = String::from("v1,");
    out.push_str(&base64::encode(&mac));
    out
}

/// Why a webhook is not to be trusted, and which part of it says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFault {
    MissingId,
    MissingTimestamp,
    BadTimestamp,
    /// The timestamp is further from now than the tolerance: an old message replayed, or a clock far off.
    OutsideTolerance,
    MissingSignature,
    /// No `v1` signature in the header matches the body.
    BadSignature,
}

/// Checks a Standard Webhooks message: the timestamp within `tolerance_s` of `now_s`, and
/// one of the space-separated `v1,<base64>` signatures matching, in constant time.
pub fn verify_webhook(
    key: &[u8],
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &str,
    now_s: f64,
    tolerance_s: f64,
) -> Result<(), WebhookFault> {
    let id = id.filter(|s| !s.is_empty()).ok_or(WebhookFault::MissingId)?;
    let timestamp = timestamp.filter(|s| !s.is_empty()).ok_or(WebhookFault::MissingTimestamp)?;
    let signatures = signatures.filter(|s| !s.is_empty()).ok_or(WebhookFault::MissingSignature)?;
    if timestamp.len() > 15 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookFault::BadTimestamp);
    }
    let sent: f64 = timestamp.parse().map_err(|_| WebhookFault::BadTimestamp)?;
    let skew = (now_s - sent).abs();
    if skew.is_nan() || skew > tolerance_s {
        return Err(WebhookFault::OutsideTolerance);
    }
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body.as_bytes()];
    let mut matched = false;
    for candidate in signatures.split(' ') {
        let Some(("v1", encoded)) = candidate.split_once(',') else { continue };
        let Some(tag) = base64::decode(encoded).filter(|tag| tag.len() == 32) else { continue };
        // Every candidate is checked, so the time taken does not tell which one matched.
        matched |= verify_sha256(key, &parts, &tag);
    }
    if matched {
        Ok(())
    } else {
        Err(WebhookFault::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmacs_match_rfc_vectors() {
        // RFC 2202 test case 2 and RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn formats_http_dates() {
        assert_eq!(http_date(784_111_777_000.0), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400_000.0), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_735_689_599_000.0), "Tue, 31 Dec 2024 23:59:59 GMT");
    }

    #[test]
    fn signs_gateway_requests() {
        let [date, source, auth] = gateway_headers("AKIDid", "key", "my-app", "Tue, 31 Dec 2024 23:59:59 GMT");
        assert_eq!(date.1, "Tue, 31 Dec 2024 23:59:59 GMT");
        assert_eq!(source.1, "my-app");
        let expected = base64::encode(&hmac_sha1(b"key", b"x-date: Tue, 31 Dec 2024 23:59:59 GMT\nsource: my-app"));
        assert_eq!(
            auth.1,
            format!("hmac id=\"AKIDid\", algorithm=\"hmac-sha1\", headers=\"x-date source\", signature=\"{expected}\"")
        );
    }

    #[test]
    fn signs_and_verifies_webhooks() {
        // The example of the Standard Webhooks reference libraries.
        let key = webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = r#"{"test": 2432232314}"#;
        let signature = webhook_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let check = |sig: &str, now: f64| {
            verify_webhook(&key, Some("msg_p5jXN8AQM9LWM0D4loKWxJek"), Some("1614265330"), Some(sig), body, now, 300.0)
        };
        assert_eq!(check(&signature, 1_614_265_400.0), Ok(()));
        assert_eq!(check(&format!("v1,bm9wZQ== {signature}"), 1_614_265_330.0), Ok(()));
        assert_eq!(check(&signature, 1_614_266_000.0), Err(WebhookFault::OutsideTolerance));
        assert_eq!(
            check("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ2OE=", 1_614_265_330.0),
            Err(WebhookFault::BadSignature)
        );
        assert_eq!(check("v2,whatever", 1_614_265_330.0), Err(WebhookFault::BadSignature));
        let tampered = verify_webhook(
            &key,
            Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
            Some("1614265330"),
            Some(&signature),
            r#"{"test": 2432232315}"#,
            1_614_265_330.0,
            300.0,
        );
        assert_eq!(tampered, Err(WebhookFault::BadSignature));
        assert_eq!(verify_webhook(&key, None, Some("1"), Some("v1,x"), body, 1.0, 300.0), Err(WebhookFault::MissingId));
        assert_eq!(
            verify_webhook(&key, Some("a"), Some("-1"), Some("v1,x"), body, 1.0, 300.0),
            Err(WebhookFault::BadTimestamp)
        );
    }

    #[test]
    fn reads_webhook_secrets() {
        assert_eq!(webhook_key("whsec_Zm9v"), b"foo");
        assert_eq!(webhook_key("plain secret"), b"plain secret");
        assert_eq!(webhook_key("whsec_***"), b"whsec_***");
    }
}
