//! The client end to end over loopback: sending, pooling, forms, methods and bodies.

mod client_common;

use std::io::Read;

use client_common::RawServer;
use http_client::{Body, Client, Method, Request};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

#[test]
fn send_reads_status_headers_and_body() {
    let server = RawServer::fixed(HELLO);
    let client = Client::new();
    let resp = client.send(server.url("/")).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.reason(), "OK");
    assert_eq!(resp.status_line(), "HTTP/1.1 200 OK");
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.text().unwrap(), "hello");
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = RawServer::fixed(HELLO);
    let client = Client::new();
    for _ in 0..5 {
        assert_eq!(client.get_text(server.url("/")).unwrap(), "hello");
    }
    assert_eq!(server.accepted(), 1);
    assert_eq!(client.idle_connections(), 1);
    client.close_all_connections();
    assert_eq!(client.idle_connections(), 0);
    assert_eq!(client.get_text(server.url("/")).unwrap(), "hello");
    assert_eq!(server.accepted(), 2);
}

#[test]
fn connection_returns_to_pool_when_body_is_read_to_its_end() {
    let server = RawServer::fixed(HELLO);
    let client = Client::new();
    let mut resp = client.send(server.url("/")).unwrap();
    assert!(!resp.is_complete());
    assert_eq!(client.idle_connections(), 0);
    let mut buf = [0u8; 5];
    resp.read_exact(&mut buf).unwrap();
    // Complete at the last byte, without another read call.
    assert!(resp.is_complete());
    assert_eq!(client.idle_connections(), 1);
}

#[test]
fn egg_style_url_without_scheme() {
    let server = RawServer::fixed(HELLO);
    let url = format!("{}/", server.addr);
    assert_eq!(http_client::get_text(url.as_str()).unwrap(), "hello");
}

#[test]
fn post_form_sends_urlencoded_pairs() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            tx.lock().unwrap().send(seen).unwrap();
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let client = Client::new();
    let out = client.post_form(server.url("/form"), &[("name", "Jo Doe"), ("q", "a&b=c")]).unwrap();
    assert_eq!(out, "ok");
    let seen = rx.recv().unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/form");
    assert_eq!(seen.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(seen.body, b"name=Jo+Doe&q=a%26b%3Dc");

    // The egg's DELIM1, DELIM2 and ENCODER.
    let req =
        Request::new(Method::Get, server.url("/custom")).with_header("Content-Type", "text/x-pairs").unwrap();
    let out = client.post_form_with(req, &[("a", "1"), ("b", "2")], ";", ":", |s| s.to_uppercase()).unwrap();
    assert_eq!(out, "ok");
    let seen = rx.recv().unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("text/x-pairs"));
    assert_eq!(seen.body, b"A:1;B:2");
}

#[test]
fn every_method_with_bytes_text_and_streamed_bodies() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let head_only = seen.method == "HEAD";
            tx.lock().unwrap().send(seen).unwrap();
            if head_only {
                peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
            } else {
                peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
            }
        }
    });
    let client = Client::new();
    let methods = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Options,
        Method::Trace,
    ];
    for m in methods {
        let resp = client.request(m.clone(), server.url("/m")).body(Body::Empty).send().unwrap();
        let head = m == Method::Head;
        assert!(resp.is_complete() == head, "{m}");
        assert_eq!(resp.text().unwrap(), if head { "" } else { "done" }, "{m}");
        let seen = rx.recv().unwrap();
        assert_eq!(seen.method, m.as_str());
    }
    // Bytes and text bodies carry Content-Length.
    client.request(Method::Put, server.url("/b")).body(vec![1u8, 2, 3]).send().unwrap().bytes().unwrap();
    let seen = rx.recv().unwrap();
    assert_eq!((seen.header("content-length"), seen.body.as_slice()), (Some("3"), &[1u8, 2, 3][..]));
    client.request(Method::Patch, server.url("/t")).body("text body").send().unwrap().bytes().unwrap();
    assert_eq!(rx.recv().unwrap().body, b"text body");
    // A stream of unknown length goes chunked; a known length goes with Content-Length.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let stream = Body::stream(std::io::Cursor::new(big.clone()), None);
    client.request(Method::Post, server.url("/s")).body(stream).send().unwrap().bytes().unwrap();
    let seen = rx.recv().unwrap();
    assert_eq!(seen.header("transfer-encoding"), Some("chunked"));
    assert_eq!(seen.body, big);
    let stream = Body::stream(std::io::Cursor::new(big.clone()), Some(big.len() as u64));
    client.request(Method::Put, server.url("/s")).body(stream).send().unwrap().bytes().unwrap();
    let seen = rx.recv().unwrap();
    assert_eq!(seen.header("content-length"), Some("100000"));
    assert_eq!(seen.body, big);
    assert_eq!(server.accepted(), 1);
}

#[test]
fn the_default_client_shares_no_cookies_between_callers() {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            tx.lock().unwrap().send(seen.header("cookie").map(str::to_owned)).unwrap();
            peer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=library-a\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    // Two unrelated callers of the free functions in one process.
    assert_eq!(http_client::get_text(server.url("/a").as_str()).unwrap(), "ok");
    assert_eq!(http_client::send(server.url("/b").as_str()).unwrap().text().unwrap(), "ok");
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got, [None, None]);
    assert!(http_client::default_client().cookies_for(&server.url("/")).is_empty());
    // A client of one's own keeps them.
    let own = Client::new();
    own.get_text(server.url("/c").as_str()).unwrap();
    own.get_text(server.url("/d").as_str()).unwrap();
    assert_eq!(rx.try_iter().last().flatten().as_deref(), Some("session=library-a"));
}
