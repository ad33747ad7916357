//! The pure core against the reference's examples, every validation rule, and arbitrary input.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::json;
use singing_cloning::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The reference's placeholders filled with values that satisfy its rules.
fn concrete(text: &str) -> String {
    text.replace("{url}", "https://media.example.com/voice.mp3")
        .replace("{callback}", "https://hooks.example.com/singing")
        .replace("{customId}", "lesson_42")
        .replace("{secretId}", "AKIDexample")
        .replace("{secretKey}", "example-key")
        .replace("{contentId}", "repo-1")
        .replace("{outputPrefix}", "cover_")
        .replace("{destination}", "/output")
        .replace("{id}", "13f342e4-6866-450e-b44e-3151431c578b")
}

fn value(json: serde_json::Value) -> Value {
    Value::parse(&json.to_string()).unwrap()
}

fn to_json<T: serde::Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap()
}

// ---- the reference's examples ----

#[test]
fn every_request_example_validates_and_round_trips() {
    for name in [
        "create_job_generate_request",
        "create_job_train_request",
        "list_jobs_request",
        "get_job_request",
        "list_models_request",
    ] {
        let text = concrete(&fixture(name));
        let body = Value::parse(&text).unwrap();
        assert_eq!(validate_body(&body), vec![], "{name}");
        let envelope = check_request(&body).unwrap();
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(to_json(&envelope), expected, "{name}: the typed request writes the same wire JSON");
    }
}

#[test]
fn builders_write_the_reference_examples() {
    let mut generate = CreateJobRequest::new(
        vec![Input::url("https://media.example.com/voice.mp3")],
        vec![Output {
            content_id: Some("repo-1".into()),
            destination: Some("/output".into()),
            ..Output::new(vec![0], SingingCloning::generate("default"))
        }],
    );
    generate.custom_id = Some("lesson_42".into());
    generate.callback = Some("https://hooks.example.com/singing".into());
    generate.outputs[0].smart_content_descriptor.output_prefix = Some("cover_".into());
    let body = Envelope::new(Request::CreateJob(generate))
        .with_credentials(Credentials { secret_id: "AKIDexample".into(), secret_key: "example-key".into() });
    let expected: serde_json::Value = serde_json::from_str(&concrete(&fixture("create_job_generate_request"))).unwrap();
    assert_eq!(to_json(&body), expected);

    let mut train = CreateJobRequest::new(
        vec![Input::url("https://media.example.com/voice.mp3")],
        vec![Output::new(vec![0], SingingCloning::train("demo"))],
    );
    train.custom_id = Some("lesson_42".into());
    train.callback = Some("https://hooks.example.com/singing".into());
    let body = Envelope::new(Request::CreateJob(train))
        .with_credentials(Credentials { secret_id: "AKIDexample".into(), secret_key: "example-key".into() });
    let expected: serde_json::Value = serde_json::from_str(&concrete(&fixture("create_job_train_request"))).unwrap();
    assert_eq!(to_json(&body), expected);

    assert_eq!(
        to_json(&Envelope::new(Request::ListModels(ListModelsRequest::new(0, 10)))),
        json!({"action": "ListModels", "listModelsRequest": {"offset": 0, "limit": 10, "type": 2}})
    );
    assert_eq!(
        to_json(&Envelope::new(Request::GetJob(GetJobRequest { id: "abc".into() }))),
        json!({"action": "GetJob", "getJobRequest": {"id": "abc"}})
    );
    assert_eq!(
        to_json(&Envelope::new(Request::ListJobs(ListJobsRequest { custom_id: "x".into() }))),
        json!({"action": "ListJobs", "listJobsRequest": {"customId": "x"}})
    );
}

#[test]
fn the_reference_examples_with_placeholders_fail_only_on_their_urls() {
    let body = Value::parse(&fixture("create_job_generate_request")).unwrap();
    let paths: Vec<_> = validate_body(&body).into_iter().map(|i| (i.path, i.code)).collect();
    assert_eq!(
        paths,
        vec![
            ("createJobRequest.callback".to_string(), IssueCode::Url),
            ("createJobRequest.inputs[0].url".to_string(), IssueCode::Url),
        ]
    );
}

/// The reference's response examples and the action each answers.
const RESPONSES: [(&str, Action); 7] = [
    ("create_job_generate_response", Action::CreateJob),
    ("create_job_train_response", Action::CreateJob),
    ("get_job_generate_response", Action::GetJob),
    ("get_job_train_response", Action::GetJob),
    ("list_jobs_generate_response", Action::ListJobs),
    ("list_jobs_train_response", Action::ListJobs),
    ("list_models_response", Action::ListModels),
];

#[test]
fn every_response_example_parses() {
    for (name, action) in RESPONSES {
        let text = fixture(name);
        let parsed = parse_response(action, 200, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        // The typed result writes back exactly what came in: no field lost, renamed or retyped.
        let written = match &parsed.response().unwrap() {
            Response::CreateJob(r) => json!({"requestId": parsed.request_id, "createJobResponse": to_json(r)}),
            Response::GetJob(r) => json!({"requestId": parsed.request_id, "getJobResponse": to_json(r)}),
            Response::ListJobs(r) => json!({"requestId": parsed.request_id, "listJobsResponse": to_json(r)}),
            Response::ListModels(r) => json!({"requestId": parsed.request_id, "listModelsResponse": to_json(r)}),
        };
        assert_eq!(written, expected, "{name}");
    }
}

#[test]
fn parsed_jobs_are_typed() {
    let parsed = parse_response(Action::GetJob, 200, &fixture("get_job_generate_response")).unwrap();
    let job = parsed.job().unwrap();
    assert_eq!(parsed.job_state(), Some(JobState::Completed));
    assert_eq!(parsed.request_id.as_deref(), Some("c9845a99-34e3-4b0f-80f5-f0a2a0ee8896"));
    assert_eq!(job.state, JobState::Completed);
    assert!(job.state.is_final());
    assert_eq!(Timing::millis(&job.timing.completed_at), Some(1610513618000));
    let output = &job.outputs[0];
    assert_eq!(output.smart_content_descriptor.singing_cloning.kind, SingingCloningType::Generate);
    assert_eq!(
        output.smart_content_result.as_ref().unwrap().singing_cloning.as_ref().unwrap().song_name.as_deref(),
        Some("out.mp3")
    );

    let parsed = parse_response(Action::GetJob, 200, &fixture("get_job_train_response")).unwrap();
    let result = parsed.job().unwrap().outputs[0].smart_content_result.clone().unwrap().singing_cloning.unwrap();
    assert_eq!(result.model_name.as_deref(), Some("demo"));

    let parsed = parse_response(Action::CreateJob, 200, &fixture("create_job_train_response")).unwrap();
    assert_eq!(parsed.job().unwrap().state, JobState::Submitted);
    assert_eq!(Timing::millis(&parsed.job().unwrap().timing.started_at), None);

    let parsed = parse_response(Action::ListModels, 200, &fixture("list_models_response")).unwrap();
    let Response::ListModels(models) = parsed.response().unwrap() else { panic!() };
    assert_eq!(models.total, 1);
    assert_eq!(models.models[0].name, "demo");
}

#[test]
fn responses_tolerate_unknown_fields_and_states() {
    let text = r#"{"requestId":"r1","extra":{"a":1},"getJobResponse":{"job":{"id":"j","state":9,"newField":[1,2],
        "timing":{"createdAt":"1","startedAt":"0","completedAt":"0","queuedAt":"5"},"inputs":[],"outputs":[]}}}"#;
    let parsed = parse_response(Action::GetJob, 200, text).unwrap();
    assert_eq!(parsed.job().unwrap().state, JobState::Unknown(9));
    assert_eq!(parsed.job().unwrap().state.name(), "UNKNOWN");
    let raw = parsed.raw_with_status();
    let job = raw.get("getJobResponse").unwrap().get("job").unwrap();
    assert_eq!(job.get("status").unwrap().as_str(), Some("UNKNOWN"));
    assert_eq!(job.get("newField"), Some(&Value::Array(vec![Value::Number(1.0.into()), Value::Number(2.0.into())])));
    assert_eq!(raw.get("extra").unwrap().get("a"), Some(&Value::Number(1.0.into())));
}

#[test]
fn status_is_added_to_every_job() {
    let parsed = parse_response(Action::ListJobs, 200, &fixture("list_jobs_train_response")).unwrap();
    let raw = parsed.raw_with_status();
    let Some(Value::Array(jobs)) = raw.get("listJobsResponse").unwrap().get("jobs") else { panic!() };
    assert_eq!(jobs[0].get("status").unwrap().as_str(), Some("COMPLETED"));
    assert_eq!(jobs[0].get("state"), Some(&Value::Number(3.0.into())));
    for (state, status) in
        [(1, "SUBMITTED"), (2, "PROCESSING"), (3, "COMPLETED"), (4, "ERROR"), (5, "CANCELED"), (0, "UNKNOWN")]
    {
        assert_eq!(JobState::from_code(state).name(), status);
    }
}

// ---- errors from answers ----

#[test]
fn bad_bodies_become_typed_errors() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let err = parse_response(Action::GetJob, 502, html).unwrap_err();
    assert_eq!(err.code(), "http");
    assert_eq!(err.status(), Some(502));
    assert!(err.is_retryable());
    assert_eq!(err.body(), Some(html));

    let err = parse_response(Action::GetJob, 200, html).unwrap_err();
    assert!(matches!(err, Error::Parse { reason: "the body is an HTML page, not JSON", .. }), "{err:?}");

    let full = fixture("get_job_generate_response");
    let err = parse_response(Action::GetJob, 200, &full[..full.len() / 2]).unwrap_err();
    assert!(matches!(err, Error::Parse { reason: "the body ends before its JSON does", status: 200, .. }), "{err:?}");

    let err = parse_response(Action::GetJob, 200, "").unwrap_err();
    assert_eq!(err.code(), "parse");
    let err = parse_response(Action::GetJob, 200, "[1]").unwrap_err();
    assert_eq!(err.code(), "parse");

    let err = parse_response(Action::GetJob, 200, r#"{"requestId":"r9","listModelsResponse":{}}"#).unwrap_err();
    assert!(matches!(&err, Error::Parse { request_id: Some(id), .. } if id == "r9"), "{err:?}");

    let err = parse_response(Action::GetJob, 200, r#"{"requestId":"r9","getJobResponse":{"job":{"id":5,"state":1}}}"#)
        .unwrap_err();
    assert_eq!(err.code(), "parse");
    assert_eq!(err.request_id(), Some("r9"));
}

#[test]
fn the_usual_error_shapes_become_api_errors() {
    let cases = [
        (
            400,
            r#"{"requestId":"a","error":{"code":"InvalidParameter","message":"bad model"}}"#,
            Some("InvalidParameter"),
            "bad model",
            Some("a"),
        ),
        (500, r#"{"error":"boom"}"#, None, "boom", None),
        (200, r#"{"requestId":"b","code":1001,"message":"model exists"}"#, Some("1001"), "model exists", Some("b")),
        (
            200,
            r#"{"Response":{"RequestId":"c","Error":{"Code":"AuthFailure","Message":"signature"}}}"#,
            Some("AuthFailure"),
            "signature",
            Some("c"),
        ),
        (401, r#"{"message":"HMAC signature cannot be verified"}"#, None, "HMAC signature cannot be verified", None),
    ];
    for (status, body, code, message, request_id) in cases {
        let err = parse_response(Action::CreateJob, status, body).unwrap_err();
        match &err {
            Error::Api { status: s, error_code, message: m, request_id: r, body: b } => {
                assert_eq!(*s, status);
                assert_eq!(error_code.as_deref(), code, "{body}");
                assert_eq!(m, message);
                assert_eq!(r.as_deref(), request_id);
                assert_eq!(b, body);
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    // A success answer with a code of 0 is no error.
    let ok = r#"{"requestId":"d","code":0,"message":"ok","listModelsResponse":{"total":0,"models":[]}}"#;
    assert!(parse_response(Action::ListModels, 200, ok).is_ok());
    // A failure status without a known shape is an HTTP error that keeps the request id.
    let err = parse_response(Action::ListModels, 503, r#"{"requestId":"e"}"#).unwrap_err();
    assert_eq!((err.code(), err.request_id(), err.status()), ("http", Some("e"), Some(503)));
}

#[test]
fn body_excerpts_are_bounded() {
    let big = "x".repeat(10_000);
    let err = parse_response(Action::GetJob, 500, &big).unwrap_err();
    assert_eq!(err.body().unwrap().len(), 10_000);
    assert_eq!(err.body_excerpt().unwrap().chars().count(), error::BODY_EXCERPT_CHARS);
    assert!(!err.message().contains("xxx"));
}

#[test]
fn credentials_never_show_in_debug() {
    let body = check_request(&Value::parse(&concrete(&fixture("get_job_request"))).unwrap()).unwrap();
    let debug = format!("{body:?}");
    assert!(!debug.contains("example-key") && !debug.contains("AKIDexample"), "{debug}");
}

// ---- validation: every rule, with its path and code ----

/// A valid generation body, to break one rule at a time.
fn generate_body() -> serde_json::Value {
    json!({
        "action": "CreateJob",
        "createJobRequest": {
            "inputs": [{"url": "https://media.example.com/song.mp3"}],
            "outputs": [{
                "contentId": "repo-1",
                "destination": "/output",
                "inputSelectors": [0],
                "smartContentDescriptor": {
                    "outputPrefix": "cover_",
                    "singingCloning": {"type": 1, "modelName": "default", "useSeparate": 2}
                }
            }],
            "callback": "https://hooks.example.com/x",
            "customId": "job_1",
            "timeout": 600
        }
    })
}

fn train_body() -> serde_json::Value {
    json!({
        "action": "CreateJob",
        "createJobRequest": {
            "inputs": [{"source": {"contentId": "repo-1", "path": "/voice/a.wav"}}, {"sourceData": "la la la"}],
            "outputs": [{
                "inputSelectors": [0, 1],
                "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "my_voice_2", "totalEpoch": 50}}
            }]
        }
    })
}

/// Sets the value at a dotted path (`a.b[0].c`); `null` removes it.
fn with(mut body: serde_json::Value, path: &str, new: serde_json::Value) -> serde_json::Value {
    let pointer = format!("/{}", path.replace(['.', '['], "/").replace(']', ""));
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = body.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match target {
        serde_json::Value::Object(map) if new.is_null() => {
            map.remove(key);
        }
        serde_json::Value::Object(map) => {
            map.insert(key.into(), new);
        }
        serde_json::Value::Array(items) => items[key.parse::<usize>().unwrap()] = new,
        _ => panic!("{path}"),
    }
    body
}

const CJ: &str = "createJobRequest";
const OUT: &str = "createJobRequest.outputs[0]";
const SC: &str = "createJobRequest.outputs[0].smartContentDescriptor.singingCloning";

fn expect(body: serde_json::Value, issues: &[(&str, &str)]) {
    let found: Vec<(String, String)> =
        validate_body(&value(body.clone())).into_iter().map(|i| (i.path, i.code.name().into())).collect();
    let expected: Vec<(String, String)> = issues.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    assert_eq!(found, expected, "body: {body}");
}

#[test]
fn valid_bodies_have_no_issues() {
    expect(generate_body(), &[]);
    expect(train_body(), &[]);
    expect(with(generate_body(), "secretId", json!("id")), &[]);
    expect(json!({"action": "GetJob", "getJobRequest": {"id": "x"}}), &[]);
    expect(json!({"action": "ListJobs", "listJobsRequest": {"customId": "a".repeat(63)}}), &[]);
    expect(json!({"action": "ListModels", "listModelsRequest": {"offset": 0, "limit": 100, "type": 2}}), &[]);
    // null counts as absent for an optional field.
    expect(with(generate_body(), &format!("{CJ}.callback"), json!(null)), &[]);
    let mut b = generate_body();
    b["createJobRequest"]["customId"] = json!(null);
    expect(b, &[]);
}

#[test]
fn rule_body_and_action() {
    expect(json!([]), &[("", "type")]);
    expect(json!("CreateJob"), &[("", "type")]);
    expect(json!({}), &[("action", "required")]);
    expect(json!({"action": 3}), &[("action", "type")]);
    expect(json!({"action": "DeleteJob"}), &[("action", "unknown_action")]);
    expect(json!({"action": "createjob", "createJobRequest": {}}), &[("action", "unknown_action")]);
    expect(json!({"action": "CreateJob"}), &[(CJ, "required")]);
    expect(json!({"action": "CreateJob", "createJobRequest": []}), &[(CJ, "type")]);
    expect(json!({"action": "GetJob", "createJobRequest": {}}), &[("getJobRequest", "required")]);
    expect(json!({"action": "ListJobs"}), &[("listJobsRequest", "required")]);
    expect(json!({"action": "ListModels"}), &[("listModelsRequest", "required")]);
}

#[test]
fn rule_credentials_optional_but_not_empty() {
    expect(with(generate_body(), "secretId", json!("")), &[("secretId", "required")]);
    expect(with(generate_body(), "secretKey", json!(5)), &[("secretKey", "type")]);
    expect(with(with(generate_body(), "secretId", json!("a")), "secretKey", json!("b")), &[]);
}

#[test]
fn rule_inputs_and_outputs_non_empty_arrays() {
    expect(with(generate_body(), &format!("{CJ}.inputs"), json!(null)), &[(&format!("{CJ}.inputs"), "required")]);
    expect(with(generate_body(), &format!("{CJ}.inputs"), json!([])), &[(&format!("{CJ}.inputs"), "required")]);
    expect(
        with(generate_body(), &format!("{CJ}.inputs"), json!({"url": "https://a.b/c"})),
        &[(&format!("{CJ}.inputs"), "type")],
    );
    expect(with(generate_body(), &format!("{CJ}.outputs"), json!([])), &[(&format!("{CJ}.outputs"), "required")]);
    expect(with(generate_body(), &format!("{CJ}.outputs"), json!("x")), &[(&format!("{CJ}.outputs"), "type")]);
    expect(with(generate_body(), &format!("{CJ}.outputs[0]"), json!(1)), &[(OUT, "type")]);
    expect(
        with(generate_body(), &format!("{CJ}.inputs[0]"), json!("https://a.b/c")),
        &[(&format!("{CJ}.inputs[0]"), "type")],
    );
}

#[test]
fn rule_exactly_one_input_source() {
    let at = format!("{CJ}.inputs[0]");
    expect(with(generate_body(), &at, json!({})), &[(&at, "one_of")]);
    expect(with(generate_body(), &at, json!({"url": "https://a.b/c", "sourceData": "x"})), &[(&at, "one_of")]);
    expect(
        with(
            generate_body(),
            &at,
            json!({"url": "https://a.b/c", "source": {"contentId": "r", "path": "/p"}, "sourceData": "x"}),
        ),
        &[(&at, "one_of")],
    );
    expect(with(generate_body(), &at, json!({"url": null, "sourceData": "x"})), &[]);
}

#[test]
fn rule_source_data_at_most_512_characters() {
    let at = format!("{CJ}.inputs[0].sourceData");
    expect(with(generate_body(), &format!("{CJ}.inputs[0]"), json!({"sourceData": "é".repeat(512)})), &[]);
    expect(
        with(generate_body(), &format!("{CJ}.inputs[0]"), json!({"sourceData": "é".repeat(513)})),
        &[(&at, "too_long")],
    );
    expect(with(generate_body(), &format!("{CJ}.inputs[0]"), json!({"sourceData": 7})), &[(&at, "type")]);
}

#[test]
fn rule_urls_absolute_http() {
    let url = format!("{CJ}.inputs[0].url");
    for bad in
        ["ftp://a.b/c", "/relative.mp3", "https://", "https:///path", "http://a b/c", "javascript:alert(1)", "song.mp3"]
    {
        expect(with(generate_body(), &url, json!(bad)), &[(&url, "url")]);
    }
    for good in ["http://127.0.0.1:9000/release/x.wav", "HTTPS://EXAMPLE.COM", "https://user@host/a?b#c"] {
        expect(with(generate_body(), &url, json!(good)), &[]);
    }
    let cb = format!("{CJ}.callback");
    expect(with(generate_body(), &cb, json!("mailto:x@y.z")), &[(&cb, "url")]);
    expect(with(generate_body(), &cb, json!(true)), &[(&cb, "type")]);
}

#[test]
fn rule_source_needs_content_id_and_path() {
    let at = format!("{CJ}.inputs[0]");
    expect(
        with(generate_body(), &at, json!({"source": {}})),
        &[(&format!("{at}.source.contentId"), "required"), (&format!("{at}.source.path"), "required")],
    );
    expect(
        with(generate_body(), &at, json!({"source": {"contentId": "", "path": 3}})),
        &[(&format!("{at}.source.contentId"), "required"), (&format!("{at}.source.path"), "type")],
    );
    expect(with(generate_body(), &at, json!({"source": "repo/path"})), &[(&format!("{at}.source"), "type")]);
}

#[test]
fn rule_input_selectors_reference_inputs() {
    let at = format!("{OUT}.inputSelectors");
    expect(with(generate_body(), &at, json!([])), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!(null)), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!(0)), &[(&at, "type")]);
    expect(with(generate_body(), &at, json!([1])), &[(&format!("{at}[0]"), "reference")]);
    expect(with(generate_body(), &at, json!([0, -1])), &[(&format!("{at}[1]"), "reference")]);
    expect(with(generate_body(), &at, json!([0.5])), &[(&format!("{at}[0]"), "type")]);
    expect(with(generate_body(), &at, json!(["0"])), &[(&format!("{at}[0]"), "type")]);
    expect(with(train_body(), &at, json!([1, 0])), &[]);
    expect(with(train_body(), &at, json!([2])), &[(&format!("{at}[0]"), "reference")]);
}

#[test]
fn rule_type_is_1_or_2() {
    let at = format!("{SC}.type");
    expect(with(generate_body(), &at, json!(3)), &[(&at, "enum")]);
    expect(with(generate_body(), &at, json!(0)), &[(&at, "enum")]);
    expect(with(generate_body(), &at, json!("1")), &[(&at, "type")]);
    expect(with(generate_body(), &at, json!(null)), &[(&at, "required")]);
    expect(
        with(generate_body(), &format!("{OUT}.smartContentDescriptor.singingCloning"), json!(null)),
        &[(SC, "required")],
    );
    expect(
        with(generate_body(), &format!("{OUT}.smartContentDescriptor"), json!(null)),
        &[(&format!("{OUT}.smartContentDescriptor"), "required")],
    );
    expect(
        with(generate_body(), &format!("{OUT}.smartContentDescriptor"), json!([])),
        &[(&format!("{OUT}.smartContentDescriptor"), "type")],
    );
}

#[test]
fn rule_model_name() {
    let at = format!("{SC}.modelName");
    expect(with(generate_body(), &at, json!(null)), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!("")), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!(42)), &[(&at, "type")]);
    for bad in ["my voice", "voice-1", "voix_é", "a.b", "名字"] {
        expect(with(generate_body(), &at, json!(bad)), &[(&at, "pattern")]);
    }
    expect(with(generate_body(), &at, json!("A".repeat(63))), &[]);
    expect(with(generate_body(), &at, json!("A".repeat(64))), &[(&at, "too_long")]);
    expect(with(train_body(), &at, json!("Az_09")), &[]);
}

#[test]
fn rule_total_epoch_only_for_training_1_to_50() {
    let at = format!("{SC}.totalEpoch");
    expect(with(generate_body(), &at, json!(10)), &[(&at, "not_applicable")]);
    expect(with(train_body(), &at, json!(1)), &[]);
    expect(with(train_body(), &at, json!(0)), &[(&at, "range")]);
    expect(with(train_body(), &at, json!(51)), &[(&at, "range")]);
    expect(with(train_body(), &at, json!(2.5)), &[(&at, "type")]);
    expect(with(train_body(), &at, json!("30")), &[(&at, "type")]);
}

#[test]
fn rule_content_id_required_for_generation() {
    let at = format!("{OUT}.contentId");
    expect(with(generate_body(), &at, json!(null)), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!("")), &[(&at, "required")]);
    expect(with(generate_body(), &at, json!(1)), &[(&at, "type")]);
    // Training needs none.
    expect(train_body(), &[]);
}

#[test]
fn rule_output_prefix_under_20_characters() {
    let at = format!("{OUT}.smartContentDescriptor.outputPrefix");
    expect(with(generate_body(), &at, json!("p".repeat(19))), &[]);
    expect(with(generate_body(), &at, json!("p".repeat(20))), &[(&at, "too_long")]);
    expect(with(generate_body(), &at, json!(["p"])), &[(&at, "type")]);
    expect(with(generate_body(), &format!("{OUT}.destination"), json!(1)), &[(&format!("{OUT}.destination"), "type")]);
}

#[test]
fn rule_use_separate_1_or_2() {
    let at = format!("{SC}.useSeparate");
    expect(with(generate_body(), &at, json!(1)), &[]);
    expect(with(generate_body(), &at, json!(0)), &[(&at, "enum")]);
    expect(with(generate_body(), &at, json!(true)), &[(&at, "type")]);
}

#[test]
fn rule_custom_id_under_64_characters() {
    let at = format!("{CJ}.customId");
    expect(with(generate_body(), &at, json!("c".repeat(63))), &[]);
    expect(with(generate_body(), &at, json!("ü".repeat(64))), &[(&at, "too_long")]);
    expect(with(generate_body(), &at, json!(12)), &[(&at, "type")]);
}

#[test]
fn rule_timeout_positive_integer() {
    let at = format!("{CJ}.timeout");
    expect(with(generate_body(), &at, json!(1)), &[]);
    expect(with(generate_body(), &at, json!(0)), &[(&at, "range")]);
    expect(with(generate_body(), &at, json!(-5)), &[(&at, "range")]);
    expect(with(generate_body(), &at, json!(1e12)), &[(&at, "range")]);
    expect(with(generate_body(), &at, json!(1.5)), &[(&at, "type")]);
    expect(with(generate_body(), &at, json!("60")), &[(&at, "type")]);
}

#[test]
fn rule_get_job_id() {
    expect(json!({"action": "GetJob", "getJobRequest": {}}), &[("getJobRequest.id", "required")]);
    expect(json!({"action": "GetJob", "getJobRequest": {"id": ""}}), &[("getJobRequest.id", "required")]);
    expect(json!({"action": "GetJob", "getJobRequest": {"id": 5}}), &[("getJobRequest.id", "type")]);
}

#[test]
fn rule_list_jobs_custom_id() {
    let at = "listJobsRequest.customId";
    expect(json!({"action": "ListJobs", "listJobsRequest": {}}), &[(at, "required")]);
    expect(json!({"action": "ListJobs", "listJobsRequest": {"customId": ""}}), &[(at, "required")]);
    expect(json!({"action": "ListJobs", "listJobsRequest": {"customId": "a".repeat(64)}}), &[(at, "too_long")]);
    expect(json!({"action": "ListJobs", "listJobsRequest": {"customId": []}}), &[(at, "type")]);
}

#[test]
fn rule_list_models_paging() {
    let body = |offset: serde_json::Value, limit: serde_json::Value, kind: serde_json::Value| {
        json!({
            "action": "ListModels",
            "listModelsRequest": {"offset": offset, "limit": limit, "type": kind}
        })
    };
    expect(body(json!(0), json!(1), json!(2)), &[]);
    expect(body(json!(-1), json!(10), json!(2)), &[("listModelsRequest.offset", "range")]);
    expect(body(json!(0), json!(0), json!(2)), &[("listModelsRequest.limit", "range")]);
    expect(body(json!(0), json!(101), json!(2)), &[("listModelsRequest.limit", "range")]);
    expect(body(json!(0), json!(10), json!(1)), &[("listModelsRequest.type", "enum")]);
    expect(
        body(json!("0"), json!(10.5), json!(null)),
        &[
            ("listModelsRequest.offset", "type"),
            ("listModelsRequest.limit", "type"),
            ("listModelsRequest.type", "required"),
        ],
    );
}

#[test]
fn every_issue_is_reported_not_only_the_first() {
    let body = json!({
        "action": "CreateJob",
        "secretKey": "",
        "createJobRequest": {
            "inputs": [{"url": "nope"}, {}],
            "outputs": [{
                "inputSelectors": [5],
                "smartContentDescriptor": {
                    "outputPrefix": "p".repeat(25),
                    "singingCloning": {"type": 1, "modelName": "bad name", "totalEpoch": 3, "useSeparate": 9}
                }
            }],
            "customId": "c".repeat(70),
            "timeout": 0
        }
    });
    expect(
        body,
        &[
            ("secretKey", "required"),
            ("createJobRequest.customId", "too_long"),
            ("createJobRequest.timeout", "range"),
            ("createJobRequest.inputs[0].url", "url"),
            ("createJobRequest.inputs[1]", "one_of"),
            ("createJobRequest.outputs[0].inputSelectors[0]", "reference"),
            ("createJobRequest.outputs[0].smartContentDescriptor.outputPrefix", "too_long"),
            (&format!("{SC}.modelName"), "pattern"),
            (&format!("{SC}.totalEpoch"), "not_applicable"),
            (&format!("{SC}.useSeparate"), "enum"),
            ("createJobRequest.outputs[0].contentId", "required"),
        ],
    );
}

#[test]
fn a_validation_error_names_every_field() {
    let issues = validate_body(&value(with(generate_body(), &format!("{SC}.modelName"), json!("a b"))));
    let err = Error::Validation { issues };
    assert_eq!(err.code(), "validation");
    assert_eq!(
        err.message(),
        "invalid request: createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName \
         must contain only ASCII letters, digits and underscores"
    );
    assert!(!err.is_retryable());
}

// ---- never a panic ----

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Replaces (or removes) one node of the tree, picked among all of them.
    fn mutate(body: &mut serde_json::Value, pick: prop::sample::Index, replacement: serde_json::Value, remove: bool) {
        fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{at}/{k}"), out)),
                serde_json::Value::Array(items) => {
                    items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out))
                }
                _ => {}
            }
            out.push(at);
        }
        let mut all = Vec::new();
        pointers(body, String::new(), &mut all);
        let target = pick.get(&all).clone();
        if target.is_empty() {
            return;
        }
        let (parent, key) = target.rsplit_once('/').unwrap();
        match body.pointer_mut(parent) {
            Some(serde_json::Value::Object(map)) if remove => {
                map.remove(key);
            }
            Some(node) => {
                if let Some(slot) = node.pointer_mut(&format!("/{key}")) {
                    *slot = replacement;
                }
            }
            None => {}
        }
    }

    /// Values at the edges of the model's types, or any JSON.
    fn edge_value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            3 => prop::sample::select(vec![
                json!(0), json!(-1), json!(1), json!(2), json!(3), json!(1.5), json!(4294967296u64),
                json!(""), json!("x"),
                json!(null), json!(true), json!([]), json!({}), json!([0]), json!([-1]),
            ]),
            1 => arb_json(),
        ]
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            (-1i32..4).prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|n| json!(n)),
            "[a-zA-Z0-9_ :/.-]{0,12}".prop_map(serde_json::Value::String),
            prop_oneof![Just("CreateJob"), Just("GetJob"), Just("ListJobs"), Just("ListModels")].prop_map(|s| json!(s)),
        ];
        let keys = prop_oneof![
            Just("action"),
            Just("createJobRequest"),
            Just("getJobRequest"),
            Just("listJobsRequest"),
            Just("listModelsRequest"),
            Just("inputs"),
            Just("outputs"),
            Just("url"),
            Just("source"),
            Just("sourceData"),
            Just("inputSelectors"),
            Just("smartContentDescriptor"),
            Just("singingCloning"),
            Just("type"),
            Just("modelName"),
            Just("totalEpoch"),
            Just("contentId"),
            Just("path"),
            Just("id"),
            Just("customId"),
            Just("offset"),
            Just("limit"),
            Just("job"),
            Just("jobs"),
            Just("state"),
            Just("timing"),
            Just("requestId"),
            Just("getJobResponse"),
            Just("error"),
            Just("code"),
            Just("message"),
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    /// A valid request of each action with one to three of its nodes changed or removed:
    /// where random JSON seldom reaches, deep inside a CreateJob body.
    fn broken_request() -> impl Strategy<Value = serde_json::Value> {
        let bases = vec![
            generate_body(),
            train_body(),
            json!({"action": "GetJob", "getJobRequest": {"id": "x"}}),
            json!({"action": "ListJobs", "listJobsRequest": {"customId": "c"}}),
            json!({"action": "ListModels", "listModelsRequest": {"offset": 0, "limit": 10, "type": 2}}),
        ];
        let edits = prop::collection::vec((any::<prop::sample::Index>(), edge_value(), any::<bool>()), 1..4);
        (prop::sample::select(bases), edits).prop_map(|(mut body, edits)| {
            for (pick, replacement, remove) in edits {
                mutate(&mut body, pick, replacement, remove);
            }
            body
        })
    }

    /// The segments of an issue path (`a.b[0].c`): keys and indices.
    pub(super) fn segments(path: &str) -> Vec<Result<&str, usize>> {
        let mut out = Vec::new();
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
            if !key.is_empty() {
                out.push(Ok(key));
            }
            for index in indices.split('[') {
                if let Some(n) = index.strip_suffix(']') {
                    out.push(Err(n.parse().expect(path)));
                }
            }
        }
        out
    }

    /// Whether an issue's path fits the body, read apart from the validator: a `required`
    /// field's parent is there and the field is absent, `null`, `""` or `[]`; any other
    /// issue's field is there, `null` only for a wrong type.
    pub(super) fn names_a_place(body: &serde_json::Value, path: &str, code: IssueCode) -> bool {
        let mut node = Some(body);
        for segment in segments(path) {
            node = node.and_then(|n| match segment {
                Ok(key) => n.get(key),
                Err(i) => n.get(i),
            });
        }
        let parent_there = {
            let all = segments(path);
            let mut parent = Some(body);
            for segment in &all[..all.len().saturating_sub(1)] {
                parent = parent.and_then(|n| match *segment {
                    Ok(key) => n.get(key),
                    Err(i) => n.get(i),
                });
            }
            parent.is_some_and(|p| p.is_object() || p.is_array())
        };
        let empty =
            |n: &serde_json::Value| n.is_null() || n.as_str() == Some("") || n.as_array().is_some_and(Vec::is_empty);
        match code {
            IssueCode::Required => parent_there && node.is_none_or(empty),
            // A `null` where an object or a number must be: the root, an item of an array.
            IssueCode::Type => node.is_some(),
            _ => node.is_some_and(|n| !n.is_null()),
        }
    }

    proptest! {
        // Each case changes one of some forty nodes to one of fifteen edge values: many
        // cases are needed to reach every pair.
        #![proptest_config(ProptestConfig::with_cases(30_000))]

        #[test]
        fn the_shape_check_and_the_typed_model_agree(
            fixture_index in 0usize..7,
            pick in any::<prop::sample::Index>(),
            replacement in edge_value(),
            remove in any::<bool>()
        ) {
            let (name, action) = RESPONSES[fixture_index];
            let mut body: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
            mutate(&mut body, pick, replacement, remove);
            if let Ok(parsed) = parse_response(action, 200, &body.to_string()) {
                prop_assert!(parsed.response().is_ok(), "{}", body);
            }
        }

    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn validation_never_panics_and_names_real_places(body in prop_oneof![arb_json(), broken_request()]) {
            match check_request(&value(body.clone())) {
                Ok(envelope) => {
                    // A checked body writes wire JSON that validates again.
                    let again = value(serde_json::to_value(&envelope).unwrap());
                    prop_assert_eq!(validate_body(&again), vec![]);
                }
                Err(issues) => {
                    prop_assert!(!issues.is_empty());
                    for issue in &issues {
                        prop_assert!(names_a_place(&body, &issue.path, issue.code), "{:?} in {}", issue, body);
                    }
                }
            }
        }

        #[test]
        fn parsing_never_panics_on_json(body in arb_json(), status in 100u16..600) {
            let text = body.to_string();
            for action in Action::ALL {
                if let Ok(parsed) = parse_response(action, status, &text) {
                    prop_assert!(parsed.response().is_ok(), "{}", text);
                }
                let _ = parse_response(action, status, &text[..text.len() / 2]);
            }
        }

        #[test]
        fn parsing_never_panics_on_any_text(text in any::<String>(), status in any::<u16>()) {
            for action in Action::ALL {
                if let Err(err) = parse_response(action, status, &text) {
                    let _ = (err.message(), err.body_excerpt());
                }
            }
            let _ = Value::parse(&text);
        }
    }
}

// ---- known breaks, combined: each field broken (or not) at random ----

mod known_breaks {
    use super::*;
    use proptest::prelude::*;

    /// A value put at a path, and the issue it must raise by the API reference's rules
    /// (`None`: it is valid there).
    type Break = (String, serde_json::Value, Option<(String, &'static str)>);

    fn bad(path: &str, new: serde_json::Value, code: &'static str) -> Break {
        (path.into(), new, Some((path.into(), code)))
    }

    fn bad_at(path: &str, new: serde_json::Value, at: &str, code: &'static str) -> Break {
        (path.into(), new, Some((at.into(), code)))
    }

    fn fine(path: &str, new: serde_json::Value) -> Break {
        (path.into(), new, None)
    }

    /// Breaks of the credentials, valid in every body.
    fn credentials() -> Vec<Vec<Break>> {
        vec![
            vec![
                bad("secretId", json!(""), "required"),
                bad("secretId", json!(5), "type"),
                fine("secretId", json!("id")),
            ],
            vec![
                bad("secretKey", json!(""), "required"),
                bad("secretKey", json!([]), "type"),
                fine("secretKey", json!("k")),
            ],
        ]
    }

    /// For each field of `generate_body()`, ways to set it. No field is checked against
    /// another that is broken here (the type and the inputs' count stay), so each break
    /// raises its issue and nothing else.
    fn generate_breaks() -> Vec<Vec<Break>> {
        let selectors = format!("{OUT}.inputSelectors");
        let mut all = credentials();
        all.extend([
            vec![
                bad(&format!("{CJ}.callback"), json!("mailto:x@y.z"), "url"),
                bad(&format!("{CJ}.callback"), json!("https://"), "url"),
                bad(&format!("{CJ}.callback"), json!(true), "type"),
                fine(&format!("{CJ}.callback"), json!(null)),
            ],
            vec![
                bad(&format!("{CJ}.customId"), json!("c".repeat(64)), "too_long"),
                bad(&format!("{CJ}.customId"), json!(12), "type"),
                fine(&format!("{CJ}.customId"), json!("ü".repeat(63))),
            ],
            vec![
                bad(&format!("{CJ}.timeout"), json!(0), "range"),
                bad(&format!("{CJ}.timeout"), json!(-5), "range"),
                bad(&format!("{CJ}.timeout"), json!(1.5), "type"),
                bad(&format!("{CJ}.timeout"), json!("60"), "type"),
            ],
            vec![
                bad(&format!("{CJ}.inputs[0].url"), json!("ftp://a.b/c"), "url"),
                bad(&format!("{CJ}.inputs[0].url"), json!(7), "type"),
            ],
            vec![
                bad(&format!("{OUT}.destination"), json!(1), "type"),
                bad(&format!("{OUT}.destination"), json!({}), "type"),
            ],
            vec![
                bad_at(&selectors, json!([1]), &format!("{selectors}[0]"), "reference"),
                bad_at(&selectors, json!([0, 0.5]), &format!("{selectors}[1]"), "type"),
                bad(&selectors, json!("0"), "type"),
                bad(&selectors, json!([]), "required"),
                bad(&selectors, json!(null), "required"),
            ],
            vec![
                bad(&format!("{OUT}.smartContentDescriptor.outputPrefix"), json!("p".repeat(20)), "too_long"),
                bad(&format!("{OUT}.smartContentDescriptor.outputPrefix"), json!(["p"]), "type"),
            ],
            vec![
                bad(&format!("{SC}.modelName"), json!("a b"), "pattern"),
                bad(&format!("{SC}.modelName"), json!("A".repeat(64)), "too_long"),
                bad(&format!("{SC}.modelName"), json!(42), "type"),
                bad(&format!("{SC}.modelName"), json!(""), "required"),
                bad(&format!("{SC}.modelName"), json!(null), "required"),
            ],
            vec![
                bad(&format!("{SC}.totalEpoch"), json!(10), "not_applicable"),
                bad(&format!("{SC}.totalEpoch"), json!(2.5), "type"),
            ],
            vec![
                bad(&format!("{SC}.useSeparate"), json!(0), "enum"),
                bad(&format!("{SC}.useSeparate"), json!(true), "type"),
                fine(&format!("{SC}.useSeparate"), json!(1)),
            ],
            vec![
                bad(&format!("{OUT}.contentId"), json!(""), "required"),
                bad(&format!("{OUT}.contentId"), json!(null), "required"),
                bad(&format!("{OUT}.contentId"), json!(1), "type"),
            ],
        ]);
        all
    }

    /// The same for `train_body()` (type 2: no content ID needed, epochs 1 to 50).
    fn train_breaks() -> Vec<Vec<Break>> {
        let source = format!("{CJ}.inputs[0].source");
        let selectors = format!("{OUT}.inputSelectors");
        let mut all = credentials();
        all.extend([
            vec![
                bad(&format!("{source}.contentId"), json!(""), "required"),
                bad(&format!("{source}.contentId"), json!(null), "required"),
                bad(&format!("{source}.contentId"), json!(3), "type"),
            ],
            vec![
                bad(&format!("{source}.path"), json!(""), "required"),
                bad(&format!("{source}.path"), json!([]), "type"),
            ],
            vec![
                bad(&format!("{CJ}.inputs[1].sourceData"), json!("é".repeat(513)), "too_long"),
                bad(&format!("{CJ}.inputs[1].sourceData"), json!(7), "type"),
                fine(&format!("{CJ}.inputs[1].sourceData"), json!("é".repeat(512))),
            ],
            vec![
                bad_at(&selectors, json!([2]), &format!("{selectors}[0]"), "reference"),
                bad_at(&selectors, json!([0, -1]), &format!("{selectors}[1]"), "reference"),
                fine(&selectors, json!([1, 0])),
            ],
            vec![
                bad(&format!("{SC}.totalEpoch"), json!(0), "range"),
                bad(&format!("{SC}.totalEpoch"), json!(51), "range"),
                bad(&format!("{SC}.totalEpoch"), json!("30"), "type"),
                fine(&format!("{SC}.totalEpoch"), json!(1)),
                fine(&format!("{SC}.totalEpoch"), json!(null)),
            ],
            vec![
                bad(&format!("{SC}.modelName"), json!("voice-1"), "pattern"),
                fine(&format!("{SC}.modelName"), json!("Az_09")),
            ],
            vec![bad(&format!("{OUT}.contentId"), json!(1), "type"), fine(&format!("{OUT}.contentId"), json!(""))],
        ]);
        all
    }

    /// The same for a ListModels body.
    fn list_models_breaks() -> Vec<Vec<Break>> {
        let at = |field: &str| format!("listModelsRequest.{field}");
        let mut all = credentials();
        all.extend([
            vec![
                bad(&at("offset"), json!(-1), "range"),
                bad(&at("offset"), json!("0"), "type"),
                bad(&at("offset"), json!(null), "required"),
                fine(&at("offset"), json!(4294967295u32)),
            ],
            vec![
                bad(&at("limit"), json!(0), "range"),
                bad(&at("limit"), json!(101), "range"),
                bad(&at("limit"), json!(10.5), "type"),
                bad(&at("limit"), json!(null), "required"),
                fine(&at("limit"), json!(100)),
            ],
            vec![
                bad(&at("type"), json!(1), "enum"),
                bad(&at("type"), json!(3), "enum"),
                bad(&at("type"), json!(true), "type"),
                bad(&at("type"), json!(null), "required"),
            ],
        ]);
        all
    }

    /// Applies the picked break of each field (none where the pick is `None`) and checks
    /// that exactly the issues the table promises come out, in any order.
    fn check(
        base: serde_json::Value,
        table: &[Vec<Break>],
        picks: &[Option<prop::sample::Index>],
    ) -> Result<(), TestCaseError> {
        let mut body = base;
        let mut expected = Vec::new();
        for (options, pick) in table.iter().zip(picks) {
            let Some(pick) = pick else { continue };
            let (path, new, issue) = pick.get(options).clone();
            body = with(body, &path, new);
            expected.extend(issue);
        }
        expected.sort();
        let found = match check_request(&value(body.clone())) {
            Ok(_) => Vec::new(),
            Err(issues) => {
                let mut found: Vec<(String, &'static str)> =
                    issues.into_iter().map(|i| (i.path, i.code.name())).collect();
                found.sort();
                found
            }
        };
        prop_assert_eq!(found, expected, "body: {}", body);
        Ok(())
    }

    fn picks(fields: usize) -> impl Strategy<Value = Vec<Option<prop::sample::Index>>> {
        prop::collection::vec(prop::option::weighted(0.3, any::<prop::sample::Index>()), fields)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn generation_bodies_raise_exactly_the_broken_rules(p in picks(generate_breaks().len())) {
            check(generate_body(), &generate_breaks(), &p)?;
        }

        #[test]
        fn training_bodies_raise_exactly_the_broken_rules(p in picks(train_breaks().len())) {
            check(train_body(), &train_breaks(), &p)?;
        }

        #[test]
        fn list_models_bodies_raise_exactly_the_broken_rules(p in picks(list_models_breaks().len())) {
            let base = json!({"action": "ListModels", "listModelsRequest": {"offset": 0, "limit": 10, "type": 2}});
            check(base, &list_models_breaks(), &p)?;
        }
    }
}

#[test]
fn errors_can_be_scrubbed_of_secrets() {
    let err = parse_response(
        Action::GetJob,
        401,
        r#"{"error":{"code":"AuthFailure","message":"bad key s3cr3t for id AKID1"}}"#,
    )
    .unwrap_err();
    let err = err.redact(&["s3cr3t", "AKID1", ""]);
    let text = format!("{err:?} {}", err.message());
    assert!(!text.contains("s3cr3t") && !text.contains("AKID1"), "{text}");
    assert!(err.message().contains("bad key [redacted] for id [redacted]"));
}

#[test]
fn replace_all_replaces_every_occurrence() {
    use singing_cloning::error::replace_all;
    assert_eq!(replace_all("a-key-b-key", "key", "*").as_deref(), Some("a-*-b-*"));
    assert_eq!(replace_all("kkk", "kk", "x").as_deref(), Some("xk"));
    assert_eq!(replace_all("héllo clé", "clé", "[r]").as_deref(), Some("héllo [r]"));
    assert_eq!(replace_all("nothing here", "key", "*"), None);
    assert_eq!(replace_all("key", "", "*"), None);
    assert_eq!(replace_all("k", "key", "*"), None);
}

#[test]
fn a_job_alone_parses_as_a_callback_posts_it() {
    let body: serde_json::Value = serde_json::from_str(&fixture("get_job_train_response")).unwrap();
    let job = parse_job(&body["getJobResponse"]["job"].to_string()).unwrap();
    assert_eq!((job.state, job.outputs.len()), (JobState::Completed, 1));
    assert_eq!(parse_job("<html>").unwrap_err().code(), "parse");
    assert!(matches!(parse_job(r#"{"id":1,"state":3}"#), Err(Error::Parse { reason: "the body is not a Job", .. })));
}

// Issue #11, item 12: numbers keep their text through parse and write, which the proxy
// does to every upstream answer. The expectation is the exact input text.
#[test]
fn numbers_pass_through_parse_and_write_unchanged() {
    let numbers = [
        "0.30000000000000004", // 17 significant digits
        "0.1000000000000000055511151231257827",
        "9007199254740993", // 2^53 + 1
        "18446744073709551617",
        "-9223372036854775809",
        "1.7976931348623157e308", // f64::MAX
        "-1.7976931348623157E+308",
        "2.2250738585072014e-308",
        "5e-324",
        "1e400",
        "-0",
        "-0.0",
        "1E+2",
        "100.000",
        "123456789012345678901234567890",
    ];
    for text in numbers {
        let job = format!(r#"{{"id":"j","state":3,"extra":{text},"list":[{text},{{"n":{text}}}]}}"#);
        let body = format!(r#"{{"requestId":"r","getJobResponse":{{"job":{job}}}}}"#);
        assert_eq!(Value::parse(&body).unwrap().to_json(), body, "{text}");
        // The answer check adds `status` and keeps every number as it came.
        let parsed = parse_response(Action::GetJob, 200, &body).unwrap();
        let written = parsed.raw_with_status().to_json();
        assert!(written.contains(&format!(r#""extra":{text},"list":[{text},{{"n":{text}}}]"#)), "{text}: {written}");
    }
    // Numbers made in Rust are written as before.
    let made = singing_cloning::model::value::to_value(&[1.5f64, 3.0, 1e21]);
    assert_eq!(made.to_json(), "[1.5,3,1000000000000000000000]");
}

// Issue #11, item 3: an object of many keys parses in time linear (n log n) in its size.
// Comparing each key with every earlier one took about 0.3 s for 8,500 keys in release,
// and about 12 times as long for the 30,000 here; the bound is far from both.
#[test]
fn many_keys_parse_in_linear_time() {
    let keys = 30_000;
    let mut body = String::from("{");
    for i in 0..keys {
        body.push_str(&format!(r#""k{i}":{i},"#));
    }
    body.push_str(r#""k0":"last"}"#);
    let started = std::time::Instant::now();
    let parsed = Value::parse(&body).unwrap();
    let elapsed = started.elapsed();
    let Value::Object(members) = &parsed else { panic!("not an object") };
    assert_eq!(members.len(), keys);
    assert_eq!(members[0], ("k0".to_string(), Value::String("last".into())), "first place, last value, as JSON.parse");
    assert!(elapsed < std::time::Duration::from_millis(1500), "{keys} keys took {elapsed:?}");
}

#[test]
fn duplicate_keys_keep_the_first_place_and_the_last_value() {
    for (text, expected) in [
        (r#"{"a":1,"b":2,"a":3}"#, r#"{"a":3,"b":2}"#),
        (r#"{"b":1,"a":2,"b":3,"a":4,"c":5,"b":6}"#, r#"{"b":6,"a":4,"c":5}"#),
        (r#"{"a":{"x":1,"x":2},"a":[1]}"#, r#"{"a":[1]}"#),
        (r#"{"":1,"":2}"#, r#"{"":2}"#),
    ] {
        assert_eq!(Value::parse(text).unwrap().to_json(), expected, "{text}");
        // The independent expectation: serde_json, whose maps keep the last value too.
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        let ours: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert_eq!(ours, theirs, "{text}");
    }
}

// ---- the builders: parameters read by the wire's rules, against serde's reading of them ----

mod builders {
    use super::never_panics::names_a_place;
    use super::*;
    use proptest::prelude::*;
    use singing_cloning::model::job_builder::{create_job_body, GenerateParams, JobParams, TrainParams};

    /// Values of a parameter: first one that serde reads and every rule accepts, then ones that
    /// serde reads and a rule refuses, then ones of a type serde refuses.
    fn candidates(name: &str) -> Vec<serde_json::Value> {
        let long = |n: usize| json!("x".repeat(n));
        match name {
            "url" => vec![json!("https://a.example/s.mp3"), json!("ftp://a.example/s.mp3"), json!("nope"), json!(5)],
            "source" => vec![
                json!({"contentId": "repo", "path": "/v.wav"}),
                json!({"contentId": "", "path": "/v.wav"}),
                json!({"contentId": "repo"}),
                json!({"contentId": "repo", "path": 3}),
                json!("repo/v.wav"),
            ],
            "sourceData" => vec![json!("la la"), long(513), json!(7)],
            "modelName" => vec![json!("alto_2"), json!("bad name"), long(64), json!(""), json!(42)],
            "contentId" => vec![json!("repo"), json!(""), json!(false)],
            "destination" => vec![json!("/covers"), json!(""), json!([])],
            "outputPrefix" => vec![json!("c_"), long(20), json!({})],
            "separateVocals" => vec![json!(true), json!(false), json!("yes")],
            "callback" => vec![json!("https://hooks.example/done"), json!("x"), json!(1)],
            "customId" => vec![json!("job-1"), long(64), json!(2)],
            "timeout" => vec![json!(60), json!(0), json!(-5), json!(5_000_000_000u64), json!(2.5), json!("60")],
            "totalEpoch" => vec![json!(12), json!(0), json!(51), json!(-1), json!(2.5), json!(1e12)],
            other => panic!("no candidates for {other}"),
        }
    }

    /// The parameters of `names`, each absent, `null` or one of its candidates (mostly the valid one).
    fn params(names: &'static [&'static str]) -> impl Strategy<Value = serde_json::Value> {
        let pick = prop_oneof![3 => Just(0usize), 2 => 0usize..8];
        prop::collection::vec(pick, names.len()).prop_map(move |picks| {
            let mut params = serde_json::Map::new();
            for (name, pick) in names.iter().zip(picks) {
                let values = candidates(name);
                match pick {
                    n if n < values.len() => params.insert(name.to_string(), values[n].clone()),
                    n if n == values.len() => params.insert(name.to_string(), serde_json::Value::Null),
                    _ => None,
                };
            }
            serde_json::Value::Object(params)
        })
    }

    /// Reads `params` as `P` and holds the reading against serde's (the derived `Deserialize`,
    /// which knows the parameters' names and types apart from the rules): what the rules accept,
    /// serde reads the same; what serde reads, no issue calls a wrong type; every issue names a
    /// parameter `P` has (or the input as a whole) that is in `params`; and the body built
    /// passes the wire's validation and decodes to the request of the parameters.
    fn holds<P>(params: serde_json::Value, names: &[&str]) -> Result<(), TestCaseError>
    where
        P: JobParams + serde::de::DeserializeOwned + PartialEq + Clone + std::fmt::Debug,
    {
        let by_serde = serde_json::from_value::<P>(params.clone()).ok();
        match P::read(&value(params.clone())) {
            Ok(read) => {
                prop_assert_eq!(by_serde.as_ref(), Some(&read), "{}", params);
                let body = create_job_body::<P>(&value(params.clone())).unwrap();
                let request = check_request(&body).map(|envelope| envelope.request);
                prop_assert_eq!(request, Ok(Request::CreateJob(read.request())), "{}", params);
            }
            Err(issues) => {
                prop_assert!(!issues.is_empty());
                prop_assert!(create_job_body::<P>(&value(params.clone())).is_err());
                for issue in &issues {
                    if by_serde.is_some() {
                        prop_assert_ne!(issue.code, IssueCode::Type, "{:?} in {}", issue, params);
                    }
                    let name = issue.path.split('.').next().unwrap_or_default();
                    if issue.path == "input" {
                        prop_assert_eq!(issue.code, IssueCode::OneOf);
                    } else {
                        prop_assert!(names.contains(&name), "{:?} in {}", issue, params);
                        prop_assert!(names_a_place(&params, &issue.path, issue.code), "{:?} in {}", issue, params);
                    }
                }
            }
        }
        Ok(())
    }

    const GENERATE: &[&str] = &[
        "url",
        "source",
        "sourceData",
        "modelName",
        "contentId",
        "destination",
        "outputPrefix",
        "separateVocals",
        "callback",
        "customId",
        "timeout",
    ];
    const TRAIN: &[&str] =
        &["url", "source", "sourceData", "modelName", "totalEpoch", "callback", "customId", "timeout"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn generate_reads_as_serde_does_and_builds_a_valid_body(
            mut params in params(GENERATE),
            others in params(&["totalEpoch"]),
        ) {
            // A parameter of the other kind is none of these: ignored, by serde and by the rules.
            params.as_object_mut().unwrap().extend(others.as_object().unwrap().clone());
            holds::<GenerateParams>(params, GENERATE)?;
        }

        #[test]
        fn train_reads_as_serde_does_and_builds_a_valid_body(
            mut params in params(TRAIN),
            others in params(&["contentId", "destination", "outputPrefix", "separateVocals"]),
        ) {
            params.as_object_mut().unwrap().extend(others.as_object().unwrap().clone());
            holds::<TrainParams>(params, TRAIN)?;
        }
    }
}
