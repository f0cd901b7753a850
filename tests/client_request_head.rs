//! The request head as it goes on the wire: `Host` first, header names in the case they were
//! written, and nothing from a program's strings that could split the request line or a field.

mod client_common;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use client_common::{RawServer, Seen};
use http_client::{Client, Error, Method, Request};

fn recording() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let _ = tx.lock().unwrap().send(seen);
            if !peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
                break;
            }
        }
    });
    (server, rx)
}

#[test]
fn host_comes_first_whatever_the_program_adds() {
    let (server, seen) = recording();
    let client = Client::builder().default_header("X-Default", "d").build().unwrap();
    let req = Request::new(Method::Post, server.url("/h"))
        .with_header("X-First", "1")
        .unwrap()
        .with_header("Content-Type", "text/plain")
        .unwrap()
        .with_body("body");
    assert_eq!(client.send(req).unwrap().text().unwrap(), "ok");
    let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.headers[0], ("Host".to_owned(), server.addr.to_string()), "{:?}", s.headers);
    // A Host the program set itself goes first too.
    let req = Request::new(Method::Get, server.url("/h"))
        .with_header("X-Before", "1")
        .unwrap()
        .with_header("Host", "virtual.example")
        .unwrap();
    client.send(req).unwrap().text().unwrap();
    let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.headers[0], ("Host".to_owned(), "virtual.example".to_owned()), "{:?}", s.headers);
    assert_eq!(s.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("host")).count(), 1);
}

#[test]
fn header_names_go_out_as_written() {
    let (server, seen) = recording();
    let client = Client::builder().default_header("X-API-Key", "k").build().unwrap();
    let req = Request::new(Method::Put, server.url("/c"))
        .with_header("SOAPAction", "urn:x")
        .unwrap()
        .with_header("x-lower", "1")
        .unwrap()
        .with_body("b");
    client.send(req).unwrap().text().unwrap();
    let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    let names: Vec<&str> = s.headers.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["Host", "SOAPAction", "x-lower", "X-API-Key", "User-Agent", "Content-Length"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // Lookups stay case-insensitive.
    let req = Request::new(Method::Get, "http://h/").with_header("ETag-Like", "v").unwrap();
    assert_eq!(req.headers().get("etag-like"), Some("v"));
}

#[test]
fn nothing_from_a_program_splits_the_request() {
    let (server, seen) = recording();
    let client = Client::new();
    // Methods are tokens or nothing.
    for bad in ["GET / HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET", "GET /", "", "G\u{e9}T", "GET\t"] {
        assert!(Method::extension(bad).is_err(), "{bad:?}");
        assert!(bad.parse::<Method>().is_err(), "{bad:?}");
    }
    assert_eq!(Method::extension("PURGE").unwrap().as_str(), "PURGE");
    // URLs with controls are refused, not cleaned (the URL parser would drop CR, LF and tabs).
    for path in ["/a\r\nX-Evil: 1", "/a\nb", "/tab\there", "/nul\0", " /lead"] {
        let url = format!("http://{}{path}", server.addr);
        let err = client.send(Request::new(Method::Get, url.as_str())).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{path:?}: {err:?}");
    }
    // Header names and values are checked when they are added, with an error.
    assert!(Request::new(Method::Get, server.url("/")).with_header("X", "a\r\nEvil: 1").is_err());
    assert!(Request::new(Method::Get, server.url("/")).with_header("X Y", "1").is_err());
    let err = Client::builder().default_header("X", "a\nb").build().unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)), "{err:?}");
    let err = Client::builder().user_agent(Some("agent\r\nX-Evil: 1")).build().unwrap().send(server.url("/"));
    assert!(matches!(err, Err(Error::InvalidHeader(_))), "{err:?}");
    // None of it reached the server.
    assert!(seen.try_recv().is_err());
    assert_eq!(server.accepted(), 0);
}

#[test]
fn credentials_never_show_in_debug_or_errors() {
    let req = Request::new(Method::Get, "http://alice:s3cret@example.com/p")
        .with_header("Authorization", "Bearer s3cret")
        .unwrap()
        .with_header("Cookie", "sid=s3cret")
        .unwrap();
    let shown = format!("{req:?}");
    assert!(!shown.contains("s3cret") && shown.contains("http://example.com/p"), "{shown}");
    // Errors about a URL show it without its credentials.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for url in [format!("http://alice:s3cret@{dead}/x"), "http://alice:s3cret@exa mple.com/".to_owned()] {
        let err = Client::new().send(url.as_str()).unwrap_err();
        let (text, debug) = (err.to_string(), format!("{err:?}"));
        assert!(!text.contains("s3cret") && !debug.contains("s3cret"), "{text} / {debug}");
    }
    // The response's URL has none either.
    let (server, seen) = recording();
    let url = format!("http://alice:s3cret@{}/r", server.addr);
    let resp = Client::new().send(url.as_str()).unwrap();
    assert_eq!(resp.url(), server.url("/r"));
    assert!(!format!("{resp:?}").contains("s3cret"));
    let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));
}
