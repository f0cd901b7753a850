//! Malformed and hostile requests: each gets its status, the connection closes when framing is
//! in doubt, and other connections are unaffected.

mod server_support;

use http_toolkit::server::Response;
use http_toolkit::utils::Limits;
use server_support::*;

fn server() -> http_toolkit::server::ServerHandle {
    start(
        |b| b.limits(Limits { max_body: 1024, ..Limits::default() }),
        |s| {
            s.add_resource(["/", "/form"], |req, args| {
                Response::text(format!("{} {} {}", req.method(), args.len(), req.body().len().unwrap_or(0)))
            })
        },
    )
}

#[test]
fn each_malformed_request_gets_its_status_and_a_close() {
    let h = server();
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
    let long_header = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "b".repeat(9000));
    let many_headers = format!("GET / HTTP/1.1\r\nHost: t\r\n{}\r\n", "X-A: 1\r\n".repeat(150));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        ("space in target", b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 400),
        ("bad version", b"GET / HTTX/1.1\r\nHost: t\r\n\r\n".to_vec(), 400),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_vec(), 505),
        ("long target", long_target.into_bytes(), 414),
        ("long header line", long_header.into_bytes(), 431),
        ("too many headers", many_headers.into_bytes(), 431),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n".to_vec(), 400),
        ("space before colon", b"GET / HTTP/1.1\r\nHost : t\r\n\r\n".to_vec(), 400),
        ("no Host on 1.1", b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), 400),
        ("bad Host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n".to_vec(), 400),
        (
            "Content-Length with Transfer-Encoding",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "two Content-Lengths",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
            400,
        ),
        ("signed Content-Length", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\na".to_vec(), 400),
        (
            "unknown coding",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
            501,
        ),
        (
            "parameters on chunked",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;q=1\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "chunked not last",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n".to_vec(),
            400,
        ),
        (
            "bad chunk size",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            400,
        ),
        (
            "body over the limit",
            format!("POST /form HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n{}", "x".repeat(5000))
                .into_bytes(),
            413,
        ),
        (
            "chunked body over the limit",
            format!(
                "POST /form HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n{}\r\n0\r\n\r\n",
                "x".repeat(2048)
            )
            .into_bytes(),
            413,
        ),
        ("unknown method", b"FROB / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 501),
    ];
    for (name, bytes, status) in cases {
        let out = raw(addr(&h), &bytes);
        assert_eq!(status_of(&out), status, "{name}: {out:?}");
        // Nothing of the request is echoed back.
        assert!(!out.contains("bbbbbbbb") && !out.contains("aaaaaaaa"), "{name}");
    }
    // The server is fine afterwards.
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/").status(), 200);
}

#[test]
fn no_smuggling_after_a_rejected_request() {
    let h = server();
    // A second request hidden in the body of a request with conflicting framing is never run.
    let attack = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /form?smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    let out = raw(addr(&h), attack);
    assert_eq!(status_of(&out), 400);
    assert_eq!(out.matches("HTTP/1.1").count(), 1, "{out}");
    assert_eq!(h.current_request_count(), 0);
}

#[test]
fn a_valid_request_after_errors_on_other_connections() {
    let h = server();
    let mut good = Client::connect(addr(&h));
    assert_eq!(good.get("/").status(), 200);
    for _ in 0..20 {
        let _ = raw(addr(&h), b"\x00\x01\x02 garbage\r\n\r\n");
    }
    assert_eq!(good.get("/").status(), 200);
}

#[test]
fn limits_apply_before_the_head_is_complete() {
    let h = server();
    // 70 KiB of header bytes without an end: answered 431 without waiting for the end.
    let mut c = Client::connect(addr(&h));
    let mut head = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..2000 {
        head.extend_from_slice(format!("X-{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    c.send(&head);
    let r = c.read();
    assert_eq!(r.status(), 431);
    assert!(c.is_closed());
}
