//! A streaming reader of `multipart/form-data` bodies (RFC 7578, framed as RFC 2046 §5.1).
//!
//! [`MultipartReader`] hands out the parts of a body one at a time. Each [`Part`] has its
//! header fields, its form field `name`, `filename` and `Content-Type`, and is itself a
//! [`Read`]er of its content. Nothing is buffered beyond one fixed-size window (a few KiB plus
//! the largest allowed part header section), so an upload of any size passes through in
//! constant memory. A part's content that is not read is skipped when the next part is asked
//! for.
//!
//! ```
//! use std::io::Read;
//! use http_utils::multipart::{boundary_from_content_type, MultipartReader};
//!
//! let content_type = "multipart/form-data; boundary=XyZ";
//! let body = "--XyZ\r\n\
//!             Content-Disposition: form-data; name=\"title\"\r\n\r\n\
//!             Holiday\r\n\
//!             --XyZ\r\n\
//!             Content-Disposition: form-data; name=\"photo\"; filename=\"beach.txt\"\r\n\
//!             Content-Type: text/plain\r\n\r\n\
//!             sand and sea\r\n\
//!             --XyZ--\r\n";
//! let boundary = boundary_from_content_type(content_type).unwrap();
//! let mut parts = MultipartReader::new(body.as_bytes(), &boundary).unwrap();
//!
//! let mut title = parts.next_part().unwrap().unwrap();
//! assert_eq!(title.name(), Some("title"));
//! let mut text = String::new();
//! title.read_to_string(&mut text).unwrap();
//! assert_eq!(text, "Holiday");
//!
//! let mut photo = parts.next_part().unwrap().unwrap();
//! assert_eq!((photo.name(), photo.filename()), (Some("photo"), Some("beach.txt")));
//! assert_eq!(photo.content_type(), Some("text/plain"));
//! let mut data = Vec::new();
//! photo.read_to_end(&mut data).unwrap();
//! assert_eq!(data, b"sand and sea");
//!
//! assert!(parts.next_part().unwrap().is_none());
//! ```
//!
//! ## Untrusted input
//! | limit | default | breach |
//! | --- | --- | --- |
//! | boundary length | 70 (RFC 2046) | `MissingBoundary`, 400 |
//! | one part's header section ([`MultipartLimits::max_part_head`]) | 8 KiB | `PartHeadersTooLarge`, 400 |
//! | header fields of one part ([`MultipartLimits::max_part_headers`]) | 16 | `PartHeadersTooLarge`, 400 |
//! | parts ([`MultipartLimits::max_parts`]) | 1000 | `TooManyParts`, 400 |
//! | whole body | the caller's [`LimitReader`](crate::io::LimitReader) | `BodyTooLarge`, 413 |
//!
//! Other errors: `InvalidMultipart` (no opening boundary, junk after a boundary),
//! `TruncatedMultipart` (the body ends before the closing boundary), `InvalidPartHeaders`.
//! Error offsets count bytes from the start of the body. `filename` is what the sender wrote:
//! never use it as a path.
//!
//! ## Framing
//! A delimiter is CRLF, `--` and the boundary, followed by `--` (the closing delimiter) or by
//! optional spaces and CRLF (the next part). At the very start of the body, and at the start
//! of a part's content, the boundary line may come without the CRLF before it (an empty
//! preamble, a part without headers or content). The boundary followed by any other byte is
//! content, as in other widely used readers. Line endings are CRLF; a bare LF after a
//! boundary is an error. The preamble before the first boundary and the epilogue after the
//! last are ignored; the epilogue is left unread.

use std::fmt;
use std::io::{self, Read};

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;
use crate::limits::Limits;
use crate::params::parse_params;
use crate::parse::{parse_headers, Parsed};

/// The longest boundary RFC 2046 §5.1.1 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Bytes of part content the window holds beyond the header limit.
const DATA_WINDOW: usize = 8 * 1024;

/// True for the characters RFC 2046 allows in a boundary (`bchars`).
fn is_bchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'\'' | b'(' | b')' | b'+' | b'_' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?' | b' '
        )
}

/// True for a boundary RFC 2046 allows: 1 to 70 `bchars`, not ending in a space.
fn is_valid_boundary(b: &str) -> bool {
    (1..=MAX_BOUNDARY_LEN).contains(&b.len()) && b.bytes().all(is_bchar) && !b.ends_with(' ')
}

/// The `boundary` parameter of a `multipart/*` `Content-Type` value, quoted or not.
///
/// `None` when the media type is not `multipart/*`, when the parameter is missing, repeated
/// or malformed, or when the boundary is not 1 to 70 characters RFC 2046 allows.
///
/// ```
/// use http_utils::multipart::boundary_from_content_type;
/// assert_eq!(boundary_from_content_type("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
/// assert_eq!(
///     boundary_from_content_type("Multipart/Form-Data; BOUNDARY=\"a b:c\"").as_deref(),
///     Some("a b:c")
/// );
/// assert_eq!(boundary_from_content_type("text/plain; boundary=abc"), None);
/// assert_eq!(boundary_from_content_type("multipart/form-data"), None);
/// ```
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    let parsed = parse_params(content_type)?;
    let (kind, sub) = parsed.item.split_once('/')?;
    if !kind.eq_ignore_ascii_case("multipart") || sub.is_empty() {
        return None;
    }
    let boundary = parsed.unique("boundary")?;
    is_valid_boundary(boundary).then(|| boundary.to_owned())
}

/// Limits on one multipart body, on top of the caller's limit on its total size.
///
/// ```
/// use http_utils::multipart::MultipartLimits;
/// let limits = MultipartLimits { max_parts: 10, ..MultipartLimits::default() };
/// assert_eq!(limits.max_part_head, 8 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartLimits {
    /// Most bytes in one part's header section, its empty line included (and in the padding
    /// after a boundary). Default 8 KiB; a breach is `PartHeadersTooLarge` (400).
    pub max_part_head: usize,
    /// Most header fields in one part. Default 16; a breach is `PartHeadersTooLarge` (400).
    pub max_part_headers: usize,
    /// Most parts in one body. Default 1000; a breach is `TooManyParts` (400).
    pub max_parts: usize,
}

impl MultipartLimits {
    /// The defaults, usable in `const` context.
    pub const DEFAULT: MultipartLimits =
        MultipartLimits { max_part_head: 8 * 1024, max_part_headers: 16, max_parts: 1000 };
}

impl Default for MultipartLimits {
    fn default() -> MultipartLimits {
        MultipartLimits::DEFAULT
    }
}

/// A part's header section and what it says.
struct PartHead {
    headers: Headers,
    name: Option<String>,
    filename: Option<String>,
}

/// Where the reader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Skipping the preamble before the first boundary.
    Preamble,
    /// Inside a part's content.
    Content,
    /// Just after a boundary: next come `--` or padding, CRLF and a part's headers.
    AfterBoundary,
    /// The closing boundary was read.
    Done,
    /// An error was returned; it is returned again (protocol errors) or reported as a failure.
    Failed(Option<(ErrorKind, usize)>),
}

/// Reads the parts of a multipart body from `R` one by one. See the [module docs](self).
pub struct MultipartReader<R> {
    inner: R,
    /// CRLF, `--`, boundary.
    delimiter: Vec<u8>,
    /// The window over the body: `buf[start..end]` is read but not yet consumed.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// `buf[start..safe]` is known to be content (no delimiter starts in it).
    safe: usize,
    /// A delimiter of this many bytes starts at `safe`.
    delimiter_at_safe: Option<usize>,
    /// The content begins at `start`: a boundary line without its CRLF counts there.
    at_content_start: bool,
    /// Body bytes dropped from the window before `buf[0]`.
    consumed: u64,
    state: State,
    parts: usize,
    limits: MultipartLimits,
    head_limits: Limits,
}

impl<R> fmt::Debug for MultipartReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartReader")
            .field("state", &self.state)
            .field("parts", &self.parts)
            .field("offset", &self.offset(self.start))
            .finish_non_exhaustive()
    }
}

impl<R> MultipartReader<R> {
    /// Parts handed out so far.
    pub fn parts_read(&self) -> usize {
        self.parts
    }

    /// True once the closing boundary has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The body reader. Bytes already in the window are not in it any more.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Gives the body reader back, for instance to drain the epilogue after the closing
    /// boundary. Bytes already in the window are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn offset(&self, index: usize) -> usize {
        usize::try_from(self.consumed.saturating_add(index as u64)).unwrap_or(usize::MAX)
    }

    fn error(&self, kind: ErrorKind, index: usize) -> Error {
        Error::protocol(kind, self.offset(index))
    }

    fn fail(&mut self, e: &Error) {
        self.state = State::Failed(e.kind().zip(e.offset()));
    }

    fn failed_again(&self, earlier: Option<(ErrorKind, usize)>) -> Error {
        match earlier {
            Some((kind, offset)) => Error::protocol(kind, offset),
            None => Error::Io(io::Error::other("the multipart body failed to read earlier")),
        }
    }
}

impl<R: Read> MultipartReader<R> {
    /// A reader of the body `inner` whose parts are delimited by `boundary` (as returned by
    /// [`boundary_from_content_type`]), with the default [`MultipartLimits`].
    ///
    /// Wrap `inner` in a [`LimitReader`](crate::io::LimitReader) to bound the total size.
    ///
    /// # Errors
    /// `MissingBoundary` when `boundary` is not 1 to 70 characters RFC 2046 allows.
    pub fn new(inner: R, boundary: &str) -> Result<MultipartReader<R>, Error> {
        MultipartReader::with_limits(inner, boundary, MultipartLimits::default())
    }

    /// Like [`new`](MultipartReader::new), with explicit limits.
    ///
    /// # Errors
    /// `MissingBoundary` when `boundary` is not 1 to 70 characters RFC 2046 allows.
    pub fn with_limits(
        inner: R,
        boundary: &str,
        limits: MultipartLimits,
    ) -> Result<MultipartReader<R>, Error> {
        if !is_valid_boundary(boundary) {
            return Err(Error::protocol(ErrorKind::MissingBoundary, 0));
        }
        let mut delimiter = Vec::with_capacity(boundary.len() + 4);
        delimiter.extend_from_slice(b"\r\n--");
        delimiter.extend_from_slice(boundary.as_bytes());
        let size =
            DATA_WINDOW.max(limits.max_part_head.saturating_add(8)).saturating_add(delimiter.len() + 1);
        let head_limits = Limits {
            max_header_line: limits.max_part_head,
            max_headers: limits.max_part_headers,
            max_head: limits.max_part_head,
            ..Limits::DEFAULT
        };
        Ok(MultipartReader {
            inner,
            delimiter,
            buf: vec![0; size].into_boxed_slice(),
            start: 0,
            end: 0,
            safe: 0,
            delimiter_at_safe: None,
            at_content_start: true,
            consumed: 0,
            state: State::Preamble,
            parts: 0,
            limits,
            head_limits,
        })
    }

    /// The next part, or `None` after the closing boundary. What is left of the previous
    /// part's content is read and dropped first.
    ///
    /// # Errors
    /// `InvalidMultipart`, `TruncatedMultipart`, `InvalidPartHeaders`, `PartHeadersTooLarge`,
    /// `TooManyParts`, and whatever reading `R` fails with (`BodyTooLarge` from a
    /// [`LimitReader`](crate::io::LimitReader), a timeout). After an error, every further call
    /// fails again.
    pub fn next_part(&mut self) -> Result<Option<Part<'_, R>>, Error> {
        match self.advance() {
            Ok(Some(PartHead { headers, name, filename })) => {
                Ok(Some(Part { reader: self, headers, name, filename }))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.fail(&e);
                Err(e)
            }
        }
    }

    /// Skips the rest of the current content and reads up to the next part's content.
    fn advance(&mut self) -> Result<Option<PartHead>, Error> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Failed(earlier) => return Err(self.failed_again(earlier)),
                State::Preamble | State::Content => {
                    let mut scratch = [0u8; 1024];
                    while self.read_content(&mut scratch)? > 0 {}
                }
                State::AfterBoundary => {
                    if !self.after_boundary()? {
                        self.state = State::Done;
                        return Ok(None);
                    }
                    if self.parts >= self.limits.max_parts {
                        return Err(self.error(ErrorKind::TooManyParts, self.start));
                    }
                    let head_start = self.offset(self.start);
                    let headers = self.read_part_head()?;
                    let (name, filename) = disposition(&headers)
                        .ok_or_else(|| Error::protocol(ErrorKind::InvalidPartHeaders, head_start))?;
                    self.parts += 1;
                    self.state = State::Content;
                    self.safe = self.start;
                    self.delimiter_at_safe = None;
                    self.at_content_start = true;
                    return Ok(Some(PartHead { headers, name, filename }));
                }
            }
        }
    }

    /// Reads more of the body into the window. Returns the number of bytes read, 0 at its end.
    fn fill(&mut self) -> Result<usize, Error> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.consumed += self.start as u64;
            self.end -= self.start;
            self.safe -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Callers leave room; a full window means a head beyond the limit.
            return Err(self.error(ErrorKind::PartHeadersTooLarge, self.end));
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Makes at least `n` unconsumed bytes available. `false` when the body ends first.
    fn ensure(&mut self, n: usize) -> Result<bool, Error> {
        while self.end - self.start < n {
            if self.fill()? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// True for a byte that may follow a boundary in a delimiter.
    fn ends_boundary(c: u8) -> bool {
        matches!(c, b'-' | b' ' | b'\t' | b'\r' | b'\n')
    }

    /// Finds where the content at `start` ends within the window: sets `safe` to the end of the
    /// bytes known to be content, and `delimiter_at_safe` when a delimiter starts there.
    /// `safe == start` with no delimiter means more bytes are needed to decide.
    fn scan(&mut self) {
        let d = &self.delimiter;
        let window = &self.buf[self.start..self.end];
        if self.at_content_start {
            let bare = &d[2..];
            if window.len() > bare.len() {
                if window.starts_with(bare) && Self::ends_boundary(window[bare.len()]) {
                    self.safe = self.start;
                    self.delimiter_at_safe = Some(bare.len());
                    return;
                }
            } else if bare.starts_with(window) {
                self.safe = self.start;
                return;
            }
            self.at_content_start = false;
        }
        let mut from = 0;
        while let Some(cr) = window[from..].iter().position(|&c| c == b'\r') {
            let at = from + cr;
            let rest = &window[at..];
            if rest.len() > d.len() {
                if rest.starts_with(d) && Self::ends_boundary(rest[d.len()]) {
                    self.safe = self.start + at;
                    self.delimiter_at_safe = Some(d.len());
                    return;
                }
            } else if d.starts_with(rest) {
                // A delimiter may start here: decide when more bytes arrive.
                self.safe = self.start + at;
                return;
            }
            from = at + 1;
        }
        self.safe = self.end;
    }

    /// Reads content of the preamble or of the current part into `out`; 0 at its delimiter
    /// (which is consumed, leaving the reader after the boundary).
    fn read_content(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        loop {
            if self.start < self.safe {
                let n = out.len().min(self.safe - self.start);
                out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
                self.start += n;
                self.at_content_start = false;
                return Ok(n);
            }
            if let Some(len) = self.delimiter_at_safe.take() {
                self.start += len;
                self.safe = self.start;
                self.state = State::AfterBoundary;
                return Ok(0);
            }
            self.scan();
            if self.start < self.safe || self.delimiter_at_safe.is_some() {
                continue;
            }
            if self.fill()? == 0 {
                let kind = match self.state {
                    State::Preamble => ErrorKind::InvalidMultipart,
                    _ => ErrorKind::TruncatedMultipart,
                };
                return Err(self.error(kind, self.end));
            }
        }
    }

    /// Reads what follows a boundary: `--` (returns `false`), or optional padding and CRLF
    /// (returns `true`).
    fn after_boundary(&mut self) -> Result<bool, Error> {
        if !self.ensure(2)? {
            return Err(self.error(ErrorKind::TruncatedMultipart, self.end));
        }
        if &self.buf[self.start..self.start + 2] == b"--" {
            self.start += 2;
            self.safe = self.start;
            return Ok(false);
        }
        let mut pad = 0;
        loop {
            if !self.ensure(pad + 1)? {
                return Err(self.error(ErrorKind::TruncatedMultipart, self.end));
            }
            match self.buf[self.start + pad] {
                b' ' | b'\t' if pad < self.limits.max_part_head => pad += 1,
                b' ' | b'\t' => return Err(self.error(ErrorKind::PartHeadersTooLarge, self.start + pad)),
                _ => break,
            }
        }
        if !self.ensure(pad + 2)? {
            return Err(self.error(ErrorKind::TruncatedMultipart, self.end));
        }
        if &self.buf[self.start + pad..self.start + pad + 2] != b"\r\n" {
            return Err(self.error(ErrorKind::InvalidMultipart, self.start + pad));
        }
        self.start += pad + 2;
        self.safe = self.start;
        Ok(true)
    }

    /// Parses a part's header section.
    fn read_part_head(&mut self) -> Result<Headers, Error> {
        loop {
            match parse_headers(&self.buf[self.start..self.end], &self.head_limits) {
                Ok(Parsed::Complete { value, used }) => {
                    self.start += used;
                    self.safe = self.start;
                    return Ok(value);
                }
                Ok(Parsed::Partial) => {
                    if self.fill()? == 0 {
                        return Err(self.error(ErrorKind::TruncatedMultipart, self.end));
                    }
                }
                Err(e) => {
                    let kind = match e.kind() {
                        Some(
                            ErrorKind::HeadTooLarge
                            | ErrorKind::HeaderLineTooLong
                            | ErrorKind::TooManyHeaders,
                        ) => ErrorKind::PartHeadersTooLarge,
                        _ => ErrorKind::InvalidPartHeaders,
                    };
                    return Err(self.error(kind, self.start + e.offset().unwrap_or(0)));
                }
            }
        }
    }
}

/// The `name` and `filename` parameters of a part's `Content-Disposition`. `None` when the
/// field is repeated or malformed, or names a parameter twice.
fn disposition(headers: &Headers) -> Option<(Option<String>, Option<String>)> {
    let mut fields = headers.get_all("content-disposition");
    let Some(value) = fields.next() else { return Some((None, None)) };
    if fields.next().is_some() {
        return None;
    }
    let parsed = parse_params(value)?;
    if parsed.item.is_empty() {
        return None;
    }
    let one = |name: &str| -> Option<Option<String>> {
        let mut it = parsed.params.iter().filter(|(n, _)| n == name);
        let first = it.next().map(|(_, v)| v.clone());
        it.next().is_none().then_some(first)
    };
    Some((one("name")?, one("filename")?))
}

/// One part of a multipart body: its headers, and a [`Read`]er of its content.
///
/// Reading stops at the part's end (0 bytes). A part that is dropped before its end is
/// skipped by the next [`MultipartReader::next_part`].
pub struct Part<'a, R> {
    reader: &'a mut MultipartReader<R>,
    headers: Headers,
    name: Option<String>,
    filename: Option<String>,
}

impl<R> fmt::Debug for Part<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Part<'_, R> {
    /// The part's header fields, with lower-case names.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The form field name: the `name` parameter of `Content-Disposition`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The `filename` parameter of `Content-Disposition`, as the sender wrote it (it may hold
    /// directory separators, `..` or nothing sensible: never use it as a path).
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// The part's `Content-Type` value. `None` when absent, which RFC 7578 §4.4 reads as
    /// `text/plain`.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("content-type")
    }
}

impl<R: Read> Read for Part<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.reader.state {
            State::Content if !out.is_empty() => {}
            State::Failed(earlier) => return Err(self.reader.failed_again(earlier).into()),
            _ => return Ok(0),
        }
        match self.reader.read_content(out) {
            Ok(n) => Ok(n),
            Err(e) => {
                self.reader.fail(&e);
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// A reader that hands out its bytes in pieces of the given sizes (the last size repeats).
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        next: usize,
    }

    impl<'a> Pieces<'a> {
        fn new(data: &'a [u8], sizes: Vec<usize>) -> Pieces<'a> {
            Pieces { data, sizes, next: 0 }
        }
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes.get(self.next).or(self.sizes.last()).copied().unwrap_or(usize::MAX);
            self.next += 1;
            let n = size.max(1).min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// What a whole body parses to: each part's (name, filename, content type, content), or
    /// the error kind that stopped it.
    type Seen = (Option<String>, Option<String>, Option<String>, Vec<u8>);
    type Parsed = Result<Vec<Seen>, (ErrorKind, usize)>;

    fn parse_with(r: impl Read, boundary: &str, limits: MultipartLimits, chunk: usize) -> Parsed {
        let mut reader = MultipartReader::with_limits(r, boundary, limits).expect("valid boundary");
        let mut out = Vec::new();
        let fail = |e: Error| (e.kind().expect("protocol error"), e.offset().unwrap_or(0));
        loop {
            let mut part = match reader.next_part() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(out),
                Err(e) => return Err(fail(e)),
            };
            let meta = (
                part.name().map(str::to_owned),
                part.filename().map(str::to_owned),
                part.content_type().map(str::to_owned),
            );
            let mut content = Vec::new();
            let mut piece = vec![0u8; chunk];
            loop {
                match part.read(&mut piece) {
                    Ok(0) => break,
                    Ok(n) => content.extend_from_slice(&piece[..n]),
                    Err(e) => return Err(fail(Error::from(e))),
                }
            }
            out.push((meta.0, meta.1, meta.2, content));
        }
    }

    fn parse(body: &[u8], boundary: &str) -> Parsed {
        parse_with(body, boundary, MultipartLimits::default(), 4096)
    }

    fn field(name: &str, content: &str) -> Seen {
        (Some(name.to_owned()), None, None, content.as_bytes().to_vec())
    }

    const FORM: &[u8] = b"--b0undary\r\n\
        Content-Disposition: form-data; name=\"a\"\r\n\
        \r\n\
        first value\r\n\
        --b0undary\r\n\
        Content-Disposition: form-data; name=\"file\"; filename=\"x\\\\y \\\"z\\\".bin\"\r\n\
        Content-Type: application/octet-stream\r\n\
        \r\n\
        \r\n--b0undar\r\n--b0undaryX\r\n-\r\r\n\r\n--b0undary\r\n\
        Content-Disposition: form-data; name=\"empty\"\r\n\
        \r\n\
        \r\n\
        --b0undary--\r\n\
        epilogue, ignored --b0undary\r\n";

    fn form_parts() -> Vec<Seen> {
        vec![
            field("a", "first value"),
            (
                Some("file".into()),
                Some(r#"x\y "z".bin"#.into()),
                Some("application/octet-stream".into()),
                b"\r\n--b0undar\r\n--b0undaryX\r\n-\r\r\n".to_vec(),
            ),
            field("empty", ""),
        ]
    }

    #[test]
    fn boundaries_from_content_types() {
        let ok = [
            ("multipart/form-data; boundary=abc", "abc"),
            ("multipart/form-data;boundary=abc", "abc"),
            (
                "multipart/mixed; charset=utf-8; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"",
                "----WebKitFormBoundary7MA4YWxkTrZu0gW",
            ),
            ("MULTIPART/FORM-DATA; Boundary=\"with space\"", "with space"),
            ("multipart/form-data; boundary=\"'()+_,-./:=?\"", "'()+_,-./:=?"),
            ("multipart/mixed; x=\"1;boundary=2\"; boundary=abc", "abc"),
        ];
        for (ct, want) in ok {
            assert_eq!(boundary_from_content_type(ct).as_deref(), Some(want), "{ct:?}");
        }
        let seventy = "x".repeat(70);
        assert_eq!(
            boundary_from_content_type(&format!("multipart/form-data; boundary={seventy}")).as_deref(),
            Some(seventy.as_str())
        );
        let bad = [
            "multipart/form-data".to_owned(),
            "multipart/form-data; boundary=".to_owned(),
            "multipart/form-data; boundary=\"\"".to_owned(),
            "multipart/form-data; boundary=\"ends \"".to_owned(),
            "multipart/form-data; boundary=a; boundary=b".to_owned(),
            "multipart/form-data; boundary=\"a\\\"b\"".to_owned(),
            "multipart/form-data; boundary=\"é\"".to_owned(),
            "multipart/form-data; boundary=a*b".to_owned(),
            "multipart/form-data; boundary=\"a;b\"".to_owned(),
            "multipart/form-data; boundary=\"unterminated".to_owned(),
            format!("multipart/form-data; boundary={}", "x".repeat(71)),
            "text/plain; boundary=abc".to_owned(),
            "multipart; boundary=abc".to_owned(),
            "multipart/; boundary=abc".to_owned(),
            String::new(),
        ];
        for ct in bad {
            assert_eq!(boundary_from_content_type(&ct), None, "{ct:?}");
        }
    }

    #[test]
    fn invalid_boundary_is_refused() {
        for b in ["", "a b ", "ä", &"x".repeat(71)] {
            let err = MultipartReader::new(&b""[..], b).unwrap_err();
            assert_eq!(err.kind(), Some(ErrorKind::MissingBoundary), "{b:?}");
        }
    }

    #[test]
    fn reads_a_form() {
        assert_eq!(parse(FORM, "b0undary"), Ok(form_parts()));
    }

    #[test]
    fn split_at_every_offset_and_read_in_every_size() {
        let want = Ok(form_parts());
        for cut in 0..=FORM.len() {
            let r = Pieces::new(FORM, vec![cut, usize::MAX]);
            assert_eq!(parse_with(r, "b0undary", MultipartLimits::default(), 4096), want, "cut at {cut}");
        }
        for size in 1..=16 {
            for chunk in [1, 3, 7, 4096] {
                let r = Pieces::new(FORM, vec![size]);
                assert_eq!(
                    parse_with(r, "b0undary", MultipartLimits::default(), chunk),
                    want,
                    "{size}/{chunk}"
                );
            }
        }
    }

    #[test]
    fn preamble_padding_and_bare_boundaries() {
        // A preamble, padding after the boundary, a part without headers or content.
        let body = b"This is a preamble.\r\n--b \t\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b\r\n\r\n--b--";
        let want = Ok(vec![field("x", "1"), (None, None, None, Vec::new())]);
        assert_eq!(parse(body, "b"), want);
        // A part whose headers end right before the next boundary line.
        let body = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n--b--\r\n";
        assert_eq!(parse(body, "b"), Ok(vec![field("x", "")]));
        // A body with no parts at all.
        assert_eq!(parse(b"--b--", "b"), Ok(vec![]));
        assert_eq!(parse(b"\r\n--b--\r\n", "b"), Ok(vec![]));
    }

    #[test]
    fn content_that_only_resembles_a_boundary() {
        let body = b"--b\r\n\r\n--bb\r\n--b_x\r\n-\r\n--\r\n--b\r\n\r\n--bx--b--\r\n--b--";
        let want = Ok(vec![
            (None, None, None, b"--bb\r\n--b_x\r\n-\r\n--".to_vec()),
            (None, None, None, b"--bx--b--".to_vec()),
        ]);
        assert_eq!(parse(body, "b"), want);
    }

    #[test]
    fn unread_content_is_skipped() {
        let big = vec![b'x'; 100_000];
        let mut body = b"--b\r\nContent-Disposition: form-data; name=big\r\n\r\n".to_vec();
        body.extend_from_slice(&big);
        body.extend_from_slice(b"\r\n--b\r\nContent-Disposition: form-data; name=small\r\n\r\nok\r\n--b--");
        let mut reader = MultipartReader::new(&body[..], "b").unwrap();
        let mut first = reader.next_part().unwrap().unwrap();
        let mut two = [0u8; 2];
        first.read_exact(&mut two).unwrap();
        drop(first);
        let mut second = reader.next_part().unwrap().unwrap();
        assert_eq!(second.name(), Some("small"));
        let mut s = String::new();
        second.read_to_string(&mut s).unwrap();
        assert_eq!(s, "ok");
        // Reading past the end of a part keeps answering 0.
        assert_eq!(second.read(&mut two).unwrap(), 0);
        assert!(reader.next_part().unwrap().is_none());
        assert!(reader.is_done());
        assert_eq!(reader.parts_read(), 2);
        assert!(reader.next_part().unwrap().is_none());
    }

    #[test]
    fn window_stays_bounded() {
        // A long part streams through a window of fixed size.
        let mut body = b"--b\r\n\r\n".to_vec();
        body.extend(std::iter::repeat(b"0123456789\r\n-").take(50_000).flatten());
        body.extend_from_slice(b"\r\n--b--");
        let mut reader = MultipartReader::new(Pieces::new(&body, vec![65536]), "b").unwrap();
        let window = reader.buf.len();
        let mut part = reader.next_part().unwrap().unwrap();
        let n = io::copy(&mut part, &mut io::sink()).unwrap();
        assert_eq!(n, 13 * 50_000);
        assert!(window <= 16 * 1024, "{window}");
    }

    /// One case per error kind, with the offset where it is reported.
    #[test]
    fn errors() {
        let limits = MultipartLimits { max_part_head: 64, max_part_headers: 2, max_parts: 2 };
        let table: &[(&[u8], ErrorKind, usize)] = &[
            (b"", ErrorKind::InvalidMultipart, 0),
            (b"no boundary anywhere", ErrorKind::InvalidMultipart, 20),
            (b"--other\r\n\r\n--other--", ErrorKind::InvalidMultipart, 20),
            (b"--b", ErrorKind::InvalidMultipart, 3),
            (b"--b\r\n\r\ncontent", ErrorKind::TruncatedMultipart, 14),
            (b"--b\r\n\r\ncontent\r\n--b", ErrorKind::TruncatedMultipart, 19),
            (b"--b\r\n\r\ncontent\r\n--b-", ErrorKind::TruncatedMultipart, 20),
            (b"--b\r\nA: 1\r\n", ErrorKind::TruncatedMultipart, 11),
            (b"--b\r", ErrorKind::TruncatedMultipart, 4),
            (b"--b  ", ErrorKind::TruncatedMultipart, 5),
            (b"--b\n\r\n--b--", ErrorKind::InvalidMultipart, 3),
            (b"--b x\r\n\r\n--b--", ErrorKind::InvalidMultipart, 4),
            (b"--b\r\n\r\nx\r\n--b-x\r\n--b--", ErrorKind::InvalidMultipart, 13),
            (b"--b\r\nbad header\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 8),
            (b"--b\r\n folded: x\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 5),
            (b"--b\r\nContent-Disposition: form-data; name\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 5),
            (
                b"--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n--b--",
                ErrorKind::InvalidPartHeaders,
                5,
            ),
            (
                b"--b\r\nContent-Disposition: x\r\nContent-Disposition: y\r\n\r\n--b--",
                ErrorKind::InvalidPartHeaders,
                5,
            ),
            (b"--b\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n--b--", ErrorKind::PartHeadersTooLarge, 17),
            (
                b"--b\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n--b--",
                ErrorKind::PartHeadersTooLarge,
                69,
            ),
            (b"--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b--", ErrorKind::TooManyParts, 23),
        ];
        for &(body, kind, offset) in table {
            for size in [1, 2, 5, usize::MAX] {
                let got = parse_with(Pieces::new(body, vec![size]), "b", limits, 3);
                assert_eq!(
                    got.map(|_| ()),
                    Err((kind, offset)),
                    "{:?} in pieces of {size}",
                    String::from_utf8_lossy(body)
                );
            }
        }
        let mut padded = b"--b".to_vec();
        padded.extend(std::iter::repeat(b' ').take(65));
        padded.extend_from_slice(b"\r\n\r\n--b--");
        assert_eq!(
            parse_with(&padded[..], "b", limits, 8).map(|_| ()),
            Err((ErrorKind::PartHeadersTooLarge, 67))
        );
    }

    #[test]
    fn errors_repeat_and_reach_the_part_reader() {
        let mut reader = MultipartReader::new(&b"--b\r\n\r\nabc"[..], "b").unwrap();
        let mut part = reader.next_part().unwrap().unwrap();
        let mut out = Vec::new();
        let err = Error::from(part.read_to_end(&mut out).unwrap_err());
        assert_eq!(err.kind(), Some(ErrorKind::TruncatedMultipart));
        assert_eq!(out, b"abc");
        assert_eq!(
            Error::from(part.read(&mut [0; 4]).unwrap_err()).kind(),
            Some(ErrorKind::TruncatedMultipart)
        );
        assert_eq!(reader.next_part().unwrap_err().kind(), Some(ErrorKind::TruncatedMultipart));
    }

    #[test]
    fn total_size_is_the_limit_readers_job() {
        let body = b"--b\r\nContent-Disposition: form-data; name=f\r\n\r\n0123456789012345678901234567890123456789\r\n--b--";
        let limited = crate::io::LimitReader::new(&body[..], 60);
        let mut reader = MultipartReader::new(limited, "b").unwrap();
        let mut part = reader.next_part().unwrap().unwrap();
        let err = Error::from(part.read_to_end(&mut Vec::new()).unwrap_err());
        assert_eq!(err.kind(), Some(ErrorKind::BodyTooLarge));
        assert_eq!(err.status(), 413);
        assert_eq!(reader.next_part().unwrap_err().kind(), Some(ErrorKind::BodyTooLarge));
    }

    #[test]
    fn io_errors_pass_through() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::TimedOut, "slow"))
            }
        }
        let mut reader = MultipartReader::new(Broken, "b").unwrap();
        let err = reader.next_part().unwrap_err();
        assert!(err.is_timeout());
        assert!(matches!(reader.next_part(), Err(Error::Io(_))));
    }

    #[test]
    fn statuses_are_400() {
        for kind in [
            ErrorKind::MissingBoundary,
            ErrorKind::InvalidMultipart,
            ErrorKind::TruncatedMultipart,
            ErrorKind::InvalidPartHeaders,
            ErrorKind::PartHeadersTooLarge,
            ErrorKind::TooManyParts,
        ] {
            assert_eq!(kind.status(), 400, "{kind:?}");
        }
    }

    /// Writes parts the way a browser does.
    fn encode(boundary: &str, parts: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"preamble\r\n".to_vec();
        for (name, content) in parts {
            out.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Content made of boundary fragments round-trips, however the body is cut into reads.
        #[test]
        fn round_trip(
            contents in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(b"\r\n".to_vec()), Just(b"--".to_vec()), Just(b"bo".to_vec()), Just(b"bound".to_vec()), Just(b"\r".to_vec()), any::<u8>().prop_map(|b| vec![b])], 0..40)
                    .prop_map(|pieces| pieces.concat()),
                0..5),
            sizes in proptest::collection::vec(1usize..40, 1..8),
            chunk in 1usize..64,
        ) {
            let boundary = "bound";
            // Content must not contain the delimiter itself (the sender's promise).
            let parts: Vec<(String, Vec<u8>)> = contents
                .into_iter()
                .enumerate()
                .filter(|(_, c)| !c.windows(9).any(|w| w == b"\r\n--bound") && !c.starts_with(b"--bound"))
                .map(|(i, c)| (format!("f{i}"), c))
                .collect();
            let body = encode(boundary, &parts);
            let want: Vec<_> = parts.iter().map(|(n, c)| (Some(n.clone()), None, None, c.clone())).collect();
            prop_assert_eq!(parse_with(Pieces::new(&body, sizes), boundary, MultipartLimits::default(), chunk), Ok(want));
        }
    }
}
