//! The JavaScript face in real Chromium: `wasm-pack test --headless --chrome -- --features js`.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

use js_sys::{Array, Function, Reflect, JSON};
use singing_cloning::js::{parse_response_js, validate};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const GENERATE: &str = include_str!("fixtures/create_job_generate_request.json");
const GET_JOB: &str = include_str!("fixtures/get_job_generate_response.json");
const LIST_JOBS: &str = include_str!("fixtures/list_jobs_train_response.json");

fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn issues(body: JsValue) -> Vec<(String, String)> {
    let list: Array = validate(body).dyn_into().unwrap();
    list.iter().map(|i| (get(&i, "path").as_string().unwrap(), get(&i, "code").as_string().unwrap())).collect()
}

fn concrete(text: &str) -> String {
    text.replace("{url}", "https://a.example/v.mp3").replace("{callback}", "https://b.example/cb")
}

#[wasm_bindgen_test]
fn reference_example_is_valid() {
    assert_eq!(issues(json(&concrete(GENERATE))), vec![]);
}

#[wasm_bindgen_test]
fn every_issue_has_its_path() {
    let body = json(&concrete(GENERATE));
    let cloning = get(
        &get(&get(&get(&get(&body, "createJobRequest"), "outputs"), "0"), "smartContentDescriptor"),
        "singingCloning",
    );
    Reflect::set(&cloning, &"modelName".into(), &"bad name".into()).unwrap();
    Reflect::set(&cloning, &"totalEpoch".into(), &5.into()).unwrap();
    Reflect::set(&get(&body, "createJobRequest"), &"customId".into(), &"x".repeat(64).into()).unwrap();
    assert_eq!(
        issues(body),
        vec![
            ("createJobRequest.customId".to_string(), "too_long".to_string()),
            ("createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName".into(), "pattern".into()),
            (
                "createJobRequest.outputs[0].smartContentDescriptor.singingCloning.totalEpoch".into(),
                "not_applicable".into()
            ),
        ]
    );
}

#[wasm_bindgen_test]
fn values_that_are_not_json_are_issues_not_crashes() {
    let function = Function::new_no_args("return 1");
    let cyclic = json(r#"{"action":"GetJob","getJobRequest":{"id":"x"}}"#);
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let nested_function = json(r#"{"action":"GetJob","getJobRequest":{}}"#);
    Reflect::set(&get(&nested_function, "getJobRequest"), &"id".into(), &function).unwrap();
    for value in [
        JsValue::UNDEFINED,
        JsValue::NULL,
        function.into(),
        js_sys::Symbol::for_("s").into(),
        cyclic,
        JsValue::from_f64(f64::NAN),
    ] {
        assert!(!issues(value).is_empty());
    }
    assert_eq!(issues(nested_function), vec![("getJobRequest.id".to_string(), "type".to_string())]);
}

#[wasm_bindgen_test]
fn parse_response_adds_status_and_keeps_fields() {
    let body = parse_response_js("GetJob".into(), GET_JOB.into(), None).unwrap();
    let job = get(&get(&body, "getJobResponse"), "job");
    assert_eq!(get(&job, "status").as_string().as_deref(), Some("COMPLETED"));
    assert_eq!(get(&job, "state").as_f64(), Some(3.0));
    assert_eq!(get(&get(&job, "timing"), "completedAt").as_string().as_deref(), Some("1610513618000"));
    let list = parse_response_js("ListJobs".into(), LIST_JOBS.into(), Some(200.into())).unwrap();
    let first = get(&get(&get(&list, "listJobsResponse"), "jobs"), "0");
    assert_eq!(get(&first, "status").as_string().as_deref(), Some("COMPLETED"));
}

#[wasm_bindgen_test]
fn failures_are_errors_with_a_code() {
    let error = parse_response_js("GetJob".into(), "<html>oops</html>".into(), Some(503.into())).unwrap_err();
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("http"));
    assert_eq!(get(&error, "status").as_f64(), Some(503.0));
    assert_eq!(get(&error, "retryable").as_bool(), Some(true));

    let error = parse_response_js("GetJob".into(), r#"{"getJobResponse":{"job""#.into(), None).unwrap_err();
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("parse"));

    let error = parse_response_js(JsValue::from_f64(1.0), "{}".into(), None).unwrap_err();
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("validation"));
    let first = get(&get(&error, "issues"), "0");
    assert_eq!(get(&first, "path").as_string().as_deref(), Some("action"));
}
