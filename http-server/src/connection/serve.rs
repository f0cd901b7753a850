//! From a complete request head to a handler: the checks made before any handler runs, how
//! the body will be read (buffered by the engine, or streamed through the handler), and the
//! admission to a worker slot (run now, wait in the queue, or 503).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use http_utils::{check_host, request_framing, Framing, Headers, Request, Version};

use super::body::BodyIn;
use super::engine::Share;
use super::respond;
use super::{After, CloseReason, Conn, Outcome, Phase, Step, Worker};
use crate::connection::engine::Engine;
use crate::handler::context::Table;
use crate::io::wire::ReadBuf;

/// How a request's body reaches its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// No body, or one the engine has read whole: it sits in the read buffer, `Length` framed.
    Buffered,
    /// Read by the handler from the socket as it arrives (a streaming route, or
    /// `Expect: 100-continue` answered when the handler first reads).
    Streamed,
}

/// A request admitted past its head: what the server decided before running a handler.
pub(crate) struct Admitted {
    pub request: Box<Request>,
    /// The table it is served with, and its generation.
    pub table: (u64, Arc<Table>),
    pub framing: Framing,
    pub mode: BodyMode,
    /// Close after the response, and why (decided from the request, before the handler).
    pub close: Option<CloseReason>,
    /// Linger when closing (the peer may still be sending).
    pub linger: bool,
    /// A response the server gives without running the handler (a bad `Host`, an
    /// unsupported expectation, a body over the limit, every worker busy...).
    pub first: Option<(u16, &'static str)>,
    /// `Expect: 100-continue` is still to be answered (streamed bodies only).
    pub expects_continue: bool,
    /// When the head was complete, for the log hook.
    pub started: Option<Instant>,
    /// Until when it may wait in the queue.
    pub queued_until: Option<Instant>,
    /// The share of the body budget its buffered body holds, given back with the request.
    pub body_share: Option<Share>,
    /// Its streaming slot (`BodyMode::Streamed`), given back with the request.
    pub stream_share: Option<Share>,
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

/// True when the whole body (none, or one of a known length) sits in the read buffer.
pub(super) fn body_in_buffer(framing: Framing, rbuf: &ReadBuf) -> bool {
    match framing {
        Framing::None => true,
        Framing::Length(n) => rbuf.available().len() as u64 >= n,
        _ => false,
    }
}

/// Serves one request whose head was just read.
pub(super) fn serve(w: &mut Worker<'_>, conn: &mut Conn, mut req: Box<Request>) -> Step {
    let engine = w.engine;
    let settings = &engine.settings;
    conn.requests += 1;
    let (generation, table) = w.take_table();
    let started = (table.log_hook.is_some() || table.debug).then(Instant::now);
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
            let bytes = super::compose::error_response(w, status, message, version);
            respond::log(&table, &req, &conn.peer, status, bytes, started, Some(CloseReason::BadRequest));
            w.give_back_table(generation, table);
            return Step::Answered(After::Linger(CloseReason::BadRequest));
        }
    }

    let has_body = framing != Framing::None && framing != Framing::Length(0);
    let mut adm = Admitted {
        table: (generation, table),
        framing,
        mode: BodyMode::Buffered,
        close: None,
        linger: false,
        first: None,
        expects_continue: false,
        started,
        queued_until: None,
        body_share: None,
        stream_share: None,
        request: req,
    };
    if let Some(first) = rejected {
        adm.close = Some(CloseReason::BadRequest);
        adm.linger = true;
        adm.first = Some(first);
        return respond::run(w, conn, adm);
    } else if !adm.request.wants_keep_alive() {
        adm.close = Some(CloseReason::RequestedByClient);
    } else if engine.stopping() {
        adm.close = Some(CloseReason::ShuttingDown);
    } else if conn.requests >= settings.max_requests_per_connection {
        adm.close = Some(CloseReason::RequestLimit);
    }

    let expect = expectation(adm.request.headers());
    if expect == Expectation::Unsupported {
        if has_body {
            // Answered without reading the body: the peer may be waiting to send it, or sending.
            adm.close = adm.close.or(Some(CloseReason::UnreadBody));
            adm.linger = true;
        }
        adm.first = Some((417, "Expectation Failed"));
        return respond::run(w, conn, adm);
    }
    if !has_body {
        return dispatch(w, conn, adm);
    }
    let streams = adm.table.1.streams_body(adm.request.method(), adm.request.path());
    let continues = expect == Expectation::Continue && version == Version::Http11;
    let mut slot = Share::new(&engine.streaming);
    // A body past the limit on a route that does not stream gets 413 below, before 100 Continue.
    let too_large = framing.known_length().is_some_and(|n| n > engine.wire.limits.max_body);
    if (streams || continues && !too_large) && slot.grow(1) {
        adm.mode = BodyMode::Streamed;
        adm.stream_share = Some(slot);
        adm.expects_continue = continues;
        return dispatch(w, conn, adm);
    }
    if streams {
        // Every streaming slot is taken: the body cannot wait for one in a buffer.
        return busy(w, conn, adm);
    }
    if body_in_buffer(framing, &w.rbuf) {
        // The whole body came with the head.
        return dispatch(w, conn, adm);
    }
    if adm.table.1.refuses_outright(adm.request.method(), adm.request.path()) {
        // A 404 or 405 whatever the body says: answered now, the body left unread.
        adm.close = adm.close.or(Some(CloseReason::UnreadBody));
        adm.linger = true;
        return dispatch(w, conn, adm);
    }
    if engine.active.load(Ordering::Acquire) >= settings.request_count_limit && engine.queue.is_full() {
        // No slot and no room to wait: refused before its body is read.
        return busy(w, conn, adm);
    }
    if framing.known_length().is_some_and(|n| n > engine.wire.limits.max_body) {
        adm.close = adm.close.or(Some(CloseReason::BodyFailed));
        adm.linger = true;
        adm.first = Some((413, "Content Too Large"));
        return respond::run(w, conn, adm);
    }
    Step::Body(BodyIn::new(w, adm, continues))
}

/// Runs a complete request now if a worker slot is free, or parks it in the queue.
#[inline]
pub(super) fn dispatch(w: &mut Worker<'_>, conn: &mut Conn, mut adm: Admitted) -> Step {
    let engine = w.engine;
    // Requests that wait already go first: a slot this turn holds goes to the oldest.
    if !engine.queue.is_empty() {
        w.release_slot();
    } else if w.take_slot() {
        return respond::run(w, conn, adm);
    }
    let now = engine.site.clock.now();
    let until = now + engine.settings.queue_wait;
    if !engine.queue.push(w.key, until) {
        return busy(w, conn, adm);
    }
    adm.queued_until = Some(until);
    enter_queue(engine, conn, adm, until)
}

fn enter_queue(engine: &Engine, conn: &mut Conn, adm: Admitted, until: Instant) -> Step {
    // A safety net: the monitor answers 503 at the end of the wait; a connection still
    // parked well after is closed.
    conn.deadline = until + engine.wire.timeouts.write;
    conn.phase = Phase::Queued(Box::new(adm));
    Step::Wait(Outcome::Park)
}

/// A queued request's turn (or a report for its connection while it waits).
pub(super) fn resume_queued(w: &mut Worker<'_>, conn: &mut Conn, adm: Admitted) -> Step {
    let engine = w.engine;
    if w.take_slot() {
        engine.queue.remove(w.key);
        return respond::run(w, conn, adm);
    }
    let until = adm.queued_until.unwrap_or_else(|| engine.site.clock.now());
    if engine.site.clock.now() >= until || engine.stopping() && engine.wire.abort.load(Ordering::Relaxed) {
        engine.queue.remove(w.key);
        return busy(w, conn, adm);
    }
    engine.queue.ensure(w.key, until);
    enter_queue(engine, conn, adm, until)
}

/// Every worker is busy and the request cannot wait: 503 with `Retry-After`. The connection
/// closes when a body may still be on its way.
fn busy(w: &mut Worker<'_>, conn: &mut Conn, mut adm: Admitted) -> Step {
    if adm.mode == BodyMode::Streamed {
        adm.stream_share = None;
        adm.mode = BodyMode::Buffered;
    }
    if !body_in_buffer(adm.framing, &w.rbuf) {
        adm.close = adm.close.or(Some(CloseReason::Busy));
        adm.linger = true;
    }
    adm.first = Some((503, "Service Unavailable"));
    respond::run(w, conn, adm)
}
