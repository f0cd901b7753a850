//! The bottom room: bytes on sockets. Transports (TCP, Unix sockets, TLS), readiness
//! (mio pollers), the worker's read buffer and the blocking wire a handler reads and
//! writes through (with its deadlines and minimum rates), response head writing, the coarse
//! clock, and the timeouts themselves.
//!
//! ```text
//!   Transport ──listen──► Listener ──accept──► Connection (non-blocking, a mio source)
//!                                                  │ registered with a seat's Poller
//!   ReadBuf ◄── read ───────────────────────────────┤
//!   Wire (for handler code: waits on a private Solo poller, bounded by Timeouts) ◄┘
//! ```
//! Nothing here knows about requests, handlers or threads.

pub(crate) mod attempt;
pub(crate) mod budget;
pub(crate) mod clock;
pub(crate) mod head;
pub(crate) mod poller;
pub(crate) mod proxy_header;
pub(crate) mod proxy_protocol;
pub(crate) mod timeouts;
#[cfg(feature = "tls")]
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod upgraded;
pub(crate) mod wire;

/// Locks a mutex, going on after a panic elsewhere (the data stays consistent: every
/// critical section in the server is panic-free).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
