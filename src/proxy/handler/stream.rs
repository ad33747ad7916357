//! The open `{prefix}/events` streams: a web `ReadableStream` per connection, fed the
//! replay at once, then the events recorded for its scope, and a keep-alive comment;
//! forgotten, timer and closures with it, when the client goes (the stream's `cancel`).
//! I/O only: what is written is decided in [`crate::proxy::events`].
//!
//! Each stream has a cursor (the last event it was given), so an event is written once
//! whichever path gets there first. Its events come from one of two sources:
//! - this process's memory (no shared store): the request that records an event writes it
//!   at once where the platform lets one request write to another's stream (Node, Deno), and
//!   the stream's own timer catches up from the buffer in its own request (Workers forbid one
//!   request's I/O on another's objects, and such a write breaks the stream: see
//!   [`super::platform::shares_io_across_requests`]);
//! - a shared store's `listen` (Redis, a Durable Object): the stream's own subscription, whose
//!   events arrive in the stream's own request and are written at once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, ReadableStream, ReadableStreamDefaultController};

use super::shared_store::{event_of, SharedStore};
use crate::proxy::events::{Event, HEARTBEAT};
use crate::transport::now_ms;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setInterval)]
    fn set_interval(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval(id: &JsValue);
}

/// The longest a stream's own timer waits to look for events it has not been given.
const MAX_POLL_MS: u32 = 1000;

/// Chunks a stream may have queued unread (a client that stopped reading) before the
/// proxy stops writing to it: its memory is the proxy's. The client reconnects with
/// `Last-Event-ID` when it reads again.
const MAX_QUEUED_CHUNKS: f64 = 1000.0;

/// What both writers of one stream share.
struct Feed {
    scope: String,
    controller: ReadableStreamDefaultController,
    /// The [`crate::proxy::events::Event::seq`] of the last event written.
    cursor: Cell<u64>,
    /// When anything was last written, for the heartbeat.
    written_ms: Cell<f64>,
}

impl Feed {
    /// Writes text as one UTF-8 chunk; `false` when the stream does not take it (closed,
    /// or another request's on a platform that forbids it).
    fn write(&self, text: &str) -> bool {
        if self.controller.desired_size().is_some_and(|size| size < -MAX_QUEUED_CHUNKS) {
            return false;
        }
        let written = self.controller.enqueue_with_chunk(&Uint8Array::from(text.as_bytes())).is_ok();
        if written {
            self.written_ms.set(now_ms());
        }
        written
    }

    /// Writes the scope's events after the cursor from `source`, advancing it past each one written.
    fn catch_up(&self, source: &Source) {
        let missed = match source {
            Source::Memory(shared) => shared.since(&self.scope, self.cursor.get()),
            Source::Listened(listener) => listener.queue.take(),
        };
        for event in missed {
            if event.seq() <= self.cursor.get() {
                continue;
            }
            if !self.write(&event.to_sse()) {
                return;
            }
            self.cursor.set(event.seq());
        }
    }
}

/// What a store's `listen` calls with each event's JSON.
type OnEvent = Closure<dyn FnMut(String)>;

/// Where a stream's events come from.
pub enum Source {
    /// This process's memory.
    Memory(Rc<SharedStore>),
    /// The stream's own subscription to a shared store.
    Listened(Rc<Listener>),
}

/// A stream's subscription to the shared store's events of its scope: events queue here until
/// the stream is open, then are written as they come.
pub struct Listener {
    queue: RefCell<Vec<Event>>,
    feed: RefCell<Option<Rc<Feed>>>,
    controller: AbortController,
    /// Set once the store listens; the closure holds the listener weakly.
    on_event: RefCell<Option<OnEvent>>,
}

impl Listener {
    /// Subscribes to `scope`'s events, or `None` when the store cannot listen.
    pub fn start(shared: &SharedStore, scope: &str) -> Option<Rc<Listener>> {
        let controller = AbortController::new().ok()?;
        let listener = Rc::new(Listener {
            queue: RefCell::default(),
            feed: RefCell::default(),
            controller,
            on_event: RefCell::default(),
        });
        // A weak reference: the stream owns the listener, and the closure must not keep it.
        let weak = Rc::downgrade(&listener);
        let on_event = OnEvent::new(move |text: String| {
            let (Some(listener), Some(event)) = (weak.upgrade(), event_of(&text)) else { return };
            listener.queue.borrow_mut().push(event);
            let feed = listener.feed.borrow().clone();
            if let Some(feed) = feed {
                feed.catch_up(&Source::Listened(listener.clone()));
            }
        });
        let signal = listener.controller.signal();
        if !shared.listen(scope, on_event.as_ref().unchecked_ref(), &signal) {
            return None;
        }
        *listener.on_event.borrow_mut() = Some(on_event);
        Some(listener)
    }

    /// Ends the subscription.
    fn stop(&self) {
        self.controller.abort();
        self.feed.borrow_mut().take();
    }
}

/// One open connection.
struct Open {
    id: u64,
    feed: Rc<Feed>,
    source: Rc<Source>,
    timer: JsValue,
    /// Kept alive as long as the timer calls it; dropped after `clearInterval`.
    _tick: Closure<dyn FnMut()>,
}

/// Every open stream of the handler.
#[derive(Default)]
pub struct Streams {
    next: u64,
    open: Vec<Open>,
}

/// Opens a stream for `scope`: `first` (the replay) at once, whose last event is
/// `cursor`, then the scope's later events from `source`, and [`HEARTBEAT`] after
/// `heartbeat_ms` without a write.
pub fn open(
    streams: &Rc<RefCell<Streams>>,
    source: Source,
    scope: String,
    first: String,
    cursor: u64,
    heartbeat_ms: u32,
) -> Option<ReadableStream> {
    let id = {
        let mut all = streams.borrow_mut();
        all.next += 1;
        all.next
    };
    let on_start = streams.clone();
    let source = Rc::new(source);
    // `start` is called once, from the constructor: a one-shot closure frees itself.
    let start = Closure::once_into_js(move |controller: ReadableStreamDefaultController| {
        let feed = Rc::new(Feed { scope, controller, cursor: Cell::new(cursor), written_ms: Cell::new(now_ms()) });
        if !first.is_empty() {
            feed.write(&first);
        }
        if let Source::Listened(listener) = &*source {
            // What came while the replay was read, then everything as it comes.
            *listener.feed.borrow_mut() = Some(feed.clone());
            feed.catch_up(&source);
        }
        let (ticking, ticking_source) = (feed.clone(), source.clone());
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Source::Memory(_) = &*ticking_source {
                ticking.catch_up(&ticking_source);
            }
            if now_ms() - ticking.written_ms.get() >= f64::from(heartbeat_ms) {
                ticking.write(HEARTBEAT);
            }
        });
        let every = heartbeat_ms.min(MAX_POLL_MS);
        let timer = set_interval(tick.as_ref().unchecked_ref(), f64::from(every));
        on_start.borrow_mut().open.push(Open { id, feed, source, timer, _tick: tick });
    });
    let on_cancel = streams.clone();
    // The client went away: the connection's timer stops and its closures are freed.
    let cancel = Closure::once_into_js(move |_reason: JsValue| close(&on_cancel, id));
    let source = Object::new();
    Reflect::set(&source, &"start".into(), &start).ok()?;
    Reflect::set(&source, &"cancel".into(), &cancel).ok()?;
    let stream = ReadableStream::new_with_underlying_source(&source).ok();
    if stream.is_none() {
        close(streams, id);
    }
    stream
}

/// Forgets stream `id` and stops its timer.
fn close(streams: &Rc<RefCell<Streams>>, id: u64) {
    // The borrow ends before the closure is dropped.
    let removed = {
        let mut all = streams.borrow_mut();
        all.open.iter().position(|o| o.id == id).map(|at| all.open.swap_remove(at))
    };
    if let Some(open) = removed {
        clear_interval(&open.timer);
        if let Source::Listened(listener) = &*open.source {
            listener.stop();
        }
    }
}

/// How many streams of `scope` are open.
pub fn open_of(streams: &RefCell<Streams>, scope: &str) -> usize {
    streams.borrow().open.iter().filter(|o| o.feed.scope == scope).count()
}

/// Gives every open stream of `scope` fed from memory the events it has not had, at once
/// where the platform allows it (else its own timer will).
pub fn send(streams: &Rc<RefCell<Streams>>, scope: &str) {
    let open: Vec<(Rc<Feed>, Rc<Source>)> = streams
        .borrow()
        .open
        .iter()
        .filter(|o| o.feed.scope == scope && matches!(*o.source, Source::Memory(_)))
        .map(|o| (o.feed.clone(), o.source.clone()))
        .collect();
    for (feed, source) in open {
        feed.catch_up(&source);
    }
}
