//! From a complete request head to what comes next: the checks made before any handler
//! runs (`Host`, framing, expectations, the body limit), and how the body will be read —
//! buffered by the engine (the `Body` phase) or streamed through the handler — or that it
//! is refused before it is read.

use std::sync::atomic::Ordering;

use http_utils::{check_host, request_framing, Framing, Headers, Request, Version};

use super::answer::Answer;
use super::body::BodyIn;
use super::flight::{BodyMode, InFlight};
use super::log::log;
use super::refusal::Refusal;
use super::worker::Worker;
use super::{CloseReason, Conn, Next};
use crate::io::budget::Share;

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

/// The framing of a request's body, or why the request is refused (a bad `Host`, or
/// framing in doubt).
fn framing(req: &Request) -> Result<Framing, Refusal> {
    check_host(req).map_err(|e| Refusal { status: e.status(), reason: Refusal::BAD_HOST.reason })?;
    request_framing(req).map_err(|e| Refusal::of(&e))
}

/// Decides how a request whose head was just read is served.
pub(super) fn admit(w: &mut Worker<'_>, conn: &mut Conn, mut f: Box<InFlight>) -> Next {
    conn.requests += 1;
    f.request.set_ip(conn.peer.ip());
    let framing = framing(&f.request);
    f.begin(&w.engine.registry, *framing.as_ref().unwrap_or(&Framing::None));
    if let Err(refusal) = framing {
        if !f.table.1.shapes_answers() {
            // Answered here, without a handler's context: nothing can change the answer.
            f.close = Some(CloseReason::BadRequest);
            let bytes = w.write_refusal(refusal, f.request.version());
            log(&f, &conn.peer, refusal.status, bytes);
            w.spare = Some(f);
            return Next::Answered(Answer::closing(CloseReason::BadRequest, true));
        }
        // Status handlers or middleware may shape the answer: it goes through the handler's path.
        f.refuse(refusal, CloseReason::BadRequest);
        return Next::Run(f);
    }
    keep_or_close(w, conn, &mut f);
    let has_body = f.framing != Framing::None && f.framing != Framing::Length(0);
    let expect = expectation(f.request.headers());
    if expect == Expectation::Unsupported {
        if has_body {
            // Answered without reading the body: the peer may be waiting to send it, or sending.
            f.close = f.close.or(Some(CloseReason::UnreadBody));
            f.linger = true;
        }
        f.refusal = Some(Refusal::EXPECTATION);
        return Next::Run(f);
    }
    if !has_body {
        return Next::Dispatch(f);
    }
    body(w, f, expect == Expectation::Continue)
}

/// Decides, from the request and the server's state, whether the connection closes after it.
fn keep_or_close(w: &Worker<'_>, conn: &Conn, f: &mut InFlight) {
    let engine = w.engine;
    if !f.request.wants_keep_alive() {
        f.close = Some(CloseReason::RequestedByClient);
    } else if engine.stopping() {
        f.close = Some(CloseReason::ShuttingDown);
    } else if conn.requests >= engine.settings.max_requests_per_connection {
        f.close = Some(CloseReason::RequestLimit);
    }
}

/// Decides how a request's body is read: by its handler as it arrives (a streaming route,
/// or `100-continue`), by the engine into a buffer, or not at all (refused first).
fn body(w: &mut Worker<'_>, mut f: Box<InFlight>, expects_continue: bool) -> Next {
    let engine = w.engine;
    let streams = f.table.1.streams_body(f.request.method(), f.request.path());
    let max = f.table.1.max_body_for(f.request.path()).unwrap_or(engine.wire.limits.max_body);
    if !streams && f.framing.known_length().is_some_and(|n| n > max) {
        // Over the limit (which a streaming route's body is not held to): refused before a
        // byte of it is read, and before a 100 Continue invites it.
        f.refuse(Refusal::TOO_LARGE, CloseReason::BodyFailed);
        return Next::Run(f);
    }
    let continues = expects_continue && f.request.version() == Version::Http11;
    let mut slot = Share::new(&engine.streaming);
    if (streams || continues) && slot.grow(1) {
        f.mode = BodyMode::Streamed;
        f.stream_share = Some(slot);
        f.expects_continue = continues;
        f.limited = (!streams).then_some(max);
        return Next::Dispatch(f);
    }
    if streams {
        // Every streaming slot is taken: the body cannot wait for one in a buffer.
        f.refuse_busy(&w.rbuf);
        return Next::Run(f);
    }
    if f.body_in(&w.rbuf) {
        // The whole body came with the head.
        return Next::Dispatch(f);
    }
    if f.table.1.refuses_outright(f.request.method(), f.request.path()) {
        // A 404 or 405 whatever the body says: answered now, the body left unread.
        f.close = f.close.or(Some(CloseReason::UnreadBody));
        f.linger = true;
        return Next::Dispatch(f);
    }
    if engine.active.load(Ordering::Acquire) >= engine.settings.request_count_limit && engine.queue.is_full()
    {
        // No slot and no room to wait: refused before its body is read.
        f.refuse_busy(&w.rbuf);
        return Next::Run(f);
    }
    Next::Body(BodyIn::new(w, f, continues, max))
}
