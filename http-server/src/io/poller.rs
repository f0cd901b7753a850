//! Readiness, portably (mio: epoll, kqueue, IOCP): one poller per seat where idle
//! connections are parked, and a private poller for a worker that must wait on one
//! connection.
//!
//! Every connection is registered with its seat's poller, edge-triggered, for input: the
//! system reports it when new bytes arrive (or the peer closes), and never again until the
//! next such change. A connection that parks waiting for room to write (a response the
//! socket would not take, a handshake with output) is registered for output as well, and
//! for input alone again once it parks for something else; other parks cost no system call.
//! Output is not always asked for: Windows re-arms a socket with every interest it has after
//! each `WouldBlock`, and a socket with room would be reported again at once, a wake-up for
//! nothing each time an idle connection parks. The rule that makes parking safe is that a
//! connection is parked only after a read or write would have blocked (or, on Linux, a
//! read of a plain socket came back short), so any later byte is a new edge. A report that arrives while a worker holds the connection is remembered by the
//! connection table ([`Slab`](crate::runtime::slab::Slab)). A key (slot index and generation) travels
//! with each registration as its token, so a report for a connection that has meanwhile been
//! closed is ignored.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest as MioInterest, Poll, Registry, Token, Waker};

use crate::io::lock;

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
    /// Scheduled by [`Poller::resume`] (an answer or a stream's chunk is ready), not by the
    /// socket.
    pub resumed: bool,
}

/// The token of a poller's waker.
const WAKE: Token = Token(usize::MAX);

fn token(key: u64) -> Token {
    Token(key as usize)
}

const BOTH: MioInterest = MioInterest::READABLE.add(MioInterest::WRITABLE);

/// What a parked connection is registered for: input, and output too when `room`.
fn interest(room: bool) -> MioInterest {
    if room {
        BOTH
    } else {
        MioInterest::READABLE
    }
}

/// A seat's poller: connections parked there, a waker, and the keys of connections whose
/// answer from a responder is ready (each push wakes the poller).
pub(crate) struct Poller {
    poll: Mutex<Poll>,
    registry: Registry,
    waker: Waker,
    resumed: Mutex<Vec<u64>>,
    spare: Mutex<Vec<u64>>,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        Ok(Poller {
            poll: Mutex::new(poll),
            registry,
            waker,
            resumed: Mutex::new(Vec::new()),
            spare: Mutex::new(Vec::new()),
        })
    }

    /// Registers a connection under `key`, edge-triggered for input.
    pub(crate) fn add(&self, source: &mut dyn Source, key: u64) -> io::Result<()> {
        self.registry.register(source, token(key), MioInterest::READABLE)
    }

    /// Registers a connection under `key` again, for input and, when `room`, for room to
    /// write. What is ready now is reported as a new edge.
    pub(crate) fn watch(&self, source: &mut dyn Source, key: u64, room: bool) -> io::Result<()> {
        self.registry.reregister(source, token(key), interest(room))
    }

    pub(crate) fn delete(&self, source: &mut dyn Source) {
        let _ = self.registry.deregister(source);
    }

    /// Schedules the connection `key` (its answer is ready) and wakes the poller. Only the
    /// first key of a batch wakes it: the others are taken with it.
    pub(crate) fn resume(&self, key: u64) {
        let first = {
            let mut resumed = lock(&self.resumed);
            resumed.push(key);
            resumed.len() == 1
        };
        if first {
            self.wake();
        }
    }

    /// Waits (at most `timeout`, if given) for ready connections and puts their reports in
    /// `ready` (cleared first), resumed connections included. Returns true when the waker
    /// fired.
    pub(crate) fn wait(
        &self,
        events: &mut Events,
        ready: &mut Vec<Ready>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        ready.clear();
        {
            let mut poll = lock(&self.poll);
            match poll.poll(events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let mut woken = false;
        for e in events.iter() {
            if e.token() == WAKE {
                woken = true;
                continue;
            }
            let hangup = e.is_read_closed() || e.is_error();
            ready.push(Ready { key: e.token().0 as u64, hangup, resumed: false });
        }
        if woken {
            // Swapped with a spare list, so that a burst of resumed keys costs no allocation.
            let mut keys = std::mem::take(&mut *lock(&self.spare));
            std::mem::swap(&mut keys, &mut *lock(&self.resumed));
            ready.extend(keys.drain(..).map(|key| Ready { key, hangup: false, resumed: true }));
            *lock(&self.spare) = keys;
        }
        Ok(woken)
    }

    /// Wakes the worker waiting on this poller.
    pub(crate) fn wake(&self) {
        let _ = self.waker.wake();
    }
}

/// A worker's own poller, for the few waits a worker makes on one connection (a handler
/// streaming a body): the connection leaves its seat's poller for the wait and goes back
/// after, so every system's readiness layer sees one registration at a time.
pub(crate) struct Solo {
    poll: Option<Poll>,
    events: Events,
    /// A connection waited here since [`take_moved`](Solo::take_moved) was last called: it is
    /// back with its seat's poller, registered for input alone.
    moved: bool,
}

impl Solo {
    pub(crate) fn new() -> Solo {
        Solo { poll: None, events: Events::with_capacity(4), moved: false }
    }

    /// True when a connection waited here since the last call: its registration with its
    /// seat's poller is for input alone now, whatever it was before.
    pub(crate) fn take_moved(&mut self) -> bool {
        std::mem::take(&mut self.moved)
    }

    /// Waits until `source` (registered with `home` under `key`) is ready for `interest` or
    /// `deadline` passes, checking `abort` at least every 100 ms.
    ///
    /// # Errors
    /// `TimedOut` at the deadline; `ConnectionAborted` when `abort` says so.
    pub(crate) fn wait(
        &mut self,
        home: &Poller,
        key: u64,
        source: &mut dyn Source,
        interest: Interest,
        deadline: Instant,
        abort: &dyn Fn() -> bool,
    ) -> io::Result<()> {
        let poll = match &mut self.poll {
            Some(p) => p,
            None => self.poll.insert(Poll::new()?),
        };
        let want = match interest {
            Interest::Read => MioInterest::READABLE,
            Interest::Write => MioInterest::WRITABLE,
        };
        home.registry.deregister(source)?;
        self.moved = true;
        let result = (|| {
            poll.registry().register(source, token(key), want)?;
            loop {
                if abort() {
                    return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the server is stopping"));
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
                }
                let slice = (deadline - now).min(Duration::from_millis(100));
                match poll.poll(&mut self.events, Some(slice)) {
                    Ok(()) if !self.events.is_empty() => return Ok(()),
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        })();
        let _ = poll.registry().deregister(source);
        // Registering again reports what is ready now as a new edge, so nothing is lost. For
        // input alone: the connection is with a worker, which registers it for output too
        // when it parks waiting for room.
        home.registry.register(source, token(key), MioInterest::READABLE)?;
        result
    }
}

/// The acceptor thread's poller: only a waker (the listeners are with the first seat's
/// poller), for the shutdown and for a failure to accept.
pub(crate) struct AcceptPoll {
    poll: Poll,
    events: Events,
}

impl AcceptPoll {
    /// A poller and the waker that interrupts its waits.
    pub(crate) fn waker_only() -> io::Result<(AcceptPoll, Waker)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        Ok((AcceptPoll { poll, events: Events::with_capacity(2) }, waker))
    }

    /// A poller with `listener` registered, and its waker (for tests that accept by hand).
    #[cfg(test)]
    pub(crate) fn new(listener: &mut dyn Source) -> io::Result<(AcceptPoll, Waker)> {
        let (accept, waker) = AcceptPoll::waker_only()?;
        accept.poll.registry().register(listener, Token(0), MioInterest::READABLE)?;
        Ok((accept, waker))
    }

    /// Waits for the waker, or `timeout`.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) {
        let _ = self.poll.poll(&mut self.events, timeout);
    }
}
