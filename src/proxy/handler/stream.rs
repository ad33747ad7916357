//! The open `{prefix}/events` streams: a web `ReadableStream` per connection, fed the
//! replay at once, then the events recorded for its scope, and a keep-alive comment;
//! forgotten, timer and closures with it, when the client goes (the stream's `cancel`).
//! I/O only: what is written is decided in [`crate::proxy::events`].
//!
//! Each stream has a cursor (the last event it was given) and catches up from the buffer,
//! so an event is written once whichever path gets there first: the request that records
//! it (at once, where the platform lets one request write to another's stream: Node,
//! Deno), or the stream's own timer, in its own request (Workers forbid one request's I/O
//! on another's objects, and such a write breaks the stream, so there the timer is the
//! only way: see [`super::platform::shares_io_across_requests`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ReadableStream, ReadableStreamDefaultController};

use crate::proxy::events::{Events, HEARTBEAT};
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

    /// Writes the scope's events after the cursor, advancing it past each one written.
    fn catch_up(&self, events: &RefCell<Events>) {
        // The borrow ends before anything is written.
        let missed = events.borrow_mut().since(&self.scope, self.cursor.get(), now_ms());
        for event in missed {
            if !self.write(&event.to_sse()) {
                return;
            }
            self.cursor.set(event.seq());
        }
    }
}

/// One open connection.
struct Open {
    id: u64,
    feed: Rc<Feed>,
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
/// `cursor`, then the scope's later events, and [`HEARTBEAT`] after `heartbeat_ms` without a write.
pub fn open(
    streams: &Rc<RefCell<Streams>>,
    events: &Rc<RefCell<Events>>,
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
    let events = events.clone();
    // `start` is called once, from the constructor: a one-shot closure frees itself.
    let start = Closure::once_into_js(move |controller: ReadableStreamDefaultController| {
        let feed = Rc::new(Feed { scope, controller, cursor: Cell::new(cursor), written_ms: Cell::new(now_ms()) });
        if !first.is_empty() {
            feed.write(&first);
        }
        let ticking = feed.clone();
        let tick = Closure::<dyn FnMut()>::new(move || {
            ticking.catch_up(&events);
            if now_ms() - ticking.written_ms.get() >= f64::from(heartbeat_ms) {
                ticking.write(HEARTBEAT);
            }
        });
        let every = heartbeat_ms.min(MAX_POLL_MS);
        let timer = set_interval(tick.as_ref().unchecked_ref(), f64::from(every));
        on_start.borrow_mut().open.push(Open { id, feed, timer, _tick: tick });
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
    }
}

/// How many streams of `scope` are open.
pub fn open_of(streams: &RefCell<Streams>, scope: &str) -> usize {
    streams.borrow().open.iter().filter(|o| o.feed.scope == scope).count()
}

/// Gives every open stream of `scope` the events it has not had, at once where the
/// platform allows it (else its own timer will).
pub fn send(streams: &Rc<RefCell<Streams>>, events: &RefCell<Events>, scope: &str) {
    let feeds: Vec<Rc<Feed>> =
        streams.borrow().open.iter().filter(|o| o.feed.scope == scope).map(|o| o.feed.clone()).collect();
    for feed in feeds {
        feed.catch_up(events);
    }
}
