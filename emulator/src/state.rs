//! What the running emulator holds: its settings, the data directory, the registry of jobs
//! and models behind one lock, the HTTP client for downloads and callbacks, and its tasks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Semaphore;
use tokio::task::AbortHandle;

use crate::config::Config;
use crate::models::ModelRegistry;
use crate::sigv4::{self, StoreKeys};
use crate::store::{JobRecord, Store};

/// The in-memory registry of jobs and models, as the data directory holds them; changed only
/// under [`AppState::registry`]'s lock, and saved before it is released.
#[derive(Debug)]
pub struct Registry {
    /// Every job, by id.
    pub jobs: HashMap<String, JobRecord>,
    /// The creation number of the next job ([`JobRecord::seq`]).
    pub next_seq: u64,
    /// Every model, and the names that trainings still running will take.
    pub models: ModelRegistry,
}

impl Registry {
    /// Every job in creation order.
    pub fn jobs_in_order(&self) -> Vec<&JobRecord> {
        let mut jobs: Vec<&JobRecord> = self.jobs.values().collect();
        jobs.sort_by_key(|r| r.seq);
        jobs
    }
}

/// The emulator's state, shared by its routes, job workers and callbacks.
pub struct AppState {
    /// The settings it was started with.
    pub config: Config,
    /// The data directory.
    pub store: Store,
    registry: Mutex<Registry>,
    /// For URL inputs and callbacks.
    pub http: reqwest::Client,
    /// Its job workers and callbacks.
    pub tasks: Tasks,
    /// Jobs working at once (downloading, decoding and processing their audio): one per
    /// core unless `--concurrent-jobs` says otherwise. A job holds its slot from its first
    /// download to its last write, so memory is bounded by slots × one job's inputs.
    pub audio_slots: Semaphore,
    /// `http://host:port`, as clients reach the emulator.
    pub origin: String,
    /// The key pair every content store request must be presigned with; `None`: an open store.
    pub store_keys: Option<StoreKeys>,
}

impl AppState {
    /// The state of an emulator that clients reach at `origin`.
    pub fn new(config: Config, store: Store, registry: Registry, origin: String) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let slots = if config.concurrent_jobs == 0 { cores } else { config.concurrent_jobs };
        let store_keys = config.store_keys();
        AppState {
            config,
            store,
            registry: Mutex::new(registry),
            http: reqwest::Client::new(),
            tasks: Tasks::default(),
            audio_slots: Semaphore::new(slots),
            origin,
            store_keys,
        }
    }

    /// The jobs and models, locked. A panic elsewhere never makes them unreachable.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The public URL of the API: origin and base.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.origin, self.config.base)
    }

    /// A URL to GET `path` (`/dir/a.wav`) of content repository `content_id`: plain for an
    /// open store, else presigned with the store's key pair for 7 days from now (the longest
    /// S3 allows), so that what the emulator hands out can be fetched as it is.
    pub fn content_url(&self, content_id: &str, path: &str) -> String {
        let path = format!("/cos/{content_id}/{}", path.trim_start_matches('/'));
        let Some(keys) = &self.store_keys else {
            return format!("{}{path}", self.origin);
        };
        let path = sigv4::encode_path(&path);
        let host = self.origin.split_once("://").map_or(self.origin.as_str(), |(_, host)| host);
        let query = sigv4::presign(keys, "GET", host, &path, &[], sigv4::now_s(), sigv4::MAX_EXPIRES_S);
        format!("{}{path}?{query}", self.origin)
    }
}

/// The emulator's background tasks (job workers, callbacks), so that stopping it stops them.
#[derive(Default)]
pub struct Tasks {
    handles: Mutex<Vec<AbortHandle>>,
    closed: AtomicBool,
}

impl Tasks {
    /// Runs `task` in the background unless the emulator is stopping.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let handle = tokio::spawn(task).abort_handle();
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        handles.retain(|h| !h.is_finished());
        handles.push(handle);
    }

    /// Stops every task and refuses new ones.
    pub fn abort_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        handles.iter().for_each(AbortHandle::abort);
    }
}
