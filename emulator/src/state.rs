//! What the running emulator holds: its settings, the data directory, the jobs and
//! models behind one lock, the HTTP client for downloads and callbacks, and its tasks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Semaphore;
use tokio::task::AbortHandle;

use crate::config::Config;
use crate::faults::FaultSpec;
use crate::models::ModelBook;
use crate::store::{JobRecord, Store};

/// Jobs and models; changed only under [`AppState::book`]'s lock, and saved before it is released.
#[derive(Debug)]
pub struct Book {
    pub jobs: HashMap<String, JobRecord>,
    pub next_seq: u64,
    pub models: ModelBook,
}

impl Book {
    /// Every job in creation order.
    pub fn jobs_in_order(&self) -> Vec<&JobRecord> {
        let mut jobs: Vec<&JobRecord> = self.jobs.values().collect();
        jobs.sort_by_key(|r| r.seq);
        jobs
    }
}

pub struct AppState {
    pub config: Config,
    pub store: Store,
    book: Mutex<Book>,
    /// For URL inputs and callbacks.
    pub http: reqwest::Client,
    pub tasks: Tasks,
    /// The global fault, from `--fault`.
    pub global_fault: Option<FaultSpec>,
    /// API requests seen, for `--fault …@N`.
    pub api_requests: AtomicU64,
    /// Jobs working at once (downloading, decoding and processing their audio): one per
    /// core unless `--concurrent-jobs` says otherwise. A job holds its slot from its first
    /// download to its last write, so memory is bounded by slots × one job's inputs.
    pub audio_slots: Semaphore,
    /// `http://host:port`, as clients reach the emulator.
    pub origin: String,
}

impl AppState {
    pub fn new(config: Config, store: Store, book: Book, global_fault: Option<FaultSpec>, origin: String) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let slots = if config.concurrent_jobs == 0 { cores } else { config.concurrent_jobs };
        AppState {
            config,
            store,
            book: Mutex::new(book),
            http: reqwest::Client::new(),
            tasks: Tasks::default(),
            global_fault,
            api_requests: AtomicU64::new(0),
            audio_slots: Semaphore::new(slots),
            origin,
        }
    }

    /// The jobs and models, locked. A panic elsewhere never makes them unreachable.
    pub fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The public URL of the API: origin and base.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.origin, self.config.base)
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
