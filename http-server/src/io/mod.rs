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

/// Waits once on `room` for a queue to make room (`None`: as long as it takes), the waiter
/// counted in the field `waiting` picks out meanwhile: whoever makes room wakes waiters only
/// when that count says there are some (no system call per item otherwise).
pub(crate) fn wait_counted<'a, T>(
    room: &std::sync::Condvar,
    mut st: std::sync::MutexGuard<'a, T>,
    waiting: fn(&mut T) -> &mut u32,
    timeout: Option<std::time::Duration>,
) -> std::sync::MutexGuard<'a, T> {
    *waiting(&mut st) += 1;
    let mut st = match timeout {
        None => room.wait(st).unwrap_or_else(|p| p.into_inner()),
        Some(d) => room.wait_timeout(st, d).map_or_else(|p| p.into_inner().0, |(g, _)| g),
    };
    *waiting(&mut st) -= 1;
    st
}

/// Locks a mutex, going on after a panic elsewhere (the data stays consistent: every
/// critical section in the server is panic-free).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
