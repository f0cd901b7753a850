//! A running server: starting it, its handle, the graceful shutdown, and the stopper.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::io::lock;
use crate::io::poller::AcceptPoll;
use crate::runtime::acceptor::{acceptor_main, listener_key};
use crate::runtime::monitor::{close_taken, monitor_main};
use crate::runtime::pool::worker_main;
use crate::runtime::shared::Shared;
use crate::server::signals::Watch;
use crate::server::systemd::notify;

use crate::server::Server;

/// How long a shutdown keeps connections that were accepted but have not sent a byte yet
/// (their request may be on its way), at most the grace period.
const UNHEARD_WAIT: Duration = Duration::from_secs(1);

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

struct Threads {
    acceptor: Option<JoinHandle<()>>,
    others: Vec<JoinHandle<()>>,
    signals: Watch,
}

/// A running server: its address and counters, the server's whole API (it dereferences to
/// [`Server`]), and a graceful [`shutdown`](ServerHandle::shutdown).
pub struct ServerHandle {
    server: Server,
    threads: Mutex<Option<Threads>>,
}

impl std::ops::Deref for ServerHandle {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Server {
    /// Runs the server on this thread until [`Stopper::stop`] is called (or a signal comes,
    /// with [`ServerBuilder::shutdown_on_signals`](crate::ServerBuilder::shutdown_on_signals)),
    /// then shuts down gracefully.
    ///
    /// # Errors
    /// Errors starting the threads.
    pub fn run(self) -> io::Result<()> {
        self.spawn()?.wait();
        Ok(())
    }

    /// Runs the server on this thread until SIGTERM or SIGINT (or [`Stopper::stop`]), then
    /// shuts down gracefully and returns, so that `main` can return and the process exit
    /// with status 0: what `docker stop`, `systemctl stop` and a rolling deploy expect. A
    /// second signal ends the grace period at once (see
    /// [`ServerBuilder::shutdown_on_signals`](crate::ServerBuilder::shutdown_on_signals)).
    /// On systems without Unix signals it is [`run`](Server::run).
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Response, Server};
    /// let server = Server::builder().port(8080).build()?;
    /// server.add_resource("/", |_req, _args| Response::text("Hello, world!"));
    /// server.run_until_signal()
    /// # }
    /// ```
    ///
    /// # Errors
    /// Errors registering the signal handlers or starting the threads.
    pub fn run_until_signal(mut self) -> io::Result<()> {
        self.signals = true;
        self.run()
    }

    /// Starts the server's threads and returns a handle to it. Dropping the handle shuts the
    /// server down.
    ///
    /// # Errors
    /// Errors starting the threads.
    pub fn spawn(mut self) -> io::Result<ServerHandle> {
        let shared = self.shared.clone();
        let mut listeners = std::mem::take(&mut self.listeners);
        if listeners.is_empty() {
            return Err(io::Error::other("the server was already started"));
        }
        // The first seat's worker accepts (see `runtime::acceptor`).
        for (i, l) in listeners.iter_mut().enumerate() {
            shared.engine.pollers[0].add(l.source(), listener_key(i))?;
        }
        let (accept_poll, waker) = AcceptPoll::waker_only()?;
        shared.accepting.start(listeners, waker);
        if let Some(hook) = shared.engine.registry.snapshot().startup_hook.clone() {
            hook();
        }
        let mut threads = Threads { acceptor: None, others: Vec::new(), signals: Watch::none() };
        let spawn =
            |name: String, f: Box<dyn FnOnce() + Send>| std::thread::Builder::new().name(name).spawn(f);
        let started = (|| -> io::Result<()> {
            // Signals are watched before anything is served: a stop asked for right after a
            // first answer is a graceful one, never the signal's default action.
            if self.signals {
                threads.signals = Watch::start(shared.clone())?;
            }
            for id in 0..shared.workers {
                let s = shared.clone();
                threads
                    .others
                    .push(spawn(format!("http-worker-{id}"), Box::new(move || worker_main(&s, id)))?);
            }
            let s = shared.clone();
            threads.others.push(spawn("http-monitor".to_owned(), Box::new(move || monitor_main(&s)))?);
            let s = shared.clone();
            threads.acceptor =
                Some(spawn("http-acceptor".to_owned(), Box::new(move || acceptor_main(&s, accept_poll)))?);
            Ok(())
        })();
        let handle = ServerHandle { server: self, threads: Mutex::new(Some(threads)) };
        started?;
        notify("READY=1");
        Ok(handle)
    }
}

impl ServerHandle {
    /// Blocks until a stop is asked for ([`Stopper::stop`], or a signal with
    /// [`ServerBuilder::shutdown_on_signals`](crate::ServerBuilder::shutdown_on_signals)), then
    /// shuts down gracefully.
    pub fn wait(&self) {
        self.server.shared.wait_for_stop_request();
        self.shutdown();
    }

    /// Stops gracefully: stops accepting (connections the kernel had already queued are
    /// still taken and served), closes idle connections and streams, tells upgraded
    /// connections ([`Upgraded::is_server_stopping`](crate::Upgraded::is_server_stopping)),
    /// lets requests in flight and upgraded connections finish within the grace period
    /// (then interrupts their waits), and joins every thread. A connection accepted but
    /// silent so far is given up to a second for its request to arrive. A handler that never
    /// returns keeps this waiting. Calling it again does nothing.
    pub fn shutdown(&self) {
        let Some(mut threads) = lock(&self.threads).take() else {
            return;
        };
        notify("STOPPING=1");
        let shared = &self.server.shared;
        shared.engine.stop.store(true, Ordering::SeqCst);
        shared.request_stop();
        shared.accepting.wake();
        if let Some(a) = threads.acceptor.take() {
            let _ = a.join();
        }
        let mut idle = Vec::new();
        let mut wake = Vec::new();
        lock(&shared.slab).close_parked(&mut idle, &mut wake);
        close_taken(idle, Instant::now());
        // WebSockets start their closing handshake (1001).
        for key in wake {
            shared.engine.poller_of(key).resume(key);
        }
        let upgrades = &shared.engine.upgrades;
        upgrades.stop_all();
        let start = Instant::now();
        let grace_end = start + shared.shutdown_grace;
        let unheard_end = start + UNHEARD_WAIT.min(shared.shutdown_grace);
        let wait_empty = |until: Instant| {
            while (lock(&shared.slab).live() > 0 || upgrades.len() > 0)
                && Instant::now() < until
                && !shared.forced()
            {
                if Instant::now() >= unheard_end {
                    let mut silent = Vec::new();
                    lock(&shared.slab).take_parked_where(|c| c.unheard(), &mut silent);
                    close_taken(silent, Instant::now());
                }
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
        threads.signals.finish();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
