//! The `Write` phase: what the worker gathered (heads, small bodies) and the body left for
//! the engine (bytes, a file, a reader, a stream's chunks) are written as the socket takes
//! them, with the connection parked in between; then the connection goes on as the write's
//! `then` says (the next heads, a phase it waits in, a close, a linger, an upgrade).

use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use http_utils::{chunk_size_line, encode_last_chunk};

use super::answer::{Answer, OutBody};
use super::feed::Fill;
use super::log::LateLog;
use super::worker::Worker;
use super::{CloseReason, Conn, Next, Phase};
use crate::io::attempt::{attempt, attempt_flush, Attempt};
use crate::io::transport::Connection;
use crate::io::wire::{Progress, FLUSH_AT};

/// How much of a streamed body is read ahead of the socket.
const READ_AHEAD: usize = 32 * 1024;

/// A response being written: bytes first, then the body, then what comes next.
pub(crate) struct Out {
    buf: Vec<u8>,
    pos: usize,
    body: Option<Box<OutBody>>,
    then: Next,
    progress: Progress,
    /// The log entry to write once the body is out.
    log: Option<Box<LateLog>>,
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
        matches!(self.body.as_deref(), Some(OutBody::Feed(_)))
    }

    /// True while parked waiting for a stream's next chunk.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle
    }

    /// True for a stream that a shutdown is ending (its last bytes on their way).
    pub(crate) fn is_ending(&self) -> bool {
        matches!(self.body.as_deref(), Some(OutBody::Feed(f)) if f.is_ending())
    }

    /// The request whose log entry waits for the body to be out, if one does.
    pub(crate) fn logged_request_mut(&mut self) -> Option<&mut http_utils::Request> {
        self.log.as_deref_mut().map(LateLog::request_mut)
    }

    /// Everything is out: logs the response, gives what comes next.
    fn finish(self) -> Next {
        let Out { body, log, then, .. } = self;
        if let Some(log) = log {
            log.sent();
        }
        match body.map(|b| *b) {
            Some(OutBody::Upgrade(job)) => Next::Upgrade(job),
            _ => then,
        }
    }
}

/// A handler's answer, its head in the worker's buffer: gathered with the answers after it
/// (a small one on a kept connection while pipelined requests wait in the read buffer), or
/// written.
pub(super) fn answered(w: &mut Worker<'_>, conn: &mut Conn, answer: Answer) -> Next {
    if answer.body.is_none() && answer.close.is_none() {
        if !w.rbuf.is_empty() && w.wbuf.len() < FLUSH_AT {
            return Next::Head;
        }
        return send(w, conn, None, None, Next::Head);
    }
    let then = answer.then();
    send(w, conn, answer.body, answer.log, then)
}

/// Writes what the worker gathered, then goes on as `then` says.
pub(super) fn flush(w: &mut Worker<'_>, conn: &mut Conn, then: Next) -> Next {
    send(w, conn, None, None, then)
}

/// Writes what the worker gathered (`wbuf`, then `body`) without waiting: `then` when it is
/// all out, otherwise parked in `Write` until the socket has room (or a stream its next
/// chunk), or closed.
fn send(
    w: &mut Worker<'_>,
    conn: &mut Conn,
    body: Option<Box<OutBody>>,
    log: Option<Box<LateLog>>,
    then: Next,
) -> Next {
    // The handler slot goes back before the answer leaves: a client that has its answer
    // never finds the slot still held by the request it answered.
    w.release_slot();
    // A head that a file follows waits for the file's first bytes, to leave with them.
    let file_next = matches!(body.as_deref(), Some(OutBody::File { pos, end, .. }) if pos < end);
    let Ok(written) = write_some(&mut *conn.io, &w.wbuf, file_next) else {
        // The body goes with the connection; its log entry says the write failed.
        w.wbuf.clear();
        return Next::Close(CloseReason::WriteFailed);
    };
    let blocked = written < w.wbuf.len();
    if !blocked && body.is_none() && log.is_none() {
        // The common case, only bytes and all written: no parked write to set up.
        w.wbuf.clear();
        return then;
    }
    let buf = if blocked { w.wbuf[written..].to_vec() } else { Vec::new() };
    w.wbuf.clear();
    let out = Box::new(Out { buf, pos: 0, body, then, progress: Progress::default(), log, idle: false });
    if blocked {
        return park_out(w, conn, out);
    }
    resume(w, conn, out)
}

/// Writes `bytes` until they are all out or the socket is full: how many went. `Err` when
/// the connection failed. `before_file`: a file body follows at once
/// ([`Connection::write_before_file`]).
fn write_some(io: &mut dyn Connection, bytes: &[u8], before_file: bool) -> io::Result<usize> {
    let mut written = 0;
    while written < bytes.len() {
        let rest = &bytes[written..];
        let wrote = attempt(|| if before_file { io.write_before_file(rest) } else { io.write(rest) })?;
        match wrote {
            Attempt::Done(n) => written += n,
            Attempt::Blocked => break,
            Attempt::Closed => return Err(io::ErrorKind::WriteZero.into()),
        }
    }
    Ok(written)
}

/// Goes on writing a response; once it is out, the connection goes on as its `then` says.
pub(super) fn resume(w: &mut Worker<'_>, conn: &mut Conn, mut out: Box<Out>) -> Next {
    if w.engine.stopping() {
        if let Some(OutBody::Feed(feed)) = out.body.as_deref_mut() {
            if !feed.is_ending() {
                feed.wind_down();
            }
        }
    }
    match pump_marked(w, conn, &mut out) {
        Err(reason) => Next::Close(reason),
        Ok(Pumped::Full) => park_out(w, conn, out),
        Ok(Pumped::Idle) => park_idle(w, conn, out),
        Ok(Pumped::Done) => out.finish(),
    }
}

/// Parks a stream whose queue is empty, until its next chunk, its keep-alive time or the
/// client's leaving. The rate clock starts again with the next chunk.
fn park_idle(w: &mut Worker<'_>, conn: &mut Conn, mut out: Box<Out>) -> Next {
    let now = w.engine.site.clock.now();
    conn.deadline = match out.body.as_deref() {
        Some(OutBody::Feed(f)) => f.wake_at(now),
        _ => now,
    };
    out.progress = Progress::default();
    out.buf = Vec::new();
    out.pos = 0;
    out.idle = true;
    Next::Park(Phase::Write(out))
}

/// Parks a response that waits for room, within the write timeout and the minimum rate.
fn park_out(w: &mut Worker<'_>, conn: &mut Conn, mut out: Box<Out>) -> Next {
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
            Next::Park(Phase::Write(out))
        }
        Err(_) => Next::Close(CloseReason::WriteFailed),
    }
}

/// [`pump`], with the worker marked busy while a reader's body is read: a reader is user code
/// that may block, and the monitor then gives the worker's seat to another worker.
fn pump_marked(w: &mut Worker<'_>, conn: &mut Conn, out: &mut Out) -> Result<Pumped, CloseReason> {
    let reads = matches!(out.body.as_deref(), Some(OutBody::Reader { .. }));
    if reads {
        w.mark_busy();
    }
    let r = pump(&mut *conn.io, out, w.engine.site.clock.now());
    if reads {
        w.mark_idle();
    }
    r
}

/// Writes `data[*pos..]` until it is all out (`true`) or the socket is full (`false`).
fn write_from(
    io: &mut dyn Connection,
    data: &[u8],
    pos: &mut usize,
    progress: &mut Progress,
) -> Result<bool, CloseReason> {
    while *pos < data.len() {
        match attempt(|| io.write(&data[*pos..])) {
            Ok(Attempt::Done(n)) => {
                *pos += n;
                progress.add(n);
            }
            Ok(Attempt::Blocked) => return Ok(false),
            Ok(Attempt::Closed) | Err(_) => return Err(CloseReason::WriteFailed),
        }
    }
    Ok(true)
}

/// Writes until everything is out, the socket is full or a stream has nothing queued. A
/// body that cannot be finished closes the connection afterwards (its `then` becomes a
/// close). An upgrade stays in `out.body` for [`Out::finish`].
fn pump(io: &mut dyn Connection, out: &mut Out, now: std::time::Instant) -> Result<Pumped, CloseReason> {
    out.idle = false;
    loop {
        if !write_from(io, &out.buf, &mut out.pos, &mut out.progress)? {
            return Ok(Pumped::Full);
        }
        out.buf.clear();
        out.pos = 0;
        match out.body.as_deref() {
            None | Some(OutBody::Upgrade(_)) => break,
            Some(_) => {}
        }
        if let Some(pumped) = pump_body(io, out, now)? {
            return Ok(pumped);
        }
    }
    match attempt_flush(|| io.flush()) {
        Ok(true) => Ok(Pumped::Done),
        Ok(false) => Ok(Pumped::Full),
        Err(_) => Err(CloseReason::WriteFailed),
    }
}

/// Moves the body on by one step: bytes written from memory or a file, or the next piece
/// of a reader or a stream put in `out.buf`. `Some` when writing must stop (the socket is
/// full, or a stream has nothing queued).
fn pump_body(
    io: &mut dyn Connection,
    out: &mut Out,
    now: std::time::Instant,
) -> Result<Option<Pumped>, CloseReason> {
    let Some(body) = &mut out.body else { return Ok(None) };
    let done = match &mut **body {
        OutBody::Upgrade(_) => return Ok(None),
        OutBody::Feed(feed) => match feed.refill(&mut out.buf, now) {
            Fill::Data(n) => {
                if let Some(log) = out.log.as_deref_mut() {
                    log.count(n);
                }
                false
            }
            Fill::Idle => return Ok(Some(Pumped::Idle)),
            Fill::Done => true,
        },
        OutBody::Bytes { data, pos } => {
            if !write_from(io, data, pos, &mut out.progress)? {
                return Ok(Some(Pumped::Full));
            }
            true
        }
        OutBody::Static { data, pos } => {
            if !write_from(io, data, pos, &mut out.progress)? {
                return Ok(Some(Pumped::Full));
            }
            true
        }
        OutBody::File { file, pos, end } => match send_file(io, file, pos, *end, &mut out.progress) {
            Ok(FileSent::Done) => true,
            Ok(FileSent::Blocked) => return Ok(Some(Pumped::Full)),
            Ok(FileSent::Unsupported) => {
                // Not here: read and written like any reader.
                if let Some(OutBody::File { file, pos, end }) = out.body.take().map(|b| *b) {
                    out.body = Some(Box::new(file_as_reader(file, pos, end)));
                }
                false
            }
            Err(reason) => {
                out.then = Next::Close(reason);
                true
            }
        },
        OutBody::Reader { .. } => match refill(body, &mut out.buf, &mut out.pos, out.log.as_deref_mut()) {
            Ok(more) => !more,
            Err(reason) => {
                // What was read goes out; then the connection closes.
                out.then = Next::Close(reason);
                true
            }
        },
    };
    if done {
        out.body = None;
    }
    Ok(None)
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
    io: &mut dyn Connection,
    file: &std::fs::File,
    pos: &mut u64,
    end: u64,
    progress: &mut Progress,
) -> Result<FileSent, CloseReason> {
    while *pos < end {
        let want = usize::try_from(end - *pos).unwrap_or(usize::MAX).min(1 << 20);
        match attempt(|| io.send_file(file, *pos, want)) {
            Ok(Attempt::Done(n)) => {
                *pos += n as u64;
                progress.add(n);
            }
            Ok(Attempt::Blocked) => return Ok(FileSent::Blocked),
            // The file is shorter than it was when the response was made.
            Ok(Attempt::Closed) => return Err(CloseReason::ResponseUntilClose),
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
/// connection must close after what was sent. The payload of a body of unknown length is
/// counted in `log`.
fn refill(
    body: &mut OutBody,
    buf: &mut Vec<u8>,
    pos: &mut usize,
    log: Option<&mut LateLog>,
) -> Result<bool, CloseReason> {
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
    if let (None, Some(log)) = (left.as_ref(), log) {
        log.count(got);
    }
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
