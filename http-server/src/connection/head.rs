//! The `Handshake` and `Head` phases: the transport's handshake (TLS), then request heads
//! read and parsed one after another (pipelined ones too), each complete one handed on to
//! be admitted.

use http_utils::{parse_request_head_into, Parsed, Version};

use super::answer::Answer;
use super::refusal::Refusal;
use super::worker::Worker;
use super::{hook_error, CloseReason, Conn, Next, Phase};
use crate::handler::hooks::ErrorEvent;
use crate::io::attempt::{attempt, Attempt};
use crate::io::wire::READ_BUF;

/// A connection with more pipelined requests than this in one turn goes to the back of the
/// queue, so one busy client cannot keep a worker from the others.
const REQUESTS_PER_TURN: u32 = 64;

/// Advances the transport's handshake; plain transports have none.
pub(super) fn handshake(w: &mut Worker<'_>, conn: &mut Conn) -> Next {
    match conn.io.handshake() {
        Ok(true) => {
            // A handshake may tell who the peer really is (the PROXY protocol).
            conn.peer = conn.io.peer_addr();
            Next::Head
        }
        Ok(false) => Next::Park(Phase::Handshake),
        Err(e) => {
            hook_error(w.engine, &ErrorEvent::Handshake { peer: &conn.peer, error: &e });
            Next::Close(CloseReason::HandshakeFailed)
        }
    }
}

/// Parses the next complete head in the read buffer, reading from the socket (until it
/// would block) when there is none; responses gathered so far go out before each read.
pub(super) fn read(w: &mut Worker<'_>, conn: &mut Conn) -> Next {
    let engine = w.engine;
    let max_buffer = engine.wire.limits.max_head + READ_BUF;
    if let Some(t) = conn.head_started {
        if engine.site.clock.now().saturating_duration_since(t) >= engine.wire.timeouts.header {
            log::debug!(target: "http_server", "{}: deadline passed ({}), closed", conn.peer, conn.phase_name());
            w.write_refusal(Refusal::TIMED_OUT, Version::Http11);
            return Next::Answered(Answer::closing(CloseReason::HeaderTimeout, false));
        }
    }
    loop {
        if !w.rbuf.is_empty() {
            if w.heads_read == REQUESTS_PER_TURN {
                return Next::Yield(Phase::Head);
            }
            if let Some(next) = parse(w, conn) {
                return next;
            }
        }
        if w.has_output() {
            return Next::Flush;
        }
        if w.rbuf.is_empty() && engine.stopping() && conn.requests > 0 {
            return Next::Close(CloseReason::ShuttingDown);
        }
        if w.drained {
            return park(w, conn);
        }
        match attempt(|| w.rbuf.read_from(&mut *conn.io, max_buffer)) {
            // A short read of a plain socket on Linux proves it empty (see
            // `SHORT_READ_DRAINS`), unless the peer hung up: its end is still to be read.
            Ok(Attempt::Done(_)) => w.drained = w.rbuf.has_room() && !w.hangup && conn.io.short_read_drains(),
            Ok(Attempt::Blocked) => return park(w, conn),
            Ok(Attempt::Closed) if w.rbuf.is_empty() => return Next::Close(CloseReason::PeerClosed),
            Ok(Attempt::Closed) => return Next::Close(CloseReason::TruncatedHead),
            Err(_) => return Next::Close(CloseReason::ReadFailed),
        }
    }
}

/// Parses the head at the start of the read buffer: the next step for a complete or a
/// malformed one, `None` when it is not all there yet.
fn parse(w: &mut Worker<'_>, conn: &mut Conn) -> Option<Next> {
    let limits = &w.engine.wire.limits;
    let mut f = w.take_record();
    match parse_request_head_into(w.rbuf.available(), limits, &mut f.request) {
        Ok(Parsed::Complete { value: (), used }) => {
            w.heads_read += 1;
            w.rbuf.consume(used);
            conn.head_started = None;
            Some(Next::Admit(f))
        }
        Ok(Parsed::Partial) => {
            w.spare = Some(f);
            None
        }
        Err(e) => {
            w.spare = Some(f);
            w.write_refusal(Refusal::of(&e), Version::Http11);
            Some(Next::Answered(Answer::closing(CloseReason::BadRequest, true)))
        }
    }
}

/// Parks a connection waiting for its next head, with the deadline of what it waits for.
fn park(w: &mut Worker<'_>, conn: &mut Conn) -> Next {
    let timeouts = &w.engine.wire.timeouts;
    if !w.rbuf.is_empty() {
        let now = w.engine.site.clock.now();
        let started = *conn.head_started.get_or_insert(now);
        conn.deadline = started + timeouts.header;
    } else if conn.requests > 0 && !(w.idle_at_start && w.heads_read == 0) {
        // Idle from now on. A turn that found nothing new (the connection was idle, no head
        // came) keeps the deadline it had: a wake-up for nothing extends no idle time.
        conn.deadline = w.engine.site.clock.now() + timeouts.keep_alive;
    }
    // A fresh connection keeps the deadline set when it was accepted.
    Next::Park(Phase::Head)
}
