//! `parse_request_head` under default and tiny limits, whole and cut at a chosen offset; and
//! `parse_request_head_into` a record used before, which must give what a fresh parse gives.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((limits, split, msg)) = common::split_input(data) else { return };
    // A record that held another request (with a body and an address) is parsed into: the
    // bytes cut at the split first, then whole.
    let mut reused = http_utils::Request::new(http_utils::Method::Delete, "/earlier?x#y")
        .with_header("X-Earlier", "1")
        .map(|r| r.with_body(b"left".to_vec()))
        .ok();
    if let Some(r) = reused.as_mut() {
        let _ = http_utils::parse_request_head_into(&msg[..split.min(msg.len())], &limits, r);
        let fresh = http_utils::parse_request_head(msg, &limits);
        let again = http_utils::parse_request_head_into(msg, &limits, r);
        match (&fresh, &again) {
            (Ok(http_utils::Parsed::Complete { value: f, used: a }), Ok(http_utils::Parsed::Complete { used: b, .. })) => {
                assert_eq!(a, b);
                assert_eq!((f.method(), f.url(), f.version()), (r.method(), r.url(), r.version()));
                assert_eq!((f.path(), f.query()), (r.path(), r.query()));
                assert_eq!(f.headers(), r.headers());
                assert!(r.body().is_empty() && r.ip().is_none());
            }
            (Ok(http_utils::Parsed::Partial), Ok(http_utils::Parsed::Partial)) => {}
            (Err(e), Err(g)) => assert_eq!((e.kind(), e.offset()), (g.kind(), g.offset())),
            _ => panic!("a reused record parsed differently from a fresh one"),
        }
    }
    if let Ok(http_utils::Parsed::Complete { value: req, .. }) =
        common::check_prefix(msg, split, &limits, http_utils::parse_request_head)
    {
        common::check_headers(req.headers(), &limits);
        assert!(!req.url().is_empty());
        let _ = (req.path(), req.query(), req.wants_keep_alive(), http_utils::check_host(&req));
        let (path, _args) = http_utils::decode_url(req.url());
        let _ = http_utils::normalize_path(&path);
    }
});
