//! Starting and stopping the emulator: the data directory, the samples, the listener and
//! its connections (served with hyper directly, so that a fault can close a connection
//! without any answer), CORS on every response, and the resumption of unfinished jobs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::Config;
use crate::faults::FaultSpec;
use crate::jobs::{self, now_ms};
use crate::models::ModelBook;
use crate::state::{AppState, Book};
use crate::store::{ModelsFile, Store};
use crate::{routes, samples};

/// Marks a response whose connection must be closed without sending it.
#[derive(Debug, Clone, Copy)]
pub struct AbortConnection;

impl std::fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an emulated fault")
    }
}

impl std::error::Error for AbortConnection {}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl Emulator {
    /// Opens the data directory (a fresh temporary one when none is configured), writes
    /// the samples on first use, starts listening and resumes unfinished jobs.
    pub async fn start(config: Config) -> Result<Emulator, String> {
        let global_fault =
            config.fault.as_deref().map(FaultSpec::parse).transpose().map_err(|e| format!("--fault: {e}"))?;
        let root = match &config.data_dir {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir().join(format!("singing-cloning-emulator-{}", uuid::Uuid::new_v4().simple())),
        };
        let store =
            Store::open(&root).map_err(|e| format!("cannot open the data directory {}: {e}", root.display()))?;
        let book = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || open_book(&store)).await.map_err(|e| e.to_string())??
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let state = Arc::new(AppState::new(config, store, book, global_fault, format!("http://{addr}")));
        let (shutdown, _) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(listener, routes::router(Arc::clone(&state)), shutdown.subscribe()));
        jobs::resume_unfinished(&state);
        Ok(Emulator { addr, state, shutdown, accept })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.state.origin
    }

    /// `http://127.0.0.1:PORT/release`: where the reference's address stands.
    pub fn api_url(&self) -> String {
        self.state.api_url()
    }

    pub fn data_dir(&self) -> &Path {
        self.state.store.root()
    }

    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// Stops listening, closes every connection and stops every job worker and callback.
    /// Unfinished jobs stay in the data directory, for the next start to resume.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.state.tasks.abort_all();
        let _ = self.accept.await;
    }
}

/// Reads the jobs and models of the data directory, writing the samples and `models.json` on first use.
fn open_book(store: &Store) -> Result<Book, String> {
    samples::ensure(store)?;
    let models = match store.load_models().map_err(|e| format!("cannot read models.json: {e}"))? {
        Some(file) => file,
        None => {
            let file = ModelsFile { default_created_at: now_ms().to_string(), models: Vec::new() };
            store.save_models(&file).map_err(|e| format!("cannot write models.json: {e}"))?;
            file
        }
    };
    let records = store.load_jobs().map_err(|e| format!("cannot read the jobs: {e}"))?;
    let next_seq = records.iter().map(|r| r.seq + 1).max().unwrap_or(0);
    let jobs: HashMap<String, _> = records.into_iter().map(|r| (r.job.id.clone(), r)).collect();
    Ok(Book { jobs, next_seq, models: ModelBook::from_file(models) })
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
                Err(e) => {
                    eprintln!("emulator: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Serves one HTTP/1.1 connection. A response marked [`AbortConnection`] becomes a
/// service error, on which hyper closes the connection without writing anything.
async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        async move {
            let request = request.map(Body::new);
            if let Some(response) = preflight(&request) {
                return Ok(response);
            }
            let mut response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<AbortConnection>().is_some() {
                return Err(AbortConnection);
            }
            allow_any_origin(&mut response);
            Ok(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = shutdown.changed() => {}
    }
}

/// The answer to a CORS preflight (`OPTIONS`), for any path.
fn preflight(request: &Request<Body>) -> Option<Response<Body>> {
    if request.method() != Method::OPTIONS {
        return None;
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, POST, PUT, OPTIONS"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, x-emulator-fault"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    allow_any_origin(&mut response);
    Some(response)
}

fn allow_any_origin(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after, x-emulator-fault"));
}
