//! The client in real Chromium against the local emulator: every method, paging, waiting,
//! aborts, timeouts and every fault. `scripts/test.sh` starts the emulator and passes its
//! address at build time in `SINGING_CLONING_TEST_ENDPOINT`.
#![cfg(all(target_arch = "wasm32", feature = "client"))]

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use singing_cloning::client::SingingCloningClient;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn endpoint() -> &'static str {
    // Read at build time (the tests run in a browser, which has no environment).
    match option_env!("SINGING_CLONING_TEST_ENDPOINT") {
        Some(endpoint) => endpoint,
        None => panic!("build with SINGING_CLONING_TEST_ENDPOINT set to the emulator's API base"),
    }
}

fn origin() -> String {
    endpoint().trim_end_matches("/release").to_string()
}

fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_else(|| panic!("{key} of {:?}", JSON::stringify(value)))
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(target, &key.into(), value).unwrap();
}

/// A fetch that sends the given faults in the `x-emulator-fault` header, one per attempt
/// (an empty string: none), and logs each attempt's URL, time and fault in `log`.
fn faulty_fetch(faults: &[&str], log: &Array) -> Function {
    let make = Function::new_with_args(
        "faults, log",
        "return (request) => {
            const fault = faults.shift() || '';
            log.push({ url: request.url, at: Date.now(), fault });
            if (!fault) return fetch(request);
            const headers = new Headers(request.headers);
            headers.set('x-emulator-fault', fault);
            return fetch(new Request(request, { headers }));
        };",
    );
    let faults: Array = faults.iter().map(|f| JsValue::from_str(f)).collect();
    make.call2(&JsValue::UNDEFINED, &faults, log).unwrap().unchecked_into()
}

fn client_with(extra: &[(&str, JsValue)]) -> SingingCloningClient {
    let options = Object::new();
    set(&options, "endpoint", &endpoint().into());
    set(&options, "secretId", &"local-secret-id".into());
    set(&options, "secretKey", &"local-secret-key".into());
    // The emulator wants credentials, and this test page is a browser page.
    set(&options, "dangerouslyAllowCredentialsInBrowser", &true.into());
    set(&options, "pollIntervalMs", &50.into());
    set(&options, "maxPollIntervalMs", &200.into());
    for (key, value) in extra {
        set(&options, key, value);
    }
    SingingCloningClient::new(Some(options.into())).unwrap_or_else(|e| panic!("{:?}", e))
}

fn client() -> SingingCloningClient {
    client_with(&[])
}

async fn ok(promise: Promise) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => value,
        Err(error) => panic!("rejected: {} {}", text(&error, "code"), text(&error, "message")),
    }
}

async fn err(promise: Promise) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => panic!("resolved: {:?}", JSON::stringify(&value)),
        Err(error) => {
            assert!(error.is_instance_of::<js_sys::Error>(), "not an Error: {:?}", error);
            error
        }
    }
}

/// The job once it has ended, read every 100 ms. (`waitForJob` is the package entry's, in
/// JavaScript: tests/node/events.test.mjs, and in the three engines the demo's tests/e2e.)
async fn ended(c: &SingingCloningClient, id: JsValue) -> JsValue {
    loop {
        let job = ok(c.get_job(id.clone(), None)).await;
        if ["COMPLETED", "ERROR", "CANCELED"].contains(&text(&job, "status").as_str()) {
            return job;
        }
        let wait = Promise::new(&mut |resolve, _| {
            let set_timeout = Function::new_with_args("f", "setTimeout(f, 100)");
            set_timeout.call1(&JsValue::UNDEFINED, &resolve).unwrap();
        });
        JsFuture::from(wait).await.unwrap();
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", (js_sys::Math::random() * 1e12) as u64)
}

fn generate_params(model: &str) -> JsValue {
    json(&format!(
        r#"{{"source":{{"contentId":"samples","path":"/song.wav"}},"modelName":"{model}",
        "contentId":"results","destination":"/covers","outputPrefix":"t_"}}"#
    ))
}

async fn jobs_with_custom_id(custom_id: &str) -> usize {
    let jobs = ok(client().list_jobs(custom_id.into(), None)).await;
    get(&jobs, "jobs").unchecked_into::<Array>().length() as usize
}

#[wasm_bindgen_test]
async fn create_get_and_list_a_job() {
    let c = client();
    let request = json(
        r#"{"inputs":[{"source":{"contentId":"samples","path":"/song.wav"}}],
            "outputs":[{"contentId":"results","inputSelectors":[0],
            "smartContentDescriptor":{"singingCloning":{"type":1,"modelName":"default"}}}]}"#,
    );
    let job = ok(c.create_job(request, None)).await;
    let id = text(&job, "id");
    assert_eq!(text(&job, "status"), "SUBMITTED");
    assert_eq!(get(&job, "state").as_f64(), Some(1.0));
    // The client gave the job a customId of its own, so that it is created exactly once.
    let custom_id = text(&job, "customId");
    assert!(custom_id.starts_with("sc-") && custom_id.len() < 64, "{custom_id}");

    let again = ok(c.get_job(id.clone().into(), None)).await;
    assert_eq!(text(&again, "id"), id);
    let listed = ok(c.list_jobs(custom_id.into(), None)).await;
    assert_eq!(get(&listed, "total").as_f64(), Some(1.0));
    assert_eq!(text(&get(&get(&listed, "jobs"), "0"), "id"), id);
}

#[wasm_bindgen_test]
async fn train_wait_and_generate_with_the_trained_voice() {
    let c = client();
    let model = unique("voice");
    let params = json(&format!(
        r#"{{"source":{{"contentId":"samples","path":"/voice.wav"}},"modelName":"{model}","totalEpoch":3}}"#
    ));
    let job = ok(c.train(params)).await;

    let done = ended(&c, get(&job, "id")).await;
    assert_eq!(text(&done, "status"), "COMPLETED");
    let result = get(&get(&get(&get(&done, "outputs"), "0"), "smartContentResult"), "singingCloning");
    assert_eq!(text(&result, "modelName"), model);

    let models = ok(c.list_models(None)).await;
    let names: Vec<String> =
        get(&models, "models").unchecked_into::<Array>().iter().map(|m| text(&m, "name")).collect();
    assert!(names.contains(&model), "{names:?}");

    let job = ok(c.generate(generate_params(&model))).await;
    let done = ended(&c, get(&job, "id")).await;
    assert_eq!(text(&done, "status"), "COMPLETED");
    let output = get(&get(&done, "outputs"), "0");
    let song = text(&get(&get(&output, "smartContentResult"), "singingCloning"), "songName");
    assert!(song.starts_with("t_"), "{song}");
    let url = c.result_url(output, format!("{}/cos/results", origin()).into()).unwrap();
    assert_eq!(url, format!("{}/cos/results/covers/{song}", origin()));
    let response: web_sys::Response = JsFuture::from(fetch(&url)).await.unwrap().unchecked_into();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-type").unwrap().as_deref(), Some("audio/wav"));
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(url: &str) -> Promise;
}

#[wasm_bindgen_test]
async fn bad_parameters_are_refused_before_any_request() {
    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&[], &log).into())]);
    let error = err(c.generate(json(r#"{"url":"ftp://x/y.mp3","modelName":"my voice","contentId":"results"}"#))).await;
    assert_eq!(text(&error, "code"), "validation");
    let paths: Vec<String> = get(&error, "issues").unchecked_into::<Array>().iter().map(|i| text(&i, "path")).collect();
    assert_eq!(paths, vec!["url", "modelName"]);
    let error = err(c.train(json(r#"{"url":"https://a.example/v.wav","modelName":"ok","totalEpoch":51}"#))).await;
    assert_eq!(text(&get(&get(&error, "issues"), "0"), "path"), "totalEpoch");
    let error = err(c.get_job(JsValue::from_f64(5.0), None)).await;
    assert_eq!(text(&get(&get(&error, "issues"), "0"), "path"), "id");
    assert_eq!(log.length(), 0, "nothing was sent");
}

#[wasm_bindgen_test]
fn credentials_in_a_page_are_refused_without_the_opt_in() {
    let options = json(r#"{"secretId":"id","secretKey":"key"}"#);
    let error = SingingCloningClient::new(Some(options)).err().expect("refused");
    assert_eq!(text(&error, "code"), "validation");
    assert!(!text(&error, "message").contains("key\""));
    assert!(SingingCloningClient::new(Some(json(r#"{"endpoint":"/api/singing-cloning"}"#))).is_ok());
    assert!(SingingCloningClient::new(Some(json(r#"{"timeoutMs":"soon"}"#))).is_err());
}

async fn abort_reason_case(reason: JsValue, expected: &str) {
    let c = client_with(&[("fetch", faulty_fetch(&["delay=3000"], &Array::new()).into())]);
    let controller = web_sys::AbortController::new().unwrap();
    let options = Object::new();
    set(&options, "signal", &controller.signal());
    let pending = c.get_job("whatever".into(), Some(options.into()));
    let abort = Function::new_with_args("c, r", "setTimeout(() => c.abort(r), 100);");
    abort.call2(&JsValue::UNDEFINED, &controller, &reason).unwrap();
    let started = js_sys::Date::now();
    let error = err(pending).await;
    assert!(js_sys::Date::now() - started < 2000.0, "the abort ended the request at once");
    assert_eq!(text(&error, "code"), "aborted");
    assert!(text(&error, "message").contains(expected), "{}", text(&error, "message"));
}

#[wasm_bindgen_test]
async fn aborts_with_an_error_a_string_or_undefined() {
    abort_reason_case(js_sys::Error::new("user left").into(), "user left").await;
    abort_reason_case("a plain string".into(), "a plain string").await;
    abort_reason_case(json(r#"{"why":42}"#), "42").await;
    // abort() without a reason gives the platform's AbortError.
    abort_reason_case(JsValue::UNDEFINED, "abort").await;
    // A signal aborted before the call rejects at once.
    let controller = web_sys::AbortController::new().unwrap();
    controller.abort_with_reason(&"early".into());
    let options = Object::new();
    set(&options, "signal", &controller.signal());
    let error = err(client().list_models(Some(options.into()))).await;
    assert_eq!(text(&error, "code"), "aborted");
}

#[wasm_bindgen_test]
async fn attempts_time_out_and_are_retried() {
    let log = Array::new();
    let c = client_with(&[
        ("fetch", faulty_fetch(&["delay=2000", "delay=2000"], &log).into()),
        ("timeoutMs", 300.into()),
        ("maxRetries", 1.into()),
    ]);
    let error = err(c.list_models(None)).await;
    assert_eq!(text(&error, "code"), "timeout");
    assert_eq!(get(&error, "retryable").as_bool(), Some(true));
    assert_eq!(log.length(), 2);

    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&["delay=2000"], &log).into()), ("timeoutMs", 300.into())]);
    ok(c.list_models(None)).await;
    assert_eq!(log.length(), 2, "a timed-out ListModels is sent again");
}

/// One idempotent call through a fault on its first attempt.
async fn get_through(fault: &str) -> (Result<JsValue, JsValue>, u32) {
    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&[fault], &log).into())]);
    let result = JsFuture::from(c.list_models(None)).await;
    (result, log.length())
}

#[wasm_bindgen_test]
async fn retryable_faults_are_retried_until_success() {
    for fault in ["429", "500", "502", "503", "504", "drop", "html", "delay=50"] {
        let (result, attempts) = get_through(fault).await;
        assert!(result.is_ok(), "{fault}: {:?}", result.err().map(|e| text(&e, "message")));
        let expected = if fault == "delay=50" { 1 } else { 2 };
        assert_eq!(attempts, expected, "{fault}");
    }
}

#[wasm_bindgen_test]
async fn unreadable_answers_are_parse_errors_and_not_retried() {
    for fault in ["malformed", "truncated"] {
        let (result, attempts) = get_through(fault).await;
        let error = result.expect_err(fault);
        assert_eq!(text(&error, "code"), "parse", "{fault}");
        assert_eq!(attempts, 1, "{fault}");
    }
}

#[wasm_bindgen_test]
async fn lasting_faults_end_in_typed_errors() {
    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&["503", "503"], &log).into()), ("maxRetries", 1.into())]);
    let error = err(c.list_models(None)).await;
    assert_eq!((text(&error, "code"), get(&error, "status").as_f64()), ("api".to_string(), Some(503.0)));
    assert_eq!(get(&error, "retryable").as_bool(), Some(true));
    assert!(get(&error, "requestId").is_string());

    let c = client_with(&[("fetch", faulty_fetch(&["html", "html"], &Array::new()).into()), ("maxRetries", 1.into())]);
    let error = err(c.list_models(None)).await;
    assert_eq!((text(&error, "code"), get(&error, "status").as_f64()), ("http".to_string(), Some(502.0)));

    let c = client_with(&[("fetch", faulty_fetch(&["drop", "drop"], &Array::new()).into()), ("maxRetries", 1.into())]);
    let error = err(c.list_models(None)).await;
    assert_eq!(text(&error, "code"), "network");

    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&[], &log).into())]);
    let error = err(c.get_job("no-such-job".into(), None)).await;
    assert_eq!((text(&error, "code"), text(&error, "apiCode")), ("api".to_string(), "JobNotFound".to_string()));
    assert_eq!(log.length(), 1, "a 404 is not retried");
}

/// A CreateJob through `faults`, then the number of jobs with its customId and the attempts.
async fn create_through(faults: &[&str]) -> (usize, Vec<String>) {
    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(faults, &log).into())]);
    let custom_id = unique("exactly_once");
    let params = generate_params("default");
    set(&params, "customId", &custom_id.clone().into());
    let job = ok(c.generate(params)).await;
    assert_eq!(text(&job, "customId"), custom_id);
    let attempts = log.iter().map(|entry| {
        let url = text(&entry, "url");
        format!("{}:{}", url.rsplit('/').next().unwrap(), text(&entry, "fault"))
    });
    (jobs_with_custom_id(&custom_id).await, attempts.collect())
}

#[wasm_bindgen_test]
async fn create_job_happens_exactly_once_through_ambiguous_failures() {
    // The job was created but the answer lost: the look-up finds it, nothing is re-sent.
    // (`cut-after-create`, not `drop-after-create`: Chromium itself resends a request whose
    // reused connection closes before any byte of an answer, which no page code can see.)
    let (jobs, attempts) = create_through(&["cut-after-create"]).await;
    assert_eq!(jobs, 1, "{attempts:?}");
    assert_eq!(attempts, vec!["job:cut-after-create", "job:"], "CreateJob, then ListJobs");
    // A success status whose body cannot be read (WebKit hands over an answer cut short as if
    // it were whole): the job exists, the look-up finds it, nothing is sent again.
    for fault in ["malformed", "truncated"] {
        let (jobs, attempts) = create_through(&[fault]).await;
        assert_eq!(jobs, 1, "{fault}");
        assert_eq!(attempts, vec![format!("job:{fault}"), "job:".to_string()], "{fault}: CreateJob, then ListJobs");
    }
    // No answer and no job: the look-up finds none, and the body is sent again.
    let (jobs, attempts) = create_through(&["drop"]).await;
    assert_eq!(jobs, 1);
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    for fault in ["500", "503", "504"] {
        let (jobs, _) = create_through(&[fault]).await;
        assert_eq!(jobs, 1, "{fault}");
    }
    // A 429 says nothing was done: sent again without a look-up.
    let (jobs, attempts) = create_through(&["429"]).await;
    assert_eq!((jobs, attempts.len()), (1, 2));
}

#[wasm_bindgen_test]
async fn retry_after_is_obeyed() {
    let log = Array::new();
    let c = client_with(&[("fetch", faulty_fetch(&["429=1"], &log).into())]);
    ok(c.list_models(None)).await;
    let at = |i: u32| get(&log.get(i), "at").as_f64().unwrap();
    assert_eq!(log.length(), 2);
    assert!(at(1) - at(0) >= 1000.0, "waited {} ms", at(1) - at(0));
}
