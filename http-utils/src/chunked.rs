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
//!                      │  └──┘
//!                      │ CR LF / LF (from Size or Ext)
//!                      ▼
//!          size > 0: Data ──(size bytes)──► DataEnd ──CR LF / LF──► SizeStart
//!          size = 0: TrailerStart ──empty line──► Done
//!                       │ field line                 ▲
//!                       └──► Trailers ──empty line───┘  (parsed with parse_headers)
//! ```
//!
//! Every breach is one error kind; the table is on [`ChunkedDecoder`].
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
/// Bare LF is accepted as a line ending, as in the head parsers; whitespace may stand between
/// the size and a `;` that starts extensions, nowhere else. Limits come from [`Limits`]:
///
/// | breach | kind (status) |
/// | --- | --- |
/// | a size line that is not `1*HEXDIG [BWS ; extensions]`: signs, `0x`, spaces inside the number, empty | `InvalidChunk` (400) |
/// | chunk data not followed by a line ending; a CR not followed by LF; control bytes in extensions | `InvalidChunk` (400) |
/// | a size above `u64::MAX` | `ChunkSizeOverflow` (400) |
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
    /// lines; `max_head`, `max_headers` and `max_header_line` for trailers).
    pub fn new(limits: &Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::SizeStart,
            limits: *limits,
            offset: 0,
            size: 0,
            line_len: 0,
            trailer_buf: Vec::new(),
            trailer_offset: 0,
            trailers: None,
            failed: None,
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

    /// Data bytes of the current chunk that are still to come; 0 outside chunk data.
    pub(crate) fn data_remaining(&self) -> u64 {
        if self.state == State::Data {
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
                        if let Err(e) = self.count_line_byte(at) {
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
                        if let Err(e) = self.count_line_byte(at) {
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

    fn end_size_line(&mut self) {
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
/// returns how many bytes it took (at most 18).
pub(crate) fn chunk_size_line(len: usize, buf: &mut [u8; 18]) -> usize {
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
/// assert_eq!(out, b"0\r\nchecksum: abc\r\n\r\n");
/// ```
pub fn encode_last_chunk(trailers: Option<&Headers>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(t) = trailers {
        for (name, value) in t.iter() {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a whole run of the decoder gave: body, bytes consumed, trailers, done.
    type Outcome = Result<(Vec<u8>, usize, Vec<(String, String)>, bool), (ErrorKind, usize)>;

    /// Runs a decoder over `input`, making more bytes available at each split point, with an
    /// output buffer of `out_cap` bytes.
    fn run(input: &[u8], limits: &Limits, splits: &[usize], out_cap: usize) -> Outcome {
        let mut dec = ChunkedDecoder::new(limits);
        let mut points = splits.iter().copied().filter(|&s| s <= input.len()).chain([input.len()]);
        let mut avail = points.next().unwrap_or(input.len());
        let mut out = vec![0u8; out_cap];
        let mut body = Vec::new();
        let mut pos = 0;
        for _ in 0..(4 * input.len() + 16) {
            if dec.is_done() {
                let t = dec.trailers().map(|t| t.iter().map(|(n, v)| (n.into(), v.into())).collect());
                return Ok((body, pos, t.unwrap_or_default(), true));
            }
            let (c, p) = dec
                .decode(&input[pos..avail], &mut out)
                .map_err(|e| (e.kind().unwrap(), e.offset().unwrap()))?;
            assert!(c <= avail - pos && p <= out_cap);
            pos += c;
            body.extend_from_slice(&out[..p]);
            if c == 0 && p == 0 {
                if avail == input.len() {
                    return Ok((body, pos, Vec::new(), false));
                }
                avail = points.next().unwrap_or(input.len()).max(avail);
            }
        }
        panic!("decoder made no progress");
    }

    /// Whole, byte by byte, and split at every offset all give the same outcome.
    fn check_all_splits(input: &[u8], limits: &Limits) -> Outcome {
        let whole = run(input, limits, &[], 1 << 16);
        let every: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            run(input, limits, &every, 1),
            whole,
            "byte by byte: {:?}",
            String::from_utf8_lossy(input)
        );
        for i in 0..=input.len() {
            for cap in [1, 3, 1 << 16] {
                assert_eq!(run(input, limits, &[i], cap), whole, "split at {i}, out {cap}");
            }
        }
        whole
    }

    fn ok(body: &str, consumed: usize, trailers: &[(&str, &str)]) -> Outcome {
        let t = trailers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Ok((body.as_bytes().to_vec(), consumed, t, true))
    }

    #[test]
    fn valid_streams() {
        let table: &[(&[u8], Outcome)] = &[
            (b"0\r\n\r\n", ok("", 5, &[])),
            (b"5\r\nhello\r\n0\r\n\r\n", ok("hello", 15, &[])),
            (b"5\nhello\n0\n\n", ok("hello", 11, &[])),
            (b"5\r\nhello\n0\n\r\n", ok("hello", 13, &[])),
            (b"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", ok("01234567890123456789", 35, &[])),
            (b"005\r\nhello\r\n0000\r\n\r\n", ok("hello", 20, &[])),
            (b"5;a=b;c=\"d;e\"\r\nhello\r\n0;last\r\n\r\n", ok("hello", 32, &[])),
            (b"5 ;a\r\nhello\r\n0\t ;x\r\n\r\n", ok("hello", 22, &[])),
            (b"1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", ok("\r\n", 17, &[])),
            (b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:2 \r\n\r\n", ok("abc", 29, &[("x-sum", "1"), ("y", "2")])),
            (b"0\nA: b\n\n", ok("", 8, &[("a", "b")])),
            (b"0\r\n\r\nGET / HTTP/1.1\r\n", ok("", 5, &[])),
            (b"2\r\nhi\r\n0\r\nA: 1\r\n\r\n0\r\n\r\n", ok("hi", 18, &[("a", "1")])),
        ];
        for (input, want) in table {
            let got = check_all_splits(input, &Limits::default());
            assert_eq!(&got, want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn incomplete_streams_wait() {
        for input in
            [&b""[..], b"5", b"5\r", b"5\r\nhel", b"5\r\nhello", b"5\r\nhello\r", b"0\r\n", b"0\r\nA: 1\r\n"]
        {
            let got = check_all_splits(input, &Limits::default());
            let Ok((_, consumed, _, done)) = got else { panic!("{input:?}: {got:?}") };
            assert!(!done);
            assert_eq!(consumed, input.len());
        }
        // A huge announced chunk streams what arrives.
        let got = run(b"ffffffffffffffff\r\nabc", &Limits::default(), &[], 16);
        assert_eq!(got, Ok((b"abc".to_vec(), 21, Vec::new(), false)));
    }

    #[test]
    fn errors() {
        use ErrorKind::*;
        let small = Limits {
            max_chunk_line: 8,
            max_head: 16,
            max_headers: 1,
            max_header_line: 10,
            ..Limits::DEFAULT
        };
        let table: &[(&[u8], ErrorKind, usize)] = &[
            (b"+5\r\nhello\r\n", InvalidChunk, 0),
            (b"-5\r\n", InvalidChunk, 0),
            (b"0x5\r\n", InvalidChunk, 1),
            (b" 5\r\n", InvalidChunk, 0),
            (b"5 5\r\n", InvalidChunk, 2),
            (b"5 \r\n", InvalidChunk, 2),
            (b"\r\n", InvalidChunk, 0),
            (b"\n", InvalidChunk, 0),
            (b";a\r\n", InvalidChunk, 0),
            (b"g\r\n", InvalidChunk, 0),
            (b"5\rx", InvalidChunk, 2),
            (b"5;a\rx", InvalidChunk, 4),
            (b"5\r\nhelloX", InvalidChunk, 8),
            (b"5\r\nhello\rX", InvalidChunk, 9),
            (b"5\r\nhello\r\r\n", InvalidChunk, 9),
            (b"5;\x01\r\n", InvalidChunk, 2),
            (b"5;a\x7f\r\n", InvalidChunk, 3),
            (b"0\r\n\rX", InvalidChunk, 4),
            (b"000000000\r\n", ChunkLineTooLong, 8),
            (b"5;aaaaaaaa\r\n", ChunkLineTooLong, 8),
            (b"5;aaaaaaa", ChunkLineTooLong, 8),
            (b"5 \t \t \t \t;\r\n", ChunkLineTooLong, 8),
            (b"0\r\nA: 0123456789012345678\r\n\r\n", TrailersTooLarge, 19),
            (b"0\r\nA: 1\r\nB: 2\r\n\r\n", TrailersTooLarge, 9),
            (b"0\r\nAbcdefghi: 1\r\n\r\n", TrailersTooLarge, 13),
            (b"0\r\nbad name: 1\r\n\r\n", InvalidHeaderName, 6),
            (b"0\r\nfoo\r\n\r\n", MissingColon, 6),
            (b"0\r\nA: b\r\n c\r\n\r\n", ObsoleteLineFolding, 9),
            (b"0\r\nA: b\rc\r\n\r\n", BareCarriageReturn, 7),
            (b"0\r\nA: b\x00\r\n\r\n", InvalidHeaderValue, 7),
        ];
        for (input, kind, offset) in table {
            let got = check_all_splits(input, &small);
            assert_eq!(got, Err((*kind, *offset)), "{:?}", String::from_utf8_lossy(input));
        }
        let overflow: &[(&[u8], ErrorKind, usize)] = &[
            (b"10000000000000000\r\n", ChunkSizeOverflow, 16),
            (b"ffffffffffffffff0\r\n", ChunkSizeOverflow, 16),
            (b"00000000000000000000ffffffffffffffff0\r\n", ChunkSizeOverflow, 36),
        ];
        for (input, kind, offset) in overflow {
            assert_eq!(check_all_splits(input, &Limits::default()), Err((*kind, *offset)));
        }
        // Found by the split property: a bad byte and the line limit at the same place give
        // one answer however the line is split.
        let six = Limits { max_chunk_line: 6, ..Limits::DEFAULT };
        assert_eq!(check_all_splits(b"0;;;00;\0", &six), Err((ChunkLineTooLong, 6)));
        assert_eq!(check_all_splits(b"0;;;00\0", &six), Err((InvalidChunk, 6)));
        // Each chunk kind maps to its status.
        assert_eq!(InvalidChunk.status(), 400);
        assert_eq!(ChunkSizeOverflow.status(), 400);
        assert_eq!(ChunkLineTooLong.status(), 400);
        assert_eq!(TrailersTooLarge.status(), 431);
    }

    #[test]
    fn errors_are_sticky_and_done_consumes_nothing() {
        let mut dec = ChunkedDecoder::new(&Limits::default());
        let mut out = [0u8; 8];
        assert!(dec.decode(b"z", &mut out).is_err());
        let e = dec.decode(b"0\r\n\r\n", &mut out).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(0)));

        let mut dec = ChunkedDecoder::new(&Limits::default());
        assert_eq!(dec.decode(b"0\r\n\r\n", &mut out).unwrap(), (5, 0));
        assert!(dec.is_done());
        assert_eq!(dec.decode(b"more", &mut out).unwrap(), (0, 0));
        assert_eq!(dec.stream_offset(), 5);
        assert!(dec.trailers().is_none());
    }

    #[test]
    fn empty_output_stops_at_data() {
        let mut dec = ChunkedDecoder::new(&Limits::default());
        assert_eq!(dec.decode(b"3\r\nabc\r\n0\r\n\r\n", &mut []).unwrap(), (3, 0));
        assert_eq!(dec.data_remaining(), 3);
        dec.advance_data(3);
        assert_eq!(dec.data_remaining(), 0);
        assert_eq!(dec.decode(b"\r\n0\r\n\r\n", &mut []).unwrap(), (7, 0));
        assert!(dec.is_done());
    }

    #[test]
    fn encoder() {
        let mut out = Vec::new();
        encode_chunk(b"", &mut out);
        assert!(out.is_empty());
        encode_chunk(&[b'x'; 255], &mut out);
        assert!(out.starts_with(b"ff\r\nxxx"));
        assert!(out.ends_with(b"x\r\n"));
        let mut buf = [0u8; 18];
        let n = chunk_size_line(0x1a2b, &mut buf);
        assert_eq!(&buf[..n], b"1a2b\r\n");
        let n = chunk_size_line(usize::MAX, &mut buf);
        assert_eq!(n, 2 * std::mem::size_of::<usize>() + 2);
        let mut t = Headers::new();
        t.append("A", "1").unwrap();
        t.append("B", "2").unwrap();
        out.clear();
        encode_last_chunk(Some(&t), &mut out);
        assert_eq!(out, b"0\r\na: 1\r\nb: 2\r\n\r\n");
    }

    proptest! {
        #[test]
        fn encode_then_decode(
            pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
            trailers in proptest::collection::vec(("[a-z][a-z0-9-]{0,8}", "[ -~]{0,12}"), 0..3),
            out_cap in 1usize..500,
        ) {
            let mut wire = Vec::new();
            for p in &pieces {
                encode_chunk(p, &mut wire);
            }
            let mut t = Headers::new();
            for (n, v) in &trailers {
                t.append(n, v).unwrap();
            }
            encode_last_chunk(Some(&t), &mut wire);
            wire.extend_from_slice(b"NEXT");
            let got = run(&wire, &Limits::default(), &[], out_cap).unwrap();
            prop_assert_eq!(got.0, pieces.concat());
            prop_assert_eq!(got.1, wire.len() - 4);
            let want: Vec<(String, String)> = t.iter().map(|(n, v)| (n.into(), v.into())).collect();
            prop_assert_eq!(got.2, want);
            prop_assert!(got.3);
        }

        #[test]
        fn arbitrary_bytes_split_anywhere(
            input in proptest::collection::vec(prop_oneof![
                Just(b'0'), Just(b'1'), Just(b'a'), Just(b'\r'), Just(b'\n'), Just(b';'), Just(b' '),
                Just(b':'), Just(b'x'), any::<u8>()
            ], 0..64),
            split in 0usize..64,
        ) {
            let limits = Limits { max_chunk_line: 6, ..Limits::DEFAULT };
            let whole = run(&input, &limits, &[], 1 << 12);
            prop_assert_eq!(run(&input, &limits, &[split], 2), whole.clone());
            let every: Vec<usize> = (1..input.len()).collect();
            prop_assert_eq!(run(&input, &limits, &every, 1), whole);
        }
    }
}
