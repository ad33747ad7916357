//! CreateJob once, even when a browser sends it twice. Chromium resends a request (a POST
//! included) by itself when a reused connection closes before any byte of the answer, and
//! no page code can see that; a page's client that retries after an ambiguous failure
//! looks its job up first, but two copies in flight at once would both create a job. So
//! the proxy remembers, for a short while, each CreateJob that carries a `customId` of the
//! caller's: a copy with the same scoped `customId` and the same body gets the first one's
//! answer (waiting for it while it is in flight) instead of a second job. The claims are kept
//! in the shared state ([`super::shared`]), so that a copy sent to another instance is caught too.

use alloc::string::String;

use super::base64;
use super::identity::SCOPE_PREFIX_CHARS;
use super::signing::hmac_sha256;

/// The key of a CreateJob: an HMAC over its scoped `customId` and its upstream body (the
/// credentials left out), or `None` when the caller gave no `customId` of its own, so
/// that two jobs a caller did not name are never taken for one.
pub fn create_key(secret: &str, scoped_custom_id: &str, body_json: &str) -> Option<String> {
    if scoped_custom_id.len() <= SCOPE_PREFIX_CHARS {
        return None;
    }
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[b"singing-cloning create\0", scoped_custom_id.as_bytes(), b"\0", body_json.as_bytes()],
    );
    Some(base64::encode_url(&mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a proxy secret of some length";
    const SCOPED: &str = "uabcdefghijk_lesson_1";

    #[test]
    fn keys_need_a_custom_id_of_the_caller_and_differ_by_body_and_id() {
        assert_eq!(create_key(SECRET, "uabcdefghijk_", "{}"), None);
        let key = create_key(SECRET, SCOPED, r#"{"a":1}"#).unwrap();
        assert_eq!(create_key(SECRET, SCOPED, r#"{"a":1}"#).as_deref(), Some(key.as_str()));
        assert_ne!(create_key(SECRET, SCOPED, r#"{"a":2}"#).unwrap(), key);
        assert_ne!(create_key(SECRET, "uabcdefghijk_lesson_2", r#"{"a":1}"#).unwrap(), key);
        assert_ne!(create_key("another secret entirely", SCOPED, r#"{"a":1}"#).unwrap(), key);
        // The parts are separated, so that moving text from the id to the body changes the key.
        assert_ne!(
            create_key(SECRET, "uabcdefghijk_ab", "c").unwrap(),
            create_key(SECRET, "uabcdefghijk_a", "bc").unwrap()
        );
    }
}
