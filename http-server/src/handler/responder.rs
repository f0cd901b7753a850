//! Answers from other threads: a handler takes a [`Responder`], hands it to any thread and
//! returns; the worker goes on with other connections; the response is written when the
//! responder is used.
//!
//! ```text
//!  handler: cx.responder() ──► Pending (Waiting) ── handler returns ──► connection parked
//!                                  │                                    (Phase::Waiting,
//!   any thread: send(response) ────┤ Ready(response)                     pipelined bytes kept)
//!   deadline passes (monitor) ─────┤ Ready(503)                               │
//!   responder dropped unused ──────┤ Ready(500)                               │
//!   stream()/events() ─────────────┘ Ready(head + feed: the body follows)     │
//!                                  │ key pushed to its seat's poller,         │
//!                                  ▼ whose waker wakes the seat's worker      ▼
//!                     a worker takes the connection, writes the response, serves what follows
//! ```
//!
//! A settled `Pending` is never settled again: the first of send, deadline and drop wins.
//! When the connection goes away first (the client left, the server shut down, or its
//! safety deadline passed), the pending answer is abandoned: [`Responder::is_closed`] says so
//! and a later `send` returns the response to its caller.
//!
//! Responders waiting and streams alive count against the server's stream cap
//! ([`ServerBuilder::max_streams`](crate::ServerBuilder::max_streams)); past it, a responder
//! is born answered: the client gets 503 and `send` fails.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::handler::event::{EventSender, EVENTS_KEEP_ALIVE};
use crate::handler::response::Response;
use crate::handler::stream::{Feed, StreamError, StreamOptions, StreamSender, DEFAULT_EVENTS_KEEP_ALIVE};
use crate::io::lock;
use crate::io::poller::Poller;

/// What a waiting connection is answered with.
pub(crate) enum Verdict {
    /// The responder's response.
    Response(Box<Response>),
    /// The deadline passed: 503.
    TimedOut,
    /// The responder was dropped unused: 500.
    Dropped,
    /// The stream cap was reached when the responder was taken: 503.
    Overloaded,
    /// A streamed answer: this head, then the body the feed gets.
    Stream(Box<Response>, Arc<Feed>),
}

enum Slot {
    Waiting,
    Ready(Verdict),
    Done,
}

/// The answer a waiting connection expects, shared by the responder, the monitor (deadline)
/// and the worker that writes it.
pub(crate) struct Pending {
    slot: Mutex<Slot>,
    key: u64,
    /// The poller of the connection's seat.
    queue: Arc<Poller>,
    pub(crate) deadline: Instant,
    /// The connection went away before an answer was taken.
    closed: AtomicBool,
}

impl Pending {
    /// Settles the answer (first come wins) and schedules the connection; gives `v` back
    /// when it was settled already.
    fn settle(&self, v: Verdict) -> Result<(), Verdict> {
        {
            let mut slot = lock(&self.slot);
            if !matches!(*slot, Slot::Waiting) {
                return Err(v);
            }
            *slot = Slot::Ready(v);
        }
        self.queue.resume(self.key);
        Ok(())
    }

    /// The answer, once settled; `None` while waiting (or once taken).
    pub(crate) fn take(&self) -> Option<Verdict> {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Done) {
            Slot::Ready(v) => Some(v),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// True while no answer has been settled.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(*lock(&self.slot), Slot::Waiting)
    }

    /// Settles a 503 if the deadline has passed; true when the entry is finished with.
    pub(crate) fn expire(&self, now: Instant) -> bool {
        if !self.is_waiting() {
            return true;
        }
        now >= self.deadline && self.settle(Verdict::TimedOut).is_ok()
    }

    /// Nobody will take an answer any more: it was taken, or the connection is gone (then
    /// [`Responder::is_closed`] says so).
    pub(crate) fn abandon(&self) {
        let mut slot = lock(&self.slot);
        if !matches!(*slot, Slot::Done) {
            self.closed.store(true, Ordering::Release);
        }
        *slot = Slot::Done;
    }
}

/// Sends the response to one request from any thread; see
/// [`Context::responder`](crate::Context::responder).
///
/// `Send`, not `Clone`: exactly one answer. Dropping it unused answers 500; not using it
/// before its deadline answers 503.
///
/// ```
/// fn assert_send<T: Send>() {}
/// assert_send::<http_server::Responder>();
/// ```
pub struct Responder {
    pending: Option<Arc<Pending>>,
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder").field("open", &self.is_open()).finish()
    }
}

impl Responder {
    pub(crate) fn new(key: u64, queue: Arc<Poller>, deadline: Instant) -> (Responder, Arc<Pending>) {
        let pending = Arc::new(Pending {
            slot: Mutex::new(Slot::Waiting),
            key,
            queue,
            deadline,
            closed: AtomicBool::new(false),
        });
        (Responder { pending: Some(pending.clone()) }, pending)
    }

    /// A responder taken past the stream cap: its request is answered 503 at once.
    pub(crate) fn refused(key: u64, queue: Arc<Poller>, deadline: Instant) -> (Responder, Arc<Pending>) {
        let (mut responder, pending) = Responder::new(key, queue, deadline);
        let _ = pending.settle(Verdict::Overloaded);
        responder.pending = None;
        (responder, pending)
    }

    /// A responder that answers nothing (`send` fails).
    pub(crate) fn inert() -> Responder {
        Responder { pending: None }
    }

    /// Sends `response`. Any body works: bytes, a reader, or a writer that streams chunks
    /// ([`Response::from_writer`]; it then runs on a worker, which it holds while it writes).
    /// Status handlers shape it as any other response; [`Response::next`],
    /// [`Response::restart`] and [`Response::written`] make no sense here and become a 500.
    ///
    /// # Errors
    /// Gives the response back when nobody waits for it any more: the deadline passed (the
    /// client got 503), the connection closed, or the handler did not return
    /// [`Response::later`]-style (it wrote its response itself, or panicked).
    #[allow(clippy::result_large_err)] // the response comes back by value, as it was given
    pub fn send(mut self, response: Response) -> Result<(), Response> {
        let Some(pending) = self.pending.take() else { return Err(response) };
        pending.settle(Verdict::Response(Box::new(response))).map_err(|v| match v {
            Verdict::Response(r) => *r,
            _ => Response::new(500),
        })
    }

    /// Answers with a response whose body is fed from any thread: the server writes
    /// `head` (its status, content type and headers; its body is ignored) and then every
    /// chunk the returned sender queues, as the client takes them, with the connection
    /// parked in between: no worker and no thread is held while the stream lives. The body
    /// ends when the sender is dropped. The stream counts against
    /// [`ServerBuilder::max_streams`](crate::ServerBuilder::max_streams) while it lives.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/ticks", |cx| {
    ///     if let Ok(tx) = cx.responder().stream(Response::bytes("text/plain", "")) {
    ///         std::thread::spawn(move || {
    ///             for i in 0..3 {
    ///                 if tx.send(format!("tick {i}\n")).is_err() {
    ///                     return; // the client went away
    ///                 }
    ///             }
    ///         });
    ///     }
    ///     Response::later()
    /// });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StreamError::Closed`] when nobody waits for the answer any more (see
    /// [`send`](Responder::send)).
    pub fn stream(self, head: Response) -> Result<StreamSender, StreamError> {
        self.stream_with(head, StreamOptions::new())
    }

    /// Like [`stream`](Responder::stream), with a queue capacity of its own.
    ///
    /// # Errors
    /// As [`stream`](Responder::stream).
    pub fn stream_with(self, head: Response, options: StreamOptions) -> Result<StreamSender, StreamError> {
        self.start(head, options, None).map(StreamSender::new)
    }

    /// Answers with a `text/event-stream` (server-sent events, as `EventSource` reads them)
    /// fed from any thread; see [`stream`](Responder::stream). It is sent with
    /// `Cache-Control: no-cache` and `X-Accel-Buffering: no` (so that nginx passes events on
    /// at once), and a comment line after [`DEFAULT_EVENTS_KEEP_ALIVE`] of silence.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Event, Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/events", |cx| {
    ///     if let Ok(events) = cx.responder().events() {
    ///         std::thread::spawn(move || {
    ///             let _ = events.send(&Event::data("hello").id("1"));
    ///         });
    ///     }
    ///     Response::later()
    /// });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`stream`](Responder::stream).
    pub fn events(self) -> Result<EventSender, StreamError> {
        self.events_with(StreamOptions::new().keep_alive(Some(DEFAULT_EVENTS_KEEP_ALIVE)))
    }

    /// Like [`events`](Responder::events), with options of its own (the keep-alive interval
    /// among them).
    ///
    /// # Errors
    /// As [`stream`](Responder::stream).
    pub fn events_with(self, options: StreamOptions) -> Result<EventSender, StreamError> {
        self.events_head(Response::new(200), options)
    }

    /// Like [`events_with`](Responder::events_with), with a head of its own: its status and
    /// headers go out with the stream (a CORS or cookie header, a request id), its body is
    /// ignored. The content type becomes `text/event-stream`; `Cache-Control: no-cache` and
    /// `X-Accel-Buffering: no` are added unless the head names them.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Event, Response, Server, StreamOptions};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/events", |cx| {
    ///     let head = Response::new(200).with_header("X-Stream", "notes");
    ///     if let Ok(events) = cx.responder().events_head(head, StreamOptions::new()) {
    ///         let _ = events.try_send(&Event::data("hello"));
    ///     }
    ///     Response::later()
    /// });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`stream`](Responder::stream).
    pub fn events_head(self, head: Response, options: StreamOptions) -> Result<EventSender, StreamError> {
        let mut head = head.with_content_type("text/event-stream");
        for (name, value) in [("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")] {
            if head.headers().get(name).is_none() {
                head = head.with_header(name, value);
            }
        }
        self.start(head, options, Some(EVENTS_KEEP_ALIVE)).map(|f| EventSender::new(StreamSender::new(f)))
    }

    fn start(
        mut self,
        head: Response,
        options: StreamOptions,
        keep_alive: Option<&'static [u8]>,
    ) -> Result<Arc<Feed>, StreamError> {
        let Some(pending) = self.pending.take() else { return Err(StreamError::Closed) };
        let feed = Feed::new(pending.key, pending.queue.clone(), options, keep_alive);
        match pending.settle(Verdict::Stream(Box::new(head), feed.clone())) {
            Ok(()) => Ok(feed),
            Err(_) => Err(StreamError::Closed),
        }
    }

    /// True while a response is still awaited (not sent, not timed out, connection open).
    pub fn is_open(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.is_waiting())
    }

    /// True once the request's connection is gone before its answer was written: the
    /// client went away (closed, or half-closed, its connection while it waited), the
    /// server shut down, or the connection was cut at its safety deadline. A `send` then
    /// fails.
    pub fn is_closed(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.closed.load(Ordering::Acquire))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            let _ = p.settle(Verdict::Dropped);
        }
    }
}
