//! Smaller edges: credentials never shown, HTTP/1.0 request bodies of unknown length, and name
//! lookups bounded by the connect timeout.

mod client_common;

use std::io::Read;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use client_common::{RawServer, Seen};
use http_client::{Body, Client, Error, Limits, Method, Request, Version};

fn recording() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let body = format!("{} bytes", seen.body.len());
            let _ = tx.lock().unwrap().send(seen);
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            if !peer.write(reply.as_bytes()) {
                break;
            }
        }
    });
    (server, rx)
}

#[test]
fn credentials_are_not_shown_in_the_response_url_or_errors() {
    let (server, seen) = recording();
    let url = format!("http://user:p%40ss@{}/x?q=1", server.addr);
    let resp = Client::new().send(url.as_str()).unwrap();
    assert_eq!(resp.url(), server.url("/x?q=1"));
    assert!(!format!("{resp:?}").contains("p%40ss"));
    // user:p@ss
    assert_eq!(seen.recv().unwrap().header("authorization"), Some("Basic dXNlcjpwQHNz"));
    let err = Client::new().send("http://user:hunter2@example.com:99999/").unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

/// A reader that hides its length.
struct Unsized(std::io::Cursor<Vec<u8>>);

impl Read for Unsized {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Small pieces, as a pipe would give them.
        let n = buf.len().min(1000);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn an_http10_streamed_body_of_unknown_length_is_sent_with_its_length() {
    let (server, seen) = recording();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let req = Request::new(Method::Post, server.url("/upload"))
        .with_version(Version::Http10)
        .with_body(Body::stream(Unsized(std::io::Cursor::new(data.clone())), None));
    let client = Client::new();
    assert_eq!(client.send(req).unwrap().text().unwrap(), "100000 bytes");
    let s = seen.recv().unwrap();
    assert_eq!(s.version, "HTTP/1.0");
    assert_eq!(s.header("content-length"), Some("100000"));
    assert_eq!(s.header("transfer-encoding"), None);
    assert_eq!(s.body, data);
    // HTTP/1.1 still streams it chunked.
    let req = Request::new(Method::Post, server.url("/upload"))
        .with_body(Body::stream(Unsized(std::io::Cursor::new(data.clone())), None));
    assert_eq!(client.send(req).unwrap().text().unwrap(), "100000 bytes");
    let s = seen.recv().unwrap();
    assert_eq!(s.header("transfer-encoding"), Some("chunked"));
    assert_eq!(s.body, data);

    // Past the body cap: a clear error before anything is sent.
    let client = Client::builder().limits(Limits { max_body: 99_999, ..Limits::default() }).build().unwrap();
    let req = Request::new(Method::Post, server.url("/upload"))
        .with_version(Version::Http10)
        .with_body(Body::stream(Unsized(std::io::Cursor::new(data)), None));
    let before = server.accepted();
    let err = client.send(req).unwrap_err();
    assert!(matches!(err, Error::UnsizedRequestBody { limit: 99_999 }), "{err}");
    assert_eq!(server.accepted(), before);
}

#[test]
fn host_names_are_looked_up_within_the_connect_timeout() {
    let (server, _seen) = recording();
    let client = Client::builder().connect_timeout(Duration::from_secs(5)).build().unwrap();
    let url = format!("http://localhost:{}/by-name", server.addr.port());
    // `localhost` may also name ::1, where nothing listens; 127.0.0.1 answers.
    assert_eq!(client.get_text(url.as_str()).unwrap(), "0 bytes");
    // A name that does not resolve fails, and never takes longer than the connect timeout
    // (without network access the resolver may wait; the client does not).
    let client = Client::builder().connect_timeout(Duration::from_millis(1500)).build().unwrap();
    let start = Instant::now();
    let err = client.send("http://no-such-host.invalid/").unwrap_err();
    assert!(
        matches!(err, Error::Resolve { .. } | Error::Timeout(http_client::TimeoutKind::Connect)),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_millis(3000), "{:?}", start.elapsed());
}
