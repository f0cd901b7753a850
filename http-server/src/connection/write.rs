//! Responses on their way out: the one framing decision every writer uses, the hand-off of
//! a response to the engine (the `Write` phase: bytes, a file or a reader written as the
//! socket takes them, the connection parked in between), and the worker's path for bodies
//! that handler code writes itself.

use std::any::Any;
use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use http_utils::io::ChunkedWriter;
use http_utils::{chunk_size_line, encode_last_chunk, Headers, Method, Version};

use super::read::start_linger;
use super::{would_block, CloseReason, Conn, Outcome, Phase, Worker};
use crate::handler::response::{Response, ResponseBody};
use crate::handler::site::Site;
use crate::io::head::{plan, write_head, BodyFraming, Head, Plan};
use crate::io::wire::{Progress, Wire};

/// Bodies up to this size are copied after the head, so that small responses (and the
/// responses to pipelined requests) go out in one write.
const COPY_BODY_AT_MOST: usize = 16 * 1024;
/// How much of a streamed body is read ahead of the socket.
const READ_AHEAD: usize = 32 * 1024;

/// The framing of a response as [`plan`] decides it, and whether the connection must close
/// for it (a body that runs until the close).
fn framed(p: Plan, close: &mut Option<CloseReason>) -> Plan {
    if p.until_close {
        *close = close.or(Some(CloseReason::ResponseUntilClose));
    }
    p
}

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
}

impl Out {
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
    let mut out = Out {
        buf: Vec::new(),
        pos: 0,
        body: w.body.take(),
        then,
        progress: Progress::default(),
        log: w.late_log.take(),
    };
    let mut written = 0;
    let mut blocked = false;
    while written < w.wbuf.len() {
        match conn.io.write(&w.wbuf[written..]) {
            Ok(0) => return Some(Outcome::Close(CloseReason::WriteFailed)),
            Ok(n) => written += n,
            Err(e) if would_block(&e) => {
                blocked = true;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some(Outcome::Close(CloseReason::WriteFailed)),
        }
    }
    if blocked {
        out.buf = w.wbuf[written..].to_vec();
    }
    w.wbuf.clear();
    let finished = if blocked { Ok(false) } else { pump_marked(w, conn, &mut out) };
    match finished {
        Err(reason) => Some(Outcome::Close(reason)),
        Ok(false) => Some(park_out(w, conn, out)),
        Ok(true) => match out.finish() {
            Then::Next(Phase::Head) => {
                conn.phase = Phase::Head;
                None
            }
            Then::Next(phase) => {
                conn.phase = phase;
                Some(done)
            }
            Then::Close(reason) => Some(Outcome::Close(reason)),
            Then::Linger(reason) => Some(start_linger(w, conn, reason)),
        },
    }
}

/// Parks a response that waits for room, within the write timeout and the minimum rate.
fn park_out(w: &mut Worker<'_>, conn: &mut Conn, mut out: Out) -> Outcome {
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
        Ok(false) => park_out(w, conn, *out),
        Ok(true) => match out.finish() {
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
fn pump_marked(w: &mut Worker<'_>, conn: &mut Conn, out: &mut Out) -> Result<bool, CloseReason> {
    let reads = matches!(out.body, Some(OutBody::Reader { .. }));
    if reads {
        w.mark_busy();
    }
    let r = pump(&mut *conn.io, out);
    if reads {
        w.mark_idle();
    }
    r
}

/// Writes until everything is out (`Ok(true)`) or the socket is full (`Ok(false)`). A body
/// that cannot be finished closes the connection afterwards (its `then` becomes a close).
fn pump(io: &mut dyn crate::io::transport::Connection, out: &mut Out) -> Result<bool, CloseReason> {
    loop {
        while out.pos < out.buf.len() {
            match io.write(&out.buf[out.pos..]) {
                Ok(0) => return Err(CloseReason::WriteFailed),
                Ok(n) => {
                    out.pos += n;
                    out.progress.add(n);
                }
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::WriteFailed),
            }
        }
        out.buf.clear();
        out.pos = 0;
        let Some(body) = &mut out.body else { break };
        let (data, pos) = match body {
            OutBody::Bytes { data, pos } => (&data[..], pos),
            OutBody::Static { data, pos } => (*data, pos),
            OutBody::File { file, pos, end } => {
                match send_file(io, file, pos, *end, &mut out.progress) {
                    Ok(FileSent::Done) => out.body = None,
                    Ok(FileSent::Blocked) => return Ok(false),
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
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(CloseReason::WriteFailed),
            }
        }
        out.body = None;
    }
    match io.flush() {
        Ok(()) => Ok(true),
        Err(e) if would_block(&e) => Ok(false),
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

/// Writes a complete error response with `Connection: close` into the worker's buffer, for
/// a request that could not be parsed or must be cut off; returns the body's length.
pub(super) fn error_response(w: &mut Worker<'_>, status: u16, message: &str, version: Version) -> u64 {
    let engine = w.engine;
    let table = engine.registry.snapshot();
    let html = table.error_page(status, message);
    let p = plan(engine.site.protocol, version, &Method::Get, status, Some(html.len() as u64), true, true);
    write_head(
        &mut w.wbuf,
        &Head {
            date: engine.site.clock.unix_secs(),
            version: engine.site.protocol,
            status,
            reason: http_utils::reason_phrase(status),
            server: &engine.site.server_name,
            content_type: Some("text/html; charset=utf-8"),
            headers: &Headers::new(),
            framing: p.framing,
            connection: p.connection,
        },
    );
    w.wbuf.extend_from_slice(html.as_bytes());
    html.len() as u64
}

/// A message for a panic payload.
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// What writing a response produced: the body bytes it sends (or sent), and a body left for
/// the engine to send after the head.
pub(super) struct Sent {
    pub bytes: u64,
    pub body: Option<OutBody>,
}

/// Writes a handler's response head (and a small body) into the wire's buffer; a larger
/// body is handed back for the engine. Bodies that handler code writes (a writer) are
/// written here, on the worker, through the wire.
pub(super) fn write_response(
    site: &Site,
    wire: &mut Wire<'_>,
    method: &Method,
    version: Version,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> io::Result<Sent> {
    let status = r.status;
    let p = plan(site.protocol, version, method, status, r.body.len(), true, close.is_some());
    let p = framed(p, close);
    let reason = r.reason.as_deref().unwrap_or_else(|| http_utils::reason_phrase(status));
    write_head(
        wire.wbuf,
        &Head {
            date: site.clock.unix_secs(),
            version: site.protocol,
            status,
            reason,
            server: &site.server_name,
            content_type: r.content_type.as_deref(),
            headers: &r.headers,
            framing: p.framing,
            connection: p.connection,
        },
    );
    let none = Sent { bytes: 0, body: None };
    if !p.send_body {
        return Ok(none);
    }
    let body = std::mem::take(&mut r.body);
    let bytes = body.len().unwrap_or(0);
    Ok(match body {
        ResponseBody::Empty => none,
        ResponseBody::Static(b) if b.len() <= COPY_BODY_AT_MOST => {
            wire.wbuf.extend_from_slice(b);
            Sent { bytes, body: None }
        }
        ResponseBody::Static(data) => Sent { bytes, body: Some(OutBody::Static { data, pos: 0 }) },
        ResponseBody::Bytes(b) if b.len() <= COPY_BODY_AT_MOST => {
            wire.wbuf.extend_from_slice(&b);
            Sent { bytes, body: None }
        }
        ResponseBody::Bytes(data) => Sent { bytes, body: Some(OutBody::Bytes { data, pos: 0 }) },
        ResponseBody::File { file, offset, length } => {
            Sent { bytes, body: Some(OutBody::File { file, pos: offset, end: offset + length }) }
        }
        ResponseBody::Stream { reader, length } => {
            let chunked = p.framing == BodyFraming::Chunked;
            let trailers = if chunked { r.trailers.take() } else { None };
            Sent { bytes, body: Some(OutBody::Reader { reader, left: length, chunked, trailers }) }
        }
        ResponseBody::Writer(f) => {
            let sent = if p.framing == BodyFraming::Chunked {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                f(&mut cw)?;
                let n = cw.n;
                cw.inner.finish(r.trailers.as_ref())?;
                n
            } else {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                cw.n
            };
            Sent { bytes: sent, body: None }
        }
        ResponseBody::WriterWithTrailers(f) => {
            let sent = if p.framing == BodyFraming::Chunked {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                let mut trailers = f(&mut cw)?;
                let n = cw.n;
                if let Some(fixed) = &r.trailers {
                    for (name, value) in fixed.iter() {
                        let _ = trailers.append(name, value);
                    }
                }
                cw.inner.finish(Some(&trailers))?;
                n
            } else {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                cw.n
            };
            Sent { bytes: sent, body: None }
        }
    })
}

/// `Write` over the connection's gathered output.
struct WireWriter<'w, 'a>(&'w mut Wire<'a>);

impl io::Write for WireWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Counts the body bytes a handler's writer produces.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: io::Write> io::Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
