//! Callbacks: when a job ends (COMPLETED or ERROR) the whole Job is posted as JSON to its
//! `callback`, retried with a doubling backoff until a 2xx answer or the last attempt.

use std::sync::Arc;
use std::time::Duration;

use singing_cloning::Job;

use crate::state::AppState;

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The time one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Posts `job` to `url` in the background.
pub fn deliver(state: &Arc<AppState>, url: String, job: Job) {
    let body = match serde_json::to_vec(&job) {
        Ok(body) => body,
        Err(e) => return eprintln!("emulator: cannot write the callback of job {}: {e}", job.id),
    };
    let client = state.http.clone();
    let attempts = state.config.callback_attempts.max(1);
    let mut backoff = Duration::from_millis(state.config.callback_backoff_ms);
    state.tasks.spawn(async move {
        for attempt in 1..=attempts {
            let sent = client
                .post(&url)
                .header("content-type", "application/json")
                .timeout(ATTEMPT_TIMEOUT)
                .body(body.clone())
                .send()
                .await;
            let failure = match sent {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => format!("HTTP {}", response.status().as_u16()),
                Err(e) => e.to_string(),
            };
            eprintln!("emulator: callback {attempt}/{attempts} of job {} to {url} failed: {failure}", job.id);
            if attempt < attempts {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    });
}
