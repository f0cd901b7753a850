//! The client side of the WebSocket benchmark (`bench/websockets.py`): opens N WebSockets to
//! `ws://127.0.0.1:PORT/ws` and reads them all on one thread (mio), answering pings and
//! closes. Every text message starts `NUMBER NANOS`, the publish time in nanoseconds since
//! the Unix epoch: the client records now minus that as the message's delivery latency.
//!
//! It prints `open N FAILED` once every handshake is answered (at most 256 pending at a
//! time), then takes commands on stdin, one a line: `reset` starts a window, `report`
//! prints `report DELIVERED P50_US P99_US MAX_US OPEN` for the window so far. It exits when
//! stdin closes.
//!
//! `cargo run --profile release-lto --example ws_clients -- PORT N`

use std::collections::HashSet;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const KEY_REQUEST: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet a whole frame (or, before the 101, the response head so far).
    pending: Vec<u8>,
    open: bool,
}

/// What a whole frame at the front of `b` is: opcode, header length, payload length. A
/// length that does not fit in memory never makes a whole frame.
fn frame(b: &[u8]) -> Option<(u8, usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let (mut header, len): (usize, usize) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (4, usize::from(u16::from_be_bytes([b[2], b[3]]))),
        127 if b.len() >= 10 => (10, usize::try_from(u64::from_be_bytes(b[2..10].try_into().unwrap())).ok()?),
        126 | 127 => return None,
        n => (2, usize::from(n)),
    };
    if b[1] & 0x80 != 0 {
        header += 4;
    }
    (b.len() >= header.checked_add(len)?).then_some((opcode, header, len))
}

/// A masked client frame (FIN set) of `opcode` carrying `payload` (at most 125 bytes).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 0x80 | payload.len().min(125) as u8];
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().take(125).enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// The delivery latency of a message `NUMBER NANOS ...`, in microseconds.
fn latency_us(payload: &[u8], now: u128) -> Option<u64> {
    let text = std::str::from_utf8(payload).ok()?;
    let sent: u128 = text.split(' ').nth(1)?.parse().ok()?;
    Some((now.saturating_sub(sent) / 1000) as u64)
}

struct Window {
    latencies: Vec<u64>,
}

impl Window {
    fn report(&mut self, open: usize) -> String {
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let l = &self.latencies;
            if l.is_empty() {
                0
            } else {
                l[((l.len() as f64 * q) as usize).min(l.len() - 1)]
            }
        };
        format!(
            "report {} {} {} {} {open}",
            self.latencies.len(),
            at(0.50),
            at(0.99),
            self.latencies.last().copied().unwrap_or(0)
        )
    }
}

/// Reads what `conn` has; false when it is gone.
fn serve(conn: &mut Conn, buf: &mut [u8], window: &mut Window) -> bool {
    loop {
        match conn.stream.read(buf) {
            Ok(0) => return false,
            Ok(k) => conn.pending.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    let mut at = 0;
    if !conn.open {
        let Some(end) = conn.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            // A handshake answer's head fits in 16 KiB.
            return conn.pending.len() <= 16 * 1024;
        };
        if !conn.pending.starts_with(b"HTTP/1.1 101") {
            return false;
        }
        conn.open = true;
        at = end + 4;
    }
    let now = now_ns();
    while let Some((opcode, header, len)) = frame(&conn.pending[at..]) {
        let payload = &conn.pending[at + header..at + header + len];
        match opcode {
            1 | 2 => {
                if let Some(us) = latency_us(payload, now) {
                    window.latencies.push(us);
                }
            }
            9 => {
                let _ = conn.stream.write_all(&client_frame(0xA, payload));
            }
            8 => {
                let _ = conn.stream.write_all(&client_frame(0x8, &payload[..payload.len().min(2)]));
                return false;
            }
            _ => {}
        }
        at += header + len;
    }
    conn.pending.drain(..at);
    true
}

fn commands() -> Receiver<Option<String>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    rx
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).expect("PORT");
    let n: usize = args.next().and_then(|p| p.parse().ok()).expect("N");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let request = format!("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{KEY_REQUEST}");
    let mut poll = Poll::new().expect("poll");
    let mut conns: Vec<Option<Conn>> = Vec::with_capacity(n);
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut window = Window { latencies: Vec::new() };
    let mut waiting: HashSet<usize> = HashSet::new();
    let mut failed = 0;
    let rx = commands();
    let started = Instant::now();
    let mut next = 0;
    let mut announced = false;
    loop {
        // Open more while fewer than 256 handshakes are unanswered.
        while next < n && waiting.len() < 256 {
            let i = next;
            next += 1;
            conns.push(None);
            let Ok(s) = std::net::TcpStream::connect(addr) else {
                failed += 1;
                continue;
            };
            let _ = s.set_nodelay(true);
            let mut s2 = &s;
            if s2.write_all(request.as_bytes()).is_err() || s.set_nonblocking(true).is_err() {
                failed += 1;
                continue;
            }
            let mut stream = TcpStream::from_std(s);
            poll.registry().register(&mut stream, Token(i), Interest::READABLE).expect("register");
            conns[i] = Some(Conn { stream, pending: Vec::new(), open: false });
            waiting.insert(i);
        }
        if !announced && next == n && waiting.is_empty() {
            println!("open {} {failed} {:.1}", n - failed, started.elapsed().as_secs_f64());
            announced = true;
        }
        let _ = poll.poll(&mut events, Some(Duration::from_millis(50)));
        for e in events.iter() {
            let i = e.token().0;
            let Some(conn) = conns[i].as_mut() else { continue };
            let alive = serve(conn, &mut buf, &mut window);
            if conn.open || !alive {
                waiting.remove(&i);
            }
            if !alive {
                if !conn.open {
                    failed += 1;
                }
                conns[i] = None;
            }
        }
        loop {
            match rx.try_recv() {
                Ok(Some(line)) => match line.trim() {
                    "reset" => window.latencies.clear(),
                    "report" => {
                        let open = conns.iter().filter(|c| c.as_ref().is_some_and(|c| c.open)).count();
                        println!("{}", window.report(open));
                    }
                    _ => {}
                },
                Ok(None) | Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
    }
}
