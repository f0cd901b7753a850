//! Table tests, split-at-every-offset tests and a differential test against `httparse` for the
//! head parsers.

use http_utils::{
    check_host, parse_headers, parse_request_head, parse_response_head, ErrorKind, Limits, Method, Parsed,
    Version,
};
use proptest::prelude::*;

fn req_err(bytes: &[u8], limits: &Limits) -> ErrorKind {
    match parse_request_head(bytes, limits) {
        Err(e) => e.kind().expect("protocol error"),
        Ok(p) => {
            panic!("expected an error for {:?}, got {:?}", String::from_utf8_lossy(bytes), p.is_partial())
        }
    }
}

#[test]
fn request_errors_table() {
    let d = Limits::default();
    let small = Limits { max_request_line: 32, max_header_line: 24, max_headers: 3, max_head: 128, ..d };
    let cases: &[(&[u8], &Limits, ErrorKind, u16)] = &[
        (b"G@T / HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidMethod, 400),
        (b" GET / HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidMethod, 400),
        (b"GET\t/ HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidMethod, 400),
        (b"\x16\x03\x01\x02\x00\x01", &d, ErrorKind::InvalidMethod, 400),
        (b"GET  / HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidTarget, 400),
        (b"GET /a\x7fb HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidTarget, 400),
        (b"GET /\xff HTTP/1.1\r\n\r\n", &d, ErrorKind::InvalidTarget, 400),
        (b"GET /\r\n\r\n", &d, ErrorKind::InvalidTarget, 400),
        (b"GET / HTTP/1.1 \r\n\r\n", &d, ErrorKind::InvalidVersion, 400),
        (b"GET / http/1.1\r\n\r\n", &d, ErrorKind::InvalidVersion, 400),
        (b"GET / HTTP/1.10\r\n\r\n", &d, ErrorKind::InvalidVersion, 400),
        (b"GET / HTTP/1\r\n\r\n", &d, ErrorKind::InvalidVersion, 400),
        (b"GET / HTTP/2.0\r\n\r\n", &d, ErrorKind::UnsupportedVersion, 505),
        (b"GET / HTTP/0.9\r\n\r\n", &d, ErrorKind::UnsupportedVersion, 505),
        (b"GET / HTTP/1.1\rX\n\r\n", &d, ErrorKind::BareCarriageReturn, 400),
        (b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", &d, ErrorKind::BareCarriageReturn, 400),
        (b"GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", &d, ErrorKind::InvalidHeaderValue, 400),
        (b"GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", &d, ErrorKind::InvalidHeaderValue, 400),
        (b"GET / HTTP/1.1\r\nA : b\r\n\r\n", &d, ErrorKind::InvalidHeaderName, 400),
        (b"GET / HTTP/1.1\r\n: b\r\n\r\n", &d, ErrorKind::InvalidHeaderName, 400),
        (b"GET / HTTP/1.1\r\nA(b): c\r\n\r\n", &d, ErrorKind::InvalidHeaderName, 400),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", &d, ErrorKind::MissingColon, 400),
        (b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", &d, ErrorKind::ObsoleteLineFolding, 400),
        (b"GET / HTTP/1.1\r\n\tA: b\r\n\r\n", &d, ErrorKind::ObsoleteLineFolding, 400),
        (b"GET / HTTP/1.1\r\nA: b\r\r\n", &d, ErrorKind::BareCarriageReturn, 400),
        (
            b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
            &small,
            ErrorKind::RequestLineTooLong,
            414,
        ),
        (
            b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
            &small,
            ErrorKind::HeaderLineTooLong,
            431,
        ),
        (b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", &small, ErrorKind::TooManyHeaders, 431),
    ];
    for (bytes, limits, kind, status) in cases {
        let got = req_err(bytes, limits);
        assert_eq!(got, *kind, "{:?}", String::from_utf8_lossy(bytes));
        assert_eq!(got.status(), *status);
    }
}

#[test]
fn head_too_large_fires_before_the_end_arrives() {
    let limits = Limits { max_head: 100, ..Limits::default() };
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..20 {
        head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    // No terminating empty line: still an error, not Partial.
    assert_eq!(req_err(&head, &limits), ErrorKind::HeadTooLarge);
    // A long line with no line ending yet is refused as soon as it passes the limit.
    let limits = Limits { max_request_line: 16, ..Limits::default() };
    assert_eq!(req_err(b"GET /0123456789abcdefghij", &limits), ErrorKind::RequestLineTooLong);
    let limits = Limits { max_header_line: 16, ..Limits::default() };
    assert_eq!(req_err(b"GET / HTTP/1.1\r\nX-Long: 0123456789abcdef", &limits), ErrorKind::HeaderLineTooLong);
    assert_eq!(req_err(b"GET / HTTP/1.1\r\nX-0123456789abcdefghij", &limits), ErrorKind::HeaderLineTooLong);
}

#[test]
fn error_offsets_point_at_the_byte() {
    let e = parse_request_head(b"GET / HTTP/1.1\r\nA : b\r\n\r\n", &Limits::default()).unwrap_err();
    assert_eq!(e.offset(), Some(17));
    let e = parse_request_head(b"GET /\x01 HTTP/1.1\r\n\r\n", &Limits::default()).unwrap_err();
    assert_eq!(e.offset(), Some(5));
    // Messages never echo peer bytes.
    let e = parse_request_head(b"<script> / HTTP/1.1\r\n\r\n", &Limits::default()).unwrap_err();
    assert!(!e.to_string().contains("script"));
}

#[test]
fn request_successes() {
    let d = Limits::default();
    let (r, used) = parse_request_head(
        b"\r\nPOST http://example.com/a?b=c HTTP/1.0\nHost:example.com\nX-Empty:\nX-Pad: \t v  \t\n\nBODY",
        &d,
    )
    .unwrap()
    .complete()
    .unwrap();
    assert_eq!(r.method(), &Method::Post);
    assert_eq!(r.url(), "http://example.com/a?b=c");
    assert_eq!(r.version(), Version::Http10);
    assert_eq!(
        r.headers().iter().collect::<Vec<_>>(),
        [("host", "example.com"), ("x-empty", ""), ("x-pad", "v")]
    );
    assert_eq!(used, 82);
    let (r, _) =
        parse_request_head(b"PROPFIND * HTTP/1.1\r\nHost: h\r\n\r\n", &d).unwrap().complete().unwrap();
    assert_eq!(r.method().as_str(), "PROPFIND");
    assert_eq!(r.url(), "*");
    // Non-UTF-8 field values are read as ISO-8859-1.
    let (r, _) = parse_request_head(b"GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n", &d).unwrap().complete().unwrap();
    assert_eq!(r.headers().get("x"), Some("café"));
}

#[test]
fn partial_prefixes() {
    let d = Limits::default();
    for p in [
        &b""[..],
        b"\r",
        b"\r\n",
        b"GE",
        b"GET",
        b"GET ",
        b"GET /x",
        b"GET /x H",
        b"GET /x HTTP/1.",
        b"GET /x HTTP/1.1\r",
    ] {
        assert!(parse_request_head(p, &d).unwrap().is_partial(), "{:?}", String::from_utf8_lossy(p));
    }
    for p in [&b"HT"[..], b"HTTP/1.1 200", b"HTTP/1.1 200 OK\r\nA: b"] {
        assert!(parse_response_head(p, &d).unwrap().is_partial());
    }
}

#[test]
fn host_rule() {
    let d = Limits::default();
    let parse = |b: &[u8]| parse_request_head(b, &d).unwrap().complete().unwrap().0;
    assert!(check_host(&parse(b"GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n")).is_ok());
    assert!(check_host(&parse(b"GET / HTTP/1.0\r\n\r\n")).is_ok());
    for bad in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: u@h\r\n\r\n",
    ] {
        let e = check_host(&parse(bad)).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::InvalidHost));
        assert_eq!(e.status(), 400);
    }
}

#[test]
fn response_heads() {
    let d = Limits::default();
    let (h, used) = parse_response_head(b"HTTP/1.0 204\r\n\r\n", &d).unwrap().complete().unwrap();
    assert_eq!((h.version, h.status, h.reason.as_str(), used), (Version::Http10, 204, "", 16));
    let (h, _) = parse_response_head(b"HTTP/1.1 599 Odd  Reason\n\n", &d).unwrap().complete().unwrap();
    assert_eq!((h.status, h.reason.as_str()), (599, "Odd  Reason"));
    let (h, _) = parse_response_head(b"HTTP/1.1 100 Continue\r\n\r\n", &d).unwrap().complete().unwrap();
    assert!(h.is_interim());
    for bad in [
        &b"HTTP/1.1 20 OK\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 X\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 O\x01K\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH",
        b"<html>",
    ] {
        let e = parse_response_head(bad, &d).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::InvalidStatusLine), "{:?}", String::from_utf8_lossy(bad));
    }
    let e = parse_response_head(b"HTTP/2.0 200 OK\r\n\r\n", &d).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::UnsupportedVersion));
    let small = Limits { max_request_line: 10, ..d };
    let e = parse_response_head(b"HTTP/1.1 200 A long reason", &small).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::RequestLineTooLong));
    let e = parse_response_head(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", &d).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::InvalidHeaderName));
}

#[test]
fn header_sections() {
    let d = Limits::default();
    assert_eq!(parse_headers(b"\r\n", &d).unwrap().complete().unwrap().1, 2);
    assert!(parse_headers(b"A: b\r\n", &d).unwrap().is_partial());
    let e = parse_headers(b"A: b\r\n\r", &d);
    assert!(e.unwrap().is_partial());
}

/// Feeding a head cut at any offset gives Partial for the prefix, and the whole gives the same
/// result as ever.
fn check_every_split(whole: &[u8]) {
    let d = Limits::default();
    let full = parse_request_head(whole, &d);
    for cut in 0..whole.len() {
        match (parse_request_head(&whole[..cut], &d), &full) {
            (Ok(Parsed::Partial), _) => {}
            (Ok(Parsed::Complete { used, .. }), Ok(Parsed::Complete { used: u2, .. })) => {
                // Only possible when the head ended before the cut.
                assert!(used <= cut && used == *u2, "cut {cut}");
            }
            (Err(e), Err(f)) => assert_eq!(e.kind(), f.kind(), "cut {cut}"),
            (got, _) => {
                panic!("cut {cut} of {:?}: {:?}", String::from_utf8_lossy(whole), got.map(|p| p.is_partial()))
            }
        }
    }
}

#[test]
fn split_at_every_offset() {
    check_every_split(
        b"GET /index.html?a=b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\nBODY",
    );
    check_every_split(b"\r\nPOST / HTTP/1.0\nContent-Length: 3\n\nabc");
    check_every_split(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n");
    check_every_split(b"GET / HTTP/9.9\r\n\r\n");
    let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    let full = parse_response_head(resp, &Limits::default()).unwrap().complete().unwrap();
    for cut in 0..resp.len() {
        match parse_response_head(&resp[..cut], &Limits::default()).unwrap() {
            Parsed::Partial => assert!(cut < full.1),
            Parsed::Complete { value, used } => assert_eq!((value, used), full.clone()),
        }
    }
}

/// Our parser and httparse agree on valid heads.
fn agree_with_httparse(bytes: &[u8]) {
    let ours = parse_request_head(bytes, &Limits::default());
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut theirs = httparse::Request::new(&mut slots);
    let status = theirs.parse(bytes).expect("valid for httparse");
    let (req, used) = ours.expect("valid for us").complete().expect("complete");
    assert_eq!(status, httparse::Status::Complete(used));
    assert_eq!(Some(req.method().as_str()), theirs.method);
    assert_eq!(Some(req.url()), theirs.path);
    assert_eq!(Some(if req.version() == Version::Http11 { 1 } else { 0 }), theirs.version);
    assert_eq!(req.headers().len(), theirs.headers.len());
    for ((name, value), h) in req.headers().iter().zip(theirs.headers.iter()) {
        assert_eq!(name, h.name.to_ascii_lowercase());
        assert_eq!(value.as_bytes(), h.value);
    }
}

#[test]
fn differential_fixed_heads() {
    agree_with_httparse(
        b"GET /wiki/Main_Page HTTP/1.1\r\nHost: en.wikipedia.org\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n",
    );
    agree_with_httparse(b"OPTIONS * HTTP/1.0\r\n\r\n");
    agree_with_httparse(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
}

fn token() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn differential_generated(
        method in token(),
        target in proptest::string::string_regex("/[!-~]{0,40}").unwrap(),
        minor in 0u8..2,
        headers in proptest::collection::vec((token(), proptest::string::string_regex("[!-~]([ -~]{0,30}[!-~])?").unwrap()), 0..12),
    ) {
        let mut raw = format!("{method} {target} HTTP/1.{minor}\r\n");
        for (n, v) in &headers {
            raw.push_str(&format!("{n}: {v}\r\n"));
        }
        raw.push_str("\r\n");
        agree_with_httparse(raw.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let tiny = Limits { max_request_line: 20, max_header_line: 20, max_headers: 2, max_head: 64, ..Limits::default() };
        let _ = parse_request_head(&bytes, &Limits::default());
        let _ = parse_request_head(&bytes, &tiny);
        let _ = parse_response_head(&bytes, &tiny);
        let _ = parse_headers(&bytes, &tiny);
    }
}

#[test]
fn response_folds_become_spaces_at_every_split() {
    let d = Limits::default();
    let resp = b"HTTP/1.1 200 OK\r\nX-A: one\r\n two \r\n\tthree\r\nX-B:\n  late\nX-C: c\r\n\r\nbody";
    let (head, used) = parse_response_head(resp, &d).unwrap().complete().unwrap();
    assert_eq!(&resp[used..], b"body");
    assert_eq!(head.headers.get("x-a"), Some("one   two    three"));
    assert_eq!(head.headers.get("x-b"), Some("late"));
    assert_eq!(head.headers.get("x-c"), Some("c"));
    for cut in 0..used {
        assert!(parse_response_head(&resp[..cut], &d).unwrap().is_partial(), "cut {cut}");
    }
    // Not in requests, not in trailers, and not before the first field.
    assert_eq!(req_err(b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", &d), ErrorKind::ObsoleteLineFolding);
    let e = parse_headers(b"A: b\r\n c\r\n\r\n", &d).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::ObsoleteLineFolding));
    let e = parse_response_head(b"HTTP/1.1 200 OK\r\n x: y\r\n\r\n", &d).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::ObsoleteLineFolding));
    // A folded field counts against the header line limit as a whole.
    let small = Limits { max_header_line: 16, ..d };
    let e = parse_response_head(b"HTTP/1.1 200 OK\r\nX: 0123456\r\n 789abcdef\r\n\r\n", &small).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::HeaderLineTooLong));
    // A value that is not UTF-8 is folded too.
    let (head, _) = parse_response_head(b"HTTP/1.1 200 OK\r\nX: caf\xe9\r\n au lait\r\n\r\n", &d)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(head.headers.get("x"), Some("café   au lait"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Response heads with folds, whitespace and stray bytes: every prefix is `Partial` or
    /// the same error, and every value read is free of line breaks and outer whitespace.
    #[test]
    fn folded_responses_at_every_split(
        lines in proptest::collection::vec(
            proptest::string::string_regex("([A-Za-z-]{1,6}:)?[ \t]{0,3}[ -~\t]{0,12}[ \t]{0,2}").unwrap(), 0..8),
        ends in proptest::collection::vec(0u8..3, 8),
        tiny in any::<bool>(),
    ) {
        let limits = if tiny {
            Limits { max_header_line: 24, max_headers: 3, max_head: 96, ..Limits::default() }
        } else {
            Limits::default()
        };
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for (i, line) in lines.iter().enumerate() {
            raw.extend_from_slice(line.as_bytes());
            raw.extend_from_slice(match ends[i] { 0 => &b"\r\n"[..], 1 => b"\n", _ => b"\r\n " });
        }
        raw.extend_from_slice(b"\r\n");
        let full = parse_response_head(&raw, &limits);
        if let Ok(Parsed::Complete { value, .. }) = &full {
            for (_, v) in value.headers.iter() {
                prop_assert!(!v.contains(['\r', '\n']), "{v:?}");
                prop_assert!(!v.starts_with([' ', '\t']) && !v.ends_with([' ', '\t']), "{v:?}");
            }
        }
        for cut in 0..raw.len() {
            match (parse_response_head(&raw[..cut], &limits), &full) {
                (Ok(Parsed::Partial), _) => {}
                (Ok(Parsed::Complete { used, .. }), Ok(Parsed::Complete { used: u2, .. })) => {
                    prop_assert!(used <= cut && used == *u2, "cut {}", cut);
                }
                (Err(e), Err(f)) => prop_assert_eq!(e.kind(), f.kind(), "cut {}", cut),
                (got, _) => prop_assert!(false, "cut {} of {:?}: {:?}", cut, String::from_utf8_lossy(&raw), got.map(|p| p.is_partial())),
            }
        }
    }
}

#[test]
fn a_reused_request_parses_as_a_fresh_one() {
    use http_utils::{parse_request_head_into, Method, Request};
    let limits = Limits::default();
    let heads: [&[u8]; 3] = [
        b"POST /a/long/path?with=query HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nX-Two: 2\r\nContent-Length: 0\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: other\r\nAccept: \xe9\r\n\r\n",
    ];
    let mut reused = Request::new(Method::Delete, "/old").with_body(b"left over".to_vec());
    reused.set_ip(Some("127.0.0.1".parse().unwrap()));
    for _ in 0..2 {
        for head in heads {
            let (fresh, used) = parse_request_head(head, &limits).unwrap().complete().unwrap();
            let ((), used2) =
                parse_request_head_into(head, &limits, &mut reused).unwrap().complete().unwrap();
            assert_eq!(used, used2);
            assert_eq!(
                (fresh.method(), fresh.url(), fresh.version(), fresh.ip()),
                (reused.method(), reused.url(), reused.version(), reused.ip())
            );
            assert_eq!(fresh.headers(), reused.headers());
            assert!(matches!(reused.body(), http_utils::Body::Empty));
        }
    }
    // A partial head, or a bad one, leaves no half-filled headers behind.
    for bad in
        [&b"GET / HTTP/1.1\r\nHost: h\r\nX-Half"[..], b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n"]
    {
        let _ = parse_request_head_into(bad, &limits, &mut reused);
        assert_eq!(reused.headers().len(), 0);
    }
    let ((), _) = parse_request_head_into(heads[1], &limits, &mut reused).unwrap().complete().unwrap();
    assert_eq!((reused.url(), reused.headers().len()), ("/", 0));
    // A record whose buffers grew large lets them go, and still parses right.
    let big =
        format!("GET /{} HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000), "b".repeat(20_000));
    let ((), _) = parse_request_head_into(
        big.as_bytes(),
        &Limits { max_request_line: 64 << 10, ..Limits::CLIENT },
        &mut reused,
    )
    .unwrap()
    .complete()
    .unwrap();
    let ((), _) = parse_request_head_into(heads[2], &limits, &mut reused).unwrap().complete().unwrap();
    assert_eq!((reused.url(), reused.headers().get("host")), ("/x", Some("other")));
}
