//! One connection to a server or proxy: a TCP stream, maybe wrapped in TLS, with its timeouts.
//!
//! Timeouts are armed on the socket only when they change, so a pooled connection that is used
//! again and again with the same settings costs no extra system calls. With an overall deadline
//! the socket timeout is lowered as the deadline comes near, so no single wait runs past it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

use crate::error::{Error, Result, TimeoutKind};
use crate::key::PoolKey;

/// Size of a connection's read buffer.
const READ_BUF: usize = 16 * 1024;

/// How much a socket timeout may overshoot the deadline before it is lowered.
const DEADLINE_SLACK: Duration = Duration::from_millis(5);

/// The byte stream: plain TCP or TLS over TCP.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

/// The timeouts of one request as they apply to a connection.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timing {
    pub(crate) read: Option<Duration>,
    pub(crate) write: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
}

impl Timing {
    /// The wait allowed for one operation with configured timeout `cfg`.
    fn effective(&self, cfg: Option<Duration>) -> std::result::Result<Option<Duration>, TimeoutKind> {
        match self.deadline {
            None => Ok(cfg),
            Some(d) => {
                let rem = d.saturating_duration_since(Instant::now());
                if rem < Duration::from_millis(1) {
                    return Err(TimeoutKind::Deadline);
                }
                Ok(Some(cfg.map_or(rem, |c| c.min(rem))))
            }
        }
    }

    /// Which timeout a wait that ran out was: the deadline when it has (nearly) passed.
    fn kind_of(&self, phase: TimeoutKind) -> TimeoutKind {
        match self.deadline {
            Some(d) if Instant::now() + DEADLINE_SLACK >= d => TimeoutKind::Deadline,
            _ => phase,
        }
    }
}

/// A timeout as last set on the socket: `None` until first set.
type Armed = Option<Option<Duration>>;

/// The stream with its timeouts.
pub(crate) struct Transport {
    stream: Stream,
    timing: Timing,
    armed_read: Armed,
    armed_write: Armed,
    /// The socket is briefly non-blocking: `WouldBlock` means "nothing yet", not a timeout.
    polling: bool,
}

impl Transport {
    fn arm(&mut self, write: bool) -> io::Result<()> {
        let (cfg, armed) =
            if write { (self.timing.write, self.armed_write) } else { (self.timing.read, self.armed_read) };
        let want = self.timing.effective(cfg).map_err(|k| timeout_error(self.timing.kind_of(k)))?;
        let needed = match (armed, want) {
            (None, _) => true,
            (Some(a), w) if a == w => false,
            // Lower the socket timeout only when it would overshoot the deadline noticeably.
            (Some(Some(a)), Some(w)) if self.timing.deadline.is_some() && a >= w => a - w > DEADLINE_SLACK,
            _ => true,
        };
        if !needed {
            return Ok(());
        }
        if write {
            self.stream.tcp().set_write_timeout(want)?;
            self.armed_write = Some(want);
        } else {
            self.stream.tcp().set_read_timeout(want)?;
            self.armed_read = Some(want);
        }
        Ok(())
    }

    fn map_err(&self, e: io::Error, phase: TimeoutKind) -> io::Error {
        if self.polling && e.kind() == io::ErrorKind::WouldBlock {
            return e;
        }
        if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) && e.get_ref().is_none() {
            return timeout_error(self.timing.kind_of(phase));
        }
        e
    }
}

/// An `io::Error` that carries a typed timeout.
pub(crate) fn timeout_error(kind: TimeoutKind) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, Error::Timeout(kind))
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm(false)?;
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => match s.read(buf) {
                // A server that closes without close_notify: the end of the stream. Bodies with
                // a length or chunked framing still notice when bytes are missing.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Read))
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm(true)?;
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Write))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.arm(true)?;
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Write))
    }
}

/// A connection, buffered for reading, with what the pool needs to know about it.
pub(crate) struct Conn {
    io: BufReader<Transport>,
    pub(crate) key: PoolKey,
    /// When it was last handed back to the pool.
    pub(crate) idle_since: Instant,
    /// True once it has carried a request before the current one.
    pub(crate) reused: bool,
    /// How long the server said it keeps the connection open while idle (`Keep-Alive: timeout`).
    pub(crate) server_idle_limit: Option<Duration>,
    /// Spin waits in a row that ended without an answer.
    spin_misses: u8,
    /// Requests left before spin waiting is tried again on this connection.
    spin_pause: u8,
}

/// Spin waits that may miss in a row before the connection stops spin waiting for a while.
const SPIN_MISSES: u8 = 2;
/// Requests without spin waiting after that.
const SPIN_PAUSE: u8 = 64;

impl Conn {
    pub(crate) fn new(stream: Stream, key: PoolKey) -> Conn {
        let transport = Transport {
            stream,
            timing: Timing::default(),
            armed_read: None,
            armed_write: None,
            polling: false,
        };
        Conn {
            io: BufReader::with_capacity(READ_BUF, transport),
            key,
            idle_since: Instant::now(),
            reused: false,
            server_idle_limit: None,
            spin_misses: 0,
            spin_pause: 0,
        }
    }

    /// Sets the timeouts for the request about to be sent (and its response body).
    pub(crate) fn set_timing(&mut self, timing: Timing) {
        self.io.get_mut().timing = timing;
    }

    /// Waits for the first bytes of a response without sleeping, for at most `window`: the
    /// socket is polled (yielding the CPU to other runnable threads between polls) instead of
    /// putting the thread to sleep at once. A fast server's answer (loopback, LAN) is then
    /// picked up without the cost of a sleep and a wake-up. Adaptive: a connection whose
    /// answers keep arriving later than `window` stops spin waiting for a while, so slow
    /// servers cost at most a few windows of CPU time.
    ///
    /// Whatever happens (data, end of stream, an error), the caller's blocking read follows and
    /// sees it; this only decides how the thread waits.
    pub(crate) fn spin_wait(&mut self, window: Duration) {
        if window.is_zero() || !self.io.buffer().is_empty() {
            return;
        }
        if self.spin_pause > 0 {
            self.spin_pause -= 1;
            return;
        }
        if self.set_polling(true).is_err() {
            return;
        }
        let start = Instant::now();
        let mut answered = false;
        loop {
            match self.io.fill_buf() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Bytes, the end of the stream, or an error: the blocking read takes it from here.
                _ => {
                    answered = true;
                    break;
                }
            }
            if start.elapsed() >= window {
                break;
            }
            std::thread::yield_now();
        }
        if self.set_polling(false).is_err() {
            // Reads will then fail (as timeouts): the connection is not used silently.
            log::debug!("could not make a socket blocking again");
        }
        if answered {
            self.spin_misses = 0;
        } else {
            self.spin_misses += 1;
            if self.spin_misses >= SPIN_MISSES {
                self.spin_misses = 0;
                self.spin_pause = SPIN_PAUSE;
            }
        }
    }

    /// Makes reads non-blocking (`true`): a read with nothing to give fails with `WouldBlock`
    /// instead of waiting; or blocking again (`false`).
    pub(crate) fn set_polling(&mut self, on: bool) -> io::Result<()> {
        self.io.get_ref().stream.tcp().set_nonblocking(on)?;
        self.io.get_mut().polling = on;
        Ok(())
    }

    /// The bytes received and not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        self.io.buffer()
    }

    /// Writes all of `buf` to the peer.
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.get_mut().write_all(buf)
    }

    /// Flushes pending TLS records.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.io.get_mut().flush()
    }

    /// The writing half (unbuffered).
    pub(crate) fn writer(&mut self) -> &mut Transport {
        self.io.get_mut()
    }

    /// Checks, without blocking, that an idle connection is still usable: the peer has not
    /// closed it and has sent nothing unasked. Costs three system calls; the pool calls it only
    /// for connections that were idle for a while.
    pub(crate) fn is_alive(&self) -> bool {
        if !self.io.buffer().is_empty() {
            return false;
        }
        let tcp = self.io.get_ref().stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let alive = matches!(tcp.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        alive && tcp.set_nonblocking(false).is_ok()
    }

    /// Takes the underlying TCP stream back (after a proxy's CONNECT answer, before TLS).
    /// Fails when bytes beyond the proxy's answer were already received.
    pub(crate) fn into_tcp(self) -> Option<TcpStream> {
        if !self.io.buffer().is_empty() {
            return None;
        }
        match self.io.into_inner().stream {
            Stream::Tcp(s) => Some(s),
            Stream::Tls(_) => None,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read(buf)
    }
}

impl BufRead for Conn {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.io.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.io.consume(amt);
    }
}

/// Most name lookups running at once on helper threads, in the whole process. A resolver that
/// hangs can hold this many threads (each until the system resolver gives up); past it, lookups
/// fail at once instead of piling up threads.
const MAX_LOOKUPS: usize = 256;

/// Name lookups running now.
static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// Counts a lookup as running while alive.
struct LookupSlot;

impl Drop for LookupSlot {
    fn drop(&mut self) {
        LOOKUPS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The addresses of `host` (an IP address is used as it is). The system resolver has no
/// timeout of its own, so a name is looked up on a helper thread and waited for at most
/// `wait` (`None`: as long as it takes, on this thread); a lookup that takes longer is left to
/// finish on its own and its answer is dropped.
pub(crate) fn resolve(host: &str, port: u16, wait: Option<Duration>) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    resolve_with(host, port, wait, |host, port| (host, port).to_socket_addrs().map(Iterator::collect))
}

/// [`resolve`] with the blocking lookup `lookup`.
pub(crate) fn resolve_with(
    host: &str,
    port: u16,
    wait: Option<Duration>,
    lookup: impl FnOnce(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + 'static,
) -> Result<Vec<SocketAddr>> {
    let failed = |source: io::Error| Error::Resolve { host: host.to_owned(), source };
    let Some(wait) = wait else { return lookup(host, port).map_err(failed) };
    if LOOKUPS.fetch_add(1, Ordering::Relaxed) >= MAX_LOOKUPS {
        LOOKUPS.fetch_sub(1, Ordering::Relaxed);
        return Err(failed(io::Error::other("too many name lookups in progress")));
    }
    let slot = LookupSlot;
    let (tx, rx) = mpsc::sync_channel(1);
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("http-client-dns".to_owned())
        .spawn(move || {
            let _slot = slot;
            // The receiver is gone when the caller stopped waiting.
            let _ = tx.send(lookup(&name, port));
        })
        .map_err(failed)?;
    match rx.recv_timeout(wait) {
        Ok(res) => res.map_err(failed),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout(TimeoutKind::Connect)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(failed(io::Error::other("the lookup thread failed")))
        }
    }
}

/// Resolves `host:port` and connects to the first address that answers, within the connect
/// timeout (never past the deadline); the lookup itself is bounded by it too.
pub(crate) fn connect_tcp(
    host: &str,
    port: u16,
    connect_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<TcpStream> {
    let host_plain = host.trim_start_matches('[').trim_end_matches(']');
    let timing = Timing { read: None, write: None, deadline };
    let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
    let addrs = resolve(host_plain, port, wait).map_err(|e| match e {
        Error::Timeout(kind) => Error::Timeout(timing.kind_of(kind)),
        other => other,
    })?;
    let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in &addrs {
        let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
        let res = match wait {
            Some(w) => TcpStream::connect_timeout(addr, w),
            None => TcpStream::connect(addr),
        };
        match res {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last_err = e,
        }
    }
    if matches!(last_err.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
        return Err(Error::Timeout(timing.kind_of(TimeoutKind::Connect)));
    }
    Err(Error::Connect { addr: format!("{host}:{port}"), source: last_err })
}

/// Runs the TLS handshake over `tcp` for `host`, within the connect timeout.
pub(crate) fn handshake(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
    connect_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<Stream> {
    let host_plain = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host_plain.to_owned())
        .map_err(|_| Error::TlsConfig(format!("{host_plain:?} is not a valid TLS server name")))?;
    let mut conn = ClientConnection::new(config, name).map_err(Error::Tls)?;
    let timing = Timing { read: connect_timeout, write: connect_timeout, deadline };
    let mut tcp = tcp;
    while conn.is_handshaking() {
        let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
        tcp.set_read_timeout(wait)?;
        tcp.set_write_timeout(wait)?;
        match conn.complete_io(&mut tcp) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                return Err(Error::Timeout(timing.kind_of(TimeoutKind::Connect)));
            }
            Err(e) => return Err(Error::from(e)),
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_lookup_is_bounded_by_the_wait() {
        let (release, hold) = mpsc::channel::<()>();
        let start = Instant::now();
        let err = resolve_with("slow.example", 80, Some(Duration::from_millis(50)), move |_, _| {
            // A resolver that hangs until the test is over.
            let _ = hold.recv();
            Ok(Vec::new())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Timeout(TimeoutKind::Connect)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(release);
    }

    #[test]
    fn lookups_answer_and_fail_as_the_resolver_says() {
        let addr: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let got = resolve_with("fast.example", 80, Some(Duration::from_secs(5)), move |h, p| {
            assert_eq!((h, p), ("fast.example", 80));
            Ok(vec![addr])
        })
        .unwrap();
        assert_eq!(got, [addr]);
        let err =
            resolve_with("gone.example", 80, None, |_, _| Err(io::Error::other("no such host"))).unwrap_err();
        assert!(matches!(err, Error::Resolve { ref host, .. } if host == "gone.example"), "{err}");
        // Addresses are not looked up.
        assert_eq!(resolve("127.0.0.1", 8, Some(Duration::ZERO)).unwrap(), ["127.0.0.1:8".parse().unwrap()]);
        assert_eq!(resolve("::1", 8, None).unwrap(), ["[::1]:8".parse().unwrap()]);
    }
}
