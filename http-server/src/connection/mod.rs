//! How one connection lives: the server's per-connection state machine. Every state but
//! the handler's run is a [`Phase`] the connection can be parked in, costing a socket and a
//! buffer and no thread.
//!
//! ```text
//!  accept ──► Handshake ──(TLS done)──┐        (plain transports finish it at once)
//!                                     ▼
//!   ┌────────────────────────────► Head ◄──────────────── Write (then Head) ◄──────────┐
//!   │  no bytes: park (no buffer)    │ partial head: park, header timer                │
//!   │                                │ complete head ── bad head / Host / framing ──► error, Linger
//!   │                                ▼                                                 │
//!   │   body declared (buffered) ─► Body: bytes read as they arrive into a buffer      │
//!   │                                │     bounded by the body limit (100 Continue     │
//!   │                                │     first); timeout and minimum rate; 413/408   │
//!   │                                ▼ complete request                                │
//!   │   no worker slot ─────────► Queued: parked in the bounded queue (503 when full   │
//!   │                                │      or when the wait is over)                  │
//!   │                                ▼ a slot                                          │
//!   │                          [handler runs on a worker]  (streamed bodies and        │
//!   │                                │                      100-continue read here)    │
//!   │   Responder taken ────────► Waiting: until the answer comes from another thread  │
//!   │                                ▼        (the client leaving closes it)           │
//!   └── response written at once ◄── response: head and body handed to the engine ────┘
//!                                     (socket full: Write, parked until room; a stream
//!                                      with nothing queued: Write, idle, until its next
//!                                      chunk; a 101: the connection leaves the engine)
//!          close needed (a CloseReason says why): Linger (half-close, discard input) or close
//! ```
//!
//! A worker runs this machine only while the connection has something to do. Responses to
//! pipelined requests are gathered and written together.

mod body;
mod compose;
pub(crate) mod engine;
mod feed;
pub(crate) mod queue;
mod read;
mod respond;
mod serve;
mod upgrade;
mod write;

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::handler::context::Table;
pub use crate::handler::hooks::CloseReason;
use crate::handler::hooks::ErrorEvent;
use crate::io::head::HeadCache;
use crate::io::poller::Solo;
use crate::io::transport::{Connection, PeerAddr};
use crate::io::wire::ReadBuf;
use engine::Engine;

pub(crate) use body::BodyIn;
pub(crate) use serve::Admitted;
pub(crate) use write::{Out, OutBody};

use respond::{LateLog, Waiting};

/// Where a connection is in its life; every variant is a state it can be parked in.
pub(crate) enum Phase {
    /// The transport's handshake (TLS) is under way.
    Handshake,
    /// Reading request heads (idle between requests when nothing is buffered).
    Head,
    /// Reading a request body into a buffer.
    Body(Box<BodyIn>),
    /// A complete request waits for a worker.
    Queued(Box<Admitted>),
    /// A request waits for its answer from a responder.
    Waiting(Box<Waiting>),
    /// A response is being written as the socket takes it.
    Write(Box<Out>),
    /// Closing: input is read and dropped until the peer closes or time runs out.
    Linger(CloseReason),
}

/// One connection, owned by the connection table while parked and by a worker while served.
pub(crate) struct Conn {
    pub io: Box<dyn Connection>,
    pub peer: PeerAddr,
    /// Bytes received and not yet used, kept while parked (empty, with no allocation, when
    /// the connection is idle between requests).
    pub saved: Vec<u8>,
    pub deadline: Instant,
    /// When the head now being received was first seen incomplete.
    pub head_started: Option<Instant>,
    pub requests: u32,
    pub phase: Phase,
}

/// What a connection whose deadline passed while parked is told before it is closed.
const TIMED_OUT: &[u8] = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

impl Conn {
    pub(crate) fn new(io: Box<dyn Connection>, deadline: Instant) -> Conn {
        let peer = io.peer_addr();
        Conn {
            io,
            peer,
            saved: Vec::new(),
            deadline,
            head_started: None,
            requests: 0,
            // Plain transports finish their (empty) handshake at once.
            phase: Phase::Handshake,
        }
    }

    /// True while a request on it is not answered yet (its body is arriving, it waits for a
    /// worker or a responder, or its response is being written). A stream is not: it may
    /// never end, and a shutdown closes it.
    pub(crate) fn in_flight(&self) -> bool {
        match &self.phase {
            Phase::Body(_) | Phase::Queued(_) | Phase::Waiting(_) => true,
            Phase::Write(out) => !out.is_feed(),
            _ => false,
        }
    }

    /// The request record the connection holds while parked mid-request (its body
    /// arriving, queued, waiting for a responder, or its logged response going out).
    fn held_request(&mut self) -> Option<&mut http_utils::Request> {
        match &mut self.phase {
            Phase::Body(b) => Some(b.request_mut()),
            Phase::Queued(adm) => Some(&mut adm.request),
            Phase::Waiting(waiting) => waiting.request_mut(),
            Phase::Write(out) => out.logged_request_mut(),
            _ => None,
        }
    }

    /// True for a parked connection that is to be woken, not closed, at its deadline (a
    /// stream waiting for its next chunk: its keep-alive is due).
    pub(crate) fn wakes_at_deadline(&self) -> bool {
        matches!(&self.phase, Phase::Write(out) if out.is_idle())
    }

    /// What the connection was doing, for log lines.
    pub(crate) fn phase_name(&self) -> &'static str {
        match &self.phase {
            Phase::Handshake => "in its handshake",
            Phase::Head if self.head_started.is_some() => "sending a request head",
            Phase::Head => "idle",
            Phase::Body(_) => "sending a request body",
            Phase::Queued(_) => "queued for a worker",
            Phase::Waiting(_) => "waiting for a responder",
            Phase::Write(_) => "taking a response",
            Phase::Linger(_) => "lingering",
        }
    }

    /// True for a connection whose first request has not begun to arrive: a shutdown still
    /// reads it for a moment, as its request may be on its way (it was accepted before the
    /// listener closed).
    pub(crate) fn unheard(&self) -> bool {
        self.requests == 0
            && self.head_started.is_none()
            && self.saved.is_empty()
            && matches!(self.phase, Phase::Handshake | Phase::Head)
    }

    /// The bytes to send (best effort) to a connection closed at its deadline: a 408 for a
    /// request still arriving, nothing otherwise.
    pub(crate) fn expiry_notice(&self) -> Option<&'static [u8]> {
        match self.phase {
            Phase::Head if self.head_started.is_some() => Some(TIMED_OUT),
            Phase::Body(_) => Some(TIMED_OUT),
            _ => None,
        }
    }
}

/// What the worker does with a connection after driving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Wait in the poller for the next bytes (or room to write, or an answer), until
    /// `conn.deadline`. Only after a read or write would have blocked, or when the phase
    /// waits for something else than the socket.
    Park,
    /// Ready to go on (requests are buffered): queue it behind the others.
    Yield,
    /// Drive it again at once: its phase changed after the socket was last read.
    Again,
    /// Close now.
    Close(CloseReason),
}

/// What a worker shows the monitor and the server's handle, on a cache line of its own: only
/// that worker writes it, so a request costs no shared read-modify-write here.
#[repr(align(64))]
#[derive(Default)]
pub(crate) struct WorkerCell {
    /// A tag of the request being served, 0 when idle.
    pub(crate) busy: std::sync::atomic::AtomicU64,
    /// Requests answered by this worker.
    pub(crate) served: std::sync::atomic::AtomicU64,
}

/// A worker's reusable state.
pub(crate) struct Worker<'s> {
    pub engine: &'s Engine,
    pub rbuf: ReadBuf,
    pub wbuf: Vec<u8>,
    /// The `Date` and `Server` lines and the last head written, for the heads in `wbuf`.
    pub heads: HeadCache,
    /// A body to send after what `wbuf` holds (too large to copy there, or streamed).
    pub body: Option<OutBody>,
    /// The log record of the response whose body is in `body`.
    pub late_log: Option<LateLog>,
    /// A poller of the worker's own, for waits inside a request.
    pub solo: Solo,
    /// What this worker shows the monitor (marked busy while a request is served) and the
    /// count of requests it answered; without one, the engine's shared count is used.
    pub cell: Option<&'s WorkerCell>,
    pub busy_tag: u64,
    /// The key of the connection being driven.
    pub key: u64,
    /// A request record done with, whose buffers the next request head is parsed into.
    pub spare: Option<Box<http_utils::Request>>,
    /// The table the last request was served with, and its generation: taken again while
    /// the registry has not changed.
    pub table: Option<(u64, Arc<Table>)>,
    /// A handler slot (the request-count limit) taken for a request of the connection being
    /// driven and kept for the requests after it in the same turn (pipelined ones): given
    /// back when the turn ends ([`release_slot`](Worker::release_slot)), or at once when a
    /// request waits in the queue for one. Two locked instructions a turn, not a request.
    pub slot: bool,
}

impl<'s> Worker<'s> {
    pub(crate) fn new(engine: &'s Engine, id: u64) -> Worker<'s> {
        Worker {
            engine,
            rbuf: ReadBuf::new(),
            wbuf: Vec::with_capacity(8 * 1024),
            heads: HeadCache::new(&engine.site.server_name),
            body: None,
            late_log: None,
            solo: Solo::new(),
            cell: None,
            busy_tag: id << 40,
            key: 0,
            spare: None,
            table: None,
            slot: false,
        }
    }

    /// Takes a handler slot for a request: true when this turn holds one already or one is
    /// free (it is then held until [`release_slot`](Worker::release_slot)).
    #[inline]
    pub(crate) fn take_slot(&mut self) -> bool {
        if !self.slot {
            let limit = self.engine.settings.request_count_limit;
            let taken = self
                .engine
                .active
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1));
            self.slot = taken.is_ok();
        }
        self.slot
    }

    /// Gives back the handler slot this turn holds, if any; the request that waited
    /// longest in the queue is then scheduled.
    pub(crate) fn release_slot(&mut self) {
        if std::mem::take(&mut self.slot) {
            self.engine.active.fetch_sub(1, Ordering::AcqRel);
            if let Some(key) = self.engine.queue.pop() {
                self.engine.poller_of(key).resume(key);
            }
        }
    }

    /// The table to serve a request with: the one the worker holds while the registry has
    /// not changed since it was taken (no lock, no reference count), else a fresh one.
    pub(crate) fn take_table(&mut self) -> (u64, Arc<Table>) {
        match self.table.take() {
            Some((generation, table)) if generation == self.engine.registry.generation() => {
                (generation, table)
            }
            _ => self.engine.registry.snapshot_with_generation(),
        }
    }

    /// Gives back a table taken with [`take_table`](Worker::take_table) for the next request.
    pub(crate) fn give_back_table(&mut self, generation: u64, table: Arc<Table>) {
        if self.table.is_none() {
            self.table = Some((generation, table));
        }
    }

    fn mark_busy(&mut self) {
        if let Some(c) = self.cell {
            self.busy_tag += 1;
            c.busy.store(self.busy_tag, Ordering::Relaxed);
        }
    }

    /// Counts an answered request.
    fn count_request(&self) {
        use Ordering::Relaxed;
        match self.cell {
            // Single writer: a plain load and store, no locked instruction.
            Some(c) => c.served.store(c.served.load(Relaxed) + 1, Relaxed),
            None => {
                self.engine.requests.fetch_add(1, Relaxed);
            }
        }
    }

    fn mark_idle(&self) {
        if let Some(c) = self.cell {
            c.busy.store(0, Ordering::Relaxed);
        }
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        // A worker that unwinds mid-turn must not keep a slot from the others for good.
        self.release_slot();
    }
}

/// Serves a connection that the poller reported ready (or that was scheduled), until it
/// must wait or close. `hangup`: the report said the peer closed its side, so the end must
/// be read.
pub(crate) fn drive(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Outcome {
    w.rbuf.clear();
    w.wbuf.clear();
    w.body = None;
    if !conn.saved.is_empty() {
        w.rbuf.restore(&conn.saved);
        conn.saved = Vec::new();
    }
    let outcome = match std::mem::replace(&mut conn.phase, Phase::Head) {
        Phase::Linger(reason) => {
            conn.phase = Phase::Linger(reason);
            read::linger(w, conn, reason)
        }
        Phase::Handshake => match conn.io.handshake() {
            Ok(true) => {
                // A handshake may tell who the peer really is (the PROXY protocol).
                conn.peer = conn.io.peer_addr();
                read::http(w, conn)
            }
            Ok(false) => {
                conn.phase = Phase::Handshake;
                Outcome::Park
            }
            Err(e) => {
                hook_error(w.engine, &ErrorEvent::Handshake { peer: &conn.peer, error: &e });
                Outcome::Close(CloseReason::HandshakeFailed)
            }
        },
        Phase::Head => read::http(w, conn),
        Phase::Body(b) => {
            let step = body::advance(w, conn, b);
            read::after_step(w, conn, step)
        }
        Phase::Queued(adm) => {
            let step = serve::resume_queued(w, conn, *adm);
            read::after_step(w, conn, step)
        }
        // The client left while its answer was awaited or streamed: nobody will read it.
        Phase::Waiting(waiting) if hangup && waiting.unanswered() => {
            drop(waiting);
            Outcome::Close(CloseReason::ClientGone)
        }
        Phase::Write(out) if hangup && out.is_feed() => {
            drop(out);
            Outcome::Close(CloseReason::ClientGone)
        }
        Phase::Waiting(waiting) => {
            let step = respond::wait_for(w, conn, waiting);
            read::after_step(w, conn, step)
        }
        Phase::Write(out) => write::resume(w, conn, out),
    };
    // The slot goes back before the connection waits: a slot is held only while requests
    // are being served one after another.
    w.release_slot();
    if matches!(outcome, Outcome::Park | Outcome::Yield | Outcome::Again) {
        if !w.rbuf.is_empty() {
            conn.saved = w.rbuf.available().to_vec();
        }
        // A record held while the connection waits (maybe for long: a slow body, a
        // responder) needs no copy of its section for reparsing.
        if let Some(request) = conn.held_request() {
            request.release_section();
        }
    }
    outcome
}

/// What serving a request (or a phase of it) led to.
pub(crate) enum Step {
    /// Answered: the response is in the worker's buffers (`wbuf`, `body`); go on as `After`
    /// says.
    Answered(After),
    /// The body must be read first.
    Body(Box<BodyIn>),
    /// The connection's phase is set and it waits (`Park`) or gives way (`Yield`).
    Wait(Outcome),
}

/// What a served request leaves the connection fit for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Keep,
    Close(CloseReason),
    /// Close after discarding what the peer still sends (its request may not be over).
    Linger(CloseReason),
}

fn hook_error(engine: &Engine, event: &ErrorEvent<'_>) {
    event.log();
    if let Some(h) = engine.registry.snapshot().error_hook.clone() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(event)));
    }
}

/// True for the errors that mean "try again when the socket is ready".
fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests;
