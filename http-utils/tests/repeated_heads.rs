//! A request record parsed into again and again keeps the header section it was parsed
//! from and takes its headers as they are when the next request repeats it: every outcome
//! must still be a fresh parse's, whatever came before, whatever changed the headers in
//! between, under whatever limits.

use http_utils::{
    check_host, parse_request_head, parse_request_head_into, request_framing, Limits, Method, Parsed,
    Request, Version,
};
use proptest::prelude::*;

/// Parses `msg` into `r` and asserts the outcome is a fresh parse's.
fn same_as_fresh(r: &mut Request, msg: &[u8], limits: &Limits) -> Result<(), TestCaseError> {
    let fresh = parse_request_head(msg, limits);
    let again = parse_request_head_into(msg, limits, r);
    match (&fresh, &again) {
        (Ok(Parsed::Complete { value: f, used: a }), Ok(Parsed::Complete { used: b, .. })) => {
            prop_assert_eq!(a, b);
            prop_assert_eq!((f.method(), f.url(), f.version()), (r.method(), r.url(), r.version()));
            prop_assert_eq!((f.path(), f.query()), (r.path(), r.query()));
            prop_assert_eq!(f.headers(), r.headers());
            prop_assert!(r.body().is_empty() && r.ip().is_none());
            same_facts(f, r)?;
        }
        (Ok(Parsed::Partial), Ok(Parsed::Partial)) => {}
        (Err(e), Err(g)) => prop_assert_eq!((e.kind(), e.offset()), (g.kind(), g.offset())),
        _ => prop_assert!(false, "{:?}: fresh {:?}, reused {:?}", String::from_utf8_lossy(msg), fresh, again),
    }
    Ok(())
}

/// What a server asks of a request is the same for `a` and `b`.
fn same_facts(a: &Request, b: &Request) -> Result<(), TestCaseError> {
    let kinds = |r: &Request| {
        (
            check_host(r).map_err(|e| (e.kind(), e.offset())),
            request_framing(r).map_err(|e| (e.kind(), e.offset(), e.status())),
            r.wants_keep_alive(),
        )
    };
    prop_assert_eq!(kinds(a), kinds(b));
    Ok(())
}

const SMALL: Limits =
    Limits { max_request_line: 40, max_header_line: 24, max_headers: 3, max_head: 120, ..Limits::DEFAULT };

#[test]
fn a_repeated_section_gives_the_headers_parsed_before() {
    let head = b"GET /a HTTP/1.1\r\nHost: Example.COM\r\nX-Two: 2\r\n\r\n";
    let mut r = Request::new(Method::Get, "/");
    for _ in 0..3 {
        same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    }
    assert_eq!((r.url(), r.headers().get("host"), r.headers().len()), ("/a", Some("Example.COM"), 2));
    // The same fields after another line, and names in other case (not the same bytes).
    let moved = b"DELETE /much/longer/target?q=1 HTTP/1.0\r\nHost: Example.COM\r\nX-Two: 2\r\n\r\n";
    same_as_fresh(&mut r, moved, &Limits::default()).unwrap();
    assert_eq!((r.method(), r.query()), (&Method::Delete, Some("q=1")));
    same_as_fresh(&mut r, b"GET /a HTTP/1.1\r\nhost: Example.COM\r\nx-two: 2\r\n\r\n", &Limits::default())
        .unwrap();
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
}

#[test]
fn a_released_section_is_parsed_afresh_and_kept_again() {
    let head = b"GET /a HTTP/1.1\r\nHost: h\r\nX-Two: 2\r\n\r\n";
    let mut r = Request::new(Method::Get, "/");
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    r.release_section();
    // The record keeps its headers, and what a server asks of them is still a fresh parse's.
    assert_eq!((r.url(), r.headers().get("x-two"), r.headers().len()), ("/a", Some("2"), 2));
    let fresh = parse_request_head(head, &Limits::default()).unwrap();
    let Parsed::Complete { value: fresh, .. } = fresh else { panic!("a complete head") };
    same_facts(&fresh, &r).unwrap();
    // Parsed into again, once and then with the section it keeps again: a fresh parse's
    // outcome every time, and after a release in between too.
    for _ in 0..2 {
        same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    }
    same_as_fresh(&mut r, b"GET /b HTTP/1.1\r\nHost: other\r\n\r\n", &Limits::default()).unwrap();
    r.release_section();
    r.release_section();
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
}

#[test]
fn headers_changed_in_between_are_parsed_again() {
    let head = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    let mut r = Request::new(Method::Get, "/");
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    r.headers_mut().remove("connection");
    r.headers_mut().append("X-Added", "1").unwrap();
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    assert!(!r.wants_keep_alive() && r.headers().get("x-added").is_none());
    let mut other = http_utils::Headers::new();
    other.append("X-Other", "1").unwrap();
    r.set_headers(other);
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    assert_eq!(r.headers().get("x-other"), None);
    r.set_url("/changed");
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    assert_eq!(r.url(), "/");
}

#[test]
fn smaller_limits_refuse_a_repeated_section_as_a_fresh_parse_does() {
    let head =
        b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: 0123456789012345678901234567890\r\nA: 1\r\nB: 2\r\n\r\n";
    let mut r = Request::new(Method::Get, "/");
    same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    let fewer = Limits { max_headers: 3, ..Limits::default() };
    for limits in [SMALL, fewer, Limits { max_head: 40, ..Limits::default() }] {
        assert!(parse_request_head(head, &limits).is_err());
        same_as_fresh(&mut r, head, &limits).unwrap();
        same_as_fresh(&mut r, head, &Limits::default()).unwrap();
    }
}

fn head() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just("GET / HTTP/1.1\r\n".to_owned()),
        Just("POST /submit?x=1 HTTP/1.1\r\n".to_owned()),
        Just("GET /a%20b HTTP/1.0\r\n".to_owned()),
        Just("GET / HTTP/1.1\n".to_owned()),
    ];
    let field = prop_oneof![
        Just("Host: localhost\r\n"),
        Just("host: LOCALHOST\r\n"),
        Just("Connection: keep-alive\r\n"),
        Just("Accept: */*\r\n"),
        Just("Content-Length: 0\r\n"),
        Just("X-Long: 0123456789012345678901234567890123\r\n"),
        Just("Bad Name: 1\r\n"),
        Just("Latin: caf\u{e9}\r\n"),
        Just("X-Bare: lf\n"),
        Just("Host: bad/host\r\n"),
        Just("Transfer-Encoding: chunked\r\n"),
        Just("Transfer-Encoding: gzip\r\n"),
        Just("Content-Length: 7\r\n"),
        Just("Connection: close\r\n"),
        Just("Expect: 100-continue\r\n"),
    ];
    (line, proptest::collection::vec(field, 0..5), any::<bool>()).prop_map(|(line, fields, end)| {
        let mut b = line.into_bytes();
        for f in fields {
            b.extend_from_slice(f.as_bytes());
        }
        if end {
            b.extend_from_slice(b"\r\n");
        }
        b
    })
}

/// What may happen to a record between two parses.
#[derive(Debug, Clone)]
enum Between {
    Nothing,
    AppendHeader,
    RemoveHost,
    SetUrl,
    SetVersion,
    Cut(usize),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Sequences drawn from a few heads (so that sections repeat), with edits and cut
    /// prefixes between them, under default and small limits: every parse is a fresh one's.
    #[test]
    fn a_record_parsed_into_again_and_again_parses_as_fresh(
        steps in proptest::collection::vec((head(), any::<bool>(), prop_oneof![
            Just(Between::Nothing), Just(Between::Nothing), Just(Between::AppendHeader),
            Just(Between::RemoveHost), Just(Between::SetUrl), Just(Between::SetVersion), (0usize..80).prop_map(Between::Cut),
        ]), 1..12),
    ) {
        let mut r = Request::new(Method::Get, "/start");
        for (msg, small, between) in steps {
            let limits = if small { SMALL } else { Limits::default() };
            match between {
                Between::Nothing => {}
                Between::AppendHeader => { let _ = r.headers_mut().append("X-Between", "1"); }
                Between::RemoveHost => { r.headers_mut().remove("host"); }
                Between::SetUrl => r.set_url("/elsewhere"),
                Between::SetVersion => {
                    // The record's version changed, its headers not: what they mean may.
                    let v = if r.version() == Version::Http10 { Version::Http11 } else { Version::Http10 };
                    r.set_version(v);
                    let mut fresh = Request::new(r.method().clone(), r.url()).with_version(v);
                    fresh.set_headers(r.headers().clone());
                    same_facts(&fresh, &r)?;
                }
                Between::Cut(n) => { let _ = parse_request_head_into(&msg[..n.min(msg.len())], &limits, &mut r); }
            }
            same_as_fresh(&mut r, &msg, &limits)?;
        }
    }
}
