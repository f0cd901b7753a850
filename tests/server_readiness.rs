//! The engine honours readiness on every system: bytes that arrive while a connection waits
//! are always read, whether they are a second request on a kept-alive connection, requests
//! pipelined in one write, a head that arrives a byte at a time or split inside its final
//! CRLFCRLF, or a body in pieces; and a thousand clients that connect and go away at once
//! leave the server answering. Readiness is edge-triggered (mio): Linux reports new bytes
//! anyway, Windows only after a read said it would block, so these run on both (under Wine
//! in CI). Only std sockets and this project's server.

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use http_toolkit::server::{Context, Response, ServerHandle};
use server_support::{addr, start, Client};

/// A server that answers a POST to `/` with its body, and any GET with its path.
fn echo() -> ServerHandle {
    start(
        |b| b,
        |s| {
            s.add_resource("/", |req, _| {
                Response::text(
                    req.body().as_bytes().map(String::from_utf8_lossy).unwrap_or_default().into_owned(),
                )
            });
            s.set_fallback_handler(|cx: &mut Context<'_>| Response::text(cx.path().to_owned()));
        },
    )
}

/// A connection whose small writes go out at once (no Nagle), so each piece is a segment.
fn connect(a: SocketAddr) -> Client {
    let c = Client::connect(a);
    c.reader.get_ref().set_nodelay(true).unwrap();
    c
}

/// Sends `bytes` in pieces of `size`, pausing between them so that each arrives on its own.
fn send_in_pieces(c: &mut Client, bytes: &[u8], size: usize) {
    for piece in bytes.chunks(size) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn kept_alive_http11_second_and_third_requests_are_answered() {
    let h = echo();
    let mut c = connect(addr(&h));
    for path in ["/one", "/two", "/three"] {
        let r = c.get(path);
        assert_eq!((r.status(), r.text()), (200, path.to_owned()));
        assert_eq!(r.header("connection"), None);
    }
    // After a pause, as a browser's next click comes: the connection waited and is woken.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.get("/four").text(), "/four");
    assert_eq!(h.open_connections(), 1);
}

#[test]
fn kept_alive_http10_second_and_third_requests_are_answered() {
    let h = echo();
    let mut c = connect(addr(&h));
    for path in ["/one", "/two", "/three"] {
        c.send(format!("GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes());
        let r = c.read();
        assert_eq!((r.status(), r.text()), (200, path.to_owned()));
        assert_eq!(r.header("connection").map(str::to_ascii_lowercase).as_deref(), Some("keep-alive"));
    }
    // Without keep-alive an HTTP/1.0 request is the last.
    c.send(b"GET /last HTTP/1.0\r\n\r\n");
    assert_eq!(c.read().text(), "/last");
    assert!(c.is_closed());
}

#[test]
fn pipelined_requests_in_one_write_are_answered_in_order() {
    let h = echo();
    let mut c = connect(addr(&h));
    let paths: Vec<String> = (0..20).map(|i| format!("/p{i}")).collect();
    let mut all = String::new();
    for p in &paths {
        all.push_str(&format!("GET {p} HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    all.push_str("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nlast");
    c.send(all.as_bytes());
    for p in &paths {
        assert_eq!(&c.read().text(), p);
    }
    assert_eq!(c.read().text(), "last");
    // And the connection still serves what comes next.
    assert_eq!(c.get("/after").text(), "/after");
}

#[test]
fn a_head_sent_one_byte_at_a_time_is_answered() {
    let h = echo();
    let mut c = connect(addr(&h));
    let head = b"GET /slowly HTTP/1.1\r\nHost: t\r\nX-A: b\r\n\r\n";
    send_in_pieces(&mut c, head, 1);
    assert_eq!(c.read().text(), "/slowly");
    // The next request on the same connection, a byte at a time too.
    send_in_pieces(&mut c, b"GET /again HTTP/1.1\r\nHost: t\r\n\r\n", 1);
    assert_eq!(c.read().text(), "/again");
}

#[test]
fn a_head_split_inside_its_final_crlfcrlf_is_answered() {
    let h = echo();
    let mut c = connect(addr(&h));
    let head = b"GET /split HTTP/1.1\r\nHost: t\r\n\r\n";
    // Every place inside the last four bytes, each on the same kept-alive connection.
    for cut in head.len() - 4..head.len() {
        let (first, rest) = head.split_at(cut);
        c.send(first);
        std::thread::sleep(Duration::from_millis(20));
        c.send(rest);
        assert_eq!(c.read().text(), "/split", "cut at {cut}");
    }
}

#[test]
fn a_body_sent_in_pieces_is_read_whole() {
    let h = echo();
    let mut c = connect(addr(&h));
    let body = "0123456789".repeat(10);
    c.send(format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    send_in_pieces(&mut c, body.as_bytes(), 7);
    assert_eq!(c.read().text(), body);
    // Chunked, the size lines and the data in separate pieces.
    let chunked = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    send_in_pieces(&mut c, chunked, 3);
    assert_eq!(c.read().text(), "hello world");
}

#[test]
fn a_thousand_clients_that_connect_and_go_away_leave_the_server_answering() {
    let h = echo();
    let a = addr(&h);
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..250 {
                    let mut s = TcpStream::connect(a).expect("connect");
                    match (t * 250 + i) % 3 {
                        // Half a request, then gone.
                        0 => {
                            let _ = s.write_all(b"GET /half HT");
                        }
                        // A whole request, gone before the answer.
                        1 => {
                            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
                        }
                        // Nothing at all.
                        _ => {}
                    }
                    drop(s);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let churn = started.elapsed();
    // A normal client is answered promptly, on a fresh connection and a kept-alive one.
    let asked = Instant::now();
    let mut c = connect(a);
    assert_eq!(c.get("/normal").text(), "/normal");
    assert_eq!(c.get("/again").text(), "/again");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "answered after {:?} (churn took {churn:?})",
        asked.elapsed()
    );
    // And every one of the thousand is let go.
    while h.open_connections() > 1 {
        assert!(asked.elapsed() < Duration::from_secs(10), "{} connections still open", h.open_connections());
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut raw = TcpStream::connect(a).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(b"GET /closing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    raw.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 ") && out.ends_with("/closing"), "{out}");
}
