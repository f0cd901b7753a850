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

#[test]
fn lookups_agree_with_a_scan_whatever_the_name_lengths() {
    // Names whose lengths collide modulo 32 (4 and 36), removed and added again, and a head
    // parsed from the wire: every lookup must find what a plain scan finds.
    let long = "x-a-name-of-thirty-six-bytes-exactly";
    assert_eq!(long.len(), 36);
    let mut h = Headers::new();
    let scan = |h: &Headers, name: &str| -> Vec<String> {
        h.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_owned()).collect()
    };
    let names = ["host", "HOST", long, "Date", "x", "content-length", "absent", ""];
    let check = |h: &Headers| {
        for n in names {
            let all: Vec<String> = h.get_all(n).map(str::to_owned).collect();
            assert_eq!(all, scan(h, n), "{n:?}");
            assert_eq!(h.get(n).map(str::to_owned), scan(h, n).first().cloned(), "{n:?}");
        }
    };
    check(&h);
    h.append(long, "1").unwrap();
    check(&h);
    h.append("Host", "h").unwrap();
    check(&h);
    assert_eq!(h.remove("host"), 1);
    check(&h);
    assert_eq!(h.remove("date"), 0);
    h.set("HOST", "again").unwrap();
    h.append("x", "y").unwrap();
    check(&h);
    assert_eq!(h.remove(long), 1);
    check(&h);
    let (parsed, _) =
        crate::parse_headers(b"Host: a\r\nX: 1\r\nContent-Length: 0\r\n\r\n", &crate::Limits::default())
            .unwrap()
            .complete()
            .unwrap();
    check(&parsed);
    assert_eq!(parsed.get("HoSt"), Some("a"));
    let mut copy = parsed.clone();
    copy.append(long, "z").unwrap();
    check(&copy);
}
