//! What handler code reads of the server it runs in: names, the protocol, the clock, and
//! the responders whose deadlines are watched.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_utils::Version;

use crate::handler::proxies::TrustedProxies;
use crate::handler::responder::Pending;
use crate::handler::state::StateMap;
use crate::io::budget::Budget;
use crate::io::clock::Clock;
use crate::io::lock;

/// The server as a handler sees it (fixed at build, but for the clock and the responders).
pub(crate) struct Site {
    pub server_name: String,
    pub location: String,
    /// The protocol version of responses.
    pub protocol: Version,
    pub responder_timeout: Duration,
    pub clock: Clock,
    /// The peers whose forwarding headers are believed.
    pub trusted: TrustedProxies,
    /// Answers awaited from responders, for their deadlines.
    responders: Mutex<Vec<Arc<Pending>>>,
    /// Long-lived answers (responders waiting, streams, upgraded connections), one share
    /// each, up to `max_streams`.
    pub streams: Arc<Budget>,
    /// The application's values ([`ServerBuilder::state`](crate::ServerBuilder::state)).
    pub state: StateMap,
}

impl Site {
    pub(crate) fn new(
        server_name: String,
        location: String,
        protocol: Version,
        responder_timeout: Duration,
        max_streams: usize,
    ) -> Site {
        Site {
            server_name: crate::io::head::cleaned(server_name.into()).into_owned(),
            location,
            protocol,
            responder_timeout,
            clock: Clock::new(),
            trusted: TrustedProxies::new(),
            responders: Mutex::new(Vec::new()),
            streams: Budget::new(max_streams as u64),
            state: StateMap::default(),
        }
    }

    /// Watches a responder's deadline.
    pub(crate) fn track_responder(&self, pending: Arc<Pending>) {
        lock(&self.responders).push(pending);
    }

    /// Answers 503 for responders whose deadline passed, and forgets settled ones.
    pub(crate) fn expire_responders(&self, now: Instant) {
        let mut list = lock(&self.responders);
        if !list.is_empty() {
            list.retain(|p| !p.expire(now));
        }
    }
}
