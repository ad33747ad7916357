//! Every action and every error over real HTTP, the answers read by the SDK's own parser,
//! ListModels paging, the content store, CORS, and every fault.

mod common;

use std::time::{Duration, Instant};

use common::{envelope, start, start_with, text_job, text_training, Harness};
use serde_json::json;
use singing_cloning::{parse_response, Action, Error, Response};

const WAIT: Duration = Duration::from_secs(20);

/// The SDK's parser on an answer.
fn parsed(action: Action, status: u16, text: &str) -> Result<singing_cloning::ParsedResponse, Error> {
    parse_response(action, status, text)
}

fn assert_api_error(answer: &common::Answer, action: Action, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    assert!(body["requestId"].as_str().is_some_and(|id| id.len() == 36), "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    match parsed(action, answer.status, &answer.text) {
        Err(Error::Api { status: s, error_code, request_id, .. }) => {
            assert_eq!((s, error_code.as_deref()), (status, Some(code)));
            assert!(request_id.is_some());
        }
        other => panic!("the SDK reads {other:?}"),
    }
}

#[tokio::test]
async fn every_action_answers_as_the_reference_and_the_sdk_reads_it() {
    let h = start(30).await;
    let mut request = text_job("la la", "default");
    request["customId"] = json!("lesson_1");
    let answer = h.post("/job", &envelope("CreateJob", request)).await;
    let created = parsed(Action::CreateJob, answer.status, &answer.text).expect("CreateJob");
    let job = created.job().expect("a job");
    assert!(created.request_id.is_some());
    assert_eq!(job.state.code(), 1);
    assert_eq!(job.custom_id.as_deref(), Some("lesson_1"));
    assert!(uuid::Uuid::parse_str(&job.id).is_ok());
    assert_eq!((job.timing.started_at.as_str(), job.timing.completed_at.as_str()), ("0", "0"));

    let answer = h.post("/job", &envelope("GetJob", json!({"id": job.id}))).await;
    let got = parsed(Action::GetJob, answer.status, &answer.text).expect("GetJob");
    assert_eq!(got.job().map(|j| j.id), Some(job.id.clone()));

    let answer = h.post("/job", &envelope("ListJobs", json!({"customId": "lesson_1"}))).await;
    match parsed(Action::ListJobs, answer.status, &answer.text).expect("ListJobs").response().expect("typed") {
        Response::ListJobs(list) => assert_eq!((list.total, list.jobs[0].id.as_str()), (1, job.id.as_str())),
        other => panic!("{other:?}"),
    }

    let answer = h.post("/music_model", &envelope("ListModels", json!({"offset": 0, "limit": 10, "type": 2}))).await;
    match parsed(Action::ListModels, answer.status, &answer.text).expect("ListModels").response().expect("typed") {
        Response::ListModels(list) => {
            assert_eq!(list.total, 1);
            assert_eq!(list.models[0].name, "default");
            assert!(singing_cloning::Timing::millis(&list.models[0].created_at).is_some());
        }
        other => panic!("{other:?}"),
    }

    let done = h.wait_final(&job.id, WAIT).await;
    assert_eq!(done["state"], 3, "{done}");
    let song = done["outputs"][0]["smartContentResult"]["singingCloning"]["songName"].as_str().unwrap();
    assert_eq!(song, format!("{}.wav", job.id));
    assert!(!h.file("out", &format!("/{song}")).await.is_empty());
    h.stop().await;
}

#[tokio::test]
async fn every_error_has_its_status_code_and_request_id() {
    let h = start(30).await;
    let create = envelope("CreateJob", text_job("la", "default"));

    // Credentials: missing, wrong id, wrong key.
    let mut missing = create.clone();
    missing.as_object_mut().unwrap().remove("secretKey");
    assert_api_error(&h.post("/job", &missing).await, Action::CreateJob, 401, "AuthFailure");
    let mut wrong = create.clone();
    wrong["secretId"] = json!("someone-else");
    assert_api_error(&h.post("/job", &wrong).await, Action::CreateJob, 401, "AuthFailure");
    let mut wrong = create.clone();
    wrong["secretKey"] = json!("local-secret-kex");
    assert_api_error(&h.post("/job", &wrong).await, Action::CreateJob, 401, "AuthFailure");

    // Not JSON.
    let answer = h.post_raw("/job", "{\"action\": ".into(), None).await.unwrap();
    assert_api_error(&answer, Action::CreateJob, 400, "InvalidJson");
    let answer = h.post_raw("/job", "not json".into(), None).await.unwrap();
    assert_api_error(&answer, Action::CreateJob, 400, "InvalidJson");

    // The validator's issues, with their paths.
    let mut invalid = create.clone();
    invalid["createJobRequest"]["outputs"][0]["smartContentDescriptor"]["singingCloning"]["modelName"] =
        json!("bad name!");
    invalid["createJobRequest"]["outputs"][0]["inputSelectors"] = json!([3]);
    let answer = h.post("/job", &invalid).await;
    assert_api_error(&answer, Action::CreateJob, 400, "InvalidParameter");
    let issues = answer.json()["error"]["issues"].as_array().unwrap().clone();
    let paths: Vec<&str> = issues.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert!(
        paths.contains(&"createJobRequest.outputs[0].smartContentDescriptor.singingCloning.modelName"),
        "{paths:?}"
    );
    assert!(paths.contains(&"createJobRequest.outputs[0].inputSelectors[0]"), "{paths:?}");
    assert!(issues.iter().all(|i| i["code"].is_string() && i["message"].is_string()));
    let answer = h
        .post("/job", &json!({"action": "Dance", "secretId": "local-secret-id", "secretKey": "local-secret-key"}))
        .await;
    assert_api_error(&answer, Action::CreateJob, 400, "InvalidParameter");
    assert_eq!(answer.json()["error"]["issues"][0]["code"], "unknown_action");

    // An action on the other resource's path.
    let list_models = envelope("ListModels", json!({"offset": 0, "limit": 10, "type": 2}));
    assert_api_error(&h.post("/job", &list_models).await, Action::ListModels, 400, "InvalidAction");
    assert_api_error(&h.post("/music_model", &create).await, Action::CreateJob, 400, "InvalidAction");

    // Unknown job, unknown model, taken model name.
    let answer = h.post("/job", &envelope("GetJob", json!({"id": "13f342e4-6866-450e-b44e-3151431c578b"}))).await;
    assert_api_error(&answer, Action::GetJob, 404, "JobNotFound");
    assert_api_error(
        &h.post("/job", &envelope("CreateJob", text_job("la", "nobody"))).await,
        Action::CreateJob,
        404,
        "ModelNotFound",
    );
    assert_api_error(
        &h.post("/job", &envelope("CreateJob", text_training("la", "default"))).await,
        Action::CreateJob,
        409,
        "ModelExists",
    );

    // ListJobs of an unknown customId is an empty list, not an error.
    let (status, body) = h.call("ListJobs", json!({"customId": "nobody"})).await;
    assert_eq!((status, body["listJobsResponse"]["total"].as_u64()), (200, Some(0)));

    // No route.
    let response = h.get("/release/nothing").await;
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NotFound");
    assert!(body["requestId"].is_string());

    // Not a POST.
    let response = h.get("/release/job").await;
    assert_eq!(response.status().as_u16(), 405);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MethodNotAllowed");

    // Nothing was created by any of this.
    assert_eq!(h.admin_jobs().await["total"], 0);
    h.stop().await;
}

#[tokio::test]
async fn a_second_training_of_a_name_fails_and_list_models_pages() {
    let h = start(20).await;
    let first = h.create(text_training("do re mi", "alto_1")).await;
    // Taken while it trains, and after.
    let (status, body) = h.call("CreateJob", text_training("fa", "alto_1")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("ModelExists")));
    assert_eq!(h.wait_final(&first, WAIT).await["state"], 3);
    let (status, _) = h.call("CreateJob", text_training("fa", "alto_1")).await;
    assert_eq!(status, 409);

    // Models are listed by creation (the end of their training), so train one after the other.
    for name in ["alto_2", "alto_3", "alto_4"] {
        let id = h.create(text_training("so la ti", name)).await;
        let job = h.wait_final(&id, WAIT).await;
        assert_eq!(job["state"], 3, "{job}");
    }
    let page = |offset: u32, limit: u32| {
        let h = &h;
        async move {
            let (status, body) = h.call("ListModels", json!({"offset": offset, "limit": limit, "type": 2})).await;
            assert_eq!(status, 200, "{body}");
            let list = &body["listModelsResponse"];
            let names: Vec<String> =
                list["models"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
            (list["total"].as_u64().unwrap(), names)
        }
    };
    assert_eq!(
        page(0, 100).await,
        (5, vec!["default".into(), "alto_1".into(), "alto_2".into(), "alto_3".into(), "alto_4".into()])
    );
    assert_eq!(page(0, 2).await, (5, vec!["default".into(), "alto_1".into()]));
    assert_eq!(page(2, 2).await, (5, vec!["alto_2".into(), "alto_3".into()]));
    assert_eq!(page(4, 2).await, (5, vec!["alto_4".into()]));
    assert_eq!(page(9, 2).await, (5, vec![]));
    let (status, body) = h.call("ListModels", json!({"offset": 0, "limit": 101, "type": 2})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidParameter")));
    h.stop().await;
}

#[tokio::test]
async fn content_store_serves_samples_with_cors_and_refuses_traversal() {
    let h = start(30).await;
    for path in ["/cos/samples/voice.wav", "/cos/samples/song.wav"] {
        let response = h.get(path).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert_eq!(response.headers()["content-type"], "audio/wav");
        let length: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.len(), length);
        let wav = common::signal::read_wav(&bytes);
        assert!(wav.seconds() > 2.0 && wav.seconds() <= 8.0);
    }
    assert_eq!(h.get("/cos/samples/missing.wav").await.status().as_u16(), 404);
    for path in [
        "/cos/samples/..%2F..%2Fmodels.json",
        "/cos/..%2F/models.json",
        "/cos/samples/a/%2E%2E/%2E%2E/%2E%2E/models.json",
    ] {
        let status = h.get(path).await.status().as_u16();
        assert!(status == 400 || status == 404, "{path}: {status}");
    }
    h.put_file("mine", "/dir/clip.wav", common::signal::wav_bytes(8000, &[vec![0.0; 800]])).await;
    assert_eq!(h.file("mine", "/dir/clip.wav").await.len(), 44 + 1600);

    let preflight = h.client.request(reqwest::Method::OPTIONS, format!("{}/job", h.api)).send().await.unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().contains("content-type"));
    let health: serde_json::Value = h.get("/admin/health").await.json().await.unwrap();
    assert_eq!(health, json!({"ok": true}));
    h.stop().await;
}

/// A CreateJob body as text.
fn create_body() -> String {
    envelope("CreateJob", text_job("la", "default")).to_string()
}

async fn job_count(h: &Harness) -> u64 {
    h.admin_jobs().await["total"].as_u64().unwrap()
}

#[tokio::test]
async fn every_fault_by_request_header() {
    let h = start(30).await;
    let body = create_body;

    // delay
    let started = Instant::now();
    let answer = h.post_raw("/job", body(), Some("delay=300")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["x-emulator-fault"], "delay=300");
    assert_eq!(job_count(&h).await, 1);

    // 429 with Retry-After, default and chosen.
    let answer = h.post_raw("/job", body(), Some("429")).await.unwrap();
    assert_eq!((answer.status, answer.headers["retry-after"].to_str().unwrap()), (429, "1"));
    assert_eq!(answer.headers["x-emulator-fault"], "429");
    assert!(parsed(Action::CreateJob, answer.status, &answer.text).unwrap_err().is_retryable());
    let answer = h.post_raw("/job", body(), Some("429=7")).await.unwrap();
    assert_eq!((answer.status, answer.headers["retry-after"].to_str().unwrap()), (429, "7"));

    // 5xx, JSON error bodies.
    for status in [500u16, 502, 503, 504] {
        let answer = h.post_raw("/job", body(), Some(&status.to_string())).await.unwrap();
        assert_eq!(answer.status, status);
        assert_eq!(answer.headers["x-emulator-fault"], status.to_string().as_str());
        let error = parsed(Action::CreateJob, answer.status, &answer.text).unwrap_err();
        assert!(matches!(error, Error::Api { .. }) && error.is_retryable(), "{error:?}");
    }
    // None of these ran the request.
    assert_eq!(job_count(&h).await, 1);

    // HTML error page.
    let answer = h.post_raw("/job", body(), Some("html")).await.unwrap();
    assert_eq!(answer.status, 502);
    assert!(answer.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(matches!(parsed(Action::CreateJob, 502, &answer.text), Err(Error::Http { status: 502, .. })));

    // A connection closed before any answer, without running the request.
    let error = h.post_raw("/job", body(), Some("drop")).await.err().expect("a network error");
    assert!(!error.is_status() && error.status().is_none(), "{error:?}");
    assert_eq!(job_count(&h).await, 1);

    // The ambiguous CreateJob: the job exists, the answer never came.
    assert!(h.post_raw("/job", body(), Some("drop-after-create")).await.is_err());
    assert_eq!(job_count(&h).await, 2);

    // The same, with half of the answer on the wire before the connection closes.
    assert!(h.post_raw("/job", body(), Some("cut-after-create")).await.is_err());
    assert_eq!(job_count(&h).await, 3);

    // Malformed JSON, status 200.
    let answer = h.post_raw("/job", body(), Some("malformed")).await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&answer.text).is_err());
    assert!(matches!(parsed(Action::CreateJob, 200, &answer.text), Err(Error::Parse { .. })));
    assert_eq!(answer.headers["x-emulator-fault"], "malformed");

    // Truncated: the first half of the real body, with an honest Content-Length.
    let answer = h
        .post_raw(
            "/job",
            envelope("ListModels", json!({"offset": 0, "limit": 10, "type": 2})).to_string(),
            Some("truncated"),
        )
        .await;
    let answer = answer.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(answer.status, 400, "an error answer is truncated as well");
    let answer = h
        .post_raw(
            "/music_model",
            envelope("ListModels", json!({"offset": 0, "limit": 10, "type": 2})).to_string(),
            Some("truncated"),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.text.starts_with("{\"requestId\":"));
    assert_eq!(answer.headers["content-length"].to_str().unwrap(), answer.text.len().to_string());
    match parsed(Action::ListModels, 200, &answer.text) {
        Err(Error::Parse { reason, .. }) => assert_eq!(reason, "the body ends before its JSON does"),
        other => panic!("{other:?}"),
    }

    // Delay combined with a status.
    let started = Instant::now();
    let answer = h.post_raw("/job", body(), Some("delay=200,503")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!((answer.status, answer.headers["x-emulator-fault"].to_str().unwrap()), (503, "delay=200,503"));

    // A spec the emulator does not know.
    let answer = h.post_raw("/job", body(), Some("teapot")).await.unwrap();
    assert_eq!((answer.status, answer.json()["error"]["code"].as_str()), (400, Some("InvalidFault")));
    h.stop().await;
}

#[tokio::test]
async fn a_global_fault_hits_every_nth_request() {
    let h = start_with(singing_cloning_emulator::Config { fault: Some("503@3".into()), ..common::config(30) }).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(h.post_raw("/job", create_body(), None).await.unwrap().status);
    }
    assert_eq!(statuses, [200, 200, 503, 200, 200, 503]);
    // The header wins over the global fault.
    let answer = h.post_raw("/job", create_body(), Some("delay=1")).await.unwrap();
    assert_eq!(answer.status, 200);
    // Other endpoints are never faulted.
    assert_eq!(job_count(&h).await, 5);
    assert!(singing_cloning_emulator::Emulator::start(singing_cloning_emulator::Config {
        fault: Some("nope".into()),
        ..common::config(30)
    })
    .await
    .is_err());
    h.stop().await;
}
