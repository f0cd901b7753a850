//! What the log and error hooks are told.

use std::fmt;
use std::io;
use std::time::Duration;

use http_utils::Request;

use crate::io::transport::PeerAddr;

/// Why a connection was closed. Keep-alive is the absence of a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer closed its side between requests.
    PeerClosed,
    /// The peer closed its side in the middle of a request head.
    TruncatedHead,
    /// Reading failed.
    ReadFailed,
    /// Writing failed or timed out.
    WriteFailed,
    /// A request head did not arrive within the header timeout.
    HeaderTimeout,
    /// The connection stayed idle longer than the keep-alive timeout.
    IdleTimeout,
    /// The request asked for it (`Connection: close`, or HTTP/1.0 without keep-alive).
    RequestedByClient,
    /// The handler asked for it ([`Response::with_close`](crate::Response::with_close)).
    RequestedByHandler,
    /// The response body is delimited by closing the connection.
    ResponseUntilClose,
    /// The request was malformed or its framing is in doubt.
    BadRequest,
    /// The request body was not read and could not be skipped.
    UnreadBody,
    /// Reading the request body failed (too large, malformed, timed out).
    BodyFailed,
    /// The connection served its maximum number of requests.
    RequestLimit,
    /// The server is shutting down.
    ShuttingDown,
    /// A handler panicked after writing part of its response.
    HandlerPanicked,
    /// The TLS handshake failed or timed out.
    HandshakeFailed,
    /// The server is at its connection limit.
    Overloaded,
    /// Every worker was busy and the queue of waiting requests was full.
    Busy,
    /// The connection switched protocols (`101`) and went to the upgrade handler.
    Upgraded,
    /// The client went away (closed or half-closed its connection) while its answer was
    /// awaited or streamed.
    ClientGone,
    /// A WebSocket ended: its closing handshake ran (or timed out), or the peer broke the
    /// protocol and was sent the close code for it.
    WebSocketEnded,
}

/// One finished request, as the log hook (the egg's `http:log-hook`) sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct LogRecord<'a> {
    /// The request (its body is whatever the handler left there).
    pub request: &'a Request,
    /// The peer's address (the egg passes the IP address).
    pub peer: &'a PeerAddr,
    /// The status sent.
    pub status: u16,
    /// Body bytes sent (the head not counted): the length of a body of known length (bytes,
    /// a file, a range, a reader with a length) once it is out, 0 when its write failed; what
    /// a handler's writer wrote; and for a body of unknown length (a reader, a stream fed
    /// through a [`Responder`](crate::Responder)) the payload bytes that went out, counted
    /// as they went (chunk framing not included), also when the connection failed midway.
    pub bytes: u64,
    /// From the complete request head to the response handed to the connection (a body
    /// the server sends from memory, a file or a reader may still be on its way).
    pub duration: Duration,
    /// Why the connection closes after this response; `None` when it is kept.
    pub close: Option<CloseReason>,
    /// True for the record written when a stream fed through a
    /// [`Responder`](crate::Responder) begins (its head is out; `bytes` is 0): such a stream
    /// may last for hours, so it is logged when it starts and again, with this false and
    /// its bytes, when it ends. False for every other record.
    pub stream_start: bool,
}

/// Something went wrong that the error hook (the egg's `http:error-hook`) should know.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorEvent<'a> {
    /// A handler panicked; the client got a 500 (or, if the handler had already written part
    /// of its response, the connection was closed) and the server keeps serving.
    HandlerPanic {
        /// The request being handled.
        request: &'a Request,
        /// The peer.
        peer: &'a PeerAddr,
        /// The panic message.
        message: &'a str,
    },
    /// Accepting a connection failed; the acceptor backs off and tries again.
    Accept {
        /// The error.
        error: &'a io::Error,
    },
    /// A TLS handshake failed or timed out.
    Handshake {
        /// The peer.
        peer: &'a PeerAddr,
        /// The error.
        error: &'a io::Error,
    },
    /// An upgrade handler (see [`Response::upgrade`](crate::Response::upgrade)) panicked;
    /// its connection was closed.
    UpgradePanic {
        /// The peer.
        peer: &'a PeerAddr,
        /// The protocol.
        protocol: &'a str,
        /// The panic message.
        message: &'a str,
    },
}

impl fmt::Display for ErrorEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorEvent::HandlerPanic { request, peer, message } => {
                write!(
                    f,
                    "handler for {} {} from {peer} panicked: {message}",
                    request.method(),
                    request.url()
                )
            }
            ErrorEvent::Accept { error } => write!(f, "accept failed: {error}"),
            ErrorEvent::Handshake { peer, error } => write!(f, "TLS handshake with {peer} failed: {error}"),
            ErrorEvent::UpgradePanic { peer, protocol, message } => {
                write!(f, "the {protocol} handler for {peer} panicked: {message}")
            }
        }
    }
}

impl ErrorEvent<'_> {
    /// Writes the event to the `log` crate at its level: handler and upgrade panics and
    /// accept failures are errors, failed handshakes (often scanners and impatient clients)
    /// are debug messages.
    pub(crate) fn log(&self) {
        match self {
            ErrorEvent::Handshake { .. } => log::debug!(target: "http_server", "{self}"),
            _ => log::error!(target: "http_server", "{self}"),
        }
    }
}

/// One line per request, as the debug switch prints it: the peer, the request line, the
/// status, the body bytes, the time taken, and why the connection closes (if it does).
impl fmt::Display for LogRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{} {} {}\" {} {} {:.3}ms",
            self.peer,
            self.request.method(),
            self.request.url(),
            self.request.version().as_str(),
            self.status,
            self.bytes,
            self.duration.as_secs_f64() * 1000.0
        )?;
        if let Some(reason) = self.close {
            write!(f, " close={reason:?}")?;
        }
        Ok(())
    }
}
