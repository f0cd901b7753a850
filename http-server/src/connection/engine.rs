//! What every connection's machine shares: the handler's view of the server, the rules of
//! the wire, the registry, the engine's own settings and counters, the request queue and
//! the seats' pollers. The runtime owns one and lends it to each worker.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::connection::queue::DispatchQueue;
use crate::handler::registry::Registry;
use crate::handler::site::Site;
use crate::io::poller::Poller;
use crate::io::wire::WireRules;

/// The engine's settings.
pub(crate) struct Settings {
    pub max_requests_per_connection: u32,
    /// Handlers running at once (the egg's request-count limit).
    pub request_count_limit: usize,
    /// How long a complete request may wait for a slot.
    pub queue_wait: Duration,
    #[cfg_attr(not(feature = "gzip"), allow(dead_code))]
    pub compression: bool,
}

/// A quantity that requests take shares of, up to a cap: the memory of buffered bodies
/// (bytes), the handlers streaming their body (one each).
pub(crate) struct Budget {
    used: AtomicU64,
    cap: u64,
}

impl Budget {
    pub(crate) fn new(cap: u64) -> Arc<Budget> {
        Arc::new(Budget { used: AtomicU64::new(0), cap })
    }
}

/// A request's share of a [`Budget`], given back when it is dropped, however the request
/// ends (answered, or its connection closed while it waited).
pub(crate) struct Share {
    budget: Arc<Budget>,
    amount: u64,
}

impl Share {
    pub(crate) fn new(budget: &Arc<Budget>) -> Share {
        Share { budget: budget.clone(), amount: 0 }
    }

    /// Takes `n` more of the budget; false (taking nothing) when that would pass its cap.
    pub(crate) fn grow(&mut self, n: u64) -> bool {
        let cap = self.budget.cap;
        let taken = self
            .budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| u.checked_add(n).filter(|&t| t <= cap));
        if taken.is_ok() {
            self.amount += n;
        }
        taken.is_ok()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.amount, Ordering::AcqRel);
    }
}

/// State every connection of one server shares.
pub(crate) struct Engine {
    pub site: Site,
    pub wire: WireRules,
    pub registry: Registry,
    pub settings: Settings,
    /// One poller per seat; a connection belongs to the seat of its slot ([`Engine::poller_of`]).
    pub pollers: Vec<Arc<Poller>>,
    /// Complete requests waiting for a slot.
    pub queue: DispatchQueue,
    /// Handlers running now.
    pub active: AtomicUsize,
    /// Handlers reading their body from the socket (a share of one each).
    pub streaming: Arc<Budget>,
    /// Requests handled since startup.
    pub requests: AtomicU64,
    /// A graceful shutdown has begun.
    pub stop: AtomicBool,
    /// What request bodies read by the server may take in memory together.
    pub body_budget: Arc<Budget>,
}

impl Engine {
    /// True once a graceful shutdown has begun.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The poller of the seat that connection `key` belongs to.
    pub(crate) fn poller_of(&self, key: u64) -> &Arc<Poller> {
        &self.pollers[(key & 0xffff_ffff) as usize % self.pollers.len()]
    }
}
