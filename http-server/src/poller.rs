//! Readiness: the epoll set where idle connections are parked, and waits on one descriptor.
//!
//! Every connection is registered once, edge-triggered, for input and output: the kernel
//! reports it when new bytes arrive (or room to write appears after the socket was full), and
//! never again until the next such change. Parking a connection therefore costs no system
//! call; the rule that makes this safe is that a connection is parked only after a read came
//! back short or would have blocked, so any later byte is a new edge. A report that arrives
//! while a worker holds the connection is remembered by the connection table
//! ([`Slab`](crate::slab::Slab)). A key (slot index and generation) travels with each
//! registration, so a report for a connection that has meanwhile been closed is ignored.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{eventfd, poll, EventfdFlags, PollFd, PollFlags, Timespec};

/// What a waiting worker waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

/// One readiness report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ready {
    pub key: u64,
    /// The peer closed (or the socket failed): a short read no longer means "drained", the
    /// end of the stream is still to be read.
    pub hangup: bool,
}

/// The key reported for the wake-up descriptor.
pub(crate) const WAKE_KEY: u64 = u64::MAX;
/// The key reported for the resume queue (answers from responders are ready).
pub(crate) const RESUME_KEY: u64 = u64::MAX - 1;

/// An edge-triggered epoll set with a wake-up descriptor.
pub(crate) struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // Level-triggered and never drained: once woken, every waiter sees it.
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE_KEY), EventFlags::IN)?;
        Ok(Poller { epoll, wake })
    }

    /// Registers a connection under `key`, edge-triggered for input and output.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: u64) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        Ok(epoll::add(&self.epoll, fd, EventData::new_u64(key), flags)?)
    }

    /// Registers the resume queue's eventfd, edge-triggered: one report per push.
    pub(crate) fn add_resume(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::ET;
        Ok(epoll::add(&self.epoll, fd, EventData::new_u64(RESUME_KEY), flags)?)
    }

    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) {
        let _ = epoll::delete(&self.epoll, fd);
    }

    /// Waits for ready connections and puts their reports in `ready` (cleared first).
    pub(crate) fn wait(&self, events: &mut Vec<Event>, ready: &mut Vec<Ready>) -> io::Result<()> {
        events.clear();
        match epoll::wait(&self.epoll, rustix::buffer::spare_capacity(events), None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        ready.clear();
        let closing = EventFlags::RDHUP | EventFlags::HUP | EventFlags::ERR;
        ready.extend(events.iter().map(|e| {
            // The event is a packed struct: copy its fields out before using them.
            let (data, flags) = (e.data, e.flags);
            Ready { key: data.u64(), hangup: flags.intersects(closing) }
        }));
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
