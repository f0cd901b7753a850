//! Slow and silent peers cost a socket and a buffer, not the server: while hundreds of peers
//! trickle request bodies, leave large responses unread or stop in the middle of a head, a
//! normal client is still answered 200 within a second. A request that declares a body is
//! answered at once when the server will not read it (busy, or a handler that ignores it).
//!
//! Every peer is a raw `TcpStream` on loopback. Each connection costs two descriptors in this
//! process (the test's end and the server's end), so the peer counts are scaled down to fit
//! the soft open-file limit when it is low: at the common 1024, the combined scenario holds
//! about 440 connections instead of 700; nothing is raised.

mod server_support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use http_toolkit::server::{Context, Response, ServerBuilder, ServerHandle};
use http_toolkit::utils::Method;
use server_support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The scenarios run one at a time: they share the descriptor budget and two CPUs, and their
/// timings mean something only alone.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// How quickly a normal client must be answered.
const PROMPT: Duration = Duration::from_secs(1);
/// How long one probe waits for its answer at most (longer than `PROMPT`, to see by how much
/// a late answer misses).
const PROBE_WAIT: Duration = Duration::from_secs(2);
/// Probes per scenario, and the pause between them.
const PROBES: usize = 20;
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// The soft limit on open files of this process, from `/proc/self/limits`.
fn open_file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

/// `wanted` peer counts, scaled down together so that they, the probes and the server's own
/// descriptors fit the open-file limit (two descriptors per connection).
fn scaled(wanted: &[usize]) -> Vec<usize> {
    let budget = open_file_limit().saturating_sub(150) / 2;
    let total: usize = wanted.iter().sum();
    if total <= budget {
        return wanted.to_vec();
    }
    let counts: Vec<usize> = wanted.iter().map(|&n| n * budget / total).collect();
    eprintln!("open-file limit {}: peers scaled from {wanted:?} to {counts:?}", open_file_limit());
    counts
}

/// Signals from the handlers: which slow requests reached a handler.
struct Entered {
    upload: Receiver<()>,
    big: Receiver<()>,
}

/// The server the scenarios run against: `POST /upload` reads its body, `GET /big` answers
/// 1 MiB, `GET /` says hello, `GET /get-only` is a GET route, and `/ignore` answers without
/// reading a body.
fn server(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> (ServerHandle, Entered) {
    let (upload_tx, upload) = mpsc::channel::<()>();
    let (big_tx, big) = mpsc::channel::<()>();
    let upload_tx = Mutex::new(upload_tx);
    let big_tx = Mutex::new(big_tx);
    let h = start(
        |b| configure(b.shutdown_grace(ms(2000))),
        move |s| {
            s.add_resource("/", |_, _| Response::text("hello"));
            s.add_resource("/big", move |_, _| {
                let _ = big_tx.lock().unwrap().send(());
                Response::bytes("application/octet-stream", vec![b'b'; 1 << 20])
            });
            s.route(Method::Post, "/upload", move |cx: &mut Context<'_>| {
                let _ = upload_tx.lock().unwrap().send(());
                match cx.read_body() {
                    Ok(body) => Response::text(body.len().to_string()),
                    Err(e) => cx.error_response(e.status(), "bad body"),
                }
            })
            .unwrap();
            s.route(Method::Get, "/get-only", |_cx| Response::text("got")).unwrap();
            s.add_context_resource("/ignore", |_cx: &mut Context<'_>| Response::text("ignored"));
        },
    );
    (h, Entered { upload, big })
}

/// Counts signals on `rx` until `want` have come or `within` has passed.
fn count_entered(rx: &Receiver<()>, want: usize, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut n = 0;
    while n < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) => n += 1,
            Err(_) => break,
        }
    }
    n
}

/// One normal request: `GET /` with `Connection: close` on a fresh socket, read to the end.
/// Returns the status (0 when there was no status line) and how long the answer took.
fn probe_once(addr: SocketAddr) -> (u16, Duration) {
    let started = Instant::now();
    let Ok(mut s) = TcpStream::connect_timeout(&addr, PROBE_WAIT) else {
        return (0, started.elapsed());
    };
    s.set_read_timeout(Some(PROBE_WAIT)).unwrap();
    s.set_write_timeout(Some(PROBE_WAIT)).unwrap();
    if s.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n").is_err() {
        return (0, started.elapsed());
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < PROBE_WAIT {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    let status = status_of(&text);
    if status == 200 && !text.ends_with("hello") {
        return (0, started.elapsed());
    }
    (status, started.elapsed())
}

/// What the probes saw.
struct Probes {
    results: Vec<(u16, Duration)>,
}

impl Probes {
    fn prompt_ok(&self) -> usize {
        self.results.iter().filter(|(s, t)| *s == 200 && *t <= PROMPT).count()
    }

    /// The probes answered 200 within `PROMPT`, against `share` of them at least.
    fn assert_served(&self, scenario: &str, share: f64) {
        let ok = self.prompt_ok();
        let need = (self.results.len() as f64 * share).ceil() as usize;
        assert!(
            ok >= need,
            "{scenario}: {ok}/{} probes answered 200 within {PROMPT:?} (need {need}); {}",
            self.results.len(),
            self.summary()
        );
    }

    fn summary(&self) -> String {
        let mut times: Vec<Duration> = self.results.iter().map(|r| r.1).collect();
        times.sort();
        let statuses: Vec<u16> = self.results.iter().map(|r| r.0).collect();
        format!(
            "statuses {statuses:?}, latency min {:?} median {:?} max {:?}",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        )
    }
}

/// `PROBES` normal requests one after another, `PROBE_EVERY` apart.
fn probe(addr: SocketAddr, scenario: &str) -> Probes {
    let mut results = Vec::with_capacity(PROBES);
    for i in 0..PROBES {
        if i > 0 {
            thread::sleep(PROBE_EVERY);
        }
        results.push(probe_once(addr));
    }
    let p = Probes { results };
    eprintln!("{scenario}: {}/{} prompt 200s; {}", p.prompt_ok(), PROBES, p.summary());
    p
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_write_timeout(Some(ms(1000))).unwrap();
    s
}

/// Keep-alive uploads that declare 1000 body bytes and send one now and then: `count` sockets
/// that have sent their head and a first byte; a thread sends one more byte on each every
/// 250 ms until dropped (at most 400 rounds, so never the whole body).
struct SlowUploads {
    stop: Option<Sender<()>>,
    trickler: Option<thread::JoinHandle<Vec<TcpStream>>>,
}

impl SlowUploads {
    fn open(addr: SocketAddr, count: usize) -> SlowUploads {
        let mut socks = Vec::with_capacity(count);
        for _ in 0..count {
            let mut s = connect(addr);
            let _ = s.write_all(b"POST /upload HTTP/1.1\r\nHost: slow\r\nContent-Length: 1000\r\n\r\nx");
            socks.push(s);
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let trickler = thread::spawn(move || {
            for _ in 0..400 {
                match stopped.recv_timeout(ms(250)) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
                for s in &mut socks {
                    let _ = s.write(b"x");
                }
            }
            socks
        });
        SlowUploads { stop: Some(stop), trickler: Some(trickler) }
    }

    /// Stops trickling; returns the sockets, still open.
    fn stop(mut self) -> Vec<TcpStream> {
        drop(self.stop.take());
        self.trickler.take().unwrap().join().unwrap()
    }
}

impl Drop for SlowUploads {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.trickler.take() {
            let _ = t.join();
        }
    }
}

/// Readers that ask for `depth` pipelined `GET /big` (1 MiB each) and never read. Their
/// receive buffer is made small before connecting, so the responses cannot all vanish into
/// the kernel's buffers on loopback.
fn slow_readers(addr: SocketAddr, count: usize, depth: usize) -> Vec<TcpStream> {
    use rustix::net::{sockopt, AddressFamily, SocketType};
    let req = "GET /big HTTP/1.1\r\nHost: slow\r\n\r\n".repeat(depth);
    (0..count)
        .map(|_| {
            let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
            sockopt::set_socket_recv_buffer_size(&fd, 16 * 1024).unwrap();
            rustix::net::connect(&fd, &addr).expect("connect");
            let mut s = TcpStream::from(fd);
            s.set_write_timeout(Some(ms(1000))).unwrap();
            let _ = s.write_all(req.as_bytes());
            s
        })
        .collect()
}

/// Peers that send the start of a head and fall silent.
fn half_heads(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut s = connect(addr);
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n");
            s
        })
        .collect()
}

/// What the held peers have seen so far, without waiting for more.
#[derive(Debug, Default)]
#[allow(dead_code)]
struct Outcomes {
    /// Sent a status line (the statuses seen are listed).
    answered: usize,
    statuses: Vec<u16>,
    /// Closed without a word.
    closed: usize,
    /// Reset (an answer may have been lost with it).
    reset: usize,
    /// Still open, nothing sent.
    silent: usize,
}

fn peer_outcomes(socks: &mut [TcpStream]) -> Outcomes {
    let mut o = Outcomes::default();
    for s in socks.iter_mut() {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => o.closed += 1,
            Ok(n) => {
                o.answered += 1;
                let st = status_of(&String::from_utf8_lossy(&buf[..n]));
                if !o.statuses.contains(&st) {
                    o.statuses.push(st);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => o.silent += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => o.reset += 1,
            Err(_) => o.closed += 1,
        }
    }
    o
}

#[test]
fn slow_uploads_do_not_take_the_server() {
    let _serial = serial();
    let (h, entered) = server(|b| b);
    let a = addr(&h);
    let n = scaled(&[300])[0];
    let uploads = SlowUploads::open(a, n);
    let reached = count_entered(&entered.upload, n, ms(1000));
    let probes = probe(a, &format!("{n} slow uploads ({reached} reached a handler)"));
    let mut socks = uploads.stop();
    eprintln!("slow uploads: {:?}", peer_outcomes(&mut socks));
    drop(socks);
    probes.assert_served("slow uploads", 0.99);
    h.shutdown();
}

#[test]
fn slow_readers_do_not_take_the_server() {
    let _serial = serial();
    let (h, entered) = server(|b| b);
    let a = addr(&h);
    let n = scaled(&[100])[0];
    let mut readers = slow_readers(a, n, 4);
    let reached = count_entered(&entered.big, n, ms(1000));
    let probes = probe(a, &format!("{n} slow readers ({reached} reached a handler)"));
    eprintln!("slow readers: {:?}", peer_outcomes(&mut readers));
    drop(readers);
    probes.assert_served("slow readers", 0.99);
    h.shutdown();
}

#[test]
fn silent_half_heads_do_not_take_the_server() {
    let _serial = serial();
    let (h, _entered) = server(|b| b);
    let a = addr(&h);
    let n = scaled(&[300])[0];
    let mut heads = half_heads(a, n);
    let probes = probe(a, &format!("{n} half heads"));
    eprintln!("half heads: {:?}", peer_outcomes(&mut heads));
    drop(heads);
    probes.assert_served("half heads", 0.99);
    h.shutdown();
}

#[test]
fn all_slow_peers_at_once_do_not_take_the_server() {
    let _serial = serial();
    let (h, entered) = server(|b| b);
    let a = addr(&h);
    let counts = scaled(&[300, 100, 300]);
    let (nu, nr, nh) = (counts[0], counts[1], counts[2]);
    let uploads = SlowUploads::open(a, nu);
    let mut readers = slow_readers(a, nr, 4);
    let mut heads = half_heads(a, nh);
    let reached_upload = count_entered(&entered.upload, nu, ms(1000));
    let reached_big = count_entered(&entered.big, nr, ms(500));
    let probes = probe(
        a,
        &format!(
            "{nu} slow uploads ({reached_upload} reached a handler), {nr} slow readers \
             ({reached_big} reached a handler), {nh} half heads"
        ),
    );
    let mut socks = uploads.stop();
    eprintln!(
        "outcomes: uploads {:?}, readers {:?}, half heads {:?}",
        peer_outcomes(&mut socks),
        peer_outcomes(&mut readers),
        peer_outcomes(&mut heads)
    );
    drop((socks, readers, heads));
    probes.assert_served("all at once", 0.99);
    h.shutdown();
}

/// Sends `head` on a fresh socket and waits up to `wait` for the first bytes of an answer.
/// Returns the status (0 for none) and when it came.
fn head_only(addr: SocketAddr, head: &str, wait: Duration) -> (TcpStream, u16, Duration) {
    let mut s = connect(addr);
    s.set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") && started.elapsed() < wait {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let status = status_of(&String::from_utf8_lossy(&got));
    (s, status, started.elapsed())
}

/// How long the head-only requests below may wait, to see how late an answer is.
const HEAD_ONLY_WAIT: Duration = Duration::from_secs(5);

#[test]
fn busy_server_refuses_a_declared_body_at_once() {
    let _serial = serial();
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let (busy_tx, busy) = mpsc::channel::<()>();
    let busy_tx = Mutex::new(busy_tx);
    // No queue: a request that finds the one slot taken has nowhere to wait.
    let (h, _entered) = server(|b| b.threads(2).io_threads(1).request_count_limit(1).queue_size(0));
    // A handler that holds the one request slot until released.
    h.add_resource("/hold", move |_, _| {
        let _ = busy_tx.lock().unwrap().send(());
        let _ = released.lock().unwrap().recv_timeout(Duration::from_secs(10));
        Response::text("held")
    });
    let a = addr(&h);
    let mut holder = Client::connect(a);
    holder.send(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    busy.recv_timeout(Duration::from_secs(5)).expect("the holding request reached its handler");

    // The slot is taken: a request that declares a body and sends none gets its 503 now.
    let head = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
    let (_s, status, took) = head_only(a, head, HEAD_ONLY_WAIT);
    eprintln!("busy server, POST head without its body: status {status} after {took:?}");

    release.send(()).unwrap();
    assert_eq!(holder.read().text(), "held");
    assert_eq!(status, 503, "no 503 within {HEAD_ONLY_WAIT:?} (took {took:?})");
    assert!(took <= PROMPT, "503 after {took:?}");
    // And the server serves again: the holding request gave its slot back before its answer
    // left, so a request sent once that answer is in finds the slot free.
    assert_eq!(Client::connect(a).get("/").text(), "hello");
    h.shutdown();
}

/// A request with a 100000-byte body of which only the head is sent, to a resource that will
/// not read it: it is answered (or refused) within `PROMPT`, whichever the server chooses.
fn unread_body_is_answered_at_once(path: &str) {
    let _serial = serial();
    let (h, _entered) = server(|b| b.threads(2).io_threads(1));
    let a = addr(&h);
    let head = format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    let (_s, status, took) = head_only(a, &head, HEAD_ONLY_WAIT);
    eprintln!("POST {path} head without its 100000-byte body: status {status} after {took:?}");
    assert!((200..600).contains(&status), "no answer within {HEAD_ONLY_WAIT:?}");
    assert!(took <= PROMPT, "answered {status} after {took:?}");
    assert_eq!(Client::connect(a).get("/").text(), "hello");
    h.shutdown();
}

#[test]
fn post_to_a_get_route_is_answered_without_its_body() {
    unread_body_is_answered_at_once("/get-only");
}

#[test]
fn post_to_no_resource_is_answered_without_its_body() {
    unread_body_is_answered_at_once("/nowhere");
}

/// A handler that might read the body runs only once the server has read it: until then
/// the request is a parked connection, the other clients are served, and the answer comes as
/// soon as the body is there.
#[test]
fn handler_that_ignores_the_body_answers_once_it_is_there() {
    let _serial = serial();
    let (h, _entered) = server(|b| b.threads(2).io_threads(1));
    let a = addr(&h);
    let head = "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
    let (mut s, status, _) = head_only(a, head, Duration::from_millis(300));
    assert_eq!(status, 0, "answered before its body arrived");
    for _ in 0..5 {
        let t0 = Instant::now();
        assert_eq!(Client::connect(a).get("/").text(), "hello");
        assert!(t0.elapsed() <= PROMPT, "{:?}", t0.elapsed());
    }
    s.set_read_timeout(Some(HEAD_ONLY_WAIT)).unwrap();
    let t0 = Instant::now();
    s.write_all(&vec![b'x'; 100_000]).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") && t0.elapsed() < HEAD_ONLY_WAIT {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(status_of(&String::from_utf8_lossy(&got)), 200);
    assert!(t0.elapsed() <= PROMPT, "answered {:?} after the body", t0.elapsed());
    h.shutdown();
}
