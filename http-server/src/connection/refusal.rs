//! The server's own answers to requests it will not serve: a status and its reason phrase
//! ([`Refusal`]), written as a complete error page with `Connection: close`.

/// A status the server answers with on its own, and the reason it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub reason: &'static str,
}

impl Refusal {
    /// A `Host` field missing, repeated or invalid.
    pub(crate) const BAD_HOST: Refusal = Refusal { status: 400, reason: "missing, repeated or invalid Host" };
    /// The head or the body did not arrive in time.
    pub(crate) const TIMED_OUT: Refusal = Refusal { status: 408, reason: "Request Timeout" };
    /// A body over the limit.
    pub(crate) const TOO_LARGE: Refusal = Refusal { status: 413, reason: "Content Too Large" };
    /// An `Expect` other than `100-continue`.
    pub(crate) const EXPECTATION: Refusal = Refusal { status: 417, reason: "Expectation Failed" };
    /// Every worker busy and no room to wait, or the bodies being read together would pass
    /// the server's body budget.
    pub(crate) const BUSY: Refusal = Refusal { status: 503, reason: "Service Unavailable" };

    /// The answer to a parse, framing or body error: its status and the description of its
    /// kind (never the peer's bytes).
    pub(crate) fn of(e: &http_utils::Error) -> Refusal {
        Refusal { status: e.status(), reason: e.kind().map_or("Bad Request", |k| k.description()) }
    }

    /// True for the refusal of a malformed request.
    pub(crate) fn is_bad_request(self) -> bool {
        self.status == 400
    }
}
