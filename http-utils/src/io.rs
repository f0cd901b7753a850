//! The one module that adapts the I/O-free core to blocking [`std::io`]: heads read from any
//! [`BufRead`], bodies read and written through [`Read`] and [`Write`].
//!
//! Nothing here reads past the message it was asked for: a head reader consumes exactly the
//! head's bytes and a [`BodyReader`] exactly its body's, so the next pipelined message stays in
//! the caller's buffer.
//!
//! ```
//! use std::io::{BufReader, Read};
//! use http_utils::io::{read_request_head, BodyReader};
//! use http_utils::{request_framing, Limits};
//!
//! let wire = b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
//!              3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
//! let mut conn = BufReader::new(&wire[..]);
//! let limits = Limits::default();
//!
//! let req = read_request_head(&mut conn, &limits).unwrap().unwrap();
//! let mut body = BodyReader::new(&mut conn, request_framing(&req).unwrap(), &limits);
//! let mut text = String::new();
//! body.read_to_string(&mut text).unwrap();
//! assert_eq!(text, "abc");
//!
//! let next = read_request_head(&mut conn, &limits).unwrap().unwrap();
//! assert_eq!(next.url(), "/b");
//! assert!(read_request_head(&mut conn, &limits).unwrap().is_none()); // clean end
//! ```

use std::io::{self, BufRead, IoSlice, Read, Write};

use crate::chunked::{chunk_size_line, encode_last_chunk, ChunkedDecoder};
use crate::error::{Error, ErrorKind};
use crate::framing::Framing;
use crate::headers::Headers;
use crate::limits::Limits;
use crate::parse::{parse_headers, parse_request_head, parse_response_head, Parsed};
use crate::request::Request;
use crate::response::ResponseHead;

/// Reads one head with `parse`, consuming exactly its bytes.
///
/// The head is parsed straight from the reader's buffer when it arrives in one piece. When it
/// straddles buffer refills, the bytes are gathered in a `Vec` and parsed again only when a
/// new line ending (CR or LF) arrives (or every line-length's worth of bytes, so that limits still fire),
/// so a peer that sends one byte at a time costs a parse per line, not per byte.
///
/// `Ok(None)` when the stream ends before any byte other than blank lines.
fn read_head<R, T, P>(r: &mut R, limits: &Limits, parse: P) -> Result<Option<T>, Error>
where
    R: BufRead + ?Sized,
    P: Fn(&[u8], &Limits) -> Result<Parsed<T>, Error>,
{
    let step = limits.max_request_line.min(limits.max_header_line).max(1);
    let mut acc: Vec<u8> = Vec::new();
    let mut next_check = 0;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from(e)),
        };
        if buf.is_empty() {
            if acc.iter().all(|&c| c == b'\r' || c == b'\n') {
                return Ok(None);
            }
            // Report a malformed prefix as what it is rather than as a truncation.
            parse(&acc, limits)?;
            return Err(Error::protocol(ErrorKind::TruncatedHead, acc.len()));
        }
        let n = buf.len();
        if acc.is_empty() {
            match parse(buf, limits)? {
                Parsed::Complete { value, used } => {
                    r.consume(used);
                    return Ok(Some(value));
                }
                Parsed::Partial => {
                    acc.reserve(n.max(1024));
                    acc.extend_from_slice(buf);
                    r.consume(n);
                    next_check = acc.len() + step;
                    continue;
                }
            }
        }
        let before = acc.len();
        let line_end = buf.contains(&b'\n') || buf.contains(&b'\r');
        acc.extend_from_slice(buf);
        if !line_end && acc.len() < next_check {
            r.consume(n);
            continue;
        }
        next_check = acc.len() + step;
        match parse(&acc, limits) {
            Ok(Parsed::Complete { value, used }) => {
                // A head ends at a line feed, and every earlier one was parsed: `used > before`.
                r.consume(used.saturating_sub(before));
                return Ok(Some(value));
            }
            Ok(Parsed::Partial) => r.consume(n),
            Err(e) => {
                r.consume(n);
                return Err(e);
            }
        }
    }
}

/// Reads a request head (request line and header section) from `r`, consuming exactly its
/// bytes; the body, if any, is left in `r`.
///
/// Returns `Ok(None)` when the stream ends cleanly before a request starts (a client that
/// closed an idle keep-alive connection). Blank lines before the request line are skipped.
///
/// ```
/// use http_utils::{io::read_request_head, Limits, Method};
/// let mut wire = &b"GET /x HTTP/1.1\r\nHost: a\r\n\r\nrest"[..];
/// let req = read_request_head(&mut wire, &Limits::default()).unwrap().unwrap();
/// assert_eq!((req.method(), req.url()), (&Method::Get, "/x"));
/// assert_eq!(wire, b"rest");
/// ```
///
/// # Errors
/// The parse errors of [`parse_request_head`];
/// `TruncatedHead` when the stream ends inside the head; [`Error::Io`] from the reader
/// (timeouts included).
pub fn read_request_head<R: BufRead + ?Sized>(r: &mut R, limits: &Limits) -> Result<Option<Request>, Error> {
    read_head(r, limits, parse_request_head)
}

/// Reads a response head (status line and header section) from `r`, consuming exactly its
/// bytes. Interim (1xx) heads are returned like others; the caller reads again after them.
///
/// Returns `Ok(None)` when the stream ends before any byte: for a client, the sign of a pooled
/// connection that the server had already closed.
///
/// # Errors
/// The parse errors of [`parse_response_head`];
/// `TruncatedHead` when the stream ends inside the head; [`Error::Io`] from the reader.
pub fn read_response_head<R: BufRead + ?Sized>(
    r: &mut R,
    limits: &Limits,
) -> Result<Option<ResponseHead>, Error> {
    read_head(r, limits, parse_response_head)
}

/// Reads a header section up to and including its empty line (the egg's
/// `http:read-request-attributes`): names lower-cased, values trimmed, bounded by `limits`.
/// A stream that ends before any byte gives no fields.
///
/// ```
/// use http_utils::{io::read_request_attributes, Limits};
/// let mut wire = &b"Content-Type: text/plain\r\nX-A: 1\r\n\r\nbody"[..];
/// let h = read_request_attributes(&mut wire, &Limits::default()).unwrap();
/// assert_eq!(h.iter().collect::<Vec<_>>(), [("content-type", "text/plain"), ("x-a", "1")]);
/// assert_eq!(wire, b"body");
/// ```
///
/// # Errors
/// The header errors of [`parse_headers`]; `TruncatedHead` when the
/// stream ends inside the section; [`Error::Io`] from the reader.
pub fn read_request_attributes<R: BufRead + ?Sized>(r: &mut R, limits: &Limits) -> Result<Headers, Error> {
    Ok(read_head(r, limits, parse_headers)?.unwrap_or_default())
}

#[derive(Debug)]
enum Kind {
    None,
    Length { remaining: u64 },
    Chunked(Box<ChunkedDecoder>),
    UntilClose { eof: bool },
}

/// A body as a [`Read`]er, delimited by its [`Framing`].
///
/// - `Length(n)`: exactly `n` bytes; a stream that ends early is a `TruncatedBody` error;
/// - `Chunked`: decoded with [`ChunkedDecoder`]; trailers are kept; a stream that ends before
///   the last chunk is a `TruncatedBody` error;
/// - `UntilClose`: everything up to the end of the stream;
/// - `None`: empty.
///
/// Errors surface as [`io::Error`]s of kind `InvalidData` that wrap an [`Error`];
/// `Error::from(io_error)` unwraps them again. The reader never consumes bytes past the end of
/// its body from the inner [`BufRead`], so the connection can carry the next message.
///
/// ```
/// use std::io::Read;
/// use http_utils::{io::BodyReader, ErrorKind, Error, Framing, Limits};
/// let mut body = BodyReader::new(&b"hello"[..], Framing::Length(10), &Limits::default());
/// let mut buf = Vec::new();
/// let err = Error::from(body.read_to_end(&mut buf).unwrap_err());
/// assert_eq!(err.kind(), Some(ErrorKind::TruncatedBody));
/// assert_eq!(buf, b"hello");
/// ```
#[derive(Debug)]
pub struct BodyReader<R> {
    inner: R,
    kind: Kind,
    /// Body bytes produced so far.
    read: u64,
}

impl<R: BufRead> BodyReader<R> {
    /// A reader of the body that follows in `inner`, delimited by `framing`. `limits` bound the
    /// chunk-size lines and trailers of a chunked body; the body's total size is not limited
    /// here (see [`read_body`] and [`LimitReader`]).
    pub fn new(inner: R, framing: Framing, limits: &Limits) -> BodyReader<R> {
        let kind = match framing {
            Framing::None | Framing::Length(0) => Kind::None,
            Framing::Length(n) => Kind::Length { remaining: n },
            Framing::Chunked => Kind::Chunked(Box::new(ChunkedDecoder::new(limits))),
            Framing::UntilClose => Kind::UntilClose { eof: false },
        };
        BodyReader { inner, kind, read: 0 }
    }

    /// True once the whole body has been read (at once for `None` and `Length(0)`).
    pub fn is_complete(&self) -> bool {
        match &self.kind {
            Kind::None => true,
            Kind::Length { remaining } => *remaining == 0,
            Kind::Chunked(dec) => dec.is_done(),
            Kind::UntilClose { eof } => *eof,
        }
    }

    /// The trailer fields of a chunked body, once it is complete and if there were any.
    pub fn trailers(&self) -> Option<&Headers> {
        match &self.kind {
            Kind::Chunked(dec) => dec.trailers(),
            _ => None,
        }
    }

    /// Takes the trailer fields out.
    pub fn take_trailers(&mut self) -> Option<Headers> {
        match &mut self.kind {
            Kind::Chunked(dec) => dec.take_trailers(),
            _ => None,
        }
    }

    /// Bytes still to come for a `Length` body (0 for `None`); `None` when unknown.
    pub fn remaining(&self) -> Option<u64> {
        match &self.kind {
            Kind::None => Some(0),
            Kind::Length { remaining } => Some(*remaining),
            Kind::Chunked(_) | Kind::UntilClose { .. } => None,
        }
    }

    /// Body bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly desynchronizes the body.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives the inner reader back, positioned after the body when [`is_complete`](Self::is_complete).
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn truncated(offset: u64) -> io::Error {
        Error::protocol(ErrorKind::TruncatedBody, usize::try_from(offset).unwrap_or(usize::MAX)).into()
    }
}

fn clamp(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl<R: BufRead> Read for BodyReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let n = match &mut self.kind {
            Kind::None => 0,
            Kind::Length { remaining } => {
                if *remaining == 0 {
                    return Ok(0);
                }
                let max = out.len().min(clamp(*remaining));
                // BufReader reads straight into `out` when its buffer is empty and `out` is large.
                let n = self.inner.read(&mut out[..max])?;
                if n == 0 {
                    return Err(Self::truncated(self.read));
                }
                *remaining -= n as u64;
                n
            }
            Kind::UntilClose { eof } => {
                let n = self.inner.read(out)?;
                if n == 0 {
                    *eof = true;
                }
                n
            }
            Kind::Chunked(dec) => loop {
                if dec.is_done() {
                    break 0;
                }
                let data = dec.data_remaining();
                if data > 0 {
                    let max = out.len().min(clamp(data));
                    let n = self.inner.read(&mut out[..max])?;
                    if n == 0 {
                        return Err(Self::truncated(dec.stream_offset()));
                    }
                    dec.advance_data(n);
                    break n;
                }
                let buf = match self.inner.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if buf.is_empty() {
                    // An error held back behind earlier body bytes comes first.
                    dec.decode(&[], &mut [])?;
                    return Err(Self::truncated(dec.stream_offset()));
                }
                let (consumed, produced) = dec.decode(buf, out)?;
                self.inner.consume(consumed);
                if produced > 0 {
                    break produced;
                }
            },
        };
        self.read += n as u64;
        Ok(n)
    }
}

/// A [`Read`]er that fails with `BodyTooLarge` (413) once more than `limit` bytes arrive,
/// instead of silently cutting the stream short.
///
/// ```
/// use std::io::Read;
/// use http_utils::{io::LimitReader, Error, ErrorKind};
/// let mut ok = String::new();
/// LimitReader::new(&b"1234"[..], 4).read_to_string(&mut ok).unwrap();
/// let err = LimitReader::new(&b"12345"[..], 4).read_to_end(&mut Vec::new()).unwrap_err();
/// assert_eq!(Error::from(err).kind(), Some(ErrorKind::BodyTooLarge));
/// ```
#[derive(Debug)]
pub struct LimitReader<R> {
    inner: R,
    limit: u64,
    remaining: u64,
}

impl<R: Read> LimitReader<R> {
    /// Lets at most `limit` bytes through from `inner`.
    pub fn new(inner: R, limit: u64) -> LimitReader<R> {
        LimitReader { inner, limit, remaining: limit }
    }

    /// Bytes that may still be read before the limit.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives the inner reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for LimitReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            // At the limit: the stream must end here.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(Error::protocol(ErrorKind::BodyTooLarge, clamp(self.limit)).into()),
            };
        }
        let max = out.len().min(clamp(self.remaining));
        let n = self.inner.read(&mut out[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Reads a whole body into memory (the egg's `http:read-body`), bounded by
/// [`Limits::max_body`]. Trailers of a chunked body are read and dropped; use [`BodyReader`] to
/// keep them.
///
/// ```
/// use http_utils::{io::read_body, Framing, Limits};
/// let mut wire = &b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"[..];
/// assert_eq!(read_body(&mut wire, Framing::Chunked, &Limits::default()).unwrap(), b"Wikipedia");
/// ```
///
/// # Errors
/// `BodyTooLarge` (413) when a `Content-Length` above the limit is announced (before reading
/// anything) or when more bytes than the limit arrive; `TruncatedBody` when the stream ends
/// early; the chunk errors of [`ChunkedDecoder`]; [`Error::Io`] from the reader.
pub fn read_body<R: BufRead + ?Sized>(
    r: &mut R,
    framing: Framing,
    limits: &Limits,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if let Framing::Length(n) = framing {
        if n > limits.max_body {
            return Err(Error::protocol(ErrorKind::BodyTooLarge, 0));
        }
        // Trust the announced length only so far: a peer may announce much and send little.
        out.reserve_exact(clamp(n.min(1 << 20)));
    }
    let body = BodyReader::new(r, framing, limits);
    LimitReader::new(body, limits.max_body).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads and discards what is left of a body, at most `max` bytes, so that the connection can
/// carry the next message. Returns `true` when the body ended within `max` bytes, `false` when
/// more was left (then the connection should be closed).
///
/// ```
/// use http_utils::{io::{drain, BodyReader}, Framing, Limits};
/// let mut wire = &b"0123456789NEXT"[..];
/// let mut body = BodyReader::new(&mut wire, Framing::Length(10), &Limits::default());
/// assert!(drain(&mut body, 64).unwrap());
/// assert_eq!(wire, b"NEXT");
/// ```
///
/// # Errors
/// Whatever reading fails with (a `TruncatedBody`, a chunk error, an I/O error).
pub fn drain<R: Read + ?Sized>(r: &mut R, max: u64) -> Result<bool, Error> {
    let mut scratch = [0u8; 8192];
    let mut left = max;
    loop {
        // One byte more than allowed tells "ended at the bound" from "more was left".
        let want = scratch.len().min(clamp(left.saturating_add(1)));
        let n = match r.read(&mut scratch[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(true);
        }
        if n as u64 > left {
            return Ok(false);
        }
        left -= n as u64;
    }
}

/// Room kept at the front of the chunk buffer for the size line.
const SIZE_ROOM: usize = 18;

/// A [`Write`]r that sends what is written to it as chunks (RFC 9112 §7.1).
///
/// Small writes are gathered into one chunk of up to `capacity` bytes (8 KiB by default); a
/// write at least that large goes out as a chunk of its own, without copying. Call
/// [`finish`](ChunkedWriter::finish) to send the last chunk and trailers: dropping the writer
/// leaves the body unterminated.
///
/// ```
/// use std::io::Write;
/// use http_utils::io::ChunkedWriter;
/// let mut w = ChunkedWriter::new(Vec::new());
/// w.write_all(b"hello ").unwrap();
/// w.write_all(b"world").unwrap();
/// let wire = w.finish(None).unwrap();
/// assert_eq!(wire, b"b\r\nhello world\r\n0\r\n\r\n");
/// ```
#[derive(Debug)]
pub struct ChunkedWriter<W: Write> {
    inner: W,
    /// `SIZE_ROOM` reserved bytes, then the pending chunk data.
    buf: Vec<u8>,
    capacity: usize,
}

impl<W: Write> ChunkedWriter<W> {
    /// A writer that gathers small writes into chunks of up to 8 KiB.
    pub fn new(inner: W) -> ChunkedWriter<W> {
        ChunkedWriter::with_capacity(inner, 8 * 1024)
    }

    /// A writer that gathers small writes into chunks of up to `capacity` bytes (at least 1).
    pub fn with_capacity(inner: W, capacity: usize) -> ChunkedWriter<W> {
        let capacity = capacity.max(1);
        let mut buf = Vec::with_capacity(SIZE_ROOM + capacity.min(64 * 1024) + 2);
        buf.resize(SIZE_ROOM, 0);
        ChunkedWriter { inner, buf, capacity }
    }

    fn pending(&self) -> usize {
        self.buf.len() - SIZE_ROOM
    }

    /// Turns the pending data into a framed chunk in `buf`; returns where the frame starts,
    /// or `None` when nothing is pending.
    fn frame_pending(&mut self) -> Option<usize> {
        let len = self.pending();
        if len == 0 {
            return None;
        }
        let mut line = [0u8; 18];
        let n = chunk_size_line(len, &mut line);
        let start = SIZE_ROOM - n;
        self.buf[start..SIZE_ROOM].copy_from_slice(&line[..n]);
        self.buf.extend_from_slice(b"\r\n");
        Some(start)
    }

    /// Sends the pending data as one chunk.
    fn flush_chunk(&mut self) -> io::Result<()> {
        if let Some(start) = self.frame_pending() {
            let result = self.inner.write_all(&self.buf[start..]);
            self.buf.truncate(SIZE_ROOM);
            result?;
        }
        Ok(())
    }

    /// Sends the pending data, the last chunk and `trailers`, flushes, and gives the inner
    /// writer back. The last bytes go out in one write.
    ///
    /// # Errors
    /// Errors of the inner writer.
    pub fn finish(mut self, trailers: Option<&Headers>) -> io::Result<W> {
        let start = self.frame_pending().unwrap_or(SIZE_ROOM);
        encode_last_chunk(trailers, &mut self.buf);
        self.inner.write_all(&self.buf[start..])?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly corrupts the chunked stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

/// Writes three slices fully, with vectored writes where the writer supports them.
fn write_all_3<W: Write + ?Sized>(w: &mut W, parts: [&[u8]; 3]) -> io::Result<()> {
    let mut idx = 0;
    let mut off = 0;
    while idx < parts.len() {
        if off == parts[idx].len() {
            idx += 1;
            off = 0;
            continue;
        }
        let mut slices = [IoSlice::new(&[]), IoSlice::new(&[]), IoSlice::new(&[])];
        slices[0] = IoSlice::new(&parts[idx][off..]);
        for (k, p) in parts[idx + 1..].iter().enumerate() {
            slices[k + 1] = IoSlice::new(p);
        }
        let mut n = match w.write_vectored(&slices[..parts.len() - idx]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "failed to write chunk")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while n > 0 && idx < parts.len() {
            let left = parts[idx].len() - off;
            if n >= left {
                n -= left;
                idx += 1;
                off = 0;
            } else {
                off += n;
                n = 0;
            }
        }
    }
    Ok(())
}

impl<W: Write> Write for ChunkedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.pending() + data.len() <= self.capacity {
            self.buf.extend_from_slice(data);
            return Ok(data.len());
        }
        self.flush_chunk()?;
        if data.len() < self.capacity {
            self.buf.extend_from_slice(data);
            return Ok(data.len());
        }
        let mut line = [0u8; 18];
        let n = chunk_size_line(data.len(), &mut line);
        write_all_3(&mut self.inner, [&line[..n], data, b"\r\n"])?;
        Ok(data.len())
    }

    /// Sends the pending data as a chunk and flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_chunk()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::Method;
    use proptest::prelude::*;

    /// A `BufRead` over bytes that arrive in segments: each `fill_buf` shows at most the bytes
    /// up to the next split point, like reads from a socket.
    struct Segments<'a> {
        data: &'a [u8],
        pos: usize,
        splits: Vec<usize>,
        fills: usize,
    }

    impl<'a> Segments<'a> {
        fn new(data: &'a [u8], splits: &[usize]) -> Segments<'a> {
            Segments { data, pos: 0, splits: splits.to_vec(), fills: 0 }
        }
        fn every_byte(data: &'a [u8]) -> Segments<'a> {
            Segments::new(data, &(1..data.len()).collect::<Vec<_>>())
        }
        fn rest(&self) -> &'a [u8] {
            &self.data[self.pos..]
        }
    }

    impl Read for Segments<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            self.consume(n);
            Ok(n)
        }
    }

    impl BufRead for Segments<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            self.fills += 1;
            let end = self.splits.iter().copied().find(|&s| s > self.pos).unwrap_or(self.data.len());
            Ok(&self.data[self.pos..end.min(self.data.len())])
        }
        fn consume(&mut self, n: usize) {
            self.pos += n;
        }
    }

    fn limits() -> Limits {
        Limits::default()
    }

    const PIPELINE: &[u8] =
        b"\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\
        X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n\
        5;e=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n\
        GET /next HTTP/1.1\r\nHost: example.com\nContent-Length: 3\n\nabc";

    /// A request's target, body and trailers.
    type Message = (String, Vec<u8>, Option<Headers>);

    /// Reads the whole pipeline from `r`: two requests, their bodies and trailers.
    fn read_pipeline(r: &mut Segments<'_>) -> Result<Vec<Message>, Error> {
        let mut out = Vec::new();
        while let Some(req) = read_request_head(r, &limits())? {
            let framing = crate::framing::request_framing(&req)?;
            let mut body = BodyReader::new(&mut *r, framing, &limits());
            let mut bytes = Vec::new();
            body.read_to_end(&mut bytes)?;
            assert!(body.is_complete());
            out.push((req.url().to_owned(), bytes, body.take_trailers()));
        }
        Ok(out)
    }

    #[test]
    fn pipeline_at_every_split() {
        let whole = read_pipeline(&mut Segments::new(PIPELINE, &[])).unwrap();
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].0, "/upload?x=1");
        assert_eq!(whole[0].1, b"hello world");
        assert_eq!(whole[0].2.as_ref().unwrap().get("x-trailer"), Some("t"));
        assert_eq!(whole[1], ("/next".to_owned(), b"abc".to_vec(), None));
        assert_eq!(read_pipeline(&mut Segments::every_byte(PIPELINE)).unwrap(), whole);
        for i in 0..=PIPELINE.len() {
            for j in [i + 1, i + 7, i + 40] {
                let got = read_pipeline(&mut Segments::new(PIPELINE, &[i, j])).unwrap();
                assert_eq!(got, whole, "split at {i}, {j}");
            }
        }
    }

    #[test]
    fn head_consumes_exactly_its_bytes() {
        let wire = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
        for i in 0..=wire.len() {
            let mut r = Segments::new(wire, &[i]);
            let req = read_request_head(&mut r, &limits()).unwrap().unwrap();
            assert_eq!(req.headers().get("host"), Some("a"));
            assert_eq!(r.rest(), b"BODY", "split at {i}");
        }
    }

    #[test]
    fn byte_at_a_time_parses_per_line() {
        // A 32-line head fed one byte per fill_buf: the head is parsed again only when a line
        // ends, so it finishes quickly even with large limits.
        let mut wire = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..30 {
            wire.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(200)).as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        let mut r = Segments::every_byte(&wire);
        let parses = std::cell::Cell::new(0);
        let counting = |b: &[u8], l: &Limits| {
            parses.set(parses.get() + 1);
            parse_request_head(b, l)
        };
        let req = read_head(&mut r, &limits(), counting).unwrap().unwrap();
        assert_eq!(req.headers().len(), 31);
        assert_eq!(r.fills, wire.len());
        // One parse for the first byte, then at most one per CR and one per LF.
        assert!(parses.get() <= 1 + 2 * 33, "{} parses", parses.get());
    }

    #[test]
    fn clean_end_and_truncation() {
        assert!(read_request_head(&mut Segments::new(b"", &[]), &limits()).unwrap().is_none());
        assert!(read_request_head(&mut Segments::new(b"\r\n\r\n", &[1]), &limits()).unwrap().is_none());
        assert!(read_response_head(&mut Segments::new(b"", &[]), &limits()).unwrap().is_none());
        let wire = b"GET / HTTP/1.1\r\nHost: a\r\n";
        for i in 1..wire.len() {
            let e = read_request_head(&mut Segments::new(&wire[..i], &[i / 2]), &limits()).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedHead), Some(i)), "{i}");
        }
        let e = read_response_head(&mut Segments::new(b"HTTP/1.1 200 OK\r\n", &[3]), &limits()).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::TruncatedHead));
        let e = read_request_attributes(&mut Segments::new(b"A: 1\r\n", &[]), &limits()).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::TruncatedHead));
    }

    #[test]
    fn head_errors_match_the_parser() {
        let small = Limits {
            max_request_line: 20,
            max_header_line: 16,
            max_headers: 2,
            max_head: 80,
            ..Limits::DEFAULT
        };
        let cases: &[&[u8]] = &[
            b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
            b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n",
            b"G@T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\rX",
        ];
        for wire in cases {
            let want =
                parse_request_head(wire, &small).map(|p| p.complete().map(|(r, u)| (r.url().to_owned(), u)));
            let want = want.map_err(|e| (e.kind(), e.offset()));
            for splits in [vec![], (1..wire.len()).collect::<Vec<_>>(), vec![wire.len() / 2]] {
                let mut r = Segments::new(wire, &splits);
                let got = read_request_head(&mut r, &small);
                match (&want, got) {
                    (Err(w), Err(g)) => {
                        assert_eq!(*w, (g.kind(), g.offset()), "{:?}", String::from_utf8_lossy(wire))
                    }
                    (Ok(Some((url, used))), Ok(Some(req))) => {
                        assert_eq!((url.as_str(), *used), (req.url(), r.pos));
                    }
                    (w, g) => panic!("{:?}: want {w:?}, got {g:?}", String::from_utf8_lossy(wire)),
                }
            }
        }
    }

    #[test]
    fn response_heads_and_attributes() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        for i in 0..=wire.len() {
            let mut r = Segments::new(wire, &[i]);
            let interim = read_response_head(&mut r, &limits()).unwrap().unwrap();
            assert!(interim.is_interim());
            let head = read_response_head(&mut r, &limits()).unwrap().unwrap();
            assert_eq!(head.status, 200);
            let framing = crate::framing::response_framing(&Method::Get, &head).unwrap();
            assert_eq!(read_body(&mut r, framing, &limits()).unwrap(), b"ok");
        }
        let h = read_request_attributes(&mut Segments::new(b"", &[]), &limits()).unwrap();
        assert!(h.is_empty());
        let h = read_request_attributes(&mut Segments::new(b"\r\nrest", &[]), &limits()).unwrap();
        assert!(h.is_empty());
        let e = read_request_attributes(&mut Segments::new(b"A 1\r\n\r\n", &[]), &limits()).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::InvalidHeaderName));
    }

    fn read_all<R: BufRead>(body: &mut BodyReader<R>, step: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        for _ in 0..10_000 {
            let n = body.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
        panic!("body never ended");
    }

    #[test]
    fn length_bodies() {
        let wire = b"0123456789NEXT";
        for i in 0..=wire.len() {
            for step in [1, 4, 64] {
                let mut r = Segments::new(wire, &[i]);
                let mut body = BodyReader::new(&mut r, Framing::Length(10), &limits());
                assert_eq!(body.remaining(), Some(10));
                assert_eq!(read_all(&mut body, step).unwrap(), b"0123456789");
                assert!(body.is_complete());
                assert_eq!((body.remaining(), body.bytes_read()), (Some(0), 10));
                assert_eq!(r.rest(), b"NEXT");
            }
        }
        let mut body = BodyReader::new(&b"0123"[..], Framing::Length(10), &limits());
        let e = read_all(&mut body, 3).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedBody), Some(4)));
        assert!(!body.is_complete());
        let mut body = BodyReader::new(&b"abc"[..], Framing::Length(0), &limits());
        assert_eq!(read_all(&mut body, 3).unwrap(), b"");
        assert!(body.is_complete());
        assert_eq!(body.into_inner(), b"abc");
    }

    #[test]
    fn none_and_until_close_bodies() {
        let mut body = BodyReader::new(&b"rest"[..], Framing::None, &limits());
        assert!(body.is_complete());
        assert_eq!(read_all(&mut body, 8).unwrap(), b"");
        assert_eq!(*body.get_ref(), b"rest");
        let mut body = BodyReader::new(&b"all of it"[..], Framing::UntilClose, &limits());
        assert!(!body.is_complete());
        assert_eq!(body.remaining(), None);
        assert_eq!(read_all(&mut body, 2).unwrap(), b"all of it");
        assert!(body.is_complete());
        assert!(body.trailers().is_none());
        let _ = body.get_mut();
    }

    #[test]
    fn chunked_bodies_truncated_and_malformed() {
        let wire = b"5\r\nhello\r\n0\r\nA: 1\r\n\r\n";
        for end in 0..wire.len() {
            let mut body = BodyReader::new(&wire[..end], Framing::Chunked, &limits());
            let e = read_all(&mut body, 4).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedBody), Some(end)), "{end}");
        }
        let mut body = BodyReader::new(&b"5\r\nhelloXX"[..], Framing::Chunked, &limits());
        let e = read_all(&mut body, 64).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(8)));
        let mut body = BodyReader::new(&b"5\r\nhelloX"[..], Framing::Chunked, &limits());
        assert_eq!(body.read(&mut [0u8; 16]).unwrap(), 5);
        let e = Error::from(body.read(&mut [0u8; 16]).unwrap_err());
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(8)));
        let mut body = BodyReader::new(&b"5\r\nhelloXX"[..], Framing::Chunked, &limits());
        let mut sink = Vec::new();
        let e = Error::from(body.read_to_end(&mut sink).unwrap_err());
        assert_eq!(e.kind(), Some(ErrorKind::InvalidChunk));
        assert_eq!(sink, b"hello");
    }

    #[test]
    fn read_body_limits() {
        let small = Limits { max_body: 8, ..Limits::DEFAULT };
        let e = read_body(&mut &b"whatever"[..], Framing::Length(9), &small).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::BodyTooLarge), Some(0)));
        assert_eq!(e.status(), 413);
        assert_eq!(read_body(&mut &b"12345678"[..], Framing::Length(8), &small).unwrap(), b"12345678");
        assert_eq!(read_body(&mut &b"12345678"[..], Framing::UntilClose, &small).unwrap(), b"12345678");
        let e = read_body(&mut &b"123456789"[..], Framing::UntilClose, &small).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge));
        let e = read_body(&mut &b"9\r\n123456789\r\n0\r\n\r\n"[..], Framing::Chunked, &small).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge));
        let ok =
            read_body(&mut &b"4\r\n1234\r\n4\r\n5678\r\n0\r\n\r\n"[..], Framing::Chunked, &small).unwrap();
        assert_eq!(ok, b"12345678");
        assert_eq!(read_body(&mut &b"x"[..], Framing::None, &small).unwrap(), b"");
        let e = read_body(&mut &b"1234"[..], Framing::Length(5), &small).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::TruncatedBody));
    }

    #[test]
    fn limit_reader() {
        let mut r = LimitReader::new(&b"abcdef"[..], 6);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((out.as_slice(), r.remaining()), (&b"abcdef"[..], 0));
        let mut r = LimitReader::new(&b"abcdefg"[..], 6);
        let e = Error::from(r.read_to_end(&mut Vec::new()).unwrap_err());
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::BodyTooLarge), Some(6)));
        let mut r = LimitReader::new(&b""[..], 0);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        assert_eq!(r.read(&mut []).unwrap(), 0);
        assert_eq!(*r.get_ref(), b"");
        let _ = r.get_mut();
        let _ = r.into_inner();
    }

    #[test]
    fn drain_bounds() {
        let mut b = BodyReader::new(&b"0123456789NEXT"[..], Framing::Length(10), &limits());
        assert!(drain(&mut b, 10).unwrap());
        assert_eq!(b.into_inner(), b"NEXT");
        let mut b = BodyReader::new(&b"0123456789NEXT"[..], Framing::Length(10), &limits());
        assert!(!drain(&mut b, 9).unwrap());
        let mut b = BodyReader::new(&b"0123"[..], Framing::Length(10), &limits());
        assert_eq!(drain(&mut b, 100).unwrap_err().kind(), Some(ErrorKind::TruncatedBody));
        assert!(drain(&mut &[0u8; 20000][..], 20000).unwrap());
        assert!(!drain(&mut &[0u8; 20001][..], 20000).unwrap());
    }

    /// A writer that takes at most `max` bytes per call, vectored or not.
    struct Stingy {
        out: Vec<u8>,
        max: usize,
        calls: usize,
    }

    impl Write for Stingy {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            let n = data.len().min(self.max);
            self.out.extend_from_slice(&data[..n]);
            Ok(n)
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.max - n);
                self.out.extend_from_slice(&b[..take]);
                n += take;
            }
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn chunked_writer_framing() {
        let mut w = ChunkedWriter::with_capacity(Stingy { out: Vec::new(), max: usize::MAX, calls: 0 }, 8);
        w.write_all(b"ab").unwrap();
        w.write_all(b"cd").unwrap();
        assert!(w.get_ref().out.is_empty());
        w.write_all(b"efghi").unwrap(); // does not fit: "abcd" goes out, "efghi" waits
        w.write_all(b"0123456789").unwrap(); // large: its own chunk, vectored
        w.flush().unwrap();
        w.write_all(b"").unwrap();
        w.flush().unwrap();
        w.write_all(b"z").unwrap();
        let _ = w.get_mut();
        let mut t = Headers::new();
        t.append("Digest", "x").unwrap();
        let inner = w.finish(Some(&t)).unwrap();
        assert_eq!(
            inner.out,
            b"4\r\nabcd\r\n5\r\nefghi\r\na\r\n0123456789\r\n1\r\nz\r\n0\r\ndigest: x\r\n\r\n"
        );
        assert_eq!(inner.calls, 4);

        let w = ChunkedWriter::new(Vec::new());
        assert_eq!(w.finish(None).unwrap(), b"0\r\n\r\n");
    }

    proptest! {
        #[test]
        fn chunked_writer_round_trip(
            writes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
            cap in 1usize..32,
            max in 1usize..7,
            read_step in 1usize..9,
        ) {
            let mut w = ChunkedWriter::with_capacity(Stingy { out: Vec::new(), max, calls: 0 }, cap);
            for data in &writes {
                w.write_all(data).unwrap();
            }
            let mut wire = w.finish(None).unwrap().out;
            wire.extend_from_slice(b"NEXT");
            let mut r = Segments::new(&wire, &[wire.len() / 3]);
            let mut body = BodyReader::new(&mut r, Framing::Chunked, &limits());
            prop_assert_eq!(read_all(&mut body, read_step).unwrap(), writes.concat());
            prop_assert!(body.is_complete());
            prop_assert_eq!(r.rest(), b"NEXT");
        }
    }
}
