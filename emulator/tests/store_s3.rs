//! The content store as an S3 endpoint with a key pair: every `/cos` request must be
//! presigned (AWS Signature Version 4, query parameters). The emulator's check is held to
//! two other implementations: URLs botocore presigned (literals, checked at their time) and
//! URLs rusty-s3 — what the proxy presigns with — makes here, over real HTTP: uploads,
//! downloads, HEAD, ranges, a job reading an upload by its presigned URL, and refusals.

mod common;

use std::time::Duration;

use axum::http::HeaderMap;
use common::signal::{read_wav, sung_line, wav_bytes};
use common::{start_with, Harness};
use rusty_s3::actions::{GetObject, HeadObject, PutObject};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde_json::json;
use singing_cloning_emulator::sigv4::{self, SignedRequest, StoreKeys, Verified};
use singing_cloning_emulator::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY_ID: &str = "emulator-key-id";
const SECRET: &str = "emulator-secret/key+0";
const WAIT: Duration = Duration::from_secs(60);

fn keys() -> StoreKeys {
    StoreKeys { access_key_id: KEY_ID.into(), secret_access_key: SECRET.into(), region: "us-east-1".into() }
}

// Made once with botocore 1.44.8 at a frozen clock (freezegun, 2026-01-15 12:00:00 UTC):
//
//     s3 = botocore.session.get_session().create_client("s3", region_name="us-east-1",
//         endpoint_url="http://127.0.0.1:8790/cos", aws_access_key_id="emulator-key-id",
//         aws_secret_access_key="emulator-secret/key+0",
//         config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
//     s3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "u1abc_/3f9c.wav",
//         "ContentType": "audio/wav", "ContentLength": 1234}, ExpiresIn=900)
//     s3.generate_presigned_url("get_object", Params={"Bucket": "results", "Key": "out/take 1 (é).wav"},
//         ExpiresIn=3600)
//     s3.generate_presigned_url("get_object", Params={"Bucket": "results", "Key": "out/a.wav",
//         "ResponseContentType": "audio/wav"}, ExpiresIn=3600)
const BOTO_PUT: &str = concat!(
    "http://127.0.0.1:8790/cos/uploads/u1abc_/3f9c.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "&X-Amz-Credential=emulator-key-id%2F20260115%2Fus-east-1%2Fs3%2Faws4_request",
    "&X-Amz-Date=20260115T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost",
    "&X-Amz-Signature=0f76975ad07b2956b4909887721cd430e1527a5394920cbbb9e8f25daec07b1b",
);
const BOTO_GET: &str = concat!(
    "http://127.0.0.1:8790/cos/results/out/take%201%20%28%C3%A9%29.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "&X-Amz-Credential=emulator-key-id%2F20260115%2Fus-east-1%2Fs3%2Faws4_request",
    "&X-Amz-Date=20260115T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host",
    "&X-Amz-Signature=d21e29b6cd9879fa5da40c379e2e299fd0b6c67eb8cbf27235820b24388c46c1",
);
const BOTO_GET_QUERY: &str = concat!(
    "http://127.0.0.1:8790/cos/results/out/a.wav?response-content-type=audio%2Fwav&X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "&X-Amz-Credential=emulator-key-id%2F20260115%2Fus-east-1%2Fs3%2Faws4_request",
    "&X-Amz-Date=20260115T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host",
    "&X-Amz-Signature=33546f1fec8d2ce7d9215108324c69371a7b9ca1e0db25f5d57e656e97f15d45",
);
/// 2026-01-15T12:00:00Z, when botocore signed them.
const BOTO_AT: i64 = 1_768_478_400;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, value.parse().unwrap());
    }
    map
}

/// `method url` with `headers`, checked by the emulator at `now_s`; the code of a refusal.
fn check(keys: &StoreKeys, method: &str, url: &str, headers: &HeaderMap, now_s: i64) -> Result<Verified, String> {
    let rest = url.strip_prefix("http://127.0.0.1:8790").expect("a URL of the literals' host");
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    let request = SignedRequest { method, path, query, headers };
    sigv4::verify(keys, &request, now_s).map_err(|refusal| refusal.code.to_string())
}

fn put_headers(content_type: &str, length: &str) -> HeaderMap {
    headers(&[("host", "127.0.0.1:8790"), ("content-type", content_type), ("content-length", length)])
}

#[test]
fn urls_presigned_by_botocore_are_accepted_as_signed_and_nothing_else() {
    let keys = keys();
    let put = put_headers("audio/wav", "1234");
    let accepted = Verified { content_length: Some(1234) };
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put, BOTO_AT), Ok(accepted));
    // Valid from 15 minutes before X-Amz-Date (clock skew) to X-Amz-Expires after it.
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put, BOTO_AT - 899), Ok(accepted));
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put, BOTO_AT + 900), Ok(accepted));
    let expired = sigv4::verify(
        &keys,
        &SignedRequest {
            method: "PUT",
            path: "/cos/uploads/u1abc_/3f9c.wav",
            query: BOTO_PUT.split_once('?').map(|(_, q)| q),
            headers: &put,
        },
        BOTO_AT + 901,
    )
    .unwrap_err();
    assert_eq!((expired.code, expired.message.as_str()), ("AccessDenied", "Request has expired"));
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put, BOTO_AT - 901).unwrap_err(), "AccessDenied");

    // Each signed header must be sent with its signed value.
    let mismatch = Err("SignatureDoesNotMatch".to_string());
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put_headers("audio/mpeg", "1234"), BOTO_AT), mismatch);
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put_headers("audio/wav", "1233"), BOTO_AT), mismatch);
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &put_headers("audio/wav", "1235"), BOTO_AT), mismatch);
    let other_host = headers(&[("host", "127.0.0.1:8791"), ("content-type", "audio/wav"), ("content-length", "1234")]);
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &other_host, BOTO_AT), mismatch);
    let no_type = headers(&[("host", "127.0.0.1:8790"), ("content-length", "1234")]);
    assert_eq!(check(&keys, "PUT", BOTO_PUT, &no_type, BOTO_AT).unwrap_err(), "AccessDenied");
    // The method, the path and every query parameter are signed.
    assert_eq!(check(&keys, "GET", BOTO_PUT, &put, BOTO_AT), mismatch);
    let other_key = BOTO_PUT.replace("3f9c.wav", "3f9d.wav");
    assert_eq!(check(&keys, "PUT", &other_key, &put, BOTO_AT), mismatch);
    assert_eq!(check(&keys, "PUT", &format!("{BOTO_PUT}&x-id=PutObject"), &put, BOTO_AT), mismatch);
    let longer = BOTO_PUT.replace("X-Amz-Expires=900", "X-Amz-Expires=3600");
    assert_eq!(check(&keys, "PUT", &longer, &put, BOTO_AT), mismatch);
    let tampered = format!("{}c", &BOTO_PUT[..BOTO_PUT.len() - 1]);
    assert_eq!(check(&keys, "PUT", &tampered, &put, BOTO_AT), mismatch);
    // Another key pair or region.
    let other_secret = StoreKeys { secret_access_key: "another-secret".into(), ..keys.clone() };
    assert_eq!(check(&other_secret, "PUT", BOTO_PUT, &put, BOTO_AT), mismatch);
    let other_id = StoreKeys { access_key_id: "another-id".into(), ..keys.clone() };
    assert_eq!(check(&other_id, "PUT", BOTO_PUT, &put, BOTO_AT).unwrap_err(), "InvalidAccessKeyId");
    let other_region = StoreKeys { region: "eu-west-1".into(), ..keys.clone() };
    assert_eq!(check(&other_region, "PUT", BOTO_PUT, &put, BOTO_AT).unwrap_err(), "AccessDenied");
    // A parameter given twice is ambiguous.
    let twice = format!("{BOTO_PUT}&X-Amz-Date=20260115T120000Z");
    assert_eq!(check(&keys, "PUT", &twice, &put, BOTO_AT).unwrap_err(), "AccessDenied");

    // A key with a space, parentheses and a non-ASCII letter: the path is signed encoded
    // once, however the client spelled it.
    let get = headers(&[("host", "127.0.0.1:8790")]);
    let none = Verified { content_length: None };
    assert_eq!(check(&keys, "GET", BOTO_GET, &get, BOTO_AT + 3600), Ok(none));
    let spelled = BOTO_GET.replace("%28", "(").replace("%29", ")");
    assert_eq!(check(&keys, "GET", &spelled, &get, BOTO_AT), Ok(none));
    assert_eq!(check(&keys, "HEAD", BOTO_GET, &get, BOTO_AT), mismatch);
    assert_eq!(check(&keys, "GET", BOTO_GET, &get, BOTO_AT + 3601).unwrap_err(), "AccessDenied");
    // A signed parameter that is not X-Amz-*: it must be there, with its value.
    assert_eq!(check(&keys, "GET", BOTO_GET_QUERY, &get, BOTO_AT), Ok(none));
    let dropped = BOTO_GET_QUERY.replace("response-content-type=audio%2Fwav&", "");
    assert_eq!(check(&keys, "GET", &dropped, &get, BOTO_AT), mismatch);
    let changed = BOTO_GET_QUERY.replace("audio%2Fwav", "audio%2Fmpeg");
    assert_eq!(check(&keys, "GET", &changed, &get, BOTO_AT), mismatch);
    // Unsigned, or signed by a header: refused.
    assert_eq!(
        check(&keys, "GET", "http://127.0.0.1:8790/cos/results/out/a.wav", &get, BOTO_AT).unwrap_err(),
        "AccessDenied"
    );
}

/// An emulator whose store requires the test key pair.
async fn start_signed() -> Harness {
    start_with(Config {
        store_access_key_id: Some(KEY_ID.into()),
        store_secret_access_key: Some(SECRET.into()),
        ..common::config(20)
    })
    .await
}

/// A bucket of the emulator's store, as the proxy sees it: endpoint `{origin}/cos`, path style.
fn bucket(h: &Harness, name: &str) -> Bucket {
    let endpoint = url::Url::parse(&format!("{}/cos", h.origin)).unwrap();
    Bucket::new(endpoint, UrlStyle::Path, name.to_string(), "us-east-1").unwrap()
}

fn credentials() -> Credentials {
    Credentials::new(KEY_ID, SECRET)
}

fn at(offset_s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(sigv4::now_s() + offset_s).unwrap()
}

/// A presigned PUT of `key` in `bucket` for `content_type` and `length` bytes, as the proxy makes it.
fn presign_put(h: &Harness, bucket_name: &str, key: &str, content_type: &str, length: usize) -> String {
    let bucket = bucket(h, bucket_name);
    let credentials = credentials();
    let length = length.to_string();
    let mut put = PutObject::new(&bucket, Some(&credentials), key);
    put.headers_mut().insert("content-length", length.as_str());
    put.headers_mut().insert("content-type", content_type);
    put.sign_with_time(Duration::from_secs(900), &at(0)).into()
}

fn presign_get_at(h: &Harness, bucket_name: &str, key: &str, offset_s: i64, expires_s: u64) -> String {
    let bucket = bucket(h, bucket_name);
    let credentials = credentials();
    GetObject::new(&bucket, Some(&credentials), key)
        .sign_with_time(Duration::from_secs(expires_s), &at(offset_s))
        .into()
}

fn presign_get(h: &Harness, bucket_name: &str, key: &str) -> String {
    presign_get_at(h, bucket_name, key, 0, 900)
}

async fn put(h: &Harness, url: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    h.client.put(url).header("content-type", content_type).body(body).send().await.unwrap()
}

/// The S3 error code of an XML answer.
async fn s3_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/xml");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let text = response.text().await.unwrap();
    assert!(text.contains("<Error><Code>") && text.contains("<RequestId>"), "{text}");
    let code = text.split("<Code>").nth(1).and_then(|t| t.split("</Code>").next()).unwrap_or_default();
    (status, code.to_string())
}

#[tokio::test]
async fn rusty_s3_urls_upload_download_and_feed_a_job() {
    let h = start_signed().await;
    let rate = 22_050;
    let wav = wav_bytes(rate, &[sung_line(rate, &[(311.13, 0.6), (293.66, 0.6)])]);

    let url = presign_put(&h, "uploads", "u1abc_/3f9c.wav", "audio/wav", wav.len());
    assert!(url.starts_with(&format!("{}/cos/uploads/u1abc_/3f9c.wav?X-Amz-", h.origin)), "{url}");
    let response = put(&h, &url, "audio/wav", wav.clone()).await;
    assert_eq!(response.status().as_u16(), 201);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(std::fs::read(h.emulator.data_dir().join("cos/uploads/u1abc_/3f9c.wav")).unwrap(), wav);

    let got = h.client.get(presign_get(&h, "uploads", "u1abc_/3f9c.wav")).send().await.unwrap();
    assert_eq!((got.status().as_u16(), got.headers()["content-type"].to_str().unwrap()), (200, "audio/wav"));
    assert_eq!(got.headers()["access-control-allow-origin"], "*");
    assert_eq!(got.bytes().await.unwrap(), wav);
    // The upload's answer hands back a URL presigned by the emulator, which works as it is.
    let handed = answer["url"].as_str().unwrap();
    assert!(handed.contains("X-Amz-Signature="), "{handed}");
    assert_eq!(h.client.get(handed).send().await.unwrap().bytes().await.unwrap(), wav);

    let bucket = bucket(&h, "uploads");
    let credentials = credentials();
    let head = HeadObject::new(&bucket, Some(&credentials), "u1abc_/3f9c.wav").sign(Duration::from_secs(60));
    let head = h.client.head(head).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), wav.len().to_string());

    // A range, for <audio> seeking.
    let part =
        h.client.get(presign_get(&h, "uploads", "u1abc_/3f9c.wav")).header("range", "bytes=4-11").send().await.unwrap();
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 4-11/{}", wav.len()));
    assert_eq!(part.bytes().await.unwrap(), wav[4..12]);
    let tail = h.client.get(presign_get(&h, "uploads", "u1abc_/3f9c.wav")).header("range", "bytes=-4").send().await;
    assert_eq!(tail.unwrap().bytes().await.unwrap(), wav[wav.len() - 4..]);
    let past = h
        .client
        .get(presign_get(&h, "uploads", "u1abc_/3f9c.wav"))
        .header("range", format!("bytes={}-", wav.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status().as_u16(), 416);

    // A job reads the upload by its presigned URL (the emulator fetches its own store, query
    // and all), and writes its result where the proxy's presigned GET of
    // `destination/songName` in bucket `contentId` finds it.
    let input = presign_get_at(&h, "uploads", "u1abc_/3f9c.wav", 0, 3600);
    let job = h
        .create(json!({
            "inputs": [{"url": input}],
            "outputs": [{
                "contentId": "results",
                "destination": "/out/",
                "inputSelectors": [0],
                "smartContentDescriptor": {"singingCloning": {"type": 1, "modelName": "default"}}
            }]
        }))
        .await;
    let job = h.wait_final(&job, WAIT).await;
    assert_eq!(job["state"], 3, "{}", h.admin_jobs().await);
    let song = job["outputs"][0]["smartContentResult"]["singingCloning"]["songName"].as_str().unwrap().to_string();
    let result = h.client.get(presign_get(&h, "results", &format!("out/{song}"))).send().await.unwrap();
    assert_eq!(result.status().as_u16(), 200);
    let result = read_wav(&result.bytes().await.unwrap());
    assert!((result.seconds() - 1.2).abs() < 0.05, "{}", result.seconds());
    // Unsigned, the result is refused; so is a job's unsigned URL of the store.
    let unsigned = h.client.get(format!("{}/cos/results/out/{song}", h.origin)).send().await.unwrap();
    assert_eq!(s3_code(unsigned).await, (403, "AccessDenied".into()));
    let job = h
        .create(json!({
            "inputs": [{"url": format!("{}/cos/uploads/u1abc_/3f9c.wav", h.origin)}],
            "outputs": [{"contentId": "results", "inputSelectors": [0],
                "smartContentDescriptor": {"singingCloning": {"type": 1, "modelName": "default"}}}]
        }))
        .await;
    assert_eq!(h.wait_final(&job, WAIT).await["state"], 4);
    let errors = h.admin_jobs().await.to_string();
    assert!(errors.contains("HTTP 403"), "{errors}");
    h.stop().await;
}

#[tokio::test]
async fn unsigned_forged_stale_and_mismatched_requests_are_refused() {
    let h = start_signed().await;
    let file = h.emulator.data_dir().join("cos/uploads/u1/a.wav");
    let body = vec![7u8; 100];
    let denied = (403, "AccessDenied".to_string());
    let mismatch = (403, "SignatureDoesNotMatch".to_string());

    // Unsigned: the samples, an upload (not written), a HEAD.
    assert_eq!(s3_code(h.get("/cos/samples/voice.wav").await).await, denied);
    let response = put(&h, &format!("{}/cos/uploads/u1/a.wav", h.origin), "audio/wav", body.clone()).await;
    assert_eq!(s3_code(response).await, denied);
    let head = h.client.head(format!("{}/cos/samples/voice.wav", h.origin)).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 403);

    // Forged: a signature changed, another key pair, an unsigned parameter added.
    let url = presign_put(&h, "uploads", "u1/a.wav", "audio/wav", body.len());
    let forged = format!("{}{}", &url[..url.len() - 1], if url.ends_with('0') { '1' } else { '0' });
    assert_eq!(s3_code(put(&h, &forged, "audio/wav", body.clone()).await).await, mismatch);
    let bucket = bucket(&h, "uploads");
    let other = Credentials::new(KEY_ID, "another-secret");
    let wrong_key = GetObject::new(&bucket, Some(&other), "u1/a.wav").sign(Duration::from_secs(60));
    assert_eq!(s3_code(h.client.get(wrong_key).send().await.unwrap()).await, mismatch);
    let other = Credentials::new("another-id", SECRET);
    let wrong_id = GetObject::new(&bucket, Some(&other), "u1/a.wav").sign(Duration::from_secs(60));
    assert_eq!(s3_code(h.client.get(wrong_id).send().await.unwrap()).await, (403, "InvalidAccessKeyId".into()));
    let sample = presign_get(&h, "samples", "voice.wav");
    assert_eq!(h.client.get(&sample).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(s3_code(h.client.get(format!("{sample}&x=1")).send().await.unwrap()).await, mismatch);
    // A presigned GET does not PUT.
    let as_put = put(&h, &presign_get(&h, "uploads", "u1/a.wav"), "audio/wav", body.clone()).await;
    assert_eq!(s3_code(as_put).await, mismatch);

    // Stale: expired, or dated an hour ahead.
    let expired = presign_get_at(&h, "samples", "voice.wav", -3600, 60);
    let response = h.client.get(expired).send().await.unwrap();
    assert_eq!(s3_code(response).await, denied);
    let ahead = presign_get_at(&h, "samples", "voice.wav", 3600, 60);
    assert_eq!(s3_code(h.client.get(ahead).send().await.unwrap()).await, denied);

    // Mismatched: another content type, a body shorter or longer than the signed length.
    assert_eq!(s3_code(put(&h, &url, "audio/mpeg", body.clone()).await).await, mismatch);
    assert_eq!(s3_code(put(&h, &url, "audio/wav", vec![7u8; 50]).await).await, mismatch);
    assert_eq!(s3_code(put(&h, &url, "audio/wav", vec![7u8; 150]).await).await, mismatch);
    assert!(!file.exists());
    // A chunked body has no content-length to match the signed one.
    let (path_and_query, host) = split_url(&h, &url);
    let chunked = format!(
        "PUT {path_and_query} HTTP/1.1\r\nhost: {host}\r\ncontent-type: audio/wav\r\ntransfer-encoding: chunked\r\n\
         connection: close\r\n\r\n64\r\n{}\r\n0\r\n\r\n",
        "x".repeat(100)
    );
    assert!(raw(&h, &chunked).await.starts_with("HTTP/1.1 403"));
    assert!(!file.exists());
    // The signed content-length with a chunked body of another length: HTTP drops the length
    // (chunked wins), so the signed header is missing.
    let both = format!(
        "PUT {path_and_query} HTTP/1.1\r\nhost: {host}\r\ncontent-type: audio/wav\r\ncontent-length: 100\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n96\r\n{}\r\n0\r\n\r\n",
        "x".repeat(150)
    );
    let answer = raw(&h, &both).await;
    assert!(answer.starts_with("HTTP/1.1 403") && answer.contains("content-length is missing"), "{answer}");
    assert!(!file.exists());
    // As signed, it is stored.
    assert_eq!(put(&h, &url, "audio/wav", body.clone()).await.status().as_u16(), 201);
    assert_eq!(std::fs::read(&file).unwrap(), body);
    h.stop().await;
}

/// The path and query of `url`, and its host.
fn split_url(h: &Harness, url: &str) -> (String, String) {
    let rest = url.strip_prefix(&h.origin).unwrap().to_string();
    (rest, h.origin.trim_start_matches("http://").to_string())
}

/// Sends `request` as it is and reads the answer until the connection closes.
async fn raw(h: &Harness, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(h.emulator.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn signed_keys_outside_the_store_are_refused() {
    let h = start_signed().await;
    let host = h.origin.trim_start_matches("http://").to_string();
    let outside = h.emulator.data_dir().join("jobs/planted.json");
    // Paths no URL library would send as they are (they resolve `..`), signed by the
    // emulator's own presigning for exactly these bytes: the signature holds, the path does not.
    for (method, path) in [
        ("GET", "/cos/../models.json"),
        ("GET", "/cos/samples/../../models.json"),
        ("GET", "/cos/samples/..%2F..%2Fmodels.json"),
        ("GET", "/cos/%2E%2E/models.json"),
        ("PUT", "/cos/uploads/../../jobs/planted.json"),
        ("PUT", "/cos/..%2Fjobs/planted.json"),
    ] {
        let signed_headers: &[(&str, &str)] = if method == "PUT" { &[("content-length", "2")] } else { &[] };
        let query = sigv4::presign(&keys(), method, &host, path, signed_headers, sigv4::now_s(), 60);
        let body = if method == "PUT" { "content-length: 2\r\n\r\n{}" } else { "\r\n" };
        let request = format!("{method} {path}?{query} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n{body}");
        let answer = raw(&h, &request).await;
        let status = answer.get(9..12).unwrap_or_default();
        assert!(status == "400" || status == "404", "{method} {path}: {answer}");
        assert!(!answer.contains("defaultCreatedAt"), "{path}: {answer}");
        // Unsigned, the same is refused before the path is looked at.
        let unsigned = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n{body}");
        assert!(raw(&h, &unsigned).await.starts_with("HTTP/1.1 403"), "{path}");
    }
    assert!(!outside.exists());
    // The emulator's presigning is the one checked: a plain key signed the same way is served.
    let query = sigv4::presign(&keys(), "GET", &host, "/cos/samples/voice.wav", &[], sigv4::now_s(), 60);
    let request = format!("GET /cos/samples/voice.wav?{query} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    assert!(raw(&h, &request).await.starts_with("HTTP/1.1 200"));
    h.stop().await;
}

#[tokio::test]
async fn pages_may_upload_directly_after_a_preflight() {
    let h = start_signed().await;
    let preflight = h
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/cos/uploads/u1/a.wav", h.origin))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type,x-amz-meta-title")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let allowed = |name: &str| preflight.headers()[name].to_str().unwrap().to_ascii_lowercase();
    assert_eq!(allowed("access-control-allow-origin"), "*");
    for method in ["put", "get", "head"] {
        assert!(allowed("access-control-allow-methods").contains(method));
    }
    for name in ["content-type", "range", "x-amz-meta-title"] {
        assert!(allowed("access-control-allow-headers").contains(name), "{name}");
    }
    assert!(allowed("access-control-expose-headers").contains("content-range"));
    // A page's upload, signed as the proxy signs it, with the page's Origin.
    let body = vec![1u8; 10];
    let url = presign_put(&h, "uploads", "u1/a.wav", "audio/wav", body.len());
    let response = h
        .client
        .put(url)
        .header("origin", "http://localhost:5173")
        .header("content-type", "audio/wav")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    h.stop().await;
}

#[tokio::test]
async fn an_open_store_serves_signed_and_unsigned_requests_and_ranges() {
    let h = start_with(common::config(20)).await;
    let body = b"0123456789".to_vec();
    h.put_file("open", "/a.bin", body.clone()).await;
    let url = presign_get(&h, "open", "a.bin");
    assert_eq!(h.client.get(url).send().await.unwrap().bytes().await.unwrap(), body);
    let part = h.client.get(format!("{}/cos/open/a.bin", h.origin)).header("range", "bytes=8-").send().await.unwrap();
    assert_eq!((part.status().as_u16(), part.headers()["content-range"].to_str().unwrap()), (206, "bytes 8-9/10"));
    assert_eq!(part.bytes().await.unwrap(), body[8..]);
    // Several spans: the whole file, as a server may answer.
    let whole = h.client.get(format!("{}/cos/open/a.bin", h.origin)).header("range", "bytes=0-1,4-5").send().await;
    let whole = whole.unwrap();
    assert_eq!((whole.status().as_u16(), whole.headers()["accept-ranges"].to_str().unwrap()), (200, "bytes"));
    h.stop().await;
}
