//! Slow ("trickle") peers: a request body or a response taken a few bytes at a time holds a
//! worker, so the minimum data rates must cut such peers off while others are served; peers
//! above the rate are served whole. Also `Expect` with anything but `100-continue` (417).

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use http_toolkit::server::{Context, Response};
use http_toolkit::utils::Method;
use server_support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Writes `head`, then trickles `chunk` bytes of body every `every` until the server closes
/// the connection or `rounds` are done. Returns whether the server closed it, when, and what
/// it answered.
fn trickle(
    addr: SocketAddr,
    head: &str,
    chunk: usize,
    every: Duration,
    rounds: usize,
) -> (bool, Duration, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(every)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let started = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    let body = vec![b'x'; chunk];
    let mut got = Vec::new();
    for _ in 0..rounds {
        if s.write_all(&body).is_err() {
            return (true, started.elapsed(), String::from_utf8_lossy(&got).into_owned());
        }
        let mut buf = [0u8; 1024];
        match s.read(&mut buf) {
            Ok(0) => return (true, started.elapsed(), String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (true, started.elapsed(), String::from_utf8_lossy(&got).into_owned()),
        }
    }
    (false, started.elapsed(), String::from_utf8_lossy(&got).into_owned())
}

/// A server with two workers (one waiting on the poller), room for two requests at once,
/// a 300 ms body and write timeout (the grace periods) and the given minimum rates.
fn small_server(body_rate: Option<u64>, write_rate: Option<u64>) -> http_toolkit::server::ServerHandle {
    start(
        |b| {
            b.threads(2)
                .io_threads(1)
                .request_count_limit(2)
                .body_timeout(ms(300))
                .write_timeout(ms(300))
                .min_body_rate(body_rate)
                .min_write_rate(write_rate)
        },
        |s| {
            s.add_resource("/", |_, _| Response::text("ok"));
            // Reads the whole body (the content parser), answers its length.
            s.add_resource("/upload", |req, _| Response::text(req.body().len().unwrap_or(0).to_string()));
            // Never reads the body: the server skips it.
            s.add_context_resource("/ignore", |_cx: &mut Context<'_>| Response::text("ignored"));
            s.add_resource("/big", |_, _| Response::bytes("application/octet-stream", vec![b'b'; 8 << 20]));
        },
    )
}

/// Checks, `count` times in a row, that a fresh client is served while a slow peer is held.
fn others_are_served(addr: SocketAddr, count: usize) {
    for _ in 0..count {
        let mut c = Client::connect(addr);
        assert_eq!(c.get("/").text(), "ok");
    }
}

#[test]
fn trickled_body_is_cut_off_while_others_are_served() {
    let h = small_server(Some(1000), None);
    let a = addr(&h);
    let head =
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n";
    // 4 bytes every 50 ms: 80 B/s, each wait far inside the body timeout.
    let slow = thread::spawn(move || trickle(a, head, 4, ms(50), 100));
    // Meanwhile the other worker serves everyone else.
    thread::sleep(ms(100));
    others_are_served(a, 5);
    let (closed, took, got) = slow.join().unwrap();
    assert!(closed, "the trickling upload was never cut off ({took:?})");
    assert!(took >= ms(250) && took < ms(2500), "{took:?}");
    if !got.is_empty() {
        assert_eq!(status_of(&got), 408, "{got}");
    }
    others_are_served(a, 2);
    h.shutdown();
}

#[test]
fn trickled_unread_body_is_not_drained_forever() {
    let h = small_server(Some(1000), None);
    let a = addr(&h);
    // Small enough for the server to skip it and keep the connection, were it sent in time.
    let head = "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n";
    let slow = thread::spawn(move || trickle(a, head, 4, ms(50), 100));
    thread::sleep(ms(100));
    others_are_served(a, 3);
    let (closed, took, got) = slow.join().unwrap();
    assert!(closed, "the trickled body was drained for {took:?}");
    assert!(took < ms(2500), "{took:?}");
    // The server reads bodies before the handler runs: a body that never arrives is a 408.
    if !got.is_empty() {
        assert_eq!(status_of(&got), 408, "{got}");
    }
    h.shutdown();
}

#[test]
fn upload_above_the_minimum_rate_succeeds() {
    let h = small_server(Some(1000), Some(1000));
    let a = addr(&h);
    let mut c = Client::connect(a);
    c.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 4000\r\n\r\n");
    // 100 bytes every 20 ms: about 5000 B/s for 0.8 s, well past the 300 ms grace period.
    let started = Instant::now();
    for _ in 0..40 {
        c.send(&[b'u'; 100]);
        thread::sleep(ms(20));
    }
    let r = c.read();
    assert!(started.elapsed() > ms(600));
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), "4000");
    // The connection is kept.
    assert_eq!(c.get("/").text(), "ok");
    h.shutdown();
}

#[test]
fn rates_can_be_turned_off() {
    // Without a minimum rate, each wait only has to stay inside the body timeout.
    let h = small_server(None, None);
    let a = addr(&h);
    let mut c = Client::connect(a);
    c.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n\r\n");
    for _ in 0..10 {
        c.send(b"uuuu");
        thread::sleep(ms(100));
    }
    let r = c.read();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), "40");
    h.shutdown();
}

/// A socket whose receive buffer is small, connected to `addr`.
fn small_window(addr: SocketAddr) -> TcpStream {
    use rustix::net::{sockopt, AddressFamily, SocketType};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    sockopt::set_socket_recv_buffer_size(&fd, 64 * 1024).unwrap();
    rustix::net::connect(&fd, &addr).unwrap();
    TcpStream::from(fd)
}

#[test]
fn slow_reader_of_a_large_response_is_dropped() {
    let (tx, rx) = mpsc::channel();
    let h = start(
        |b| {
            b.threads(2)
                .io_threads(1)
                .request_count_limit(2)
                .write_timeout(ms(1000))
                .min_write_rate(Some(16_000_000))
                .compression(false)
        },
        |s| {
            s.add_resource("/", |_, _| Response::text("ok"));
            s.add_resource("/big", |_, _| Response::bytes("application/octet-stream", vec![b'b'; 8 << 20]));
            s.set_log_hook(move |r| {
                if r.request.path() == "/big" {
                    let _ = tx.send((r.status, r.bytes));
                }
            });
        },
    );
    let a = addr(&h);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut s = small_window(a);
            s.set_read_timeout(Some(ms(100))).unwrap();
            s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let mut total = 0usize;
            // At most 64 KiB every 20 ms: a few MB/s, below the rate, yet fast enough that
            // every single wait for room ends inside the write timeout. (Over loopback the
            // server's send buffer holds megabytes, and room is reported only once a third of
            // it is free, so a slower reader would be caught by the write timeout alone.)
            let mut buf = vec![0u8; 64 * 1024];
            for _ in 0..1000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
                thread::sleep(ms(20));
            }
            total
        })
    };
    let started = Instant::now();
    thread::sleep(ms(100));
    others_are_served(a, 5);
    // The server gives up on the response: the log shows it unsent (0 bytes).
    let logged = rx.recv_timeout(Duration::from_secs(5));
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let total = reader.join().unwrap();
    eprintln!("slow reader: logged {logged:?} after {took:?}, {total} bytes read");
    let (status, bytes) = logged.expect("the slow reader was never dropped");
    assert_eq!(status, 200);
    assert_eq!(bytes, 0, "the response counts as failed");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(total < 8 << 20, "the reader got {total} bytes");
    others_are_served(a, 2);
    h.shutdown();
}

#[test]
fn large_response_to_a_prompt_reader_is_whole() {
    let h = small_server(None, Some(50_000));
    let mut c = Client::connect(addr(&h));
    let r = c.get("/big");
    assert_eq!(r.status(), 200);
    assert_eq!(r.body.len(), 8 << 20);
    h.shutdown();
}

#[test]
fn unknown_expectation_is_417_without_the_handler() {
    let ran = Arc::new(AtomicBool::new(false));
    let h = {
        let ran = ran.clone();
        start(
            |b| b,
            move |s| {
                s.add_resource("/", move |_, _| {
                    ran.store(true, Ordering::Relaxed);
                    Response::text("ok")
                })
            },
        )
    };
    let a = addr(&h);
    // With a body: 417 and the connection closes (the body is not read).
    let out =
        raw(a, b"POST / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(status_of(&out), 417, "{out}");
    // 100-continue alongside another expectation is still unmet.
    let out =
        raw(a, b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue, x-fancy\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(status_of(&out), 417, "{out}");
    // Without a body the connection is kept.
    let mut c = Client::connect(a);
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\n\r\n");
    assert_eq!(c.try_read(&Method::Get).expect("a response").status(), 417);
    assert!(!ran.load(Ordering::Relaxed), "the handler ran");
    // 100-continue, in any case, is still fine.
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\n\r\n");
    assert_eq!(c.read().text(), "ok");
    assert!(ran.load(Ordering::Relaxed));
    h.shutdown();
}
