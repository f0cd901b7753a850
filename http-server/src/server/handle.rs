//! A running server: its handle, the graceful shutdown, and the stopper.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::io::lock;
use crate::runtime::monitor::close_taken;
use crate::runtime::shared::Shared;

use crate::server::Server;

/// Asks a running server to stop; see [`Server::stopper`].
#[derive(Clone)]
pub struct Stopper {
    pub(super) shared: Arc<Shared>,
}

impl Stopper {
    /// Asks the server to shut down gracefully; returns at once.
    pub fn stop(&self) {
        self.shared.request_stop();
    }
}

pub(super) struct Threads {
    pub(super) acceptor: Option<JoinHandle<()>>,
    pub(super) others: Vec<JoinHandle<()>>,
}

/// A running server: its address and counters, the server's whole API (it dereferences to
/// [`Server`]), and a graceful [`shutdown`](ServerHandle::shutdown).
pub struct ServerHandle {
    pub(super) server: Server,
    pub(super) waker: mio::Waker,
    pub(super) threads: Mutex<Option<Threads>>,
}

impl std::ops::Deref for ServerHandle {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl ServerHandle {
    /// Stops gracefully: stops accepting, closes idle connections and streams, tells upgraded
    /// connections ([`Upgraded::is_server_stopping`](crate::Upgraded::is_server_stopping)),
    /// lets requests in flight and upgraded connections finish within the grace period
    /// (then interrupts their waits), and joins every thread.
    /// A handler that never returns keeps this waiting. Calling it again does nothing.
    pub fn shutdown(&self) {
        let Some(mut threads) = lock(&self.threads).take() else {
            return;
        };
        let shared = &self.server.shared;
        shared.engine.stop.store(true, Ordering::SeqCst);
        shared.request_stop();
        let _ = self.waker.wake();
        if let Some(a) = threads.acceptor.take() {
            let _ = a.join();
        }
        let mut idle = Vec::new();
        lock(&shared.slab).close_parked(&mut idle);
        close_taken(idle, Instant::now());
        let upgrades = &shared.engine.upgrades;
        upgrades.stop_all();
        let grace_end = Instant::now() + shared.shutdown_grace;
        let wait_empty = |until: Instant| {
            while (lock(&shared.slab).live() > 0 || upgrades.len() > 0) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        wait_empty(grace_end);
        shared.engine.wire.abort.store(true, Ordering::SeqCst);
        upgrades.abort_all();
        wait_empty(Instant::now() + Duration::from_millis(500));
        shared.exit.store(true, Ordering::SeqCst);
        for p in &shared.engine.pollers {
            p.wake();
        }
        shared.seats.wake_all();
        for t in &threads.others {
            t.thread().unpark();
        }
        for t in threads.others {
            let _ = t.join();
        }
        let mut rest = Vec::new();
        lock(&shared.slab).close_rest(&mut rest);
        close_taken(rest, Instant::now());
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
