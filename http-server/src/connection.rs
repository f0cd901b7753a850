//! How one connection lives: the server's per-connection state machine.
//!
//! ```text
//!  accept ──► [Handshake] ──(TLS done)──┐       (plain transports start in ReadHead)
//!                 │ WouldBlock: park     │
//!                 ▼                      ▼
//!            ┌──────────────► [ReadHead] ◄─────────────────────────────┐
//!            │  bytes arrive    │   │ no bytes: park (buffer freed)     │
//!            │  (poller wakes)  │   │ partial head: park, header timer  │
//!            │                  │   ▼                                   │
//!            └────── parked ◄───┘ complete head                         │
//!                                   │ bad head / Host / framing ──► error response ──► Linger
//!                                   ▼                                   │
//!                    [Dispatch] (100 Continue only when the body is read)
//!                       │ method handler → resource → fallback; a panic is one 500
//!                       ▼                                               │
//!                 [FinishBody] unread body: drain a little, else close  │
//!                       ▼                                               │
//!                 [WriteResponse] Content-Length / chunked / until close │
//!                       │ keep-alive allowed? ──── yes, next request ───┘
//!                       ▼ no (a CloseReason says why)
//!                    [Close] or [Linger]: half-close, discard input until EOF or timeout
//! ```
//!
//! A worker runs this loop only while the connection has something to do; a connection
//! waiting for bytes is parked in the poller and costs no thread. Responses to pipelined
//! requests are gathered and written together.

use std::any::Any;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http_utils::io::{drain, BodyReader, ChunkedWriter};
use http_utils::{
    check_host, parse_request_head, request_framing, Framing, Headers, Method, Parsed, Request, Version,
};

use crate::context::{Context, WrittenHead};
use crate::dispatch::dispatch;
use crate::head::{write_head, BodyFraming, ConnectionField, Head};
use crate::hooks::{ErrorEvent, LogRecord};
use crate::poller::Solo;
use crate::registry::{Args, Content, Table};
use crate::responder::{Pending, Verdict};
use crate::response::{Pass, Response, ResponseBody};
use crate::route::Captures;
use crate::server::Shared;
use crate::slab::Expiring;
use crate::transport::{Connection, PeerAddr};
use crate::wire::{ReadBuf, Wire, READ_BUF};

/// At most this much of an unread request body is read and dropped to keep a connection.
const DRAIN_MAX: u64 = 64 * 1024;
/// A connection with more pipelined requests than this goes to the back of the queue, so one
/// busy client cannot keep a worker from the others.
const REQUESTS_PER_TURN: u32 = 64;

/// Why a connection was closed. Keep-alive is the absence of a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer closed its side between requests.
    PeerClosed,
    /// The peer closed its side in the middle of a request head.
    TruncatedHead,
    /// Reading failed.
    ReadFailed,
    /// Writing failed or timed out.
    WriteFailed,
    /// A request head did not arrive within the header timeout.
    HeaderTimeout,
    /// The connection stayed idle longer than the keep-alive timeout.
    IdleTimeout,
    /// The request asked for it (`Connection: close`, or HTTP/1.0 without keep-alive).
    RequestedByClient,
    /// The handler asked for it ([`Response::with_close`]).
    RequestedByHandler,
    /// The response body is delimited by closing the connection.
    ResponseUntilClose,
    /// The request was malformed or its framing is in doubt.
    BadRequest,
    /// The request body was not read and could not be skipped.
    UnreadBody,
    /// Reading the request body failed (too large, malformed, timed out).
    BodyFailed,
    /// The connection served its maximum number of requests.
    RequestLimit,
    /// The server is shutting down.
    ShuttingDown,
    /// A handler panicked after writing part of its response.
    HandlerPanicked,
    /// The TLS handshake failed or timed out.
    HandshakeFailed,
    /// The server is at its connection limit.
    Overloaded,
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Handshake,
    Http,
    /// A request waits for its answer from a responder.
    Waiting,
    Linger,
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
    /// Why a lingering connection is closing.
    pub reason: Option<CloseReason>,
    /// The request waiting for a responder, in `Phase::Waiting`.
    pub waiting: Option<Box<Waiting>>,
}

impl Expiring for Conn {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn in_flight(&self) -> bool {
        self.phase == Phase::Waiting
    }
}

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
            reason: None,
            waiting: None,
        }
    }
}

/// What the worker does with a connection after driving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Wait in the poller for the next bytes (or room to write), until `conn.deadline`. Only
    /// after a read came back short or would have blocked.
    Park,
    /// Ready to go on (requests are buffered): queue it behind the others.
    Yield,
    /// Close now.
    Close(CloseReason),
}

/// A worker's reusable state.
pub(crate) struct Worker<'s> {
    pub shared: &'s Shared,
    pub rbuf: ReadBuf,
    pub wbuf: Vec<u8>,
    /// A poller of the worker's own, for waits inside a request.
    pub solo: Solo,
    /// The busy cell of the seat this worker holds, marked while a request is served.
    pub busy: Option<&'s AtomicU64>,
    pub busy_tag: u64,
    /// The key of the connection being driven.
    pub key: u64,
}

impl<'s> Worker<'s> {
    pub(crate) fn new(shared: &'s Shared, id: u64) -> Worker<'s> {
        Worker {
            shared,
            rbuf: ReadBuf::new(),
            wbuf: Vec::with_capacity(8 * 1024),
            solo: Solo::new(),
            busy: None,
            busy_tag: id << 40,
            key: 0,
        }
    }

    fn mark_busy(&mut self) {
        if let Some(b) = self.busy {
            self.busy_tag += 1;
            b.store(self.busy_tag, Ordering::Relaxed);
        }
    }

    fn mark_idle(&self) {
        if let Some(b) = self.busy {
            b.store(0, Ordering::Relaxed);
        }
    }
}

/// Serves a connection that the poller reported ready, until it must wait or close.
/// `hangup`: the report said the peer closed its side, so the end must be read.
pub(crate) fn drive(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Outcome {
    w.rbuf.clear();
    w.wbuf.clear();
    if !conn.saved.is_empty() {
        w.rbuf.restore(&conn.saved);
        conn.saved = Vec::new();
    }
    let outcome = match conn.phase {
        Phase::Linger => linger(w, conn),
        Phase::Handshake => match conn.io.handshake() {
            Ok(true) => {
                conn.phase = Phase::Http;
                http(w, conn, hangup)
            }
            Ok(false) => Outcome::Park,
            Err(e) => {
                hook_error(w.shared, &ErrorEvent::Handshake { peer: &conn.peer, error: &e });
                Outcome::Close(CloseReason::HandshakeFailed)
            }
        },
        Phase::Http => http(w, conn, hangup),
        Phase::Waiting => resume(w, conn, hangup),
    };
    if matches!(outcome, Outcome::Park | Outcome::Yield) && !w.rbuf.is_empty() {
        conn.saved = w.rbuf.available().to_vec();
    }
    outcome
}

fn hook_error(shared: &Shared, event: &ErrorEvent<'_>) {
    if let Some(h) = shared.registry.snapshot().error_hook.clone() {
        let _ = catch_unwind(AssertUnwindSafe(|| h(event)));
    }
}

/// Discards input of a half-closed connection until the peer closes or time runs out.
fn linger(w: &mut Worker<'_>, conn: &mut Conn) -> Outcome {
    let reason = conn.reason.unwrap_or(CloseReason::BadRequest);
    for _ in 0..64 {
        w.rbuf.clear();
        match w.rbuf.read_from(&mut *conn.io, READ_BUF) {
            Ok((0, _)) => return Outcome::Close(reason),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                w.rbuf.clear();
                return Outcome::Park;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Outcome::Close(reason),
        }
    }
    // Not drained yet: come back after the others had their turn.
    w.rbuf.clear();
    Outcome::Yield
}

/// What serving one request left the connection fit for.
enum After {
    Keep,
    Close(CloseReason),
    /// Close after discarding what the peer still sends (its request may not be over).
    Linger(CloseReason),
    /// The answer comes from a responder: park until it is ready.
    Wait(Box<Waiting>),
}

fn flush(w: &mut Worker<'_>, conn: &mut Conn) -> io::Result<()> {
    let mut wire = Wire::new(&mut *conn.io, &mut w.rbuf, &mut w.wbuf, &mut w.solo, w.key, w.shared);
    wire.flush()
}

/// Ends a connection as a settled request left it: `None` for `Keep` (go on with the next
/// request), otherwise the outcome after flushing what is written. A `Wait` here (an answer
/// that asks to wait again) cannot be honoured and closes the connection.
fn settle(w: &mut Worker<'_>, conn: &mut Conn, after: After) -> Option<Outcome> {
    match after {
        After::Keep => None,
        After::Close(reason) => {
            let _ = flush(w, conn);
            Some(Outcome::Close(reason))
        }
        After::Linger(reason) => Some(if flush(w, conn).is_err() {
            Outcome::Close(CloseReason::WriteFailed)
        } else {
            start_linger(w, conn, reason)
        }),
        After::Wait(_) => Some(Outcome::Close(CloseReason::WriteFailed)),
    }
}

fn start_linger(w: &mut Worker<'_>, conn: &mut Conn, reason: CloseReason) -> Outcome {
    conn.io.shutdown_write();
    conn.phase = Phase::Linger;
    conn.reason = Some(reason);
    conn.deadline = w.shared.clock.now() + w.shared.config.timeouts.linger;
    // Read what is already there, so that parking waits for new bytes (or the end).
    linger(w, conn)
}

fn http(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Outcome {
    let shared = w.shared;
    let limits = shared.config.limits;
    let max_buffer = limits.max_head + READ_BUF;
    if let Some(t) = conn.head_started {
        if shared.clock.now().saturating_duration_since(t) >= shared.config.timeouts.header {
            let _ = error_response(w, 408, "Request Timeout", Version::Http11);
            let _ = flush(w, conn);
            return Outcome::Close(CloseReason::HeaderTimeout);
        }
    }
    // The last read left the socket empty: park instead of trying another read.
    let mut drained = false;
    let mut served = 0;
    loop {
        while !w.rbuf.is_empty() {
            if served == REQUESTS_PER_TURN {
                if flush(w, conn).is_err() {
                    return Outcome::Close(CloseReason::WriteFailed);
                }
                return Outcome::Yield;
            }
            match parse_request_head(w.rbuf.available(), &limits) {
                Ok(Parsed::Complete { value, used }) => {
                    served += 1;
                    w.rbuf.consume(used);
                    conn.head_started = None;
                    let after = match serve(w, conn, value) {
                        After::Wait(waiting) => {
                            // The answer may be settled already (a responder used at once):
                            // then it is written here and the loop goes on.
                            let ready = waiting.pending.take();
                            let Some(verdict) = ready else {
                                if flush(w, conn).is_err() {
                                    return Outcome::Close(CloseReason::WriteFailed);
                                }
                                // A safety net: the monitor answers 503 at the responder's
                                // deadline; a connection still waiting well after is closed.
                                conn.deadline = waiting.pending.deadline + shared.config.timeouts.write;
                                conn.waiting = Some(waiting);
                                conn.phase = Phase::Waiting;
                                return Outcome::Park;
                            };
                            answer_waiting(w, conn, *waiting, verdict)
                        }
                        other => other,
                    };
                    if let Some(outcome) = settle(w, conn, after) {
                        return outcome;
                    }
                }
                Ok(Parsed::Partial) => break,
                Err(e) => {
                    let status = e.status();
                    let message = e.kind().map_or("Bad Request", |k| k.description());
                    let _ = error_response(w, status, message, Version::Http11);
                    if flush(w, conn).is_err() {
                        return Outcome::Close(CloseReason::WriteFailed);
                    }
                    return start_linger(w, conn, CloseReason::BadRequest);
                }
            }
        }
        if !w.wbuf.is_empty() && flush(w, conn).is_err() {
            return Outcome::Close(CloseReason::WriteFailed);
        }
        if w.rbuf.is_empty() && shared.stopping() {
            return Outcome::Close(CloseReason::ShuttingDown);
        }
        if drained && !conn.io.has_buffered_input() {
            return park(w, conn);
        }
        match w.rbuf.read_from(&mut *conn.io, max_buffer) {
            Ok((0, _)) => {
                return Outcome::Close(if w.rbuf.is_empty() {
                    CloseReason::PeerClosed
                } else {
                    CloseReason::TruncatedHead
                })
            }
            // A short read means the socket is empty, unless the peer hung up: then its end
            // is still to be read, and no new report would come for it.
            Ok((_, filled)) => drained = !filled && !hangup,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return park(w, conn),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Outcome::Close(CloseReason::ReadFailed),
        }
    }
}

/// Parks a connection waiting for its next bytes, with the deadline of what it waits for.
fn park(w: &mut Worker<'_>, conn: &mut Conn) -> Outcome {
    let timeouts = &w.shared.config.timeouts;
    if !w.rbuf.is_empty() {
        let now = w.shared.clock.now();
        let started = *conn.head_started.get_or_insert(now);
        conn.deadline = started + timeouts.header;
    } else if conn.requests > 0 {
        conn.deadline = w.shared.clock.now() + timeouts.keep_alive;
    }
    // A fresh connection keeps the deadline set when it was accepted.
    Outcome::Park
}

/// Writes a complete error response with `Connection: close`; returns the body's length.
fn error_response(w: &mut Worker<'_>, status: u16, message: &str, version: Version) -> u64 {
    let table = w.shared.registry.snapshot();
    let html = table.error_page(status, message);
    write_head(
        &mut w.wbuf,
        &Head {
            date: w.shared.clock.unix_secs(),
            version: w.shared.config.protocol.max(version),
            status,
            reason: http_utils::reason_phrase(status),
            server: &w.shared.config.server_name,
            content_type: Some("text/html; charset=utf-8"),
            headers: &http_utils::Headers::new(),
            framing: BodyFraming::Length(html.len() as u64),
            connection: ConnectionField::Close,
        },
    );
    w.wbuf.extend_from_slice(html.as_bytes());
    html.len() as u64
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Decrements the in-flight count when a request is done, however it ends.
struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The path for the route patterns (still encoded) when the URL transformation changed it,
/// the decoded path for the resource lookup when it differs from the raw one, and the
/// decoded query arguments.
fn lookup_path(table: &Table, req: &Request) -> (Option<String>, Option<String>, Args) {
    match &table.url_transform {
        Some(t) => {
            let url = t(req.url());
            let (path, args) = http_utils::decode_url(&url);
            let raw = url.split(['?', '#']).next().unwrap_or("").to_owned();
            (Some(raw), Some(path), Args::from(args))
        }
        None => {
            let raw = req.path();
            let path = if raw.contains('%') { Some(http_utils::decode_url(raw).0) } else { None };
            let args = match req.query() {
                Some(q) if !q.is_empty() => Args::from(http_utils::decode_form(q)),
                _ => Args::new(),
            };
            (None, path, args)
        }
    }
}

/// Calls the log hook, if any, keeping its panics in.
fn log(table: &Table, request: &Request, peer: &PeerAddr, status: u16, bytes: u64, started: Option<Instant>) {
    if let (Some(hook), Some(t0)) = (&table.log_hook, started) {
        let record = LogRecord { request, peer, status, bytes, duration: t0.elapsed() };
        let _ = catch_unwind(AssertUnwindSafe(|| hook(&record)));
    }
}

/// At most this many internal redirects ([`Response::restart`]) per request.
const MAX_RESTARTS: u32 = 8;

/// A request whose answer comes from a [`Responder`](crate::Responder), kept with its
/// connection while it waits (the connection is parked in `Phase::Waiting`).
pub(crate) struct Waiting {
    pending: Arc<Pending>,
    request: Request,
    close: Option<CloseReason>,
    linger: bool,
    started: Option<Instant>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // Nobody will take the answer any more (it was taken, or the connection is gone).
        self.pending.abandon();
    }
}

/// Sets the context's path, arguments and captures for its (possibly restarted) URL.
fn route_request(cx: &mut Context<'_>) {
    let (raw, path, args) = lookup_path(cx.table, &cx.request);
    cx.raw_path = raw;
    cx.path = path;
    cx.args = args;
    cx.captures = Captures::default();
    if let Some(Content::Form(pairs)) = &cx.content {
        for (k, v) in pairs {
            cx.args.push(k.clone(), v.clone());
        }
    }
}

/// Sets the path for status handlers when the server answers without dispatching; the URL
/// transformation is user code, so it runs guarded.
fn route_for_status(cx: &mut Context<'_>) {
    if !cx.table.status_handlers.is_empty() {
        let _ = catch_unwind(AssertUnwindSafe(|| route_request(&mut *cx)));
    }
}

/// Runs user code that makes a response; a panic becomes a 500 (or, after a head was
/// written, a closed connection) and a call of the error hook.
fn guarded(cx: &mut Context<'_>, f: impl FnOnce(&mut Context<'_>) -> Response) -> Response {
    match catch_unwind(AssertUnwindSafe(|| f(&mut *cx))) {
        Ok(r) => r,
        Err(payload) => {
            let message = panic_message(&*payload);
            let shared = cx.body.get_ref().shared;
            hook_error(
                shared,
                &ErrorEvent::HandlerPanic { request: &cx.request, peer: cx.peer, message: &message },
            );
            if let Some(p) = cx.deferred.take() {
                p.abandon();
            }
            if cx.written.is_some() {
                cx.panicked = true;
                Response::written()
            } else {
                cx.error_response(500, "Internal Server Error")
            }
        }
    }
}

/// From a request (or a first response the server made itself) to the response to send:
/// dispatch, `next` past the last route (404), restarts (bounded), then the status handler
/// of the final status, once.
fn respond(cx: &mut Context<'_>, first: Option<Response>, can_dispatch: bool) -> Response {
    let mut response = match first {
        Some(r) => r,
        None => guarded(cx, |cx| {
            route_request(cx);
            dispatch(cx)
        }),
    };
    let mut restarts = 0;
    let mut shaped = false;
    loop {
        if cx.written.is_some() || cx.deferred.is_some() {
            return response;
        }
        match response.pass.take() {
            Some(Pass::Next) => response = cx.error_response(404, "Not Found"),
            Some(Pass::Restart(url)) if can_dispatch && restarts < MAX_RESTARTS => {
                restarts += 1;
                shaped = false;
                cx.request.set_url(url);
                response = guarded(cx, |cx| {
                    route_request(cx);
                    dispatch(cx)
                });
                continue;
            }
            Some(Pass::Restart(_)) => response = cx.error_response(500, "Internal Server Error"),
            None => {}
        }
        if shaped || cx.table.status_handlers.is_empty() {
            return response;
        }
        shaped = true;
        let Some(h) = cx.table.status_handlers.get(&response.status).cloned() else { return response };
        response = guarded(cx, move |cx| h(cx, response));
    }
}

/// What a request's `Expect` field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    None,
    /// `100-continue`, and nothing else.
    Continue,
    /// Anything else (RFC 9110 §10.1.1): answered 417 without running a handler.
    Unsupported,
}

fn expectation(headers: &Headers) -> Expectation {
    let mut found = Expectation::None;
    for value in headers.get_all("expect") {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            if !member.eq_ignore_ascii_case("100-continue") {
                return Expectation::Unsupported;
            }
            found = Expectation::Continue;
        }
    }
    found
}

/// Serves one request whose head was just read.
fn serve(w: &mut Worker<'_>, conn: &mut Conn, mut req: Request) -> After {
    let shared = w.shared;
    let cfg = &shared.config;
    conn.requests += 1;
    let table = shared.registry.snapshot();
    let started = table.log_hook.as_ref().map(|_| Instant::now());
    req.set_ip(conn.peer.ip());
    let version = req.version();

    let (framing, rejected) = match check_host(&req) {
        Err(e) => (Framing::None, Some((e.status(), "missing, repeated or invalid Host"))),
        Ok(()) => match request_framing(&req) {
            Err(e) => {
                (Framing::None, Some((e.status(), e.kind().map_or("Bad Request", |k| k.description()))))
            }
            Ok(f) => (f, None),
        },
    };
    if let Some((status, message)) = rejected {
        if table.status_handlers.is_empty() {
            let bytes = error_response(w, status, message, version);
            log(&table, &req, &conn.peer, status, bytes, started);
            return After::Linger(CloseReason::BadRequest);
        }
    }

    let mut close: Option<CloseReason> = None;
    let mut linger = false;
    if rejected.is_some() {
        close = Some(CloseReason::BadRequest);
        linger = true;
    } else if !req.wants_keep_alive() {
        close = Some(CloseReason::RequestedByClient);
    } else if shared.stopping() {
        close = Some(CloseReason::ShuttingDown);
    } else if conn.requests >= cfg.max_requests_per_connection {
        close = Some(CloseReason::RequestLimit);
    }

    let active = shared.active.fetch_add(1, Ordering::AcqRel) + 1;
    let _in_flight = InFlight(shared);
    w.mark_busy();

    let method = req.method().clone();
    let expect = expectation(req.headers());
    let has_body = framing != Framing::None && framing != Framing::Length(0);
    if expect == Expectation::Unsupported && has_body {
        // Answered without reading the body: the peer may be waiting to send it, or sending.
        close = close.or(Some(CloseReason::UnreadBody));
        linger = true;
    }
    let expects_continue = expect == Expectation::Continue && version == Version::Http11;
    let wire = Wire::new(&mut *conn.io, &mut w.rbuf, &mut w.wbuf, &mut w.solo, w.key, shared);
    let mut cx = Context {
        request: req,
        path: None,
        raw_path: None,
        captures: Captures::default(),
        key: w.key,
        deferred: None,
        panicked: false,
        args: Args::new(),
        content: None,
        peer: &conn.peer,
        table: &table,
        body: BodyReader::new(wire, framing, &cfg.limits),
        continue_pending: expects_continue && has_body,
        body_failed: false,
        written: None,
        protocol: cfg.protocol,
    };

    let first = if let Some((status, message)) = rejected {
        route_for_status(&mut cx);
        Some(cx.error_response(status, message))
    } else if expect == Expectation::Unsupported {
        route_for_status(&mut cx);
        Some(cx.error_response(417, "Expectation Failed"))
    } else if active > cfg.request_count_limit {
        route_for_status(&mut cx);
        Some(cx.error_response(503, "Service Unavailable").with_header("Retry-After", "1"))
    } else {
        None
    };
    let response = respond(&mut cx, first, true);
    if cx.panicked {
        close = Some(CloseReason::HandlerPanicked);
    }

    if close.is_none() && shared.stopping() {
        close = Some(CloseReason::ShuttingDown);
    }
    // Whatever the handler left of the body must go before the next request can be read.
    if cx.body_failed {
        close = close.or(Some(CloseReason::BodyFailed));
        linger = true;
    } else if !cx.body.is_complete() {
        if cx.continue_pending {
            // The client waits for 100 Continue that never came: it may or may not send.
            close = close.or(Some(CloseReason::UnreadBody));
            linger = true;
        } else if close.is_none() && !matches!(drain(&mut cx.body, DRAIN_MAX), Ok(true)) {
            close = Some(CloseReason::UnreadBody);
            linger = true;
        } else if close.is_some() {
            linger = true;
        }
    }

    let Context { request, body, written, deferred, .. } = cx;
    if let Some(pending) = deferred {
        if written.is_none() {
            // The answer comes from a responder: the worker is free now.
            w.mark_idle();
            shared.requests.fetch_add(1, Ordering::Relaxed);
            return After::Wait(Box::new(Waiting { pending, request, close, linger, started }));
        }
        pending.abandon();
    }
    let mut wire = body.into_inner();
    let (status, bytes) =
        send(&mut wire, &request, &conn.peer, &method, version, written, response, &mut close);

    w.mark_idle();
    if rejected.is_none() {
        shared.requests.fetch_add(1, Ordering::Relaxed);
    }

    log(&table, &request, &conn.peer, status, bytes, started);
    match close {
        None => After::Keep,
        Some(reason) if linger => After::Linger(reason),
        Some(reason) => After::Close(reason),
    }
}

/// Writes a response (unless the handler wrote its own head) and settles how the connection
/// goes on. Returns the status and the body bytes sent.
#[allow(clippy::too_many_arguments)]
fn send(
    wire: &mut Wire<'_>,
    request: &Request,
    peer: &PeerAddr,
    method: &Method,
    version: Version,
    written: Option<WrittenHead>,
    mut r: Response,
    close: &mut Option<CloseReason>,
) -> (u16, u64) {
    match written {
        Some(head) => {
            match head.framing {
                BodyFraming::Length(n) if head.sent == n => {}
                BodyFraming::NoBody => {}
                _ => *close = close.or(Some(CloseReason::ResponseUntilClose)),
            }
            (head.status, head.sent)
        }
        None => {
            if r.close || r.headers.connection_has("close") {
                *close = close.or(Some(CloseReason::RequestedByHandler));
            }
            #[cfg(feature = "gzip")]
            if wire.shared.config.compression {
                crate::compress::maybe_gzip(&mut r, method, request.headers());
            }
            #[cfg(not(feature = "gzip"))]
            let _ = request;
            let status = r.status;
            // A streamed body runs user code (a reader or a writer): keep its panics in.
            let written =
                catch_unwind(AssertUnwindSafe(|| write_response(wire, method, version, &mut r, close)));
            match written {
                Ok(Ok(n)) => (status, n),
                Ok(Err(_)) => {
                    *close = Some(CloseReason::WriteFailed);
                    (status, 0)
                }
                Err(payload) => {
                    let message = panic_message(&*payload);
                    hook_error(wire.shared, &ErrorEvent::HandlerPanic { request, peer, message: &message });
                    *close = Some(CloseReason::HandlerPanicked);
                    (status, 0)
                }
            }
        }
    }
}

/// Answers a request that waited for a responder, once its answer is settled.
fn answer_waiting(w: &mut Worker<'_>, conn: &mut Conn, mut waiting: Waiting, verdict: Verdict) -> After {
    let shared = w.shared;
    let cfg = &shared.config;
    let table = shared.registry.snapshot();
    w.mark_busy();
    let request = std::mem::replace(&mut waiting.request, Request::new(Method::Get, "/"));
    let method = request.method().clone();
    let version = request.version();
    let wire = Wire::new(&mut *conn.io, &mut w.rbuf, &mut w.wbuf, &mut w.solo, w.key, shared);
    let mut cx = Context {
        request,
        path: None,
        raw_path: None,
        captures: Captures::default(),
        key: w.key,
        deferred: None,
        panicked: false,
        args: Args::new(),
        content: None,
        peer: &conn.peer,
        table: &table,
        body: BodyReader::new(wire, Framing::None, &cfg.limits),
        continue_pending: false,
        body_failed: false,
        written: None,
        protocol: cfg.protocol,
    };
    route_for_status(&mut cx);
    let first = match verdict {
        Verdict::Response(r) if r.pass.is_some() || r.written => {
            cx.error_response(500, "Internal Server Error")
        }
        Verdict::Response(r) => *r,
        Verdict::TimedOut => cx.error_response(503, "Service Unavailable"),
        Verdict::Dropped => cx.error_response(500, "Internal Server Error"),
    };
    let response = respond(&mut cx, Some(first), false);
    let mut close = waiting.close;
    if cx.panicked {
        close = Some(CloseReason::HandlerPanicked);
    }
    if close.is_none() && shared.stopping() {
        close = Some(CloseReason::ShuttingDown);
    }
    let Context { request, body, written, deferred, .. } = cx;
    if let Some(p) = deferred {
        p.abandon();
    }
    let mut wire = body.into_inner();
    let (status, bytes) =
        send(&mut wire, &request, &conn.peer, &method, version, written, response, &mut close);
    w.mark_idle();
    log(&table, &request, &conn.peer, status, bytes, waiting.started);
    match close {
        None => After::Keep,
        Some(reason) if waiting.linger => After::Linger(reason),
        Some(reason) => After::Close(reason),
    }
}

/// Drives a connection whose request waits for a responder: nothing to do until the answer
/// is settled (bytes the peer pipelines meanwhile stay unread); then the answer is written
/// and the connection goes on with the requests behind it.
fn resume(w: &mut Worker<'_>, conn: &mut Conn, hangup: bool) -> Outcome {
    let verdict = match &conn.waiting {
        Some(waiting) => waiting.pending.take(),
        None => {
            conn.phase = Phase::Http;
            return http(w, conn, hangup);
        }
    };
    let Some(verdict) = verdict else { return Outcome::Park };
    let Some(waiting) = conn.waiting.take() else { return Outcome::Close(CloseReason::WriteFailed) };
    conn.phase = Phase::Http;
    let after = answer_waiting(w, conn, *waiting, verdict);
    settle(w, conn, after).unwrap_or_else(|| http(w, conn, hangup))
}

/// Writes a handler's response: head, then the body framed by length, chunks or close.
/// Returns the body bytes sent.
fn write_response(
    wire: &mut Wire<'_>,
    method: &Method,
    version: Version,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> io::Result<u64> {
    let cfg = &wire.shared.config;
    let status = r.status;
    let no_body_status = (100..200).contains(&status) || status == 204 || status == 304;
    let send_body = !no_body_status && *method != Method::Head;
    let chunked_ok = version == Version::Http11 && cfg.protocol == Version::Http11;
    let framing = if no_body_status {
        BodyFraming::NoBody
    } else {
        match r.body.len() {
            Some(n) => BodyFraming::Length(n),
            None if *method == Method::Head => BodyFraming::NoBody,
            None if chunked_ok => BodyFraming::Chunked,
            None => {
                *close = close.or(Some(CloseReason::ResponseUntilClose));
                BodyFraming::UntilClose
            }
        }
    };
    let connection = if close.is_some() {
        ConnectionField::Close
    } else if version == Version::Http10 {
        ConnectionField::KeepAlive
    } else {
        ConnectionField::Omit
    };
    let reason = r.reason.as_deref().unwrap_or_else(|| http_utils::reason_phrase(status));
    write_head(
        wire.wbuf,
        &Head {
            date: wire.shared.clock.unix_secs(),
            version: cfg.protocol,
            status,
            reason,
            server: &cfg.server_name,
            content_type: r.content_type.as_deref(),
            headers: &r.headers,
            framing,
            connection,
        },
    );
    if !send_body {
        return Ok(0);
    }
    match std::mem::take(&mut r.body) {
        ResponseBody::Empty => Ok(0),
        ResponseBody::Static(b) => wire.write_all(b).map(|()| b.len() as u64),
        ResponseBody::Bytes(b) => wire.write_all(&b).map(|()| b.len() as u64),
        ResponseBody::Stream { mut reader, length } => match framing {
            BodyFraming::Length(n) => {
                let copied = copy_exact(&mut reader, wire, n)?;
                if copied != n {
                    *close = Some(CloseReason::ResponseUntilClose);
                }
                Ok(copied)
            }
            BodyFraming::Chunked => {
                let mut cw = ChunkedWriter::new(WireWriter(wire));
                let n = io::copy(&mut reader, &mut cw)?;
                cw.finish(r.trailers.as_ref())?;
                let _ = length;
                Ok(n)
            }
            _ => io::copy(&mut reader, &mut WireWriter(wire)),
        },
        ResponseBody::Writer(f) => match framing {
            BodyFraming::Chunked => {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                f(&mut cw)?;
                let n = cw.n;
                cw.inner.finish(r.trailers.as_ref())?;
                Ok(n)
            }
            _ => {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                Ok(cw.n)
            }
        },
        ResponseBody::WriterWithTrailers(f) => match framing {
            BodyFraming::Chunked => {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                let mut trailers = f(&mut cw)?;
                let n = cw.n;
                if let Some(fixed) = &r.trailers {
                    for (name, value) in fixed.iter() {
                        let _ = trailers.append(name, value);
                    }
                }
                cw.inner.finish(Some(&trailers))?;
                Ok(n)
            }
            _ => {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                Ok(cw.n)
            }
        },
    }
}

/// Copies exactly `n` bytes (or fewer if the reader ends early); returns the count.
fn copy_exact(reader: &mut dyn io::Read, wire: &mut Wire<'_>, n: u64) -> io::Result<u64> {
    let mut buf = [0u8; 8192];
    let mut left = n;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(g) => g,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        wire.write_all(&buf[..got])?;
        left -= got as u64;
    }
    Ok(n - left)
}

/// `Write` over the connection's gathered output.
struct WireWriter<'w, 'a>(&'w mut Wire<'a>);

impl io::Write for WireWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Counts the body bytes a handler's writer produces.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: io::Write> io::Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
