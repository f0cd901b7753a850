//! Responses on their way out: the `Write` phase. What the worker gathered (heads, small
//! bodies) and the body left for the engine (bytes, a file, a reader, a stream's chunks)
//! are written as the socket takes them, with the connection parked in between; then the
//! connection goes on, closes, lingers, or (after a `101`) goes to its upgrade handler.

use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use http_utils::{chunk_size_line, encode_last_chunk, Headers};

use super::feed::{FeedOut, Fill};
use super::read::start_linger;
use super::upgrade::{hand_over, UpgradeJob};
use super::{would_block, CloseReason, Conn, Outcome, Phase, Worker};
use crate::io::wire::Progress;

/// How much of a streamed body is read ahead of the socket.
const READ_AHEAD: usize = 32 * 1024;

/// A body the engine sends after the bytes before it.
pub(crate) enum OutBody {
    /// Bytes in memory, from `pos` on.
    Bytes { data: Vec<u8>, pos: usize },
    /// Bytes that live forever, from `pos` on.
    Static { data: &'static [u8], pos: usize },
    /// Bytes of a file, from `pos` to `end`.
    File { file: std::fs::File, pos: u64, end: u64 },
    /// A reader: exactly `left` bytes when the length is known, else chunks until it ends
    /// (with `trailers` after them) or until the connection closes.
    Reader { reader: Box<dyn Read + Send>, left: Option<u64>, chunked: bool, trailers: Option<Headers> },
    /// Chunks fed from a stream sender, until it is done.
    Feed(FeedOut),
    /// Nothing more: once the bytes before it are out, the connection goes to an upgrade
    /// handler.
    Upgrade(Box<UpgradeJob>),
}

/// What comes after a response is written.
pub(crate) enum Then {
    /// The connection goes on in this phase.
    Next(Phase),
    Close(CloseReason),
    Linger(CloseReason),
}

/// A response being written: bytes first, then the body, then what comes next.
pub(crate) struct Out {
    buf: Vec<u8>,
    pos: usize,
    body: Option<OutBody>,
    then: Then,
    progress: Progress,
    /// The log record to write once the body is out.
    log: Option<super::LateLog>,
    /// Parked with nothing to write: a stream waits for its next chunk.
    idle: bool,
}

/// How far writing got.
enum Pumped {
    /// Everything is out.
    Done,
    /// The socket is full.
    Full,
    /// A stream's queue is empty.
    Idle,
}

impl Out {
    /// True for a streamed answer (it may stay open indefinitely).
    pub(crate) fn is_feed(&self) -> bool {
        matches!(self.body, Some(OutBody::Feed(_)))
    }

    /// True while parked waiting for a stream's next chunk.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle
    }

    /// The request whose log record waits for the body to be out, if one does.
    pub(super) fn logged_request_mut(&mut self) -> Option<&mut http_utils::Request> {
        self.log.as_mut().map(super::LateLog::request_mut)
    }

    /// Everything is out: logs the response, gives what comes next.
    fn finish(mut self) -> Then {
        if let Some(log) = self.log.take() {
            log.sent();
        }
        self.then
    }
}

/// Writes what the worker gathered (`wbuf`, then `body`) without waiting. `None` when it is
/// all written and the connection goes on reading heads; otherwise the outcome: parked in
/// `Write` until the socket has room, closed, lingering, or (all written, another phase
/// next) `done`.
pub(super) fn emit(w: &mut Worker<'_>, conn: &mut Conn, then: Then, done: Outcome) -> Option<Outcome> {
    // A head that a file follows waits for the file's first bytes, to leave with them.
    let file_next = matches!(w.body, Some(OutBody::File { pos, end, .. }) if pos < end);
    let Ok(written) = write_some(&mut *conn.io, &w.wbuf, file_next) else {
        // The body goes with the connection; its log record says the write failed.
        w.wbuf.clear();
        w.body = None;
        w.late_log = None;
        return Some(Outcome::Close(CloseReason::WriteFailed));
    };
    let blocked = written < w.wbuf.len();
    if !blocked && w.body.is_none() && w.late_log.is_none() {
        // The common case, only bytes and all written: no parked write to set up.
        w.wbuf.clear();
        return next(w, conn, then, done);
    }
    let mut out = Out {
        buf: Vec::new(),
        pos: 0,
        body: w.body.take(),
        then,
        progress: Progress::default(),
        log: w.late_log.take(),
        idle: false,
    };
    if blocked {
        out.buf = w.wbuf[written..].to_vec();
    }
    w.wbuf.clear();
    let finished = if blocked { Ok(Pumped::Full) } else { pump_marked(w, conn, &mut out) };
    match finished {
        Err(reason) => Some(Outcome::Close(reason)),
        Ok(Pumped::Full) => Some(park_out(w, conn, out)),
        Ok(Pumped::Idle) => Some(park_idle(w, conn, out)),
        Ok(Pumped::Done) if matches!(out.body, Some(OutBody::Upgrade(_))) => Some(upgrade(w, conn, out)),
        Ok(Pumped::Done) => {
            let then = out.finish();
            next(w, conn, then, done)
        }
    }
}

/// Writes `bytes` until they are all out or the socket is full: how many went. `Err` when
/// the connection failed. `before_file`: a file body follows at once
/// ([`Connection::write_before_file`](crate::io::transport::Connection::write_before_file)).
fn write_some(
    io: &mut dyn crate::io::transport::Connection,
    bytes: &[u8],
    before_file: bool,
) -> Result<usize, ()> {
    let mut written = 0;
    while written < bytes.len() {
        let wrote =
            if before_file { io.write_before_file(&bytes[written..]) } else { io.write(&bytes[written..]) };
        match wrote {
            Ok(0) => return Err(()),
            Ok(n) => written += n,
            Err(e) if would_block(&e) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(()),
        }
    }
    Ok(written)
}

/// Where a connection goes once all its output is written.
fn next(w: &mut Worker<'_>, conn: &mut Conn, then: Then, done: Outcome) -> Option<Outcome> {
    match then {
        Then::Next(Phase::Head) => {
            if !matches!(conn.phase, Phase::Head) {
                conn.phase = Phase::Head;
            }
            None
        }
        Then::Next(phase) => {
            conn.phase = phase;
            Some(done)
        }
        Then::Close(reason) => Some(Outcome::Close(reason)),
        Then::Linger(reason) => Some(start_linger(w, conn, reason)),
    }
}

/// Hands the connection to its upgrade handler once the `101` head is out.
fn upgrade(w: &mut Worker<'_>, conn: &mut Conn, mut out: Out) -> Outcome {
    let Some(OutBody::Upgrade(job)) = out.body.take() else {
        return Outcome::Close(CloseReason::WriteFailed);
    };
    if let Some(log) = out.log.take() {
        log.sent();
    }
    hand_over(w, conn, *job)
}

/// Parks a stream whose queue is empty, until its next chunk, its keep-alive time or the
/// client's leaving. The rate clock starts again with the next chunk.
fn park_idle(w: &mut Worker<'_>, conn: &mut Conn, mut out: Out) -> Outcome {
    let now = w.engine.site.clock.now();
    conn.deadline = match &out.body {
        Some(OutBody::Feed(f)) => f.wake_at(now),
        _ => now,
    };
    out.progress = Progress::default();
    out.buf = Vec::new();
    out.pos = 0;
    out.idle = true;
    conn.phase = Phase::Write(Box::new(out));
    Outcome::Park
}

/// Parks a response that waits for room, within the write timeout and the minimum rate.
fn park_out(w: &mut Worker<'_>, conn: &mut Conn, mut out: Out) -> Outcome {
    out.idle = false;
    let t = &w.engine.wire.timeouts;
    let now = w.engine.site.clock.now();
    match out.progress.deadline(
        now,
        t.write,
        t.min_write_rate,
        t.write,
        "the peer reads below the minimum rate",
    ) {
        Ok(deadline) => {
            conn.deadline = deadline;
            conn.phase = Phase::Write(Box::new(out));
            Outcome::Park
        }
        Err(_) => Outcome::Close(CloseReason::WriteFailed),
    }
}

/// Goes on writing a parked response; once it is out, the connection goes on at once.
pub(super) fn resume(w: &mut Worker<'_>, conn: &mut Conn, mut out: Box<Out>) -> Outcome {
    match pump_marked(w, conn, &mut out) {
        Err(reason) => Outcome::Close(reason),
        Ok(Pumped::Full) => park_out(w, conn, *out),
        Ok(Pumped::Idle) => park_idle(w, conn, *out),
        Ok(Pumped::Done) if matches!(out.body, Some(OutBody::Upgrade(_))) => upgrade(w, conn, *out),
        Ok(Pumped::Done) => match out.finish() {
            Then::Next(phase) => {
                conn.phase = phase;
                Outcome::Again
            }
            Then::Close(reason) => Outcome::Close(reason),
            Then::Linger(reason) => start_linger(w, conn, reason),
        },
    }
}

/// [`pump`], with the worker marked busy while a reader's body is read: a reader is user code
/// that may block, and the monitor then gives the worker's seat to another worker.
fn pump_marked(w: &mut Worker<'_>, conn: &mut Conn, out: &mut Out) -> Result<Pumped, CloseReason> {
    let reads = matches!(out.body, Some(OutBody::Reader { .. }));
    if reads {
        w.mark_busy();
    }
    let r = pump(&mut *conn.io, out, w.engine.site.clock.now());
    if reads {
        w.mark_idle();
    }
    r
}

/// Writes until everything is out, the socket is full or a stream has nothing queued. A
/// body that cannot be finished closes the connection afterwards (its `then` becomes a
/// close). An upgrade stays in `out.body` for the caller.
fn pump(
    io: &mut dyn crate::io::transport::Connection,
    out: &mut Out,
    now: std::time::Instant,
) -> Result<Pumped, CloseReason> {
    out.idle = false;
    loop {
        while out.pos < out.buf.len() {
            match io.write(&out.buf[out.pos..]) {
                Ok(0) => return Err(CloseReason::WriteFailed),
                Ok(n) => {
                    out.pos += n;
                    out.progress.add(n);
                }
                Err(e) if would_block(&e) => return Ok(Pumped::Full),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::WriteFailed),
            }
        }
        out.buf.clear();
        out.pos = 0;
        let Some(body) = &mut out.body else { break };
        let (data, pos) = match body {
            OutBody::Upgrade(_) => break,
            OutBody::Feed(feed) => {
                match feed.refill(&mut out.buf, now) {
                    Fill::Data => {}
                    Fill::Idle => return Ok(Pumped::Idle),
                    Fill::Done => out.body = None,
                }
                continue;
            }
            OutBody::Bytes { data, pos } => (&data[..], pos),
            OutBody::Static { data, pos } => (*data, pos),
            OutBody::File { file, pos, end } => {
                match send_file(io, file, pos, *end, &mut out.progress) {
                    Ok(FileSent::Done) => out.body = None,
                    Ok(FileSent::Blocked) => return Ok(Pumped::Full),
                    Ok(FileSent::Unsupported) => {
                        // Not here: read and written like any reader.
                        let Some(OutBody::File { file, pos, end }) = out.body.take() else { break };
                        out.body = Some(file_as_reader(file, pos, end));
                    }
                    Err(reason) => {
                        out.body = None;
                        out.then = Then::Close(reason);
                    }
                }
                continue;
            }
            OutBody::Reader { .. } => {
                match refill(body, &mut out.buf, &mut out.pos) {
                    Ok(true) => {}
                    Ok(false) => out.body = None,
                    Err(reason) => {
                        // What was read goes out; then the connection closes.
                        out.body = None;
                        out.then = Then::Close(reason);
                    }
                }
                continue;
            }
        };
        while *pos < data.len() {
            match io.write(&data[*pos..]) {
                Ok(0) => return Err(CloseReason::WriteFailed),
                Ok(n) => {
                    *pos += n;
                    out.progress.add(n);
                }
                Err(e) if would_block(&e) => return Ok(Pumped::Full),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::WriteFailed),
            }
        }
        out.body = None;
    }
    match io.flush() {
        Ok(()) => Ok(Pumped::Done),
        Err(e) if would_block(&e) => Ok(Pumped::Full),
        Err(_) => Err(CloseReason::WriteFailed),
    }
}

/// What sending a file body came to.
enum FileSent {
    Done,
    Blocked,
    /// The transport cannot send from a file: read and write it instead.
    Unsupported,
}

/// Sends a file's bytes from `*pos` to `end` straight from the file (`sendfile`).
fn send_file(
    io: &mut dyn crate::io::transport::Connection,
    file: &std::fs::File,
    pos: &mut u64,
    end: u64,
    progress: &mut Progress,
) -> Result<FileSent, CloseReason> {
    while *pos < end {
        let want = usize::try_from(end - *pos).unwrap_or(usize::MAX).min(1 << 20);
        match io.send_file(file, *pos, want) {
            Ok(0) => return Err(CloseReason::ResponseUntilClose),
            Ok(n) => {
                *pos += n as u64;
                progress.add(n);
            }
            Err(e) if would_block(&e) => return Ok(FileSent::Blocked),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(FileSent::Unsupported),
            Err(_) => return Err(CloseReason::WriteFailed),
        }
    }
    Ok(FileSent::Done)
}

/// A file body as a reader of its bytes from `pos` to `end` (the file shared, not reopened).
fn file_as_reader(mut file: std::fs::File, pos: u64, end: u64) -> OutBody {
    use std::io::Seek;
    match file.seek(io::SeekFrom::Start(pos)) {
        Ok(_) => OutBody::Reader {
            reader: Box::new(file.take(end - pos)),
            left: Some(end - pos),
            chunked: false,
            trailers: None,
        },
        // Nothing can be sent: the reader ends at once and the connection closes.
        Err(_) => OutBody::Reader {
            reader: Box::new(io::empty()),
            left: Some(end - pos),
            chunked: false,
            trailers: None,
        },
    }
}

/// Room before a chunk's data for its size line (the hex digits of a `usize` and CRLF).
const SIZE_LINE_ROOM: usize = 18;

/// Reads the next piece of a reader's body into `buf` (empty when called), framed; what is
/// to be written starts at `*pos`. `Ok(false)` once the body is complete (the last piece, if
/// any, is in `buf`). A reader that fails, panics or ends before its length is an error: the
/// connection must close after what was sent.
fn refill(body: &mut OutBody, buf: &mut Vec<u8>, pos: &mut usize) -> Result<bool, CloseReason> {
    let OutBody::Reader { reader, left, chunked, trailers } = body else { return Ok(false) };
    let want = match left {
        Some(0) => return Ok(false),
        Some(n) => READ_AHEAD.min(usize::try_from(*n).unwrap_or(READ_AHEAD)),
        None => READ_AHEAD,
    };
    // A chunk's data is read after room for its size line, which is written in front of it.
    let start = if *chunked { SIZE_LINE_ROOM } else { 0 };
    buf.resize(start + want, 0);
    let got = loop {
        match catch_unwind(AssertUnwindSafe(|| reader.read(&mut buf[start..]))) {
            Ok(Ok(n)) => break n.min(want),
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(Err(_)) => return Err(CloseReason::WriteFailed),
            Err(_) => return Err(CloseReason::HandlerPanicked),
        }
    };
    buf.truncate(start + got);
    *pos = 0;
    match left {
        Some(n) => {
            if got == 0 {
                return Err(CloseReason::ResponseUntilClose);
            }
            *n -= got as u64;
            Ok(*n > 0)
        }
        None if *chunked => {
            if got == 0 {
                buf.clear();
                encode_last_chunk(trailers.as_ref(), buf);
                return Ok(false);
            }
            let mut line = [0u8; SIZE_LINE_ROOM];
            let len = chunk_size_line(got, &mut line);
            *pos = SIZE_LINE_ROOM - len;
            buf[*pos..SIZE_LINE_ROOM].copy_from_slice(&line[..len]);
            buf.extend_from_slice(b"\r\n");
            Ok(true)
        }
        None => Ok(got > 0),
    }
}
