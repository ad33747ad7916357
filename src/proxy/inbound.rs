//! What a caller's body must be before anything goes upstream: JSON (and declared so),
//! not nested past the limit, without credentials, valid for an action of its route.
//! The size limit is kept while the body is read, by the JavaScript face.

use alloc::vec::Vec;

use super::error_code::ProxyErrorCode;
use super::reply::Reply;
use super::route::Endpoint;
use crate::error::{Issue, IssueCode};
use crate::model::value::SyntaxError;
use crate::model::{check_request, Envelope, Value};

/// Whether a `Content-Type` declares JSON (`application/json`, `…+json`).
pub fn is_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else { return false };
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The checked envelope of a caller's body, or the 400 that refuses it.
pub fn read_body(bytes: &[u8], endpoint: Endpoint, max_depth: usize) -> Result<Envelope, Reply> {
    let bad_json = || Reply::error(400, ProxyErrorCode::BadJson, "the body is not JSON");
    let too_deep = || Reply::error(400, ProxyErrorCode::TooDeep, "the body's JSON nests deeper than the proxy allows");
    let text = core::str::from_utf8(bytes).map_err(|_| bad_json())?;
    let body = match Value::parse(text) {
        Ok(body) => body,
        Err(SyntaxError::TooDeep) => return Err(too_deep()),
        Err(_) => return Err(bad_json()),
    };
    if body.depth() > max_depth {
        return Err(too_deep());
    }
    let carried: Vec<Issue> = ["secretId", "secretKey"]
        .into_iter()
        .filter(|key| body.get(key).is_some())
        .map(|key| Issue {
            path: key.into(),
            code: IssueCode::Forbidden,
            message: "must not be sent: the proxy adds the credentials",
        })
        .collect();
    if !carried.is_empty() {
        return Err(Reply::error_with_issues(
            400,
            ProxyErrorCode::CredentialsInBody,
            "credentials never come from a browser; the proxy holds them",
            &carried,
        ));
    }
    let envelope = check_request(&body).map_err(|issues| {
        Reply::error_with_issues(400, ProxyErrorCode::Validation, "the body breaks rules of the API", &issues)
    })?;
    if !endpoint.serves(envelope.action()) {
        return Err(Reply::error(
            400,
            ProxyErrorCode::WrongRoute,
            "this action is posted to the other route: /job takes CreateJob, GetJob and ListJobs, \
             /music_model takes ListModels",
        ));
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = r#"{"action":"GetJob","getJobRequest":{"id":"x"}}"#;

    fn code(result: Result<Envelope, Reply>) -> String {
        result.err().and_then(|r| r.error_code()).unwrap_or_else(|| "ok".into())
    }

    #[test]
    fn accepts_a_valid_body_on_its_route() {
        assert!(read_body(GET.as_bytes(), Endpoint::Job, 32).is_ok());
        assert_eq!(code(read_body(GET.as_bytes(), Endpoint::MusicModel, 32)), "wrong_route");
    }

    #[test]
    fn refuses_each_kind_of_bad_body() {
        assert_eq!(code(read_body(b"{not json", Endpoint::Job, 32)), "bad_json");
        assert_eq!(code(read_body(&[0xff, 0xfe], Endpoint::Job, 32)), "bad_json");
        assert_eq!(code(read_body(b"", Endpoint::Job, 32)), "bad_json");
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(code(read_body(deep.as_bytes(), Endpoint::Job, 32)), "too_deep");
        let deeper = "[".repeat(100_000);
        assert_eq!(code(read_body(deeper.as_bytes(), Endpoint::Job, 32)), "too_deep");
        let with_key = GET.replace("{\"action\"", "{\"secretKey\":null,\"action\"");
        let reply = read_body(with_key.as_bytes(), Endpoint::Job, 32).err().unwrap();
        assert_eq!(reply.error_code().as_deref(), Some("credentials_in_body"));
        assert!(reply.body.unwrap().contains(r#""path":"secretKey","code":"forbidden""#));
        let unknown = r#"{"action":"DeleteJob","getJobRequest":{"id":"x"}}"#;
        let reply = read_body(unknown.as_bytes(), Endpoint::Job, 32).err().unwrap();
        assert_eq!(reply.error_code().as_deref(), Some("validation"));
        assert!(reply.body.unwrap().contains("unknown_action"));
    }

    #[test]
    fn reads_media_types() {
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("Application/JSON")));
        assert!(is_json(Some("application/vnd.api+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(None));
    }
}
