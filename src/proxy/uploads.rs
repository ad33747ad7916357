//! Uploads and results through object storage. `POST {prefix}/uploads` with
//! `{contentType, size}` answers a presigned PUT for exactly that type and length, under a
//! random key in the caller's own folder, and the presigned GET a job takes as its input;
//! `GET {prefix}/results/{jobId}[/{outputIndex}]` answers a 302 to a short-lived
//! presigned GET of one of the caller's results. The proxy signs; the bytes go between
//! the page and the store.

use alloc::string::String;
use alloc::vec::Vec;

use super::error_code::ProxyErrorCode;
use super::reply::Reply;
use super::scope::Scope;
use super::scrub::Scrubber;
use super::shared::Op;
use super::storage::{extension_of, result_key, Storage, Store};
use super::upstream;
use crate::error::{Issue, IssueCode};
use crate::model::read::{push_index, push_key, Field, Path, Reader};
use crate::model::{Envelope, JobState, Request, Value};
use crate::transport::Answer;

/// Folder of the uploads in the uploads bucket; each caller's are under its scope prefix.
pub const UPLOADS_FOLDER: &str = "uploads";

/// What a page asks to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub content_type: String,
    pub size: u64,
}

/// Reads `{contentType, size}`: an audio type the service decodes and a whole number of
/// bytes from 1 to `max_bytes`.
pub fn read_request(bytes: &[u8], max_bytes: u64) -> Result<UploadRequest, Reply> {
    let Some(body) = core::str::from_utf8(bytes).ok().and_then(|t| Value::parse(t).ok()) else {
        return Err(Reply::error(400, ProxyErrorCode::BadJson, "the body is not JSON"));
    };
    let mut r = Reader::default();
    let root = Field::new(Some(&body), Path::Root);
    let at = root.key("contentType");
    let content_type = r.string(at, true);
    if content_type.is_some_and(|t| extension_of(t).is_none()) {
        let message = "must be an audio type the service decodes: audio/wav, audio/mpeg or audio/flac";
        r.report(&at.path, IssueCode::Pattern, message);
    }
    let message = "must be a whole number of bytes, at least 1 and at most the proxy's upload limit";
    let size = r.integer_in(root.key("size"), true, 1.0, max_bytes as f64, message);
    let asked =
        UploadRequest { content_type: content_type.unwrap_or_default().into(), size: size.unwrap_or(0.0) as u64 };
    r.finish(asked).map_err(|issues| {
        let message = "the upload request breaks the proxy's rules";
        Reply::error_with_issues(400, ProxyErrorCode::Validation, message, &issues)
    })
}

/// The key of a new upload: the caller's folder and 16 random bytes in hex, so that no
/// caller can guess, or choose, another's.
pub fn upload_key(scope_prefix: &str, random: &[u8; 16], extension: &str) -> String {
    let mut key = String::from(UPLOADS_FOLDER);
    key.push('/');
    key.push_str(scope_prefix);
    key.push('/');
    for byte in random {
        key.push(char::from_digit((byte >> 4) as u32, 16).unwrap_or('0'));
        key.push(char::from_digit((byte & 15) as u32, 16).unwrap_or('0'));
    }
    key.push('.');
    key.push_str(extension);
    key
}

/// The 201 answer to an upload request: the PUT to make and the input to use.
pub fn presign_upload(
    store: &Store,
    storage: &Storage,
    scope_prefix: &str,
    random: &[u8; 16],
    asked: &UploadRequest,
    now_s: i64,
) -> Reply {
    let extension = extension_of(&asked.content_type).unwrap_or("bin");
    let key = upload_key(scope_prefix, random, extension);
    let put =
        store.presign_put(&storage.bucket, &key, &asked.content_type, asked.size, now_s, storage.upload_expires_s);
    let get = store.presign_get(&storage.bucket, &key, now_s, storage.input_expires_s);
    let (Ok(put), Ok(get)) = (put, get) else { return storage_misconfigured() };
    let expires_at = now_s.saturating_add(storage.upload_expires_s as i64);
    let body = Value::Object(alloc::vec![
        ("uploadUrl".into(), Value::String(put)),
        ("method".into(), Value::String("PUT".into())),
        (
            "headers".into(),
            Value::Object(alloc::vec![("content-type".into(), Value::String(asked.content_type.clone()))])
        ),
        ("expiresAt".into(), Value::String(iso_time(expires_at))),
        ("input".into(), Value::Object(alloc::vec![("url".into(), Value::String(get))])),
    ]);
    Reply::json(201, body.to_json())
}

/// The 302 to a presigned GET of output `index`'s result file of a job the caller owns
/// (`job` as GetJob gives it), or why there is none.
pub fn result_redirect(store: &Store, storage: &Storage, job: &Value, index: usize, now_s: i64) -> Reply {
    let state = match job.get("state") {
        Some(Value::Number(n)) => JobState::from_code(n.get() as i64),
        _ => JobState::Unknown(0),
    };
    if state != JobState::Completed {
        return Reply::error(409, ProxyErrorCode::ResultNotReady, "the job has not completed: it has no result yet");
    }
    let output = match job.get("outputs") {
        Some(Value::Array(outputs)) => outputs.get(index),
        _ => None,
    };
    let no_result = || Reply::error(404, ProxyErrorCode::ResultNotFound, "this job has no result file at this index");
    let Some(output) = output else { return no_result() };
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(String::from);
    let song_name =
        output.get("smartContentResult").and_then(|r| r.get("singingCloning")).and_then(|c| c.get("songName"));
    let (Some(content_id), Some(song_name)) = (text(output.get("contentId")), text(song_name)) else {
        return no_result();
    };
    let destination = text(output.get("destination")).unwrap_or_else(|| "/".into());
    let Some(key) = result_key(&destination, &song_name) else { return no_result() };
    match store.presign_get(storage.bucket_of(&content_id), &key, now_s, storage.result_expires_s) {
        Ok(url) => Reply::empty(302).with_header("location", url),
        Err(_) => storage_misconfigured(),
    }
}

/// The 500 for storage settings that cannot sign (checked when the config is read, so rare).
pub fn storage_misconfigured() -> Reply {
    Reply::error(500, ProxyErrorCode::StorageMisconfigured, "the proxy's storage settings cannot sign this object")
}

/// Issues for each `source` input of a CreateJob that is not one of the caller's own
/// files: an upload in its folder of the uploads bucket, or a result in its folder of any
/// repository (see [`Scope::files_folder`]). Checked before scoping, on the caller's paths.
pub fn check_sources(envelope: &Envelope, scope: &Scope, storage: &Storage) -> Vec<Issue> {
    let Request::CreateJob(create) = &envelope.request else { return Vec::new() };
    let folder = scope.files_folder();
    let mut issues = Vec::new();
    for (i, input) in create.inputs.iter().enumerate() {
        let Some(source) = &input.source else { continue };
        let path = source.path.trim_start_matches('/');
        // `text` is a file below the folder `base`.
        let under = |text: &str, base: &str| {
            text.strip_prefix(base).and_then(|rest| rest.strip_prefix('/')).is_some_and(|rest| !rest.is_empty())
        };
        let upload = storage.bucket_of(&source.content_id) == storage.bucket
            && path
                .strip_prefix(UPLOADS_FOLDER)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| under(rest, folder));
        let clean = !path.split('/').any(|part| part == "." || part == ".." || part.is_empty());
        if !(clean && (upload || under(path, folder))) {
            let mut at = String::from("createJobRequest");
            push_key(&mut at, "inputs");
            push_index(&mut at, i);
            push_key(&mut at, "source");
            push_key(&mut at, "path");
            issues.push(Issue {
                path: at,
                code: IssueCode::Forbidden,
                message: "must name one of your own uploads or results",
            });
        }
    }
    issues
}

/// The job of a GetJob answer, as the upstream has it (its scoped `destination` is where
/// its files are), when it is the caller's; another identity's job is answered exactly as
/// an unknown one.
pub fn owned_job(answer: &Answer, scope: &Scope, scrubber: &Scrubber) -> Result<Value, Reply> {
    if answer.status == 404 {
        return Err(upstream::job_not_found());
    }
    let success = (200..300).contains(&answer.status);
    let raw = Value::parse(&answer.text).ok().filter(|_| success);
    let Some(raw) = raw else { return Err(upstream::as_received(answer, scrubber)) };
    match raw.get("getJobResponse").and_then(|r| r.get("job")) {
        Some(job) if scope.owns(job) => Ok(job.clone()),
        _ => Err(upstream::job_not_found()),
    }
}

/// The daily quota's count of an upload of `size` bytes by `identity` at `now_s` (the
/// shared state keeps the counts: see [`super::shared`]).
pub fn quota_op(identity: &str, size: u64, storage: &Storage, now_s: i64) -> Op {
    Op::Quota {
        key: identity.into(),
        day: now_s.div_euclid(86_400),
        size,
        max_count: storage.daily_uploads,
        max_bytes: storage.daily_upload_bytes,
    }
}

/// The 429 of a used-up quota, allowed again in `wait_s` (at the next UTC day).
pub fn quota_exceeded(wait_s: u32) -> Reply {
    let mut seconds = String::new();
    crate::error::push_number(&mut seconds, u64::from(wait_s));
    Reply::error(429, ProxyErrorCode::UploadQuotaExceeded, "the daily upload quota is used up")
        .with_header("retry-after", seconds)
}

/// `2026-12-01T20:18:41Z` for seconds since the epoch.
fn iso_time(s: i64) -> String {
    jiff::Timestamp::from_second(s).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::storage::*;

    const PREFIX: &str = "uabcdefghijk_";

    fn storage() -> Storage {
        Storage {
            endpoint: "http://127.0.0.1:8790/cos".into(),
            bucket: "uploads".into(),
            region: "us-east-1".into(),
            access_key_id: "local-key-id".into(),
            secret_access_key: "local-secret-access-key".into(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            upload_expires_s: DEFAULT_UPLOAD_EXPIRES_S,
            input_expires_s: DEFAULT_INPUT_EXPIRES_S,
            result_expires_s: DEFAULT_RESULT_EXPIRES_S,
            daily_uploads: 3,
            daily_upload_bytes: 1000,
            repositories: vec![("covers".into(), "covers-bucket".into())],
        }
    }

    fn issues(reply: &Reply) -> Vec<(String, String)> {
        let body = Value::parse(reply.body.as_deref().unwrap()).unwrap();
        let Some(Value::Array(issues)) = body.get("error").and_then(|e| e.get("issues")).cloned() else {
            return vec![];
        };
        let text = |i: &Value, k: &str| i.get(k).and_then(Value::as_str).unwrap().to_string();
        issues.iter().map(|i| (text(i, "path"), text(i, "code"))).collect()
    }

    #[test]
    fn upload_requests_name_their_wrong_fields() {
        let ok = read_request(br#"{"contentType":"audio/wav","size":123456}"#, 50_000_000).unwrap();
        assert_eq!(ok, UploadRequest { content_type: "audio/wav".into(), size: 123_456 });
        let refused = read_request(br#"{"contentType":"text/html","size":0}"#, 100).unwrap_err();
        assert_eq!(refused.status, 400);
        let pairs = |v: [(&str, &str); 2]| v.map(|(a, b)| (a.to_string(), b.to_string())).to_vec();
        assert_eq!(issues(&refused), pairs([("contentType", "pattern"), ("size", "range")]));
        let over = read_request(br#"{"contentType":"audio/flac","size":101}"#, 100).unwrap_err();
        assert_eq!(issues(&over), vec![("size".to_string(), "range".to_string())]);
        let missing = read_request(b"{}", 100).unwrap_err();
        assert_eq!(issues(&missing), pairs([("contentType", "required"), ("size", "required")]));
        let typed = read_request(br#"{"contentType":1,"size":1.5}"#, 100).unwrap_err();
        assert_eq!(issues(&typed), pairs([("contentType", "type"), ("size", "type")]));
        assert_eq!(read_request(b"nope", 100).unwrap_err().error_code().as_deref(), Some("bad_json"));
    }

    #[test]
    fn an_upload_is_presigned_under_the_callers_folder() {
        let storage = storage();
        let store = storage.store().unwrap();
        let asked = UploadRequest { content_type: "audio/mpeg".into(), size: 4321 };
        let reply = presign_upload(&store, &storage, PREFIX, &[0xab; 16], &asked, 1_800_000_000);
        assert_eq!(reply.status, 201);
        let body = Value::parse(reply.body.as_deref().unwrap()).unwrap();
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap().to_string();
        let key = format!("uploads/{PREFIX}/{}.mp3", "ab".repeat(16));
        let put = text(body.get("uploadUrl"));
        assert!(put.starts_with(&format!("http://127.0.0.1:8790/cos/uploads/{key}?")), "{put}");
        assert!(put.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"));
        assert_eq!(text(body.get("method")), "PUT");
        assert_eq!(text(body.get("headers").and_then(|h| h.get("content-type"))), "audio/mpeg");
        assert_eq!(text(body.get("expiresAt")), "2027-01-15T08:15:00Z");
        let input = text(body.get("input").and_then(|i| i.get("url")));
        assert!(input.contains(&key) && input.contains("X-Amz-Expires=21600"), "{input}");
    }

    fn job(state: u8, output: &str) -> Value {
        Value::parse(&format!(r#"{{"id":"j1","state":{state},"outputs":[{output}]}}"#)).unwrap()
    }

    const DONE: &str = r#"{"contentId":"covers","destination":"/uabcdefghijk_/output",
        "smartContentResult":{"singingCloning":{"songName":"out.wav"}}}"#;

    #[test]
    fn a_completed_jobs_result_redirects_to_its_file() {
        let storage = storage();
        let store = storage.store().unwrap();
        let reply = result_redirect(&store, &storage, &job(3, DONE), 0, 1_800_000_000);
        assert_eq!(reply.status, 302);
        let location = &reply.headers.iter().find(|(n, _)| *n == "location").unwrap().1;
        let expected = "http://127.0.0.1:8790/cos/covers-bucket/uabcdefghijk_/output/out.wav?";
        assert!(location.starts_with(expected), "{location}");
        assert!(location.contains("X-Amz-Expires=300"));
        let code = |r: Reply| (r.status, r.error_code().unwrap_or_default());
        assert_eq!(code(result_redirect(&store, &storage, &job(2, DONE), 0, 0)), (409, "result_not_ready".into()));
        assert_eq!(code(result_redirect(&store, &storage, &job(3, DONE), 1, 0)), (404, "result_not_found".into()));
        let escaping = DONE.replace("/uabcdefghijk_/output", "/../other");
        assert_eq!(code(result_redirect(&store, &storage, &job(3, &escaping), 0, 0)).0, 404);
    }

    #[test]
    fn the_daily_quota_counts_uploads_and_bytes_per_identity() {
        let storage = storage();
        let mut state = crate::proxy::shared::MemoryState::new(0.0);
        let day = 20_000 * 86_400;
        let mut take = |identity: &str, size, now_s: i64| match state
            .run(&quota_op(identity, size, &storage, now_s), now_s as f64 * 1000.0)
        {
            crate::proxy::shared::Outcome::Refused { wait_s } => Err(quota_exceeded(wait_s)),
            _ => Ok(()),
        };
        for _ in 0..3 {
            take("anon:a", 10, day).unwrap();
        }
        let refused = take("anon:a", 10, day + 3600).unwrap_err();
        assert_eq!((refused.status, refused.error_code().as_deref()), (429, Some("upload_quota_exceeded")));
        assert!(refused.headers.iter().any(|(n, v)| *n == "retry-after" && v == "82800"));
        assert_eq!(take("anon:b", 1001, day).unwrap_err().status, 429, "bytes too");
        take("anon:b", 1000, day).unwrap();
        take("anon:a", 10, day + 86_400).unwrap();
    }

    #[test]
    fn sources_may_name_only_the_callers_uploads_and_results() {
        let storage = storage();
        let scope = Scope { prefix: PREFIX.into(), models: true, files: true };
        let paths = |inputs: &[(&str, &str)]| {
            let inputs: Vec<String> =
                inputs.iter().map(|(c, p)| format!(r#"{{"source":{{"contentId":"{c}","path":"{p}"}}}}"#)).collect();
            let body = format!(
                r#"{{"action":"CreateJob","createJobRequest":{{"inputs":[{}],
                "outputs":[{{"contentId":"covers","inputSelectors":[0],
                "smartContentDescriptor":{{"singingCloning":{{"type":1,"modelName":"default"}}}}}}]}}}}"#,
                inputs.join(",")
            );
            let envelope = crate::model::check_request(&Value::parse(&body).unwrap()).unwrap();
            check_sources(&envelope, &scope, &storage).into_iter().map(|i| i.path).collect::<Vec<_>>()
        };
        let mine_upload = format!("/uploads/{PREFIX}/ab.wav");
        let mine_result = format!("{PREFIX}/out/song.wav");
        assert_eq!(paths(&[("uploads", &mine_upload), ("covers", &mine_result)]), Vec::<String>::new());
        let theirs = "/uploads/uzzzzzzzzzzz_/ab.wav";
        let escaping = format!("/uploads/{PREFIX}/../uzzzzzzzzzzz_/ab.wav");
        let wrong_bucket = format!("/uploads/{PREFIX}/ab.wav");
        let bad =
            paths(&[("uploads", theirs), ("uploads", &escaping), ("covers", &wrong_bucket), ("samples", "/voice.wav")]);
        assert_eq!(bad.len(), 4, "{bad:?}");
        assert_eq!(bad[3], "createJobRequest.inputs[3].source.path");
        assert_eq!(paths(&[("covers", PREFIX)]).len(), 1, "the folder itself is no file");
    }
}
