//! A body over the limit is refused at once, on every path a body takes into the server: read
//! by the engine (chunked or with a `Content-Length`), read by a streaming route's handler, and
//! after `Expect: 100-continue`. "At once" means as soon as the head or the chunk-size line
//! that passes the limit is read, while the peer keeps the connection open and sends nothing
//! more: the 413 and the close come long before any timeout could fire.

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use http_toolkit::server::{Context, HttpError, Response};
use http_toolkit::utils::{Limits, Method};
use server_support::*;

/// The body limit of the servers here.
const MAX: u64 = 1000;
/// Every timeout that could end these exchanges otherwise.
const PATIENCE: Duration = Duration::from_secs(60);
/// Far below `PATIENCE`, with room for a loaded machine.
const AT_ONCE: Duration = Duration::from_secs(5);

fn server() -> http_toolkit::server::ServerHandle {
    start(
        |b| {
            b.limits(Limits { max_body: MAX, ..Limits::default() })
                .header_timeout(PATIENCE)
                .body_timeout(PATIENCE)
                .min_body_rate(None)
        },
        |s| {
            // Its body is read by the engine before the handler runs; the handler ignores it.
            s.route(Method::Post, "/buffered", |_cx: &mut Context<'_>| Response::text("ok")).unwrap();
            // Reads its body whole (after 100 Continue, when the client asks for it).
            s.route(Method::Post, "/read", |cx: &mut Context<'_>| -> Result<Response, HttpError> {
                Ok(Response::text(cx.read_body()?.len().to_string()))
            })
            .unwrap();
            // Reads its body from the socket as it arrives, through the plain reader.
            s.route(Method::Post, "/raw", |cx: &mut Context<'_>| -> Result<Response, HttpError> {
                let n = std::io::copy(&mut cx.body(), &mut std::io::sink())?;
                Ok(Response::text(n.to_string()))
            })
            .unwrap();
            // Reads its body whole from the socket, as it arrives.
            s.streaming_route(Method::Post, "/stream", |cx: &mut Context<'_>| match cx.read_body() {
                Ok(body) => Response::text(body.len().to_string()),
                Err(e) => Response::new(e.status()),
            })
            .unwrap();
        },
    )
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE / 2)).unwrap();
    s
}

/// Sends `bytes` and reads until the server closes the connection; the connection stays
/// open on this side. Returns what came, how long it took from the send, and whether the
/// server closed (rather than the read timing out).
fn answer(s: &mut TcpStream, bytes: &[u8]) -> (String, Duration, bool) {
    let started = Instant::now();
    s.write_all(bytes).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A reset after the answer is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed(), closed)
}

/// Reads the interim `100 Continue` that must come before the body is sent.
fn read_continue(s: &mut TcpStream) {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert!(got.len() < 256, "not a 100 Continue: {:?}", String::from_utf8_lossy(&got));
        assert_eq!(s.read(&mut byte).expect("100 Continue"), 1, "closed before 100 Continue");
        got.push(byte[0]);
    }
    assert!(got.starts_with(b"HTTP/1.1 100 "), "{:?}", String::from_utf8_lossy(&got));
}

fn assert_refused_at_once(case: &str, (reply, took, closed): (String, Duration, bool)) {
    assert_eq!(status_of(&reply), 413, "{case}: {reply:?}");
    assert!(!reply.contains("100 Continue"), "{case}: 100 Continue before the 413: {reply:?}");
    assert!(closed, "{case}: the connection stayed open");
    assert!(took < AT_ONCE, "{case}: answered after {took:?}");
}

fn head(path: &str, fields: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: t\r\n{fields}\r\n")
}

/// Chunks of exactly the limit, then one more byte declared.
fn chunks_past_the_limit() -> Vec<u8> {
    let mut body = format!("{MAX:x}\r\n").into_bytes();
    body.extend(std::iter::repeat_n(b'x', MAX as usize));
    body.extend_from_slice(b"\r\n1\r\n");
    body
}

#[test]
fn engine_and_streaming_route_refuse_at_once() {
    let h = server();
    for path in ["/buffered", "/read", "/stream"] {
        let chunked = head(path, "Transfer-Encoding: chunked\r\n");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("a chunk size of 2^64 - 1", format!("{chunked}ffffffffffffffff\r\n").into_bytes()),
            ("a chunk size line not ended yet", format!("{chunked}ffffffffffffffff").into_bytes()),
            ("chunks adding up past the limit", [chunked.as_bytes(), &chunks_past_the_limit()].concat()),
            ("Content-Length 10^12", head(path, "Content-Length: 1000000000000\r\n").into_bytes()),
            (
                "Content-Length one past, body partly sent",
                format!("{}abc", head(path, "Content-Length: 1001\r\n")).into_bytes(),
            ),
        ];
        for (case, bytes) in cases {
            let mut s = connect(addr(&h));
            assert_refused_at_once(&format!("{path}: {case}"), answer(&mut s, &bytes));
        }
    }
    // Within the limit, the same routes answer as usual.
    let mut c = Client::connect(addr(&h));
    c.send(
        format!(
            "{}{MAX:x}\r\n{}\r\n0\r\n\r\n",
            head("/read", "Transfer-Encoding: chunked\r\n"),
            "y".repeat(MAX as usize)
        )
        .as_bytes(),
    );
    assert_eq!(c.read().text(), MAX.to_string());
    c.send(format!("{}abc", head("/stream", "Content-Length: 3\r\n")).as_bytes());
    assert_eq!(c.read().text(), "3");
}

#[test]
fn expect_100_continue_refuses_at_once() {
    let h = server();
    // A Content-Length past the limit: 413 without 100 Continue, whatever the handler would
    // have done with the body.
    for path in ["/buffered", "/read", "/stream"] {
        let bytes = head(path, "Expect: 100-continue\r\nContent-Length: 1000000000000\r\n");
        let mut s = connect(addr(&h));
        assert_refused_at_once(&format!("{path}: Content-Length"), answer(&mut s, bytes.as_bytes()));
    }
    // Chunked: the body is asked for with 100 Continue; then a size past the limit is
    // refused at its size line.
    for path in ["/read", "/raw", "/stream"] {
        for size in ["ffffffffffffffff\r\n", "3e9\r\n"] {
            let mut s = connect(addr(&h));
            s.write_all(head(path, "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n").as_bytes())
                .unwrap();
            read_continue(&mut s);
            assert_refused_at_once(&format!("{path}: chunk size {size:?}"), answer(&mut s, size.as_bytes()));
        }
    }
}

/// The body limit of the `/upload` scope of `scoped_server`, far above the server's.
const UPLOAD_MAX: u64 = 4 << 20;

/// A server whose default limit is `MAX`, with `/upload` allowed `UPLOAD_MAX` and `/tiny`
/// only 10 bytes.
fn scoped_server() -> http_toolkit::server::ServerHandle {
    start(
        |b| {
            b.limits(Limits { max_body: MAX, ..Limits::default() })
                .header_timeout(PATIENCE)
                .body_timeout(PATIENCE)
                .min_body_rate(None)
        },
        |s| {
            s.scope("/upload").max_body(UPLOAD_MAX);
            s.scope("/tiny").max_body(10);
            for path in ["/upload/{name}", "/notes", "/tiny"] {
                s.route(Method::Post, path, |cx: &mut Context<'_>| -> Result<Response, HttpError> {
                    Ok(Response::text(cx.read_body()?.len().to_string()))
                })
                .unwrap();
            }
            s.route(Method::Put, "/upload/{name}", |cx: &mut Context<'_>| -> Result<Response, HttpError> {
                let text: String = cx.json()?;
                Ok(Response::text(text.len().to_string()))
            })
            .unwrap();
        },
    )
}

#[test]
fn a_scope_has_a_body_limit_of_its_own() {
    let h = scoped_server();
    let big = UPLOAD_MAX as usize - 10;
    // Under the scope: a body far past the server's limit, with a length, chunked, after
    // 100 Continue, and as JSON.
    let mut c = Client::connect(addr(&h));
    c.send(head("/upload/a", &format!("Content-Length: {big}\r\n")).as_bytes());
    c.send(&vec![b'u'; big]);
    assert_eq!(c.read().text(), big.to_string());
    let chunked = head("/upload/b", "Transfer-Encoding: chunked\r\n");
    c.send(format!("{chunked}{big:x}\r\n").as_bytes());
    c.send(&vec![b'c'; big]);
    c.send(b"\r\n0\r\n\r\n");
    assert_eq!(c.read().text(), big.to_string());
    let mut s = connect(addr(&h));
    s.write_all(head("/upload/c", &format!("Content-Length: {big}\r\nExpect: 100-continue\r\n")).as_bytes())
        .unwrap();
    read_continue(&mut s);
    s.write_all(&vec![b'e'; big]).unwrap();
    let mut c2 = Client { reader: std::io::BufReader::new(s) };
    assert_eq!(c2.read().text(), big.to_string());
    let json = format!("\"{}\"", "j".repeat(big - 2));
    c.send(
        format!("PUT /upload/d HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", json.len())
            .as_bytes(),
    );
    c.send(json.as_bytes());
    assert_eq!(c.read().text(), (big - 2).to_string());
    // Elsewhere the server's limit holds, at once.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("/notes: the upload's length", head("/notes", &format!("Content-Length: {big}\r\n")).into_bytes()),
        ("/notes: one past the server's", head("/notes", "Content-Length: 1001\r\n").into_bytes()),
        ("/tiny: 11 bytes", head("/tiny", "Content-Length: 11\r\n").into_bytes()),
        (
            "/tiny: chunks past 10",
            format!("{}b\r\nhello world\r\n", head("/tiny", "Transfer-Encoding: chunked\r\n")).into_bytes(),
        ),
        (
            "/upload: one past its own",
            head("/upload/a", &format!("Content-Length: {}\r\n", UPLOAD_MAX + 1)).into_bytes(),
        ),
        (
            "/upload: chunks past its own",
            format!("{}{:x}\r\n", head("/upload/a", "Transfer-Encoding: chunked\r\n"), UPLOAD_MAX + 1)
                .into_bytes(),
        ),
        (
            "/upload: 100-continue past its own",
            head("/upload/a", &format!("Content-Length: {}\r\nExpect: 100-continue\r\n", UPLOAD_MAX + 1))
                .into_bytes(),
        ),
    ];
    for (case, bytes) in cases {
        let mut s = connect(addr(&h));
        assert_refused_at_once(case, answer(&mut s, &bytes));
    }
    // Within their limits the others answer as usual.
    let mut c = Client::connect(addr(&h));
    c.send(format!("{}0123456789", head("/tiny", "Content-Length: 10\r\n")).as_bytes());
    assert_eq!(c.read().text(), "10");
    c.send(format!("{}{}", head("/notes", "Content-Length: 1000\r\n"), "n".repeat(1000)).as_bytes());
    assert_eq!(c.read().text(), "1000");
}

#[test]
fn the_longest_scope_sets_the_limit_whatever_the_order() {
    use http_toolkit::server::{test, Server};
    let server = Server::builder()
        .port(0)
        .bind("127.0.0.1")
        .limits(Limits { max_body: MAX, ..Limits::default() })
        .build()
        .expect("bind");
    server
        .route(Method::Post, "/{path...}", |cx: &mut Context<'_>| -> Result<Response, HttpError> {
            Ok(Response::text(format!("{} of {}", cx.read_body()?.len(), cx.body_limit())))
        })
        .unwrap();
    server.scope("/a/big").max_body(10_000);
    server.scope("/a").max_body(100);
    let post = |path: &str, n: usize| {
        let r = test::request(&server, Method::Post, path).body(vec![b'x'; n]).send();
        (r.status(), String::from_utf8_lossy(r.body()).into_owned())
    };
    assert_eq!(post("/a/big/file", 5000), (200, "5000 of 10000".to_owned()));
    assert_eq!(post("/a/small", 100), (200, "100 of 100".to_owned()));
    assert_eq!(post("/a/small", 101).0, 413);
    assert_eq!(post("/a", 101).0, 413);
    // `/ab` is not under `/a`: the server's limit.
    assert_eq!(post("/ab", 1000), (200, "1000 of 1000".to_owned()));
    assert_eq!(post("/other", 1001).0, 413);
}
