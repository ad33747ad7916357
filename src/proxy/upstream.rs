//! Between the proxy and the upstream API: the request the proxy sends for an envelope
//! (credentials added, gateway-signed), and what the caller gets of the answer. Pure, so
//! that the shell only posts bytes and hands the answer back.

use alloc::string::String;
use alloc::vec::Vec;

use super::callback;
use super::config::ProxyConfig;
use super::error_code::ProxyErrorCode;
use super::events;
use super::reply::Reply;
use super::scope::{Owned, Scope};
use super::scrub::Scrubber;
use super::signing;
use crate::http_date;
use crate::model::value::to_value;
use crate::model::{Action, Envelope, Value};
use crate::transport::Answer;

/// One POST to the upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub url: String,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

/// The upstream request for `envelope`: posted to the action's path under the endpoint,
/// with the proxy's credentials in the body and, with a gateway key pair, its signature
/// dated `now_ms`.
pub fn request(config: &ProxyConfig, envelope: &Envelope, now_ms: f64) -> Outgoing {
    let body = to_value(&envelope.clone().with_credentials(config.credentials.clone())).to_json();
    let mut url = config.endpoint.clone();
    url.push_str(envelope.action().path());
    let headers = match &config.gateway {
        Some(g) => signing::gateway_headers(&g.secret_id, &g.secret_key, &g.source, &http_date::format(now_ms)).into(),
        None => Vec::new(),
    };
    Outgoing { url, body, headers }
}

/// Why a POST brought no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No whole answer within the time.
    Timeout,
    /// No connection, a redirect (never followed: it would carry the body elsewhere), or
    /// an answer that could not be read.
    Unreachable,
    /// An answer larger than the cap.
    TooLarge,
}

/// The caller's answer when the upstream brought none.
pub fn failure_reply(failure: Failure) -> Reply {
    match failure {
        Failure::Timeout => Reply::error(504, ProxyErrorCode::UpstreamTimeout, "the service did not answer in time"),
        Failure::TooLarge => {
            Reply::error(502, ProxyErrorCode::UpstreamTooLarge, "the service's answer is larger than the proxy reads")
        }
        Failure::Unreachable => {
            Reply::error(502, ProxyErrorCode::UpstreamUnreachable, "the service could not be reached")
        }
    }
}

/// The canonical answer for a job that is not the caller's, the same as for one that does not exist.
pub fn job_not_found() -> Reply {
    Reply::error(404, ProxyErrorCode::JobNotFound, "no job has this id")
}

/// An upstream answer as received (status kept), secrets scrubbed; a body that is not
/// JSON becomes a neutral error (see [`Reply::upstream_not_json`]).
pub fn as_received(answer: &Answer, scrubber: &Scrubber) -> Reply {
    let reply = match Value::parse(&answer.text) {
        Ok(_) => Reply::json(answer.status, scrubber.body(&answer.text)),
        Err(_) => Reply::upstream_not_json(answer.status),
    };
    match &answer.retry_after {
        Some(wait) if answer.status == 429 || answer.status == 503 => reply.with_header("retry-after", wait.clone()),
        _ => reply,
    }
}

/// A job's callback URL as its caller wrote it, from the token in the proxy's own URL;
/// `None` for a URL that is not the proxy's, and for a callback the proxy asked for
/// itself (job events), which is none of the caller's.
pub fn restore_callback(config: &ProxyConfig, scoped_custom_id: &str, url: &str) -> Option<String> {
    let token = callback::token_of(url, &config.prefix)?;
    callback::open(&config.proxy_secret, token, scoped_custom_id).filter(|target| target != callback::EVENTS_ONLY)
}

/// The upstream's answer to `action` as the caller may see it: its scope taken off, its
/// callback URLs given back as the caller wrote them, and another identity's job (or an
/// unknown one) answered as [`job_not_found`]. With it, the jobs it tells the caller of (see
/// [`events::jobs_of_answer`]), news for the caller's event streams.
pub fn for_caller(
    action: Action,
    answer: &Answer,
    scope: &Scope,
    config: &ProxyConfig,
    scrubber: &Scrubber,
) -> (Reply, Vec<Value>) {
    let success = (200..300).contains(&answer.status);
    if action == Action::GetJob && answer.status == 404 {
        return (job_not_found(), Vec::new());
    }
    let Some(mut raw) = Value::parse(&answer.text).ok().filter(|_| success) else {
        return (as_received(answer, scrubber), Vec::new());
    };
    let restore = |custom_id: &str, url: &str| restore_callback(config, custom_id, url);
    match scope.unscope_answer(action, &mut raw, &restore) {
        Owned::No => (job_not_found(), Vec::new()),
        Owned::Yes => {
            // As `Scrubber::body` does, without writing and reading the tree once more.
            scrubber.value(&mut raw);
            let reply = Reply::json(answer.status, scrubber.text(&raw.to_json()));
            (reply, events::jobs_of_answer(action, &raw))
        }
    }
}

/// An upstream answer as the shared store keeps it for copies of its CreateJob. The answer
/// as received: it holds the job, never the credentials, which go only in requests.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAnswer {
    status: u16,
    retry_after: Option<String>,
    text: String,
}

/// `answer` as JSON for the store: `{"status", "retryAfter", "text"}`.
pub fn answer_to_store(answer: &Answer) -> String {
    let Answer { status, retry_after, text } = answer.clone();
    to_value(&StoredAnswer { status, retry_after, text }).to_json()
}

/// The answer [`answer_to_store`] kept, or `None` when the text is not one.
pub fn stored_answer(text: &str) -> Option<Answer> {
    let StoredAnswer { status, retry_after, text } = Value::parse(text).ok()?.decode().ok()?;
    (100..600).contains(&status).then_some(Answer { status, retry_after, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_answer_is_the_answer() {
        let answer =
            Answer { status: 200, retry_after: None, text: r#"{"createJobResponse":{"job":{"id":"j"}}}"#.into() };
        let stored = answer_to_store(&answer);
        assert_eq!(
            stored,
            r#"{"status":200,"retryAfter":null,"text":"{\"createJobResponse\":{\"job\":{\"id\":\"j\"}}}"}"#
        );
        let back = stored_answer(&stored).unwrap();
        assert_eq!((back.status, back.retry_after, back.text), (answer.status, answer.retry_after, answer.text));
        let with_wait = Answer { status: 201, retry_after: Some("3".into()), text: String::new() };
        assert_eq!(stored_answer(&answer_to_store(&with_wait)).unwrap().retry_after.as_deref(), Some("3"));
        for bad in ["", "{}", r#"{"status":99,"text":""}"#, r#"{"status":200}"#, r#"{"status":"200","text":""}"#] {
            assert!(stored_answer(bad).is_none(), "{bad}");
        }
    }
    use crate::model::{GetJobRequest, Request};

    fn config(gateway: bool) -> ProxyConfig {
        let gateway = if gateway {
            r#","gateway":{"secretId":"AKIDgateway","secretKey":"gateway key of test","source":"singing-app"}"#
        } else {
            ""
        };
        let text = format!(
            r#"{{"endpoint":"https://api.example/release/","secretId":"AKIDsecretid","secretKey":"secret key of test",
                "proxySecret":"a proxy secret of some length","allowedOrigins":[]{gateway}}}"#
        );
        ProxyConfig::from_value(&Value::parse(&text).unwrap()).ok().unwrap()
    }

    fn get_job() -> Envelope {
        Envelope::new(Request::GetJob(GetJobRequest { id: "job-1".into() }))
    }

    #[test]
    fn the_request_carries_the_credentials_to_the_actions_path() {
        let sent = request(&config(false), &get_job(), 0.0);
        assert_eq!(sent.url, "https://api.example/release/job");
        assert!(sent.headers.is_empty());
        let body = Value::parse(&sent.body).unwrap();
        assert_eq!(body.get("secretId").and_then(Value::as_str), Some("AKIDsecretid"));
        assert_eq!(body.get("secretKey").and_then(Value::as_str), Some("secret key of test"));
        assert_eq!(body.get("action").and_then(Value::as_str), Some("GetJob"));
    }

    #[test]
    fn a_gateway_key_pair_signs_the_request() {
        // 784111777 s is RFC 9110's example date. The signature was computed independently:
        // Python's hmac.new(b"gateway key of test", b"x-date: …\nsource: singing-app", sha1), base64.
        let sent = request(&config(true), &get_job(), 784_111_777_000.0);
        let header = |name: &str| sent.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(header("x-date"), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(header("source"), Some("singing-app"));
        assert_eq!(
            header("authorization"),
            Some(concat!(
                r#"hmac id="AKIDgateway", algorithm="hmac-sha1", headers="x-date source", "#,
                r#"signature="Y7fgkFpiS4QzwS1pdHLGZQ2pahc=""#
            ))
        );
    }

    #[test]
    fn failures_become_gateway_errors() {
        assert_eq!(failure_reply(Failure::Timeout).status, 504);
        assert_eq!(failure_reply(Failure::TooLarge).error_code().as_deref(), Some("upstream_too_large"));
        assert_eq!(failure_reply(Failure::Unreachable).error_code().as_deref(), Some("upstream_unreachable"));
    }

    #[test]
    fn answers_as_received_keep_status_and_retry_after_and_drop_text_that_is_not_json() {
        let scrubber = Scrubber::new(&["secret key of test".into()]);
        let busy = Answer { status: 503, retry_after: Some("7".into()), text: r#"{"m":"secret key of test"}"#.into() };
        let reply = as_received(&busy, &scrubber);
        assert_eq!(reply.status, 503);
        assert!(!reply.body.as_deref().unwrap().contains("secret key of test"));
        assert!(reply.headers.iter().any(|(n, v)| *n == "retry-after" && v == "7"));
        let html = Answer { status: 500, retry_after: None, text: "<h1>secret key of test</h1>".into() };
        assert_eq!(as_received(&html, &scrubber).error_code().as_deref(), Some("upstream_not_json"));
    }

    #[test]
    fn another_identitys_job_is_answered_like_an_unknown_one() {
        let config = config(false);
        let scrubber = Scrubber::new(&[]);
        let scope = Scope { prefix: "uabcdefghijk_".into(), models: true, files: false };
        let theirs = Answer {
            status: 200,
            retry_after: None,
            text: r#"{"requestId":"r","getJobResponse":{"job":{"id":"j","state":1,"customId":"uzzzzzzzzzzz_a"}}}"#
                .into(),
        };
        let unknown = Answer { status: 404, retry_after: None, text: r#"{"error":"JobNotFound"}"#.into() };
        let (a, b) = (
            for_caller(Action::GetJob, &theirs, &scope, &config, &scrubber).0,
            for_caller(Action::GetJob, &unknown, &scope, &config, &scrubber).0,
        );
        assert_eq!((a.status, &a.body), (b.status, &b.body));
        assert_eq!(a.error_code().as_deref(), Some("job_not_found"));
        let mine = Answer { text: theirs.text.replace("uzzzzzzzzzzz_a", "uabcdefghijk_a"), ..theirs };
        let (reply, jobs) = for_caller(Action::GetJob, &mine, &scope, &config, &scrubber);
        assert_eq!(reply.status, 200);
        assert!(reply.body.as_deref().unwrap().contains(r#""customId":"a""#));
        assert_eq!(jobs.len(), 1, "the job is news for the caller's streams");
        assert_eq!(jobs[0].get("customId").and_then(Value::as_str), Some("a"));
        assert_eq!(
            jobs[0].get("status").and_then(Value::as_str),
            Some("SUBMITTED"),
            "state 1 is SUBMITTED in the API reference"
        );
    }
}
