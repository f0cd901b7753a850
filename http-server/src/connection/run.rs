//! The `Run` step: an admitted request's handler runs on this worker (or, for an answer the
//! server gives itself, its status handlers do); what it left of the body is read or the
//! connection is marked to close, and the answer is handed to the writer — or the request
//! waits for a responder.

use http_utils::io::drain;

use super::flight::{Awaited, BodyMode, InFlight, Waiting};
use super::refusal::Refusal;
use super::respond::{context, finish, refusal_response, respond, run_close, send, BodySetup};
use super::switch::vet;
use super::worker::Worker;
use super::{CloseReason, Conn, Next};
use crate::handler::context::Context;

/// At most this much of an unread request body streamed from the socket is read and
/// dropped to keep a connection.
const DRAIN_MAX: u64 = 64 * 1024;

/// Runs the handler of an admitted request and hands its answer on.
pub(super) fn run(w: &mut Worker<'_>, conn: &mut Conn, mut f: Box<InFlight>) -> Next {
    let engine = w.engine;
    // A buffered body sits whole in the read buffer; otherwise it is still on the socket.
    let in_memory = f.mode == BodyMode::Buffered && f.body_in(&w.rbuf);
    // A malformed request is not counted as served.
    let counted = !f.refusal.is_some_and(Refusal::is_bad_request);
    if f.mode == BodyMode::Streamed {
        // The handler reads its body from the socket: what the `Head` phase last read says
        // nothing of it afterwards.
        w.drained = false;
    }
    w.mark_busy();
    let setup = BodySetup {
        framing: f.framing,
        continue_pending: f.expects_continue,
        closing: f.close.is_some(),
        max_body: f.limited,
    };
    let mut cx = context(w, conn, &f.table.1, f.request, setup);
    let first = f.refusal.map(|r| refusal_response(&mut cx, r));
    let mut response = respond(&mut cx, first, true);
    f.close = run_close(engine, cx.panicked, f.close);
    // Whatever the handler left of the body must go before the next request can be read.
    if let Some(why) = leftover_body(&mut cx, f.mode, in_memory, f.close) {
        f.close = f.close.or(Some(why));
        f.linger = true;
    }
    vet(&mut cx, &mut response, f.close);
    if response.is_upgrade() {
        f.linger = false;
    }
    if let Some(pending) = cx.deferred.take() {
        if cx.written.is_none() {
            // The answer comes from a responder: the worker is free now.
            let Context { request, stream_share: share, .. } = cx;
            f.request = request;
            f.release_shares();
            w.mark_idle();
            w.count_request();
            return Next::Waiting(Box::new(Waiting { pending: Awaited(pending), flight: f, share }));
        }
        pending.abandon();
    }
    let sent = send(engine, &mut cx, &mut response, &mut f.close);
    let Context { request, .. } = cx;
    f.request = request;
    if counted {
        w.count_request();
    }
    Next::Answered(finish(w, f, &conn.peer, sent))
}

/// Reads what the handler left of a body it did not read to the end, when that is cheap;
/// otherwise the reason the connection must close (lingering) after the answer.
fn leftover_body(
    cx: &mut Context<'_>,
    mode: BodyMode,
    in_memory: bool,
    close: Option<CloseReason>,
) -> Option<CloseReason> {
    if cx.body_failed {
        return Some(CloseReason::BodyFailed);
    }
    if cx.body.is_complete() {
        return None;
    }
    if in_memory {
        let _ = drain(&mut cx.body, u64::MAX);
        return None;
    }
    if cx.continue_pending {
        // The client waits for 100 Continue that never came: it may or may not send.
        return Some(CloseReason::UnreadBody);
    }
    if mode == BodyMode::Streamed && close.is_none() && matches!(drain(&mut cx.body, DRAIN_MAX), Ok(true)) {
        return None;
    }
    Some(CloseReason::UnreadBody)
}
