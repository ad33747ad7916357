//! The proxy's own answers: a status, headers and a body, built without JavaScript so
//! that every decision is tested natively. Errors are `{"error": {code, message,
//! issues?}}`, the shape the SDK's `parseResponse` reads as a typed `api` error.

use alloc::string::String;
use alloc::vec::Vec;

use super::error_code::ProxyErrorCode;
use crate::error::Issue;
use crate::model::value::to_value;
use crate::model::Value;

/// An answer about to become a `Response`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// `None` for answers that may not have one (204).
    pub body: Option<String>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: alloc::vec![
                ("content-type", "application/json; charset=utf-8".into()),
                ("cache-control", "no-store".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body: Some(body),
        }
    }

    /// A body that is not JSON (an upstream's HTML error page), passed on as plain text
    /// so that it can never run as a page on the proxy's origin.
    pub fn text(status: u16, body: String) -> Reply {
        let mut reply = Reply::json(status, body);
        reply.headers[0].1 = "text/plain; charset=utf-8".into();
        reply
    }

    /// What an upstream answer whose body is not JSON (a gateway's HTML page, a proxy's
    /// text) becomes: a neutral error with the same status (and so the same retry
    /// behaviour in the SDK), the body itself dropped. Scrubbing free text cannot be made
    /// complete: a secret may come back in another letter case, HTML-escaped, in base64.
    pub fn upstream_not_json(status: u16) -> Reply {
        let (status, message) = match status {
            200..=299 => (502, "the service answered with a body that is not JSON"),
            _ => (status, "the service failed with an answer that is not JSON"),
        };
        Reply::error(status, ProxyErrorCode::UpstreamNotJson, message)
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: alloc::vec![("cache-control", "no-store".into())], body: None }
    }

    /// `{"error": {"code", "message"}}`.
    pub fn error(status: u16, code: ProxyErrorCode, message: &str) -> Reply {
        Reply::error_with_issues(status, code, message, &[])
    }

    /// `{"error": {"code", "message", "issues"}}`; `issues` left out when empty.
    pub fn error_with_issues(status: u16, code: ProxyErrorCode, message: &str, issues: &[Issue]) -> Reply {
        let mut error = Value::Object(alloc::vec![
            ("code".into(), Value::String(code.as_str().into())),
            ("message".into(), Value::String(message.into())),
        ]);
        if !issues.is_empty() {
            error.set("issues", to_value(&issues));
        }
        Reply::json(status, Value::Object(alloc::vec![("error".into(), error)]).to_json())
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The error code of one of the proxy's own error answers (for tests and logs).
    pub fn error_code(&self) -> Option<String> {
        let body = Value::parse(self.body.as_deref()?).ok()?;
        body.get("error")?.get("code")?.as_str().map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IssueCode;
    use crate::model::{parse_response, Action};
    use crate::Error;

    #[test]
    fn errors_read_as_api_errors_in_the_sdk() {
        let issue = Issue { path: "secretId".into(), code: IssueCode::Forbidden, message: "must not be sent" };
        let reply = Reply::error_with_issues(400, ProxyErrorCode::CredentialsInBody, "no", &[issue]);
        assert_eq!(
            reply.body.as_deref(),
            Some(concat!(
                r#"{"error":{"code":"credentials_in_body","message":"no","#,
                r#""issues":[{"path":"secretId","code":"forbidden","message":"must not be sent"}]}}"#
            ))
        );
        match parse_response(Action::GetJob, reply.status, reply.body.as_deref().unwrap()) {
            Err(Error::Api { status: 400, error_code: Some(code), .. }) => assert_eq!(code, "credentials_in_body"),
            other => panic!("{other:?}"),
        }
        assert_eq!(reply.error_code().as_deref(), Some("credentials_in_body"));
        assert_eq!(Reply::text(502, "<html>".into()).headers[0].1, "text/plain; charset=utf-8");
        let neutral = Reply::upstream_not_json(503);
        assert_eq!((neutral.status, neutral.error_code().as_deref()), (503, Some("upstream_not_json")));
        assert_eq!(Reply::upstream_not_json(200).status, 502, "a success that is no answer is a bad gateway");
        match parse_response(Action::GetJob, 503, neutral.body.as_deref().unwrap()) {
            Err(Error::Api { status: 503, error_code: Some(code), .. }) => assert_eq!(code, "upstream_not_json"),
            other => panic!("{other:?}"),
        }
    }
}
