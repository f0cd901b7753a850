//! Shutdown on SIGTERM and SIGINT (Unix): the first signal asks for the graceful shutdown,
//! a second one ends its grace period at once, and if the shutdown has still not finished
//! [`FORCE_EXIT_AFTER`] later (a handler that does not return), the process exits with
//! status 1.
//!
//! ```text
//!   SIGTERM/SIGINT ──► watcher thread ──1st──► Shared::request_stop (run() starts shutdown)
//!                                      ──2nd──► Shared::force (grace over) ── still running
//!                                               after FORCE_EXIT_AFTER ──► exit(1)
//! ```
//!
//! The handlers are signal-hook's; this module only reads what they report, on a thread of
//! its own. On other systems there are no signals to watch: [`Watch::start`] does nothing.

use std::io;
use std::sync::Arc;
#[cfg(unix)]
use std::sync::{Condvar, Mutex};
#[cfg(unix)]
use std::time::Duration;

use crate::runtime::shared::Shared;

/// How long the process waits after the second signal before it exits regardless.
#[cfg(unix)]
const FORCE_EXIT_AFTER: Duration = Duration::from_secs(2);

/// The signal watcher of one running server.
pub(super) struct Watch {
    #[cfg(unix)]
    inner: Option<Inner>,
}

#[cfg(unix)]
struct Inner {
    handle: signal_hook::iterator::Handle,
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: std::thread::JoinHandle<()>,
}

impl Watch {
    /// A watcher that does nothing.
    pub(super) fn none() -> Watch {
        Watch {
            #[cfg(unix)]
            inner: None,
        }
    }

    /// Starts watching SIGTERM and SIGINT for `shared` (on Unix; elsewhere nothing).
    ///
    /// # Errors
    /// Errors registering the handlers or starting the thread.
    #[cfg(unix)]
    pub(super) fn start(shared: Arc<Shared>) -> io::Result<Watch> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let handle = signals.handle();
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let finished = done.clone();
        let thread = std::thread::Builder::new().name("http-signals".to_owned()).spawn(move || {
            let mut seen = 0u32;
            for _ in signals.forever() {
                seen += 1;
                if seen == 1 {
                    shared.request_stop();
                    continue;
                }
                shared.force_stop();
                let (lock, cv) = &*finished;
                let guard = crate::io::lock(lock);
                let (guard, _) = cv
                    .wait_timeout_while(guard, FORCE_EXIT_AFTER, |d| !*d)
                    .unwrap_or_else(|p| p.into_inner());
                if !*guard {
                    std::process::exit(1);
                }
                return;
            }
        })?;
        Ok(Watch { inner: Some(Inner { handle, done, thread }) })
    }

    /// Starts watching (nothing to watch on this system).
    ///
    /// # Errors
    /// None.
    #[cfg(not(unix))]
    pub(super) fn start(shared: Arc<Shared>) -> io::Result<Watch> {
        let _ = shared;
        Ok(Watch::none())
    }

    /// Stops watching, once the shutdown is over; the signals' default actions do not come
    /// back while other watchers of the process remain.
    pub(super) fn finish(self) {
        #[cfg(unix)]
        if let Some(inner) = self.inner {
            let (lock, cv) = &*inner.done;
            *crate::io::lock(lock) = true;
            cv.notify_all();
            inner.handle.close();
            let _ = inner.thread.join();
        }
    }
}
