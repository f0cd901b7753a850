//! A final response that arrives while the request body is still being sent (RFC 9112 §9.5):
//! the client stops sending and returns it, whether the server then closes (with the rest of
//! the body unread, so the client's writes fail), keeps reading, or neither reads nor closes.
//! Over plain TCP and over TLS.

mod client_common;

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use client_common::tls::{early_answer_server, server_config, TestCa};
use client_common::RawServer;
use http_client::{Body, Client, Method, Request};

/// Reads a request head line by line (bounded), leaving the body unread.
fn read_head(reader: &mut impl BufRead) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    for _ in 0..200 {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some(lines);
        }
        lines.push(line.trim_end().to_owned());
    }
    None
}

/// Reads and drops `n` bytes of body (or fewer if the stream ends).
fn skip(reader: &mut impl Read, n: u64) -> u64 {
    std::io::copy(&mut reader.take(n), &mut std::io::sink()).unwrap_or(0)
}

const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large";
const NOT_ALLOWED: &[u8] =
    b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 11\r\n\r\nnot allowed";

/// A body of `len` bytes made as it is read, counting what was taken.
struct Counted {
    left: u64,
    taken: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(b'x');
        self.left -= n as u64;
        self.taken.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn counted(len: u64, known_length: bool) -> (Body, Arc<AtomicU64>) {
    let taken = Arc::new(AtomicU64::new(0));
    let reader = Counted { left: len, taken: taken.clone() };
    let body = Body::stream(reader, known_length.then_some(len));
    (body, taken)
}

fn client() -> Client {
    Client::builder().write_timeout(Duration::from_secs(20)).build().unwrap()
}

#[test]
fn an_answer_then_close_is_returned_not_a_broken_pipe() {
    // The server reads the head and 4 KiB, answers 413 and closes with the rest unread.
    let server = RawServer::start(|mut peer| {
        if read_head(&mut peer.reader).is_some() {
            skip(&mut peer.reader, 4096);
            peer.write(TOO_LARGE);
        }
    });
    let client = client();
    for (name, body) in [
        ("bytes", Body::from(vec![b'x'; 8 << 20])),
        ("sized stream", counted(64 << 20, true).0),
        ("chunked stream", counted(64 << 20, false).0),
    ] {
        let start = Instant::now();
        let req = Request::new(Method::Post, server.url("/upload")).with_body(body);
        let resp = client.send(req).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(resp.status(), 413, "{name}");
        assert_eq!(resp.text().unwrap(), "too large", "{name}");
        assert!(start.elapsed() < Duration::from_secs(5), "{name}: {:?}", start.elapsed());
    }
}

#[test]
fn an_answer_while_the_server_keeps_reading_stops_the_body() {
    // The server answers 405 after 4 KiB and goes on reading (and dropping) the body.
    let (read_tx, read_rx) = mpsc::channel();
    let server = RawServer::start(move |mut peer| {
        if read_head(&mut peer.reader).is_some() {
            let mut total = skip(&mut peer.reader, 4096);
            peer.write(NOT_ALLOWED);
            total += skip(&mut peer.reader, u64::MAX);
            let _ = read_tx.send(total);
        }
    });
    let client = client();
    let (body, taken) = counted(8 << 30, true);
    let start = Instant::now();
    let req = Request::new(Method::Post, server.url("/get-only")).with_body(body);
    let resp = client.send(req).unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET"));
    assert_eq!(resp.text().unwrap(), "not allowed");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    // The connection is not kept: the rest of the body was never sent.
    assert_eq!(client.idle_connections(), 0);
    let received = read_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(received < 1 << 30, "the server received {received} bytes");
    assert!(taken.load(Ordering::Relaxed) < 1 << 30);
}

#[test]
fn an_answer_from_a_server_that_stops_reading_comes_before_the_write_timeout() {
    // The server answers 413 after 4 KiB, then neither reads nor closes until the client does.
    let server = RawServer::start(|mut peer| {
        if read_head(&mut peer.reader).is_some() {
            skip(&mut peer.reader, 4096);
            peer.write(TOO_LARGE);
            // Holds the connection open, the rest of the body unread.
            std::thread::sleep(Duration::from_secs(15));
        }
    });
    let client = client();
    let (body, _) = counted(1 << 30, true);
    let start = Instant::now();
    let resp = client.send(Request::new(Method::Put, server.url("/acl")).with_body(body)).unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.text().unwrap(), "too large");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
}

#[test]
fn an_early_answer_over_tls() {
    let ca = TestCa::new("early CA");
    let config = server_config(&ca.issue(&["localhost"]), None);
    // Two connections: one closed after the answer, one left open and unread.
    let (port, server) = early_answer_server(config, TOO_LARGE, vec![true, false]);
    let client = ca.client_builder().write_timeout(Duration::from_secs(20)).build().unwrap();
    for round in 0..2 {
        let (body, _) = counted(1 << 30, round == 0);
        let start = Instant::now();
        let url = format!("https://localhost:{port}/upload");
        let resp = client.send(Request::new(Method::Post, url).with_body(body)).unwrap();
        assert_eq!(resp.status(), 413, "round {round}");
        assert_eq!(resp.text().unwrap(), "too large");
        assert!(start.elapsed() < Duration::from_secs(5), "round {round}: {:?}", start.elapsed());
    }
    server.join().unwrap();
}

#[test]
fn a_continue_during_the_body_does_not_stop_it() {
    // An interim 100 while the body is on its way is skipped; the final answer follows it.
    let server = RawServer::start(|mut peer| {
        if read_head(&mut peer.reader).is_some() {
            peer.write(b"HTTP/1.1 100 Continue\r\n\r\n");
            let got = skip(&mut peer.reader, 4 << 20);
            peer.write(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{got}", got.to_string().len())
                    .as_bytes(),
            );
        }
    });
    let (body, _) = counted(4 << 20, true);
    let req = Request::new(Method::Post, server.url("/"))
        .with_header("Expect", "100-continue")
        .unwrap()
        .with_body(body);
    let resp = client().send(req).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().unwrap(), (4u64 << 20).to_string());
}

#[test]
fn a_malformed_early_answer_is_an_error_and_not_retried() {
    // On the kept connection, the second request gets garbage while its body is sent.
    let server = RawServer::start(|mut peer| {
        let answered =
            peer.read_request().is_some() && peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if answered && read_head(&mut peer.reader).is_some() {
            skip(&mut peer.reader, 4096);
            peer.write(b"garbage, not HTTP\r\n\r\n");
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let client = client();
    assert_eq!(client.send(server.url("/")).unwrap().text().unwrap(), "ok");
    let req = Request::new(Method::Put, server.url("/put")).with_body(vec![b'p'; 4 << 20]);
    let err = client.send(req).unwrap_err();
    assert_eq!(err.protocol_kind(), Some(http_utils::ErrorKind::InvalidStatusLine), "{err:?}");
    assert_eq!(server.accepted(), 1);
}
