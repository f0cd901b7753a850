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

use super::compose::error_response;
use super::engine::Share;
use super::serve::{dispatch, Admitted};
use super::{would_block, After, CloseReason, Conn, Outcome, Phase, Step, Worker};
use crate::io::transport::PeerAddr;
use crate::io::wire::{Progress, READ_BUF};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
/// The answer when the bodies being read together would pass the server's body budget.
const OVER_BUDGET: (u16, &str) = (503, "Service Unavailable");
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
    adm: Admitted,
    kind: Kind,
    /// The body so far (decoded, for a chunked one).
    buf: Vec<u8>,
    progress: Progress,
    /// Bytes of `100 Continue` still to write.
    continue_at: usize,
    /// Its share of the memory all buffered bodies may take.
    share: Share,
}

impl BodyIn {
    /// The request whose body this is.
    pub(super) fn request_mut(&mut self) -> &mut http_utils::Request {
        &mut self.adm.request
    }

    /// The room its body buffer holds, used or not.
    #[cfg(test)]
    pub(super) fn buffer_room(&self) -> usize {
        self.buf.capacity()
    }

    pub(super) fn new(w: &Worker<'_>, adm: Admitted, expects_continue: bool) -> Box<BodyIn> {
        let l = w.engine.wire.limits;
        let kind = match adm.framing {
            Framing::Length(n) => Kind::Length { left: n },
            // A chunk size past the body limit is refused at its size line.
            _ => Kind::Chunked(Box::new(ChunkedDecoder::new(&l).with_max_body(l.max_body))),
        };
        // Nothing is allocated for the body before its bytes come: a peer that announces a
        // body and sends none costs no buffer while it is parked.
        Box::new(BodyIn {
            adm,
            kind,
            buf: Vec::new(),
            progress: Progress::default(),
            continue_at: if expects_continue { 0 } else { CONTINUE.len() },
            share: Share::new(&w.engine.body_budget),
        })
    }

    /// Moves body bytes out of the read buffer; true once the body is complete.
    fn take(&mut self, w: &mut Worker<'_>, max: u64) -> Result<bool, (u16, &'static str)> {
        match &mut self.kind {
            Kind::Length { left } => {
                let avail = w.rbuf.available();
                let n = avail.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                if !self.share.grow(n as u64) {
                    return Err(OVER_BUDGET);
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
                    let r = dec.decode(avail, &mut self.buf[old..]);
                    let (used, produced) = match r {
                        Ok(v) => v,
                        Err(e) => {
                            self.buf.truncate(old);
                            return Err((e.status(), e.kind().map_or("Bad Request", |k| k.description())));
                        }
                    };
                    self.buf.truncate(old + produced);
                    w.rbuf.consume(used);
                    if !self.share.grow(produced as u64) {
                        return Err(OVER_BUDGET);
                    }
                    if self.buf.len() as u64 > max {
                        return Err((413, "Content Too Large"));
                    }
                    if used == 0 && produced == 0 {
                        break;
                    }
                }
                Ok(dec.is_done())
            }
        }
    }
}

impl BodyIn {
    /// True when the body's next bytes are read straight into its buffer: a body of known
    /// length once a read buffer's worth of it has come. Before that they go through the
    /// worker's read buffer and are copied, so that a body trickling in holds a buffer the
    /// size of what came (at most twice that), not a read buffer's room.
    fn reads_direct(&self) -> bool {
        matches!(self.kind, Kind::Length { .. }) && self.buf.len() >= READ_BUF
    }

    /// Reads the rest of a body of known length from the socket straight into the body
    /// buffer (the read buffer is empty): the count read, and false when the body budget
    /// refuses the bytes. The declared length is trusted only as far as bytes arrive: the buffer
    /// grows to at most [`GROWTH`] times what is there (each growth copies the body so far, so
    /// a large body is copied about a third of its size in all, where doubling would copy it
    /// whole), and never past the declared end, so the next request's bytes are not read here
    /// (should the buffer hold more room than asked, bytes past the body stay after it, for
    /// [`complete`]).
    fn read_direct(&mut self, io: &mut dyn crate::io::transport::Connection) -> io::Result<(usize, bool)> {
        let Kind::Length { left } = &mut self.kind else { return Ok((0, true)) };
        let have = self.buf.len();
        let want =
            usize::try_from(*left).unwrap_or(usize::MAX).min(have.saturating_mul(GROWTH - 1).max(READ_BUF));
        if self.buf.capacity() - have < want {
            self.buf.reserve_exact(want);
        }
        let n = io.read_into_spare(&mut self.buf)?;
        let body = n.min(usize::try_from(*left).unwrap_or(usize::MAX));
        *left -= body as u64;
        Ok((n, self.share.grow(body as u64)))
    }
}

/// Reads a body on, without waiting: dispatches the request when the body is complete,
/// parks the connection when the socket is empty.
pub(super) fn advance(w: &mut Worker<'_>, conn: &mut Conn, mut b: Box<BodyIn>) -> Step {
    let engine = w.engine;
    let max = engine.wire.limits.max_body;
    for _ in 0..READS_PER_TURN {
        while b.continue_at < CONTINUE.len() {
            match conn.io.write(&CONTINUE[b.continue_at..]) {
                Ok(0) => return Step::Answered(After::Close(CloseReason::WriteFailed)),
                Ok(n) => {
                    b.continue_at += n;
                    // A transport with output of its own (TLS) sends what is left of it with
                    // its next read or write, or when the socket has room again.
                    match conn.io.flush() {
                        Err(e) if !would_block(&e) => {
                            return Step::Answered(After::Close(CloseReason::WriteFailed))
                        }
                        _ => {}
                    }
                }
                Err(e) if would_block(&e) => return wait(w, conn, b),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Answered(After::Close(CloseReason::WriteFailed)),
            }
        }
        match b.take(w, max) {
            Ok(true) => return complete(w, conn, *b),
            Ok(false) => {}
            Err((status, message)) => return failed(w, &conn.peer, &b, status, message),
        }
        // Once the read buffer is drained, a body of known length that is flowing is read
        // straight into its own buffer.
        let read = if w.rbuf.is_empty() && b.reads_direct() {
            b.read_direct(&mut *conn.io)
        } else {
            w.rbuf.read_from(&mut *conn.io, READ_BUF).map(|(n, _)| (n, true))
        };
        match read {
            Ok((0, _)) => return Step::Answered(After::Close(CloseReason::BodyFailed)),
            Ok((_, false)) => return failed(w, &conn.peer, &b, OVER_BUDGET.0, OVER_BUDGET.1),
            Ok((n, true)) => b.progress.add(n),
            Err(e) if would_block(&e) => return wait(w, conn, b),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Answered(After::Close(CloseReason::ReadFailed)),
        }
    }
    conn.phase = Phase::Body(b);
    Step::Wait(Outcome::Yield)
}

/// Parks a body that waits for the peer, within the body timeout and the minimum rate.
fn wait(w: &mut Worker<'_>, conn: &mut Conn, mut b: Box<BodyIn>) -> Step {
    let t = &w.engine.wire.timeouts;
    let now = w.engine.site.clock.now();
    match b.progress.deadline(now, t.body, t.min_body_rate, t.body, "the request body arrives too slowly") {
        Ok(deadline) => {
            conn.deadline = deadline;
            conn.phase = Phase::Body(b);
            Step::Wait(Outcome::Park)
        }
        Err(_) => failed(w, &conn.peer, &b, 408, "Request Timeout"),
    }
}

/// The body could not be read: an error answer, and the connection closes.
fn failed(w: &mut Worker<'_>, peer: &PeerAddr, b: &BodyIn, status: u16, message: &str) -> Step {
    let bytes = error_response(w, status, message, b.adm.request.version());
    let table = w.engine.registry.snapshot();
    let reason = Some(CloseReason::BodyFailed);
    super::respond::log(&table, &b.adm.request, peer, status, bytes, b.adm.started, reason);
    Step::Answered(After::Linger(CloseReason::BodyFailed))
}

/// The body is complete: it goes in front of what follows it in the read buffer, and the
/// request is dispatched with a `Length` body.
fn complete(w: &mut Worker<'_>, conn: &mut Conn, b: BodyIn) -> Step {
    let BodyIn { mut adm, mut buf, share, kind, .. } = b;
    // A body of known length may have bytes of what follows after it (see `read_direct`).
    let len = match kind {
        Kind::Length { .. } => adm.framing.known_length().unwrap_or(buf.len() as u64),
        Kind::Chunked(_) => buf.len() as u64,
    };
    adm.framing = Framing::Length(len);
    adm.body_share = Some(share);
    buf.extend_from_slice(w.rbuf.available());
    w.rbuf.adopt(buf);
    dispatch(w, conn, adm)
}
