//! The open `{prefix}/events` streams: a web `ReadableStream` per connection, fed the
//! replay at once, then each event recorded for its scope, and a keep-alive comment on a
//! timer; forgotten, timer and closures with it, when the client goes (the stream's
//! `cancel`). I/O only: what is written is decided in [`crate::proxy::events`].

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ReadableStream, ReadableStreamDefaultController};

use crate::proxy::events::HEARTBEAT;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setInterval)]
    fn set_interval(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval(id: &JsValue);
}

/// Chunks a stream may have queued unread (a client that stopped reading) before the
/// proxy ends it: its memory is the proxy's, and the client can reconnect with
/// `Last-Event-ID` when it reads again.
const MAX_QUEUED_CHUNKS: f64 = 1000.0;

/// One open connection.
struct Open {
    id: u64,
    /// The scope prefix of the caller's jobs: the events it gets.
    scope: String,
    controller: ReadableStreamDefaultController,
    timer: JsValue,
    /// Kept alive as long as the timer calls it; dropped after `clearInterval`.
    _tick: Closure<dyn FnMut()>,
}

impl Open {
    /// Stops the heartbeat; the closure goes with `self`.
    fn stop(self) {
        clear_interval(&self.timer);
    }
}

/// Every open stream of the handler.
#[derive(Default)]
pub struct Streams {
    next: u64,
    open: Vec<Open>,
}

/// Writes text to a stream as one UTF-8 chunk; `false` when the stream no longer takes it.
fn write(controller: &ReadableStreamDefaultController, text: &str) -> bool {
    controller.enqueue_with_chunk(&Uint8Array::from(text.as_bytes())).is_ok()
}

/// Opens a stream for `scope`: `first` (the replay) at once, then whatever
/// [`send`] gives the scope, and [`HEARTBEAT`] every `heartbeat_ms`.
pub fn open(streams: &Rc<RefCell<Streams>>, scope: String, first: String, heartbeat_ms: u32) -> Option<ReadableStream> {
    let id = {
        let mut all = streams.borrow_mut();
        all.next += 1;
        all.next
    };
    let on_start = streams.clone();
    // `start` is called once, from the constructor: a one-shot closure frees itself.
    let start = Closure::once_into_js(move |controller: ReadableStreamDefaultController| {
        if !first.is_empty() {
            write(&controller, &first);
        }
        let beating = controller.clone();
        let tick = Closure::<dyn FnMut()>::new(move || {
            write(&beating, HEARTBEAT);
        });
        let timer = set_interval(tick.as_ref().unchecked_ref(), f64::from(heartbeat_ms));
        on_start.borrow_mut().open.push(Open { id, scope, controller, timer, _tick: tick });
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

/// Forgets stream `id` and stops its heartbeat.
fn close(streams: &Rc<RefCell<Streams>>, id: u64) {
    // The borrow ends before the closure is dropped.
    let removed = {
        let mut all = streams.borrow_mut();
        all.open.iter().position(|o| o.id == id).map(|at| all.open.swap_remove(at))
    };
    if let Some(open) = removed {
        open.stop();
    }
}

/// Writes `text` to every open stream of `scope`. A stream that takes no more, or has
/// too much unread, is closed.
pub fn send(streams: &Rc<RefCell<Streams>>, scope: &str, text: &str) {
    let targets: Vec<(u64, ReadableStreamDefaultController)> =
        streams.borrow().open.iter().filter(|o| o.scope == scope).map(|o| (o.id, o.controller.clone())).collect();
    for (id, controller) in targets {
        let backed_up = controller.desired_size().is_some_and(|size| size < -MAX_QUEUED_CHUNKS);
        if backed_up || !write(&controller, text) {
            let _ = controller.close();
            close(streams, id);
        }
    }
}
