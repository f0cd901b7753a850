//! The load: one thread, one [`mio::Poll`], `conns` non-blocking connections, each in a closed
//! loop of writing a batch of `depth` requests and reading `depth` responses.
//!
//! ```text
//!   connect ──writable, connected──► write the batch ──► read until `depth` responses ──┐
//!      ▲                                   ▲  (the rest when writable again)              │
//!      │                                   └──────────────── the next batch ◄─────────────┘
//!      └── closed by the server, or an I/O error: counted, then connect again
//!          (given up after `CLOSES_IN_A_ROW` closes without a response in between)
//! ```
//!
//! Readiness is edge-triggered: a readable event is followed by reads until one would block,
//! a write that would block waits for a writable event.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::cpu::{self, CpuTime};
use crate::scanner::{ScanError, Scanner};

/// A connection closed this many times in a row without a response in between ends the run.
pub const CLOSES_IN_A_ROW: u32 = 8;

/// The largest batch accepted: `depth` requests in one write.
pub const MAX_DEPTH: u32 = 1024;

/// What to load and for how long.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server.
    pub addr: SocketAddr,
    /// The `Host` header's value.
    pub host: String,
    /// The request target of every request.
    pub path: String,
    /// Connections open at once.
    pub conns: usize,
    /// Requests in one write; the next batch is written when all of their responses are in.
    pub depth: u32,
    /// The measured time.
    pub duration: Duration,
    /// Load before the measured time, not counted.
    pub warmup: Duration,
}

impl Config {
    /// The bytes written at once on a connection: `depth` identical GETs.
    pub fn batch(&self) -> Vec<u8> {
        let one = format!("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", self.path, self.host);
        one.repeat(self.depth as usize).into_bytes()
    }
}

/// What the measured time gave.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Responses completed with a 2xx or 3xx status.
    pub ok: u64,
    /// Responses completed with another status.
    pub non2xx: u64,
    /// I/O errors (connect, read, write), each followed by a new connection.
    pub errors: u64,
    /// New connections made in place of closed ones (by the server or after an error).
    pub reconnects: u64,
    /// The measured time, as it passed.
    pub elapsed: Duration,
    /// This process's CPU time in the measured time; `None` where it cannot be read.
    pub cpu: Option<CpuTime>,
}

impl Report {
    /// Responses completed, whatever their status.
    pub fn responses(&self) -> u64 {
        self.ok + self.non2xx
    }
}

/// Why a run stopped before its time.
#[derive(Debug)]
pub enum RunError {
    /// A `--conns` or `--depth` of 0, or a depth over [`MAX_DEPTH`].
    Config(&'static str),
    /// The poll could not be made or waited on.
    Poll(io::Error),
    /// A connection could not be started at all.
    Connect(io::Error),
    /// Responses that cannot be counted.
    Scan(ScanError),
    /// Bytes after the last response of a batch, before the next batch was written.
    Unasked,
    /// A connection was closed [`CLOSES_IN_A_ROW`] times without a response in between.
    KeepsClosing {
        /// The last I/O error, if the last close was one.
        last: Option<io::Error>,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(what) => write!(f, "bad configuration: {what}"),
            Self::Poll(e) => write!(f, "poll: {e}"),
            Self::Connect(e) => write!(f, "connect: {e}"),
            Self::Scan(e) => write!(f, "cannot count the responses: {e}"),
            Self::Unasked => write!(f, "the server sent bytes after the responses asked for"),
            Self::KeepsClosing { last: Some(e) } => write!(
                f,
                "a connection failed {CLOSES_IN_A_ROW} times in a row without a response: last error: {e}"
            ),
            Self::KeepsClosing { last: None } => {
                write!(
                    f,
                    "the server closed a connection {CLOSES_IN_A_ROW} times in a row without a response"
                )
            }
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Poll(e) | Self::Connect(e) | Self::KeepsClosing { last: Some(e) } => Some(e),
            Self::Scan(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ScanError> for RunError {
    fn from(e: ScanError) -> Self {
        Self::Scan(e)
    }
}

/// Loads the server for `warmup` and then `duration`, and reports the measured time.
pub fn run(config: &Config) -> Result<Report, RunError> {
    if config.conns == 0 {
        return Err(RunError::Config("no connections"));
    }
    if config.depth == 0 || config.depth > MAX_DEPTH {
        return Err(RunError::Config("depth must be 1 to 1024"));
    }
    let mut load = Load {
        poll: Poll::new().map_err(RunError::Poll)?,
        addr: config.addr,
        batch: config.batch(),
        depth: config.depth,
        buf: vec![0; 64 * 1024],
        report: Report::default(),
    };
    let mut conns = Vec::with_capacity(config.conns);
    for i in 0..config.conns {
        conns.push(load.connect(Token(i))?);
    }
    let mut events = Events::with_capacity(1024);
    let started = Instant::now();
    let warm_until = started + config.warmup;
    let until = warm_until + config.duration;
    let mut measuring = config.warmup.is_zero();
    let (mut since, mut cpu_since) = (started, cpu::now());
    loop {
        let now = Instant::now();
        if !measuring && now >= warm_until {
            measuring = true;
            load.report = Report::default();
            (since, cpu_since) = (now, cpu::now());
        }
        if now >= until {
            load.report.elapsed = now - since;
            load.report.cpu = cpu::now().zip(cpu_since).map(|(now, then)| now.since(then));
            return Ok(load.report);
        }
        let wait = if measuring { until } else { warm_until } - now;
        match load.poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RunError::Poll(e)),
        }
        for event in events.iter() {
            let Some(conn) = conns.get_mut(event.token().0) else { continue };
            if let Fate::Closed(error) = load.on_event(conn, event)? {
                load.reopen(conn, event.token(), error)?;
            }
        }
    }
}

/// What the run shares across its connections.
struct Load {
    poll: Poll,
    addr: SocketAddr,
    /// `depth` requests, written as one.
    batch: Vec<u8>,
    depth: u32,
    /// Where every read lands; the scanner keeps what it needs of it.
    buf: Vec<u8>,
    report: Report,
}

/// One connection and where it stands in its batch.
struct Conn {
    stream: TcpStream,
    /// Whether the non-blocking connect has completed.
    connected: bool,
    scanner: Scanner,
    /// Bytes of the current batch written.
    written: usize,
    /// Responses of the current batch still to come.
    awaited: u32,
    /// Closes since the last response on this connection.
    closes: u32,
}

/// How an event left a connection.
enum Fate {
    Open,
    /// Closed by the server (`None`) or by an I/O error.
    Closed(Option<io::Error>),
}

/// One read or write that went through, would block, or found the connection closed.
enum Step {
    Done(usize),
    Blocked,
    Closed(Option<io::Error>),
}

/// Runs `op` (again if interrupted) and says what came of it; 0 bytes is a close.
fn step(mut op: impl FnMut() -> io::Result<usize>) -> Step {
    loop {
        return match op() {
            Ok(0) => Step::Closed(None),
            Ok(n) => Step::Done(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Step::Blocked,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Step::Closed(Some(e)),
        };
    }
}

impl Load {
    fn connect(&mut self, token: Token) -> Result<Conn, RunError> {
        let mut stream = TcpStream::connect(self.addr).map_err(RunError::Connect)?;
        self.poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(RunError::Connect)?;
        Ok(Conn { stream, connected: false, scanner: Scanner::new(), written: 0, awaited: 0, closes: 0 })
    }

    /// Counts a closed connection and opens a new one in its place.
    fn reopen(&mut self, conn: &mut Conn, token: Token, error: Option<io::Error>) -> Result<(), RunError> {
        self.report.reconnects += 1;
        self.report.errors += u64::from(error.is_some());
        conn.closes += 1;
        if conn.closes >= CLOSES_IN_A_ROW {
            return Err(RunError::KeepsClosing { last: error });
        }
        // Deregistered before it is closed, as mio asks.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let closes = conn.closes;
        *conn = self.connect(token)?;
        conn.closes = closes;
        Ok(())
    }

    fn on_event(&mut self, conn: &mut Conn, event: &Event) -> Result<Fate, RunError> {
        if !conn.connected {
            match connected(&conn.stream) {
                Ok(false) => return Ok(Fate::Open),
                Err(e) => return Ok(Fate::Closed(Some(e))),
                Ok(true) => {}
            }
            conn.connected = true;
            // As wrk: each batch goes out at once, not held back for a full segment.
            if let Err(e) = conn.stream.set_nodelay(true) {
                return Ok(Fate::Closed(Some(e)));
            }
            if let Fate::Closed(e) = self.next_batch(conn) {
                return Ok(Fate::Closed(e));
            }
        } else if event.is_writable() && conn.written < self.batch.len() {
            if let Fate::Closed(e) = self.write(conn) {
                return Ok(Fate::Closed(e));
            }
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            return self.read(conn);
        }
        Ok(Fate::Open)
    }

    /// Starts writing a new batch.
    fn next_batch(&mut self, conn: &mut Conn) -> Fate {
        conn.written = 0;
        conn.awaited = self.depth;
        self.write(conn)
    }

    /// Writes what is left of the batch until done or the socket is full.
    fn write(&mut self, conn: &mut Conn) -> Fate {
        while conn.written < self.batch.len() {
            match step(|| conn.stream.write(&self.batch[conn.written..])) {
                Step::Done(n) => conn.written += n,
                Step::Blocked => break,
                Step::Closed(e) => return Fate::Closed(e),
            }
        }
        Fate::Open
    }

    /// Reads until a read would block, counting responses and writing the next batch each
    /// time one is complete.
    fn read(&mut self, conn: &mut Conn) -> Result<Fate, RunError> {
        loop {
            let n = match step(|| conn.stream.read(&mut self.buf)) {
                Step::Done(n) => n,
                Step::Blocked => return Ok(Fate::Open),
                Step::Closed(e) => return Ok(Fate::Closed(e)),
            };
            // With no response awaited, `feed` uses none of the bytes: they are `Unasked` below.
            let fed = conn.scanner.feed(&self.buf[..n], conn.awaited)?;
            self.report.ok += u64::from(fed.ok);
            self.report.non2xx += u64::from(fed.non2xx);
            conn.awaited -= fed.responses();
            if fed.responses() > 0 {
                conn.closes = 0;
            }
            if conn.awaited == 0 {
                if fed.used < n {
                    return Err(RunError::Unasked);
                }
                if let Fate::Closed(e) = self.next_batch(conn) {
                    return Ok(Fate::Closed(e));
                }
            }
        }
    }
}

/// Whether a non-blocking connect has completed (mio's `TcpStream::connect` contract: an
/// error from `take_error`, or `peer_addr` that still says "not connected").
fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
