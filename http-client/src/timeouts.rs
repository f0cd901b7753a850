//! The timeouts of a client.

use std::time::Duration;

/// The timeouts of a client.
///
/// Precedence: every wait is bounded by its own phase timeout, and no wait runs past the
/// overall deadline. So the effective bound of a wait is the smaller of the phase timeout and
/// the time left until the deadline, and the error names the one that ran out
/// ([`TimeoutKind`](crate::TimeoutKind)).
///
/// - `connect` bounds connecting to a host: its name lookup and the attempts at all of its
///   addresses together (tried as Happy Eyeballs does: the next address 250 ms after the one
///   before, the first to connect wins), and also the proxy `CONNECT` exchange, the SOCKS
///   handshake and the TLS handshake (each wait within them);
/// - `read` bounds each wait for response bytes (the head and every read of the body): it is
///   an idle timeout, not a total;
/// - `write` bounds each wait while sending the request;
/// - `overall` is a deadline for the whole request: connecting, sending, redirects, and reading
///   the response body to its end.
///
/// `None` means no bound. Looking up a host name counts as connecting: the system resolver
/// has no timeout of its own, so the lookup runs on a helper thread that the connecting thread
/// waits for no longer than the connect timeout (a lookup that takes longer is left to finish
/// on its own, and its answer is dropped). With neither a connect timeout nor a deadline the
/// lookup runs on the calling thread; IP addresses are never looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting (name lookup, TCP, proxy tunnel, TLS handshake). Default 30 s.
    pub connect: Option<Duration>,
    /// Each wait for response bytes. Default 30 s.
    pub read: Option<Duration>,
    /// Each wait while sending. Default 30 s.
    pub write: Option<Duration>,
    /// The whole request, body included. Default none.
    pub overall: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        let t = Some(Duration::from_secs(30));
        Timeouts { connect: t, read: t, write: t, overall: None }
    }
}
