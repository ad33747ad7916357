//! Object storage for uploads and results: S3-compatible (AWS S3, Tencent Cloud COS's S3
//! endpoint, Cloudflare R2, MinIO, the emulator's store), reached by presigned URLs only,
//! so that the bytes go between the page and the store and never through the proxy.
//! Signing is AWS Signature Version 4 with query parameters, by `rusty-s3` (sans-IO, so it
//! runs in every edge runtime).

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use rusty_s3::actions::{GetObject, PutObject};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// Audio types an upload may have: what the service and the emulator decode.
pub const AUDIO_TYPES: [(&str, &str); 6] = [
    ("audio/wav", "wav"),
    ("audio/x-wav", "wav"),
    ("audio/wave", "wav"),
    ("audio/mpeg", "mp3"),
    ("audio/flac", "flac"),
    ("audio/x-flac", "flac"),
];

/// Longest validity S3 accepts for a presigned URL: 7 days.
pub const MAX_EXPIRES_S: u64 = 604_800;

/// The proxy's `storage` settings (docs/proxy.md): where uploads go, how long each
/// presigned URL lasts, and the daily quota of each identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    /// The S3 API's base URL (`https://s3.us-east-1.amazonaws.com`, `https://cos.ap-guangzhou.myqcloud.com`, …).
    pub endpoint: String,
    /// The bucket uploads go to.
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The largest upload, in bytes.
    pub max_upload_bytes: u64,
    /// How long a presigned PUT lasts.
    pub upload_expires_s: u64,
    /// How long an upload's presigned GET (a job's input) lasts: long enough for a job.
    pub input_expires_s: u64,
    /// How long a result's presigned GET lasts.
    pub result_expires_s: u64,
    /// Uploads per identity per day (UTC).
    pub daily_uploads: u32,
    /// Bytes uploaded per identity per day (UTC).
    pub daily_upload_bytes: u64,
    /// The bucket of each content repository (`contentId`) that results are written to;
    /// a repository not listed is the bucket of the same name.
    pub repositories: Vec<(String, String)>,
}

/// Defaults of the optional settings.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 50_000_000;
pub const DEFAULT_UPLOAD_EXPIRES_S: u64 = 900;
pub const DEFAULT_INPUT_EXPIRES_S: u64 = 21_600;
pub const DEFAULT_RESULT_EXPIRES_S: u64 = 300;
pub const DEFAULT_DAILY_UPLOADS: u32 = 100;
pub const DEFAULT_DAILY_UPLOAD_BYTES: u64 = 1_000_000_000;

impl Storage {
    /// The bucket of content repository `content_id`.
    pub fn bucket_of<'a>(&'a self, content_id: &'a str) -> &'a str {
        self.repositories.iter().find(|(id, _)| id == content_id).map_or(content_id, |(_, bucket)| bucket.as_str())
    }

    /// The signer for these settings.
    pub fn store(&self) -> Result<Store, StoreError> {
        Store::new(&self.endpoint, &self.region, &self.access_key_id, &self.secret_access_key)
    }
}

/// Where objects live and the key pair that signs for them.
pub struct Store {
    endpoint: url::Url,
    region: String,
    credentials: Credentials,
}

/// Why a store cannot be set up from its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The endpoint is not an absolute http(s) URL with a host.
    Endpoint,
    /// The bucket name is not one S3 accepts in a path-style URL.
    Bucket,
}

impl Store {
    /// A store at `endpoint` (path-style URLs: `{endpoint}/{bucket}/{key}`, which every
    /// S3-compatible server answers) in `region`.
    pub fn new(
        endpoint: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Store, StoreError> {
        let endpoint = url::Url::parse(endpoint).map_err(|_| StoreError::Endpoint)?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(StoreError::Endpoint);
        }
        let credentials = Credentials::new(String::from(access_key_id), String::from(secret_access_key));
        Ok(Store { endpoint, region: region.into(), credentials })
    }

    fn bucket(&self, name: &str) -> Result<Bucket, StoreError> {
        if !is_bucket_name(name) {
            return Err(StoreError::Bucket);
        }
        Bucket::new(self.endpoint.clone(), UrlStyle::Path, String::from(name), self.region.clone())
            .map_err(|_| StoreError::Bucket)
    }

    /// A presigned PUT of `key` in `bucket` for exactly `content_type` and `length` bytes
    /// (both signed: the store refuses any other), valid `expires_s` from `now_s`.
    pub fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        length: u64,
        now_s: i64,
        expires_s: u64,
    ) -> Result<String, StoreError> {
        let bucket = self.bucket(bucket)?;
        let length = length.to_string();
        let mut put = PutObject::new(&bucket, Some(&self.credentials), key);
        // Sorted by name, as rusty-s3 wants them.
        put.headers_mut().insert("content-length", length.as_str());
        put.headers_mut().insert("content-type", content_type);
        Ok(put.sign_with_time(Duration::from_secs(expires_s.min(MAX_EXPIRES_S)), &timestamp(now_s)).into())
    }

    /// A presigned GET of `key` in `bucket`, valid `expires_s` from `now_s`.
    pub fn presign_get(&self, bucket: &str, key: &str, now_s: i64, expires_s: u64) -> Result<String, StoreError> {
        let bucket = self.bucket(bucket)?;
        let get = GetObject::new(&bucket, Some(&self.credentials), key);
        Ok(get.sign_with_time(Duration::from_secs(expires_s.min(MAX_EXPIRES_S)), &timestamp(now_s)).into())
    }
}

fn timestamp(now_s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(now_s).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The file extension of an accepted audio type (parameters such as `; codecs=…` ignored).
pub fn extension_of(content_type: &str) -> Option<&'static str> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    AUDIO_TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(media)).map(|(_, ext)| *ext)
}

/// S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens,
/// beginning and ending with a letter or digit.
pub fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The object key of a job's result file: the output's `destination` directory and the
/// result's `songName`, as the API says to splice them; `None` when either would leave
/// the directory (`..`, an empty name).
pub fn result_key(destination: &str, song_name: &str) -> Option<String> {
    let parts: Vec<&str> =
        destination.split('/').chain(core::iter::once(song_name)).filter(|p| !p.is_empty()).collect();
    let name_ok = !song_name.is_empty() && !song_name.contains('/');
    if !name_ok || parts.iter().any(|p| *p == "." || *p == "..") {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example of a presigned URL ("Authenticating Requests: Using Query
    /// Parameters (AWS Signature Version 4)", Amazon S3 API Reference): GET /test.txt from
    /// examplebucket in us-east-1 at 20130524T000000Z, valid 86400 s, with its key pair.
    #[test]
    fn presigns_the_published_aws_example() {
        let store = Store::new(
            "https://s3.amazonaws.com",
            "us-east-1",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .unwrap();
        // 2013-05-24T00:00:00Z.
        let url = store.presign_get("examplebucket", "test.txt", 1_369_353_600, 86_400).unwrap();
        assert!(
            url.contains("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"), "{url}");
        // The example signs host `examplebucket.s3.amazonaws.com` (virtual-hosted style);
        // our store uses path style, so its signature differs: the published one is
        // checked below with the same canonical request as the example.
        let example = rusty_s3::signing::sign(
            &timestamp(1_369_353_600),
            rusty_s3::Method::Get,
            url::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap(),
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            "us-east-1",
            86_400,
            core::iter::empty(),
            core::iter::empty(),
        );
        assert!(
            example
                .as_str()
                .ends_with("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
            "{example}"
        );
    }

    #[test]
    fn a_put_signs_its_type_and_length() {
        let store = Store::new("http://127.0.0.1:9000", "us-east-1", "key-id", "secret-key").unwrap();
        let url = store.presign_put("voices", "uploads/u1/a.wav", "audio/wav", 1234, 1_800_000_000, 900).unwrap();
        assert!(url.starts_with("http://127.0.0.1:9000/voices/uploads/u1/a.wav?"), "{url}");
        assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"), "{url}");
        assert!(url.contains("X-Amz-Expires=900"));
        let capped = store.presign_get("voices", "k", 0, 10 * MAX_EXPIRES_S).unwrap();
        assert!(capped.contains("X-Amz-Expires=604800"));
    }

    #[test]
    fn settings_that_cannot_sign_are_refused() {
        assert!(Store::new("ftp://x", "r", "k", "s").is_err());
        assert!(Store::new("not a url", "r", "k", "s").is_err());
        let store = Store::new("https://s3.example", "r", "k", "s").unwrap();
        for name in ["ab", "Upper", "-dash", "dot.", "a_b", &"a".repeat(64)] {
            assert_eq!(store.presign_get(name, "k", 0, 60), Err(StoreError::Bucket), "{name}");
        }
    }

    #[test]
    fn audio_types_and_result_keys() {
        assert_eq!(extension_of("audio/wav"), Some("wav"));
        assert_eq!(extension_of("Audio/MPEG; codecs=mp3"), Some("mp3"));
        assert_eq!(extension_of("audio/flac"), Some("flac"));
        assert_eq!(extension_of("text/html"), None);
        assert_eq!(result_key("/output", "out.mp3").as_deref(), Some("output/out.mp3"));
        assert_eq!(result_key("/", "out.mp3").as_deref(), Some("out.mp3"));
        assert_eq!(result_key("a//b/", "x.wav").as_deref(), Some("a/b/x.wav"));
        assert_eq!(result_key("/../etc", "x"), None);
        assert_eq!(result_key("/out", "../x"), None);
        assert_eq!(result_key("/out", ""), None);
    }
}
