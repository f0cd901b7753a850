//! Each timeout fires, and is named after the wait that ran out.

mod client_common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use client_common::RawServer;
use http_client::{Body, Client, Error, Method, TimeoutKind};

fn short() -> Duration {
    Duration::from_millis(300)
}

#[test]
fn read_timeout_when_the_server_never_answers() {
    let server = RawServer::start(|mut peer| {
        let _ = peer.read_request();
        std::thread::sleep(Duration::from_secs(3));
    });
    let client = Client::builder().read_timeout(short()).build().unwrap();
    let t = Instant::now();
    let err = client.send(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Read)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn read_timeout_inside_the_body() {
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    let client = Client::builder().read_timeout(short()).build().unwrap();
    let err = client.send(server.url("/")).unwrap().text().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Read)), "{err}");
}

#[test]
fn overall_deadline_covers_a_slowly_dripping_body() {
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            for _ in 0..60 {
                if !peer.write(b"x") {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    // Each byte comes well within the read timeout; the deadline still ends it.
    let client = Client::builder()
        .read_timeout(Duration::from_secs(2))
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let t = Instant::now();
    let err = client.send(server.url("/")).unwrap().text().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err}");
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(350) && took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn write_timeout_when_the_server_never_reads() {
    let server = RawServer::start(|_peer| {
        std::thread::sleep(Duration::from_secs(4));
    });
    let client = Client::builder().write_timeout(short()).build().unwrap();
    let endless = Body::stream(std::io::repeat(7), None);
    let t = Instant::now();
    let err = client.request(Method::Post, server.url("/upload")).body(endless).send().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Write)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn overall_deadline_while_the_server_never_reads() {
    let server = RawServer::start(|_peer| {
        std::thread::sleep(Duration::from_secs(4));
    });
    let client = Client::builder().timeout(Duration::from_millis(400)).build().unwrap();
    let endless = Body::stream(std::io::repeat(7), Some(1 << 40));
    let t = Instant::now();
    let err = client.request(Method::Put, server.url("/upload")).body(endless).send().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err}");
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(350) && took < Duration::from_millis(1500), "{took:?}");
}

/// A listener whose accept queue is full, so new connections hang in the handshake.
fn saturated_listener() -> (TcpListener, SocketAddr, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    // Enough for a backlog of SOMAXCONN (4096) too.
    for _ in 0..5000 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    (listener, addr, held)
}

#[test]
fn connect_timeout_when_the_server_cannot_accept() {
    let (_listener, addr, held) = saturated_listener();
    assert!(held.len() < 5000, "the accept queue never filled");
    let client = Client::builder().connect_timeout(short()).build().unwrap();
    let t = Instant::now();
    let err = client.send(format!("http://{addr}/")).unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Connect)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // The overall deadline also bounds connecting.
    let client = Client::builder().timeout(short()).build().unwrap();
    let err = client.send(format!("http://{addr}/")).unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err}");
}

#[test]
fn refused_connection_is_a_connect_error() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let err = Client::new().send(format!("http://{addr}/")).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
}

#[test]
fn deadline_is_per_request_on_a_reused_connection() {
    let server = RawServer::start(|mut peer| {
        while let Some(seen) = peer.read_request() {
            if seen.target == "/slow" {
                std::thread::sleep(Duration::from_millis(800));
            }
            if !peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
                break;
            }
        }
    });
    let client = Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    // Many quick requests, together longer than one deadline, on one connection.
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(500) {
        assert_eq!(client.get_text(server.url("/fast")).unwrap(), "ok");
    }
    assert_eq!(server.accepted(), 1);
    let err = client.get_text(server.url("/slow")).unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err}");
    assert_eq!(client.get_text(server.url("/fast")).unwrap(), "ok");
}
