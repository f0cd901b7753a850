//! The one error type of `http-utils`: what went wrong, where, and which status a server answers.

use std::fmt;
use std::io;

/// What kind of protocol violation or limit breach was found.
///
/// Every kind maps to the status code a server answers with ([`ErrorKind::status`]) and has a
/// short, fixed description that never contains bytes from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request line is longer than [`Limits::max_request_line`](crate::Limits). Answered with 414.
    RequestLineTooLong,
    /// A header line is longer than [`Limits::max_header_line`](crate::Limits). Answered with 431.
    HeaderLineTooLong,
    /// More header fields than [`Limits::max_headers`](crate::Limits). Answered with 431.
    TooManyHeaders,
    /// The whole head is larger than [`Limits::max_head`](crate::Limits). Answered with 431.
    HeadTooLarge,
    /// The method is not a token. Answered with 400.
    InvalidMethod,
    /// The request target is empty or holds bytes that are not visible ASCII. Answered with 400.
    InvalidTarget,
    /// The protocol version is not of the form `HTTP/d.d`. Answered with 400.
    InvalidVersion,
    /// A well-formed version other than HTTP/1.0 and HTTP/1.1. Answered with 505.
    UnsupportedVersion,
    /// The status line of a response is malformed (client side).
    InvalidStatusLine,
    /// A header name is empty or not a token, or whitespace stands before the colon. Answered with 400.
    InvalidHeaderName,
    /// A header value holds a control character (CR, LF, NUL, ...). Answered with 400.
    InvalidHeaderValue,
    /// A header line has no colon. Answered with 400.
    MissingColon,
    /// A header line starts with whitespace (obsolete line folding, RFC 9112 §5.2). Answered with 400.
    ObsoleteLineFolding,
    /// A carriage return not followed by a line feed. Answered with 400.
    BareCarriageReturn,
    /// The head is syntactically fine but says something contradictory or unsafe,
    /// such as a missing or repeated `Host` on HTTP/1.1. Answered with 400.
    InvalidHost,
    /// `Content-Length` is not a plain decimal number (signs, spaces, empty, overflow). Answered with 400.
    InvalidContentLength,
    /// Two `Content-Length` values that differ. Answered with 400.
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` (request smuggling guard). Answered with 400.
    ContentLengthWithTransferEncoding,
    /// A transfer coding other than `chunked` (and the codings layered under it). Answered with 501.
    UnsupportedTransferCoding,
    /// `chunked` is present but not the final transfer coding of a request. Answered with 400.
    ChunkedNotFinal,
    /// `chunked` with parameters (`chunked;q=1`): the chunked coding defines none, so this is
    /// not a coding the body can be read with, and the proxies in front refuse it. Answered
    /// with 400, as for a final coding that is not `chunked` (RFC 9112 §6.1).
    InvalidTransferCoding,
    /// An HTTP/1.0 request carries `Transfer-Encoding`, so its framing is faulty
    /// (RFC 9112 §6.1). Answered with 400.
    TransferEncodingInHttp10,
    /// A body larger than [`Limits::max_body`](crate::Limits). Answered with 413.
    BodyTooLarge,
    /// The connection ended before the body announced by its framing was complete.
    TruncatedBody,
    /// The connection ended in the middle of a head.
    TruncatedHead,
    /// A chunk-size line is malformed (not hex, signs, spaces, missing CRLF). Answered with 400.
    InvalidChunk,
    /// A chunk size does not fit in 64 bits. Answered with 400.
    ChunkSizeOverflow,
    /// A chunk-size line (with its extensions) is longer than [`Limits::max_chunk_line`](crate::Limits). Answered with 400.
    ChunkLineTooLong,
    /// The chunked trailer section is larger than [`Limits::max_head`](crate::Limits) or has too many fields. Answered with 431.
    TrailersTooLarge,
    /// A `multipart/*` body whose `Content-Type` has no valid `boundary` parameter (missing,
    /// repeated, empty, longer than 70 characters, or with characters RFC 2046 does not
    /// allow). Answered with 400.
    MissingBoundary,
    /// A multipart body that does not follow RFC 2046: no opening boundary before the end, or
    /// something other than padding and a line ending after a boundary. Answered with 400.
    InvalidMultipart,
    /// A multipart body that ended before its final (closing) boundary. Answered with 400.
    TruncatedMultipart,
    /// A part's header section is malformed (see the header kinds), or its
    /// `Content-Disposition` is. Answered with 400.
    InvalidPartHeaders,
    /// A part's header section is larger than the multipart limits allow, in bytes, line length
    /// or fields. Answered with 400.
    PartHeadersTooLarge,
    /// A multipart body with more parts than the multipart limits allow. Answered with 400.
    TooManyParts,
}

impl ErrorKind {
    /// The status code a server answers a request that failed with this kind.
    ///
    /// ```
    /// use http_utils::ErrorKind;
    /// assert_eq!(ErrorKind::RequestLineTooLong.status(), 414);
    /// assert_eq!(ErrorKind::UnsupportedTransferCoding.status(), 501);
    /// ```
    pub fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            RequestLineTooLong => 414,
            HeaderLineTooLong | TooManyHeaders | HeadTooLarge | TrailersTooLarge => 431,
            UnsupportedVersion => 505,
            UnsupportedTransferCoding => 501,
            BodyTooLarge => 413,
            InvalidStatusLine => 502,
            _ => 400,
        }
    }

    /// A fixed, human-readable description. It never contains bytes from the peer.
    pub fn description(self) -> &'static str {
        use ErrorKind::*;
        match self {
            RequestLineTooLong => "request line too long",
            HeaderLineTooLong => "header line too long",
            TooManyHeaders => "too many header fields",
            HeadTooLarge => "message head too large",
            InvalidMethod => "invalid method",
            InvalidTarget => "invalid request target",
            InvalidVersion => "invalid HTTP version",
            UnsupportedVersion => "HTTP version not supported",
            InvalidStatusLine => "invalid status line",
            InvalidHeaderName => "invalid header name",
            InvalidHeaderValue => "invalid header value",
            MissingColon => "header line without a colon",
            ObsoleteLineFolding => "obsolete line folding",
            BareCarriageReturn => "carriage return without line feed",
            InvalidHost => "missing, repeated or invalid Host header",
            InvalidContentLength => "invalid Content-Length",
            ConflictingContentLength => "conflicting Content-Length values",
            ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
            UnsupportedTransferCoding => "unsupported transfer coding",
            ChunkedNotFinal => "chunked is not the final transfer coding",
            InvalidTransferCoding => "chunked transfer coding with parameters",
            TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
            BodyTooLarge => "body too large",
            TruncatedBody => "body ended early",
            TruncatedHead => "connection closed inside the message head",
            InvalidChunk => "invalid chunk framing",
            ChunkSizeOverflow => "chunk size overflows",
            ChunkLineTooLong => "chunk size line too long",
            TrailersTooLarge => "trailer section too large",
            MissingBoundary => "multipart content type without a valid boundary",
            InvalidMultipart => "malformed multipart body",
            TruncatedMultipart => "multipart body ended before its final boundary",
            InvalidPartHeaders => "malformed multipart part headers",
            PartHeadersTooLarge => "multipart part headers too large",
            TooManyParts => "too many multipart parts",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// An error from parsing, framing or reading an HTTP message.
///
/// Protocol errors carry their [`ErrorKind`] and the byte offset at which they were found
/// (into the head for head errors, into the body stream for body errors). I/O errors keep the
/// underlying [`io::Error`] as their [`source`](std::error::Error::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol or a limit.
    Protocol {
        /// What went wrong.
        kind: ErrorKind,
        /// Where: a byte offset into the head, or into the body stream.
        offset: usize,
    },
    /// Reading or writing failed (this includes timeouts: [`io::ErrorKind::TimedOut`] and
    /// [`io::ErrorKind::WouldBlock`]).
    Io(io::Error),
}

impl Error {
    /// A protocol error of `kind` found at `offset`.
    pub fn protocol(kind: ErrorKind, offset: usize) -> Error {
        Error::Protocol { kind, offset }
    }

    /// The protocol error kind, or `None` for an I/O error.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Protocol { kind, .. } => Some(*kind),
            Error::Io(_) => None,
        }
    }

    /// The byte offset of a protocol error.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Protocol { offset, .. } => Some(*offset),
            Error::Io(_) => None,
        }
    }

    /// True when the error is a read or write timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock))
    }

    /// The status code a server answers with: the kind's status, 408 for a timeout, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Error::Protocol { kind, .. } => kind.status(),
            Error::Io(_) if self.is_timeout() => 408,
            Error::Io(_) => 400,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol { kind, offset } => write!(f, "{kind} (at byte {offset})"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol { .. } => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        // An io::Error that wraps one of ours (from a Read adapter) is unwrapped again.
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = e.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
