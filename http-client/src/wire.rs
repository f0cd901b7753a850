//! Message framing on the wire: how a response body is delimited, reading it from a buffered
//! connection, and writing request heads and chunked request bodies.

use std::io::{self, BufRead, Read, Write};

use http_utils::{Error as WireError, ErrorKind, Headers, Limits, Method, ResponseHead, Version};

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body at all (HEAD, 1xx, 204, 304, a 2xx answer to CONNECT).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Decides the framing of a response to `method` with `head`.
pub(crate) fn response_framing(method: &Method, head: &ResponseHead) -> Result<Framing, WireError> {
    let s = head.status;
    if *method == Method::Head || (100..200).contains(&s) || s == 204 || s == 304 {
        return Ok(Framing::None);
    }
    if *method == Method::Connect && (200..300).contains(&s) {
        return Ok(Framing::None);
    }
    let codings = head.headers.transfer_codings();
    let has_te = head.headers.contains("transfer-encoding");
    let cl = head.headers.content_length().map_err(|k| WireError::protocol(k, 0))?;
    if has_te {
        if cl.is_some() {
            return Err(WireError::protocol(ErrorKind::ContentLengthWithTransferEncoding, 0));
        }
        if codings.last().map(String::as_str) == Some("chunked") {
            if codings.len() > 1 {
                return Err(WireError::protocol(ErrorKind::UnsupportedTransferCoding, 0));
            }
            return Ok(Framing::Chunked);
        }
        return Ok(Framing::UntilClose);
    }
    Ok(match cl {
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Bytes left in a length-delimited body.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Bytes left in the current chunk's data.
    ChunkData(u64),
    /// Expecting the CRLF after chunk data.
    ChunkEnd,
    /// Reading trailer fields after the last chunk.
    Trailers,
    /// Until the connection closes.
    UntilClose,
    /// The body is complete.
    Done,
}

/// Reads one response body from a buffered connection, never past its end.
pub(crate) struct BodyReader<R> {
    inner: R,
    state: State,
    /// Body bytes delivered so far (offsets in errors).
    read: u64,
    max_chunk_line: usize,
    max_trailers: usize,
    max_trailer_fields: usize,
    trailer_bytes: usize,
    trailer_fields: usize,
}

/// A buffered reader that shows what it holds without reading more.
pub(crate) trait Buffered: BufRead {
    /// The bytes already buffered.
    fn buffered(&self) -> &[u8];
}

impl Buffered for &[u8] {
    fn buffered(&self) -> &[u8] {
        self
    }
}

impl<R: Buffered> BodyReader<R> {
    pub(crate) fn new(inner: R, framing: Framing, limits: &Limits) -> BodyReader<R> {
        let state = match framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        BodyReader {
            inner,
            state,
            read: 0,
            max_chunk_line: limits.max_chunk_line,
            max_trailers: limits.max_head,
            max_trailer_fields: limits.max_headers,
            trailer_bytes: 0,
            trailer_fields: 0,
        }
    }

    /// True once the whole body has been read.
    pub(crate) fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// The connection.
    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The connection, back.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    fn err(&self, kind: ErrorKind) -> io::Error {
        WireError::protocol(kind, usize::try_from(self.read).unwrap_or(usize::MAX)).into()
    }

    /// Reads a line (without its ending) of at most `max` bytes into `line`.
    fn read_line(&mut self, max: usize, too_long: ErrorKind, line: &mut Vec<u8>) -> io::Result<()> {
        line.clear();
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(self.err(ErrorKind::TruncatedBody));
            }
            match buf.iter().position(|&c| c == b'\n') {
                Some(p) => {
                    line.extend_from_slice(&buf[..p]);
                    self.inner.consume(p + 1);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if line.len() > max {
                        return Err(self.err(too_long));
                    }
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    line.extend_from_slice(buf);
                    self.inner.consume(n);
                    if line.len() > max + 1 {
                        return Err(self.err(too_long));
                    }
                }
            }
        }
    }

    /// Advances through chunk-size lines, chunk endings and trailers until data or the end.
    fn step_chunked(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        loop {
            match self.state {
                State::ChunkSize => {
                    self.read_line(self.max_chunk_line, ErrorKind::ChunkLineTooLong, &mut line)?;
                    let size_part = line.split(|&c| c == b';').next().unwrap_or(&[]);
                    let size_part = trim_trailing_ws(size_part);
                    if size_part.is_empty() || !size_part.iter().all(u8::is_ascii_hexdigit) {
                        return Err(self.err(ErrorKind::InvalidChunk));
                    }
                    let mut size: u64 = 0;
                    for &c in size_part {
                        let d = u64::from((c as char).to_digit(16).unwrap_or(0));
                        size = size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(d))
                            .ok_or_else(|| self.err(ErrorKind::ChunkSizeOverflow))?;
                    }
                    self.state = if size == 0 { State::Trailers } else { State::ChunkData(size) };
                }
                State::ChunkEnd => {
                    self.read_line(0, ErrorKind::InvalidChunk, &mut line)?;
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    self.read_line(self.max_trailers, ErrorKind::TrailersTooLarge, &mut line)?;
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(());
                    }
                    self.trailer_bytes += line.len() + 2;
                    self.trailer_fields += 1;
                    if self.trailer_bytes > self.max_trailers || self.trailer_fields > self.max_trailer_fields
                    {
                        return Err(self.err(ErrorKind::TrailersTooLarge));
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

fn trim_trailing_ws(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(0, |p| p + 1);
    &b[..end]
}

impl<R: Buffered> Read for BodyReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Length(left) | State::ChunkData(left) => {
                    let want = usize::try_from(left).unwrap_or(usize::MAX).min(out.len());
                    let n = {
                        let buf = self.inner.fill_buf()?;
                        let n = buf.len().min(want);
                        out[..n].copy_from_slice(&buf[..n]);
                        n
                    };
                    if n == 0 {
                        return Err(self.err(ErrorKind::TruncatedBody));
                    }
                    self.inner.consume(n);
                    self.read += n as u64;
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), l) => State::Length(l),
                        (_, 0) => State::ChunkEnd,
                        (_, l) => State::ChunkData(l),
                    };
                    if self.state == State::ChunkEnd {
                        // When the last chunk is already buffered, the end of the body is noticed
                        // now, without another read call (and without blocking).
                        const LAST: &[u8] = b"\r\n0\r\n\r\n";
                        if self.inner.buffered().starts_with(LAST) {
                            self.inner.consume(LAST.len());
                            self.state = State::Done;
                        }
                    }
                    return Ok(n);
                }
                State::UntilClose => {
                    let n = {
                        let buf = self.inner.fill_buf()?;
                        let n = buf.len().min(out.len());
                        out[..n].copy_from_slice(&buf[..n]);
                        n
                    };
                    if n == 0 {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    self.inner.consume(n);
                    self.read += n as u64;
                    return Ok(n);
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers => self.step_chunked()?,
            }
        }
    }
}

/// Appends a request head to `out`.
pub(crate) fn write_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    version: Version,
    headers: &Headers,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.push(b' ');
    out.extend_from_slice(version.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Copies `reader` to `w` as chunks, then the last chunk. Returns the body bytes sent.
pub(crate) fn write_chunked(reader: &mut dyn Read, w: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024 + 16];
    let mut total = 0u64;
    loop {
        // Leave room in front for the size line and behind for the CRLF.
        let n = match reader.read(&mut buf[10..10 + 16 * 1024]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            w.write_all(b"0\r\n\r\n")?;
            return Ok(total);
        }
        let size_line = format!("{n:x}\r\n");
        let start = 10 - size_line.len();
        buf[start..10].copy_from_slice(size_line.as_bytes());
        buf[10 + n..10 + n + 2].copy_from_slice(b"\r\n");
        w.write_all(&buf[start..10 + n + 2])?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(framing: Framing, bytes: &[u8]) -> (io::Result<Vec<u8>>, bool) {
        let mut r = BodyReader::new(bytes, framing, &Limits::default());
        let mut out = Vec::new();
        let res = r.read_to_end(&mut out).map(|_| out);
        (res, r.is_complete())
    }

    #[test]
    fn chunked_body_with_trailers() {
        let (b, done) = body(Framing::Chunked, b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\nNEXT");
        assert_eq!(b.unwrap(), b"abcde");
        assert!(done);
    }

    #[test]
    fn broken_chunks_are_errors() {
        for bad in
            [&b"x\r\nabc\r\n0\r\n\r\n"[..], b"3\r\nabcX\r\n0\r\n\r\n", b"3\r\nab", b"+3\r\nabc\r\n0\r\n\r\n"]
        {
            let (b, _) = body(Framing::Chunked, bad);
            assert!(b.is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let (b, _) = body(Framing::Chunked, b"fffffffffffffffff\r\n");
        assert_eq!(WireError::from(b.unwrap_err()).kind(), Some(ErrorKind::ChunkSizeOverflow));
    }

    #[test]
    fn length_body_stops_at_its_end() {
        let mut r = BodyReader::new(&b"helloNEXT"[..], Framing::Length(5), &Limits::default());
        let mut out = [0u8; 5];
        r.read_exact(&mut out).unwrap();
        assert!(r.is_complete());
        assert_eq!(r.into_inner(), b"NEXT");
        let (b, _) = body(Framing::Length(10), b"short");
        assert_eq!(WireError::from(b.unwrap_err()).kind(), Some(ErrorKind::TruncatedBody));
    }

    #[test]
    fn framing_rules() {
        let head = |raw: &[u8]| {
            http_utils::parse_response_head(raw, &Limits::default()).unwrap().complete().unwrap().0
        };
        let h = head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(response_framing(&Method::Get, &h).unwrap(), Framing::Length(3));
        assert_eq!(response_framing(&Method::Head, &h).unwrap(), Framing::None);
        let h = head(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(response_framing(&Method::Get, &h).unwrap(), Framing::None);
        let h = head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
        assert!(response_framing(&Method::Get, &h).is_err());
        let h = head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n");
        assert!(response_framing(&Method::Get, &h).is_err());
        let h = head(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(response_framing(&Method::Get, &h).unwrap(), Framing::UntilClose);
    }

    #[test]
    fn chunked_writer() {
        let mut out = Vec::new();
        let n = write_chunked(&mut &b"hello"[..], &mut out).unwrap();
        assert_eq!(n, 5);
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    }
}
