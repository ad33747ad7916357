//! Where the shared state's operations ([`crate::proxy::shared`]) run: in this process's
//! memory, or by the config's `store`, a JavaScript object that several proxies share
//! (js/store-redis.js, js/proxy-durable.js):
//!
//! ```ts
//! interface ProxyStore {
//!   run(op: string): Promise<string>;                       // an Op's JSON in, an Outcome's out
//!   listen?(scope: string, onEvent: (event: string) => void, signal: AbortSignal): void;
//! }
//! ```
//!
//! When the store cannot answer, what creates something fails closed (the caller gets a 503
//! `store_unavailable`), and the rest (rate limits, events) goes on in this process's
//! memory until the store answers again: see [`Op::fails_closed`].

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::proxy::error_code::ProxyErrorCode;
use crate::proxy::events::Event;
use crate::proxy::reply::Reply;
use crate::proxy::shared::{MemoryState, Op, Outcome, StoredEvent};
use crate::transport::now_ms;

/// The store could not run an op that must not be run anywhere else.
#[derive(Debug)]
pub struct StoreDown;

impl StoreDown {
    /// The 503 for it: the caller may retry; nothing was created.
    pub fn reply(&self) -> Reply {
        Reply::error(503, ProxyErrorCode::StoreUnavailable, "the proxy's shared store is unavailable; try again")
            .with_header("retry-after", "5".into())
    }
}

/// A store shared with other proxies.
struct External {
    store: JsValue,
    run: Function,
    listen: Option<Function>,
}

/// The shared state's operations, run in memory or by the configured store.
pub struct SharedStore {
    external: Option<External>,
    /// The state in this process: the store itself without an external one, else what runs
    /// the ops that may go on while the external one is unreachable.
    memory: RefCell<MemoryState>,
}

impl SharedStore {
    /// The state in this process's memory.
    pub fn memory() -> SharedStore {
        SharedStore { external: None, memory: RefCell::new(MemoryState::new(now_ms())) }
    }

    /// The config's `store`, or `None` when it has no `run` function.
    pub fn external(store: JsValue) -> Option<SharedStore> {
        let run = Reflect::get(&store, &"run".into()).ok()?.dyn_into::<Function>().ok()?;
        let listen = Reflect::get(&store, &"listen".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
        let memory = RefCell::new(MemoryState::new(now_ms()));
        Some(SharedStore { external: Some(External { store, run, listen }), memory })
    }

    /// Whether events reach this process's streams through `listen` (else the process's own
    /// memory has them all).
    pub fn listens(&self) -> bool {
        self.external.as_ref().is_some_and(|e| e.listen.is_some())
    }

    /// Runs `op`: in memory, or by the external store; when that fails, in memory unless
    /// the op fails closed.
    pub async fn run(&self, op: &Op) -> Result<Outcome, StoreDown> {
        if let Some(external) = &self.external {
            match external.run(op).await {
                Some(outcome) => return Ok(outcome),
                None if op.fails_closed() => return Err(StoreDown),
                None => {}
            }
        }
        // The borrow ends within the statement: no await holds it.
        let outcome = self.memory.borrow_mut().run(op, now_ms());
        Ok(outcome)
    }

    /// Records `job` for `scope` ([`Op::Record`]): in memory without writing it out as JSON.
    pub async fn record(&self, scope: &str, job: &crate::model::Value) -> Result<Outcome, StoreDown> {
        if self.external.is_some() {
            return self.run(&Op::Record { scope: scope.into(), job: job.to_json() }).await;
        }
        // The borrow ends within the statement: no await holds it.
        let outcome = self.memory.borrow_mut().record(scope, job, now_ms());
        Ok(outcome)
    }

    /// The events of `scope` after `cursor` in this process's memory (where a stream
    /// catches up when there is no external store).
    pub fn since(&self, scope: &str, cursor: u64) -> Vec<Event> {
        self.memory.borrow_mut().since(scope, cursor, now_ms())
    }

    /// Asks the external store for `scope`'s events as they are recorded anywhere, until
    /// `signal` aborts; `false` when it cannot listen.
    pub fn listen(&self, scope: &str, on_event: &Function, signal: &AbortSignal) -> bool {
        let Some(External { store, listen: Some(listen), .. }) = &self.external else { return false };
        listen.call3(store, &scope.into(), on_event, signal).is_ok()
    }
}

impl External {
    /// The outcome of `op`, or `None` when the store threw, rejected or answered something else.
    async fn run(&self, op: &Op) -> Option<Outcome> {
        let answer = self.run.call1(&self.store, &op.to_json().into()).ok()?;
        let text = JsFuture::from(Promise::resolve(&answer)).await.ok()?.as_string()?;
        Outcome::from_json(&text)
    }
}

/// An event as a store's `listen` hands it over (an [`StoredEvent`]'s JSON).
pub fn event_of(text: &str) -> Option<Event> {
    crate::model::Value::parse(text).ok()?.decode::<StoredEvent>().ok().map(Event::from)
}

/// The proxy's shared state in this isolate's memory, for a store that serves several proxies
/// from one place: the Durable Object of js/proxy-durable.js runs every proxy's operations here.
#[wasm_bindgen(js_name = MemoryStore)]
pub struct MemoryStoreJs {
    state: RefCell<MemoryState>,
}

#[wasm_bindgen(js_class = MemoryStore)]
impl MemoryStoreJs {
    #[wasm_bindgen(constructor)]
    pub fn new() -> MemoryStoreJs {
        MemoryStoreJs { state: RefCell::new(MemoryState::new(now_ms())) }
    }

    /// Runs one operation's JSON (see `ProxyStore.run`) and gives its outcome's JSON: now, or
    /// at `atMs` (epoch milliseconds) when replaying a log; throws a `validation` error for
    /// text that is not an operation.
    pub fn run(&self, op: &str, #[wasm_bindgen(js_name = atMs)] at_ms: Option<f64>) -> Result<String, JsValue> {
        let op = read_op(op).ok_or_else(|| {
            crate::error::Error::validation("op", crate::error::IssueCode::Type, "is not an operation")
        })?;
        let outcome = self.state.borrow_mut().run(&op, at_ms.unwrap_or_else(now_ms));
        Ok(outcome.to_json())
    }

    /// Whether an operation's JSON is one a restarted store must run again (see `Op::lasts`):
    /// what the Durable Object writes to its log.
    pub fn lasts(op: &str) -> bool {
        read_op(op).is_some_and(|op| op.lasts())
    }

    /// How long a lasting operation counts, in milliseconds: its log keeps it that long.
    #[wasm_bindgen(js_name = lastingMs)]
    pub fn lasting_ms() -> f64 {
        super::super::shared::LASTING_MS
    }
}

/// An operation from its JSON, `None` when the text is not one.
fn read_op(text: &str) -> Option<Op> {
    crate::model::Value::parse(text).ok()?.decode().ok()
}

impl Default for MemoryStoreJs {
    fn default() -> Self {
        MemoryStoreJs::new()
    }
}
