//! Connecting to a host with several addresses as Happy Eyeballs v2 does (RFC 8305): the
//! addresses are tried in turn, alternating between IPv6 and IPv4, each attempt starting
//! 250 ms after the one before (or at once when that one fails); the first to connect wins
//! and the others are closed. All of it within one wait, so an address that drops the
//! connection attempts (a black-holed IPv6 route, say) costs 250 ms, not a whole connect
//! timeout.
//!
//! ```text
//!   t=0 ms    connect addresses[0] ───────────────────────── (no answer)
//!   t=250 ms                     connect addresses[1] ── connected: wins, the rest closed
//!   failed before 250 ms?   →    the next attempt starts at once
//! ```
//!
//! The attempts are non-blocking sockets on one `mio` poll on the calling thread.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mio::net::TcpStream as MioStream;
use mio::{Events, Interest, Poll, Token};

/// The time between the starts of two attempts (RFC 8305 §5's recommended value).
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Most addresses tried for one connection.
const MAX_ATTEMPTS: usize = 16;

/// `addrs` in the order they are tried: the family of the first address first, then
/// alternating between the families, each family in its own order (RFC 8305 §4).
pub(crate) fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else { return Vec::new() };
    let (mut same, mut other): (Vec<_>, Vec<_>) =
        addrs.iter().copied().partition(|a| a.is_ipv6() == first.is_ipv6());
    same.reverse();
    other.reverse();
    let mut out = Vec::with_capacity(addrs.len());
    // Bounded by the number of addresses: each round takes at least one.
    while !same.is_empty() || !other.is_empty() {
        out.extend(same.pop());
        out.extend(other.pop());
    }
    out.truncate(MAX_ATTEMPTS);
    out
}

/// One attempt in flight.
struct Attempt {
    stream: MioStream,
    token: Token,
}

/// Connects to the first of `addrs` (already in order) that answers, trying the next one
/// every [`ATTEMPT_DELAY`] and at once after a failure, for at most `wait` (`None`: until the
/// system gives up on every address), from `local` when given. Returns a blocking stream.
///
/// # Errors
/// `TimedOut` when `wait` passed; else the error of the last attempt that failed.
pub(crate) fn connect(
    addrs: &[SocketAddr],
    local: Option<IpAddr>,
    wait: Option<Duration>,
) -> io::Result<TcpStream> {
    let start = Instant::now();
    let end = wait.map(|w| start + w);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(MAX_ATTEMPTS);
    let mut pending = addrs.iter().copied().enumerate();
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no address");
    let mut next_start = start;
    // Bounded: each round starts an attempt, ends one, or waits until the next start or the
    // end of the wait; there are at most MAX_ATTEMPTS attempts.
    loop {
        let now = Instant::now();
        if end.is_some_and(|e| now >= e) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if now >= next_start || attempts.is_empty() {
            match pending.next() {
                Some((i, addr)) => {
                    match start_attempt(&poll, addr, local, Token(i)) {
                        Ok(a) => {
                            attempts.push(a);
                            next_start = Instant::now() + ATTEMPT_DELAY;
                        }
                        // Refused at once (no route for this family, say): the next one now.
                        Err(e) => last_err = e,
                    }
                    continue;
                }
                None if attempts.is_empty() => return Err(last_err),
                None => next_start = end.unwrap_or(now + Duration::from_secs(3600)),
            }
        }
        let timeout = match end {
            Some(e) => next_start.min(e),
            None => next_start,
        }
        .saturating_duration_since(Instant::now());
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            let Some(at) = attempts.iter().position(|a| a.token == event.token()) else { continue };
            match outcome(&attempts[at].stream) {
                Outcome::Connected => {
                    let mut won = attempts.swap_remove(at);
                    let _ = poll.registry().deregister(&mut won.stream);
                    // The losers are closed when `attempts` is dropped.
                    let stream = TcpStream::from(won.stream);
                    stream.set_nonblocking(false)?;
                    return Ok(stream);
                }
                Outcome::Waiting => {}
                Outcome::Failed(e) => {
                    let mut lost = attempts.swap_remove(at);
                    let _ = poll.registry().deregister(&mut lost.stream);
                    last_err = e;
                    // The next attempt starts at once.
                    next_start = Instant::now();
                }
            }
        }
    }
}

fn start_attempt(poll: &Poll, addr: SocketAddr, local: Option<IpAddr>, token: Token) -> io::Result<Attempt> {
    let mut stream = match local {
        None => MioStream::connect(addr)?,
        Some(ip) => MioStream::from_std(connect_from(ip, addr, false)?),
    };
    poll.registry().register(&mut stream, token, Interest::WRITABLE)?;
    Ok(Attempt { stream, token })
}

/// A socket bound to `local` (any port) and connecting to `addr`: connected and blocking
/// (`blocking`), or with the connect started and left non-blocking.
pub(crate) fn connect_from(local: IpAddr, addr: SocketAddr, blocking: bool) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::new(local, 0).into())?;
    if blocking {
        socket.connect(&addr.into())?;
        return Ok(socket.into());
    }
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == EINPROGRESS => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// The error of a non-blocking connect under way, where the platform does not report it as
/// `WouldBlock` (Windows does).
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: Option<i32> = Some(115);
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
const EINPROGRESS: Option<i32> = Some(36);
#[cfg(any(target_os = "solaris", target_os = "illumos"))]
const EINPROGRESS: Option<i32> = Some(150);
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
    target_os = "solaris",
    target_os = "illumos"
)))]
const EINPROGRESS: Option<i32> = None;

enum Outcome {
    Connected,
    Waiting,
    Failed(io::Error),
}

/// Where an attempt stands after an event (mio's recipe: the socket's error, then its peer).
fn outcome(stream: &MioStream) -> Outcome {
    match stream.take_error() {
        Ok(Some(e)) | Err(e) => return Outcome::Failed(e),
        Ok(None) => {}
    }
    match stream.peer_addr() {
        Ok(_) => Outcome::Connected,
        // Still connecting (a wake-up without the connection's answer).
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Outcome::Waiting,
        Err(e) => Outcome::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_alternate_from_the_first_one() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let given = [a("[::1]:1"), a("[::2]:1"), a("10.0.0.1:1"), a("[::3]:1"), a("10.0.0.2:1")];
        assert_eq!(
            interleave(&given),
            [a("[::1]:1"), a("10.0.0.1:1"), a("[::2]:1"), a("10.0.0.2:1"), a("[::3]:1")]
        );
        let v4_first = [a("10.0.0.1:1"), a("10.0.0.2:1"), a("[::1]:1")];
        assert_eq!(interleave(&v4_first), [a("10.0.0.1:1"), a("[::1]:1"), a("10.0.0.2:1")]);
        assert!(interleave(&[]).is_empty());
    }

    #[test]
    fn the_first_address_that_answers_wins() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let live = listener.local_addr().unwrap();
        // A port with nothing listening: refused at once, so the next starts without a delay.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let start = Instant::now();
        let stream = connect(&[dead, live], None, Some(Duration::from_secs(10))).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), live);
        assert!(start.elapsed() < ATTEMPT_DELAY, "{:?}", start.elapsed());
        let err = connect(&[dead], None, Some(Duration::from_secs(10))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        // From a local address of our choosing.
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let stream = connect(&[dead, live], Some(local), Some(Duration::from_secs(10))).unwrap();
        assert_eq!(stream.local_addr().unwrap().ip(), local);
    }
}
