//! Counts HTTP/1.1 responses in a stream of bytes without keeping them.
//!
//! A [`Scanner`] is fed whatever a read returned, split anywhere, and says how many responses
//! were completed and how many bytes it used. It looks at as little as it can: the head line by
//! line (eight bytes a step for each `\n`, see `Newlines`) for the status code, the
//! `Content-Length` and any `Transfer-Encoding` line and the empty line that ends it; the body is
//! skipped by its length.
//! Only a line that ends in a later read than it began is copied; a head is at most
//! [`HEAD_LIMIT`] bytes.
//!
//! ```text
//!                      empty line, length 0 (or 204/304): one response counted
//!   ┌────────────────┐ ─────────────────────────────────────────────┐
//!   │ Head(Lines)    │ ◄────────────────────────────────────────────┘
//!   │ status line,   │ ── empty line, length n > 0 ──► ┌──────────────────┐
//!   │ header lines   │                                  │ Body { left: n } │
//!   └────────────────┘ ◄── n bytes skipped: counted ─── └──────────────────┘
//! ```
//!
//! Every response must say its length: one without `Content-Length` (chunked, or delimited by
//! the connection's close) is an error, as are 1xx interim responses and malformed heads. The
//! error texts never repeat the peer's bytes.

use std::fmt;

/// The longest head accepted, in bytes (status line, header lines and the empty line).
pub const HEAD_LIMIT: usize = 16 * 1024;

/// Why a stream of responses could not be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanError {
    /// No `\r\n\r\n` within [`HEAD_LIMIT`] bytes.
    HeadTooLarge,
    /// The status line is not `HTTP/1.x NNN`.
    BadStatusLine,
    /// A 1xx interim response, which a GET does not ask for.
    Interim(u16),
    /// A response with a `Transfer-Encoding` (chunked): not counted by length.
    TransferEncoding(u16),
    /// A response without `Content-Length`, delimited by the connection's close.
    NoLength(u16),
    /// A `Content-Length` that is not a decimal number that fits in 64 bits, or two that differ.
    BadLength(u16),
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeadTooLarge => write!(f, "a response head longer than {HEAD_LIMIT} bytes"),
            Self::BadStatusLine => write!(f, "a response whose status line is not `HTTP/1.x NNN`"),
            Self::Interim(s) => write!(f, "an interim response (status {s}) to a GET"),
            Self::TransferEncoding(s) => write!(
                f,
                "a response (status {s}) with Transfer-Encoding (chunked): only Content-Length bodies are counted"
            ),
            Self::NoLength(s) => write!(
                f,
                "a response (status {s}) without Content-Length (delimited by close): only Content-Length bodies are counted"
            ),
            Self::BadLength(s) => {
                write!(f, "a response (status {s}) with an invalid or repeated, differing Content-Length")
            }
        }
    }
}

impl std::error::Error for ScanError {}

/// What one [`Scanner::feed`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fed {
    /// Bytes of the input used; fewer than given only when `max` responses were completed.
    pub used: usize,
    /// Responses completed with a 2xx or 3xx status.
    pub ok: u32,
    /// Responses completed with any other status.
    pub non2xx: u32,
}

impl Fed {
    /// Responses completed, whatever their status.
    pub fn responses(&self) -> u32 {
        self.ok + self.non2xx
    }
}

/// Where the scanner is inside the current response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a head line by line; a line not yet ended is in `Scanner::carry`.
    Head(Lines),
    /// Skipping `left` more body bytes of a response whose status was `ok` (2xx/3xx) or not.
    Body { left: u64, ok: bool },
}

/// A streaming counter of responses on one connection (see the module doc).
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
    /// The start of a head line that did not end in the bytes fed so far.
    carry: Vec<u8>,
}

impl Default for State {
    fn default() -> Self {
        State::Head(Lines::default())
    }
}

impl Scanner {
    /// A scanner at the start of a response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the scanner stands between responses (nothing of the next one seen).
    pub fn between(&self) -> bool {
        self.state == State::default() && self.carry.is_empty()
    }

    /// Scans `data`, the next bytes of the stream, completing at most `max` responses; it stops
    /// right after the `max`-th, so `used` tells where bytes beyond it begin.
    pub fn feed(&mut self, data: &[u8], max: u32) -> Result<Fed, ScanError> {
        let mut fed = Fed::default();
        while fed.responses() < max {
            match self.state {
                State::Body { left, ok } => {
                    let take = left.min((data.len() - fed.used) as u64);
                    fed.used += take as usize;
                    if take < left {
                        self.state = State::Body { left: left - take, ok };
                        break;
                    }
                    self.state = State::default();
                    count(&mut fed, ok);
                }
                State::Head(mut lines) => {
                    if fed.used == data.len() {
                        break;
                    }
                    let found = self.head(&data[fed.used..], &mut lines)?;
                    self.state = State::Head(lines);
                    let Some((used, head)) = found else {
                        fed.used = data.len();
                        break;
                    };
                    fed.used += used;
                    if head.left == 0 {
                        self.state = State::default();
                        count(&mut fed, head.ok);
                    } else {
                        self.state = State::Body { left: head.left, ok: head.ok };
                    }
                }
            }
        }
        Ok(fed)
    }

    /// Reads the lines of the head in `rest` (the first one after `self.carry`): the bytes of
    /// `rest` up to the head's end and what the head says, or `None` when it goes on.
    fn head(&mut self, rest: &[u8], lines: &mut Lines) -> Result<Option<(usize, Head)>, ScanError> {
        let mut pos = 0;
        for nl in Newlines::new(rest) {
            let end = nl + 1;
            let head = if self.carry.is_empty() {
                lines.line(&rest[pos..end])?
            } else {
                self.carry.extend_from_slice(&rest[pos..end]);
                let head = lines.line(&self.carry);
                self.carry.clear();
                head?
            };
            pos = end;
            if let Some(head) = head {
                return Ok(Some((pos, head)));
            }
        }
        if lines.bytes + self.carry.len() + (rest.len() - pos) > HEAD_LIMIT {
            return Err(ScanError::HeadTooLarge);
        }
        self.carry.extend_from_slice(&rest[pos..]);
        Ok(None)
    }
}

/// The positions of the `\n` bytes in a slice, found eight bytes at a time (a head's lines are
/// short: one word per step beats a call per line).
struct Newlines<'a> {
    bytes: &'a [u8],
    /// Where the word in `mask` begins.
    base: usize,
    /// A high bit for each `\n` byte of the word at `base` not yet yielded.
    mask: u64,
}

impl<'a> Newlines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut me = Newlines { bytes, base: 0, mask: 0 };
        me.mask = me.word_mask();
        me
    }

    /// The `\n` bytes of the word at `base` (zero-padded past the end), one high bit each.
    fn word_mask(&self) -> u64 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let rest = self.bytes.get(self.base..).unwrap_or_default();
        let word = match rest.first_chunk::<8>() {
            Some(word) => *word,
            None => {
                let mut word = [0u8; 8];
                word[..rest.len()].copy_from_slice(rest);
                word
            }
        };
        // A byte of x is zero exactly where the word has a `\n`; the sum sets a byte's high
        // bit where its low seven bits are not all zero, and carries into no other byte.
        let x = u64::from_le_bytes(word) ^ 0x0a0a_0a0a_0a0a_0a0a;
        !(((x & LOW7) + LOW7) | x | LOW7)
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 8;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = self.word_mask();
        }
        let at = self.base + (self.mask.trailing_zeros() / 8) as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

fn count(fed: &mut Fed, ok: bool) {
    if ok {
        fed.ok += 1;
    } else {
        fed.non2xx += 1;
    }
}

/// What a complete response head says about counting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    /// 2xx or 3xx.
    ok: bool,
    /// Body bytes that follow it.
    left: u64,
}

/// What the lines of a head read so far said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Lines {
    /// Bytes of the head so far.
    bytes: usize,
    /// The status code, once the status line is read.
    status: Option<u16>,
    /// The Content-Length, once read.
    length: Option<u64>,
}

impl Lines {
    /// Reads one line, its `\n` included; the head once this line is its empty last one.
    fn line(&mut self, line: &[u8]) -> Result<Option<Head>, ScanError> {
        self.bytes += line.len();
        if self.bytes > HEAD_LIMIT {
            return Err(ScanError::HeadTooLarge);
        }
        let Some(status) = self.status else {
            let status = status_code(line).ok_or(ScanError::BadStatusLine)?;
            if status < 200 {
                return Err(ScanError::Interim(status));
            }
            self.status = Some(status);
            return Ok(None);
        };
        let no_body = status == 204 || status == 304;
        if line == b"\r\n" || line == b"\n" {
            let left = if no_body { 0 } else { self.length.ok_or(ScanError::NoLength(status))? };
            return Ok(Some(Head { ok: status < 400, left }));
        }
        if no_body {
            return Ok(None);
        }
        // Only lines that begin with a C or a T can be either header.
        match line[0] | 0x20 {
            b'c' if CONTENT_LENGTH.starts(line) => {
                let value = line_value(&line[b"content-length:".len()..]);
                let n = decimal(value).ok_or(ScanError::BadLength(status))?;
                if self.length.is_some_and(|m| m != n) {
                    return Err(ScanError::BadLength(status));
                }
                self.length = Some(n);
            }
            b't' if starts_with_ignore_case(line, b"transfer-encoding:") => {
                return Err(ScanError::TransferEncoding(status));
            }
            _ => {}
        }
        Ok(None)
    }
}

/// The three digits of `HTTP/1.x NNN` followed by a space or the line's end.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.get(..13)?;
    if !line.starts_with(b"HTTP/1.") || !line[7].is_ascii_digit() || line[8] != b' ' {
        return None;
    }
    if !matches!(line[12], b' ' | b'\r' | b'\n') {
        return None;
    }
    let digits = &line[9..12];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0')))
}

fn starts_with_ignore_case(line: &[u8], name: &[u8]) -> bool {
    line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name)
}

/// `content-length:`, compared with a line's first 16 bytes at once.
const CONTENT_LENGTH: Name = Name::new(b"content-length:");

/// A lowercase header name of up to 15 bytes and its colon, compared case-insensitively with
/// the start of a line as one 128-bit word: letters are folded to lowercase by setting their
/// 0x20 bit, other bytes are compared as they are, bytes past the name are masked out.
struct Name {
    lower: u128,
    fold: u128,
    keep: u128,
}

impl Name {
    const fn new(name: &[u8]) -> Name {
        assert!(name.len() < 16);
        let (mut lower, mut fold, mut keep) = ([0u8; 16], [0u8; 16], [0u8; 16]);
        let mut i = 0;
        while i < name.len() {
            lower[i] = name[i];
            fold[i] = if name[i].is_ascii_lowercase() { 0x20 } else { 0 };
            keep[i] = 0xff;
            i += 1;
        }
        Name {
            lower: u128::from_le_bytes(lower),
            fold: u128::from_le_bytes(fold),
            keep: u128::from_le_bytes(keep),
        }
    }

    /// Whether `line` starts with this name, in any case (a line shorter than 16 bytes, which
    /// has no room for a value and its end, never does).
    fn starts(&self, line: &[u8]) -> bool {
        let Some(first) = line.first_chunk::<16>() else { return false };
        (u128::from_le_bytes(*first) | self.fold) & self.keep == self.lower
    }
}

/// The value of a header line whose name was cut off, without the optional whitespace around
/// it and the line's end.
fn line_value(rest: &[u8]) -> &[u8] {
    rest.trim_ascii()
}

/// A non-empty run of ASCII digits that fits in a u64.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let d = d.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nDate: x\r\n\r\nHello, world!";
    const EMPTY_404: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n";
    const REDIRECT: &[u8] = b"HTTP/1.0 301 Moved\r\nLocation: /a\r\nCONTENT-LENGTH: \t 3 \r\n\r\nabc";
    const NOT_MODIFIED: &[u8] = b"HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n";
    const ERROR: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!";

    /// The responses above, one after another, and the counts they give.
    fn stream() -> (Vec<u8>, u32, u32) {
        let mut all = Vec::new();
        for r in [HELLO, EMPTY_404, REDIRECT, NOT_MODIFIED, ERROR, HELLO] {
            all.extend_from_slice(r);
        }
        (all, 4, 2)
    }

    /// Feeds `pieces` in order with no limit on responses; every byte must be used.
    fn feed_all(pieces: &[&[u8]]) -> Result<(u32, u32), ScanError> {
        let mut s = Scanner::new();
        let (mut ok, mut non2xx) = (0, 0);
        for p in pieces {
            let fed = s.feed(p, u32::MAX)?;
            assert_eq!(fed.used, p.len());
            ok += fed.ok;
            non2xx += fed.non2xx;
        }
        assert!(s.between());
        Ok((ok, non2xx))
    }

    #[test]
    fn newlines() {
        for len in 0..40 {
            let bytes: Vec<u8> =
                (0..len).map(|i| if i % 3 == 1 || i % 7 == 0 { b'\n' } else { b'a' + i as u8 }).collect();
            let want: Vec<usize> = (0..len).filter(|&i| bytes[i] == b'\n').collect();
            assert_eq!(Newlines::new(&bytes).collect::<Vec<_>>(), want, "{len}");
        }
        // Every byte value next to a `\n`: only the `\n` is found.
        let all: Vec<u8> = (0..=255u8).flat_map(|b| [b, b'\n']).collect();
        assert_eq!(Newlines::new(&all).count(), 257);
    }

    #[test]
    fn whole_stream() {
        let (all, ok, non2xx) = stream();
        assert_eq!(feed_all(&[&all]), Ok((ok, non2xx)));
    }

    #[test]
    fn split_at_every_offset() {
        let (all, ok, non2xx) = stream();
        for i in 0..=all.len() {
            assert_eq!(feed_all(&[&all[..i], &all[i..]]), Ok((ok, non2xx)), "split at {i}");
        }
    }

    #[test]
    fn split_at_every_pair_of_offsets() {
        // Three pieces: a head that begins in one read, goes through a second and ends in a
        // third. Bounded: the stream is a few hundred bytes, so about 40,000 cases.
        let (all, ok, non2xx) = stream();
        for i in 0..=all.len() {
            for j in i..=all.len() {
                let got = feed_all(&[&all[..i], &all[i..j], &all[j..]]);
                assert_eq!(got, Ok((ok, non2xx)), "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let (all, ok, non2xx) = stream();
        let pieces: Vec<&[u8]> = all.chunks(1).collect();
        assert_eq!(feed_all(&pieces), Ok((ok, non2xx)));
    }

    #[test]
    fn stops_after_max_responses() {
        let (all, ..) = stream();
        let mut s = Scanner::new();
        let fed = s.feed(&all, 2).unwrap();
        assert_eq!((fed.ok, fed.non2xx), (1, 1));
        assert_eq!(fed.used, HELLO.len() + EMPTY_404.len());
        assert!(s.between());
        let fed = s.feed(&all[fed.used..], u32::MAX).unwrap();
        assert_eq!((fed.ok, fed.non2xx), (3, 1));
    }

    #[test]
    fn errors() {
        let table: &[(&[u8], ScanError)] = &[
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                ScanError::TransferEncoding(200),
            ),
            (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", ScanError::NoLength(200)),
            (b"HTTP/1.1 100 Continue\r\n\r\n", ScanError::Interim(100)),
            (b"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", ScanError::BadStatusLine),
            (b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", ScanError::BadStatusLine),
            (b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", ScanError::BadStatusLine),
            (b"HTTP/1.1 200\r\n\r\n", ScanError::NoLength(200)),
            // Only the name itself, in any case, is Content-Length.
            (b"HTTP/1.1 200 OK\r\nContent_Length: 0\r\n\r\n", ScanError::NoLength(200)),
            (b"HTTP/1.1 200 OK\r\nContent\rLength: 0\r\n\r\n", ScanError::NoLength(200)),
            (b"HTTP/1.1 200 OK\r\nContent-Length\x1a 0\r\n\r\n", ScanError::NoLength(200)),
            (b"HTTP/1.1 200 OK\r\nX-Content-Length: 0\r\n\r\n", ScanError::NoLength(200)),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-ENCODING: gzip\r\nContent-Length: 0\r\n\r\n",
                ScanError::TransferEncoding(200),
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", ScanError::BadLength(200)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", ScanError::BadLength(200)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx", ScanError::BadLength(200)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", ScanError::BadLength(200)),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
                ScanError::BadLength(200),
            ),
        ];
        for (bytes, want) in table {
            // Whole, and split in two at every offset: the same error.
            assert_eq!(feed_all(&[bytes]), Err(*want), "{}", String::from_utf8_lossy(bytes));
            for i in 0..=bytes.len() {
                assert_eq!(feed_all(&[&bytes[..i], &bytes[i..]]), Err(*want));
            }
        }
        // The same length twice is one length.
        let twice = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx";
        assert_eq!(feed_all(&[twice]), Ok((1, 0)));
    }

    #[test]
    fn head_too_large() {
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() < HEAD_LIMIT + 10 {
            big.extend_from_slice(b"X-Filler: 0123456789\r\n");
        }
        assert_eq!(feed_all(&[&big]), Err(ScanError::HeadTooLarge));
        let pieces: Vec<&[u8]> = big.chunks(1000).collect();
        assert_eq!(feed_all(&pieces), Err(ScanError::HeadTooLarge));
        // Just under the limit is fine, split or not.
        let mut fits = b"HTTP/1.1 200 OK\r\n".to_vec();
        while fits.len() < HEAD_LIMIT - 100 {
            fits.extend_from_slice(b"X-Filler: 0123456789\r\n");
        }
        fits.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        assert_eq!(feed_all(&[&fits]), Ok((1, 0)));
        let pieces: Vec<&[u8]> = fits.chunks(1000).collect();
        assert_eq!(feed_all(&pieces), Ok((1, 0)));
    }
}
