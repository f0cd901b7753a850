//! One connection to a server or proxy: a TCP stream, maybe wrapped in TLS, with its timeouts.
//!
//! Timeouts are armed on the socket only when they change, so a pooled connection that is used
//! again and again with the same settings costs no extra system calls. With an overall deadline
//! the socket timeout is lowered as the deadline comes near, so no single wait runs past it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[cfg(feature = "tls")]
use rustls::{ClientConnection, StreamOwned};

#[cfg(feature = "tls")]
use crate::carrier::tls_read;
pub(crate) use crate::carrier::Carrier;
use crate::error::{Error, TimeoutKind};
use crate::key::PoolKey;

/// Size of a connection's read buffer.
const READ_BUF: usize = 16 * 1024;

/// How much a socket timeout may overshoot the deadline before it is lowered.
const DEADLINE_SLACK: Duration = Duration::from_millis(5);

/// The byte stream: plain TCP, or a TLS session (with the server, or with an HTTPS proxy for
/// plain `http` requests) over a [`Carrier`] (feature `tls`).
pub(crate) enum Stream {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<StreamOwned<ClientConnection, Carrier>>),
}

impl Carrier {
    /// The carrier as a stream of its own (to talk to the proxy itself).
    pub(crate) fn into_stream(self) -> Stream {
        match self {
            Carrier::Tcp(s) => Stream::Tcp(s),
            #[cfg(feature = "tls")]
            Carrier::Tls(s) => {
                let StreamOwned { conn, sock } = *s;
                Stream::Tls(Box::new(StreamOwned::new(conn, Carrier::Tcp(sock))))
            }
        }
    }
}

impl Stream {
    /// The stream as a carrier for a TLS session with the server (through a proxy's
    /// tunnel); `None` when it is a tunnel already.
    pub(crate) fn into_carrier(self) -> Option<Carrier> {
        match self {
            Stream::Tcp(s) => Some(Carrier::Tcp(s)),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => {
                let StreamOwned { conn, sock } = *s;
                match sock {
                    Carrier::Tcp(tcp) => Some(Carrier::Tls(Box::new(StreamOwned::new(conn, tcp)))),
                    Carrier::Tls(_) => None,
                }
            }
        }
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.sock.tcp(),
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
    pub(crate) fn effective(
        &self,
        cfg: Option<Duration>,
    ) -> std::result::Result<Option<Duration>, TimeoutKind> {
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
    pub(crate) fn kind_of(&self, phase: TimeoutKind) -> TimeoutKind {
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
            #[cfg(feature = "tls")]
            Stream::Tls(s) => tls_read(s, buf),
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Read))
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm(true)?;
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Write))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.arm(true)?;
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
        };
        res.map_err(|e| self.map_err(e, TimeoutKind::Write))
    }
}

/// What [`Conn::write_watching`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watched {
    /// Everything was written (and, over TLS, sent).
    Sent,
    /// The peer sent something (or closed) first; only the first `written` bytes were taken.
    PeerSpoke {
        /// Bytes of the buffer written before the client stopped.
        written: usize,
    },
}

/// Longest single wait for room to write while a body is sent: after it the client looks
/// whether the server has answered, then waits again (within the write timeout).
const WATCH_SLICE: Duration = Duration::from_millis(20);

/// Most bytes written between two looks at the socket for an answer.
const WATCH_PIECE: usize = 64 * 1024;

impl Transport {
    /// True when the peer has sent bytes of a response (over TLS: plaintext, not a session
    /// ticket) or closed. Never blocks.
    fn peer_spoke(&mut self) -> io::Result<bool> {
        let tcp = self.stream.tcp();
        tcp.set_nonblocking(true)?;
        let mut byte = [0u8; 1];
        let peeked = tcp.peek(&mut byte);
        let spoke = match (&mut self.stream, peeked) {
            (_, Err(e)) if e.kind() == io::ErrorKind::WouldBlock => false,
            (Stream::Tcp(_), _) => true,
            #[cfg(feature = "tls")]
            (Stream::Tls(_), Ok(0) | Err(_)) => true,
            #[cfg(feature = "tls")]
            (Stream::Tls(s), Ok(_)) => match s.conn.read_tls(&mut s.sock) {
                Ok(0) => true,
                Ok(_) => s
                    .conn
                    .process_new_packets()
                    .map_or(true, |st| st.plaintext_bytes_to_read() > 0 || st.peer_has_closed()),
                Err(e) => e.kind() != io::ErrorKind::WouldBlock,
            },
        };
        let plaintext = match &mut self.stream {
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.conn.process_new_packets().is_ok_and(|st| st.plaintext_bytes_to_read() > 0),
            Stream::Tcp(_) => false,
        };
        self.stream.tcp().set_nonblocking(false)?;
        Ok(spoke || plaintext)
    }

    /// Sets the socket's write timeout for one slice of a watched write.
    fn arm_slice(&mut self, stalled_since: Instant) -> io::Result<()> {
        // The write timeout counts from the last progress; the deadline from now.
        let from_write = match self.timing.write {
            Some(w) => match w.checked_sub(stalled_since.elapsed()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(timeout_error(self.timing.kind_of(TimeoutKind::Write))),
            },
            None => None,
        };
        let from_deadline = self.timing.effective(None).map_err(|k| timeout_error(self.timing.kind_of(k)))?;
        let left = from_write.into_iter().chain(from_deadline).min().unwrap_or(WATCH_SLICE);
        let want = Some(left.min(WATCH_SLICE));
        if self.armed_write != Some(want) {
            self.stream.tcp().set_write_timeout(want)?;
            self.armed_write = Some(want);
        }
        Ok(())
    }

    /// One step of a watched write: some bytes of `buf` handed to the socket (or to the TLS
    /// session, or TLS records sent). Returns how many bytes of `buf` were taken; `Ok(None)`
    /// when the wait for room ran out of its slice.
    fn write_step(&mut self, buf: &[u8]) -> io::Result<Option<usize>> {
        let res = match &mut self.stream {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) if s.conn.wants_write() => s.conn.write_tls(&mut s.sock).map(|_| 0),
            #[cfg(feature = "tls")]
            Stream::Tls(s) if s.sock.wants_write() => s.sock.send_pending().map(|_| 0),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => match s.conn.writer().write(buf)? {
                0 if !buf.is_empty() => return Err(io::ErrorKind::WriteZero.into()),
                n => Ok(n),
            },
        };
        match res {
            Ok(0) if matches!(self.stream, Stream::Tcp(_)) && !buf.is_empty() => {
                Err(io::ErrorKind::WriteZero.into())
            }
            Ok(n) => Ok(Some(n)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    /// True while TLS records are waiting to be sent.
    fn tls_pending(&self) -> bool {
        #[cfg(feature = "tls")]
        return matches!(&self.stream, Stream::Tls(s) if s.conn.wants_write() || s.sock.wants_write());
        #[cfg(not(feature = "tls"))]
        false
    }
}

/// A connection taken apart: its stream and what the pool knows about it.
pub(crate) struct Parts {
    pub(crate) stream: Stream,
    pub(crate) key: PoolKey,
    pub(crate) reused: bool,
    pub(crate) server_idle_limit: Option<Duration>,
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

    /// Writes all of `buf` unless the peer speaks first (RFC 9112 §9.5: a client sending a
    /// body watches for a response and stops when one comes). The socket is looked at before
    /// each piece of [`WATCH_PIECE`] bytes and whenever a wait for room passes
    /// [`WATCH_SLICE`]; the write timeout counts from the last progress. Over TLS, returns
    /// `Sent` only once every record is on the wire.
    pub(crate) fn write_watching(&mut self, buf: &[u8]) -> io::Result<Watched> {
        let mut written = 0;
        let mut stalled_since = Instant::now();
        // Bytes written since the last look; the first look comes before any byte.
        let mut unwatched = WATCH_PIECE;
        // Bounded by the write timeout: every round makes progress or waits at most a slice.
        while written < buf.len() || self.io.get_ref().tls_pending() {
            if unwatched >= WATCH_PIECE {
                if !self.io.buffer().is_empty() || self.io.get_mut().peer_spoke()? {
                    return Ok(Watched::PeerSpoke { written });
                }
                unwatched = 0;
            }
            let t = self.io.get_mut();
            t.arm_slice(stalled_since)?;
            let end = buf.len().min(written + WATCH_PIECE);
            match t.write_step(&buf[written..end]) {
                Ok(Some(n)) => {
                    written += n;
                    unwatched += n;
                    stalled_since = Instant::now();
                }
                // The wait for room ran out its slice: look again.
                Ok(None) => unwatched = WATCH_PIECE,
                Err(e) => return Err(t.map_err(e, TimeoutKind::Write)),
            }
        }
        Ok(Watched::Sent)
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

    /// Takes the stream out (for the one-thread interface, which drives it without
    /// blocking), with whether it carried a request before and the server's idle limit.
    /// Fails when bytes that nobody asked for were already received.
    pub(crate) fn into_parts(self) -> Option<Parts> {
        if !self.io.buffer().is_empty() {
            return None;
        }
        let (reused, server_idle_limit) = (self.reused, self.server_idle_limit);
        Some(Parts { stream: self.io.into_inner().stream, key: self.key, reused, server_idle_limit })
    }

    /// The stream and the bytes received on it and not yet consumed (plaintext over TLS), for
    /// a protocol that takes the connection over (WebSocket).
    pub(crate) fn into_stream_and_buffered(self) -> (Stream, Vec<u8>) {
        let buffered = self.io.buffer().to_vec();
        (self.io.into_inner().stream, buffered)
    }

    /// A connection made again from its parts (blocking sockets, as [`Conn::new`] takes).
    pub(crate) fn from_parts(parts: Parts) -> Conn {
        let mut conn = Conn::new(parts.stream, parts.key);
        conn.reused = parts.reused;
        conn.server_idle_limit = parts.server_idle_limit;
        conn
    }

    /// Takes the stream to the proxy back as a carrier for TLS with the server (after a
    /// proxy's CONNECT answer). Fails when bytes beyond the proxy's answer were already
    /// received, or when the stream is already a tunnel.
    pub(crate) fn into_carrier(self) -> Option<Carrier> {
        if !self.io.buffer().is_empty() {
            return None;
        }
        self.io.into_inner().stream.into_carrier()
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
