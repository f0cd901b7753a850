//! `parse_request_head` under default and tiny limits, whole and cut at a chosen offset; and
//! `parse_request_head_into` a record used before, which must give what a fresh parse gives:
//! after a cut prefix, again for the same bytes (the record's header section repeats), under
//! the other limits, and with another request line before the same fields (with the same
//! answers from `check_host`, `request_framing` and `wants_keep_alive`).

#![no_main]

use http_utils::{parse_request_head, parse_request_head_into, Limits, Parsed, Request};
use libfuzzer_sys::fuzz_target;

mod common;

/// Parses `msg` into `r` and checks that the outcome is a fresh parse's.
fn same_as_fresh(r: &mut Request, msg: &[u8], limits: &Limits) {
    let fresh = parse_request_head(msg, limits);
    let again = parse_request_head_into(msg, limits, r);
    match (&fresh, &again) {
        (Ok(Parsed::Complete { value: f, used: a }), Ok(Parsed::Complete { used: b, .. })) => {
            assert_eq!(a, b);
            assert_eq!((f.method(), f.url(), f.version()), (r.method(), r.url(), r.version()));
            assert_eq!((f.path(), f.query()), (r.path(), r.query()));
            assert_eq!(f.headers(), r.headers());
            assert!(r.body().is_empty() && r.ip().is_none());
            // What a server asks of the head, worked out once for a repeated section.
            let facts = |q: &Request| {
                (
                    http_utils::check_host(q).map_err(|e| (e.kind(), e.offset())),
                    http_utils::request_framing(q).map_err(|e| (e.kind(), e.offset())),
                    q.wants_keep_alive(),
                )
            };
            assert_eq!(facts(f), facts(r));
        }
        (Ok(Parsed::Partial), Ok(Parsed::Partial)) => {}
        (Err(e), Err(g)) => assert_eq!((e.kind(), e.offset()), (g.kind(), g.offset())),
        _ => panic!("a reused record parsed differently from a fresh one"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((limits, split, msg)) = common::split_input(data) else { return };
    // A record that held another request (with a body and an address) is parsed into: the
    // bytes cut at the split first, then whole, then whole again under both limits.
    let reused = Request::new(http_utils::Method::Delete, "/earlier?x#y")
        .with_header("X-Earlier", "1")
        .map(|r| r.with_body(b"left".to_vec()));
    if let Ok(mut r) = reused {
        let _ = parse_request_head_into(&msg[..split.min(msg.len())], &limits, &mut r);
        same_as_fresh(&mut r, msg, &limits);
        same_as_fresh(&mut r, msg, &limits);
        let other = if limits == Limits::default() { common::TINY } else { Limits::default() };
        same_as_fresh(&mut r, msg, &other);
        same_as_fresh(&mut r, msg, &limits);
        // The same fields after another request line (at another offset).
        if let Some(eol) = msg.iter().position(|&c| c == b'\n') {
            let mut moved = b"PUT /another/target?q HTTP/1.0\r\n".to_vec();
            moved.extend_from_slice(&msg[eol + 1..]);
            same_as_fresh(&mut r, &moved, &limits);
            same_as_fresh(&mut r, msg, &limits);
        }
    }
    if let Ok(Parsed::Complete { value: req, .. }) = common::check_prefix(msg, split, &limits, parse_request_head) {
        common::check_headers(req.headers(), &limits);
        assert!(!req.url().is_empty());
        let _ = (req.path(), req.query(), req.wants_keep_alive(), http_utils::check_host(&req));
        let (path, _args) = http_utils::decode_url(req.url());
        let _ = http_utils::normalize_path(&path);
    }
});
