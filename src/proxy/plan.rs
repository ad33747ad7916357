//! What the proxy does with one API request of an identified caller, decided before
//! anything is sent: the body read and checked, the policy applied, the caller's scope
//! put on its names, its callback target swapped for the proxy's own, and which of the
//! three ways it goes upstream.

use alloc::string::String;
use alloc::vec::Vec;

use super::callback::{self, Refusal};
use super::config::{Models, ProxyConfig};
use super::error_code::ProxyErrorCode;
use super::idempotency;
use super::identity;
use super::inbound;
use super::policy;
use super::reply::Reply;
use super::route::Endpoint;
use super::scope::Scope;
use super::uploads;
use crate::model::value::to_value;
use crate::model::{Envelope, ListModelsRequest, Request};

/// How a checked request goes upstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Way {
    /// Sent as it is, its answer given back for the caller.
    Forward,
    /// A CreateJob with a `customId` of the caller's: sent once, and a copy resent while
    /// it is remembered under `key` gets the first one's answer (see [`idempotency`]).
    CreateOnce { key: String },
    /// ListModels with per-identity models: read whole, paged by the proxy (see [`super::listing`]).
    ListModels(ListModelsRequest),
}

/// A request ready to go upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub envelope: Envelope,
    pub scope: Scope,
    pub way: Way,
}

/// The scope of `identity`'s names.
pub fn scope_of(config: &ProxyConfig, identity: &str) -> Scope {
    Scope {
        prefix: identity::scope_prefix(&config.proxy_secret, identity),
        models: config.models == Models::PerIdentity,
        files: config.storage.is_some(),
    }
}

/// Plans the request `bytes` posted to `endpoint` by `identity`. `check_target` is the
/// callback-target check as the platform's URL parser reads the target.
pub fn plan(
    bytes: &[u8],
    endpoint: Endpoint,
    identity: &str,
    config: &ProxyConfig,
    check_target: &dyn Fn(&str) -> Result<(), Refusal>,
) -> Result<Planned, Reply> {
    let mut envelope = inbound::read_body(bytes, endpoint, config.max_depth)?;
    let issues = policy::apply(&mut envelope, &config.policy);
    if !issues.is_empty() {
        let message = "the proxy's policy does not allow this request";
        return Err(Reply::error_with_issues(403, ProxyErrorCode::ForbiddenByPolicy, message, &issues));
    }
    let scope = scope_of(config, identity);
    let mut issues = match &config.storage {
        Some(storage) => uploads::check_sources(&envelope, &scope, storage),
        None => Vec::new(),
    };
    issues.extend(scope.scope_request(&mut envelope));
    if !issues.is_empty() {
        let message = "the body breaks rules of the API behind this proxy";
        return Err(Reply::error_with_issues(400, ProxyErrorCode::Validation, message, &issues));
    }
    let way = match &mut envelope.request {
        Request::CreateJob(create) => {
            let custom_id = create.custom_id.as_deref().unwrap_or("");
            if let Some(target) = create.callback.take() {
                check_target(&target).map_err(|_| callback::not_allowed())?;
                let token = callback::token(&config.proxy_secret, custom_id, &target);
                create.callback = Some(callback::upstream_url(config.public_url.as_deref(), &config.prefix, &token)?);
            } else if let Some(public_url) = config.public_url.as_deref() {
                // A callback the proxy asks for itself, so that job events learn of the
                // change without a page polling; it forwards nothing.
                let token = callback::events_only_token(&config.proxy_secret, custom_id);
                create.callback = Some(callback::url(public_url, &config.prefix, &token));
            }
            let scoped_custom_id = create.custom_id.clone().unwrap_or_default();
            let body = to_value(&envelope).to_json();
            match idempotency::create_key(&config.proxy_secret, &scoped_custom_id, &body) {
                Some(key) => Way::CreateOnce { key },
                None => Way::Forward,
            }
        }
        Request::ListModels(asked) if scope.models => Way::ListModels(asked.clone()),
        _ => Way::Forward,
    };
    Ok(Planned { envelope, scope, way })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    const ANYONE: &dyn Fn(&str) -> Result<(), Refusal> = &|_| Ok(());

    fn config(extra: &str) -> ProxyConfig {
        let text = format!(
            r#"{{"endpoint":"https://api.example","secretId":"AKIDsecretid","secretKey":"secret key of test",
                "proxySecret":"a proxy secret of some length","allowedOrigins":[]{extra}}}"#
        );
        ProxyConfig::from_value(&Value::parse(&text).unwrap()).ok().unwrap()
    }

    fn create(custom_id: &str, callback: &str) -> String {
        format!(
            r#"{{"action":"CreateJob","createJobRequest":{{{custom_id}{callback}
            "inputs":[{{"url":"https://a.example/x.wav"}}],
            "outputs":[{{"inputSelectors":[0],
            "smartContentDescriptor":{{"singingCloning":{{"type":2,"modelName":"v"}}}}}}]}}}}"#
        )
    }

    #[test]
    fn a_named_create_goes_once_and_an_unnamed_one_is_forwarded() {
        let config = config("");
        let named = plan(create(r#""customId":"song","#, "").as_bytes(), Endpoint::Job, "user:ann", &config, ANYONE);
        let named = named.unwrap();
        let Way::CreateOnce { key } = &named.way else { panic!("{:?}", named.way) };
        let again = plan(create(r#""customId":"song","#, "").as_bytes(), Endpoint::Job, "user:ann", &config, ANYONE);
        assert_eq!(again.unwrap().way, Way::CreateOnce { key: key.clone() }, "the same key for a resend");
        let other = plan(create(r#""customId":"song","#, "").as_bytes(), Endpoint::Job, "user:bob", &config, ANYONE);
        assert_ne!(other.unwrap().way, Way::CreateOnce { key: key.clone() }, "another caller's is another job");
        let unnamed = plan(create("", "").as_bytes(), Endpoint::Job, "user:ann", &config, ANYONE).unwrap();
        assert_eq!(unnamed.way, Way::Forward);
        // The caller's name is scoped before it goes upstream.
        let Request::CreateJob(sent) = &named.envelope.request else { panic!() };
        assert!(sent.custom_id.as_deref().unwrap().ends_with("_song") && sent.custom_id.as_deref() != Some("song"));
    }

    #[test]
    fn a_callback_is_swapped_for_the_proxys_own_or_refused() {
        let body = create(r#""customId":"song","#, r#""callback":"https://hooks.example/done","#);
        let without_url = plan(body.as_bytes(), Endpoint::Job, "user:ann", &config(""), ANYONE).unwrap_err();
        assert_eq!(without_url.error_code().as_deref(), Some("callbacks_not_configured"));
        let config = config(r#","publicUrl":"https://proxy.example""#);
        let refused = plan(body.as_bytes(), Endpoint::Job, "user:ann", &config, &|_| Err(Refusal::Private));
        assert_eq!(refused.unwrap_err().error_code().as_deref(), Some("callback_not_allowed"));
        let planned = plan(body.as_bytes(), Endpoint::Job, "user:ann", &config, ANYONE).unwrap();
        let Request::CreateJob(sent) = &planned.envelope.request else { panic!() };
        let url = sent.callback.as_deref().unwrap();
        assert!(url.starts_with("https://proxy.example/api/singing-cloning/callbacks/"), "{url}");
        let token = callback::token_of(url, &config.prefix).unwrap();
        let custom_id = sent.custom_id.as_deref().unwrap();
        assert_eq!(
            callback::open(&config.proxy_secret, token, custom_id).as_deref(),
            Some("https://hooks.example/done")
        );
    }

    #[test]
    fn with_a_public_url_every_create_asks_for_a_callback_that_forwards_nothing() {
        let body = create(r#""customId":"song","#, "");
        let without_url = plan(body.as_bytes(), Endpoint::Job, "user:ann", &config(""), ANYONE).unwrap();
        let Request::CreateJob(sent) = &without_url.envelope.request else { panic!() };
        assert_eq!(sent.callback, None, "no public URL, no callback");
        let config = config(r#","publicUrl":"https://proxy.example""#);
        for body in [body, create("", "")] {
            let planned = plan(body.as_bytes(), Endpoint::Job, "user:ann", &config, ANYONE).unwrap();
            let Request::CreateJob(sent) = &planned.envelope.request else { panic!() };
            let url = sent.callback.as_deref().unwrap();
            let token = callback::token_of(url, &config.prefix).unwrap();
            let custom_id = sent.custom_id.as_deref().unwrap();
            assert_eq!(callback::open(&config.proxy_secret, token, custom_id).as_deref(), Some(callback::EVENTS_ONLY));
        }
    }

    #[test]
    fn policy_and_listing_decide_the_way() {
        let no_training = config(r#","policy":{"allowTraining":false}"#);
        let refused = plan(create("", "").as_bytes(), Endpoint::Job, "user:ann", &no_training, ANYONE).unwrap_err();
        assert_eq!((refused.status, refused.error_code().as_deref()), (403, Some("forbidden_by_policy")));
        let list = br#"{"action":"ListModels","listModelsRequest":{"offset":5,"limit":10,"type":2}}"#;
        let planned = plan(list, Endpoint::MusicModel, "user:ann", &config(""), ANYONE).unwrap();
        assert_eq!(planned.way, Way::ListModels(ListModelsRequest::new(5, 10)));
        let shared = config(r#","models":"shared""#);
        assert_eq!(plan(list, Endpoint::MusicModel, "user:ann", &shared, ANYONE).unwrap().way, Way::Forward);
    }
}
