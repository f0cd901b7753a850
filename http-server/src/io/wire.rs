//! The worker's read buffer, the minimum-rate bookkeeping ([`Progress`]), and the wire: the
//! blocking view of a non-blocking connection that handler code reads and writes through.
//!
//! Sockets stay non-blocking all their life, and the engine never waits on them (it parks the
//! connection). Only handler code waits on the wire: a streamed request body, or a body the
//! handler writes itself. Such a wait moves the connection to the worker's own poller
//! ([`Solo`]) with the phase's timeout.
//!
//! A waiting worker is pinned to its connection, so each wait is bounded twice: by the phase's
//! timeout, and (when the transfer has had to wait once) by the minimum data rate
//! ([`Timeouts::min_body_rate`](crate::Timeouts::min_body_rate),
//! [`Timeouts::min_write_rate`](crate::Timeouts::min_write_rate)). Transfers that never wait
//! never read the clock; the rate costs a byte count on those.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_utils::Limits;

use crate::io::attempt::{attempt, attempt_flush, Attempt};
use crate::io::head::HeadCache;
use crate::io::poller::{Interest, Poller, Solo};
use crate::io::timeouts::Timeouts;
use crate::io::transport::Connection;

/// Responses are gathered up to this size before they are written.
pub(crate) const FLUSH_AT: usize = 32 * 1024;
/// Bodies larger than this are written straight from the handler's buffer.
const DIRECT_WRITE_AT: usize = 16 * 1024;
/// The read buffer's normal size; it grows only for a large head.
pub(crate) const READ_BUF: usize = 16 * 1024;

/// A read buffer: `data[start..end]` holds bytes received and not yet used.
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    pub(crate) fn new() -> ReadBuf {
        ReadBuf { data: vec![0; READ_BUF], start: 0, end: 0 }
    }

    pub(crate) fn available(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        if self.data.len() > 4 * READ_BUF {
            self.data.truncate(READ_BUF);
            self.data.shrink_to_fit();
        }
    }

    /// Hands over the buffer's allocation when it holds exactly `n` bytes, from its start:
    /// the bytes go without a copy, and the buffer starts again empty and small.
    pub(crate) fn take_exactly(&mut self, n: u64) -> Option<Vec<u8>> {
        if self.start != 0 || self.end as u64 != n {
            return None;
        }
        let mut data = std::mem::replace(&mut self.data, vec![0; READ_BUF]);
        data.truncate(self.end);
        self.end = 0;
        Some(data)
    }

    /// Takes `data` as the buffer's content (its allocation included).
    pub(crate) fn adopt(&mut self, data: Vec<u8>) {
        self.end = data.len();
        self.start = 0;
        self.data = data;
    }

    /// Puts back bytes saved while the connection was parked.
    pub(crate) fn restore(&mut self, saved: &[u8]) {
        self.clear();
        if saved.len() > self.data.len() {
            self.data.resize(saved.len(), 0);
        }
        self.data[..saved.len()].copy_from_slice(saved);
        self.end = saved.len();
    }

    /// True when there is free space after the bytes held: the last read did not fill it.
    pub(crate) fn has_room(&self) -> bool {
        self.end < self.data.len()
    }

    /// Reads once from `io` into the free space (made room for, growing up to `max` bytes of
    /// content). Returns the byte count.
    pub(crate) fn read_from(&mut self, io: &mut dyn Connection, max: usize) -> io::Result<usize> {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.data.len() < max {
                let grow = self.data.len().max(4096).min(max - self.data.len());
                self.data.resize(self.data.len() + grow, 0);
            }
        }
        let space = self.data.len() - self.end;
        if space == 0 {
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, "read buffer full"));
        }
        let n = io.read(&mut self.data[self.end..])?;
        self.end += n;
        Ok(n)
    }
}

/// How far a transfer that had to wait on the peer has come, for its minimum rate: a deadline
/// that every byte moved pushes back by `1 / rate` seconds, but never more than the grace
/// period past the present (a bucket holding at most `grace` of credit), and the bytes moved
/// since the deadline was last pushed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Progress {
    limit: Option<Instant>,
    bytes: u64,
}

impl Progress {
    /// Counts bytes moved (only once the transfer has waited: before, the clock is not running).
    #[inline]
    pub(crate) fn add(&mut self, n: usize) {
        if self.limit.is_some() {
            self.bytes = self.bytes.saturating_add(n as u64);
        }
    }

    /// The deadline of a wait that begins at `now`: `timeout` from now, or earlier, the moment
    /// the transfer falls behind the minimum `rate` by more than `grace`. The first wait
    /// starts the clock with `grace` of credit; each byte since earns `1 / rate` seconds, and
    /// credit never exceeds `grace`, so bytes sent fast early cannot pay for a trickle later.
    /// Fails with `TimedOut` when that moment is already past.
    pub(crate) fn deadline(
        &mut self,
        now: Instant,
        timeout: Duration,
        rate: Option<u64>,
        grace: Duration,
        what: &'static str,
    ) -> io::Result<Instant> {
        let by_timeout = now + timeout;
        let Some(rate) = rate.filter(|&r| r > 0) else { return Ok(by_timeout) };
        let cap = now.checked_add(grace).unwrap_or(by_timeout);
        let limit = match self.limit {
            None => cap,
            Some(limit) => {
                let earned = Duration::from_micros(self.bytes.saturating_mul(1_000_000) / rate);
                limit.checked_add(earned).map_or(cap, |l| l.min(cap))
            }
        };
        self.limit = Some(limit);
        self.bytes = 0;
        if now >= limit {
            return Err(io::Error::new(io::ErrorKind::TimedOut, what));
        }
        Ok(by_timeout.min(limit))
    }
}

/// What waits on the wire are bounded by, the same for every connection of a server.
pub(crate) struct WireRules {
    pub timeouts: Timeouts,
    pub limits: Limits,
    /// Set when waits must give up (the end of a shutdown's grace period).
    pub abort: AtomicBool,
}

/// A connection with the worker's buffers, for waiting reads and writes.
pub(crate) struct Wire<'a> {
    pub io: &'a mut dyn Connection,
    pub rbuf: &'a mut ReadBuf,
    pub wbuf: &'a mut Vec<u8>,
    /// The worker's `Date` and `Server` lines and last head.
    pub heads: &'a mut HeadCache,
    /// The worker's own poller, for waits on this connection.
    solo: &'a mut Solo,
    /// The connection's key.
    key: u64,
    /// The poller of the connection's seat, which it leaves while a wait lasts.
    home: &'a Poller,
    pub rules: &'a WireRules,
    /// The request body read through this wire, for the minimum body rate.
    body: Progress,
    /// The bytes written through this wire, for the minimum write rate.
    out: Progress,
}

impl<'a> Wire<'a> {
    /// The connection `io` (`key` in the table of the seat polled by `home`) with a
    /// worker's buffers and poller.
    pub(crate) fn new(
        io: &'a mut dyn Connection,
        rbuf: &'a mut ReadBuf,
        wbuf: &'a mut Vec<u8>,
        heads: &'a mut HeadCache,
        solo: &'a mut Solo,
        (key, home): (u64, &'a Poller),
        rules: &'a WireRules,
    ) -> Wire<'a> {
        Wire {
            io,
            rbuf,
            wbuf,
            heads,
            solo,
            key,
            home,
            rules,
            body: Progress::default(),
            out: Progress::default(),
        }
    }
}

impl Wire<'_> {
    /// The deadline of a wait for room to write, starting now.
    fn write_deadline(&mut self) -> io::Result<Instant> {
        let t = &self.rules.timeouts;
        self.out.deadline(
            Instant::now(),
            t.write,
            t.min_write_rate,
            t.write,
            "the peer reads below the minimum rate",
        )
    }

    /// Waits for room to write. The deadline is taken at the first wait since bytes last
    /// moved (`None` in `deadline`), and kept for the waits that follow without progress.
    fn wait_for_room(&mut self, deadline: &mut Option<Instant>) -> io::Result<()> {
        let d = match *deadline {
            Some(d) => d,
            None => *deadline.insert(self.write_deadline()?),
        };
        self.wait(Interest::Write, d)
    }

    fn wait(&mut self, interest: Interest, deadline: Instant) -> io::Result<()> {
        let interest = if self.io.wants_write() { Interest::Write } else { interest };
        let abort = &self.rules.abort;
        self.solo.wait(self.home, self.key, self.io.source(), interest, deadline, &|| {
            abort.load(Ordering::Relaxed)
        })
    }

    /// Reads more request body bytes into the read buffer, waiting up to the body timeout for
    /// them, and no longer than the minimum body rate allows. Returns 0 at the end of the
    /// stream.
    ///
    /// # Errors
    /// `TimedOut` when nothing arrives in time, or the body arrives below the minimum rate.
    fn fill(&mut self) -> io::Result<usize> {
        let max = self.rules.limits.max_head + READ_BUF;
        self.read_waiting(|w| w.rbuf.read_from(w.io, max))
    }

    /// Reads once with `once`, waiting (within the body timeout and the minimum body rate)
    /// while the socket has nothing.
    fn read_waiting(&mut self, mut once: impl FnMut(&mut Self) -> io::Result<usize>) -> io::Result<usize> {
        // The clock is read only when there is something to wait for.
        let mut deadline = None;
        loop {
            match attempt(|| once(self))? {
                Attempt::Done(n) => {
                    self.body.add(n);
                    return Ok(n);
                }
                Attempt::Closed => return Ok(0),
                Attempt::Blocked => {
                    let d = match deadline {
                        Some(d) => d,
                        None => {
                            let t = &self.rules.timeouts;
                            let d = self.body.deadline(
                                Instant::now(),
                                t.body,
                                t.min_body_rate,
                                t.body,
                                "the request body arrives below the minimum rate",
                            )?;
                            *deadline.insert(d)
                        }
                    };
                    self.wait(Interest::Read, d)?
                }
            }
        }
    }

    fn write_direct(&mut self, mut data: &[u8]) -> io::Result<()> {
        // Each wait for room gets the whole timeout (less if the minimum rate runs out first);
        // the clock is read only to wait.
        let mut deadline = None;
        while !data.is_empty() {
            match attempt(|| self.io.write(data))? {
                Attempt::Done(n) => {
                    data = &data[n..];
                    self.out.add(n);
                    deadline = None;
                }
                Attempt::Blocked => self.wait_for_room(&mut deadline)?,
                Attempt::Closed => return Err(io::ErrorKind::WriteZero.into()),
            }
        }
        Ok(())
    }

    /// Writes out everything gathered, waiting up to the write timeout for each bit of room.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let buf = std::mem::take(self.wbuf);
            let r = self.write_direct(&buf);
            *self.wbuf = buf;
            self.wbuf.clear();
            r?;
        }
        let mut deadline = None;
        while !attempt_flush(|| self.io.flush())? {
            self.wait_for_room(&mut deadline)?;
        }
        Ok(())
    }

    /// Queues `data` for writing; large pieces go out at once.
    pub(crate) fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if data.len() >= DIRECT_WRITE_AT {
            self.flush()?;
            self.write_direct(data)
        } else {
            self.wbuf.extend_from_slice(data);
            if self.wbuf.len() >= FLUSH_AT {
                self.flush()?;
            }
            Ok(())
        }
    }
}

/// Reads go to the buffered bytes first, then to the socket, waiting up to the body timeout
/// and within the minimum body rate.
/// A body reader on top never asks for more than its body, so nothing past it is consumed.
impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.rbuf.is_empty() && buf.len() >= READ_BUF {
            // A large read goes from the socket straight into the caller's buffer.
            return self.read_waiting(|w| w.io.read(buf));
        }
        if self.rbuf.is_empty() && self.fill()? == 0 {
            return Ok(0);
        }
        let avail = self.rbuf.available();
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.rbuf.consume(n);
        Ok(n)
    }
}

impl BufRead for Wire<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.rbuf.is_empty() {
            self.fill()?;
        }
        Ok(self.rbuf.available())
    }

    fn consume(&mut self, n: usize) {
        self.rbuf.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHAT: &str = "below the minimum rate";

    fn at(p: &mut Progress, now: Instant) -> io::Result<Instant> {
        p.deadline(now, Duration::from_secs(30), Some(1000), Duration::from_secs(1), WHAT)
    }

    #[test]
    fn first_wait_gets_the_grace_period() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        p.add(5000); // before the first wait: not counted
        assert_eq!(at(&mut p, t0).unwrap(), t0 + Duration::from_secs(1));
        assert!(at(&mut p, t0 + Duration::from_millis(1000)).is_err());
    }

    #[test]
    fn bytes_earn_time_at_the_rate() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        at(&mut p, t0).unwrap();
        p.add(500); // half a second at 1000 B/s
        let limit = at(&mut p, t0 + Duration::from_millis(900)).unwrap();
        assert_eq!(limit, t0 + Duration::from_millis(1500));
        assert!(at(&mut p, t0 + Duration::from_millis(1500)).is_err());
    }

    #[test]
    fn early_bytes_bank_no_more_than_the_grace_period() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        at(&mut p, t0).unwrap();
        p.add(10_000_000); // 10,000 s worth at the minimum rate
        let limit = at(&mut p, t0 + Duration::from_millis(500)).unwrap();
        assert_eq!(limit, t0 + Duration::from_millis(1500));
        // Then a trickle: nothing more arrives, and the transfer fails a grace period later.
        assert!(at(&mut p, t0 + Duration::from_millis(1400)).is_ok());
        assert!(at(&mut p, t0 + Duration::from_millis(1500)).is_err());
    }

    #[test]
    fn no_rate_means_only_the_timeout() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        let d = p.deadline(t0, Duration::from_secs(30), None, Duration::from_secs(1), WHAT).unwrap();
        assert_eq!(d, t0 + Duration::from_secs(30));
    }
}
