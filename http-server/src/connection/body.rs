//! The `Body` phase: a request body read by the engine as its bytes arrive, into a buffer
//! bounded by the body limit, with the connection parked in between (nginx's request
//! buffering). A chunked body is decoded on the way in. When it is complete it is put in
//! front of the read buffer and the request is dispatched as one with a `Length` body, so
//! the handler reads it from memory.
//!
//! ```text
//!   [100 Continue still to write] ──► bytes in the read buffer ──► body buffer ──► complete:
//!          ▲   socket full: park          │ need more                            dispatch
//!          │                              ▼
//!          └──────── read ◄── would block: park (body timeout, minimum body rate: 408)
//!                      │ end of stream: close; too large: 413; malformed chunks: 400
//! ```

use std::io;

use http_utils::{ChunkedDecoder, Framing};

use super::answer::Answer;
use super::flight::InFlight;
use super::log::log;
use super::refusal::Refusal;
use super::worker::Worker;
use super::{CloseReason, Conn, Next, Phase};
use crate::io::attempt::{attempt, attempt_flush, Attempt};
use crate::io::budget::Share;
use crate::io::transport::Connection;
use crate::io::wire::{Progress, READ_BUF};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
/// Reads per turn before the connection gives way to the others.
const READS_PER_TURN: u32 = 64;
/// A body buffer grows to at most this many times the bytes that arrived.
const GROWTH: usize = 4;

enum Kind {
    Length { left: u64 },
    Chunked(Box<ChunkedDecoder>),
}

/// A request whose body is being read.
pub(crate) struct BodyIn {
    flight: Box<InFlight>,
    kind: Kind,
    /// The body so far (decoded, for a chunked one).
    buf: Vec<u8>,
    progress: Progress,
    /// Bytes of `100 Continue` still to write.
    continue_at: usize,
    /// Its share of the memory all buffered bodies may take.
    share: Share,
    /// The most body bytes it may bring (its route's limit or the server's).
    max: u64,
}

impl BodyIn {
    /// The request whose body this is.
    pub(crate) fn request_mut(&mut self) -> &mut http_utils::Request {
        &mut self.flight.request
    }

    /// The room its body buffer holds, used or not.
    #[cfg(test)]
    pub(super) fn buffer_room(&self) -> usize {
        self.buf.capacity()
    }

    pub(super) fn new(
        w: &Worker<'_>,
        flight: Box<InFlight>,
        expects_continue: bool,
        max: u64,
    ) -> Box<BodyIn> {
        let l = w.engine.wire.limits;
        let kind = match flight.framing {
            Framing::Length(n) => Kind::Length { left: n },
            // A chunk size past the body limit is refused at its size line.
            _ => Kind::Chunked(Box::new(ChunkedDecoder::new(&l).with_max_body(max))),
        };
        // Nothing is allocated for the body before its bytes come: a peer that announces a
        // body and sends none costs no buffer while it is parked.
        Box::new(BodyIn {
            flight,
            kind,
            buf: Vec::new(),
            progress: Progress::default(),
            continue_at: if expects_continue { 0 } else { CONTINUE.len() },
            share: Share::new(&w.engine.body_budget),
            max,
        })
    }

    /// Moves body bytes out of the read buffer; true once the body is complete.
    fn take(&mut self, w: &mut Worker<'_>, max: u64) -> Result<bool, Refusal> {
        match &mut self.kind {
            Kind::Length { left } => {
                let avail = w.rbuf.available();
                let n = avail.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                if !self.share.grow(n as u64) {
                    return Err(Refusal::BUSY);
                }
                self.buf.extend_from_slice(&avail[..n]);
                w.rbuf.consume(n);
                *left -= n as u64;
                Ok(*left == 0)
            }
            Kind::Chunked(dec) => {
                while !w.rbuf.is_empty() && !dec.is_done() {
                    let avail = w.rbuf.available();
                    let old = self.buf.len();
                    let room = avail.len().clamp(64, READ_BUF);
                    self.buf.resize(old + room, 0);
                    let (used, produced) = match dec.decode(avail, &mut self.buf[old..]) {
                        Ok(v) => v,
                        Err(e) => {
                            self.buf.truncate(old);
                            return Err(Refusal::of(&e));
                        }
                    };
                    self.buf.truncate(old + produced);
                    w.rbuf.consume(used);
                    if !self.share.grow(produced as u64) {
                        return Err(Refusal::BUSY);
                    }
                    if self.buf.len() as u64 > max {
                        return Err(Refusal::TOO_LARGE);
                    }
                    if used == 0 && produced == 0 {
                        break;
                    }
                }
                Ok(dec.is_done())
            }
        }
    }

    /// True when the body's next bytes are read straight into its buffer: a body of known
    /// length once a read buffer's worth of it has come. Before that they go through the
    /// worker's read buffer and are copied, so that a body trickling in holds a buffer the
    /// size of what came (at most twice that), not a read buffer's room.
    fn reads_direct(&self) -> bool {
        matches!(self.kind, Kind::Length { .. }) && self.buf.len() >= READ_BUF
    }

    /// Reads the rest of a body of known length from the socket straight into the body
    /// buffer (the read buffer is empty); the count read, to be passed to
    /// [`count_direct`](BodyIn::count_direct). The declared length is trusted only as far as
    /// bytes arrive: the buffer grows to at most [`GROWTH`] times what is there (each growth
    /// copies the body so far, so a large body is copied about a third of its size in all,
    /// where doubling would copy it whole), and never past the declared end, so the next
    /// request's bytes are not read here (should the buffer hold more room than asked, bytes
    /// past the body stay after it, for [`complete`]).
    fn read_direct(&mut self, io: &mut dyn Connection) -> io::Result<usize> {
        let Kind::Length { left } = &self.kind else { return Ok(0) };
        let have = self.buf.len();
        let want =
            usize::try_from(*left).unwrap_or(usize::MAX).min(have.saturating_mul(GROWTH - 1).max(READ_BUF));
        if self.buf.capacity() - have < want {
            self.buf.reserve_exact(want);
        }
        io.read_into_spare(&mut self.buf)
    }

    /// Counts `n` bytes read by [`read_direct`](BodyIn::read_direct); false when the body
    /// budget refuses them.
    fn count_direct(&mut self, n: usize) -> bool {
        let Kind::Length { left } = &mut self.kind else { return true };
        let body = n.min(usize::try_from(*left).unwrap_or(usize::MAX));
        *left -= body as u64;
        self.share.grow(body as u64)
    }

    /// Writes what is left of `100 Continue`: `Ok(true)` once it is all out.
    fn send_continue(&mut self, io: &mut dyn Connection) -> io::Result<bool> {
        while self.continue_at < CONTINUE.len() {
            match attempt(|| io.write(&CONTINUE[self.continue_at..]))? {
                Attempt::Done(n) => self.continue_at += n,
                Attempt::Blocked => return Ok(false),
                Attempt::Closed => return Err(io::ErrorKind::WriteZero.into()),
            }
        }
        // A transport with output of its own (TLS) sends what is left of it with its next
        // read or write, or when the socket has room again.
        attempt_flush(|| io.flush()).map(|_| true)
    }
}

/// Reads a body on, without waiting: the request is dispatched when its body is complete,
/// the connection parks when the socket is empty.
pub(super) fn advance(w: &mut Worker<'_>, conn: &mut Conn, mut b: Box<BodyIn>) -> Next {
    let max = b.max;
    // What the `Head` phase last read says nothing of the socket once a body is read.
    w.drained = false;
    for _ in 0..READS_PER_TURN {
        match b.send_continue(&mut *conn.io) {
            Ok(true) => {}
            Ok(false) => return wait(w, conn, b),
            Err(_) => return Next::Close(CloseReason::WriteFailed),
        }
        match b.take(w, max) {
            Ok(true) => return complete(w, *b),
            Ok(false) => {}
            Err(refusal) => return failed(w, conn, *b, refusal),
        }
        // Once the read buffer is drained, a body of known length that is flowing is read
        // straight into its own buffer.
        let direct = w.rbuf.is_empty() && b.reads_direct();
        let read = if direct {
            attempt(|| b.read_direct(&mut *conn.io))
        } else {
            attempt(|| w.rbuf.read_from(&mut *conn.io, READ_BUF))
        };
        match read {
            Ok(Attempt::Done(n)) if direct && !b.count_direct(n) => {
                return failed(w, conn, *b, Refusal::BUSY)
            }
            Ok(Attempt::Done(n)) => b.progress.add(n),
            Ok(Attempt::Blocked) => return wait(w, conn, b),
            Ok(Attempt::Closed) => return Next::Close(CloseReason::BodyFailed),
            Err(_) => return Next::Close(CloseReason::ReadFailed),
        }
    }
    Next::Yield(Phase::Body(b))
}

/// Parks a body that waits for the peer, within the body timeout and the minimum rate.
fn wait(w: &mut Worker<'_>, conn: &mut Conn, mut b: Box<BodyIn>) -> Next {
    let t = &w.engine.wire.timeouts;
    let now = w.engine.site.clock.now();
    match b.progress.deadline(now, t.body, t.min_body_rate, t.body, "the request body arrives too slowly") {
        Ok(deadline) => {
            conn.deadline = deadline;
            Next::Park(Phase::Body(b))
        }
        Err(_) => failed(w, conn, *b, Refusal::TIMED_OUT),
    }
}

/// The body could not be read: an error answer, and the connection closes. Status
/// handlers or middleware may shape it: then it goes through the handler's path, with no
/// body to read.
fn failed(w: &mut Worker<'_>, conn: &Conn, mut b: BodyIn, refusal: Refusal) -> Next {
    if b.flight.table.1.shapes_answers() {
        let BodyIn { mut flight, .. } = b;
        flight.framing = Framing::None;
        flight.refuse(refusal, CloseReason::BodyFailed);
        return Next::Run(flight);
    }
    let bytes = w.write_refusal(refusal, b.flight.request.version());
    b.flight.close = Some(CloseReason::BodyFailed);
    log(&b.flight, &conn.peer, refusal.status, bytes);
    Next::Answered(Answer::closing(CloseReason::BodyFailed, true))
}

/// The body is complete: it goes in front of what follows it in the read buffer, and the
/// request is dispatched with a `Length` body.
fn complete(w: &mut Worker<'_>, b: BodyIn) -> Next {
    let BodyIn { mut flight, mut buf, share, kind, .. } = b;
    // A body of known length may have bytes of what follows after it (see `read_direct`).
    let len = match kind {
        Kind::Length { .. } => flight.framing.known_length().unwrap_or(buf.len() as u64),
        Kind::Chunked(_) => buf.len() as u64,
    };
    flight.framing = Framing::Length(len);
    flight.body_share = Some(share);
    buf.extend_from_slice(w.rbuf.available());
    w.rbuf.adopt(buf);
    Next::Dispatch(flight)
}
