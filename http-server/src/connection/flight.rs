//! The request in flight: one record that moves through the phases from its complete head
//! to its logged answer (admitted, its body read, queued, run, waiting for a responder,
//! its body written).

use std::sync::Arc;
use std::time::Instant;

use http_utils::{Framing, Method, Request};

use super::refusal::Refusal;
use super::CloseReason;
use crate::handler::context::Table;
use crate::handler::registry::Registry;
use crate::handler::responder::Pending;
use crate::io::budget::Share;
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

/// A request past its head, and what the server decided about it.
pub(crate) struct InFlight {
    pub request: Box<Request>,
    /// The table it is served with, and its generation.
    pub table: (u64, Arc<Table>),
    pub framing: Framing,
    pub mode: BodyMode,
    /// Close after the response, and why (decided from the request, before the handler).
    pub close: Option<CloseReason>,
    /// Linger when closing (the peer may still be sending).
    pub linger: bool,
    /// An answer the server gives without running the handler (a bad `Host`, an
    /// unsupported expectation, a body over the limit, every worker busy...).
    pub refusal: Option<Refusal>,
    /// `Expect: 100-continue` is still to be answered (streamed bodies only).
    pub expects_continue: bool,
    /// The handler reads its body from the socket (`100-continue`) but the route does not
    /// stream: the body is held to this limit (the route's or the server's) as it is read.
    pub limited: Option<u64>,
    /// When the head was complete, for the log hook.
    pub started: Option<Instant>,
    /// Until when it may wait in the queue.
    pub queued_until: Option<Instant>,
    /// The share of the body budget its buffered body holds, given back when its handler is
    /// done.
    pub body_share: Option<Share>,
    /// Its streaming slot (`BodyMode::Streamed`), given back when its handler is done.
    pub stream_share: Option<Share>,
}

impl InFlight {
    /// A record to read a request head into, with the table requests are served with now.
    /// A worker keeps the record of a request done with for the next (its buffers and its
    /// table with it), so that a request costs no allocation.
    pub(crate) fn blank(table: (u64, Arc<Table>)) -> Box<InFlight> {
        Box::new(InFlight {
            request: Box::new(Request::new(Method::Get, String::new())),
            table,
            framing: Framing::None,
            mode: BodyMode::Buffered,
            close: None,
            linger: false,
            refusal: None,
            expects_continue: false,
            limited: None,
            started: None,
            queued_until: None,
            body_share: None,
            stream_share: None,
        })
    }

    /// Makes the record ready for the request whose head was just read into it: served with
    /// `registry`'s table (the one it holds while the registry has not changed), `framing`
    /// its body's, nothing decided yet.
    pub(crate) fn begin(&mut self, registry: &Registry, framing: Framing) {
        if self.table.0 != registry.generation() {
            self.table = registry.snapshot_with_generation();
        }
        self.framing = framing;
        self.mode = BodyMode::Buffered;
        self.close = None;
        self.linger = false;
        self.refusal = None;
        self.expects_continue = false;
        self.limited = None;
        self.started = (self.table.1.log_hook.is_some() || self.table.1.debug).then(Instant::now);
        self.queued_until = None;
        self.release_shares();
    }

    /// Answers `refusal` without running the handler; the connection closes after it for
    /// `reason` (lingering: the peer may be sending its body).
    pub(crate) fn refuse(&mut self, refusal: Refusal, reason: CloseReason) {
        self.close = self.close.or(Some(reason));
        self.linger = true;
        self.refusal = Some(refusal);
    }

    /// Every worker is busy and the request cannot wait: 503 (with `Retry-After`). The
    /// connection closes when a body may still be on its way.
    pub(crate) fn refuse_busy(&mut self, rbuf: &ReadBuf) {
        if self.mode == BodyMode::Streamed {
            self.stream_share = None;
            self.mode = BodyMode::Buffered;
        }
        if !body_in_buffer(self.framing, rbuf) {
            self.close = self.close.or(Some(CloseReason::Busy));
            self.linger = true;
        }
        self.refusal = Some(Refusal::BUSY);
    }

    /// Gives back the body budget and the streaming slot its handler held.
    pub(crate) fn release_shares(&mut self) {
        self.body_share = None;
        self.stream_share = None;
    }

    /// True when the whole body (none, or one of a known length) sits in `rbuf`.
    pub(crate) fn body_in(&self, rbuf: &ReadBuf) -> bool {
        body_in_buffer(self.framing, rbuf)
    }
}

/// True when the whole body (none, or one of a known length) sits in the read buffer.
fn body_in_buffer(framing: Framing, rbuf: &ReadBuf) -> bool {
    match framing {
        Framing::None => true,
        Framing::Length(n) => rbuf.available().len() as u64 >= n,
        _ => false,
    }
}

/// A request whose answer comes from a [`Responder`](crate::Responder), kept with its
/// connection while it waits (the connection is parked in `Phase::Waiting`).
pub(crate) struct Waiting {
    pub pending: Awaited,
    pub flight: Box<InFlight>,
    /// Its share of the stream cap (passed on to a stream it becomes).
    pub share: Option<Share>,
}

impl Waiting {
    /// True while no answer has come.
    pub(crate) fn unanswered(&self) -> bool {
        self.pending.0.is_waiting()
    }
}

/// The answer awaited from a responder; nobody will take it once this is dropped (it was
/// taken, or the connection is gone).
pub(crate) struct Awaited(pub Arc<Pending>);

impl Drop for Awaited {
    fn drop(&mut self) {
        self.0.abandon();
    }
}
