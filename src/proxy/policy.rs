//! The operator's policy over what callers may ask: whether they may train, how many
//! epochs a training may take, and which models they may sing with.

use alloc::vec::Vec;

use super::config::Policy;
use crate::error::{Issue, IssueCode};
use crate::model::job::DEFAULT_TOTAL_EPOCH;
use crate::model::{Envelope, Request, SingingCloningType};

/// Checks a request against the policy (on the caller's names, before scoping) and sets
/// the epoch cap on trainings that name no `totalEpoch` (the service's default, 30, may
/// exceed it). Every breach is an issue; the caller gets 403 with them.
pub fn apply(envelope: &mut Envelope, policy: &Policy) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Request::CreateJob(request) = &mut envelope.request else { return issues };
    for (i, output) in request.outputs.iter_mut().enumerate() {
        let cloning = &mut output.smart_content_descriptor.singing_cloning;
        let path =
            |field: &str| alloc::format!("createJobRequest.outputs[{i}].smartContentDescriptor.singingCloning.{field}");
        match cloning.kind {
            SingingCloningType::Train => {
                if !policy.allow_training {
                    issues.push(Issue {
                        path: path("type"),
                        code: IssueCode::Enum,
                        message: "training is not allowed by this proxy",
                    });
                }
                if let Some(cap) = policy.max_total_epoch {
                    match cloning.total_epoch {
                        Some(epochs) if epochs > cap => issues.push(Issue {
                            path: path("totalEpoch"),
                            code: IssueCode::Range,
                            message: "is above the most epochs this proxy allows",
                        }),
                        Some(_) => {}
                        None => cloning.total_epoch = Some(cap.min(DEFAULT_TOTAL_EPOCH)),
                    }
                }
            }
            SingingCloningType::Generate => {
                let allowed = policy.allowed_models.as_ref().is_none_or(|models| models.contains(&cloning.model_name));
                if !allowed {
                    issues.push(Issue {
                        path: path("modelName"),
                        code: IssueCode::Enum,
                        message: "is not a model this proxy allows",
                    });
                }
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{check_request, Value};

    fn envelope(kind: u8, extra: &str) -> Envelope {
        let json = format!(
            r#"{{"action":"CreateJob","createJobRequest":{{"inputs":[{{"url":"https://a.example/x.wav"}}],
            "outputs":[{{"contentId":"c","inputSelectors":[0],
            "smartContentDescriptor":{{"singingCloning":{{"type":{kind},"modelName":"m"{extra}}}}}}}]}}}}"#
        );
        check_request(&Value::parse(&json).unwrap()).unwrap()
    }

    fn epochs(e: &Envelope) -> Option<u32> {
        let Request::CreateJob(r) = &e.request else { panic!() };
        r.outputs[0].smart_content_descriptor.singing_cloning.total_epoch
    }

    #[test]
    fn forbids_training_when_told() {
        let policy = Policy { allow_training: false, max_total_epoch: None, allowed_models: None };
        assert_eq!(
            apply(&mut envelope(2, ""), &policy)[0].path,
            "createJobRequest.outputs[0].smartContentDescriptor.singingCloning.type"
        );
        assert!(apply(&mut envelope(1, ""), &policy).is_empty());
    }

    #[test]
    fn caps_epochs() {
        let policy = Policy { allow_training: true, max_total_epoch: Some(10), allowed_models: None };
        assert_eq!(apply(&mut envelope(2, r#","totalEpoch":11"#), &policy)[0].code, IssueCode::Range);
        let mut e = envelope(2, r#","totalEpoch":10"#);
        assert!(apply(&mut e, &policy).is_empty());
        let mut e = envelope(2, "");
        assert!(apply(&mut e, &policy).is_empty());
        assert_eq!(epochs(&e), Some(10));
    }

    #[test]
    fn allows_only_listed_models() {
        let policy =
            Policy { allow_training: true, max_total_epoch: None, allowed_models: Some(vec!["default".into()]) };
        assert_eq!(apply(&mut envelope(1, ""), &policy)[0].code, IssueCode::Enum);
        assert!(apply(&mut envelope(2, ""), &policy).is_empty(), "trainings name new models");
    }
}
