//! The job state machine with its timing, timeouts, cancellation, ListJobs by customId,
//! callbacks with retries, 100 concurrent CreateJob requests, and a restart.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use common::{millis, start, start_with, text_job, text_training};
use serde_json::json;
use singing_cloning::{parse_job, JobState};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_job_goes_submitted_processing_completed_with_timing() {
    let h = start(300).await;
    let id = h.create(text_job("la la la", "default")).await;
    let mut seen = Vec::new();
    let started = Instant::now();
    let job = loop {
        let job = h.get_job(&id).await;
        let state = job["state"].as_i64().unwrap();
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        if state >= 3 {
            break job;
        }
        assert!(started.elapsed() < WAIT);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seen, [1, 2, 3]);
    let (created, started_at, completed) =
        (millis(&job, "createdAt"), millis(&job, "startedAt"), millis(&job, "completedAt"));
    assert!(started_at >= created + 290, "{job}");
    assert!(completed >= started_at + 290, "{job}");
    assert!(completed - created < 10_000, "{job}");
    h.stop().await;
}

#[tokio::test]
async fn a_timeout_ends_the_job_in_error() {
    let h = start(800).await;
    let mut request = text_job("la", "default");
    request["timeout"] = json!(1);
    let id = h.create(request).await;
    let job = h.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 4, "{job}");
    let took = millis(&job, "completedAt") - millis(&job, "createdAt");
    assert!((950..1600).contains(&took), "{took} ms: {job}");
    let admin = h.admin_jobs().await;
    assert!(admin["jobs"][0]["errorMessage"].as_str().unwrap().contains("timeout"), "{admin}");
    h.stop().await;
}

#[tokio::test]
async fn the_admin_endpoint_cancels_a_running_job() {
    let h = start(300).await;
    let id = h.create(text_job("la", "default")).await;
    let response = h.client.post(format!("{}/admin/jobs/{id}/cancel", h.origin)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["job"]["state"], 5);
    // It stays CANCELED after its worker would have finished.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let job = h.get_job(&id).await;
    assert_eq!(job["state"], 5);
    assert!(millis(&job, "completedAt") > 0);
    assert!(job["outputs"][0].get("smartContentResult").is_none());

    let again = h.client.post(format!("{}/admin/jobs/{id}/cancel", h.origin)).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let missing = h.client.post(format!("{}/admin/jobs/nope/cancel", h.origin)).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    // A canceled training frees its model name.
    let training = h.create(text_training("la", "canceled_1")).await;
    h.client.post(format!("{}/admin/jobs/{training}/cancel", h.origin)).send().await.unwrap();
    let retry = h.create(text_training("la", "canceled_1")).await;
    assert_eq!(h.wait_final(&retry, WAIT).await["state"], 3);
    h.stop().await;
}

#[tokio::test]
async fn list_jobs_returns_every_job_of_a_custom_id() {
    let h = start(20).await;
    let mut ids = Vec::new();
    for custom_id in ["shared", "other", "shared", "shared"] {
        let mut request = text_job("la", "default");
        request["customId"] = json!(custom_id);
        ids.push(h.create(request).await);
    }
    let (status, body) = h.call("ListJobs", json!({"customId": "shared"})).await;
    assert_eq!(status, 200);
    let list = &body["listJobsResponse"];
    assert_eq!(list["total"], 3);
    let listed: Vec<&str> = list["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[0].as_str(), ids[2].as_str(), ids[3].as_str()]);
    h.stop().await;
}

/// A callback receiver that answers 500 to its first `fail_first` posts.
#[derive(Clone, Default)]
struct Receiver {
    fail_first: usize,
    posts: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<(Instant, String)>>>,
}

async fn receive(State(receiver): State<Receiver>, body: String) -> StatusCode {
    let n = receiver.posts.fetch_add(1, Ordering::SeqCst);
    receiver.bodies.lock().unwrap().push((Instant::now(), body));
    if n < receiver.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn start_receiver(fail_first: usize) -> (String, Receiver) {
    let receiver = Receiver { fail_first, ..Receiver::default() };
    let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

async fn wait_posts(receiver: &Receiver, count: usize) {
    let started = Instant::now();
    while receiver.posts.load(Ordering::SeqCst) < count {
        assert!(started.elapsed() < WAIT, "{} posts", receiver.posts.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn callbacks_post_the_whole_job_and_are_retried() {
    let h = start(30).await;
    let (url, receiver) = start_receiver(2).await;
    let mut request = text_job("la", "default");
    request["callback"] = json!(url);
    let id = h.create(request).await;
    wait_posts(&receiver, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.posts.load(Ordering::SeqCst), 3, "no post after the first success");
    let bodies = receiver.bodies.lock().unwrap().clone();
    let job = parse_job(&bodies[2].1).expect("a Job");
    assert_eq!((job.id.as_str(), job.state), (id.as_str(), JobState::Completed));
    assert!(job.outputs[0].smart_content_result.is_some());
    assert_eq!(job.callback.as_deref(), Some(url.as_str()));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&bodies[2].1).unwrap(), h.get_job(&id).await);
    // Backoff: 50 ms, then 100 ms.
    assert!(bodies[1].0 - bodies[0].0 >= Duration::from_millis(45));
    assert!(bodies[2].0 - bodies[1].0 >= Duration::from_millis(95));

    // An ERROR ends with a callback too; the retries stop after the configured attempts.
    let (url, receiver) = start_receiver(usize::MAX).await;
    let failing = json!({
        "callback": url,
        "inputs": [{"source": {"contentId": "nowhere", "path": "/missing.wav"}}],
        "outputs": [{
            "contentId": "out",
            "inputSelectors": [0],
            "smartContentDescriptor": {"singingCloning": {"type": 1, "modelName": "default"}}
        }]
    });
    let h2 = start_with(singing_cloning_emulator::Config { callback_attempts: 3, ..common::config(30) }).await;
    let id = h2.create(failing).await;
    wait_posts(&receiver, 3).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.posts.load(Ordering::SeqCst), 3);
    let job = parse_job(&receiver.bodies.lock().unwrap()[0].1).unwrap();
    assert_eq!((job.id, job.state), (id, JobState::Error));
    h.stop().await;
    h2.stop().await;
}

#[tokio::test]
async fn a_hundred_concurrent_create_jobs_give_a_hundred_jobs() {
    let h = Arc::new(start(5_000).await);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                let mut request = text_job("la", "default");
                request["customId"] = json!(format!("c{}", i % 7));
                h.create(request).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 100);
    let admin = h.admin_jobs().await;
    assert_eq!(admin["total"], 100);
    let files = std::fs::read_dir(h.emulator.data_dir().join("jobs")).unwrap().count();
    assert_eq!(files, 100);
    let (_, body) = h.call("ListJobs", json!({"customId": "c0"})).await;
    assert_eq!(body["listJobsResponse"]["total"], 15);
    match Arc::try_unwrap(h) {
        Ok(h) => h.stop().await,
        Err(_) => panic!("the harness is still shared"),
    }
}

#[tokio::test]
async fn a_restart_with_the_same_data_directory_loses_nothing() {
    let config = common::config(400);
    let data_dir = config.data_dir.clone().unwrap();
    let h = start_with(config.clone()).await;
    let trained = h.create(text_training("do re mi fa so", "kept_model")).await;
    let mut song = text_job("la la", "default");
    song["customId"] = json!("before");
    let sung = h.create(song).await;
    let done = h.wait_final(&sung, WAIT).await;
    assert_eq!(h.wait_final(&trained, WAIT).await["state"], 3);
    let song_name =
        done["outputs"][0]["smartContentResult"]["singingCloning"]["songName"].as_str().unwrap().to_string();
    // One job PROCESSING and one SUBMITTED when the emulator stops.
    let processing = h.create(text_job("la", "kept_model")).await;
    h.wait_state(&processing, 2, WAIT).await;
    let submitted = h.create(text_job("la", "default")).await;
    h.emulator.stop().await; // keeps the data directory

    let h = start_with(singing_cloning_emulator::Config { job_ms: 30, data_dir: Some(data_dir), ..config }).await;
    assert_eq!(h.get_job(&sung).await, done);
    let (_, body) = h.call("ListJobs", json!({"customId": "before"})).await;
    assert_eq!(body["listJobsResponse"]["jobs"][0], done);
    assert!(!h.file("out", &format!("/{song_name}")).await.is_empty());
    let (_, models) = h.call("ListModels", json!({"offset": 0, "limit": 10, "type": 2})).await;
    assert_eq!(models["listModelsResponse"]["models"][1]["name"], "kept_model");
    let (status, _) = h.call("CreateJob", text_training("la", "kept_model")).await;
    assert_eq!(status, 409);
    for id in [&processing, &submitted] {
        let job = h.wait_final(id, WAIT).await;
        assert_eq!(job["state"], 3, "{job}");
    }
    assert_eq!(h.admin_jobs().await["total"], 4);
    h.stop().await;
}
