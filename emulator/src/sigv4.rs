//! AWS Signature Version 4 with query parameters ("presigned URLs"), as S3 checks them:
//! what the content store requires of every request once it has a key pair
//! (`--store-access-key-id`, `--store-secret-access-key`, `--store-region`).
//!
//! The canonical request is written here from the specification ("Authenticating Requests:
//! Using Query Parameters", Amazon S3 API Reference), not by the signing library the proxy
//! uses, so that the tests can hold the two against each other and against botocore.
//! This module depends on no other module of the emulator.

use singing_cloning::http_date::{civil_from_days, days_from_civil};
use std::fmt;
use std::fmt::Write as _;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The only algorithm S3 accepts in `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far `X-Amz-Date` may be ahead of the clock: S3's allowance for clock skew, seconds.
pub const MAX_CLOCK_SKEW_S: i64 = 15 * 60;
/// The longest validity S3 accepts in `X-Amz-Expires`, seconds (7 days).
pub const MAX_EXPIRES_S: u64 = 604_800;
/// The payload hash of a presigned request: the body is not signed (its length may be).
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// RFC 3986's unreserved characters are left as they are; every other byte is `%XX`, upper
/// case: SigV4's `UriEncode`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, with `/` left as it is: how S3 encodes the path (the object key) once.
const ENCODE_PATH: &AsciiSet = &ENCODE.remove(b'/');

/// The key pair of the content store and the region its requests are signed for.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKeys {
    /// `X-Amz-Credential` must name it.
    pub access_key_id: String,
    /// What signs; never sent.
    pub secret_access_key: String,
    /// `X-Amz-Credential`'s region, `us-east-1` unless told otherwise.
    pub region: String,
}

impl fmt::Debug for StoreKeys {
    // The secret stays out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("region", &self.region)
            .finish()
    }
}

/// A request as it arrived: what the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `GET`, `HEAD`, `PUT`…: signed, so a presigned GET cannot be used to PUT.
    pub method: &'a str,
    /// The path as sent, percent-encoded (`/cos/uploads/a%20b.wav`).
    pub path: &'a str,
    /// The query as sent, without `?`.
    pub query: Option<&'a str>,
    /// The request's headers (`host` among them).
    pub headers: &'a HeaderMap,
}

/// What a valid signature vouches for, beyond the request line and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The `content-length` that was signed, if it was: the body must have exactly that many bytes.
    pub content_length: Option<u64>,
}

/// Why a request is refused: S3's error code and a message. Every refusal is a 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `AccessDenied`, `InvalidAccessKeyId` or `SignatureDoesNotMatch`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl Refusal {
    fn denied(message: impl Into<String>) -> Refusal {
        Refusal { code: "AccessDenied", message: message.into() }
    }

    fn mismatch(message: impl Into<String>) -> Refusal {
        Refusal { code: "SignatureDoesNotMatch", message: message.into() }
    }
}

/// The parameters of a presigned request, read from its query.
struct Presigned {
    /// Every query parameter but `X-Amz-Signature`, decoded: all are signed.
    signed_query: Vec<(String, String)>,
    algorithm: String,
    credential: String,
    date: String,
    expires: String,
    signed_headers: String,
    signature: String,
    security_token: bool,
}

/// Checks that `request` is presigned with `keys` and valid at `now_s` (seconds since the
/// epoch), as S3 does: the algorithm, the credential (key id, date, region, service `s3`,
/// `aws4_request`), `X-Amz-Date` (not more than 15 minutes ahead), `X-Amz-Expires`
/// (1 to 604800, not past), the signed headers (`host` among them, each present), then the
/// signature over the canonical request, compared in constant time. Every query parameter but
/// the signature is part of the canonical request, so one added to a presigned URL breaks it.
pub fn verify(keys: &StoreKeys, request: &SignedRequest<'_>, now_s: i64) -> Result<Verified, Refusal> {
    let Some(presigned) = read_query(request.query)? else {
        return Err(Refusal::denied(if request.headers.contains_key("authorization") {
            "only presigned URLs (query parameters) are accepted, not a signed Authorization header"
        } else {
            "the content store requires presigned URLs: this request is not signed"
        }));
    };
    if presigned.algorithm != ALGORITHM {
        return Err(Refusal::denied(format!("X-Amz-Algorithm must be {ALGORITHM}")));
    }
    // `<key id>/<yyyymmdd>/<region>/s3/aws4_request`; a key id has no `/`.
    let scope: Vec<&str> = presigned.credential.split('/').collect();
    let [key_id, day, region, service, terminator] = scope[..] else {
        return Err(Refusal::denied("X-Amz-Credential must be <key id>/<yyyymmdd>/<region>/s3/aws4_request"));
    };
    if !constant_time_eq(key_id.as_bytes(), keys.access_key_id.as_bytes()) {
        return Err(Refusal {
            code: "InvalidAccessKeyId",
            message: "the access key id in X-Amz-Credential is not the store's".into(),
        });
    }
    if region != keys.region {
        return Err(Refusal::denied(format!(
            "the credential's region {region:?} is wrong: the store's is {:?}",
            keys.region
        )));
    }
    if service != "s3" || terminator != "aws4_request" {
        return Err(Refusal::denied("the credential's scope must end in /s3/aws4_request"));
    }
    let signed_at = parse_amz_date(&presigned.date)
        .ok_or_else(|| Refusal::denied("X-Amz-Date must be a time such as 20260115T120000Z"))?;
    if day != &presigned.date[..8] {
        return Err(Refusal::denied("the credential's date is not the day of X-Amz-Date"));
    }
    let expires = (presigned.expires.bytes().all(|b| b.is_ascii_digit()) && presigned.expires.len() <= 7)
        .then(|| presigned.expires.parse::<u64>().ok())
        .flatten()
        .filter(|e| (1..=MAX_EXPIRES_S).contains(e))
        .ok_or_else(|| {
            Refusal::denied(format!("X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_S}"))
        })?;
    if signed_at - now_s > MAX_CLOCK_SKEW_S {
        return Err(Refusal::denied("Request is not valid yet: X-Amz-Date is in the future"));
    }
    if now_s > signed_at + expires as i64 {
        return Err(Refusal::denied("Request has expired"));
    }
    if presigned.security_token {
        return Err(Refusal::denied("session tokens (X-Amz-Security-Token) are not accepted by this store"));
    }
    let names = signed_header_names(&presigned.signed_headers)?;
    let mut canonical_headers = String::new();
    let mut content_length = None;
    for name in &names {
        let value = header_value(request.headers, name)
            .ok_or_else(|| Refusal::denied(format!("the signed header {name} is missing or not text")))?;
        if *name == "content-length" {
            let length = value.parse::<u64>().map_err(|_| Refusal::denied("content-length is not a number"))?;
            content_length = Some(length);
        }
        let _ = writeln!(canonical_headers, "{name}:{value}");
    }
    let canonical = canonical_request(
        request.method,
        request.path,
        &presigned.signed_query,
        &canonical_headers,
        &presigned.signed_headers,
        UNSIGNED_PAYLOAD,
    );
    let expected = signature(&keys.secret_access_key, &presigned.date, region, &canonical);
    if !constant_time_eq(expected.as_bytes(), presigned.signature.as_bytes()) {
        return Err(Refusal::mismatch(
            "the request signature we calculated does not match the signature you provided: check the key pair, \
             the method, the path, every query parameter and the signed headers' values",
        ));
    }
    Ok(Verified { content_length })
}

/// A presigned URL's query for `method` on `path` (as it will be sent, percent-encoded),
/// signing `host` and the given `headers` (lower-case names and their values), valid
/// `expires_s` from `now_s`: `X-Amz-Algorithm=…&…&X-Amz-Signature=…`. For the URLs the
/// emulator hands out itself (the samples it prints, an upload's answer) when its store
/// requires signatures.
pub fn presign(
    keys: &StoreKeys,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    now_s: i64,
    expires_s: u64,
) -> String {
    let date = format_amz_date(now_s);
    let credential = format!("{}/{}/{}/s3/aws4_request", keys.access_key_id, &date[..8], keys.region);
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("host", host));
    all.sort_unstable();
    let signed_headers = all.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";");
    let canonical_headers: String = all.iter().map(|(name, value)| format!("{name}:{}\n", trim_all(value))).collect();
    let query: Vec<(String, String)> = [
        ("X-Amz-Algorithm", ALGORITHM.to_string()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", date.clone()),
        ("X-Amz-Expires", expires_s.clamp(1, MAX_EXPIRES_S).to_string()),
        ("X-Amz-SignedHeaders", signed_headers.clone()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    let canonical = canonical_request(method, path, &query, &canonical_headers, &signed_headers, UNSIGNED_PAYLOAD);
    let signature = signature(&keys.secret_access_key, &date, &keys.region, &canonical);
    format!("{}&X-Amz-Signature={signature}", canonical_query(&query))
}

/// The `X-Amz-*` parameters of `query`, or `None` when it has none of them (an unsigned
/// request). A parameter given twice is refused: which one was signed would be ambiguous.
fn read_query(query: Option<&str>) -> Result<Option<Presigned>, Refusal> {
    let mut signed_query = Vec::new();
    let mut fields: [Option<String>; 7] = Default::default();
    const NAMES: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        if let Some(index) = NAMES.iter().position(|n| *n == name) {
            if fields[index].replace(value.clone()).is_some() {
                return Err(Refusal::denied(format!("{name} is given twice")));
            }
        }
        if name != "X-Amz-Signature" {
            signed_query.push((name, value));
        }
    }
    if fields[..6].iter().all(Option::is_none) {
        return Ok(None);
    }
    let [algorithm, credential, date, expires, signed_headers, signature, token] = fields;
    let required = |field: Option<String>, name: &str| {
        field.ok_or_else(|| Refusal::denied(format!("a presigned URL needs {name}; it is missing")))
    };
    Ok(Some(Presigned {
        signed_query,
        algorithm: required(algorithm, NAMES[0])?,
        credential: required(credential, NAMES[1])?,
        date: required(date, NAMES[2])?,
        expires: required(expires, NAMES[3])?,
        signed_headers: required(signed_headers, NAMES[4])?,
        signature: required(signature, NAMES[5])?,
        security_token: token.is_some(),
    }))
}

/// `X-Amz-SignedHeaders`: lower-case names, sorted, each once, separated by `;`, `host`
/// among them (SigV4 requires it: the URL is good for one host only).
fn signed_header_names(list: &str) -> Result<Vec<&str>, Refusal> {
    let names: Vec<&str> = list.split(';').collect();
    let well_formed = names.iter().all(|n| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }) && names.windows(2).all(|w| w[0] < w[1]);
    if !well_formed {
        return Err(Refusal::denied("X-Amz-SignedHeaders must be lower-case header names, sorted, separated by ;"));
    }
    if !names.contains(&"host") {
        return Err(Refusal::denied("X-Amz-SignedHeaders must include host"));
    }
    Ok(names)
}

/// A header's canonical value: every value of the name, joined by `,`, each with its
/// spaces trimmed and runs of them made one; `None` when absent or not text.
fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let texts: Option<Vec<String>> = values.map(|v| v.to_str().ok().map(trim_all)).collect();
    Some(texts?.join(","))
}

fn trim_all(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SigV4's canonical request. The path is decoded and encoded again (once, `/` kept), so
/// that every client's spelling of the same key signs the same; S3 does not normalize `.`
/// and `..` segments, nor does this.
fn canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let bytes: Vec<u8> = percent_decode_str(path).collect();
    let path = percent_encoding::percent_encode(&bytes, ENCODE_PATH);
    format!("{method}\n{path}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}", canonical_query(query))
}

/// Names and values encoded, sorted by name then value (after encoding, as the
/// specification says), joined by `&`.
fn canonical_query(query: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = query.iter().map(|(n, v)| (encode(n), encode(v))).collect();
    encoded.sort_unstable();
    encoded.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

/// The hex signature of `canonical`: the string to sign, HMAC'd with the key derived from
/// the secret, the day, the region, `s3` and `aws4_request`.
fn signature(secret: &str, date: &str, region: &str, canonical: &str) -> String {
    let day = &date[..8.min(date.len())];
    let scope = format!("{day}/{region}/s3/aws4_request");
    let string_to_sign = format!("{ALGORITHM}\n{date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    for part in [region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// `path` (a URL path, `/` separated) encoded as S3 signs it: every byte but RFC 3986's
/// unreserved characters and `/` as `%XX`.
pub fn encode_path(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, ENCODE_PATH).to_string()
}

/// The clock the checks run on: seconds since the epoch.
pub fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, ENCODE).to_string()
}

/// Compares without stopping at the first difference, so that timing does not tell how
/// much of a guessed signature (or key) is right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `YYYYMMDDTHHMMSSZ` (UTC) as seconds since the epoch.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let month_days = [31, if is_leap(year) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month as u32, day as u32) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Seconds since the epoch as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_write() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        // AWS's example: Fri, 24 May 2013 00:00:00 GMT.
        assert_eq!(parse_amz_date("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199));
        assert_eq!(format_amz_date(1_709_251_199), "20240229T235959Z");
        for bad in
            ["20230229T000000Z", "20130524T240000Z", "2013-05-24T00:00:00Z", "20130524T000000", "2013052aT000000Z"]
        {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        for seconds in [0, 951_782_400, 1_369_353_600, 4_102_444_799] {
            assert_eq!(parse_amz_date(&format_amz_date(seconds)), Some(seconds));
        }
    }

    /// AWS's published example (GET /test.txt from examplebucket, 20130524T000000Z, 86400 s):
    /// its canonical request and signature, from the Amazon S3 API Reference.
    #[test]
    fn the_published_aws_example_verifies() {
        let keys = StoreKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        let query = concat!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host",
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        );
        let request = SignedRequest { method: "GET", path: "/test.txt", query: Some(query), headers: &headers };
        let at = 1_369_353_600;
        assert_eq!(verify(&keys, &request, at + 10), Ok(Verified { content_length: None }));
        let presigned = presign(&keys, "GET", "examplebucket.s3.amazonaws.com", "/test.txt", &[], at, 86_400);
        assert_eq!(presigned, query);
        assert_eq!(verify(&keys, &request, at + 86_401).unwrap_err().message, "Request has expired");
    }
}
