//! The chunked transfer coding (RFC 9112 §7.1): an I/O-free decoder and an encoder.
//!
//! The decoder is a byte-driven state machine. It accepts any split of its input (one byte at
//! a time gives the same result as everything at once), never looks past the end of the
//! chunked stream, and copies chunk data straight into the caller's buffer.
//!
//! ```text
//!            hex digit                     ';' (BWS may precede it)
//!   SizeStart ───────► Size ──────────────────────────────► Ext ─┐ any field byte
//!                      │  ▲ hex digit                            ◄┘
//!                      │  └──┘  (every digit: sizes past the body limit → 413)
//!                      │ CR LF / LF (from Size or Ext)
//!                      ▼
//!          size > 0: Data ──(size bytes)──► DataEnd ──CR LF / LF──► SizeStart
//!          size = 0: TrailerStart ──empty line──► Done
//!                       │ field line                 ▲
//!                       └──► Trailers ──empty line───┘  (parsed with parse_headers)
//! ```
//!
//! Every breach is one error kind; the table is on [`ChunkedDecoder`]. A decoder given a body
//! limit ([`ChunkedDecoder::with_max_body`]) fails as soon as a size line declares more than
//! the limit leaves, before any of that chunk's data: a peer announcing `ffffffffffffffff` is
//! answered at once, not after it has sent (or failed to send) the bytes.
//!
//! Offsets in errors count bytes from the start of the chunked stream.

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;
use crate::limits::Limits;
use crate::parse::{parse_headers, Parsed};
use crate::token::is_field_vchar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting the first hex digit of a chunk size.
    SizeStart,
    /// Inside the hex digits.
    Size,
    /// Whitespace after the digits: only more whitespace or `;` may follow.
    SizeBws,
    /// Inside chunk extensions, skipped up to the line ending.
    Ext,
    /// A CR ended the size line; LF must follow.
    SizeLf,
    /// `size` bytes of chunk data remain.
    Data,
    /// After chunk data: CR or LF must follow.
    DataEnd,
    /// After chunk data and a CR: LF must follow.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    Trailers,
    /// A CR at the start of a trailer line; LF must follow.
    TrailerEndLf,
    /// The last chunk and its trailers have been read.
    Done,
}

/// An I/O-free decoder of the chunked transfer coding.
///
/// Feed it bytes of the stream with [`decode`](ChunkedDecoder::decode); it writes the body's
/// bytes into an output buffer and says how much of each it used. Trailer fields are kept and
/// available from [`trailers`](ChunkedDecoder::trailers) once the decoder is done.
///
/// ```
/// use http_utils::{ChunkedDecoder, Limits};
/// let stream = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nExpires: never\r\n\r\nnext message";
/// let mut dec = ChunkedDecoder::new(&Limits::default());
/// let mut out = [0u8; 64];
/// let (consumed, produced) = dec.decode(stream, &mut out).unwrap();
/// assert!(dec.is_done());
/// assert_eq!(&out[..produced], b"hello world");
/// assert_eq!(&stream[consumed..], b"next message");
/// assert_eq!(dec.trailers().unwrap().get("expires"), Some("never"));
/// ```
///
/// Whitespace may stand between the size and a `;` that starts extensions, nowhere else.
///
/// Bare LF is accepted wherever the grammar has CRLF (size lines, after chunk data, trailers),
/// as in the head parsers and as nginx and HAProxy accept it (squid refuses it); a CR must be
/// followed by LF. This is kept on purpose. A body is smuggled only when two parties disagree
/// about where it ends; a bare LF moves no boundary for a reader that takes it as a line
/// ending, because the size line says where the data ends and the data is counted, never
/// scanned. The proxies this server is deployed behind read it the same way, or refuse the
/// request, or decode the body and send it on re-framed. The one front that would disagree
/// is one that skips the two bytes after chunk data without looking at them and forwards the
/// body as it came: there a strict reader would refuse what this one reads differently. No
/// such front is known among those in use; should one be, this is the place to refuse bare LF.
/// A bare CR, which some parsers take as a line ending, is refused everywhere.
///
/// Limits come from [`Limits`] and, for the body's size, [`with_max_body`](ChunkedDecoder::with_max_body):
///
/// | breach | kind (status) |
/// | --- | --- |
/// | a size line that is not `1*HEXDIG [BWS ; extensions]`: signs, `0x`, spaces inside the number, empty | `InvalidChunk` (400) |
/// | chunk data not followed by a line ending; a CR not followed by LF; control bytes in extensions | `InvalidChunk` (400) |
/// | a size above `u64::MAX` | `ChunkSizeOverflow` (400) |
/// | sizes whose sum passes the body limit ([`with_max_body`](ChunkedDecoder::with_max_body)), at the digit that passes it | `BodyTooLarge` (413) |
/// | a size line (extensions included) longer than `max_chunk_line` | `ChunkLineTooLong` (400) |
/// | trailers larger than `max_head`, with more than `max_headers` fields or a line longer than `max_header_line` | `TrailersTooLarge` (431) |
/// | a malformed trailer field | the header error of [`parse_headers`] |
///
/// Offsets in errors count bytes from the start of the chunked stream.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    limits: Limits,
    /// Bytes of the chunked stream consumed so far.
    offset: u64,
    /// The chunk size being read, then the data bytes still to come.
    size: u64,
    /// Length of the current size line, without its line ending.
    line_len: usize,
    /// The sum of the sizes of the chunks whose size line has been read.
    declared: u64,
    /// Most body bytes the sizes may add up to (`u64::MAX`: no limit).
    max_body: u64,
    /// The raw trailer section (without its final empty line) while it is being read.
    trailer_buf: Vec<u8>,
    /// Stream offset of the first trailer byte.
    trailer_offset: u64,
    trailers: Option<Headers>,
    /// A protocol error, repeated on every later call.
    failed: Option<(ErrorKind, usize)>,
}

#[inline]
fn hex_value(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'a'..=b'f' => Some(u64::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(c - b'A' + 10)),
        _ => None,
    }
}

fn to_offset(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body, bounded by `limits` (`max_chunk_line` for size
    /// lines; `max_head`, `max_headers` and `max_header_line` for trailers). The body's size is
    /// not limited (a body may be streamed): see [`with_max_body`](ChunkedDecoder::with_max_body).
    pub fn new(limits: &Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::SizeStart,
            limits: *limits,
            offset: 0,
            size: 0,
            line_len: 0,
            declared: 0,
            max_body: u64::MAX,
            trailer_buf: Vec::new(),
            trailer_offset: 0,
            trailers: None,
            failed: None,
        }
    }

    /// The same decoder, failing with `BodyTooLarge` (413) as soon as a chunk-size line declares
    /// more body bytes than `max` leaves after the chunks before it (usually
    /// [`Limits::max_body`], for a body that is read whole). The error comes at the hex digit
    /// that passes the limit, before the line ends and before any of the chunk's data.
    ///
    /// ```
    /// use http_utils::{ChunkedDecoder, ErrorKind, Limits};
    /// let mut dec = ChunkedDecoder::new(&Limits::default()).with_max_body(8);
    /// let mut out = [0u8; 16];
    /// assert_eq!(dec.decode(b"5\r\nhello\r\n", &mut out).unwrap(), (10, 5));
    /// let err = dec.decode(b"4\r\n", &mut out).unwrap_err();
    /// assert_eq!((err.kind(), err.status()), (Some(ErrorKind::BodyTooLarge), 413));
    /// let mut dec = ChunkedDecoder::new(&Limits::default()).with_max_body(1 << 20);
    /// assert_eq!(dec.decode(b"ffffffff", &mut out).unwrap_err().status(), 413);
    /// ```
    pub fn with_max_body(mut self, max: u64) -> ChunkedDecoder {
        self.set_max_body(max);
        self
    }

    /// Sets the body limit of [`with_max_body`](ChunkedDecoder::with_max_body) on a decoder
    /// that may have read part of the body already: when the chunks declared so far (the one
    /// whose size line is being read included) pass `max`, the next call fails with
    /// `BodyTooLarge`. A decoder that is done is left as it is.
    pub fn set_max_body(&mut self, max: u64) {
        self.max_body = max;
        let pending = match self.state {
            State::Size | State::SizeBws | State::Ext | State::SizeLf => self.size,
            _ => 0,
        };
        if self.failed.is_none() && self.state != State::Done && self.declared.saturating_add(pending) > max {
            self.failed = Some((ErrorKind::BodyTooLarge, to_offset(self.offset)));
        }
    }

    /// True once the last chunk and the trailer section have been read. The decoder then
    /// consumes nothing more: what follows belongs to the next message. Never true after an
    /// error (a malformed trailer section included).
    pub fn is_done(&self) -> bool {
        self.state == State::Done && self.failed.is_none()
    }

    /// The trailer fields, once the decoder is done; `None` before that and when the sender
    /// sent no trailer fields.
    pub fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    /// Takes the trailer fields out of the decoder.
    pub fn take_trailers(&mut self) -> Option<Headers> {
        self.trailers.take()
    }

    /// Bytes of the chunked stream consumed so far.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Data bytes of the current chunk that are still to come; 0 outside chunk data and after
    /// an error (a body limit set part way may fail a chunk whose data is being read).
    pub(crate) fn data_remaining(&self) -> u64 {
        if self.state == State::Data && self.failed.is_none() {
            self.size
        } else {
            0
        }
    }

    /// Records that `n` data bytes (at most [`data_remaining`](Self::data_remaining)) were
    /// read by the caller directly from the stream.
    pub(crate) fn advance_data(&mut self, n: usize) {
        debug_assert!(self.state == State::Data && n as u64 <= self.size);
        let n = (n as u64).min(self.size);
        self.size -= n;
        self.offset += n;
        if self.size == 0 {
            self.state = State::DataEnd;
        }
    }

    fn fail(&mut self, kind: ErrorKind, offset: u64) -> Error {
        let offset = to_offset(offset);
        self.failed = Some((kind, offset));
        Error::protocol(kind, offset)
    }

    /// Decodes as much of `input` as it can, writing body bytes to `output`.
    ///
    /// Returns `(consumed, produced)`: how many bytes of `input` were used and how many body
    /// bytes were written to the front of `output`. It stops early when `output` is full
    /// during chunk data, and when the stream is done; unconsumed input must be passed again
    /// (with more bytes appended if needed). With an empty `output` it still reads size lines
    /// and trailers, and stops at chunk data.
    ///
    /// # Errors
    /// The kinds in the table on [`ChunkedDecoder`]. When body bytes were produced in the same call
    /// they are returned first and the error comes with the next call; after an error every
    /// call returns it again.
    pub fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize), Error> {
        if let Some((kind, offset)) = self.failed {
            return Err(Error::protocol(kind, offset));
        }
        let mut i = 0;
        let mut produced = 0;
        // Body bytes produced before an error are delivered first; the error (kept in
        // `self.failed`) comes with the next call.
        macro_rules! bail {
            ($e:expr) => {{
                let e = $e;
                return if produced > 0 { Ok((i, produced)) } else { Err(e) };
            }};
        }
        while i < input.len() {
            let c = input[i];
            let at = self.offset;
            match self.state {
                State::SizeStart => match hex_value(c) {
                    Some(v) => {
                        self.size = v;
                        self.line_len = 0;
                        self.state = State::Size;
                        if let Err(e) = self.check_total(at).and_then(|()| self.count_line_byte(at)) {
                            bail!(e);
                        }
                    }
                    None => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                },
                State::Size => match hex_value(c) {
                    Some(v) => {
                        self.size = match self.size.checked_mul(16) {
                            Some(n) => n | v,
                            None => bail!(self.fail(ErrorKind::ChunkSizeOverflow, at)),
                        };
                        if let Err(e) = self.check_total(at).and_then(|()| self.count_line_byte(at)) {
                            bail!(e);
                        }
                    }
                    None => match c {
                        b' ' | b'\t' => {
                            self.state = State::SizeBws;
                            if let Err(e) = self.count_line_byte(at) {
                                bail!(e);
                            }
                        }
                        b';' => {
                            self.state = State::Ext;
                            if let Err(e) = self.count_line_byte(at) {
                                bail!(e);
                            }
                        }
                        b'\r' => self.state = State::SizeLf,
                        b'\n' => self.end_size_line(),
                        _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                    },
                },
                State::SizeBws => {
                    match c {
                        b' ' | b'\t' => {}
                        b';' => self.state = State::Ext,
                        _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                    }
                    if let Err(e) = self.count_line_byte(at) {
                        bail!(e);
                    }
                }
                State::Ext => {
                    // Skip to the line ending in one step.
                    let rest = &input[i..];
                    let n = rest.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(rest.len());
                    // The first offending byte wins, as if read one at a time.
                    let allowed = self.limits.max_chunk_line.saturating_sub(self.line_len);
                    let checked = n.min(allowed.saturating_add(1));
                    if let Some(p) = rest[..checked].iter().position(|&b| !is_field_vchar(b)) {
                        bail!(self.fail(ErrorKind::InvalidChunk, at + p as u64));
                    }
                    if n > allowed {
                        bail!(self.fail(ErrorKind::ChunkLineTooLong, at + allowed as u64));
                    }
                    self.line_len += n;
                    if n < rest.len() {
                        if rest[n] == b'\r' {
                            self.state = State::SizeLf;
                        } else {
                            self.end_size_line();
                        }
                        i += n + 1;
                        self.offset += n as u64 + 1;
                    } else {
                        i += n;
                        self.offset += n as u64;
                    }
                    continue;
                }
                State::SizeLf => match c {
                    b'\n' => self.end_size_line(),
                    _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                },
                State::Data => {
                    let room = output.len() - produced;
                    if room == 0 {
                        break;
                    }
                    let n = to_offset(self.size).min(input.len() - i).min(room);
                    output[produced..produced + n].copy_from_slice(&input[i..i + n]);
                    produced += n;
                    i += n;
                    self.offset += n as u64;
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = State::DataEnd;
                    }
                    continue;
                }
                State::DataEnd => match c {
                    b'\r' => self.state = State::DataLf,
                    b'\n' => self.state = State::SizeStart,
                    _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                },
                State::DataLf => match c {
                    b'\n' => self.state = State::SizeStart,
                    _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                },
                State::TrailerStart => match c {
                    b'\r' => self.state = State::TrailerEndLf,
                    b'\n' => {
                        self.offset += 1;
                        i += 1;
                        if let Err(e) = self.finish_trailers() {
                            bail!(e);
                        }
                        return Ok((i, produced));
                    }
                    _ => {
                        if self.trailer_buf.is_empty() {
                            self.trailer_offset = at;
                        }
                        self.state = State::Trailers;
                        continue;
                    }
                },
                State::Trailers => {
                    // Take the rest of the line, line ending included, in one step.
                    let rest = &input[i..];
                    let (n, line_done) = match rest.iter().position(|&b| b == b'\n') {
                        Some(p) => (p + 1, true),
                        None => (rest.len(), false),
                    };
                    if self.trailer_buf.len() + n > self.limits.max_head {
                        let past = self.limits.max_head - self.trailer_buf.len().min(self.limits.max_head);
                        bail!(self.fail(ErrorKind::TrailersTooLarge, at + past as u64));
                    }
                    self.trailer_buf.extend_from_slice(&rest[..n]);
                    if line_done {
                        self.state = State::TrailerStart;
                    }
                    i += n;
                    self.offset += n as u64;
                    continue;
                }
                State::TrailerEndLf => match c {
                    b'\n' => {
                        self.offset += 1;
                        i += 1;
                        if let Err(e) = self.finish_trailers() {
                            bail!(e);
                        }
                        return Ok((i, produced));
                    }
                    _ => bail!(self.fail(ErrorKind::InvalidChunk, at)),
                },
                State::Done => break,
            }
            i += 1;
            self.offset += 1;
        }
        Ok((i, produced))
    }

    /// Counts one byte of the size line against `max_chunk_line`.
    #[inline]
    fn count_line_byte(&mut self, at: u64) -> Result<(), Error> {
        self.line_len += 1;
        if self.line_len > self.limits.max_chunk_line {
            return Err(self.fail(ErrorKind::ChunkLineTooLong, at));
        }
        Ok(())
    }

    /// Fails when the chunk whose size is being read would take the body past `max_body`.
    /// The size only grows as digits come, so the first digit past the limit fails.
    #[inline]
    fn check_total(&mut self, at: u64) -> Result<(), Error> {
        if self.declared.saturating_add(self.size) > self.max_body {
            return Err(self.fail(ErrorKind::BodyTooLarge, at));
        }
        Ok(())
    }

    fn end_size_line(&mut self) {
        self.declared = self.declared.saturating_add(self.size);
        self.line_len = 0;
        self.state = if self.size == 0 { State::TrailerStart } else { State::Data };
    }

    /// Parses the collected trailer section (its final empty line has just been read).
    fn finish_trailers(&mut self) -> Result<(), Error> {
        self.state = State::Done;
        if self.trailer_buf.is_empty() {
            return Ok(());
        }
        self.trailer_buf.extend_from_slice(b"\r\n");
        // The section is already bounded by max_head; parse_headers applies the field limits.
        let limits = Limits { max_head: self.limits.max_head + 2, ..self.limits };
        let result = parse_headers(&self.trailer_buf, &limits);
        let base = self.trailer_offset;
        self.trailer_buf = Vec::new();
        match result {
            Ok(Parsed::Complete { value, .. }) => {
                self.trailers = Some(value);
                Ok(())
            }
            Ok(Parsed::Partial) => Err(self.fail(ErrorKind::InvalidChunk, base)),
            Err(e) => {
                let kind = match e.kind() {
                    Some(
                        ErrorKind::HeadTooLarge | ErrorKind::TooManyHeaders | ErrorKind::HeaderLineTooLong,
                    ) => ErrorKind::TrailersTooLarge,
                    Some(k) => k,
                    None => ErrorKind::InvalidChunk,
                };
                let off = base + e.offset().unwrap_or(0) as u64;
                Err(self.fail(kind, off))
            }
        }
    }
}

/// Writes `n` in lower-case hex to the end of `buf`; returns where the digits start.
fn hex_digits(n: u64, buf: &mut [u8; 16]) -> usize {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = DIGITS[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            return i;
        }
    }
}

/// Appends `n` in lower-case hex.
fn push_hex(out: &mut Vec<u8>, n: u64) {
    let mut tmp = [0u8; 16];
    let start = hex_digits(n, &mut tmp);
    out.extend_from_slice(&tmp[start..]);
}

/// Writes the size line of a chunk of `len` bytes (`len` in hex, then CRLF) into `buf` and
/// returns how many bytes it took (at most 18), for writers that put a chunk's data in place
/// first and its size line in front of it.
///
/// ```
/// let mut line = [0u8; 18];
/// let n = http_utils::chunk_size_line(26, &mut line);
/// assert_eq!(&line[..n], b"1a\r\n");
/// ```
pub fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> usize {
    let mut tmp = [0u8; 16];
    let start = hex_digits(len as u64, &mut tmp);
    let digits = 16 - start;
    buf[..digits].copy_from_slice(&tmp[start..]);
    buf[digits..digits + 2].copy_from_slice(b"\r\n");
    digits + 2
}

/// Appends `data` as one chunk: its size in hex, CRLF, the data, CRLF. Empty data appends
/// nothing (a zero-size chunk would end the body).
///
/// ```
/// let mut out = Vec::new();
/// http_utils::encode_chunk(b"hello world, this is 26 b.", &mut out);
/// http_utils::encode_chunk(b"", &mut out);
/// assert_eq!(out, b"1a\r\nhello world, this is 26 b.\r\n");
/// ```
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.reserve(data.len() + 20);
    push_hex(out, data.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk (`0` CRLF), the trailer fields if any, and the final empty line.
///
/// ```
/// use http_utils::{encode_last_chunk, Headers};
/// let mut out = Vec::new();
/// encode_last_chunk(None, &mut out);
/// assert_eq!(out, b"0\r\n\r\n");
/// let mut trailers = Headers::new();
/// trailers.append("Checksum", "abc").unwrap();
/// out.clear();
/// encode_last_chunk(Some(&trailers), &mut out);
/// assert_eq!(out, b"0\r\nChecksum: abc\r\n\r\n");
/// ```
pub fn encode_last_chunk(trailers: Option<&Headers>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(t) = trailers {
        for (name, value) in t.iter_as_written() {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
