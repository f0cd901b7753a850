//! Answers from other threads: a handler takes a [`Responder`], hands it to any thread and
//! returns; the worker goes on with other connections; the response is written when the
//! responder is used.
//!
//! ```text
//!  handler: cx.responder() ──► Pending (Waiting) ── handler returns ──► connection parked
//!                                  │                                    (Phase::Waiting,
//!   any thread: send(response) ────┤ Ready(response)                     pipelined bytes kept)
//!   deadline passes (monitor) ─────┤ Ready(503)                               │
//!   responder dropped unused ──────┘ Ready(500)                               │
//!                                  │ key pushed to its seat's poller,         │
//!                                  ▼ whose waker wakes the seat's worker      ▼
//!                     a worker takes the connection, writes the response, serves what follows
//! ```
//!
//! A settled `Pending` is never settled again: the first of send, deadline and drop wins.
//! When the connection goes away first (closed at shutdown or by its safety deadline), the
//! pending answer is abandoned and a later `send` returns the response to its caller.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::handler::response::Response;
use crate::io::lock;
use crate::io::poller::Poller;

/// What a waiting connection is answered with.
pub(crate) enum Verdict {
    /// The responder's response.
    Response(Box<Response>),
    /// The deadline passed: 503.
    TimedOut,
    /// The responder was dropped unused: 500.
    Dropped,
}

enum Slot {
    Waiting,
    Ready(Verdict),
    Done,
}

/// The answer a waiting connection expects, shared by the responder, the monitor (deadline)
/// and the worker that writes it.
pub(crate) struct Pending {
    slot: Mutex<Slot>,
    key: u64,
    /// The poller of the connection's seat.
    queue: Arc<Poller>,
    pub(crate) deadline: Instant,
}

impl Pending {
    /// Settles the answer (first come wins) and schedules the connection; gives `v` back
    /// when it was settled already.
    fn settle(&self, v: Verdict) -> Result<(), Verdict> {
        {
            let mut slot = lock(&self.slot);
            if !matches!(*slot, Slot::Waiting) {
                return Err(v);
            }
            *slot = Slot::Ready(v);
        }
        self.queue.resume(self.key);
        Ok(())
    }

    /// The answer, once settled; `None` while waiting (or once taken).
    pub(crate) fn take(&self) -> Option<Verdict> {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Done) {
            Slot::Ready(v) => Some(v),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// True while no answer has been settled.
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(*lock(&self.slot), Slot::Waiting)
    }

    /// Settles a 503 if the deadline has passed; true when the entry is finished with.
    pub(crate) fn expire(&self, now: Instant) -> bool {
        if !self.is_waiting() {
            return true;
        }
        now >= self.deadline && self.settle(Verdict::TimedOut).is_ok()
    }

    /// The connection is gone: nobody will take an answer.
    pub(crate) fn abandon(&self) {
        *lock(&self.slot) = Slot::Done;
    }
}

/// Sends the response to one request from any thread; see
/// [`Context::responder`](crate::Context::responder).
///
/// `Send`, not `Clone`: exactly one answer. Dropping it unused answers 500; not using it
/// before its deadline answers 503.
///
/// ```
/// fn assert_send<T: Send>() {}
/// assert_send::<http_server::Responder>();
/// ```
pub struct Responder {
    pending: Option<Arc<Pending>>,
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder").field("open", &self.is_open()).finish()
    }
}

impl Responder {
    pub(crate) fn new(key: u64, queue: Arc<Poller>, deadline: Instant) -> (Responder, Arc<Pending>) {
        let pending = Arc::new(Pending { slot: Mutex::new(Slot::Waiting), key, queue, deadline });
        (Responder { pending: Some(pending.clone()) }, pending)
    }

    /// A responder that answers nothing (`send` fails).
    pub(crate) fn inert() -> Responder {
        Responder { pending: None }
    }

    /// Sends `response`. Any body works: bytes, a reader, or a writer that streams chunks
    /// ([`Response::from_writer`]; it then runs on a worker, which it holds while it writes).
    /// Status handlers shape it as any other response; [`Response::next`],
    /// [`Response::restart`] and [`Response::written`] make no sense here and become a 500.
    ///
    /// # Errors
    /// Gives the response back when nobody waits for it any more: the deadline passed (the
    /// client got 503), the connection closed, or the handler did not return
    /// [`Response::later`]-style (it wrote its response itself, or panicked).
    #[allow(clippy::result_large_err)] // the response comes back by value, as it was given
    pub fn send(mut self, response: Response) -> Result<(), Response> {
        let Some(pending) = self.pending.take() else { return Err(response) };
        pending.settle(Verdict::Response(Box::new(response))).map_err(|v| match v {
            Verdict::Response(r) => *r,
            _ => Response::new(500),
        })
    }

    /// True while a response is still awaited (not sent, not timed out, connection open).
    pub fn is_open(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.is_waiting())
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            let _ = p.settle(Verdict::Dropped);
        }
    }
}
