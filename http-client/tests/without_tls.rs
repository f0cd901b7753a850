//! A client built without its optional features (`--no-default-features`): `https://` URLs,
//! `wss://` WebSockets and `https://` proxies are refused with an error that names the `tls`
//! feature, before any connection is made, and plain HTTP still works end to end.
//!
//! `cargo test -p http-toolkit-client --no-default-features --test without_tls`
#![cfg(not(feature = "tls"))]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use http_client::{Client, Error, Proxy};

/// A listener that must see no connection: non-blocking, so `accept` says whether one came.
fn untouched_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn assert_untouched(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a connection was made: {other:?}"),
    }
}

fn assert_needs_tls(err: &Error) {
    assert!(matches!(err, Error::FeatureOff { feature: "tls", .. }), "{err:?}");
    assert!(err.to_string().contains("`tls` feature"), "{err}");
}

#[test]
fn https_urls_name_the_missing_feature_and_connect_nowhere() {
    let (listener, port) = untouched_listener();
    let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let err = client.get(format!("https://127.0.0.1:{port}/")).send().unwrap_err();
    assert_needs_tls(&err);
    assert!(err.to_string().starts_with("an https:// URL needs"), "{err}");

    let err = client.websocket(&format!("wss://127.0.0.1:{port}/")).connect().unwrap_err();
    assert_needs_tls(&err);

    let mut multi = client.multi().unwrap();
    multi.submit(format!("https://127.0.0.1:{port}/"));
    let (_, result) = multi.wait().expect("one request submitted");
    assert_needs_tls(&result.unwrap_err());

    let err = Proxy::new(&format!("https://127.0.0.1:{port}")).unwrap_err();
    assert_needs_tls(&err);
    assert_untouched(&listener);
}

/// Accepts one connection, reads a request head from it, writes `answer`: the head read.
fn answer_once(listener: &TcpListener, answer: &[u8]) -> String {
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Bounded by the read timeout and the head's size.
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if conn.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    conn.write_all(answer).unwrap();
    String::from_utf8(head).unwrap()
}

#[test]
fn a_redirect_to_https_is_refused_the_same_way() {
    let (tls_listener, tls_port) = untouched_listener();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let answer = format!(
            "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:{tls_port}/\r\nContent-Length: 0\r\n\r\n"
        );
        answer_once(&listener, answer.as_bytes())
    });
    let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let err = client.get(format!("http://127.0.0.1:{port}/start")).send().unwrap_err();
    assert_needs_tls(&err);
    assert!(server.join().unwrap().starts_with("GET /start HTTP/1.1\r\n"));
    assert_untouched(&tls_listener);
}

#[test]
fn plain_http_works_without_any_feature() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        answer_once(&listener, b"HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\nContent-Length: 5\r\n\r\nhello")
    });
    let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    assert_eq!(client.get_text(format!("http://127.0.0.1:{port}/")).unwrap(), "hello");
    let head = server.join().unwrap().to_ascii_lowercase();
    // No coding is asked for without a decoder, and there is no jar to keep the cookie.
    assert!(!head.contains("accept-encoding"), "{head}");
    assert!(client.cookies_for(&format!("http://127.0.0.1:{port}/")).is_empty());
}
