//! What the runtime's threads share: the engine every connection uses, and what only the
//! runtime reads (the connection table, the seats, the limits on connections, the stop
//! signals).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::connection::engine::Engine;
use crate::connection::Conn;
use crate::io::lock;
use crate::runtime::accepting::Accepting;
use crate::runtime::seats::Seats;
use crate::runtime::slab::Slab;

/// State shared by every thread of one server.
pub(crate) struct Shared {
    pub engine: Engine,
    pub slab: Mutex<Slab<Conn>>,
    pub seats: Seats,
    /// The listeners, with the first seat's worker and the acceptor thread.
    pub accepting: Accepting,
    pub workers: usize,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
    /// The threads must leave.
    pub exit: AtomicBool,
    /// The grace period of the shutdown is cut short.
    forced: AtomicBool,
    stop_requested: Mutex<bool>,
    stop_cv: Condvar,
}

impl Shared {
    pub(crate) fn new(
        engine: Engine,
        seats: Seats,
        workers: usize,
        max_connections: usize,
        shutdown_grace: Duration,
    ) -> Shared {
        Shared {
            engine,
            slab: Mutex::new(Slab::new()),
            seats,
            accepting: Accepting::default(),
            workers,
            max_connections,
            shutdown_grace,
            exit: AtomicBool::new(false),
            forced: AtomicBool::new(false),
            stop_requested: Mutex::new(false),
            stop_cv: Condvar::new(),
        }
    }

    /// Requests handled since startup: the workers' counts and the engine's (requests
    /// answered off the workers).
    pub(crate) fn requests(&self) -> u64 {
        self.engine.requests.load(Ordering::Relaxed) + self.seats.served()
    }

    /// True once a graceful shutdown has begun.
    pub(crate) fn stopping(&self) -> bool {
        self.engine.stopping()
    }

    /// True once the threads must leave.
    pub(crate) fn exiting(&self) -> bool {
        self.exit.load(Ordering::Relaxed)
    }

    /// Asks [`wait_for_stop_request`](Shared::wait_for_stop_request) to return.
    pub(crate) fn request_stop(&self) {
        *lock(&self.stop_requested) = true;
        self.stop_cv.notify_all();
    }

    /// Asks for a stop and ends the shutdown's grace period at once.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn force_stop(&self) {
        self.forced.store(true, Ordering::SeqCst);
        self.request_stop();
    }

    /// True once the grace period was cut short.
    pub(crate) fn forced(&self) -> bool {
        self.forced.load(Ordering::Relaxed)
    }

    /// Blocks until a stop is requested.
    pub(crate) fn wait_for_stop_request(&self) {
        let mut requested = lock(&self.stop_requested);
        while !*requested {
            requested = match self.stop_cv.wait(requested) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
    }
}
