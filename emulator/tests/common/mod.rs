//! What the emulator's integration tests share: an emulator in-process on a free port,
//! a real HTTP client over loopback, and small helpers for the API.

#![allow(dead_code)]

pub mod signal;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use singing_cloning_emulator::{Config, Emulator, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};

pub struct Harness {
    pub emulator: Emulator,
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/release`
    pub api: String,
    /// `http://127.0.0.1:PORT`
    pub origin: String,
}

/// A fresh data directory under the system's temporary one.
pub fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("emulator-test-{}", uuid::Uuid::new_v4().simple()))
}

/// A test configuration: a free port, a fresh data directory, fast jobs and callbacks.
pub fn config(job_ms: u64) -> Config {
    Config { port: 0, job_ms, data_dir: Some(temp_dir()), callback_backoff_ms: 50, ..Config::default() }
}

pub async fn start(job_ms: u64) -> Harness {
    start_with(config(job_ms)).await
}

pub async fn start_with(config: Config) -> Harness {
    let emulator = Emulator::start(config).await.expect("the emulator starts");
    let origin = emulator.origin().to_string();
    let api = emulator.api_url();
    Harness { emulator, client: reqwest::Client::new(), api, origin }
}

/// A body with the action, the local credentials and the action's request object.
pub fn envelope(action: &str, request: Value) -> Value {
    let key = match action {
        "CreateJob" => "createJobRequest",
        "GetJob" => "getJobRequest",
        "ListJobs" => "listJobsRequest",
        _ => "listModelsRequest",
    };
    json!({"action": action, "secretId": DEFAULT_SECRET_ID, "secretKey": DEFAULT_SECRET_KEY, key: request})
}

/// A CreateJob request that sings a short text with `model`, written to repository `out`.
pub fn text_job(text: &str, model: &str) -> Value {
    json!({
        "inputs": [{"sourceData": text}],
        "outputs": [{
            "contentId": "out",
            "inputSelectors": [0],
            "smartContentDescriptor": {"singingCloning": {"type": 1, "modelName": model}}
        }]
    })
}

/// A CreateJob request that trains `name` on a text.
pub fn text_training(text: &str, name: &str) -> Value {
    json!({
        "inputs": [{"sourceData": text}],
        "outputs": [{
            "inputSelectors": [0],
            "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": name, "totalEpoch": 5}}
        }]
    })
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Harness {
    /// Stops the emulator and removes its data directory.
    pub async fn stop(self) {
        let dir = self.emulator.data_dir().to_path_buf();
        self.emulator.stop().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// POSTs `body` to `{api}{path}`.
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_raw(path, body.to_string(), None).await.expect("an answer")
    }

    /// POSTs a raw body, with an optional fault header; a network error is returned as is.
    pub async fn post_raw(&self, path: &str, body: String, fault: Option<&str>) -> Result<Answer, reqwest::Error> {
        let mut request =
            self.client.post(format!("{}{path}", self.api)).header("content-type", "application/json").body(body);
        if let Some(fault) = fault {
            request = request.header("x-emulator-fault", fault);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Answer { status, headers, text })
    }

    /// Runs an action on its path; returns status and JSON body.
    pub async fn call(&self, action: &str, request: Value) -> (u16, Value) {
        let path = if action == "ListModels" { "/music_model" } else { "/job" };
        let answer = self.post(path, &envelope(action, request)).await;
        (answer.status, answer.json())
    }

    /// Creates a job and returns its id.
    pub async fn create(&self, request: Value) -> String {
        let (status, body) = self.call("CreateJob", request).await;
        assert_eq!(status, 200, "{body}");
        body["createJobResponse"]["job"]["id"].as_str().expect("an id").to_string()
    }

    pub async fn get_job(&self, id: &str) -> Value {
        let (status, body) = self.call("GetJob", json!({"id": id})).await;
        assert_eq!(status, 200, "{body}");
        body["getJobResponse"]["job"].clone()
    }

    /// Polls the job until it ends (state 3, 4 or 5); panics after `limit`.
    pub async fn wait_final(&self, id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let job = self.get_job(id).await;
            if matches!(job["state"].as_i64(), Some(3..=5)) {
                return job;
            }
            assert!(started.elapsed() < limit, "job {id} did not end within {limit:?}: {job}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Polls until the job reaches `state`.
    pub async fn wait_state(&self, id: &str, state: i64, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let job = self.get_job(id).await;
            if job["state"].as_i64() == Some(state) {
                return job;
            }
            assert!(started.elapsed() < limit, "job {id} did not reach {state} within {limit:?}: {job}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.origin)).send().await.expect("an answer")
    }

    pub async fn admin_jobs(&self) -> Value {
        self.get("/admin/jobs").await.json().await.expect("JSON")
    }

    /// Stores a file in the content store.
    pub async fn put_file(&self, content_id: &str, path: &str, bytes: Vec<u8>) {
        let response = self
            .client
            .put(format!("{}/cos/{content_id}{path}", self.origin))
            .body(bytes)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 201);
    }

    /// The bytes of a file in the content store.
    pub async fn file(&self, content_id: &str, path: &str) -> Vec<u8> {
        let response = self.get(&format!("/cos/{content_id}{path}")).await;
        assert_eq!(response.status().as_u16(), 200, "/cos/{content_id}{path}");
        response.bytes().await.expect("a body").to_vec()
    }
}

/// A job's timing field as milliseconds.
pub fn millis(job: &Value, field: &str) -> u64 {
    job["timing"][field].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("timing.{field}: {job}"))
}
