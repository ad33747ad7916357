//! The pure half of a callback's journey: once the job has been re-read from the
//! upstream, whether it matches the token it came in on, and the Standard Webhooks
//! message that carries it on to the original target.

use alloc::string::String;

use super::callback::token_of;
use super::identity::prefix_of;
use super::reply::Reply;
use super::scope::Scope;
use super::scrub::Scrubber;
use super::signing::webhook_signature;
use crate::model::response::add_status;
use crate::model::{JobState, Value};

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
    pub key: &'a [u8],
    pub scrubber: &'a Scrubber,
}

/// Checks the job as the upstream reports it now (`job`, never the posted body) against
/// what the callback claimed and the token it came in on, and builds the delivery.
pub fn plan(
    job: &Value,
    claimed_custom_id: &str,
    token: &str,
    target: String,
    now_s: u64,
    cx: &Context,
) -> Result<Delivery, Reply> {
    let forged = || Reply::error(403, "bad_callback", "this callback does not match a job of the proxy");
    let custom_id = job.get("customId").and_then(Value::as_str).ok_or_else(forged)?;
    if custom_id != claimed_custom_id {
        return Err(forged());
    }
    let callback = job.get("callback").and_then(Value::as_str).ok_or_else(forged)?;
    if token_of(callback, cx.prefix) != Some(token) {
        return Err(forged());
    }
    let state = match job.get("state") {
        Some(Value::Number(n)) if n.get().fract() == 0.0 => JobState::from_code(n.get() as i64),
        _ => JobState::Unknown(0),
    };
    if !state.is_final() {
        return Err(Reply::error(409, "job_not_finished", "the job has not finished; its callback is not due"));
    }
    let id_of_job = job.get("id").and_then(Value::as_str).ok_or_else(forged)?;
    let mut body = job.clone();
    if let Some(prefix) = prefix_of(custom_id) {
        let scope = Scope { prefix: prefix.into(), models: cx.scoped_models };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::signing::{verify_webhook, webhook_key};

    const PREFIX: &str = "/api/singing-cloning";

    fn job(state: u8, custom_id: &str, callback: &str) -> Value {
        Value::parse(&format!(
            r#"{{"id":"j1","state":{state},"customId":"{custom_id}","callback":"{callback}","outputs":[{{"smartContentDescriptor":{{"singingCloning":{{"type":2,"modelName":"uabcdefghijk_v"}}}}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn plans_a_signed_delivery_of_the_re_read_job() {
        let key = webhook_key("whsec_Zm9vYmFyYmF6");
        let scrubber = Scrubber::new(&["local-secret-key".into()]);
        let cx = Context { prefix: PREFIX, scoped_models: true, key: &key, scrubber: &scrubber };
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
            r#"{"id":"j1","state":3,"customId":"song","callback":"https://hooks.example/x","outputs":[{"smartContentDescriptor":{"singingCloning":{"type":2,"modelName":"v"}}}],"status":"COMPLETED"}"#
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
        let cx = Context { prefix: PREFIX, scoped_models: false, key: &key, scrubber: &scrubber };
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
}
