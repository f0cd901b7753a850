//! Inputs found by the fuzz targets in `fuzz/`, kept as tests. Each is checked the way the
//! target checks it: cut at every offset, a prefix parses as `Partial` or as the error the
//! whole message gives, never as something else and never with a panic.

use std::fmt::Debug;

use http_utils::{parse_headers, parse_request_head, parse_response_head, Error, Limits, Parsed};

/// The limits of the fuzz targets' "tiny" mode.
const TINY: Limits = Limits {
    max_request_line: 32,
    max_header_line: 24,
    max_headers: 3,
    max_head: 96,
    max_body: 64,
    max_chunk_line: 8,
};

fn check_every_prefix<T: Debug>(
    msg: &[u8],
    limits: &Limits,
    parse: impl Fn(&[u8], &Limits) -> Result<Parsed<T>, Error>,
) {
    let whole = parse(msg, limits);
    for cut in 0..=msg.len() {
        let prefix = parse(&msg[..cut], limits);
        match (&whole, &prefix) {
            (_, Ok(Parsed::Partial)) => {}
            (Err(e), Err(p)) => assert_eq!(e.kind(), p.kind(), "cut {cut}: whole {e:?}, prefix {p:?}"),
            (Ok(Parsed::Complete { used, .. }), Ok(Parsed::Complete { used: u2, .. })) => {
                assert!(used == u2 && *used <= cut, "cut {cut}")
            }
            (w, p) => panic!("cut {cut}: whole {w:?}, prefix {p:?}"),
        }
    }
}

/// A syntax error after the request line passed its limit: the limit was breached first
/// (`RequestLineTooLong`), whether the bytes came at once or in pieces.
#[test]
fn request_line_limit_comes_before_a_later_syntax_error() {
    let msg = b"GET /search?c%Caqf=3%Q9&pag?c%Caqf=e=2 HTTP/1>1\x01\x00\x00\x00\x00\x00\x00\x10localhost\r\n\
User-Ag */*\r\x05Cone\x05Con4\r\n\r\nhello";
    check_every_prefix(msg, &TINY, parse_request_head);
    let e = parse_request_head(msg, &TINY).unwrap_err();
    assert_eq!(e.kind(), Some(http_utils::ErrorKind::RequestLineTooLong));
    check_every_prefix(msg, &Limits::default(), parse_request_head);
}

/// A bad version byte within the limit is reported as soon as it arrives, and also when the
/// line ending arrives only after the limit.
#[test]
fn bad_version_byte_is_reported_before_a_later_limit() {
    let mut msg = b"GET /aaaaaaaaaaaaaaaaaaaaa HTTX/1.1".to_vec();
    msg.extend_from_slice(&[b'x'; 40]);
    msg.extend_from_slice(b"\r\n\r\n");
    check_every_prefix(&msg, &TINY, parse_request_head);
    let e = parse_request_head(&msg, &TINY).unwrap_err();
    assert_eq!(e.kind(), Some(http_utils::ErrorKind::InvalidVersion));
}

/// A status line that can never be one is refused as such, even when it is also too long.
#[test]
fn status_line_shape_comes_before_the_limit() {
    let msg = b"sss.0\xff\xff\xff\x00\x00\x00ection: closion: close\n\n";
    check_every_prefix(msg, &TINY, parse_response_head);
    let e = parse_response_head(msg, &TINY).unwrap_err();
    assert_eq!(e.kind(), Some(http_utils::ErrorKind::InvalidStatusLine));
    check_every_prefix(msg, &Limits::default(), parse_response_head);
}

/// A control byte after a header line passed its limit: the limit was breached first.
#[test]
fn header_line_limit_comes_before_a_later_bad_value() {
    let msg = b"ield: $\xff\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xbd\xc2\xc2\xc2\xc2\
\xc2\xc2\xc2\xc2\xc2\xc2\xff2\x00\x00\x00\x00\x00\x00\x00\xff\n\xff\n";
    check_every_prefix(msg, &TINY, parse_headers);
    let e = parse_headers(msg, &TINY).unwrap_err();
    assert_eq!(e.kind(), Some(http_utils::ErrorKind::HeaderLineTooLong));
    check_every_prefix(msg, &Limits::default(), parse_headers);
}

/// A header line that passes both the head limit and (later) its own line limit: the head limit
/// was breached at an earlier byte, so `HeadTooLarge` is reported however the bytes arrive.
#[test]
fn the_limit_breached_first_is_reported() {
    let msg = b"HTTP/1.1 200 Oh\xc8\xff.C:t\x92\x92: text/hz\r\nConttet&-Type: text/h\xc8\r\n\
Content-Degnh:zt\x92\x92\x92\x92\x92\x923K\r\nConee: text/honee: text/h\xc8\r\n\
Conttent-Type: text/h\xc8\r\nConten: text/h\x92\x92\x92\x92\x923K\r\nConee:\xff\xff\xff\xff\xff\xff\
\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x07\x10HTTP/1.1 200\nSet-Cookie: &=b; \r\n\r\n";
    check_every_prefix(msg, &TINY, parse_response_head);
    // Whichever of the two limits is smaller fires, for requests and header sections alike.
    let long_line =
        b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01\r\n\r\n";
    for (head, line, kind) in
        [(40, 100, http_utils::ErrorKind::HeadTooLarge), (100, 20, http_utils::ErrorKind::HeaderLineTooLong)]
    {
        let limits = Limits { max_head: head, max_header_line: line, ..Limits::default() };
        check_every_prefix(long_line, &limits, parse_request_head);
        assert_eq!(parse_request_head(long_line, &limits).unwrap_err().kind(), Some(kind));
    }
    let long_target =
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01 HTTP/1.1\r\n\r\n";
    for (head, line, kind) in
        [(20, 40, http_utils::ErrorKind::HeadTooLarge), (40, 20, http_utils::ErrorKind::RequestLineTooLong)]
    {
        let limits = Limits { max_head: head, max_request_line: line, ..Limits::default() };
        check_every_prefix(long_target, &limits, parse_request_head);
        assert_eq!(parse_request_head(long_target, &limits).unwrap_err().kind(), Some(kind));
    }
}

/// A malformed trailer section that arrives in the same buffer as the last body bytes: the body
/// bytes come first, and then the error, never an "is done" that hides it.
#[test]
fn bad_trailers_after_body_bytes_are_not_done() {
    use http_utils::{ChunkedDecoder, ErrorKind};
    let stream = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nExpires: nee\rvr\n\r\nnext";
    let mut dec = ChunkedDecoder::new(&Limits::default());
    let mut out = [0u8; 64];
    let (consumed, produced) = dec.decode(stream, &mut out).unwrap();
    assert_eq!(&out[..produced], b"hello world");
    assert!(!dec.is_done(), "a failed trailer section is not the end of a body");
    let e = dec.decode(&stream[consumed..], &mut out).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::BareCarriageReturn));
    assert!(!dec.is_done());

    // The blocking reader surfaces it too.
    let mut reader = http_utils::io::BodyReader::new(
        std::io::BufReader::new(&stream[..]),
        http_utils::Framing::Chunked,
        &Limits::default(),
    );
    let mut body = Vec::new();
    let e = std::io::Read::read_to_end(&mut reader, &mut body).unwrap_err();
    assert_eq!(Error::from(e).kind(), Some(ErrorKind::BareCarriageReturn));
    assert!(!reader.is_complete());
}
