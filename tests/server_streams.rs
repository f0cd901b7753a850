//! Streams fed from other threads: written by the engine as they are fed with no worker
//! held, bounded queues with backpressure, the end of a stream, clients that go away, the
//! event-stream format and its keep-alive, and the cap on long-lived answers.

mod server_support;

use std::io::Read;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_toolkit::server::{
    Event, EventSender, Response, StreamError, StreamOptions, StreamSender, TrySendError,
};
use http_toolkit::utils::io::{read_response_head, BodyReader};
use http_toolkit::utils::{Framing, Limits, Method, ResponseHead};
use server_support::{addr, start, Client};

/// A server whose `/stream` answers with a stream whose sender goes to the test, and whose
/// `/now` answers at once.
fn stream_server(
    configure: impl FnOnce(http_toolkit::server::ServerBuilder) -> http_toolkit::server::ServerBuilder,
    options: StreamOptions,
) -> (http_toolkit::server::ServerHandle, mpsc::Receiver<Result<StreamSender, StreamError>>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(configure, move |s| {
        s.route(Method::Get, "/stream", move |cx| {
            let head = Response::bytes("text/plain", "").with_header("X-Stream", "yes");
            let sender = cx.responder().stream_with(head, options);
            let _ = tx.lock().unwrap().send(sender);
            Response::later()
        })
        .unwrap();
        s.route(Method::Get, "/now", |_| Response::text("now")).unwrap();
    });
    (h, rx)
}

fn open(c: &mut Client, path: &str) -> ResponseHead {
    c.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    read_response_head(&mut c.reader, &Limits::default()).expect("a head").expect("a head")
}

fn recv<T>(rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(Duration::from_secs(10)).expect("the handler ran")
}

/// Reads exactly `n` body bytes of a chunked body.
fn read_body(c: &mut Client, n: usize) -> Vec<u8> {
    let mut body = BodyReader::new(&mut c.reader, Framing::Chunked, &Limits::default());
    let mut out = vec![0u8; n];
    body.read_exact(&mut out).expect("the body bytes");
    out
}

#[test]
fn streams_are_written_as_fed_and_hold_no_worker() {
    // Two workers, one of them on the only seat: twenty live streams must hold neither.
    let (h, rx) = stream_server(|b| b.threads(2).io_threads(1), StreamOptions::new());
    let a = addr(&h);
    let mut clients: Vec<Client> = (0..20).map(|_| Client::connect(a)).collect();
    let mut senders = Vec::new();
    for c in clients.iter_mut() {
        let head = open(c, "/stream");
        assert_eq!(head.status, 200);
        assert_eq!(head.headers.get("transfer-encoding"), Some("chunked"));
        assert_eq!(head.headers.get("x-stream"), Some("yes"));
        senders.push(recv(&rx).expect("a live stream"));
    }
    assert_eq!(Client::connect(a).get("/now").text(), "now");
    // One producer thread feeds every stream; each client sees its chunks as they come.
    for round in 0..3 {
        for (i, s) in senders.iter().enumerate() {
            s.send(format!("{round}:{i:02};")).unwrap();
        }
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(read_body(c, 5), format!("{round}:{i:02};").as_bytes());
        }
    }
    assert_eq!(Client::connect(a).get("/now").text(), "now");
}

#[test]
fn the_end_of_a_stream_keeps_the_connection() {
    let (h, rx) = stream_server(|b| b, StreamOptions::new());
    let mut c = Client::connect(addr(&h));
    open(&mut c, "/stream");
    let s = recv(&rx).unwrap();
    s.send("first ").unwrap();
    s.send(b"second".to_vec()).unwrap();
    s.finish();
    let mut body = Vec::new();
    BodyReader::new(&mut c.reader, Framing::Chunked, &Limits::default()).read_to_end(&mut body).unwrap();
    assert_eq!(body, b"first second");
    assert_eq!(c.get("/now").text(), "now");
}

#[test]
fn an_http10_client_gets_the_stream_until_the_close() {
    let (h, rx) = stream_server(|b| b, StreamOptions::new());
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /stream HTTP/1.0\r\n\r\n");
    let head = read_response_head(&mut c.reader, &Limits::default()).unwrap().unwrap();
    assert!(head.headers.get("transfer-encoding").is_none());
    assert!(head.headers.get("content-length").is_none());
    let s = recv(&rx).unwrap();
    s.send("raw bytes").unwrap();
    drop(s);
    let mut rest = Vec::new();
    c.reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"raw bytes");
}

#[test]
fn a_full_queue_pushes_back_and_drains_when_the_client_reads() {
    let capacity = 16 * 1024;
    let (h, rx) = stream_server(|b| b, StreamOptions::new().capacity(capacity));
    let mut c = Client::connect(addr(&h));
    open(&mut c, "/stream");
    let s = recv(&rx).unwrap();
    // The client reads nothing: the socket's buffers fill, then the queue stays full.
    let chunk = vec![b'x'; 8 * 1024];
    let mut sent = 0usize;
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(30), "the queue never stayed full");
        match s.send_timeout(chunk.clone(), Duration::from_millis(300)) {
            Ok(()) => sent += chunk.len(),
            Err(StreamError::TimedOut) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 256 << 20, "more than 256 MiB was taken from a client that reads nothing");
    }
    assert!(s.queued() <= capacity && s.queued() > 0, "{}", s.queued());
    match s.try_send(chunk.clone()) {
        Err(TrySendError::Full(back)) => assert_eq!(back, chunk),
        other => panic!("{other:?}"),
    }
    // A blocked send goes on once the client reads.
    let writer = std::thread::spawn(move || s.send(b"end".to_vec()).map(|()| s));
    let mut body = BodyReader::new(&mut c.reader, Framing::Chunked, &Limits::default());
    let mut got = vec![0u8; sent];
    body.read_exact(&mut got).unwrap();
    assert!(got.iter().all(|&b| b == b'x'));
    let s = writer.join().unwrap().expect("the send went through once there was room");
    drop(s);
    got.clear();
    body.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"end");
}

#[test]
fn a_client_that_leaves_closes_its_stream() {
    let (h, rx) = stream_server(|b| b, StreamOptions::new());
    let mut c = Client::connect(addr(&h));
    open(&mut c, "/stream");
    let s = recv(&rx).unwrap();
    s.send("hello").unwrap();
    assert_eq!(read_body(&mut c, 5), b"hello");
    drop(c);
    let started = Instant::now();
    while !s.is_closed() {
        assert!(started.elapsed() < Duration::from_secs(5), "the stream stayed open");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(s.send("more"), Err(StreamError::Closed));
    assert!(matches!(s.try_send("more"), Err(TrySendError::Closed(_))));
}

#[test]
fn a_responder_learns_that_its_client_left() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        move |s| {
            s.add_context_resource("/wait", move |cx| {
                let _ = tx.lock().unwrap().send(cx.responder());
                Response::later()
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = recv(&rx);
    assert!(r.is_open() && !r.is_closed());
    drop(c);
    let started = Instant::now();
    while !r.is_closed() {
        assert!(started.elapsed() < Duration::from_secs(5), "the responder never learned");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!r.is_open());
    assert!(r.send(Response::text("too late")).is_err());
}

#[test]
fn event_streams_carry_events_and_keep_alive_comments() {
    let (tx, rx) = mpsc::channel::<EventSender>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        move |s| {
            s.add_context_resource("/events", move |cx| {
                let options = StreamOptions::new().keep_alive(Some(Duration::from_millis(200)));
                if let Ok(events) = cx.responder().events_with(options) {
                    let _ = tx.lock().unwrap().send(events);
                }
                Response::later()
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    let head = open(&mut c, "/events");
    assert_eq!(head.headers.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.headers.get("cache-control"), Some("no-cache"));
    let events = recv(&rx);
    events.send(&Event::data("one\ntwo").event("tick").id("1")).unwrap();
    let expected = b"event: tick\nid: 1\ndata: one\ndata: two\n\n";
    assert_eq!(read_body(&mut c, expected.len()), expected);
    // Silence for longer than the keep-alive: a comment comes.
    let started = Instant::now();
    assert_eq!(read_body(&mut c, 3), b":\n\n");
    assert!(started.elapsed() < Duration::from_secs(5));
    events.comment("note").unwrap();
    assert_eq!(read_body(&mut c, 8), b": note\n\n");
}

#[test]
fn the_stream_cap_answers_503_beyond_it() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b.max_streams(2),
        move |s| {
            s.add_context_resource("/wait", move |cx| {
                let _ = tx.lock().unwrap().send(cx.responder());
                Response::later()
            });
        },
    );
    let a = addr(&h);
    let mut first = Client::connect(a);
    first.send(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    let r1 = recv(&rx);
    let mut second = Client::connect(a);
    second.send(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    let r2 = recv(&rx).stream(Response::bytes("text/plain", "")).expect("a stream within the cap");
    let mut third = Client::connect(a);
    let refused = third.get("/wait");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    let r3 = recv(&rx);
    assert!(!r3.is_open());
    assert!(r3.send(Response::text("no")).is_err());
    // Ending one frees its place.
    r1.send(Response::text("one")).unwrap();
    assert_eq!(first.read().text(), "one");
    drop(r2);
    let mut body = Vec::new();
    let _ = read_response_head(&mut second.reader, &Limits::default()).unwrap();
    BodyReader::new(&mut second.reader, Framing::Chunked, &Limits::default()).read_to_end(&mut body).unwrap();
    let mut fourth = Client::connect(a);
    fourth.send(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    let r4 = recv(&rx);
    assert!(r4.is_open());
    r4.send(Response::text("four")).unwrap();
    assert_eq!(fourth.read().text(), "four");
}

#[test]
fn a_shutdown_ends_live_streams_at_once_and_in_good_order() {
    let (h, rx) = stream_server(|b| b.shutdown_grace(Duration::from_secs(20)), StreamOptions::new());
    let mut c = Client::connect(addr(&h));
    open(&mut c, "/stream");
    let s = recv(&rx).unwrap();
    s.send("x").unwrap();
    assert_eq!(read_body(&mut c, 1), b"x");
    let mut quiet = Client::connect(addr(&h));
    open(&mut quiet, "/stream");
    let farewell = recv(&rx).unwrap();
    farewell.set_farewell("bye");
    let started = Instant::now();
    h.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5), "the shutdown waited for a stream that never ends");
    assert!(s.is_closed());
    assert_eq!(s.send("y"), Err(StreamError::Closed));
    // Each body ends with its last chunk (after its farewell), then the connection ends.
    let mut rest = Vec::new();
    let _ = c.reader.read_to_end(&mut rest);
    assert_eq!(rest, b"0\r\n\r\n");
    let mut rest = Vec::new();
    let _ = quiet.reader.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.ends_with("3\r\nbye\r\n0\r\n\r\n"), "{rest:?}");
}
