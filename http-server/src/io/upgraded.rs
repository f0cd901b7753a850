//! Connections that switched protocols: the blocking stream an upgrade handler owns, and
//! the list the server keeps of them to tell them about a shutdown.
//!
//! The connection stays the non-blocking transport it was (TCP, TLS, a Unix socket or a
//! custom one); [`Upgraded`] waits on a poller of its own when a read or write would block,
//! so it behaves as a blocking stream with optional timeouts on every system.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::io::attempt::{attempt, attempt_flush, Attempt};
use crate::io::budget::Share;
use crate::io::lock;
use crate::io::transport::{Connection, PeerAddr};

const IO: Token = Token(0);
const WAKE: Token = Token(1);

/// What the server can tell one upgraded connection.
struct Watch {
    waker: Waker,
    /// A graceful shutdown has begun.
    stopping: AtomicBool,
    /// The shutdown's grace period is over: every wait fails.
    aborted: AtomicBool,
}

/// The upgraded connections of one server.
#[derive(Default)]
pub(crate) struct Upgrades {
    live: Mutex<HashMap<u64, Arc<Watch>>>,
    next: AtomicU64,
    stopping: AtomicBool,
}

impl Upgrades {
    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        lock(&self.live).len()
    }

    /// A graceful shutdown begins: each is told (and its waits woken).
    pub(crate) fn stop_all(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for w in lock(&self.live).values() {
            w.stopping.store(true, Ordering::SeqCst);
            let _ = w.waker.wake();
        }
    }

    /// The grace period is over: their reads and writes fail from now on.
    pub(crate) fn abort_all(&self) {
        for w in lock(&self.live).values() {
            w.aborted.store(true, Ordering::SeqCst);
            let _ = w.waker.wake();
        }
    }
}

/// A connection that no longer speaks HTTP: what is left in a connection's place once
/// its transport went to an [`Upgraded`] stream.
pub(crate) struct Detached(Nowhere);

impl Detached {
    pub(crate) fn new() -> Detached {
        Detached(Nowhere)
    }
}

/// An event source that is never ready and registered nowhere: what a [`Detached`]
/// connection, or one in memory, gives the pollers.
pub(crate) struct Nowhere;

impl Source for Nowhere {
    fn register(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Ok(())
    }
    fn reregister(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Ok(())
    }
    fn deregister(&mut self, _: &Registry) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Detached {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

impl Write for Detached {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Connection for Detached {
    fn peer_addr(&self) -> PeerAddr {
        PeerAddr::Other("upgraded".to_owned())
    }
    fn source(&mut self) -> &mut dyn Source {
        &mut self.0
    }
    fn hard_close(&mut self) {}
}

/// A connection after `101 Switching Protocols`, owned by the upgrade handler (see
/// [`Response::upgrade`](crate::Response::upgrade)): a blocking [`Read`] + [`Write`]
/// stream over whatever the connection was (TCP, TLS, a Unix socket).
///
/// Bytes the client sent after its request, before the switch, come first. Reads and
/// writes wait as long as it takes unless a timeout is set; a wait that times out fails
/// with [`io::ErrorKind::WouldBlock`] (as std's sockets do on Unix), after which the stream
/// can be used again. When the server shuts down, [`is_server_stopping`] turns true at the
/// start of the grace period (say goodbye in the protocol and return); at its end every
/// read and write fails with [`io::ErrorKind::ConnectionAborted`].
///
/// [`is_server_stopping`]: Upgraded::is_server_stopping
pub struct Upgraded {
    io: Box<dyn Connection>,
    peer: PeerAddr,
    protocol: String,
    prefix: Vec<u8>,
    pos: usize,
    poll: Poll,
    events: Events,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// What the connection is registered for: input, or room to write. One at a time:
    /// Windows re-arms a socket with every interest it has after each `WouldBlock`, so a
    /// read waiting on a socket registered for room too would wake at once, again and again.
    interest: Interest,
    watch: Arc<Watch>,
    id: u64,
    list: Arc<Upgrades>,
    _share: Share,
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded").field("peer", &self.peer).field("protocol", &self.protocol).finish()
    }
}

impl Upgraded {
    /// Takes over `io` (already taken out of the server's poller), with `prefix` to read
    /// first, listed in `list`.
    pub(crate) fn new(
        mut io: Box<dyn Connection>,
        peer: PeerAddr,
        protocol: String,
        prefix: Vec<u8>,
        list: Arc<Upgrades>,
        share: Share,
    ) -> io::Result<Upgraded> {
        let poll = Poll::new()?;
        poll.registry().register(io.source(), IO, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let stopping = list.stopping.load(Ordering::SeqCst);
        let watch =
            Arc::new(Watch { waker, stopping: AtomicBool::new(stopping), aborted: AtomicBool::new(false) });
        let id = list.next.fetch_add(1, Ordering::Relaxed);
        lock(&list.live).insert(id, watch.clone());
        Ok(Upgraded {
            io,
            peer,
            protocol,
            prefix,
            pos: 0,
            poll,
            events: Events::with_capacity(4),
            read_timeout: None,
            write_timeout: None,
            interest: Interest::READABLE,
            watch,
            id,
            list,
            _share: share,
        })
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> &PeerAddr {
        &self.peer
    }

    /// The protocol switched to (as the handler named it).
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// How long a read may wait (`None`: as long as it takes).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// How long a write (or flush) may wait for room (`None`: as long as it takes).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// True once the server has begun to shut down: finish up and drop the stream before
    /// the grace period ends.
    pub fn is_server_stopping(&self) -> bool {
        self.watch.stopping.load(Ordering::SeqCst)
    }

    fn check(&self) -> io::Result<()> {
        if self.watch.aborted.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the server has shut down"));
        }
        Ok(())
    }

    /// Waits for the connection to become ready for `interest` (or the waker), until
    /// `deadline`.
    fn wait(&mut self, interest: Interest, deadline: Option<Instant>) -> io::Result<()> {
        // A transport with output of its own to send first (TLS) waits for room.
        let interest = if self.io.wants_write() { Interest::WRITABLE } else { interest };
        if interest != self.interest {
            // Registering anew reports what is ready now: nothing is lost.
            self.poll.registry().reregister(self.io.source(), IO, interest)?;
            self.interest = interest;
        }
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, "timed out"));
                }
                Some(d - now)
            }
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.check()
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.pos);
            buf[..n].copy_from_slice(&self.prefix[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.prefix.len() {
                self.prefix = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        self.check()?;
        let until = deadline(self.read_timeout);
        loop {
            match attempt(|| self.io.read(buf))? {
                Attempt::Done(n) => return Ok(n),
                Attempt::Closed => return Ok(0),
                Attempt::Blocked => self.wait(Interest::READABLE, until)?,
            }
        }
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        let until = deadline(self.write_timeout);
        loop {
            match attempt(|| self.io.write(buf))? {
                Attempt::Done(n) => return Ok(n),
                Attempt::Closed => return Ok(0),
                Attempt::Blocked => self.wait(Interest::WRITABLE, until)?,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        let until = deadline(self.write_timeout);
        while !attempt_flush(|| self.io.flush())? {
            self.wait(Interest::WRITABLE, until)?;
        }
        Ok(())
    }
}

impl Drop for Upgraded {
    fn drop(&mut self) {
        // Whatever the transport still holds (TLS records) goes out if it can at once.
        let _ = self.io.flush();
        let _ = self.poll.registry().deregister(self.io.source());
        lock(&self.list.live).remove(&self.id);
    }
}
