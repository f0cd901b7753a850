//! The `Head` phase: reading request heads (pipelined ones one after another), and the
//! `Linger` phase.

use std::io;

use http_utils::{parse_request_head_into, Method, Parsed, Request, Version};

use super::compose::error_response;
use super::write::{emit, Then};
use super::{body, serve, After, CloseReason, Conn, Outcome, Phase, Step, Worker};
use crate::io::wire::READ_BUF;

/// A connection with more pipelined requests than this goes to the back of the queue, so one
/// busy client cannot keep a worker from the others.
const REQUESTS_PER_TURN: u32 = 64;
/// Reads of a lingering connection per turn.
const LINGER_READS_PER_TURN: u32 = 64;

/// Discards input of a half-closed connection until the peer closes or time runs out.
pub(super) fn linger(w: &mut Worker<'_>, conn: &mut Conn, reason: CloseReason) -> Outcome {
    for _ in 0..LINGER_READS_PER_TURN {
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

/// Half-closes a connection whose output is all written and lingers.
pub(super) fn start_linger(w: &mut Worker<'_>, conn: &mut Conn, reason: CloseReason) -> Outcome {
    conn.io.shutdown_write();
    conn.phase = Phase::Linger(reason);
    conn.deadline = w.engine.site.clock.now() + w.engine.wire.timeouts.linger;
    // Read what is already there, so that parking waits for new bytes (or the end).
    linger(w, conn, reason)
}

/// Goes on after a step of serving: `None` when the connection is ready for the next head
/// (its output may still sit in the worker's buffer), otherwise what to do with it.
fn settle(w: &mut Worker<'_>, conn: &mut Conn, step: Step) -> Option<Outcome> {
    match step {
        Step::Answered(After::Keep) => {
            if w.body.is_some() || w.wbuf.len() >= crate::io::wire::FLUSH_AT {
                return emit(w, conn, Then::Next(Phase::Head), Outcome::Park);
            }
            None
        }
        Step::Answered(After::Close(reason)) => emit(w, conn, Then::Close(reason), Outcome::Park),
        Step::Answered(After::Linger(reason)) => emit(w, conn, Then::Linger(reason), Outcome::Park),
        Step::Body(b) => {
            if !w.wbuf.is_empty() || w.body.is_some() {
                // Responses to the requests before it go first (a 100 Continue must not pass
                // them); then the body is read.
                return emit(w, conn, Then::Next(Phase::Body(b)), Outcome::Again);
            }
            let step = body::advance(w, conn, b);
            settle(w, conn, step)
        }
        Step::Wait(outcome) => {
            // The phase is set: what is gathered goes out first, then the connection waits.
            let phase = std::mem::replace(&mut conn.phase, Phase::Head);
            emit(w, conn, Then::Next(phase), outcome)
        }
    }
}

/// Goes on after a step of a phase other than `Head`: on to the next heads when the
/// connection is kept.
pub(super) fn after_step(w: &mut Worker<'_>, conn: &mut Conn, step: Step) -> Outcome {
    match settle(w, conn, step) {
        Some(outcome) => outcome,
        None => http(w, conn),
    }
}

/// Reads and serves request heads until the connection must wait or close.
pub(super) fn http(w: &mut Worker<'_>, conn: &mut Conn) -> Outcome {
    let engine = w.engine;
    let limits = engine.wire.limits;
    let max_buffer = limits.max_head + READ_BUF;
    if !matches!(conn.phase, Phase::Head) {
        conn.phase = Phase::Head;
    }
    if let Some(t) = conn.head_started {
        if engine.site.clock.now().saturating_duration_since(t) >= engine.wire.timeouts.header {
            error_response(w, 408, "Request Timeout", Version::Http11);
            return emit(w, conn, Then::Close(CloseReason::HeaderTimeout), Outcome::Park)
                .unwrap_or(Outcome::Close(CloseReason::HeaderTimeout));
        }
    }
    let mut served = 0;
    loop {
        while !w.rbuf.is_empty() {
            if served == REQUESTS_PER_TURN {
                return emit(w, conn, Then::Next(Phase::Head), Outcome::Yield).unwrap_or(Outcome::Yield);
            }
            let mut request =
                w.spare.take().unwrap_or_else(|| Box::new(Request::new(Method::Get, String::new())));
            match parse_request_head_into(w.rbuf.available(), &limits, &mut request) {
                Ok(Parsed::Complete { value: (), used }) => {
                    served += 1;
                    w.rbuf.consume(used);
                    conn.head_started = None;
                    let step = serve::serve(w, conn, request);
                    if let Some(outcome) = settle(w, conn, step) {
                        return outcome;
                    }
                }
                Ok(Parsed::Partial) => {
                    w.spare = Some(request);
                    break;
                }
                Err(e) => {
                    w.spare = Some(request);
                    let status = e.status();
                    let message = e.kind().map_or("Bad Request", |k| k.description());
                    error_response(w, status, message, Version::Http11);
                    return emit(w, conn, Then::Linger(CloseReason::BadRequest), Outcome::Park)
                        .unwrap_or(Outcome::Close(CloseReason::BadRequest));
                }
            }
        }
        if !w.wbuf.is_empty() || w.body.is_some() {
            if let Some(outcome) = emit(w, conn, Then::Next(Phase::Head), Outcome::Park) {
                return outcome;
            }
        }
        if w.rbuf.is_empty() && engine.stopping() && conn.requests > 0 {
            return Outcome::Close(CloseReason::ShuttingDown);
        }
        match w.rbuf.read_from(&mut *conn.io, max_buffer) {
            Ok((0, _)) => {
                return Outcome::Close(if w.rbuf.is_empty() {
                    CloseReason::PeerClosed
                } else {
                    CloseReason::TruncatedHead
                })
            }
            // Read again until the socket says it would block: readiness is edge-triggered,
            // and some systems (Windows) report new bytes only after that.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return park(w, conn),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Outcome::Close(CloseReason::ReadFailed),
        }
    }
}

/// Parks a connection waiting for its next head, with the deadline of what it waits for.
fn park(w: &mut Worker<'_>, conn: &mut Conn) -> Outcome {
    let timeouts = &w.engine.wire.timeouts;
    if !w.rbuf.is_empty() {
        let now = w.engine.site.clock.now();
        let started = *conn.head_started.get_or_insert(now);
        conn.deadline = started + timeouts.header;
    } else if conn.requests > 0 {
        conn.deadline = w.engine.site.clock.now() + timeouts.keep_alive;
    }
    // A fresh connection keeps the deadline set when it was accepted.
    Outcome::Park
}
