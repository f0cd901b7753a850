//! Checks shared by the head-parser targets.

#![allow(dead_code)]

use std::fmt::Debug;

use http_utils::{Error, Headers, Limits, Parsed};

/// Limits small enough that the fuzzer reaches every limit check quickly.
pub const TINY: Limits = Limits {
    max_request_line: 32,
    max_header_line: 24,
    max_headers: 3,
    max_head: 96,
    max_body: 64,
    max_chunk_line: 8,
};

/// Splits fuzz input into (limits, split offset, message bytes): the first byte picks the
/// limits, the next two the offset at which the message is cut for the prefix check.
pub fn split_input(data: &[u8]) -> Option<(Limits, usize, &[u8])> {
    let (&[mode, hi, lo], rest) = data.split_first_chunk::<3>()?;
    let limits = if mode & 1 == 1 { TINY } else { Limits::default() };
    let split = usize::from(u16::from_be_bytes([hi, lo])) % (rest.len() + 1);
    Some((limits, split, rest))
}

/// Feeding a prefix must agree with feeding the whole message:
/// - whole is complete after `used` bytes: a prefix shorter than `used` is partial, a longer one
///   gives the same value and `used`;
/// - whole is partial: every prefix is partial;
/// - whole is an error: a prefix is partial or the same error kind.
pub fn check_prefix<T: Debug>(
    data: &[u8],
    split: usize,
    limits: &Limits,
    parse: impl Fn(&[u8], &Limits) -> Result<Parsed<T>, Error>,
) -> Result<Parsed<T>, Error> {
    let whole = parse(data, limits);
    let prefix = parse(&data[..split], limits);
    match (&whole, &prefix) {
        (Ok(Parsed::Complete { value, used }), p) => {
            assert!(*used > 0 && *used <= data.len(), "used {used} out of range");
            assert!(*used <= limits.max_head, "used {used} beyond max_head");
            if split < *used {
                assert!(matches!(p, Ok(Parsed::Partial)), "prefix {split} of complete: {p:?}");
            } else {
                match p {
                    Ok(Parsed::Complete { value: v2, used: u2 }) => {
                        assert_eq!(u2, used, "used differs for prefix {split}");
                        assert_eq!(format!("{v2:?}"), format!("{value:?}"), "value differs");
                    }
                    other => panic!("prefix {split} holding the whole head gave {other:?}"),
                }
            }
        }
        (Ok(Parsed::Partial), p) => {
            assert!(matches!(p, Ok(Parsed::Partial)), "prefix {split} of partial: {p:?}");
        }
        (Err(e), Ok(Parsed::Partial)) => assert!(e.kind().is_some(), "not a protocol error: {e:?}"),
        (Err(e), Err(e2)) => {
            assert_eq!(e.kind(), e2.kind(), "prefix {split}: {e2:?}, whole: {e:?}");
        }
        (Err(e), Ok(Parsed::Complete { .. })) => panic!("prefix {split} complete, whole {e:?}"),
    }
    if let Err(e) = &whole {
        // Every protocol error maps to a status and a fixed description.
        let _ = (e.status(), e.to_string());
    }
    whole
}

/// What parsed headers promise: lower-case token names, values without control bytes or
/// surrounding whitespace, at most `max_headers` of them.
pub fn check_headers(h: &Headers, limits: &Limits) {
    assert!(h.len() <= limits.max_headers, "{} headers", h.len());
    for (name, value) in h.iter() {
        assert!(!name.is_empty());
        assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "name {name:?}");
        assert!(!value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0), "value {value:?}");
        assert!(!value.starts_with([' ', '\t']) && !value.ends_with([' ', '\t']), "value {value:?}");
        assert_eq!(h.get(name), h.get_all(name).next());
    }
    // Lookups (indexed for the names read for every request) find what a plain scan finds.
    let known = ["host", "Content-Length", "transfer-encoding", "connection", "EXPECT", "upgrade", "accept-encoding"];
    for name in known.into_iter().chain(h.iter().map(|(n, _)| n)) {
        let scan: Vec<&str> = h.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v).collect();
        assert_eq!(h.get_all(name).collect::<Vec<_>>(), scan, "{name}");
    }
    let _ = (h.content_length(), h.transfer_codings(), h.host(), h.expects_continue());
}
