//! Response heads as servers on the web send them: large heads within limits fit for the web
//! (with an error that names the limit past them), and obsolete line folding replaced by
//! spaces (RFC 9112 §5.2), from raw-socket servers.

mod client_common;

use client_common::RawServer;
use http_client::{Client, Error, Limits};
use http_utils::ErrorKind;

/// A server that answers the first request on each connection with `head` and a short body.
fn answering(head: String) -> RawServer {
    RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            peer.write(head.as_bytes());
            peer.write(b"Content-Length: 4\r\n\r\nbody");
        }
    })
}

fn fields(n: usize, value_len: usize) -> String {
    (0..n).map(|i| format!("X-Field-{i}: {}\r\n", "v".repeat(value_len))).collect()
}

#[test]
fn heads_as_large_as_the_web_sends_are_read() {
    let cases = [
        ("a 9,000-byte header line", format!("X-Big: {}\r\n", "c".repeat(9000))),
        ("110 fields", fields(110, 10)),
        ("a 70 KB head", fields(70, 1000)),
        ("a 200 KiB cookie", format!("Set-Cookie: a={}\r\n", "z".repeat(200 << 10))),
    ];
    for (name, extra) in cases {
        let server = answering(format!("HTTP/1.1 200 OK\r\n{extra}"));
        let resp = Client::new().send(server.url("/")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(resp.text().unwrap(), "body", "{name}");
    }
}

#[test]
fn a_head_past_a_limit_names_the_limit() {
    let cases = [
        ("max_header_line", format!("X-Big: {}\r\n", "c".repeat(300 << 10)), ErrorKind::HeaderLineTooLong),
        ("max_headers", fields(1001, 1), ErrorKind::TooManyHeaders),
        ("max_head", fields(600, 1000), ErrorKind::HeadTooLarge),
    ];
    for (limit, extra, kind) in cases {
        let server = answering(format!("HTTP/1.1 200 OK\r\n{extra}"));
        let err = Client::new().send(server.url("/")).unwrap_err();
        assert!(
            matches!(err, Error::ResponseHeadTooLarge { limit: l, .. } if l == limit),
            "{limit}: {err:?}"
        );
        assert_eq!(err.protocol_kind(), Some(kind));
        let text = err.to_string();
        assert!(text.contains(limit) && !text.contains("malformed"), "{text}");
    }
    // The limits are the client's to set.
    let server = answering(format!("HTTP/1.1 200 OK\r\n{}", fields(20, 1)));
    let small = Client::builder().limits(Limits { max_headers: 10, ..Limits::CLIENT }).build().unwrap();
    let err = small.send(server.url("/")).unwrap_err();
    assert!(err.to_string().contains("Limits::max_headers (10 fields)"), "{err}");
}

#[test]
fn obsolete_line_folding_becomes_spaces() {
    let server = answering(
        "HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nX-Empty-Start:\r\n later\r\nX-After: ok\r\n"
            .to_owned(),
    );
    let client = Client::new();
    let resp = client.send(server.url("/")).unwrap();
    let folded = resp.header("x-folded").unwrap().to_owned();
    // Each fold is one or more spaces; the words stay in order.
    assert_eq!(folded.split_whitespace().collect::<Vec<_>>(), ["first", "second", "third"], "{folded:?}");
    assert!(!folded.contains(['\r', '\n', '\t']), "{folded:?}");
    assert_eq!(resp.header("x-empty-start"), Some("later"));
    assert_eq!(resp.header("x-after"), Some("ok"));
    assert_eq!(resp.text().unwrap(), "body");
    // A fold before any field is still malformed.
    let server = answering("HTTP/1.1 200 OK\r\n folded: x\r\n".to_owned());
    let err = client.send(server.url("/")).unwrap_err();
    assert_eq!(err.protocol_kind(), Some(ErrorKind::ObsoleteLineFolding), "{err}");
}
