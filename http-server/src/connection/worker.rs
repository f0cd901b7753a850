//! A worker's reusable state: its buffers, the head cache, its own poller for waits inside
//! a request, the handler slot a turn holds, and what it shows the monitor.

use std::sync::atomic::{AtomicU64, Ordering};

use http_utils::{Headers, Method, Version};

use super::engine::Engine;
use super::flight::InFlight;
use super::refusal::Refusal;
use crate::io::head::{plan, write_head, Head, HeadCache};
use crate::io::poller::Solo;
use crate::io::wire::ReadBuf;

/// What a worker shows the monitor and the server's handle, on a cache line of its own: only
/// that worker writes it, so a request costs no shared read-modify-write here.
#[repr(align(64))]
#[derive(Default)]
pub(crate) struct WorkerCell {
    /// A tag of the request being served, 0 when idle.
    pub(crate) busy: AtomicU64,
    /// Requests answered by this worker.
    pub(crate) served: AtomicU64,
}

/// A worker's reusable state.
pub(crate) struct Worker<'s> {
    pub engine: &'s Engine,
    pub rbuf: ReadBuf,
    /// Responses gathered to be written together (the heads and small bodies of pipelined
    /// requests' answers).
    pub wbuf: Vec<u8>,
    /// The `Date` and `Server` lines and the last head written, for the heads in `wbuf`.
    pub heads: HeadCache,
    /// A poller of the worker's own, for waits inside a request.
    pub solo: Solo,
    /// What this worker shows the monitor (marked busy while a request is served) and the
    /// count of requests it answered; without one, the engine's shared count is used.
    pub cell: Option<&'s WorkerCell>,
    pub busy_tag: u64,
    /// The key of the connection being driven.
    pub key: u64,
    /// The poller's report for this turn said the peer closed its side: its end is still to
    /// be read, and no other report will come for it.
    pub hangup: bool,
    /// The last read of this turn (the `Head` phase's) proved the socket empty (see
    /// [`SHORT_READ_DRAINS`](crate::io::attempt::SHORT_READ_DRAINS)): the connection may
    /// park without another read. A phase that reads the socket otherwise (a body) clears it.
    pub drained: bool,
    /// The connection was idle when this turn began (between requests, nothing buffered).
    pub idle_at_start: bool,
    /// This turn was scheduled (a responder's answer, a stream's or a WebSocket's queue, a
    /// clock) rather than reported by the socket: nothing can have arrived since a read that
    /// found the socket empty (its registration is edge-triggered).
    pub resumed: bool,
    /// Request heads read in this turn: a connection with many pipelined requests gives way
    /// to the others after a number of them.
    pub heads_read: u32,
    /// The record of a request done with, whose buffers (and table) the next request head
    /// is read into.
    pub spare: Option<Box<InFlight>>,
    /// A handler slot (the request-count limit) taken for a request of the connection being
    /// driven and kept for the requests after it in the same turn (pipelined ones): given
    /// back when the turn ends ([`release_slot`](Worker::release_slot)), or at once when a
    /// request waits in the queue for one. Two locked instructions a turn, not a request.
    pub slot: bool,
}

impl<'s> Worker<'s> {
    pub(crate) fn new(engine: &'s Engine, id: u64) -> Worker<'s> {
        Worker {
            engine,
            rbuf: ReadBuf::new(),
            wbuf: Vec::with_capacity(8 * 1024),
            heads: HeadCache::new(&engine.site.server_name),
            solo: Solo::new(),
            cell: None,
            busy_tag: id << 40,
            key: 0,
            hangup: false,
            drained: false,
            idle_at_start: false,
            resumed: false,
            heads_read: 0,
            spare: None,
            slot: false,
        }
    }

    /// True while responses gathered in `wbuf` wait to be written.
    #[inline]
    pub(crate) fn has_output(&self) -> bool {
        !self.wbuf.is_empty()
    }

    /// Takes a handler slot for a request: true when this turn holds one already or one is
    /// free (it is then held until [`release_slot`](Worker::release_slot)).
    #[inline]
    pub(crate) fn take_slot(&mut self) -> bool {
        if !self.slot {
            let limit = self.engine.settings.request_count_limit;
            let taken = self
                .engine
                .active
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1));
            self.slot = taken.is_ok();
        }
        self.slot
    }

    /// Gives back the handler slot this turn holds, if any; the request that waited
    /// longest in the queue is then scheduled.
    pub(crate) fn release_slot(&mut self) {
        if std::mem::take(&mut self.slot) {
            self.engine.active.fetch_sub(1, Ordering::AcqRel);
            if let Some(key) = self.engine.queue.pop() {
                self.engine.poller_of(key).resume(key);
            }
        }
    }

    /// The record to read the next request head into: the one kept from the last request,
    /// or a new one.
    pub(crate) fn take_record(&mut self) -> Box<InFlight> {
        match self.spare.take() {
            Some(f) => f,
            None => InFlight::blank(self.engine.registry.snapshot_with_generation()),
        }
    }

    /// Writes a complete error response with `Connection: close` into the worker's buffer,
    /// for a request that could not be parsed or must be cut off; returns the body's length.
    pub(crate) fn write_refusal(&mut self, refusal: Refusal, version: Version) -> u64 {
        let engine = self.engine;
        let table = engine.registry.snapshot();
        let html = table.error_page(refusal.status, refusal.reason);
        let p = plan(
            engine.site.protocol,
            version,
            &Method::Get,
            refusal.status,
            Some(html.len() as u64),
            true,
            true,
        );
        write_head(
            &mut self.wbuf,
            &mut self.heads,
            &Head {
                date: engine.site.clock.unix_secs(),
                version: engine.site.protocol,
                status: refusal.status,
                reason: None,
                content_type: Some(&std::borrow::Cow::Borrowed("text/html; charset=utf-8")),
                headers: &Headers::new(),
                framing: p.framing,
                connection: p.connection,
            },
        );
        self.wbuf.extend_from_slice(html.as_bytes());
        html.len() as u64
    }

    /// Marks the worker busy with a request (user code may run, and block).
    pub(crate) fn mark_busy(&mut self) {
        if let Some(c) = self.cell {
            self.busy_tag += 1;
            c.busy.store(self.busy_tag, Ordering::Relaxed);
        }
    }

    /// Counts an answered request.
    pub(crate) fn count_request(&self) {
        use Ordering::Relaxed;
        match self.cell {
            // Single writer: a plain load and store, no locked instruction.
            Some(c) => c.served.store(c.served.load(Relaxed) + 1, Relaxed),
            None => {
                self.engine.requests.fetch_add(1, Relaxed);
            }
        }
    }

    /// Marks the worker idle again.
    pub(crate) fn mark_idle(&self) {
        if let Some(c) = self.cell {
            c.busy.store(0, Ordering::Relaxed);
        }
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        // A worker that unwinds mid-turn must not keep a slot from the others for good.
        self.release_slot();
    }
}
