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

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202 §3, test cases 1, 2, 3, 6 and 7 (6 and 7: a key longer than the block).
        let long_key = [0xaa; 80];
        let cases: [(&[u8], &[u8], &str); 5] = [
            (&[0x0b; 20], b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
            (b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (&[0xaa; 20], &[0xdd; 50], "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex(&hmac_sha1(key, data)), expected);
        }
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 §4, test cases 1, 2, 3, 6 and 7; some messages in parts, as the webhook
        // signature passes them.
        type Case<'a> = (&'a [u8], &'a [&'a [u8]], &'a str);
        let long_key = [0xaa; 131];
        let cases: [Case; 5] = [
            (&[0x0b; 20], &[b"Hi There"], "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"],
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (&[0xaa; 20], &[&[0xdd; 50]], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (
                &long_key,
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                &long_key,
                &[
                    b"This is a test using a larger than block-size key and a larger than block-size data.",
                    b" The key needs to be hashed before being used by the HMAC algorithm.",
                ],
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, parts, expected) in cases {
            assert_eq!(hex(&hmac_sha256(key, parts)), expected);
            assert!(verify_sha256(key, parts, &unhex(expected)));
        }
    }

    #[test]
    fn truncated_tags_verify_down_to_128_bits() {
        // RFC 4231 §4.6, test case 5: the tag truncated to 128 bits.
        let (key, data) = ([0x0c; 20], b"Test With Truncation");
        let tag = unhex("a3b6167473100ee06e0c796c2955552b");
        assert!(verify_sha256(&key, &[data], &tag));
        assert!(!verify_sha256(&key, &[data], &tag[..15]), "shorter than 16 bytes");
        let mut flipped = tag.clone();
        flipped[15] ^= 1;
        assert!(!verify_sha256(&key, &[data], &flipped));
        assert!(!verify_sha256(&key, &[b"Test With Truncation."], &tag));
    }

    #[test]
    fn signs_gateway_requests() {
        let [date, source, auth] = gateway_headers("AKIDid", "key", "my-app", "Tue, 31 Dec 2024 23:59:59 GMT");
        assert_eq!(date, ("x-date", "Tue, 31 Dec 2024 23:59:59 GMT".into()));
        assert_eq!(source, ("source", "my-app".into()));
        // The signature computed apart from this crate, with OpenSSL (Python's hmac agrees):
        //   printf 'x-date: Tue, 31 Dec 2024 23:59:59 GMT\nsource: my-app' \
        //     | openssl dgst -sha1 -hmac key -binary | base64
        assert_eq!(auth.0, "authorization");
        assert_eq!(
            auth.1,
            concat!(
                r#"hmac id="AKIDid", algorithm="hmac-sha1", headers="x-date source", "#,
                r#"signature="8Zjlw5VnIepnCu/yIEA+iLZuHK8=""#
            )
        );
    }

    #[test]
    fn signs_and_verifies_webhooks() {
        // The published example of the Standard Webhooks libraries ("sign function works" in
        // standard-webhooks/libraries/javascript/src/webhook.test.ts; Svix's libraries test it too).
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
