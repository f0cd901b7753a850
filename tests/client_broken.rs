//! Broken, odd and bodiless responses from raw-socket servers: never silent success.

mod client_common;

use std::io::Read;

use client_common::RawServer;
use http_client::{Client, Error, Method, Request};
use http_utils::ErrorKind;

/// A server that answers the first request on each connection with `raw`, then closes.
fn once(raw: &'static [u8]) -> RawServer {
    RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            peer.write(raw);
        }
    })
}

fn kind_of(e: &Error) -> Option<ErrorKind> {
    e.protocol_kind()
}

fn get_text(server: &RawServer) -> Result<String, Error> {
    Client::new().send(server.url("/"))?.text()
}

#[test]
fn truncated_length_body_is_an_error() {
    let server = once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    let err = get_text(&server).unwrap_err();
    assert_eq!(kind_of(&err), Some(ErrorKind::TruncatedBody), "{err}");
    // Through Read, the same error comes out as an io::Error that converts back.
    let mut resp = Client::new().send(server.url("/")).unwrap();
    let mut buf = Vec::new();
    let io_err = resp.read_to_end(&mut buf).unwrap_err();
    assert_eq!(buf, b"short");
    assert_eq!(kind_of(&Error::from(io_err)), Some(ErrorKind::TruncatedBody));
    assert!(!resp.is_complete());
}

#[test]
fn broken_chunking_is_an_error() {
    let server = once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    let err = get_text(&server).unwrap_err();
    assert_eq!(kind_of(&err), Some(ErrorKind::InvalidChunk), "{err}");
    let server = once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY\r\n0\r\n\r\n");
    assert!(matches!(get_text(&server).unwrap_err(), Error::Protocol(_)));
    let server = once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    assert_eq!(kind_of(&get_text(&server).unwrap_err()), Some(ErrorKind::TruncatedBody));
    // Missing last chunk.
    let server = once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    assert_eq!(kind_of(&get_text(&server).unwrap_err()), Some(ErrorKind::TruncatedBody));
}

#[test]
fn chunked_body_with_trailers_is_read_and_connection_reused() {
    let server = RawServer::fixed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
    );
    let client = Client::new();
    for _ in 0..3 {
        assert_eq!(client.get_text(server.url("/")).unwrap(), "Wikipedia");
    }
    assert_eq!(server.accepted(), 1);
    let mut resp = client.send(server.url("/")).unwrap();
    assert!(resp.trailers().is_none());
    let mut body = String::new();
    resp.read_to_string(&mut body).unwrap();
    assert!(resp.is_complete());
    assert_eq!(resp.trailers().and_then(|t| t.get("x-t")), Some("1"));
}

#[test]
fn conflicting_or_malformed_content_length_is_refused() {
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
    ] {
        let server = once(raw);
        let err = Client::new().send(server.url("/")).unwrap_err();
        assert_eq!(kind_of(&err), Some(ErrorKind::ConflictingContentLength), "{err}");
    }
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    ] {
        let server = once(raw);
        let err = Client::new().send(server.url("/")).unwrap_err();
        assert_eq!(kind_of(&err), Some(ErrorKind::InvalidContentLength), "{err}");
    }
    let server = once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    let err = Client::new().send(server.url("/")).unwrap_err();
    assert_eq!(kind_of(&err), Some(ErrorKind::ContentLengthWithTransferEncoding), "{err}");
}

#[test]
fn chunked_with_parameters_is_refused() {
    // Not read as chunked, and not read until the close either (which would hand the chunk
    // framing over as the body).
    for raw in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n3\r\nabc\r\n0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked; x=y\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ] {
        let server = once(raw);
        let err = Client::new().send(server.url("/")).unwrap_err();
        assert_eq!(kind_of(&err), Some(ErrorKind::InvalidTransferCoding), "{err}");
    }
}

#[test]
fn bad_status_line_and_oversize_head_are_errors() {
    for raw in [
        &b"HTTP/1.1 2000 OK\r\n\r\n"[..],
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"garbage\r\n\r\n",
    ] {
        let server = once(raw);
        let err = Client::new().send(server.url("/")).unwrap_err();
        assert_eq!(kind_of(&err), Some(ErrorKind::InvalidStatusLine), "{err}");
    }
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\n");
            for i in 0..1100 {
                peer.write(format!("X-Filler-{i}: {}\r\n", "v".repeat(600)).as_bytes());
            }
            peer.write(b"\r\n");
        }
    });
    let err = Client::new().send(server.url("/")).unwrap_err();
    assert!(matches!(kind_of(&err), Some(ErrorKind::HeadTooLarge | ErrorKind::TooManyHeaders)), "{err}");
    let server = once(b"HTTP/1.1 200 OK\r\nContent-Le");
    let err = Client::new().send(server.url("/")).unwrap_err();
    assert_eq!(kind_of(&err), Some(ErrorKind::TruncatedHead), "{err}");
}

#[test]
fn interim_responses_are_skipped() {
    let server = RawServer::fixed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine",
    );
    let client = Client::new();
    let resp = client.send(server.url("/")).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("link"), None);
    assert_eq!(resp.text().unwrap(), "fine");
    assert_eq!(client.get_text(server.url("/")).unwrap(), "fine");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn close_delimited_body_is_read_to_the_end_and_not_pooled() {
    let server = once(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    let client = Client::new();
    let resp = client.send(server.url("/")).unwrap();
    assert!(!resp.is_complete());
    assert_eq!(resp.text().unwrap(), "until the end");
    assert_eq!(client.idle_connections(), 0);
    // HTTP/1.0 without keep-alive.
    let server = once(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    assert_eq!(client.idle_connections(), 0);
}

#[test]
fn bodiless_responses_complete_at_once_and_keep_the_connection() {
    // 204 and 304 with a (lying) Content-Length still have no body; HEAD neither.
    let server = RawServer::start(|mut peer| {
        while let Some(seen) = peer.read_request() {
            let raw: &[u8] = match seen.target.as_str() {
                "/204" => b"HTTP/1.1 204 No Content\r\n\r\n",
                "/304" => b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            };
            if !peer.write(raw) {
                break;
            }
        }
    });
    let client = Client::new();
    for path in ["/204", "/304"] {
        let resp = client.send(server.url(path)).unwrap();
        assert!(resp.is_complete(), "{path}");
        assert_eq!(resp.text().unwrap(), "");
    }
    let resp = client.send(Request::new(Method::Head, server.url("/head"))).unwrap();
    assert!(resp.is_complete());
    assert_eq!(resp.header("content-length"), Some("10"));
    drop(resp);
    assert_eq!(server.accepted(), 1);
    assert_eq!(client.idle_connections(), 1);
}

#[test]
fn server_that_closes_without_answering() {
    let server = RawServer::start(|mut peer| {
        let _ = peer.read_request();
    });
    let err = Client::new().send(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed), "{err}");
}

#[test]
fn abandoned_body_closes_the_connection() {
    let server = RawServer::start(|mut peer| {
        while peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
            // Send only part of it; the client gives up.
            if !peer.write(&[b'x'; 100_000]) {
                break;
            }
        }
    });
    let client = Client::new();
    let mut resp = client.send(server.url("/")).unwrap();
    let mut buf = [0u8; 10];
    resp.read_exact(&mut buf).unwrap();
    drop(resp);
    assert_eq!(client.idle_connections(), 0);
    // A short body whose rest is already buffered is finished on drop and reused.
    let server = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let resp = client.send(server.url("/")).unwrap();
    drop(resp);
    assert_eq!(client.idle_connections(), 1);
    // So is a chunked one whose data was read but not its last chunk.
    let server =
        RawServer::fixed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let client = Client::new();
    let mut resp = client.send(server.url("/")).unwrap();
    let mut five = [0u8; 5];
    resp.read_exact(&mut five).unwrap();
    drop(resp);
    assert_eq!(client.idle_connections(), 1);
    assert_eq!(client.get_text(server.url("/")).unwrap(), "hello");
    assert_eq!(server.accepted(), 1);
    // The last chunk arrives after the data was read, but before the drop: finished, reused.
    let (sent_tx, sent_rx) = std::sync::mpsc::channel();
    let sent_tx = std::sync::Mutex::new(sent_tx);
    let server = RawServer::start(move |mut peer| {
        while peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            std::thread::sleep(std::time::Duration::from_millis(30));
            peer.write(b"0\r\n\r\n");
            sent_tx.lock().unwrap().send(()).unwrap();
        }
    });
    let mut resp = client.send(server.url("/")).unwrap();
    resp.read_exact(&mut five).unwrap();
    assert!(!resp.is_complete());
    sent_rx.recv().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(resp);
    assert_eq!(client.idle_connections(), 2);
}

#[test]
fn body_cap_is_enforced() {
    let server = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789");
    let client = Client::new();
    let err = client.send(server.url("/")).unwrap().bytes_limited(10).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 10 }), "{err}");
    let limits = http_utils::Limits { max_body: 19, ..Default::default() };
    let client = Client::builder().limits(limits).build().unwrap();
    assert!(matches!(client.get_text(server.url("/")).unwrap_err(), Error::BodyTooLarge { limit: 19 }));
}

#[test]
fn error_status_is_a_response_but_get_reports_it() {
    let server = RawServer::fixed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone");
    let client = Client::new();
    let resp = client.send(server.url("/")).unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.text().unwrap(), "gone");
    let err = client.get_text(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, .. }), "{err}");
}

#[test]
fn error_sources_are_kept() {
    use std::error::Error as _;
    let server = once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    let err = get_text(&server).unwrap_err();
    assert!(err.source().is_some());
    let err = Client::new().send("ftp://example.com/").unwrap_err();
    assert!(matches!(err, Error::UnsupportedScheme(_)));
    let err = Client::new().send("http://").unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
}

#[test]
fn remaining_error_variants() {
    // A User-Agent that cannot be a header value.
    let server = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\xff\xfe");
    let client = Client::builder().user_agent(Some("bad\r\nInjected: 1")).build().unwrap();
    assert!(matches!(client.send(server.url("/")).unwrap_err(), Error::InvalidHeader(_)));
    // A body that is not UTF-8, read as text.
    let err = Client::new().send(server.url("/")).unwrap().text().unwrap_err();
    assert!(matches!(err, Error::NotUtf8), "{err}");
    // A redirect to a scheme the client does not speak.
    let server = once(b"HTTP/1.1 301 Moved\r\nLocation: ftp://example.com/file\r\nContent-Length: 0\r\n\r\n");
    let err = Client::new().send(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::BadRedirect(_)), "{err}");
    // A streamed request body shorter than its announced length.
    let server = RawServer::start(|mut peer| {
        let _ = peer.read_request();
    });
    let short = http_client::Body::stream(std::io::Cursor::new(vec![1u8; 10]), Some(20));
    let err = Client::new().request(Method::Put, server.url("/")).body(short).send().unwrap_err();
    assert!(matches!(err, Error::RequestBodyLength { expected: 20, actual: 10 }), "{err}");
    let long = http_client::Body::stream(std::io::Cursor::new(vec![1u8; 30]), Some(20));
    let err = Client::new().request(Method::Put, server.url("/")).body(long).send().unwrap_err();
    assert!(matches!(err, Error::RequestBodyLength { expected: 20, actual: 21 }), "{err}");
}
