//! Counts HTTP/1.1 responses in a stream of bytes without keeping them.
//!
//! A [`Scanner`] is fed whatever a read returned, split anywhere, and says how many responses
//! were completed and how many bytes it used. It looks at as little as it can: the end of the
//! head (`\r\n\r\n`), the status code, and the `Content-Length` (and `Transfer-Encoding`) lines;
//! the body is skipped by its length. Only a head that ends in a later read than it began is
//! copied (at most [`HEAD_LIMIT`] bytes).
//!
//! ```text
//!            head complete, length 0 (or 204/304)
//!   ┌──────┐ ───────────────────────────────────► one response counted, Head again
//!   │ Head │
//!   └──────┘ ── head complete, length n > 0 ──► ┌────────────┐ ── n bytes skipped ──► counted, Head
//!       ▲                                        │ Body { n } │
//!       └────────────────────────────────────────└────────────┘
//! ```
//!
//! Every response must say its length: one without `Content-Length` (chunked, or delimited by
//! the connection's close) is an error, as are 1xx interim responses and malformed heads. The
//! error texts never repeat the peer's bytes.

use std::fmt;

use memchr::memmem;

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
    /// Looking for the end of a head; a part already seen is in `Scanner::carry`.
    Head,
    /// Skipping `left` more body bytes of a response whose status was `ok` (2xx/3xx) or not.
    Body { left: u64, ok: bool },
}

/// A streaming counter of responses on one connection (see the module doc).
#[derive(Debug)]
pub struct Scanner {
    state: State,
    /// The start of a head that did not end in the bytes fed so far.
    carry: Vec<u8>,
    /// The end-of-head finder, built once.
    finder: memmem::Finder<'static>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// A scanner at the start of a response.
    pub fn new() -> Self {
        Self { state: State::Head, carry: Vec::new(), finder: memmem::Finder::new(b"\r\n\r\n") }
    }

    /// Forgets a partly seen response (for a new connection).
    pub fn reset(&mut self) {
        self.state = State::Head;
        self.carry.clear();
    }

    /// Whether the scanner stands between responses (nothing of the next one seen).
    pub fn between(&self) -> bool {
        self.state == State::Head && self.carry.is_empty()
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
                    self.state = State::Head;
                    count(&mut fed, ok);
                }
                State::Head => {
                    if fed.used == data.len() {
                        break;
                    }
                    let Some((used, head)) = self.head(&data[fed.used..])? else {
                        fed.used = data.len();
                        break;
                    };
                    fed.used += used;
                    if head.left == 0 {
                        count(&mut fed, head.ok);
                    } else {
                        self.state = State::Body { left: head.left, ok: head.ok };
                    }
                }
            }
        }
        Ok(fed)
    }

    /// Finds the end of the head that starts with `self.carry` and goes on in `rest`: the bytes
    /// of `rest` it used and what the head says, or `None` when all of `rest` was kept.
    fn head(&mut self, rest: &[u8]) -> Result<Option<(usize, Head)>, ScanError> {
        if self.carry.is_empty() {
            return match self.finder.find(rest) {
                Some(i) => Ok(Some((i + 4, read_head(&rest[..i + 4])?))),
                None if rest.len() >= HEAD_LIMIT => Err(ScanError::HeadTooLarge),
                None => {
                    self.carry.extend_from_slice(rest);
                    Ok(None)
                }
            };
        }
        // The end may straddle the carry and `rest`: search from the carry's last 3 bytes.
        let old = self.carry.len();
        let take = rest.len().min(HEAD_LIMIT - old);
        self.carry.extend_from_slice(&rest[..take]);
        match self.finder.find(&self.carry[old.saturating_sub(3)..]) {
            Some(i) => {
                let end = old.saturating_sub(3) + i + 4;
                let head = read_head(&self.carry[..end]);
                self.carry.clear();
                Ok(Some((end - old, head?)))
            }
            None if self.carry.len() >= HEAD_LIMIT => Err(ScanError::HeadTooLarge),
            None => Ok(None),
        }
    }
}

fn count(fed: &mut Fed, ok: bool) {
    if ok {
        fed.ok += 1;
    } else {
        fed.non2xx += 1;
    }
}

/// What a response head says about counting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    /// 2xx or 3xx.
    ok: bool,
    /// Body bytes that follow it.
    left: u64,
}

/// Reads a whole head, `\r\n\r\n` included: its status code and its body's length.
fn read_head(head: &[u8]) -> Result<Head, ScanError> {
    let status = status_code(head).ok_or(ScanError::BadStatusLine)?;
    if status < 200 {
        return Err(ScanError::Interim(status));
    }
    let ok = status < 400;
    if status == 204 || status == 304 {
        return Ok(Head { ok, left: 0 });
    }
    let mut length = None;
    // Each header line starts after a `\n`; the status line and the final empty line are
    // too short to match either name.
    for nl in memchr::memchr_iter(b'\n', head) {
        let line = &head[nl + 1..];
        if starts_with_ignore_case(line, b"content-length:") {
            let value = line_value(&line[b"content-length:".len()..]);
            let n = decimal(value).ok_or(ScanError::BadLength(status))?;
            if length.is_some_and(|m| m != n) {
                return Err(ScanError::BadLength(status));
            }
            length = Some(n);
        } else if starts_with_ignore_case(line, b"transfer-encoding:") {
            return Err(ScanError::TransferEncoding(status));
        }
    }
    length.map(|left| Head { ok, left }).ok_or(ScanError::NoLength(status))
}

/// The three digits of `HTTP/1.x NNN` followed by a space or the line's end.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.get(..13)?;
    if !line.starts_with(b"HTTP/1.") || !line[7].is_ascii_digit() || line[8] != b' ' {
        return None;
    }
    if !matches!(line[12], b' ' | b'\r') {
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

/// The value of a header line whose name was cut off: up to the line's end, without the
/// optional whitespace around it.
fn line_value(rest: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let value = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
    value.trim_ascii()
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
