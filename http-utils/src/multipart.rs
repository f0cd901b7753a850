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

mod boundary;
pub use boundary::boundary_from_content_type;
use boundary::is_valid_boundary;

/// The longest boundary RFC 2046 §5.1.1 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Bytes of part content the window holds beyond the header limit.
const DATA_WINDOW: usize = 8 * 1024;

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
mod tests;
