//! I/O-free parsers for request heads, response heads and header sections.
//!
//! Each parser takes the bytes received so far and answers one of three things:
//!
//! - `Ok(Parsed::Complete { value, used })`: a whole head was read from the first `used` bytes;
//!   whatever follows belongs to the body or to the next message;
//! - `Ok(Parsed::Partial)`: the bytes are a valid prefix; read more and call again with all of them;
//! - `Err(error)`: the bytes can never become a valid head. The error names its kind, the offset
//!   of the offending byte, and (for requests) the status a server answers.
//!
//! Limits are enforced on prefixes too: a request line that is already longer than allowed is an
//! error before its line ending arrives, so a peer cannot make the caller buffer without bound.
//! The first problem in byte order is the one reported, so the outcome never depends on how the
//! bytes were split into reads: a prefix of a message parses as `Partial` or as the same error.
//!
//! Line endings are CRLF; a bare LF is accepted as a line ending (RFC 9112 §2.2 allows it) but a
//! bare CR is an error. Whitespace before the colon and control characters in values are
//! rejected (RFC 9112 §5). Obsolete line folding is rejected in requests and trailers; in a
//! response head, where a user agent must accept it (RFC 9112 §5.2), each fold becomes spaces.

use crate::error::{Error, ErrorKind};
use crate::framing::framing_of;
use crate::headers::{Headers, WireFields};
use crate::limits::Limits;
use crate::method::Method;
use crate::request::{keep_alive, Request};
use crate::response::ResponseHead;
use crate::section::Facts;
use crate::token::{field_vchar_run, is_field_vchar, target_char_run, tchar_run};
use crate::version::Version;

/// The outcome of parsing a prefix of a byte stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole item was parsed from the first `used` bytes.
    Complete {
        /// The parsed item.
        value: T,
        /// How many bytes it took, line endings included.
        used: usize,
    },
    /// More bytes are needed.
    Partial,
}

impl<T> Parsed<T> {
    /// The value of a complete parse.
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Parsed::Complete { value, used } => Some((value, used)),
            Parsed::Partial => None,
        }
    }

    /// True for `Partial`.
    pub fn is_partial(&self) -> bool {
        matches!(self, Parsed::Partial)
    }
}

type Step<T> = Result<Parsed<T>, Error>;

fn err<T>(kind: ErrorKind, offset: usize) -> Result<T, Error> {
    Err(Error::protocol(kind, offset))
}

/// Returns the end of a line ending that starts at `pos` (`buf[pos]` is CR or LF):
/// `Some(Ok(next))` after the ending, `None` if more bytes are needed.
fn line_end(buf: &[u8], pos: usize) -> Option<Result<usize, Error>> {
    match buf[pos] {
        b'\n' => Some(Ok(pos + 1)),
        _ => match buf.get(pos + 1) {
            None => None,
            Some(b'\n') => Some(Ok(pos + 2)),
            Some(_) => Some(err(ErrorKind::BareCarriageReturn, pos)),
        },
    }
}

/// Parses a request head: request line and header section (the egg's request reading and
/// `http:read-request-attributes`). The request's body is left empty.
///
/// Up to a few empty lines before the request line are skipped (RFC 9112 §2.2).
///
/// ```
/// use http_utils::{parse_request_head, Limits, Method, Parsed};
/// let bytes = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\nnext";
/// let (req, used) = parse_request_head(bytes, &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!(req.method(), &Method::Get);
/// assert_eq!(req.url(), "/index.html?x=1");
/// assert_eq!(req.headers().get("host"), Some("example.com"));
/// assert_eq!(&bytes[used..], b"next");
/// assert!(parse_request_head(b"GET / HT", &Limits::default()).unwrap().is_partial());
/// ```
///
/// # Errors
/// Every [`ErrorKind`] of the head: `RequestLineTooLong` (414), `HeaderLineTooLong`,
/// `TooManyHeaders`, `HeadTooLarge` (431), `InvalidMethod`, `InvalidTarget`, `InvalidVersion`,
/// `InvalidHeaderName`, `InvalidHeaderValue`, `MissingColon`, `ObsoleteLineFolding`,
/// `BareCarriageReturn` (400), `UnsupportedVersion` (505).
pub fn parse_request_head(buf: &[u8], limits: &Limits) -> Step<Request> {
    let mut req = Request::new(Method::Get, String::new());
    Ok(match parse_request_into(buf, limits, &mut req)? {
        Parsed::Complete { value: (), used } => Parsed::Complete { value: req, used },
        Parsed::Partial => Parsed::Partial,
    })
}

/// Like [`parse_request_head`], parsing into `into`, a request done with: its URL and header
/// buffers keep their capacity, so that a server parsing request after request into the
/// same record allocates nothing for them (buffers that grew past 16 KiB are let go).
///
/// On `Complete`, `into` is the new request (no body, no peer address). Otherwise its method,
/// URL and version are as they were and its headers are empty.
///
/// ```
/// use http_utils::{parse_request_head_into, Limits, Method, Request};
/// let mut req = Request::new(Method::Get, "");
/// for (head, url) in [(&b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"[..], "/a"), (b"PUT /b HTTP/1.0\r\n\r\n", "/b")] {
///     let ((), used) = parse_request_head_into(head, &Limits::default(), &mut req).unwrap().complete().unwrap();
///     assert_eq!((req.url(), used), (url, head.len()));
/// }
/// assert_eq!((req.method(), req.headers().len()), (&Method::Put, 0));
/// ```
///
/// # Errors
/// As [`parse_request_head`].
pub fn parse_request_head_into(buf: &[u8], limits: &Limits, into: &mut Request) -> Step<()> {
    into.let_go_of_large_buffers();
    parse_request_into(buf, limits, into)
}

fn parse_request_into(buf: &[u8], limits: &Limits, into: &mut Request) -> Step<()> {
    // Skip a few leading empty lines.
    let mut start = 0;
    for _ in 0..4 {
        match buf.get(start) {
            Some(b'\r') | Some(b'\n') => match line_end(buf, start) {
                None => return Ok(Parsed::Partial),
                Some(next) => start = next?,
            },
            _ => break,
        }
    }
    let line_limit = start + limits.max_request_line;
    // Of the two limits, the one passed at an earlier byte is reported.
    let too_long = |pos: usize| -> Result<(), Error> {
        if pos > line_limit && line_limit <= limits.max_head {
            err(ErrorKind::RequestLineTooLong, line_limit)
        } else if pos > limits.max_head {
            err(ErrorKind::HeadTooLarge, limits.max_head)
        } else {
            Ok(())
        }
    };

    // method (the most common one at once: a token and its space, as the scan below finds)
    let (method, mut pos) = match buf.get(start..start + 4) {
        Some(b"GET ") => (Method::Get, start + 4),
        _ => {
            let pos = start + tchar_run(&buf[start..]);
            if !space_after(buf, (start, pos), ErrorKind::InvalidMethod, &too_long)? {
                return Ok(Parsed::Partial);
            }
            let method = Method::from_bytes(&buf[start..pos])
                .ok_or(Error::protocol(ErrorKind::InvalidMethod, start))?;
            (method, pos + 1)
        }
    };

    // target
    let target_start = pos;
    pos += target_char_run(&buf[pos..]);
    if !space_after(buf, (target_start, pos), ErrorKind::InvalidTarget, &too_long)? {
        return Ok(Parsed::Partial);
    }
    // Visible ASCII only: made a string with the header section, once the head is complete.
    let target = (target_start, pos);
    pos += 1;

    // The common versions, with CRLF, at once.
    if let Some(v) = buf.get(pos..pos + 10) {
        let version = match v {
            b"HTTP/1.1\r\n" => Some(Version::Http11),
            b"HTTP/1.0\r\n" => Some(Version::Http10),
            _ => None,
        };
        if let Some(version) = version {
            too_long(pos + 8)?;
            return parse_rest(buf, pos + 10, limits, into, method, target, version);
        }
    }
    // version: each byte is checked against the shape `HTTP/d.d` as it arrives
    let version_start = pos;
    while pos < buf.len() && buf[pos] != b'\r' && buf[pos] != b'\n' {
        let i = pos - version_start;
        if i >= VERSION_SHAPE.len() {
            too_long(pos)?;
            return err(ErrorKind::InvalidVersion, pos);
        }
        if !fits_version_shape(buf[pos], VERSION_SHAPE[i]) {
            too_long(pos)?;
            return err(ErrorKind::InvalidVersion, version_start);
        }
        pos += 1;
    }
    if pos == buf.len() {
        too_long(pos)?;
        return Ok(Parsed::Partial);
    }
    too_long(pos)?;
    let version = parse_version(&buf[version_start..pos], version_start, ErrorKind::InvalidVersion)?;
    let next = match line_end(buf, pos) {
        None => return Ok(Parsed::Partial),
        Some(r) => r?,
    };
    parse_rest(buf, next, limits, into, method, target, version)
}

/// Whether the run `start..end` of the request line (the method or the target) is followed
/// by its space: `false` when more bytes are needed; the error `kind` when the run is empty
/// or another byte follows; a limit passed before `end` first.
#[inline]
fn space_after(
    buf: &[u8],
    (start, end): (usize, usize),
    kind: ErrorKind,
    too_long: &impl Fn(usize) -> Result<(), Error>,
) -> Result<bool, Error> {
    if end == buf.len() {
        too_long(end)?;
        return Ok(false);
    }
    if buf[end] != b' ' || end == start {
        too_long(end)?;
        return err(kind, end);
    }
    Ok(true)
}

/// The header section of a request whose line was parsed, up to `next`.
fn parse_rest(
    buf: &[u8],
    next: usize,
    limits: &Limits,
    into: &mut Request,
    method: Method,
    target: (usize, usize),
    version: Version,
) -> Step<()> {
    let target = buf.get(target.0..target.1).unwrap_or_default();
    if let Some(used) = into.repeated_section(buf, next, limits) {
        // The same fields as the last request parsed into this record: its headers stand.
        let filled = into.refill_line(method, target, version);
        return completed(into, filled, used, next);
    }
    let mut fields = WireFields::reusing(next, into.take_headers());
    let parsed = parse_fields_into(buf, next, limits, false, &mut fields);
    if let Ok(Parsed::Complete { value: last_line, used }) = parsed {
        let Some(headers) = fields.finish(buf) else {
            into.set_headers(fields.into_spare());
            return err(ErrorKind::HeadTooLarge, last_line);
        };
        let section = buf.get(next..used).unwrap_or_default();
        let filled = into.refill((method, target, version), headers, section, limits);
        return completed(into, filled, used, next);
    }
    into.set_headers(fields.into_spare());
    parsed.map(|_| Parsed::Partial)
}

/// Ends a request head's parse once the record was `filled` (false: its target, before the
/// section at `next`, was not UTF-8; the record is then left with no headers).
#[inline]
fn completed(into: &mut Request, filled: bool, used: usize, next: usize) -> Step<()> {
    if !filled {
        into.take_headers();
        return err(ErrorKind::InvalidTarget, next);
    }
    into.note_facts(facts_of);
    Ok(Parsed::Complete { value: (), used })
}

/// The shape of a protocol version; `d` stands for a digit.
const VERSION_SHAPE: &[u8; 8] = b"HTTP/d.d";

fn fits_version_shape(c: u8, shape: u8) -> bool {
    if shape == b'd' {
        c.is_ascii_digit()
    } else {
        c == shape
    }
}

fn is_version_prefix(b: &[u8]) -> bool {
    b.len() <= VERSION_SHAPE.len() && b.iter().zip(VERSION_SHAPE).all(|(&c, &s)| fits_version_shape(c, s))
}

/// `HTTP/1.0` and `HTTP/1.1`; other `HTTP/d.d` are unsupported, anything else invalid.
fn parse_version(b: &[u8], offset: usize, invalid: ErrorKind) -> Result<Version, Error> {
    match b {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        _ if b.len() == 8 && is_version_prefix(b) => err(ErrorKind::UnsupportedVersion, offset),
        _ => err(invalid, offset),
    }
}

/// Parses a response head: status line and header section.
///
/// A missing reason phrase (`HTTP/1.1 204\r\n`) is accepted. Versions other than 1.0 and 1.1
/// are rejected. Interim (1xx) heads are returned like any other: the caller skips them.
/// A field value folded over several lines (obsolete line folding) is joined, each fold
/// replaced by spaces (RFC 9112 §5.2); a fold before the first field is an error.
///
/// ```
/// use http_utils::{parse_response_head, Limits};
/// let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
/// let (head, used) = parse_response_head(bytes, &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!(head.status, 200);
/// assert_eq!(head.headers.content_length(), Ok(Some(2)));
/// assert_eq!(&bytes[used..], b"hi");
/// ```
///
/// # Errors
/// `InvalidStatusLine` for a malformed status line, `UnsupportedVersion`, `RequestLineTooLong`
/// when the status line passes `max_request_line`, and the header errors of
/// [`parse_request_head`].
pub fn parse_response_head(buf: &[u8], limits: &Limits) -> Step<ResponseHead> {
    // Find the end of the status line within the limit.
    let limit = limits.max_request_line.min(limits.max_head);
    let scan = &buf[..buf.len().min(limit + 1)];
    let Some(eol) = scan.iter().position(|&c| c == b'\r' || c == b'\n') else {
        // Reject early what can never be a status line (looking only at bytes within the
        // limit, which come before the breach).
        if scan.iter().zip(b"HTTP/").any(|(a, b)| a != b) {
            return err(ErrorKind::InvalidStatusLine, 0);
        }
        if buf.len() > limit {
            return err(ErrorKind::RequestLineTooLong, limit);
        }
        return Ok(Parsed::Partial);
    };
    let line = &buf[..eol];
    if line.len() < 12 || line[8] != b' ' || !(line.len() == 12 || line[12] == b' ') {
        return err(ErrorKind::InvalidStatusLine, 0);
    }
    let version = parse_version(&line[..8], 0, ErrorKind::InvalidStatusLine)?;
    let code = &line[9..12];
    if !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return err(ErrorKind::InvalidStatusLine, 9);
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    let reason_bytes = if line.len() > 13 { &line[13..] } else { &[][..] };
    if let Some(p) = reason_bytes.iter().position(|&c| !is_field_vchar(c)) {
        return err(ErrorKind::InvalidStatusLine, 13 + p);
    }
    let reason = match std::str::from_utf8(reason_bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => reason_bytes.iter().map(|&b| b as char).collect(),
    };
    let next = match line_end(buf, eol) {
        None => return Ok(Parsed::Partial),
        Some(r) => r?,
    };
    match parse_fields(buf, next, limits, true)? {
        Parsed::Complete { value: headers, used } => {
            Ok(Parsed::Complete { value: ResponseHead { version, status, reason, headers }, used })
        }
        Parsed::Partial => Ok(Parsed::Partial),
    }
}

/// Parses a header section alone (up to and including its empty line), as found after a
/// start line or as chunked trailers. This is the I/O-free core of the egg's
/// `http:read-request-attributes`.
///
/// ```
/// use http_utils::{parse_headers, Limits};
/// let (h, used) = parse_headers(b"A: 1\r\nB:2\r\n\r\n", &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!((h.get("a"), h.get("b"), used), (Some("1"), Some("2"), 13));
/// ```
///
/// # Errors
/// The header errors of [`parse_request_head`].
pub fn parse_headers(buf: &[u8], limits: &Limits) -> Step<Headers> {
    parse_fields(buf, 0, limits, false)
}

/// Parses fields starting at `pos`; offsets and the head limit count from the start of `buf`.
/// Nothing is allocated unless the section is complete.
fn parse_fields(buf: &[u8], pos: usize, limits: &Limits, fold: bool) -> Step<Headers> {
    let mut fields = WireFields::new(pos);
    match parse_fields_into(buf, pos, limits, fold, &mut fields)? {
        Parsed::Complete { value: last_line, used } => match fields.finish(buf) {
            Some(value) => Ok(Parsed::Complete { value, used }),
            None => err(ErrorKind::HeadTooLarge, last_line),
        },
        Parsed::Partial => Ok(Parsed::Partial),
    }
}

/// A line of a field value read whole: its trimmed range and where the next line starts.
type ValueLine = Option<((usize, usize), usize)>;

fn parse_fields_into(
    buf: &[u8],
    mut pos: usize,
    limits: &Limits,
    fold: bool,
    fields: &mut WireFields,
) -> Step<usize> {
    loop {
        if pos > limits.max_head {
            return err(ErrorKind::HeadTooLarge, limits.max_head);
        }
        let line_start = pos;
        let line_limit = line_start + limits.max_header_line;
        let Some(&first) = buf.get(pos) else {
            return Ok(Parsed::Partial);
        };
        match first {
            b'\r' | b'\n' => {
                return match line_end(buf, pos) {
                    None => Ok(Parsed::Partial),
                    Some(Ok(used)) if used > limits.max_head => err(ErrorKind::HeadTooLarge, limits.max_head),
                    // The fields are complete; the caller builds them. The value is where the
                    // empty line starts (the place of a head too large to hold).
                    Some(Ok(used)) => Ok(Parsed::Complete { value: line_start, used }),
                    Some(Err(e)) => Err(e),
                };
            }
            b' ' | b'\t' => return err(ErrorKind::ObsoleteLineFolding, pos),
            _ => {}
        }
        // A limit passed before `pos` comes first, whether `pos` is the end of the bytes
        // received so far or the place of a syntax error; of the two limits, the one passed at
        // an earlier byte is reported.
        let too_long = |pos: usize| -> Result<(), Error> {
            if pos > line_limit && line_limit <= limits.max_head {
                err(ErrorKind::HeaderLineTooLong, line_limit)
            } else if pos > limits.max_head {
                err(ErrorKind::HeadTooLarge, limits.max_head)
            } else {
                Ok(())
            }
        };
        let partial = |pos: usize| -> Step<usize> { too_long(pos).map(|()| Parsed::Partial) };
        if fields.len() >= limits.max_headers {
            return err(ErrorKind::TooManyHeaders, pos);
        }

        // name
        pos += tchar_run(&buf[pos..]);
        if pos == buf.len() {
            return partial(pos);
        }
        match buf[pos] {
            b':' if pos > line_start => {}
            b'\r' | b'\n' => {
                too_long(pos)?;
                return err(ErrorKind::MissingColon, pos);
            }
            _ => {
                too_long(pos)?;
                return err(ErrorKind::InvalidHeaderName, pos);
            }
        }
        let name_end = pos;
        pos += 1;

        // value: a line of field-value bytes, its trimmed range and where the next line starts
        // (`None` when more bytes are needed).
        let value_line = |start: usize| -> Result<ValueLine, Error> {
            let end = start + field_vchar_run(&buf[start..]);
            if end == buf.len() {
                return too_long(end).map(|()| None);
            }
            too_long(end)?;
            if buf[end] != b'\r' && buf[end] != b'\n' {
                return err(ErrorKind::InvalidHeaderValue, end);
            }
            match line_end(buf, end) {
                None => too_long(end).map(|()| None),
                Some(next) => Ok(Some((trim_ows(start, end, buf), next?))),
            }
        };
        let Some((mut value, next)) = value_line(pos)? else { return Ok(Parsed::Partial) };
        pos = next;
        // Obsolete line folding (responses only): each continuation line joins the value,
        // and the fold becomes spaces when the fields are copied (RFC 9112 §5.2).
        // Bounded: each round takes one line of the received bytes.
        if fold {
            loop {
                match buf.get(pos) {
                    // Whether the next line continues this field is not known yet; the limits
                    // are checked as for the start of a new line.
                    None if pos > limits.max_head => return err(ErrorKind::HeadTooLarge, limits.max_head),
                    None => return Ok(Parsed::Partial),
                    Some(b' ' | b'\t') => {}
                    Some(_) => break,
                }
                let Some((more, next)) = value_line(pos)? else { return Ok(Parsed::Partial) };
                pos = next;
                if more.0 < more.1 {
                    if value.0 == value.1 {
                        value = more;
                    } else {
                        value.1 = more.1;
                        fields.mark_folded();
                    }
                }
            }
        }
        if !fields.push((line_start, name_end), value) {
            return err(ErrorKind::HeadTooLarge, line_start);
        }
    }
}

/// The range `start..end` of `buf` without optional whitespace (SP, HTAB) at either end.
fn trim_ows(mut start: usize, mut end: usize, buf: &[u8]) -> (usize, usize) {
    while start < end && matches!(buf.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    while end > start && matches!(buf.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    (start, end)
}

/// The bytes a `Host` value may hold: visible ASCII but `/`, `@`, `?`, `#` and `\`.
static HOST_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = !matches!(c as u8, b'/' | b'@' | b'?' | b'#' | b'\\');
        c += 1;
    }
    t
};

/// Checks the `Host` rule of RFC 9112 §3.2: an HTTP/1.1 request carries exactly one `Host`
/// field, and it is a plausible `host[:port]` (no whitespace, no `/`, `@` or `?`).
/// HTTP/1.0 requests may omit it, but one that is present must be valid.
///
/// # Errors
/// `InvalidHost` (400).
pub fn check_host(req: &Request) -> Result<(), Error> {
    let wrong = match req.facts() {
        Some(facts) => facts.host,
        None => host_error(req),
    };
    wrong.map_or(Ok(()), |kind| err(kind, 0))
}

/// What [`check_host`] finds wrong with the request, if anything.
fn host_error(req: &Request) -> Option<ErrorKind> {
    let Ok(first) = req.headers().single("host") else {
        return Some(ErrorKind::InvalidHost);
    };
    match first {
        None if req.version() == Version::Http11 => Some(ErrorKind::InvalidHost),
        None => None,
        Some(h) if h.bytes().all(|c| HOST_CHAR[usize::from(c)]) => None,
        Some(_) => Some(ErrorKind::InvalidHost),
    }
}

/// What a server asks of a request just parsed (see [`Facts`]).
fn facts_of(req: &Request) -> Facts {
    Facts {
        version: req.version(),
        host: host_error(req),
        framing: framing_of(req),
        keep_alive: keep_alive(req.version(), req.headers()),
    }
}

#[cfg(test)]
mod host_tests {
    #[test]
    fn host_bytes_are_visible_ascii_but_five() {
        for c in 0..=255u8 {
            let expected = c.is_ascii_graphic() && !matches!(c, b'/' | b'@' | b'?' | b'#' | b'\\');
            assert_eq!(super::HOST_CHAR[c as usize], expected, "byte {c:#x}");
        }
    }
}
