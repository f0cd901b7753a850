//! Unit tests of `Headers` and of the wire-field builder.

use super::*;

#[test]
fn case_insensitive_and_ordered() {
    let mut h = Headers::new();
    h.append("X-A", "1").unwrap();
    h.append("x-b", " 2 ").unwrap();
    h.append("X-a", "3").unwrap();
    assert_eq!(h.get("x-a"), Some("1"));
    assert_eq!(h.get("X-B"), Some("2"));
    assert_eq!(h.get_joined("x-a").unwrap(), "1, 3");
    assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["x-a", "x-b", "x-a"]);
    h.set("x-a", "4").unwrap();
    assert_eq!(h.iter().collect::<Vec<_>>(), [("x-b", "2"), ("x-a", "4")]);
    assert_eq!(h.remove("X-B"), 1);
    assert_eq!(h.len(), 1);
}

#[test]
fn rejects_bad_names_and_values() {
    let mut h = Headers::new();
    for bad in ["", "a b", "a:b", "a\r", "é"] {
        assert_eq!(h.append(bad, "v").unwrap_err().kind(), Some(ErrorKind::InvalidHeaderName));
    }
    for bad in ["a\rb", "a\nb", "a\0b", "\x7f"] {
        assert_eq!(h.append("n", bad).unwrap_err().kind(), Some(ErrorKind::InvalidHeaderValue));
    }
    assert!(h.is_empty());
    h.append("n", "tab\tand ünïcode").unwrap();
}

#[test]
fn content_length_rules() {
    let cl = |vals: &[&str]| {
        let mut h = Headers::new();
        for v in vals {
            h.append("Content-Length", v).unwrap();
        }
        h.content_length()
    };
    assert_eq!(cl(&[]), Ok(None));
    assert_eq!(cl(&["0"]), Ok(Some(0)));
    assert_eq!(cl(&["42", "42"]), Ok(Some(42)));
    assert_eq!(cl(&["42, 42"]), Ok(Some(42)));
    assert_eq!(cl(&["18446744073709551615"]), Ok(Some(u64::MAX)));
    assert_eq!(cl(&["42", "43"]), Err(ErrorKind::ConflictingContentLength));
    for bad in ["+1", "-1", "1 2", "0x10", "", "18446744073709551616", "1,", "abc"] {
        assert_eq!(cl(&[bad]), Err(ErrorKind::InvalidContentLength), "{bad:?}");
    }
}

#[test]
fn tokens_and_host() {
    let mut h = Headers::new();
    h.append("Connection", "Keep-Alive, Upgrade").unwrap();
    h.append("Transfer-Encoding", "gzip, Chunked;x=1").unwrap();
    h.append("Expect", "100-Continue").unwrap();
    h.append("Host", "example.com").unwrap();
    assert!(h.connection_has("keep-alive"));
    assert!(!h.connection_has("close"));
    assert_eq!(h.transfer_codings(), ["gzip", "chunked"]);
    assert!(h.expects_continue());
    assert_eq!(h.host(), Some("example.com"));
    h.append("host", "other").unwrap();
    assert_eq!(h.host(), None);
}

#[test]
fn compaction_keeps_contents() {
    let mut h = Headers::new();
    for i in 0..1000 {
        h.set("x-counter", &i.to_string()).unwrap();
        h.append("x-keep", "k").unwrap();
        h.remove("x-keep");
    }
    assert_eq!(h.get("x-counter"), Some("999"));
    assert!(h.buf.len() < 1024);
}

#[test]
fn latin1_fallback() {
    let mut h = Headers::new();
    assert!(h.push_wire(b"X", b"caf\xe9"));
    assert_eq!(h.get("x"), Some("café"));
}

/// The byte ranges of one field's name and value.
type Ranges = ((usize, usize), (usize, usize));

/// Builds headers from wire ranges as the parser does: `(name, value)` offsets into `head`.
fn from_wire(head: &[u8], base: usize, fields: &[Ranges]) -> Headers {
    let mut w = WireFields::new(base);
    for &(n, v) in fields {
        assert!(w.push(n, v));
    }
    w.finish(head).unwrap()
}

#[test]
fn wire_fields_copy_the_section_once() {
    let head = b"GET / HTTP/1.1\r\nHoST: a.b\r\nX-Y:  caf\xc3\xa9 \r\n\r\n";
    let h = from_wire(head, 16, &[((16, 20), (22, 25)), ((27, 30), (33, 38))]);
    assert_eq!(h.iter().collect::<Vec<_>>(), [("host", "a.b"), ("x-y", "café")]);
    // The same with a value that is not UTF-8: read as ISO-8859-1, the rest unchanged.
    let head = b"GET / HTTP/1.1\r\nHoST: a.b\r\nX-Y:  caf\xe9 \r\n\r\n";
    let mut h = from_wire(head, 16, &[((16, 20), (22, 25)), ((27, 30), (33, 37))]);
    assert_eq!(h.iter().collect::<Vec<_>>(), [("host", "a.b"), ("x-y", "café")]);
    // Parsed headers stay editable; compaction keeps what is left.
    h.append("Z", "1").unwrap();
    assert_eq!(h.remove("host"), 1);
    for i in 0..200 {
        h.set("x-n", &i.to_string()).unwrap();
    }
    assert_eq!(h.iter().collect::<Vec<_>>(), [("x-y", "café"), ("z", "1"), ("x-n", "199")]);
    // No fields at all.
    assert!(from_wire(b"\r\n", 0, &[]).is_empty());
}

#[test]
fn names_keep_the_case_they_were_written_in() {
    let mut h = Headers::new();
    h.append("X-Request-ID", "1").unwrap();
    h.append("lower", "2").unwrap();
    h.set("ETag", "\"t\"").unwrap();
    assert_eq!(
        h.iter_as_written().collect::<Vec<_>>(),
        [("X-Request-ID", "1"), ("lower", "2"), ("ETag", "\"t\"")]
    );
    assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["x-request-id", "lower", "etag"]);
    assert_eq!(h.get("x-request-id"), Some("1"));
    // Compaction keeps the written case.
    for i in 0..500 {
        h.set("X-Counter", &i.to_string()).unwrap();
    }
    assert!(h.buf.len() < 1024);
    assert_eq!(h.iter_as_written().last(), Some(("X-Counter", "499")));
    assert_eq!(h.iter_as_written().next(), Some(("X-Request-ID", "1")));
    // Wire names stay lower case, and equality ignores the written case.
    assert!(h.push_wire(b"Server", b"x"));
    assert_eq!(h.iter_as_written().last(), Some(("server", "x")));
    let a = Headers::try_from(&[("A-B", "1")][..]).unwrap();
    let b = Headers::try_from(&[("a-b", "1")][..]).unwrap();
    assert_eq!(a, b);
}

/// Every value of `name`, found by a plain scan.
fn scan(h: &Headers, name: &str) -> Vec<String> {
    h.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_owned()).collect()
}

/// Names the index knows (in several cases), names of the same lengths it does not, others.
const NAMES: [&str; 14] = [
    "host",
    "HOST",
    "Content-Length",
    "transfer-encoding",
    "Connection",
    "expect",
    "upgrade",
    "Accept-Encoding",
    "accept-language",
    "cookie",
    "x-host",
    "date",
    "x",
    "content-type",
];

fn check_lookups(h: &Headers) {
    for n in NAMES.iter().copied().chain(["absent", ""]) {
        let all: Vec<String> = h.get_all(n).map(str::to_owned).collect();
        let want = scan(h, n);
        assert_eq!(all, want, "{n:?}");
        assert_eq!(h.get(n).map(str::to_owned), want.first().cloned(), "{n:?}");
        let single = h.single(n).map(|v| v.map(str::to_owned));
        assert_eq!(single, if want.len() > 1 { Err(()) } else { Ok(want.first().cloned()) }, "{n:?}");
    }
}

proptest::proptest! {
    #[test]
    fn lookups_agree_with_a_scan_through_any_edits(
        ops in proptest::collection::vec((0u8..5, 0usize..14, 0u16..1000), 0..60),
    ) {
        let mut h = Headers::new();
        for (op, n, v) in ops {
            let (name, value) = (NAMES[n], v.to_string());
            match op {
                0 => h.append(name, &value).unwrap(),
                1 => h.set(name, &value).unwrap(),
                2 => { h.remove(name); }
                3 => { proptest::prop_assert!(h.push_wire(name.as_bytes(), value.as_bytes())); }
                _ => {
                    // Enough sets of one name to compact the buffer.
                    for i in 0..40 {
                        h.set("x-churn", &i.to_string()).unwrap();
                    }
                }
            }
            check_lookups(&h);
            check_lookups(&h.clone());
        }
    }
}

#[test]
fn lookups_agree_with_a_scan_on_parsed_heads() {
    // Known names repeated, far down a long head, and past the indices a byte holds.
    let mut head =
        String::from("Host: a\r\nX: 1\r\nContent-Length: 0\r\nconnection: close\r\nCONNECTION: te\r\n");
    for i in 0..300 {
        head.push_str(&format!("x-f{i}: {i}\r\n"));
    }
    head.push_str("Expect: 100-continue\r\nupgrade: websocket\r\n\r\n");
    let limits = crate::Limits { max_headers: 400, max_head: 1 << 20, ..crate::Limits::default() };
    let (parsed, _) = crate::parse_headers(head.as_bytes(), &limits).unwrap().complete().unwrap();
    check_lookups(&parsed);
    assert_eq!(parsed.get("HoSt"), Some("a"));
    assert_eq!(parsed.get_all("connection").collect::<Vec<_>>(), ["close", "te"]);
    assert_eq!(parsed.get("expect"), Some("100-continue"));
    assert_eq!(parsed.get("upgrade"), Some("websocket"));
    let mut copy = parsed.clone();
    copy.append("Host", "z").unwrap();
    assert_eq!(copy.single("host"), Err(()));
    copy.remove("x");
    check_lookups(&copy);
    assert_eq!(copy.remove("host"), 2);
    check_lookups(&copy);
}
