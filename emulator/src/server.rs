//! Starting and stopping the emulator: the data directory, the samples, the listener and
//! its connections (served with hyper directly, so that a fault can close a connection
//! without any answer, and watched, so that a silent or slow one is closed), CORS on
//! every response but the admin ones, and the resumption of unfinished jobs.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::Config;
use crate::faults::{AbortConnection, FaultSpec, GlobalFault};
use crate::jobs::{self, now_ms};
use crate::models::ModelRegistry;
use crate::state::{AppState, Registry};
use crate::store::{ModelsFile, Store};
use crate::{routes, samples};

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
        let registry = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || open_registry(&store)).await.map_err(|e| e.to_string())??
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let state = Arc::new(AppState::new(config, store, registry, format!("http://{addr}")));
        let (shutdown, _) = watch::channel(false);
        let limits = Limits::of(&state.config);
        let router = routes::router(Arc::clone(&state), GlobalFault::new(global_fault));
        let accept = tokio::spawn(accept_loop(listener, router, limits, shutdown.subscribe()));
        jobs::resume_unfinished(&state);
        Ok(Emulator { addr, state, shutdown, accept })
    }

    /// The address it listens on (the port picked, for a configured port of 0).
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

    /// A URL to GET `path` of content repository `content_id`: presigned for 7 days when
    /// the store requires signatures (see [`AppState::content_url`]).
    pub fn content_url(&self, content_id: &str, path: &str) -> String {
        self.state.content_url(content_id, path)
    }

    /// Where its jobs, models and files live.
    pub fn data_dir(&self) -> &Path {
        self.state.store.root()
    }

    /// The settings it was started with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// Stops listening, closes every connection and stops every job worker and callback.
    /// Unfinished jobs stay in the data directory, for the next start to resume (a clean
    /// stop clears their `attempted` mark: they were interrupted, not crashed on).
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.state.tasks.abort_all();
        let _ = self.accept.await;
        jobs::clear_attempts(&self.state);
    }
}

/// Reads the registry of jobs and models from the data directory, writing the samples and
/// `models.json` on first use.
fn open_registry(store: &Store) -> Result<Registry, String> {
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
    Ok(Registry { jobs, next_seq, models: ModelRegistry::from_file(models) })
}

/// The connection limits of `--header-timeout-ms`, `--idle-timeout-ms` and `--max-connections`.
#[derive(Clone, Copy)]
struct Limits {
    header: Duration,
    idle: Duration,
    connections: usize,
}

impl Limits {
    fn of(config: &Config) -> Limits {
        Limits {
            header: Duration::from_millis(config.header_timeout_ms.max(1)),
            idle: Duration::from_millis(config.idle_timeout_ms.max(1)),
            connections: config.max_connections.max(1),
        }
    }
}

async fn accept_loop(listener: TcpListener, router: Router, limits: Limits, mut shutdown: watch::Receiver<bool>) {
    // Past the cap, connections wait in the listen backlog until one closes.
    let slots = Arc::new(Semaphore::new(limits.connections));
    loop {
        let slot = tokio::select! {
            _ = shutdown.changed() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (router, shutdown) = (router.clone(), shutdown.clone());
                    tokio::spawn(async move {
                        serve_connection(stream, router, limits, shutdown).await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // Out of file descriptors, typically: wait for some to close.
                    eprintln!("emulator: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// What the watchdog of a connection knows of it, in ms since the connection opened.
#[derive(Default)]
struct Activity {
    /// Requests whose handler is running.
    in_flight: AtomicUsize,
    /// When the last handler returned (0: none yet, so the opening).
    idle_since: AtomicU64,
    /// When the last byte was read or written.
    last_io: AtomicU64,
    /// 1 + when the first byte of a request arrived while no handler was running; 0 for none.
    request_since: AtomicU64,
}

impl Activity {
    fn read(&self, now: u64) {
        self.last_io.fetch_max(now, Ordering::SeqCst);
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            let _ = self.request_since.compare_exchange(0, now + 1, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.request_since.store(0, Ordering::SeqCst);
    }

    fn request_ended(&self, now: u64) {
        self.idle_since.fetch_max(now, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Why the connection should be closed at `now`, if it should. While a handler runs,
    /// never: the handler bounds its own body read (`--body-timeout-ms`).
    fn expired(&self, now: u64, limits: Limits) -> Option<&'static str> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let request_since = self.request_since.load(Ordering::SeqCst);
        if request_since > 0 {
            return (now.saturating_sub(request_since - 1) > limits.header.as_millis() as u64)
                .then_some("the request's headers did not arrive in time");
        }
        let quiet_since = self.idle_since.load(Ordering::SeqCst).max(self.last_io.load(Ordering::SeqCst));
        (now.saturating_sub(quiet_since) > limits.idle.as_millis() as u64).then_some("idle")
    }
}

/// A connection's socket that tells its [`Activity`] of every byte that moves.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    opened: Instant,
}

impl Watched {
    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read(this.now());
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.last_io.fetch_max(this.now(), Ordering::SeqCst);
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.last_io.fetch_max(this.now(), Ordering::SeqCst);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Marks a request in flight for as long as its handler runs, even if it is dropped.
struct InFlight {
    activity: Arc<Activity>,
    opened: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.request_ended(self.opened.elapsed().as_millis() as u64);
    }
}

/// Serves one HTTP/1.1 connection. A response marked [`AbortConnection`] becomes a
/// service error, on which hyper closes the connection without writing anything. A
/// connection that stays silent for `--idle-timeout-ms` between requests (or stalls while
/// an answer is written), or whose request headers take longer than `--header-timeout-ms`
/// from their first byte, is closed.
async fn serve_connection(stream: TcpStream, router: Router, limits: Limits, mut shutdown: watch::Receiver<bool>) {
    let activity = Arc::new(Activity::default());
    let opened = Instant::now();
    let service_activity = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        service_activity.request_started();
        let in_flight = InFlight { activity: Arc::clone(&service_activity), opened };
        async move {
            let _in_flight = in_flight;
            let request = request.map(Body::new);
            let admin = is_admin(request.uri().path());
            if let Some(response) = preflight(&request, admin) {
                return Ok(response);
            }
            let mut response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<AbortConnection>().is_some() {
                return Err(AbortConnection);
            }
            if !admin {
                allow_any_origin(&mut response);
            }
            Ok(response)
        }
    });
    let io = Watched { stream, activity: Arc::clone(&activity), opened };
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    let tick = (limits.header.min(limits.idle) / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
    let watchdog = async {
        loop {
            tokio::time::sleep(tick).await;
            if activity.expired(opened.elapsed().as_millis() as u64, limits).is_some() {
                break;
            }
        }
    };
    tokio::select! {
        _ = connection => {}
        _ = watchdog => {}
        _ = shutdown.changed() => {}
    }
}

/// The admin routes, which get no CORS headers: a web page of another origin must not read
/// them (see [`routes::admin_refusal`]).
fn is_admin(path: &str) -> bool {
    path == "/admin" || path.starts_with(routes::ADMIN_PREFIX)
}

/// The answer to a CORS preflight (`OPTIONS`): allowed for any path but the admin ones.
/// The content store's, like S3's with a bucket CORS rule allowing any origin and header,
/// allows GET, HEAD and PUT with `content-type`, `range` and whatever headers the page asks
/// for: a presigned upload from a page sends its signed `content-type`. Preflights carry no
/// credentials, so they are answered without a signature.
fn preflight(request: &Request<Body>, admin: bool) -> Option<Response<Body>> {
    if request.method() != Method::OPTIONS {
        return None;
    }
    if admin {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::FORBIDDEN;
        return Some(response);
    }
    let store = request.uri().path().starts_with(routes::STORE_PREFIX);
    let (methods, mut allowed) = if store {
        ("GET, HEAD, PUT", String::from("content-type, range"))
    } else {
        ("GET, HEAD, POST, PUT, OPTIONS", String::from("content-type, x-emulator-fault"))
    };
    let requested = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).and_then(|v| v.to_str().ok());
    if let Some(requested) = requested.filter(|r| store && is_header_list(r)) {
        allowed.push_str(", ");
        allowed.push_str(requested.trim());
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
    if let Ok(allowed) = HeaderValue::from_str(&allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
    }
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    allow_any_origin(&mut response);
    Some(response)
}

/// A comma-separated list of header names (HTTP tokens), as `Access-Control-Request-Headers` holds.
fn is_header_list(list: &str) -> bool {
    !list.trim().is_empty()
        && list.split(',').all(|name| {
            let name = name.trim();
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        })
}

fn allow_any_origin(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    // A page reads these too: a fault's, and a part of a file's (seeking in it).
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after, x-emulator-fault, content-range, accept-ranges"),
    );
}
