//! The pure half of a callback's journey: once the job has been re-read from the
//! upstream, whether it matches the token it came in on, and the Standard Webhooks
//! message that carries it on to the original target.

use alloc::string::String;

use super::callback::token_of;
use super::error_code::ProxyErrorCode;
use super::identity::prefix_of;
use super::reply::Reply;
use super::scope::Scope;
use super::scrub::Scrubber;
use super::shared::{ClaimSet, Op};
use super::signing::{webhook_signature, WebhookFault};
use crate::error::{Issue, IssueCode};
use crate::model::response::add_status;
use crate::model::{JobState, Value};
use crate::transport::Answer;

/// A signed message ready to post.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub target: String,
    /// `webhook-id`: the same for the same job in the same state, so receivers can drop repeats.
    pub id: String,
    /// `webhook-timestamp`, seconds.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    pub body: String,
}

/// What the proxy needs to know to deliver.
pub struct Context<'a> {
    /// The route prefix.
    pub prefix: &'a str,
    /// Model names are scoped per identity.
    pub scoped_models: bool,
    /// Result folders are scoped per identity (the proxy has storage).
    pub scoped_files: bool,
    pub key: &'a [u8],
    pub scrubber: &'a Scrubber,
}

/// Checks the job as the upstream reports it now (`job`, never the posted body) against
/// what the callback claimed and the token it came in on (routed under `prefix`): its
/// `customId` is the claimed one and its `callback` carries the token. Its state when it does.
pub fn verify(job: &Value, claimed_custom_id: &str, token: &str, prefix: &str) -> Result<JobState, Reply> {
    let custom_id = job.get("customId").and_then(Value::as_str).ok_or_else(forged)?;
    if custom_id != claimed_custom_id {
        return Err(forged());
    }
    let callback = job.get("callback").and_then(Value::as_str).ok_or_else(forged)?;
    if token_of(callback, prefix) != Some(token) {
        return Err(forged());
    }
    Ok(match job.get("state") {
        Some(Value::Number(n)) if n.get().fract() == 0.0 => JobState::from_code(n.get() as i64),
        _ => JobState::Unknown(0),
    })
}

/// The answer to a verified callback the proxy asked for itself: recorded for job events, nothing forwarded.
pub fn recorded() -> Reply {
    Reply::json(200, r#"{"delivered":false,"recorded":true}"#.into())
}

/// [`verify`]s the job, which must have finished, and builds the delivery to `target`.
pub fn plan(
    job: &Value,
    claimed_custom_id: &str,
    token: &str,
    target: String,
    now_s: u64,
    cx: &Context,
) -> Result<Delivery, Reply> {
    let state = verify(job, claimed_custom_id, token, cx.prefix)?;
    let custom_id = claimed_custom_id;
    if !state.is_final() {
        return Err(Reply::error(
            409,
            ProxyErrorCode::JobNotFinished,
            "the job has not finished; its callback is not due",
        ));
    }
    let id_of_job = job.get("id").and_then(Value::as_str).ok_or_else(forged)?;
    let mut body = job.clone();
    if let Some(prefix) = prefix_of(custom_id) {
        let scope = Scope { prefix: prefix.into(), models: cx.scoped_models, files: cx.scoped_files };
        let original = target.clone();
        scope.unscope_job(&mut body, &move |_, _| Some(original.clone()));
    }
    add_status(&mut body);
    cx.scrubber.value(&mut body);
    let body = cx.scrubber.text(&body.to_json());
    let mut id = String::from("msg_");
    id.push_str(&cx.scrubber.text(id_of_job));
    id.push('_');
    crate::error::push_number(&mut id, state.code().max(0) as u64);
    let mut timestamp = String::new();
    crate::error::push_number(&mut timestamp, now_s);
    let signature = webhook_signature(cx.key, &id, &timestamp, &body);
    Ok(Delivery { target, id, timestamp, signature, body })
}

/// The claim of a callback's delivery in the shared state ([`super::shared::ClaimSet::Delivered`]).
/// Keyed by the job's id alone: a callback is forwarded only for a finished job, and a
/// finished job's state never changes again, so a second callback for a delivered job is
/// a replay, refused before it costs a GetJob upstream.
pub fn delivery_claim(job_id: &str) -> Op {
    Op::Claim { set: ClaimSet::Delivered, key: job_id.into(), pending: false }
}

/// What a callback's body claims: which job, with which `customId`. Only a claim: the
/// job is re-read from the upstream before anything is believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub job_id: String,
    pub custom_id: String,
}

/// The claim of a callback body.
pub fn read_claim(bytes: &[u8]) -> Result<Claim, Reply> {
    let Some(claimed) = core::str::from_utf8(bytes).ok().and_then(|t| Value::parse(t).ok()) else {
        return Err(Reply::error(400, ProxyErrorCode::BadJson, "the body is not JSON"));
    };
    let job_id = claimed.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
    match (job_id, claimed.get("customId").and_then(Value::as_str)) {
        (Some(job_id), Some(custom_id)) => Ok(Claim { job_id: job_id.into(), custom_id: custom_id.into() }),
        _ => Err(forged()),
    }
}

/// The job as the upstream reports it now, from its answer to the re-reading GetJob: an
/// unknown job means a forged callback; any other failure, that it could not be verified.
pub fn reread_job(answer: &Answer) -> Result<Value, Reply> {
    if answer.status == 404 {
        return Err(forged());
    }
    let unverified =
        || Reply::error(502, ProxyErrorCode::CallbackUnverified, "the job could not be re-read from the service");
    if !(200..300).contains(&answer.status) {
        return Err(unverified());
    }
    let raw = Value::parse(&answer.text).map_err(|_| unverified())?;
    raw.get("getJobResponse").and_then(|r| r.get("job")).cloned().ok_or_else(unverified)
}

/// The 403 for a callback that does not match a job of the proxy.
pub fn forged() -> Reply {
    Reply::error(403, ProxyErrorCode::BadCallback, "this callback does not match a job of the proxy")
}

/// The 409 for a callback delivered already.
pub fn already_delivered() -> Reply {
    Reply::error(409, ProxyErrorCode::AlreadyDelivered, "this callback was delivered already")
}

/// The answer once the target has (or has not) accepted the delivery.
pub fn delivered(accepted: bool) -> Reply {
    if accepted {
        Reply::json(200, r#"{"delivered":true}"#.into())
    } else {
        Reply::error(502, ProxyErrorCode::CallbackDeliveryFailed, "the callback target did not accept the job")
    }
}

/// The issue `verifyWebhook` throws for a message that fails verification, named by the header at fault.
pub fn fault_issue(fault: WebhookFault) -> Issue {
    let (path, code, message) = match fault {
        WebhookFault::MissingId => ("headers.webhook-id", IssueCode::Required, "is required"),
        WebhookFault::MissingTimestamp => ("headers.webhook-timestamp", IssueCode::Required, "is required"),
        WebhookFault::BadTimestamp => {
            ("headers.webhook-timestamp", IssueCode::Type, "must be whole seconds since the epoch")
        }
        WebhookFault::OutsideTolerance => {
            ("headers.webhook-timestamp", IssueCode::Range, "is too far from now: an old message, or a replay")
        }
        WebhookFault::MissingSignature => ("headers.webhook-signature", IssueCode::Required, "is required"),
        WebhookFault::BadSignature => {
            ("headers.webhook-signature", IssueCode::Pattern, "matches no signature of this body with this secret")
        }
    };
    Issue { path: path.into(), code, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::signing::{verify_webhook, webhook_key};

    const PREFIX: &str = "/api/singing-cloning";

    fn job(state: u8, custom_id: &str, callback: &str) -> Value {
        Value::parse(&format!(
            r#"{{"id":"j1","state":{state},"customId":"{custom_id}","callback":"{callback}",
            "outputs":[{{"smartContentDescriptor":{{"singingCloning":{{"type":2,"modelName":"uabcdefghijk_v"}}}}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn plans_a_signed_delivery_of_the_re_read_job() {
        let key = webhook_key("whsec_Zm9vYmFyYmF6");
        let scrubber = Scrubber::new(&["local-secret-key".into()]);
        let cx = Context { prefix: PREFIX, scoped_models: true, scoped_files: false, key: &key, scrubber: &scrubber };
        let cb = "http://127.0.0.1:1/api/singing-cloning/callbacks/tok.en";
        let d = plan(
            &job(3, "uabcdefghijk_song", cb),
            "uabcdefghijk_song",
            "tok.en",
            "https://hooks.example/x".into(),
            1_700_000_000,
            &cx,
        )
        .unwrap();
        assert_eq!(d.id, "msg_j1_3");
        assert_eq!(d.timestamp, "1700000000");
        assert_eq!(
            d.body,
            concat!(
                r#"{"id":"j1","state":3,"customId":"song","callback":"https://hooks.example/x","#,
                r#""outputs":[{"smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"v"}}}],"#,
                r#""status":"COMPLETED"}"#,
            )
        );
        assert_eq!(
            verify_webhook(&key, Some(&d.id), Some(&d.timestamp), Some(&d.signature), &d.body, 1_700_000_001.0, 300.0),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_does_not_match() {
        let key = [1u8; 8];
        let scrubber = Scrubber::new(&[]);
        let cx = Context { prefix: PREFIX, scoped_models: false, scoped_files: false, key: &key, scrubber: &scrubber };
        let cb = "http://h/api/singing-cloning/callbacks/tok";
        let code = |j: Value, claimed: &str, token: &str| {
            plan(&j, claimed, token, "https://t.example".into(), 0, &cx)
                .err()
                .and_then(|r| r.error_code())
                .unwrap_or_default()
        };
        assert_eq!(code(job(3, "uabcdefghijk_a", cb), "uabcdefghijk_b", "tok"), "bad_callback");
        assert_eq!(code(job(3, "uabcdefghijk_a", cb), "uabcdefghijk_a", "other"), "bad_callback");
        assert_eq!(code(job(2, "uabcdefghijk_a", cb), "uabcdefghijk_a", "tok"), "job_not_finished");
    }

    #[test]
    fn a_claim_needs_a_job_id_and_a_custom_id() {
        let claim = read_claim(br#"{"id":"j1","customId":"uabcdefghijk_a","state":3}"#).unwrap();
        assert_eq!((claim.job_id.as_str(), claim.custom_id.as_str()), ("j1", "uabcdefghijk_a"));
        assert_eq!(read_claim(b"not json").unwrap_err().error_code().as_deref(), Some("bad_json"));
        assert_eq!(read_claim(&[0xff, 0xfe]).unwrap_err().error_code().as_deref(), Some("bad_json"));
        for body in [&br#"{"id":"","customId":"a"}"#[..], br#"{"id":"j1"}"#, br#"{"id":1,"customId":"a"}"#, b"[]"] {
            assert_eq!(read_claim(body).unwrap_err().error_code().as_deref(), Some("bad_callback"));
        }
    }

    #[test]
    fn the_reread_job_is_believed_only_from_a_good_answer() {
        let answer = |status: u16, text: &str| Answer { status, retry_after: None, text: text.into() };
        let job = reread_job(&answer(200, r#"{"getJobResponse":{"job":{"id":"j1","state":3}}}"#)).unwrap();
        assert_eq!(job.get("id").and_then(Value::as_str), Some("j1"));
        let code = |a: Answer| reread_job(&a).unwrap_err().error_code().unwrap_or_default();
        assert_eq!(code(answer(404, "{}")), "bad_callback");
        assert_eq!(code(answer(503, "{}")), "callback_unverified");
        assert_eq!(code(answer(200, "<html>")), "callback_unverified");
        assert_eq!(code(answer(200, r#"{"getJobResponse":{}}"#)), "callback_unverified");
    }

    #[test]
    fn each_fault_is_named_by_its_header() {
        let faults = [
            (WebhookFault::MissingId, "headers.webhook-id", IssueCode::Required),
            (WebhookFault::MissingTimestamp, "headers.webhook-timestamp", IssueCode::Required),
            (WebhookFault::BadTimestamp, "headers.webhook-timestamp", IssueCode::Type),
            (WebhookFault::OutsideTolerance, "headers.webhook-timestamp", IssueCode::Range),
            (WebhookFault::MissingSignature, "headers.webhook-signature", IssueCode::Required),
            (WebhookFault::BadSignature, "headers.webhook-signature", IssueCode::Pattern),
        ];
        for (fault, path, code) in faults {
            let issue = fault_issue(fault);
            assert_eq!((issue.path.as_str(), issue.code), (path, code));
        }
    }
}
