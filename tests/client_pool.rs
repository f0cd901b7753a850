//! The pool: reuse across threads, caps, stale connections and the retry of idempotent requests.

mod client_common;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use client_common::RawServer;
use http_client::{Client, Error, Method, Request};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn client_is_send_sync_and_clones_share_the_pool() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Client>();
    fn assert_send<T: Send>() {}
    assert_send::<http_client::Response>();
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();
    let server = RawServer::fixed(OK);
    let client = Client::new();
    let other = client.clone();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    assert_eq!(other.get_text(server.url("/")).unwrap(), "ok");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn threads_share_connections() {
    let server = RawServer::fixed(OK);
    let client = Client::new();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let url = server.url("/");
            std::thread::spawn(move || {
                for _ in 0..25 {
                    assert_eq!(client.get_text(url.as_str()).unwrap(), "ok");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // At most one connection per thread, however many requests.
    assert!(server.accepted() <= 4, "{}", server.accepted());
    assert!(client.idle_connections() <= 4);
}

#[test]
fn idle_caps_are_kept() {
    let server = RawServer::fixed(OK);
    let client = Client::builder().max_idle_per_host(1).build().unwrap();
    // Two responses open at once need two connections; only one is kept.
    let a = client.send(server.url("/a")).unwrap();
    let b = client.send(server.url("/b")).unwrap();
    assert_eq!(a.text().unwrap(), "ok");
    assert_eq!(b.text().unwrap(), "ok");
    assert_eq!(server.accepted(), 2);
    assert_eq!(client.idle_connections(), 1);

    let client = Client::builder().max_idle(0).build().unwrap();
    client.get_text(server.url("/")).unwrap();
    assert_eq!(client.idle_connections(), 0);

    let client = Client::builder().idle_timeout(Duration::from_millis(1)).build().unwrap();
    client.get_text(server.url("/")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let before = server.accepted();
    client.get_text(server.url("/")).unwrap();
    assert_eq!(server.accepted(), before + 1, "an expired idle connection is not reused");
}

/// A server that answers one request per connection (claiming keep-alive) and then closes,
/// telling the test when it has closed.
fn one_request_per_connection() -> (RawServer, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            peer.write(OK);
        }
        let _ = peer.writer.shutdown(std::net::Shutdown::Both);
        let _ = tx.lock().unwrap().send(peer.index);
    });
    (server, rx)
}

#[test]
fn idempotent_request_is_retried_once_on_a_stale_connection() {
    let (server, closed) = one_request_per_connection();
    let client = Client::new();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(client.idle_connections(), 1);
    // The pooled connection is dead (used at once, so not checked): the GET fails on it before
    // any response byte and is sent again on a fresh connection.
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    assert_eq!(server.accepted(), 2);
    let resp = client.send(Request::new(Method::Put, server.url("/")).with_body("data"));
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(resp.unwrap().text().unwrap(), "ok");
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(client.request(Method::Delete, server.url("/")).body("").send().unwrap().status(), 200);
    assert_eq!(server.accepted(), 4);
}

#[test]
fn non_idempotent_request_is_not_retried() {
    let (server, closed) = one_request_per_connection();
    let client = Client::new();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    let err = client.request(Method::Post, server.url("/")).body("form").send().unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed | Error::Io(_)), "{err}");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_request_with_an_idempotency_key_is_retried_like_an_idempotent_one() {
    let (server, closed) = one_request_per_connection();
    let client = Client::new();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    // The pooled connection is dead: the POST fails on it before any response byte, and its
    // key says that sending it again is safe.
    for key in ["Idempotency-Key", "X-Idempotency-Key"] {
        let resp = client.request(Method::Post, server.url("/")).header(key, "order-42").body("form").send();
        assert_eq!(resp.unwrap().text().unwrap(), "ok", "{key}");
        closed.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    assert_eq!(server.accepted(), 3);
}

#[test]
fn stale_check_finds_a_closed_connection_before_use() {
    let (server, closed) = one_request_per_connection();
    let client = Client::builder().stale_check_after(Duration::ZERO).build().unwrap();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    closed.recv_timeout(Duration::from_secs(5)).unwrap();
    // Let the FIN arrive.
    std::thread::sleep(Duration::from_millis(20));
    // The peek sees the close, so even a POST goes out on a fresh connection.
    assert_eq!(client.post_form(server.url("/"), &[("a", "b")]).unwrap(), "ok");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn spin_wait_settings_all_read_the_same_answers() {
    // Answers come at once, after a few milliseconds, or in two pieces.
    let server = RawServer::start(|mut peer| {
        while let Some(seen) = peer.read_request() {
            match seen.target.as_str() {
                "/late" => std::thread::sleep(Duration::from_millis(5)),
                "/split" => {
                    peer.write(b"HTTP/1.1 200 OK\r\nContent-");
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => {}
            }
            let rest: &[u8] = if seen.target == "/split" { b"Length: 2\r\n\r\nok" } else { OK };
            if !peer.write(rest) {
                break;
            }
        }
    });
    for window in [Duration::ZERO, Duration::from_micros(50), Duration::from_millis(20)] {
        let client = Client::builder().spin_wait(window).build().unwrap();
        for _ in 0..5 {
            for path in ["/now", "/late", "/split"] {
                assert_eq!(client.get_text(server.url(path)).unwrap(), "ok", "{window:?} {path}");
            }
        }
    }
    assert_eq!(server.accepted(), 3);
}

#[test]
fn server_keep_alive_timeout_is_respected() {
    // "timeout=1" leaves no time once a second of margin is taken: not pooled.
    let short = RawServer::fixed(b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok");
    let client = Client::new();
    client.get_text(short.url("/")).unwrap();
    assert_eq!(client.idle_connections(), 0);
    client.get_text(short.url("/")).unwrap();
    assert_eq!(short.accepted(), 2);
    // A longer one is pooled and reused.
    let long = RawServer::fixed(
        b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30, max=100\r\nContent-Length: 2\r\n\r\nok",
    );
    client.get_text(long.url("/")).unwrap();
    client.get_text(long.url("/")).unwrap();
    assert_eq!(long.accepted(), 1);
}
