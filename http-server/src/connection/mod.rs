//! How one connection lives: the server's per-connection state machine. Every state but
//! a handler's run is a [`Phase`] the connection can be parked in, costing a socket and a
//! buffer and no thread. Each phase is a function that takes the connection and returns
//! the [`Next`] step; [`drive`] is one loop that owns every transition, so no phase calls
//! another.
//!
//! ```text
//!  accept ─► [Handshake] ─► [Head] ─► Admit ─► [Body] ─► Dispatch ─► [Queued] ─► Run
//!                             ▲                                                  │
//!                             │                       [Waiting] ◄─ a responder ──┤
//!                             │                           │                      ▼
//!                             └── kept (small answers ◄── Answered ◄─────────────┘
//!                                 gathered first)          │ else
//!                                                          ▼
//!                                                       [Write] ─► then: the next step
//!   closing: [Linger] ─► Close          after a 101: Upgrade (the connection leaves, or
//!                                       stays as a WebSocket: [Socket])
//!   [a phase]: where a connection can be parked (Park), or give way to others (Yield)
//!
//!  Next        run by              goes on to
//!  ─────────── ─────────────────── ───────────────────────────────────────────────────────
//!  Handshake   head::handshake     Head, Park(Handshake), Close
//!  Head        head::read          Admit, Answered (400, 408), Flush, Park(Head),
//!                                  Yield(Head), Close
//!  Admit       admit::admit        Dispatch, Body, Run (to refuse: 400, 413, 417, 503),
//!                                  Answered (400)
//!  Body        body::advance       Dispatch, Answered (400, 408, 413, 503), Run (the same
//!                                  refusals, when status handlers or middleware shape
//!                                  them), Park(Body), Yield(Body), Close
//!  Dispatch    queued::dispatch    Run, Park(Queued)
//!  Queued      queued::resume      Run, Park(Queued)
//!  Run         run::run            Answered, Waiting
//!  Waiting     waiting::resume     Answered, Park(Waiting)
//!  Answered    write::answered     Head (gathered), or as Write
//!  Flush       write::flush        Head, Park(Write), Close
//!  Write       write::resume       its `then` (Head, Body, Queued, Waiting, Yield, Linger,
//!                                  Close), Upgrade, Park(Write), Close
//!  Linger      linger::start       Park(Linger), Yield(Linger), Close
//!  Lingering   linger::drain       Park(Linger), Yield(Linger), Close
//!  Upgrade     upgrade::hand_over  Close (a thread takes it), Socket (a WebSocket)
//!  Socket      websocket::turn     Park(Socket), Yield(Socket), Linger, Close
//!  Park, Yield drive               the connection waits in its phase (what is gathered
//!                                  is written first); Close: it closes
//! ```
//!
//! A worker runs this machine only while the connection has something to do. Responses to
//! pipelined requests are gathered and written together. Every read and write is repeated
//! until the socket would block before the connection parks ([`crate::io::attempt`]).

mod admit;
mod answer;
mod body;
mod compose;
pub(crate) mod engine;
mod feed;
mod flight;
mod head;
mod linger;
mod log;
pub(crate) mod queue;
mod queued;
mod refusal;
mod respond;
mod run;
mod switch;
mod upgrade;
mod waiting;
mod websocket;
mod worker;
mod write;

use std::time::Instant;

pub use crate::handler::hooks::CloseReason;
use crate::handler::hooks::ErrorEvent;
use crate::io::transport::{Connection, PeerAddr};
use answer::{Answer, UpgradeJob};
use body::BodyIn;
use engine::Engine;
use flight::{InFlight, Waiting};
use websocket::Live;
use write::Out;

pub(crate) use worker::{Worker, WorkerCell};

/// Where a connection is in its life; every variant is a state it can be parked in.
pub(crate) enum Phase {
    /// The transport's handshake (TLS) is under way.
    Handshake,
    /// Reading request heads (idle between requests when nothing is buffered).
    Head,
    /// Reading a request body into a buffer.
    Body(Box<BodyIn>),
    /// A complete request waits for a handler slot.
    Queued(Box<InFlight>),
    /// A request waits for its answer from a responder.
    Waiting(Box<Waiting>),
    /// A response is being written as the socket takes it.
    Write(Box<Out>),
    /// Closing: input is read and dropped until the peer closes or time runs out.
    Linger(CloseReason),
    /// A WebSocket the engine holds, between messages.
    Socket(Box<Live>),
}

/// The step a connection takes next: what a phase function returns, and what [`drive`]
/// runs.
pub(crate) enum Next {
    /// Advance the transport's handshake.
    Handshake,
    /// Parse the next head in the read buffer, reading more when there is none.
    Head,
    /// A complete request head: decide how it is served.
    Admit(Box<InFlight>),
    /// Read the request's body into a buffer.
    Body(Box<BodyIn>),
    /// A complete request: run it if a handler slot is free, or queue it.
    Dispatch(Box<InFlight>),
    /// A queued request's turn (or a report for its connection).
    Queued(Box<InFlight>),
    /// Run the request's handler on this worker.
    Run(Box<InFlight>),
    /// See whether a responder's answer came.
    Waiting(Box<Waiting>),
    /// An answer is in the worker's buffer: gather it with the next ones, or write it.
    Answered(Answer),
    /// Write the answers gathered, then read heads again.
    Flush,
    /// Go on writing a response.
    Write(Box<Out>),
    /// Half-close, then read and drop what the peer still sends.
    Linger(CloseReason),
    /// Go on reading and dropping what a lingering peer sends.
    Lingering(CloseReason),
    /// The `101` is out: the connection goes to its upgrade handler.
    Upgrade(Box<UpgradeJob>),
    /// A turn of a WebSocket the engine holds.
    Socket(Box<Live>),
    /// Wait in this phase (its deadline set) for the socket or for what the phase awaits.
    Park(Phase),
    /// Give way to the other connections, and come back in this phase.
    Yield(Phase),
    /// Close the connection.
    Close(CloseReason),
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
    /// Registered for room to write as well as for input (see [`Conn::waits_for_room`]).
    pub watches_room: bool,
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
            watches_room: false,
        }
    }

    /// True while a request on it is not answered yet (its body is arriving, it waits for a
    /// worker or a responder, or its response is being written). A stream is not, as it may
    /// never end, until a shutdown has begun to end it (see [`Conn::winds_down`]); a
    /// WebSocket is once its closing handshake has begun.
    pub(crate) fn in_flight(&self) -> bool {
        match &self.phase {
            Phase::Body(_) | Phase::Queued(_) | Phase::Waiting(_) => true,
            Phase::Write(out) => !out.is_feed() || out.is_ending(),
            Phase::Socket(live) => live.is_closing(),
            _ => false,
        }
    }

    /// True for a long-lived answer that a shutdown ends in good order rather than cutting
    /// it: a stream is woken to send its last chunk (after what is queued and its
    /// farewell), a WebSocket not yet closing to start its closing handshake (1001).
    pub(crate) fn winds_down(&self) -> bool {
        match &self.phase {
            Phase::Write(out) => out.is_feed() && !out.is_ending(),
            Phase::Socket(live) => !live.is_closing(),
            _ => false,
        }
    }

    /// The request record the connection holds while parked mid-request (its body
    /// arriving, queued, waiting for a responder, or its logged response going out).
    fn held_request(&mut self) -> Option<&mut http_utils::Request> {
        match &mut self.phase {
            Phase::Body(b) => Some(b.request_mut()),
            Phase::Queued(f) => Some(&mut f.request),
            Phase::Waiting(waiting) => Some(&mut waiting.flight.request),
            Phase::Write(out) => out.logged_request_mut(),
            _ => None,
        }
    }

    /// True when the connection, parked, waits for room to write: a response the socket
    /// would not take, or a handshake with output of its own.
    fn waits_for_room(&self) -> bool {
        match &self.phase {
            Phase::Write(out) => !out.is_idle(),
            Phase::Handshake => self.io.wants_write(),
            Phase::Socket(live) => live.waits_for_room(),
            _ => false,
        }
    }

    /// True for a parked connection that is to be woken, not closed, at its deadline (a
    /// stream waiting for its next chunk: its keep-alive is due).
    pub(crate) fn wakes_at_deadline(&self) -> bool {
        match &self.phase {
            Phase::Write(out) => out.is_idle(),
            // A WebSocket keeps its own clocks (pings, the closing handshake, writes).
            Phase::Socket(_) => true,
            _ => false,
        }
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
            Phase::Socket(_) => "a WebSocket",
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
    /// Ready to go on (requests or bytes are buffered): queue it behind the others.
    Yield,
    /// Close now.
    Close(CloseReason),
}

/// Serves a connection that the poller reported ready (or that was scheduled), until it
/// must wait or close. `hangup`: the report said the peer closed its side.
pub(crate) fn drive(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Outcome {
    let mut next = begin_turn(w, conn, hangup);
    let outcome = loop {
        next = match next {
            Next::Handshake => head::handshake(w, conn),
            Next::Head => head::read(w, conn),
            Next::Admit(request) => admit::admit(w, conn, request),
            // Answers to the requests before it go first (a 100 Continue must not pass them).
            Next::Body(b) if w.has_output() => write::flush(w, conn, Next::Body(b)),
            Next::Body(b) => body::advance(w, conn, b),
            Next::Dispatch(f) => queued::dispatch(w, conn, f),
            Next::Queued(f) => queued::resume(w, conn, f),
            Next::Run(f) => run::run(w, conn, f),
            Next::Waiting(waiting) => waiting::resume(w, conn, waiting),
            Next::Answered(answer) => write::answered(w, conn, answer),
            Next::Flush => write::flush(w, conn, Next::Head),
            Next::Write(out) => write::resume(w, conn, out),
            Next::Linger(reason) => linger::start(w, conn, reason),
            Next::Lingering(reason) => linger::drain(w, conn, reason),
            Next::Upgrade(job) => upgrade::hand_over(w, conn, *job),
            Next::Socket(live) => websocket::turn(w, conn, live),
            // What is gathered goes out before the connection waits; once it is out, the
            // phase looks again at what it waits for (it may have come meanwhile).
            Next::Park(phase) if w.has_output() => write::flush(w, conn, resume(phase, false)),
            Next::Yield(phase) if w.has_output() => write::flush(w, conn, Next::Yield(phase)),
            Next::Park(phase) => {
                conn.phase = phase;
                break Outcome::Park;
            }
            Next::Yield(phase) => {
                conn.phase = phase;
                break Outcome::Yield;
            }
            Next::Close(reason) => break Outcome::Close(reason),
        };
    };
    end_turn(w, conn, outcome)
}

/// Sets the worker up for a turn of `conn`: its buffers empty but for the bytes the
/// connection kept; the step that takes it on from where it was parked.
fn begin_turn(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Next {
    w.rbuf.clear();
    w.wbuf.clear();
    w.heads_read = 0;
    w.hangup = hangup;
    w.drained = false;
    w.idle_at_start =
        matches!(conn.phase, Phase::Head) && conn.saved.is_empty() && conn.head_started.is_none();
    if !conn.saved.is_empty() {
        w.rbuf.restore(&conn.saved);
        conn.saved = Vec::new();
    }
    let phase = std::mem::replace(&mut conn.phase, Phase::Head);
    resume(phase, hangup)
}

/// Ends a turn: the handler slot given back, and a connection that waits registered for
/// what it waits for, with the bytes it has not used.
fn end_turn(w: &mut Worker<'_>, conn: &mut Conn, outcome: Outcome) -> Outcome {
    // The slot goes back before the connection waits (if no answer was written, which
    // gave it back already): a slot is held only while requests are served one after another.
    w.release_slot();
    if matches!(outcome, Outcome::Park) && !watch(w, conn) {
        return Outcome::Close(CloseReason::WriteFailed);
    }
    if !matches!(outcome, Outcome::Close(_)) {
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

/// Registers a connection that parks for room to write when it waits for it, and for
/// input alone again when it no longer does; false when the poller refuses. Only a change
/// costs a system call.
fn watch(w: &mut Worker<'_>, conn: &mut Conn) -> bool {
    if w.solo.take_moved() {
        // A handler's wait on the connection registered it for input alone.
        conn.watches_room = false;
    }
    let room = conn.waits_for_room();
    if room != conn.watches_room {
        if w.engine.poller_of(w.key).watch(conn.io.source(), w.key, room).is_err() {
            return false;
        }
        conn.watches_room = room;
    }
    true
}

/// The step that takes a connection parked in `phase` on.
fn resume(phase: Phase, hangup: bool) -> Next {
    match phase {
        Phase::Handshake => Next::Handshake,
        Phase::Head => Next::Head,
        Phase::Body(b) => Next::Body(b),
        Phase::Queued(f) => Next::Queued(f),
        // The client left while its answer was awaited or streamed: nobody will read it.
        Phase::Waiting(waiting) if hangup && waiting.unanswered() => Next::Close(CloseReason::ClientGone),
        Phase::Waiting(waiting) => Next::Waiting(waiting),
        Phase::Write(out) if hangup && out.is_feed() => Next::Close(CloseReason::ClientGone),
        Phase::Write(out) => Next::Write(out),
        Phase::Linger(reason) => Next::Lingering(reason),
        Phase::Socket(live) => Next::Socket(live),
    }
}

fn hook_error(engine: &Engine, event: &ErrorEvent<'_>) {
    event.log();
    if let Some(h) = engine.registry.snapshot().error_hook.clone() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(event)));
    }
}

#[cfg(test)]
mod tests;
