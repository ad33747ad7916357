//! The jobs: creation, the worker that takes each through SUBMITTED → PROCESSING →
//! COMPLETED or ERROR (with `timing`, `timeout` and the callback), cancellation, and the
//! resumption of unfinished jobs after a restart.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt;
use singing_cloning::{
    CreateJobRequest, Job, JobState, Output, SingingCloningResult, SingingCloningType, SmartContentResult,
    SwitchOption, Timing,
};
use tokio::time::Instant;

use crate::audio::{self, cloning, Audio};
use crate::blocking::run_blocking;
use crate::errors::ApiError;
use crate::state::{AppState, Registry};
use crate::store::{JobRecord, ModelRecord, Store};
use crate::{callbacks, inputs};

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Creates a job and starts its worker. Fails when a training names a taken model or a
/// generation names a missing one; nothing is created then.
pub fn create(state: &Arc<AppState>, request: CreateJobRequest) -> Result<Job, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let job = Job {
        id: id.clone(),
        state: JobState::Submitted,
        custom_id: request.custom_id,
        callback: request.callback,
        inputs: request.inputs,
        outputs: request.outputs,
        timing: Timing { created_at: now_ms().to_string(), started_at: "0".into(), completed_at: "0".into() },
    };
    {
        let mut registry = state.registry();
        let mut training = Vec::new();
        for output in &job.outputs {
            let cloning = &output.smart_content_descriptor.singing_cloning;
            match cloning.kind {
                SingingCloningType::Train => {
                    if registry.models.is_taken(&cloning.model_name) || training.contains(&&cloning.model_name) {
                        return Err(ApiError::model_exists(&cloning.model_name));
                    }
                    training.push(&cloning.model_name);
                }
                SingingCloningType::Generate => {
                    if registry.models.profile(&cloning.model_name).is_none() {
                        return Err(ApiError::model_not_found(&cloning.model_name));
                    }
                }
            }
        }
        let record = JobRecord {
            job: job.clone(),
            seq: registry.next_seq,
            timeout: request.timeout,
            error: None,
            attempted: false,
        };
        state.store.save_job(&record).map_err(|e| ApiError::internal(format!("cannot save the job: {e}")))?;
        for name in training {
            registry.models.reserve(name, &id);
        }
        registry.next_seq += 1;
        registry.jobs.insert(id.clone(), record);
    }
    let worker_state = Arc::clone(state);
    state.tasks.spawn(drive(worker_state, id));
    Ok(job)
}

/// The job `id`.
pub fn get(state: &AppState, id: &str) -> Option<Job> {
    state.registry().jobs.get(id).map(|r| r.job.clone())
}

/// Every job with this `customId`, in creation order.
pub fn with_custom_id(state: &AppState, custom_id: &str) -> Vec<Job> {
    let registry = state.registry();
    registry
        .jobs_in_order()
        .into_iter()
        .filter(|r| r.job.custom_id.as_deref() == Some(custom_id))
        .map(|r| r.job.clone())
        .collect()
}

/// Sets a job that has not ended to CANCELED, as the upstream console does.
pub fn cancel(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let mut registry = state.registry();
    let Registry { jobs, models, .. } = &mut *registry;
    let record = jobs.get_mut(id).ok_or_else(|| ApiError::job_not_found(id))?;
    if record.job.state.is_final() {
        return Err(ApiError::job_already_final(id, record.job.state.name()));
    }
    record.job.state = JobState::Canceled;
    record.job.timing.completed_at = now_ms().to_string();
    models.release(id);
    save(&state.store, record);
    Ok(record.job.clone())
}

/// Restarts the workers of the jobs a previous run left unfinished: a SUBMITTED job goes
/// on from SUBMITTED, a PROCESSING job is processed again (its `startedAt` kept); a
/// timeout that has passed meanwhile ends it in ERROR. A PROCESSING job whose work had
/// begun when the previous run died (see [`JobRecord::attempted`]) ends in ERROR at once:
/// it may be what killed it.
pub fn resume_unfinished(state: &Arc<AppState>) {
    let crashed: Vec<String> = state
        .registry()
        .jobs
        .values()
        .filter(|r| r.job.state == JobState::Processing && r.attempted)
        .map(|r| r.job.id.clone())
        .collect();
    for id in crashed {
        let message = "the emulator stopped abruptly while processing this job (it may have crashed on it); \
                       the job is not tried again";
        finish(state, &id, Outcome::Failed(message.into()));
    }
    let ids: Vec<String> = {
        let mut registry = state.registry();
        let Registry { jobs, models, .. } = &mut *registry;
        let mut ids = Vec::new();
        for record in jobs.values().filter(|r| !r.job.state.is_final()) {
            for output in &record.job.outputs {
                let cloning = &output.smart_content_descriptor.singing_cloning;
                if cloning.kind == SingingCloningType::Train {
                    models.reserve(&cloning.model_name, &record.job.id);
                }
            }
            ids.push(record.job.id.clone());
        }
        ids
    };
    for id in ids {
        state.tasks.spawn(drive(Arc::clone(state), id));
    }
}

/// Clears [`JobRecord::attempted`] of every unfinished job, for a clean stop: the next
/// start then processes them again, as a job interrupted by a stop (not a crash) deserves.
pub fn clear_attempts(state: &AppState) {
    let mut registry = state.registry();
    for record in registry.jobs.values_mut().filter(|r| r.attempted && !r.job.state.is_final()) {
        record.attempted = false;
        save(&state.store, record);
    }
}

/// How a job's work ended.
enum Outcome {
    Completed {
        results: Vec<SingingCloningResult>,
        models: Vec<ModelRecord>,
    },
    Failed(String),
    /// Canceled meanwhile, or gone: nothing more to do.
    Abandoned,
}

/// The worker of one job.
async fn drive(state: Arc<AppState>, id: String) {
    let Some(record) = state.registry().jobs.get(&id).cloned() else {
        return;
    };
    let deadline = record.timeout.map(|seconds| {
        let created = Timing::millis(&record.job.timing.created_at).unwrap_or_else(now_ms);
        let left = (created + seconds as u64 * 1000).saturating_sub(now_ms());
        Instant::now() + Duration::from_millis(left)
    });
    // A panic in the job's own code ends this job in ERROR, not the worker silently (which
    // would leave the job PROCESSING for ever); blocking work is contained by `run_blocking`.
    let work = AssertUnwindSafe(advance(&state, record)).catch_unwind().map(|result| {
        result.unwrap_or_else(|_| Outcome::Failed("the emulator failed on this job (an internal error)".into()))
    });
    let outcome = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, work).await.unwrap_or_else(|_| {
            Outcome::Failed(format!("the job did not finish within its timeout of {} s", deadline_seconds(&state, &id)))
        }),
        None => work.await,
    };
    finish(&state, &id, outcome);
}

fn deadline_seconds(state: &AppState, id: &str) -> u32 {
    state.registry().jobs.get(id).and_then(|r| r.timeout).unwrap_or(0)
}

/// SUBMITTED for `job_ms`, then PROCESSING for the work and at least `job_ms`.
async fn advance(state: &Arc<AppState>, record: JobRecord) -> Outcome {
    let pause = Duration::from_millis(state.config.job_ms);
    let id = record.job.id.clone();
    if record.job.state == JobState::Submitted {
        tokio::time::sleep(pause).await;
        let mut registry = state.registry();
        let Some(current) = registry.jobs.get_mut(&id) else {
            return Outcome::Abandoned;
        };
        if current.job.state != JobState::Submitted {
            return Outcome::Abandoned;
        }
        current.job.state = JobState::Processing;
        current.job.timing.started_at = now_ms().to_string();
        save(&state.store, current);
    }
    let started = Instant::now();
    let outcome = match process(state, &record.job).await {
        Ok((results, models)) => Outcome::Completed { results, models },
        Err(message) => Outcome::Failed(message),
    };
    tokio::time::sleep_until(started + pause).await;
    outcome
}

/// Ends the job with `outcome`, unless it ended meanwhile, and posts it to its callback.
fn finish(state: &Arc<AppState>, id: &str, outcome: Outcome) {
    let job = {
        let mut registry = state.registry();
        let Registry { jobs, models, .. } = &mut *registry;
        let Some(record) = jobs.get_mut(id) else {
            return;
        };
        if record.job.state.is_final() {
            return;
        }
        match outcome {
            Outcome::Abandoned => return,
            Outcome::Completed { results, models: trained } => {
                let now = now_ms().to_string();
                for model in trained {
                    models.add(ModelRecord { created_at: now.clone(), ..model });
                }
                if let Err(e) = state.store.save_models(&models.to_file()) {
                    eprintln!("emulator: cannot save models.json: {e}");
                }
                for (output, result) in record.job.outputs.iter_mut().zip(results) {
                    output.smart_content_result = Some(SmartContentResult { singing_cloning: Some(result) });
                }
                record.job.state = JobState::Completed;
            }
            Outcome::Failed(message) => {
                eprintln!("emulator: job {id} failed: {message}");
                record.job.state = JobState::Error;
                record.error = Some(message);
            }
        }
        record.job.timing.completed_at = now_ms().to_string();
        models.release(id);
        save(&state.store, record);
        record.job.clone()
    };
    if let Some(url) = job.callback.clone() {
        callbacks::deliver(state, url, job);
    }
}

/// Saves a job; a failure is reported, and the job stays right in memory.
fn save(store: &Store, record: &JobRecord) {
    if let Err(e) = store.save_job(record) {
        eprintln!("emulator: cannot save job {}: {e}", record.job.id);
    }
}

/// Marks the job [`JobRecord::attempted`] and saves it, before its inputs are touched.
fn mark_attempted(state: &AppState, id: &str) {
    let mut registry = state.registry();
    if let Some(record) = registry.jobs.get_mut(id) {
        if !record.attempted {
            record.attempted = true;
            save(&state.store, record);
        }
    }
}

/// Runs every output of the job: reads its inputs, then trains or generates. The job holds
/// one of [`AppState::audio_slots`] throughout, downloads and decoding included, so that
/// the memory of jobs at once is bounded by the slots, not by how many jobs were created.
async fn process(state: &Arc<AppState>, job: &Job) -> Result<(Vec<SingingCloningResult>, Vec<ModelRecord>), String> {
    let _slot = state.audio_slots.acquire().await.map_err(|_| "the emulator is stopping".to_string())?;
    mark_attempted(state, &job.id);
    // Uses left of each input, so that its audio is dropped after its last output.
    let mut uses: HashMap<u32, usize> = HashMap::new();
    for selector in job.outputs.iter().flat_map(|o| &o.input_selectors) {
        *uses.entry(*selector).or_default() += 1;
    }
    let mut loaded: HashMap<u32, Audio> = HashMap::new();
    let mut results = Vec::new();
    let mut trained = Vec::new();
    for (index, output) in job.outputs.iter().enumerate() {
        let mut clips = Vec::new();
        for &selector in &output.input_selectors {
            if let Entry::Vacant(slot) = loaded.entry(selector) {
                let input = job
                    .inputs
                    .get(selector as usize)
                    .ok_or_else(|| format!("inputSelectors names no input {selector}"))?;
                slot.insert(inputs::load(state, input).await.map_err(|e| format!("input {selector}: {e}"))?);
            }
            let left = uses.get_mut(&selector).map(|n| {
                *n -= 1;
                *n
            });
            let audio = if left == Some(0) { loaded.remove(&selector) } else { loaded.get(&selector).cloned() };
            clips.push(audio.ok_or("an input's audio went missing")?);
        }
        let audio = audio::concatenate(clips).ok_or("the output selects no input")?;
        let spec = &output.smart_content_descriptor.singing_cloning;
        let separate = spec.use_separate == Some(SwitchOption::On);
        match spec.kind {
            SingingCloningType::Train => {
                let epochs = spec.total_epoch.unwrap_or(singing_cloning::model::job::DEFAULT_TOTAL_EPOCH);
                let profile = run_blocking(move || cloning::learn(&audio, epochs, separate)).await?;
                let name = spec.model_name.clone();
                results.push(SingingCloningResult { model_name: Some(name.clone()), song_name: None });
                trained.push(ModelRecord { name, created_at: String::new(), job_id: job.id.clone(), profile });
            }
            SingingCloningType::Generate => {
                let profile = state
                    .registry()
                    .models
                    .profile(&spec.model_name)
                    .ok_or_else(|| format!("the model {:?} does not exist", spec.model_name))?;
                let song_name = song_name(job, output, index);
                let content_id = output.content_id.clone().unwrap_or_default();
                let destination =
                    output.destination.as_deref().unwrap_or(singing_cloning::model::job::DEFAULT_DESTINATION);
                let path = state
                    .store
                    .content_path(&content_id, &format!("{destination}/{song_name}"))
                    .ok_or("contentId or destination leaves the content store")?;
                let store = state.store.clone();
                run_blocking(move || {
                    // The input's buffers are reused: a long song is not held twice.
                    let conversion = cloning::convert_owned(audio, &profile, separate)?;
                    let bytes = audio::wav::encode(&conversion.audio)?;
                    drop(conversion);
                    store.write_content(&path, &bytes).map_err(|e| format!("cannot write the result: {e}"))
                })
                .await?;
                results.push(SingingCloningResult { song_name: Some(song_name), model_name: None });
            }
        }
    }
    Ok((results, trained))
}

/// `<outputPrefix><job id>.wav`, with `_<output index>` before `.wav` when the job has several outputs.
fn song_name(job: &Job, output: &Output, index: usize) -> String {
    let prefix = output.smart_content_descriptor.output_prefix.as_deref().unwrap_or("");
    let suffix = if job.outputs.len() > 1 { format!("_{index}") } else { String::new() };
    format!("{prefix}{}{suffix}.wav", job.id)
}
