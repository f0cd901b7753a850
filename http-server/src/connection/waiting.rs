//! The `Waiting` phase: a request whose answer comes from a
//! [`Responder`](crate::Responder) on another thread, parked with its connection until the
//! answer (a response, or a stream's head) is settled — or its deadline passes (503), or
//! the responder is dropped (500).

use http_utils::Framing;

use super::flight::Waiting;
use super::respond::{context, finish, respond, route_for_status, run_close, send, BodySetup};
use super::switch::vet;
use super::worker::Worker;
use super::{Conn, Next, Phase};
use crate::handler::context::Context;
use crate::handler::responder::Verdict;
use crate::handler::response::{Response, Takeover};
use crate::handler::stream::FeedBody;

/// Answers the request if its answer came, else parks it (bytes the peer pipelines
/// meanwhile stay unread).
pub(super) fn resume(w: &mut Worker<'_>, conn: &mut Conn, waiting: Box<Waiting>) -> Next {
    match waiting.pending.0.take() {
        Some(verdict) => answer(w, conn, *waiting, verdict),
        None => {
            // A safety net: the monitor answers 503 at the responder's deadline; a connection
            // still waiting well after is closed.
            conn.deadline = waiting.pending.0.deadline + w.engine.wire.timeouts.write;
            Next::Park(Phase::Waiting(waiting))
        }
    }
}

/// Answers a request that waited for a responder, once its answer is settled.
fn answer(w: &mut Worker<'_>, conn: &mut Conn, waiting: Waiting, verdict: Verdict) -> Next {
    let engine = w.engine;
    let Waiting { pending: _taken, flight: mut f, mut share } = waiting;
    // The registry may have changed while it waited.
    f.table = engine.registry.snapshot_with_generation();
    w.mark_busy();
    let setup = BodySetup {
        framing: Framing::None,
        continue_pending: false,
        closing: f.close.is_some(),
        max_body: None,
    };
    let mut cx = context(w, conn, &f.table.1, f.request, setup);
    route_for_status(&mut cx);
    let first = verdict_response(&mut cx, verdict, &mut share);
    let mut response = respond(&mut cx, Some(first), false);
    f.close = run_close(engine, cx.panicked, f.close);
    vet(&mut cx, &mut response, f.close);
    if let Some(p) = cx.deferred.take() {
        p.abandon();
    }
    let sent = send(engine, &mut cx, &mut response, &mut f.close);
    let Context { request, .. } = cx;
    f.request = request;
    Next::Answered(finish(w, f, &conn.peer, sent))
}

/// The response a responder's verdict comes to.
fn verdict_response(
    cx: &mut Context<'_>,
    verdict: Verdict,
    share: &mut Option<crate::io::budget::Share>,
) -> Response {
    match verdict {
        Verdict::Response(r) if r.pass().is_some() || r.written => {
            cx.error_response(500, "Internal Server Error")
        }
        Verdict::Response(r) => *r,
        Verdict::TimedOut => cx.error_response(503, "Service Unavailable"),
        Verdict::Dropped => cx.error_response(500, "Internal Server Error"),
        Verdict::Overloaded => cx.error_response(503, "Service Unavailable").with_header("Retry-After", "1"),
        Verdict::Stream(mut head, feed) => {
            head.set_takeover(Takeover::Feed(FeedBody { feed, _share: share.take() }));
            *head
        }
    }
}
