//! The one module that adapts the I/O-free core to blocking [`std::io`]: heads read from any
//! [`BufRead`], bodies read and written through [`Read`] and [`Write`](std::io::Write).
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

use std::io::{self, BufRead, Read};

use crate::chunked::ChunkedDecoder;
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

    /// Limits a chunked body to `max` bytes in all, decided from its chunk-size lines: a size
    /// line that declares more than `max` leaves fails the next read with `BodyTooLarge`
    /// (413) at once, without waiting for the chunk's data (see
    /// [`ChunkedDecoder::set_max_body`]). Other framings are left as they are: the length of a
    /// `Length` body is known beforehand ([`remaining`](BodyReader::remaining)), and a
    /// `UntilClose` body needs a [`LimitReader`].
    pub fn set_max_body(&mut self, max: u64) {
        if let Kind::Chunked(dec) = &mut self.kind {
            dec.set_max_body(max);
        }
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

    /// Takes the rest of a `Length` body in one piece when `take` can hand it over whole
    /// (say, from a buffer that holds exactly those bytes, without copying them):
    /// `take(inner, n)` returns the `n` bytes still to come, or `None`. The reader is then
    /// complete. `None` (nothing taken) for other framings and when `take` declines or
    /// returns another count.
    ///
    /// ```
    /// use http_utils::{io::BodyReader, Framing, Limits};
    /// let mut r = BodyReader::new(&b"hello"[..], Framing::Length(5), &Limits::default());
    /// let taken = r.take_rest_with(|inner, n| Some(inner[..n as usize].to_vec()));
    /// assert_eq!((taken.as_deref(), r.is_complete()), (Some(&b"hello"[..]), true));
    /// ```
    pub fn take_rest_with(&mut self, take: impl FnOnce(&mut R, u64) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        let Kind::Length { remaining } = &mut self.kind else { return None };
        let n = *remaining;
        let bytes = take(&mut self.inner, n).filter(|b| b.len() as u64 == n)?;
        *remaining = 0;
        self.read += n;
        Some(bytes)
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
/// anything), when a chunk-size line takes the body past the limit (before its data), or when
/// more bytes than the limit arrive; `TruncatedBody` when the stream ends
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
    let mut body = BodyReader::new(r, framing, limits);
    // A chunk size past the limit fails at its size line, not after its data.
    body.set_max_body(limits.max_body);
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

mod chunked_writer;
pub use chunked_writer::ChunkedWriter;

#[cfg(test)]
mod tests;
