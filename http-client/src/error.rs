//! The one error type of the client.

use std::fmt;
use std::io;

use http_utils::{ErrorKind, Headers};

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Opening the TCP connection (and the TLS handshake and proxy tunnel that follow it).
    Connect,
    /// Waiting for bytes of the response.
    Read,
    /// Sending the request.
    Write,
    /// The overall deadline of the request passed.
    Deadline,
    /// One try of the request ran past its own timeout
    /// ([`RequestBuilder::try_timeout`](crate::RequestBuilder::try_timeout)); a retry
    /// interceptor tries again when the overall deadline leaves time.
    Try,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Read => "read",
            TimeoutKind::Write => "write",
            TimeoutKind::Deadline => "overall deadline",
            TimeoutKind::Try => "per-try timeout",
        })
    }
}

/// Everything that can go wrong with a request.
///
/// Protocol errors of the response (a bad status line, a truncated body, broken chunking,
/// conflicting or malformed `Content-Length`, an oversize head) are [`Error::Protocol`], whose
/// [`kind`](Error::protocol_kind) says which. A response is never silently accepted when its
/// framing is in doubt.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed or cannot be requested (no host, bad port...).
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The URL's scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// What the request needs is in a feature this build of the client leaves out: an
    /// `https://` URL, a `wss://` WebSocket or an `https://` proxy without the `tls` feature.
    /// Nothing was sent.
    FeatureOff {
        /// The feature of http-toolkit-client that would bring it (`tls`).
        feature: &'static str,
        /// What needed it (`an https:// URL`...).
        needed_for: &'static str,
    },
    /// A request header name or value is invalid.
    InvalidHeader(http_utils::Error),
    /// The host name (of the server, or of the proxy) did not resolve.
    Resolve {
        /// The host that was looked up.
        host: String,
        /// True when it is the proxy's name.
        proxy: bool,
        /// The resolver's error.
        source: io::Error,
    },
    /// No connection could be opened to the server (or to the proxy).
    Connect {
        /// `host:port` that was dialled.
        addr: String,
        /// True when it was the proxy that could not be reached.
        proxy: bool,
        /// The last connection error.
        source: io::Error,
    },
    /// A timeout ran out.
    Timeout(TimeoutKind),
    /// Reading or writing failed.
    Io(io::Error),
    /// The response broke HTTP/1.1 framing or syntax.
    Protocol(http_utils::Error),
    /// The response head passed one of the client's limits ([`Limits`](crate::Limits), set
    /// with [`ClientBuilder::limits`](crate::ClientBuilder::limits)).
    ResponseHeadTooLarge {
        /// Which limit: `max_request_line` (the status line), `max_header_line`,
        /// `max_headers` or `max_head`.
        limit: &'static str,
        /// Its value: bytes, or fields for `max_headers`.
        max: usize,
        /// The parser's error kind (`RequestLineTooLong`, `HeaderLineTooLong`,
        /// `TooManyHeaders`, `HeadTooLarge`).
        kind: ErrorKind,
    },
    /// The server closed the connection before sending any byte of a response.
    ConnectionClosed,
    /// The TLS handshake or the TLS session failed (certificate not trusted, wrong name...).
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    Tls(rustls::Error),
    /// A TLS setting could not be built (unreadable PEM, a key that does not match...).
    TlsConfig(String),
    /// The proxy answered `407 Proxy Authentication Required`, to a request or to a tunnel.
    ProxyAuthRequired {
        /// The proxy, as `host:port`.
        proxy: String,
        /// The header fields of its answer (`Proxy-Authenticate` says which schemes it takes).
        headers: Headers,
        /// The body of its answer, as much of it as had arrived, at most 64 KiB.
        body: Vec<u8>,
    },
    /// The proxy refused to open a tunnel (`CONNECT`) with this status.
    ProxyConnect {
        /// The proxy, as `host:port`.
        proxy: String,
        /// The status it answered.
        status: u16,
    },
    /// A SOCKS proxy refused the tunnel, or its handshake failed: the proxy refused the
    /// credentials, could not reach the target, or did not speak SOCKS. The request was not
    /// sent.
    Socks {
        /// The proxy, as `host:port`.
        proxy: String,
        /// What went wrong (never an echo of the proxy's bytes).
        message: String,
    },
    /// The proxy URL is malformed or of an unsupported kind; or the proxy environment
    /// variable a request would use is (the message names the variable, and the request was
    /// not sent).
    InvalidProxy(String),
    /// More redirects than allowed.
    TooManyRedirects {
        /// The limit that was reached.
        max: u32,
    },
    /// A redirect could not be followed: a bad `Location` (unparsable, a scheme other than
    /// `http` and `https`, or a user name or password in it), or the redirect policy refused
    /// it.
    BadRedirect(String),
    /// A redirect from `https` to `http` was refused
    /// ([`ClientBuilder::allow_downgrade_redirects`](crate::ClientBuilder::allow_downgrade_redirects)
    /// allows it).
    InsecureRedirect {
        /// The `http` URL it led to, without credentials.
        url: String,
    },
    /// The server's answer to a WebSocket handshake is not a valid switch to the protocol
    /// (see [`HandshakeError`](http_utils::websocket::HandshakeError)).
    WebSocketHandshake {
        /// The status of the answer (101 for a switch with a bad accept key, extension...).
        status: u16,
        /// What was wrong with it.
        error: http_utils::websocket::HandshakeError,
    },
    /// The server broke the WebSocket protocol or passed a limit: the client sent the close
    /// code the error names ([`close_code`](http_utils::websocket::Error::close_code)) and
    /// ended the connection.
    WebSocket(http_utils::websocket::Error),
    /// The WebSocket is closed (or closing: this side's close frame went out), so nothing
    /// more can be sent or received.
    WebSocketClosed,
    /// A body read whole was larger than the cap.
    BodyTooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// A streamed request body was shorter or longer than its announced length.
    RequestBodyLength {
        /// The announced length.
        expected: u64,
        /// The bytes the stream gave (counting stops one past `expected`).
        actual: u64,
    },
    /// The server answered with an error status: from
    /// [`Response::error_for_status`](crate::Response::error_for_status), and from the text
    /// helpers ([`Client::get_text`](crate::Client::get_text),
    /// [`Client::post_form`](crate::Client::post_form)), which return the body alone.
    Status {
        /// The status code (400 or more).
        status: u16,
        /// The reason phrase.
        reason: String,
        /// The URL that answered (after redirects), without its credentials.
        url: String,
    },
    /// The response body is not JSON ([`Response::json`](crate::Response::json)): its
    /// `Content-Type` is neither `application/json` nor a `+json` type.
    NotJson {
        /// The `Content-Type` the server sent.
        content_type: String,
    },
    /// A JSON body could not be written (a request body, feature `json`) or read into the type
    /// asked for ([`Response::json`](crate::Response::json)).
    #[cfg(feature = "json")]
    Json(serde_json::Error),
    /// A value of the `http` crate has no counterpart here (feature `http`): an HTTP version
    /// other than 1.0 and 1.1, a header value that is not UTF-8.
    #[cfg(feature = "http")]
    Convert(http_utils::interop::ConvertError),
    /// The response body is not UTF-8 ([`Response::text`](crate::Response::text)).
    NotUtf8,
    /// The response body could not be decoded from its content coding: a corrupt gzip stream,
    /// one cut short, or bytes after its end.
    Decode {
        /// The content coding (`gzip`).
        coding: String,
        /// What the decoder reported.
        source: io::Error,
    },
    /// An HTTP/1.0 request with a streamed body of unknown length: HTTP/1.0 has no chunked
    /// encoding, so the body is read into memory to learn its length, and it was longer than
    /// the client's `Limits::max_body`.
    UnsizedRequestBody {
        /// The cap in bytes.
        limit: u64,
    },
    /// The request was tried more than once (by a retry interceptor such as
    /// [`intercept::Retry`](crate::intercept::Retry)) and the last try failed with `last`.
    /// Only requests tried more than once fail this way; the helpers ([`is_timeout`](Error::is_timeout),
    /// [`is_connect`](Error::is_connect), [`status`](Error::status), [`url`](Error::url),
    /// [`protocol_kind`](Error::protocol_kind)) look through to `last`, and
    /// [`last`](Error::last) gives it.
    Retried {
        /// How many tries were made.
        attempts: u32,
        /// The error of the last one.
        last: Box<Error>,
    },
    /// [`Response::into_upgraded`](crate::Response::into_upgraded) on a response that did not
    /// switch protocols (not a `101` to a request that asked for an upgrade).
    NotUpgraded {
        /// The response's status.
        status: u16,
    },
    /// The request needs something that this way of sending does not do (the one-thread
    /// interface, [`Multi`](crate::Multi), and SOCKS proxies, say); the message names it. The
    /// request was not sent.
    Unsupported(String),
}

impl Error {
    /// The error for a response head that broke `limits`, if `e` is one of their breaches.
    pub(crate) fn head_limit(e: &http_utils::Error, limits: &crate::Limits) -> Option<Error> {
        let kind = e.kind()?;
        let (limit, max) = match kind {
            ErrorKind::RequestLineTooLong => ("max_request_line", limits.max_request_line),
            ErrorKind::HeaderLineTooLong => ("max_header_line", limits.max_header_line),
            ErrorKind::TooManyHeaders => ("max_headers", limits.max_headers),
            ErrorKind::HeadTooLarge => ("max_head", limits.max_head),
            _ => return None,
        };
        Some(Error::ResponseHeadTooLarge { limit, max, kind })
    }

    /// How many times the request was tried: the count of an [`Error::Retried`], 1 for any
    /// other error (a request that failed before it was sent, with an invalid URL say,
    /// included).
    ///
    /// ```
    /// use http_client::{Error, TimeoutKind};
    /// let e = Error::Retried { attempts: 3, last: Box::new(Error::Timeout(TimeoutKind::Try)) };
    /// assert_eq!(e.attempts(), 3);
    /// assert!(e.is_timeout());
    /// assert!(matches!(e.last(), Error::Timeout(TimeoutKind::Try)));
    /// assert_eq!(Error::ConnectionClosed.attempts(), 1);
    /// ```
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Retried { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// The error of the last try: the `last` of an [`Error::Retried`], else this error.
    pub fn last(&self) -> &Error {
        match self {
            Error::Retried { last, .. } => last.last(),
            e => e,
        }
    }

    /// The protocol error kind of an [`Error::Protocol`] or [`Error::ResponseHeadTooLarge`].
    pub fn protocol_kind(&self) -> Option<ErrorKind> {
        match self.last() {
            Error::Protocol(e) => e.kind(),
            Error::ResponseHeadTooLarge { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// True for every timeout ([`Error::Timeout`], whichever phase ran out).
    pub fn is_timeout(&self) -> bool {
        matches!(self.last(), Error::Timeout(_))
    }

    /// True when no connection could be made: the name did not resolve, the server (or the
    /// proxy) could not be reached, a SOCKS proxy refused the tunnel, or connecting timed out
    /// ([`Error::Resolve`], [`Error::Connect`], [`Error::Socks`], [`Error::Timeout`] of
    /// [`TimeoutKind::Connect`]). A request that failed this way was never sent.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.last(),
            Error::Resolve { .. }
                | Error::Connect { .. }
                | Error::Socks { .. }
                | Error::Timeout(TimeoutKind::Connect)
        )
    }

    /// The status of an [`Error::Status`] (from
    /// [`Response::error_for_status`](crate::Response::error_for_status)), of a proxy's
    /// refusal ([`Error::ProxyConnect`], 407 for [`Error::ProxyAuthRequired`]), and of
    /// [`Error::NotUpgraded`].
    pub fn status(&self) -> Option<u16> {
        match self.last() {
            Error::Status { status, .. }
            | Error::ProxyConnect { status, .. }
            | Error::NotUpgraded { status }
            | Error::WebSocketHandshake { status, .. } => Some(*status),
            Error::ProxyAuthRequired { .. } => Some(407),
            _ => None,
        }
    }

    /// The URL the error is about, without its credentials: the one that answered an
    /// [`Error::Status`], the one refused by [`Error::InvalidUrl`], or the `http` URL of an
    /// [`Error::InsecureRedirect`].
    pub fn url(&self) -> Option<&str> {
        match self.last() {
            Error::Status { url, .. } | Error::InvalidUrl { url, .. } | Error::InsecureRedirect { url } => {
                Some(url)
            }
            _ => None,
        }
    }

    /// Maps an I/O error met while talking to a server: timeouts become [`Error::Timeout`] of
    /// `kind`, wrapped protocol and TLS errors come out again.
    pub(crate) fn from_io(e: io::Error, kind: TimeoutKind) -> Error {
        if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) && e.get_ref().is_none() {
            return Error::Timeout(kind);
        }
        Error::from(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            Error::UnsupportedScheme(s) => write!(f, "unsupported URL scheme {s:?}"),
            Error::FeatureOff { feature, needed_for } => write!(
                f,
                "{needed_for} needs the `{feature}` feature of http-toolkit-client, \
                 which this build leaves out"
            ),
            Error::InvalidHeader(e) => write!(f, "invalid request header: {e}"),
            Error::Resolve { host, proxy, source } => {
                let whose = if *proxy { "the proxy's host" } else { "host" };
                write!(f, "cannot resolve {whose} {host:?}: {source}")
            }
            Error::Connect { addr, proxy, source } => {
                let whose = if *proxy { "the proxy at " } else { "" };
                write!(f, "cannot connect to {whose}{addr}: {source}")
            }
            Error::Timeout(k) => write!(f, "{k} timeout"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Protocol(e) => write!(f, "malformed response: {e}"),
            Error::ResponseHeadTooLarge { limit, max, kind } => {
                let unit = if *kind == ErrorKind::TooManyHeaders { "fields" } else { "bytes" };
                write!(f, "the response head passes the client's limit Limits::{limit} ({max} {unit})")
            }
            Error::ConnectionClosed => f.write_str("connection closed before a response"),
            #[cfg(feature = "tls")]
            Error::Tls(e) => write!(f, "TLS error: {e}"),
            Error::TlsConfig(s) => write!(f, "TLS configuration error: {s}"),
            Error::ProxyAuthRequired { proxy, .. } => {
                write!(f, "proxy {proxy} requires authentication (407)")
            }
            Error::ProxyConnect { proxy, status } => {
                write!(f, "proxy {proxy} refused the tunnel with status {status}")
            }
            Error::Socks { proxy, message } => write!(f, "SOCKS proxy {proxy}: {message}"),
            Error::InvalidProxy(s) => write!(f, "invalid proxy: {s}"),
            Error::TooManyRedirects { max } => write!(f, "too many redirects (more than {max})"),
            Error::BadRedirect(s) => write!(f, "cannot follow redirect: {s}"),
            Error::InsecureRedirect { url } => write!(
                f,
                "refused a redirect from https to plain http ({url}); \
                 ClientBuilder::allow_downgrade_redirects(true) allows it"
            ),
            Error::BodyTooLarge { limit } => write!(f, "response body larger than {limit} bytes"),
            Error::RequestBodyLength { expected, actual } => {
                write!(f, "request body stream gave {actual} bytes, announced {expected}")
            }
            Error::Status { status, reason, url } => write!(f, "{url} answered {status} {reason}"),
            Error::NotJson { content_type } => write!(f, "the response is {content_type:?}, not JSON"),
            #[cfg(feature = "json")]
            Error::Json(e) => write!(f, "JSON body: {e}"),
            #[cfg(feature = "http")]
            Error::Convert(e) => e.fmt(f),
            Error::NotUtf8 => f.write_str("response body is not UTF-8"),
            Error::Decode { coding, source } => write!(f, "cannot decode the {coding} body: {source}"),
            Error::UnsizedRequestBody { limit } => write!(
                f,
                "an HTTP/1.0 request body of unknown length must be buffered, and it is larger than {limit} bytes"
            ),
            Error::NotUpgraded { status } => {
                write!(f, "the server answered {status}, not 101 Switching Protocols to an upgrade request")
            }
            Error::Retried { attempts, last } => write!(f, "{last} (the last of {attempts} tries)"),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
            Error::WebSocketHandshake { status, error } => {
                write!(f, "WebSocket handshake refused (status {status}): {error}")
            }
            Error::WebSocket(e) => e.fmt(f),
            Error::WebSocketClosed => f.write_str("the WebSocket is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidHeader(e) | Error::Protocol(e) => Some(e),
            Error::Resolve { source, .. } | Error::Connect { source, .. } => Some(source),
            Error::Io(e) | Error::Decode { source: e, .. } => Some(e),
            #[cfg(feature = "tls")]
            Error::Tls(e) => Some(e),
            Error::Retried { last, .. } => Some(&**last),
            Error::WebSocketHandshake { error, .. } => Some(error),
            Error::WebSocket(e) => Some(e),
            #[cfg(feature = "json")]
            Error::Json(e) => Some(e),
            #[cfg(feature = "http")]
            Error::Convert(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        let Some(inner) = e.get_ref() else { return Error::Io(e) };
        if inner.is::<Error>() {
            return *e.into_inner().expect("checked above").downcast::<Error>().expect("checked above");
        }
        if inner.is::<http_utils::Error>() {
            let inner = e.into_inner().expect("checked above");
            return Error::Protocol(*inner.downcast::<http_utils::Error>().expect("checked above"));
        }
        #[cfg(feature = "tls")]
        if inner.is::<rustls::Error>() {
            return Error::Tls(*e.into_inner().expect("checked above").downcast().expect("checked above"));
        }
        Error::Io(e)
    }
}

impl From<http_utils::Error> for Error {
    fn from(e: http_utils::Error) -> Error {
        match e {
            http_utils::Error::Io(io) => Error::from(io),
            other => Error::Protocol(other),
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Io(e) => e,
            Error::Timeout(_) => io::Error::new(io::ErrorKind::TimedOut, e),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
