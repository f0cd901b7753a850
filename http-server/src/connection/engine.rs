//! What every connection's machine shares: the handler's view of the server, the rules of
//! the wire, the registry, the engine's own settings and counters, the request queue and
//! the seats' pollers. The runtime owns one and lends it to each worker.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

pub(crate) use crate::io::budget::Budget;
use std::sync::Arc;
use std::time::Duration;

use crate::connection::queue::DispatchQueue;
use crate::handler::registry::Registry;
use crate::handler::site::Site;
use crate::io::poller::Poller;
use crate::io::upgraded::Upgrades;
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
    /// Connections handed to upgrade handlers, to tell them of a shutdown.
    pub upgrades: Arc<Upgrades>,
}

impl Engine {
    /// True once a graceful shutdown has begun.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The poller of the seat that connection `key` belongs to.
    pub(crate) fn poller_of(&self, key: u64) -> &Arc<Poller> {
        let slot = (key & 0xffff_ffff) as usize;
        let n = self.pollers.len();
        // Looked up for every request: a mask rather than a division for the usual count of
        // seats (a power of two), which gives the same index.
        let i = if n.is_power_of_two() { slot & (n - 1) } else { slot % n };
        &self.pollers[i]
    }
}
