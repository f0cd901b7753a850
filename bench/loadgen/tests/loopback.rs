//! The generator against small std::net servers on loopback: one that answers every pipelined
//! request, one that answers with a chunked body, one that closes after each answer and one
//! that closes without answering.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bench_loadgen::scanner::ScanError;
use bench_loadgen::{run, Config, RunError};

const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";
const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\n\r\n";

/// How a test server answers.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Every request with HELLO, all the answers to one read in two writes split mid-response.
    Hello,
    /// With CHUNKED.
    Chunked,
    /// The first request with HELLO, then it closes.
    CloseAfterOne,
    /// It closes at once.
    CloseAtOnce,
}

/// A server on 127.0.0.1:0 with a thread per connection.
struct Peer {
    addr: SocketAddr,
    done: Arc<AtomicBool>,
    acceptor: JoinHandle<Vec<JoinHandle<u64>>>,
}

impl Peer {
    fn start(behaviour: Behaviour) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let acceptor = thread::spawn(move || {
            let mut handles = Vec::new();
            // Bounded: a test makes at most a few hundred connections.
            for _ in 0..10_000 {
                let Ok((stream, _)) = listener.accept() else { break };
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                handles.push(thread::spawn(move || answer(stream, behaviour).unwrap_or(0)));
            }
            handles
        });
        Peer { addr, done, acceptor }
    }

    /// Stops accepting, waits for every connection's thread (each ends when the generator's
    /// side closes), and returns how many requests were answered.
    fn stop(self) -> u64 {
        self.done.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees `done`.
        let _ = TcpStream::connect(self.addr);
        self.acceptor.join().unwrap().into_iter().map(|h| h.join().unwrap()).sum()
    }

    fn config(&self, conns: usize, depth: u32, millis: u64) -> Config {
        Config {
            addr: self.addr,
            host: self.addr.to_string(),
            path: "/".into(),
            conns,
            depth,
            duration: Duration::from_millis(millis),
            warmup: Duration::ZERO,
        }
    }
}

/// Answers the requests on one connection until it is closed; returns how many it answered.
fn answer(mut stream: TcpStream, behaviour: Behaviour) -> io::Result<u64> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    if let Behaviour::CloseAtOnce = behaviour {
        return Ok(0);
    }
    let (mut buf, mut out) = ([0u8; 4096], Vec::new());
    // How much of "\r\n\r\n" the bytes so far end with.
    let mut matched = 0;
    let mut answered = 0;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(answered);
        }
        out.clear();
        for &b in &buf[..n] {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if matched == 4 {
                matched = 0;
                answered += 1;
                out.extend_from_slice(if let Behaviour::Chunked = behaviour { CHUNKED } else { HELLO });
            }
        }
        let (a, b) = out.split_at(out.len() / 2 + 7.min(out.len() / 2));
        stream.write_all(a)?;
        stream.write_all(b)?;
        if let Behaviour::CloseAfterOne = behaviour {
            if answered > 0 {
                return Ok(answered);
            }
        }
    }
}

#[test]
fn counts_pipelined_answers() {
    let peer = Peer::start(Behaviour::Hello);
    let started = Instant::now();
    let report = run(&peer.config(8, 16, 300)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let answered = peer.stop();
    assert!(report.ok > 16, "{report:?}");
    assert_eq!((report.non2xx, report.errors, report.reconnects), (0, 0, 0));
    // Every response counted was answered; some answered were still in flight at the end.
    assert!(report.ok <= answered, "{} counted, {answered} answered", report.ok);
    // The process's (the test servers' threads too): only that it can be read.
    assert!(report.cpu.is_some());
}

#[test]
fn a_chunked_answer_stops_the_run() {
    let peer = Peer::start(Behaviour::Chunked);
    let got = run(&peer.config(2, 4, 2_000));
    peer.stop();
    assert!(matches!(got, Err(RunError::Scan(ScanError::TransferEncoding(200)))), "{got:?}");
}

#[test]
fn closed_connections_are_opened_again() {
    let peer = Peer::start(Behaviour::CloseAfterOne);
    let report = run(&peer.config(2, 4, 200)).unwrap();
    let answered = peer.stop();
    assert!(report.ok > 0 && report.reconnects > 0, "{report:?}");
    assert!(report.ok <= answered);
}

#[test]
fn a_server_that_only_closes_ends_the_run() {
    let peer = Peer::start(Behaviour::CloseAtOnce);
    let started = Instant::now();
    let got = run(&peer.config(2, 4, 10_000));
    peer.stop();
    assert!(matches!(got, Err(RunError::KeepsClosing { .. })), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "gave up only after {:?}", started.elapsed());
}
