//! The state machine driven by hand: one connection over loopback, one engine, no runtime
//! threads. A scenario sends bytes as the peer, waits for the connection's poller to report
//! them, drives the connection once, and looks at the outcome, the phase, and what the peer
//! received.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_utils::{Limits, Version};

use super::engine::{Engine, Settings};
use super::queue::DispatchQueue;
use super::{drive, CloseReason, Conn, Outcome, Phase, Worker};
use crate::handler::context::{Context, Handler};
use crate::handler::registry::Registry;
use crate::handler::response::Response;
use crate::handler::site::Site;
use crate::io::poller::{AcceptPoll, Poller};
use crate::io::timeouts::Timeouts;
use crate::io::transport::{Connection, ListenOptions, PeerAddr, TcpTransport, Transport};
use crate::io::wire::WireRules;

const KEY: u64 = 0;
/// The longest any step waits for the peer's bytes to be reported.
const STEP: Duration = Duration::from_secs(5);

struct Scenario {
    engine: Engine,
    conn: Option<Conn>,
    peer: TcpStream,
    events: mio::Events,
}

fn engine(settings: Settings) -> Engine {
    let timeouts = Timeouts { write: Duration::from_secs(2), ..Timeouts::default() };
    Engine {
        site: Site::new("t".into(), "localhost".into(), Version::Http11, Duration::from_secs(5), 64),
        wire: WireRules { timeouts, limits: Limits::default(), abort: AtomicBool::new(false) },
        registry: Registry::new(),
        settings,
        pollers: vec![Arc::new(Poller::new().unwrap())],
        queue: DispatchQueue::new(4),
        active: AtomicUsize::new(0),
        // No handler streams its body: every body is read by the engine first.
        streaming: super::engine::Budget::new(0),
        requests: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        body_budget: super::engine::Budget::new(1 << 20),
        upgrades: Default::default(),
    }
}

fn settings() -> Settings {
    Settings {
        max_requests_per_connection: 100,
        request_count_limit: 4,
        queue_wait: Duration::from_secs(1),
        compression: false,
    }
}

impl Scenario {
    fn new(routes: &[(&str, Handler)]) -> Scenario {
        Scenario::with(settings(), routes)
    }

    fn with(settings: Settings, routes: &[(&str, Handler)]) -> Scenario {
        Scenario::wrapped(settings, routes, |io| io)
    }

    /// A scenario whose accepted connection is first wrapped by `wrap`.
    fn wrapped(
        settings: Settings,
        routes: &[(&str, Handler)],
        wrap: impl FnOnce(Box<dyn Connection>) -> Box<dyn Connection>,
    ) -> Scenario {
        let engine = engine(settings);
        engine.registry.update(|t| {
            for (path, h) in routes {
                t.resources.insert((*path).to_owned(), h.clone());
            }
        });
        let options =
            ListenOptions { port: 0, host: Some("127.0.0.1".into()), backlog: 8, reuse_port: false };
        let mut listener = TcpTransport.listen(&options).unwrap();
        let addr = listener.local_addr().unwrap().socket_addr().unwrap();
        let (mut accept, _waker) = AcceptPoll::new(listener.source()).unwrap();
        let peer = TcpStream::connect(addr).unwrap();
        peer.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let started = Instant::now();
        let io = loop {
            match listener.accept() {
                Ok(io) => break io,
                Err(_) if started.elapsed() < STEP => accept.wait(Some(Duration::from_millis(50))),
                Err(e) => panic!("no connection: {e}"),
            }
        };
        let mut conn = Conn::new(wrap(io), Instant::now() + Duration::from_secs(10));
        engine.pollers[0].add(conn.io.source(), KEY).unwrap();
        Scenario { engine, conn: Some(conn), peer, events: mio::Events::with_capacity(8) }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.peer.write_all(bytes).unwrap();
    }

    /// Waits until the connection's poller reports something, then drives it once (again at
    /// once while the outcome says so).
    fn drive(&mut self) -> Outcome {
        let mut ready = Vec::new();
        let _ = self.engine.pollers[0].wait(&mut self.events, &mut ready, Some(STEP));
        let hangup = ready.iter().any(|r| r.hangup);
        self.drive_now(hangup)
    }

    fn drive_now(&mut self, hangup: bool) -> Outcome {
        let mut w = Worker::new(&self.engine, 1);
        w.key = KEY;
        let conn = self.conn.as_mut().expect("the connection is closed");
        let outcome = drive(&mut w, conn, hangup);
        if let Outcome::Close(_) = outcome {
            self.conn = None;
        }
        outcome
    }

    fn phase(&self) -> &'static str {
        match self.conn.as_ref().map(|c| &c.phase) {
            None => "closed",
            Some(Phase::Handshake) => "Handshake",
            Some(Phase::Head) => "Head",
            Some(Phase::Body(_)) => "Body",
            Some(Phase::Queued(_)) => "Queued",
            Some(Phase::Waiting(_)) => "Waiting",
            Some(Phase::Write(_)) => "Write",
            Some(Phase::Linger(_)) => "Linger",
            Some(Phase::Socket(_)) => "Socket",
        }
    }

    /// What the peer can read now (waiting a little for it).
    fn received(&mut self, at_least: usize) -> String {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let started = Instant::now();
        while got.len() < at_least.max(1) && started.elapsed() < STEP {
            match self.peer.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) if got.len() >= at_least => break,
                Err(_) => {}
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }
}

fn text(body: &'static str) -> Handler {
    Arc::new(move |_cx: &mut Context<'_>| Response::text(body))
}

fn echo_length() -> Handler {
    Arc::new(|cx: &mut Context<'_>| match cx.read_body() {
        Ok(b) => Response::text(format!("got {}", b.len())),
        Err(e) => Response::new(e.status()),
    })
}

/// A connection that gives at most a few bytes a read, as a transport may (a reader that
/// decodes, a system that returns less than is there), and does not say that a short read
/// empties the socket (as on Windows).
struct Dribble(Box<dyn Connection>);

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(5);
        self.0.read(&mut buf[..n])
    }
}

impl Write for Dribble {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Connection for Dribble {
    fn peer_addr(&self) -> PeerAddr {
        self.0.peer_addr()
    }
    fn source(&mut self) -> &mut dyn mio::event::Source {
        self.0.source()
    }
    fn hard_close(&mut self) {
        self.0.hard_close();
    }
}

#[test]
fn reads_go_on_until_the_socket_would_block() {
    let routes = [("/a", text("A")), ("/b", text("B"))];
    let mut s = Scenario::wrapped(settings(), &routes, |io| Box::new(Dribble(io)));
    // Every read stops short: one report must still see every request the peer sent.
    s.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    let got = s.received(100);
    assert_eq!(got.matches("HTTP/1.1 200 OK").count(), 2, "{got}");
    // The kept connection answers the next request, sent after the first were answered.
    s.send(b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(20).ends_with("\r\n\r\nB"));
    // A body in pieces smaller than a read is read whole in one turn.
    let mut s = Scenario::wrapped(settings(), &[("/len", echo_length())], |io| Box::new(Dribble(io)));
    s.send(b"POST /len HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n");
    s.send(&[b'x'; 40]);
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(20).ends_with("got 40"));
}

#[test]
fn a_head_in_pieces_is_answered_once_it_is_whole() {
    let mut s = Scenario::new(&[("/a", text("A"))]);
    let head = b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n";
    for (i, byte) in head.iter().enumerate() {
        s.send(&[*byte]);
        assert_eq!(s.drive(), Outcome::Park, "after byte {i}");
        assert_eq!(s.phase(), "Head");
    }
    assert!(s.received(20).ends_with("\r\n\r\nA"));
}

#[test]
fn pipelined_heads_are_answered_in_one_turn() {
    let mut s = Scenario::new(&[("/a", text("A")), ("/b", text("B"))]);
    s.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\nGET /a HTTP/1.1\r\nHo");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Head");
    let got = s.received(100);
    assert_eq!(got.matches("HTTP/1.1 200 OK").count(), 2, "{got}");
    assert!(got.find("\r\n\r\nA").unwrap() < got.find("\r\n\r\nB").unwrap(), "{got}");
    // The partial third head waits, parked, until the rest comes.
    s.send(b"st: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(20).ends_with("\r\n\r\nA"));
}

#[test]
fn a_body_arriving_in_pieces_is_read_parked_then_dispatched() {
    let mut s = Scenario::new(&[("/up", echo_length())]);
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n012");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Body");
    assert_eq!(s.engine.active.load(std::sync::atomic::Ordering::Relaxed), 0, "no handler runs yet");
    s.send(b"3456");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Body");
    // The rest, and the next request behind it.
    s.send(b"789GET /up HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Head");
    let got = s.received(60);
    assert!(got.contains("got 10") && got.ends_with("got 0"), "{got}");
}

#[test]
fn a_body_awaited_holds_a_buffer_the_size_of_what_came() {
    let mut s = Scenario::new(&[("/up", echo_length())]);
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    let room = |s: &Scenario| match s.conn.as_ref().map(|c| &c.phase) {
        Some(Phase::Body(b)) => b.buffer_room(),
        _ => panic!("not parked in Body: {}", s.phase()),
    };
    // The announced length reserves nothing before the bytes come.
    assert_eq!(room(&s), 0);
    s.send(&[b'x'; 100]);
    assert_eq!(s.drive(), Outcome::Park);
    assert!((100..=256).contains(&room(&s)), "{}", room(&s));
    // The rest, in pieces: the body is whole, and the request after it is read.
    for _ in 0..9 {
        s.send(&[b'y'; 11_100]);
        s.drive();
    }
    s.send(b"GET /up HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut got = String::new();
    for _ in 0..8 {
        if got.contains("got 0") {
            break;
        }
        s.drive();
        got.push_str(&s.received(0));
    }
    assert!(got.contains("got 100000") && got.ends_with("got 0"), "{got}");
}

#[test]
fn a_chunked_body_is_decoded_on_the_way_in() {
    let mut s = Scenario::new(&[("/up", echo_length())]);
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Body");
    s.send(b"2\r\nef\r\n0\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(10).ends_with("got 6"));
    // A malformed chunk size is a 400, and the connection lingers.
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    let outcome = s.drive();
    assert!(matches!(outcome, Outcome::Park | Outcome::Close(_)), "{outcome:?}");
    assert!(s.received(12).starts_with("HTTP/1.1 400"));
}

#[test]
fn continue_is_sent_by_the_engine_before_it_reads_the_body() {
    let mut s = Scenario::new(&[("/up", echo_length())]);
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Body");
    assert_eq!(s.received(25), "HTTP/1.1 100 Continue\r\n\r\n");
    s.send(b"abcd");
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(10).ends_with("got 4"));
}

#[test]
fn a_large_response_is_written_while_parked() {
    let big: Handler =
        Arc::new(|_cx: &mut Context<'_>| Response::bytes("application/octet-stream", vec![7u8; 8 << 20]));
    let mut s = Scenario::new(&[("/big", big), ("/", text("after"))]);
    s.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Write", "8 MiB do not fit in the socket buffers");
    // The peer reads; each report of room goes on writing, then the pipelined request.
    let mut total = 0;
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    while s.phase() == "Write" && started.elapsed() < Duration::from_secs(20) {
        while let Ok(n) = s.peer.read(&mut buf) {
            total += n;
            if n < buf.len() {
                break;
            }
        }
        assert_eq!(s.drive_now(false), Outcome::Park);
    }
    assert_eq!(s.phase(), "Head");
    // What is left sits in the socket buffers: read it to the end of the second response.
    let mut tail = Vec::new();
    while !tail.ends_with(b"after") && started.elapsed() < Duration::from_secs(20) {
        match s.peer.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                tail.extend_from_slice(&buf[..n]);
                let keep = tail.len().saturating_sub(16);
                tail.drain(..keep);
            }
            Err(_) => {}
        }
    }
    assert!(tail.ends_with(b"after"), "the pipelined response follows the large one");
    assert!(total > 8 << 20, "{total}");
}

#[test]
fn an_answer_from_a_responder_resumes_the_connection() {
    let later: Handler = Arc::new(|cx: &mut Context<'_>| {
        let r = cx.responder();
        std::thread::spawn(move || {
            let _ = r.send(Response::text("later"));
        });
        Response::later()
    });
    let mut s = Scenario::new(&[("/later", later)]);
    s.send(b"GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
    let first = s.drive();
    assert_eq!(first, Outcome::Park);
    if s.phase() == "Waiting" {
        // The responder's send wakes the seat's poller with the connection's key.
        assert_eq!(s.drive(), Outcome::Park);
    }
    assert_eq!(s.phase(), "Head");
    assert!(s.received(10).ends_with("later"));
}

#[test]
fn a_full_slot_count_queues_the_request() {
    let mut settings = settings();
    settings.request_count_limit = 1;
    let mut s = Scenario::with(settings, &[("/", text("ok"))]);
    // Another handler holds the one slot.
    s.engine.active.store(1, std::sync::atomic::Ordering::Relaxed);
    s.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Queued");
    assert_eq!(s.engine.queue.pop(), Some(KEY));
    // The slot frees up: the queued request runs when the connection is driven again.
    s.engine.active.store(0, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(s.drive_now(false), Outcome::Park);
    assert_eq!(s.phase(), "Head");
    assert!(s.received(2).ends_with("ok"));
}

#[test]
fn a_malformed_head_is_answered_then_lingers_until_the_peer_closes() {
    let mut s = Scenario::new(&[]);
    s.send(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Linger");
    let got = s.received(12);
    assert!(got.starts_with("HTTP/1.1 400") && got.contains("Connection: close"), "{got}");
    // What the peer still sends is dropped; its close ends the linger.
    s.send(b"more bytes");
    assert_eq!(s.drive(), Outcome::Park);
    s.peer.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(s.drive(), Outcome::Close(CloseReason::BadRequest));
}

#[test]
fn a_declared_body_over_the_limit_is_refused_at_once() {
    let mut s = Scenario::new(&[("/up", echo_length())]);
    s.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Linger");
    assert!(s.received(12).starts_with("HTTP/1.1 413"));
}

#[test]
fn continue_never_passes_the_responses_before_it() {
    let mut s = Scenario::new(&[("/a", text("A")), ("/up", echo_length())]);
    s.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nPOST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Body");
    let got = s.received(1);
    let got = if got.contains("100 Continue") { got } else { got + &s.received(25) };
    let (a, cont) = (got.find("\r\n\r\nA").unwrap(), got.find("HTTP/1.1 100 Continue").unwrap());
    assert!(a < cont, "{got}");
    s.send(b"ok");
    assert_eq!(s.drive(), Outcome::Park);
    assert!(s.received(5).ends_with("got 2"));
}

#[test]
fn a_file_body_goes_out_whole_while_parked() {
    let path = std::env::temp_dir().join(format!("http-server-engine-file-{}", std::process::id()));
    let data: Vec<u8> = (0..(4u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let p = path.clone();
    let file: Handler = Arc::new(move |_cx: &mut Context<'_>| {
        Response::file(std::fs::File::open(&p).unwrap(), 1000, 3 << 20)
    });
    let mut s = Scenario::new(&[("/f", file)]);
    s.send(b"GET /f HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut outcome = s.drive();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    let want = 3 << 20;
    while started.elapsed() < Duration::from_secs(20) {
        match s.peer.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if s.phase() == "Write" {
            outcome = s.drive_now(false);
        }
        let body_at = got.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        if body_at.is_some_and(|at| got.len() - at >= want) {
            break;
        }
    }
    assert_eq!(outcome, Outcome::Park);
    assert_eq!(s.phase(), "Head");
    let at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(String::from_utf8_lossy(&got[..at]).contains(&format!("Content-Length: {want}")));
    assert!(got[at..] == data[1000..1000 + want], "the bytes of the file, in order");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_chunked_body_in_pieces_of_any_size_reads_the_same() {
    let head = b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let body = b"5\r\nhello\r\n1;ext=x\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: t\r\n\r\n".to_vec();
    for piece in [1, 2, 3, 5, 8, 13] {
        let mut s = Scenario::new(&[("/up", echo_length())]);
        s.send(&head);
        assert_eq!(s.drive(), Outcome::Park);
        for chunk in body.chunks(piece) {
            s.send(chunk);
            assert_eq!(s.drive(), Outcome::Park, "piece size {piece}");
        }
        assert_eq!(s.phase(), "Head", "piece size {piece}");
        assert!(s.received(10).ends_with("got 12"), "piece size {piece}");
    }
}

#[test]
fn a_queued_streaming_request_gives_its_slot_back_when_its_connection_goes() {
    let mut settings = settings();
    settings.request_count_limit = 1;
    let mut s = Scenario::with(settings, &[("/s", echo_length())]);
    s.engine.streaming = super::engine::Budget::new(1);
    s.engine.registry.update(|t| {
        let pattern = crate::handler::route::Pattern::parse("/s").unwrap();
        t.streaming.insert(pattern, crate::handler::route_table::Methods::Any, ()).unwrap();
    });
    // Another handler holds the one slot: the streamed request waits in the queue, holding
    // the one streaming slot.
    s.engine.active.store(1, std::sync::atomic::Ordering::Relaxed);
    s.send(b"PUT /s HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(s.drive(), Outcome::Park);
    assert_eq!(s.phase(), "Queued");
    assert!(!crate::io::budget::Share::new(&s.engine.streaming).grow(1), "the slot is taken");
    // Its connection is closed while it waits (a deadline, a shutdown): the slot comes back.
    s.conn = None;
    assert!(crate::io::budget::Share::new(&s.engine.streaming).grow(1), "the slot is free again");
}

#[test]
fn a_step_is_small_enough_to_move_cheaply() {
    // `drive` moves a `Next` from step to step, several times a request: what is large
    // travels boxed (a request's record, a body, a parked write).
    let size = std::mem::size_of::<super::Next>();
    assert!(size <= 32, "Next is {size} bytes");
}
