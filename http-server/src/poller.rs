//! Readiness: the epoll set where idle connections are parked, and waits on one descriptor.
//!
//! Every connection is registered one-shot: when it becomes ready the kernel reports it once
//! and disarms it, so exactly one worker picks it up. The worker re-arms it when it parks the
//! connection again. A key (slot index and generation) travels with each registration, so a
//! report for a connection that has meanwhile been closed is recognised and ignored.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};

/// What a parked connection waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

/// The key reported for the wake-up descriptor.
pub(crate) const WAKE_KEY: u64 = u64::MAX;

/// A one-shot epoll set with a wake-up descriptor.
pub(crate) struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
}

fn flags(interest: Interest) -> EventFlags {
    let base = EventFlags::ONESHOT | EventFlags::RDHUP;
    match interest {
        Interest::Read => base | EventFlags::IN,
        Interest::Write => base | EventFlags::OUT,
    }
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // Level-triggered and never drained: once woken, every waiter sees it.
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE_KEY), EventFlags::IN)?;
        Ok(Poller { epoll, wake })
    }

    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> io::Result<()> {
        Ok(epoll::add(&self.epoll, fd, EventData::new_u64(key), flags(interest))?)
    }

    pub(crate) fn rearm(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> io::Result<()> {
        Ok(epoll::modify(&self.epoll, fd, EventData::new_u64(key), flags(interest))?)
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) {
        let _ = epoll::delete(&self.epoll, fd);
    }

    /// Waits for ready connections and appends their keys to `keys` (which is cleared first).
    pub(crate) fn wait(&self, events: &mut Vec<Event>, keys: &mut Vec<u64>) -> io::Result<()> {
        events.clear();
        match epoll::wait(&self.epoll, rustix::buffer::spare_capacity(events), None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        keys.clear();
        keys.extend(events.iter().map(|e| e.data.u64()));
        Ok(())
    }

    /// Wakes every waiter, now and forever after (used once, to stop).
    pub(crate) fn wake_all(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }
}

/// A one-use wake-up signal for a thread that waits with [`wait_fd`].
pub(crate) struct Waker(OwnedFd);

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        Ok(Waker(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?))
    }

    pub(crate) fn wake(&self) {
        let _ = rustix::io::write(&self.0, &1u64.to_ne_bytes());
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs().min(i32::MAX as u64) as _, tv_nsec: d.subsec_nanos() as _ }
}

/// Waits until `fd` is ready for `interest`, `waker` fires, or `timeout` passes.
/// Returns true when `fd` is ready (or in error: the next I/O call reports it).
pub(crate) fn wait_fd(
    fd: BorrowedFd<'_>,
    interest: Interest,
    waker: Option<BorrowedFd<'_>>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    let events = match interest {
        Interest::Read => PollFlags::IN,
        Interest::Write => PollFlags::OUT,
    };
    let ts = timeout.map(timespec);
    let mut fds =
        [PollFd::from_borrowed_fd(fd, events), PollFd::from_borrowed_fd(waker.unwrap_or(fd), PollFlags::IN)];
    let n = if waker.is_some() { 2 } else { 1 };
    match poll(&mut fds[..n], ts.as_ref()) {
        Ok(_) => Ok(!fds[0].revents().is_empty()),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Waits until `fd` is ready for `interest` or `deadline` passes, checking `abort` at least
/// every 100 ms.
///
/// # Errors
/// `TimedOut` at the deadline; `ConnectionAborted` when `abort` says so.
pub(crate) fn wait_until(
    fd: BorrowedFd<'_>,
    interest: Interest,
    deadline: Instant,
    abort: &dyn Fn() -> bool,
) -> io::Result<()> {
    loop {
        if abort() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the server is stopping"));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        let slice = (deadline - now).min(Duration::from_millis(100));
        if wait_fd(fd, interest, None, Some(slice))? {
            return Ok(());
        }
    }
}
