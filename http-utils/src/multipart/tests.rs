use super::*;

use proptest::prelude::*;

/// A reader that hands out its bytes in pieces of the given sizes (the last size repeats).
struct Pieces<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [u8], sizes: Vec<usize>) -> Pieces<'a> {
        Pieces { data, sizes, next: 0 }
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes.get(self.next).or(self.sizes.last()).copied().unwrap_or(usize::MAX);
        self.next += 1;
        let n = size.max(1).min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// What a whole body parses to: each part's (name, filename, content type, content), or
/// the error kind that stopped it.
type Seen = (Option<String>, Option<String>, Option<String>, Vec<u8>);
type Parsed = Result<Vec<Seen>, (ErrorKind, usize)>;

fn parse_with(r: impl Read, boundary: &str, limits: MultipartLimits, chunk: usize) -> Parsed {
    let mut reader = MultipartReader::with_limits(r, boundary, limits).expect("valid boundary");
    let mut out = Vec::new();
    let fail = |e: Error| (e.kind().expect("protocol error"), e.offset().unwrap_or(0));
    loop {
        let mut part = match reader.next_part() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(out),
            Err(e) => return Err(fail(e)),
        };
        let meta = (
            part.name().map(str::to_owned),
            part.filename().map(str::to_owned),
            part.content_type().map(str::to_owned),
        );
        let mut content = Vec::new();
        let mut piece = vec![0u8; chunk];
        loop {
            match part.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => content.extend_from_slice(&piece[..n]),
                Err(e) => return Err(fail(Error::from(e))),
            }
        }
        out.push((meta.0, meta.1, meta.2, content));
    }
}

fn parse(body: &[u8], boundary: &str) -> Parsed {
    parse_with(body, boundary, MultipartLimits::default(), 4096)
}

fn field(name: &str, content: &str) -> Seen {
    (Some(name.to_owned()), None, None, content.as_bytes().to_vec())
}

const FORM: &[u8] = b"--b0undary\r\n\
    Content-Disposition: form-data; name=\"a\"\r\n\
    \r\n\
    first value\r\n\
    --b0undary\r\n\
    Content-Disposition: form-data; name=\"file\"; filename=\"x\\\\y \\\"z\\\".bin\"\r\n\
    Content-Type: application/octet-stream\r\n\
    \r\n\
    \r\n--b0undar\r\n--b0undaryX\r\n-\r\r\n\r\n--b0undary\r\n\
    Content-Disposition: form-data; name=\"empty\"\r\n\
    \r\n\
    \r\n\
    --b0undary--\r\n\
    epilogue, ignored --b0undary\r\n";

fn form_parts() -> Vec<Seen> {
    vec![
        field("a", "first value"),
        (
            Some("file".into()),
            Some(r#"x\y "z".bin"#.into()),
            Some("application/octet-stream".into()),
            b"\r\n--b0undar\r\n--b0undaryX\r\n-\r\r\n".to_vec(),
        ),
        field("empty", ""),
    ]
}

#[test]
fn boundaries_from_content_types() {
    let ok = [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data;boundary=abc", "abc"),
        (
            "multipart/mixed; charset=utf-8; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"",
            "----WebKitFormBoundary7MA4YWxkTrZu0gW",
        ),
        ("MULTIPART/FORM-DATA; Boundary=\"with space\"", "with space"),
        ("multipart/form-data; boundary=\"'()+_,-./:=?\"", "'()+_,-./:=?"),
        ("multipart/mixed; x=\"1;boundary=2\"; boundary=abc", "abc"),
    ];
    for (ct, want) in ok {
        assert_eq!(boundary_from_content_type(ct).as_deref(), Some(want), "{ct:?}");
    }
    let seventy = "x".repeat(70);
    assert_eq!(
        boundary_from_content_type(&format!("multipart/form-data; boundary={seventy}")).as_deref(),
        Some(seventy.as_str())
    );
    let bad = [
        "multipart/form-data".to_owned(),
        "multipart/form-data; boundary=".to_owned(),
        "multipart/form-data; boundary=\"\"".to_owned(),
        "multipart/form-data; boundary=\"ends \"".to_owned(),
        "multipart/form-data; boundary=a; boundary=b".to_owned(),
        "multipart/form-data; boundary=\"a\\\"b\"".to_owned(),
        "multipart/form-data; boundary=\"é\"".to_owned(),
        "multipart/form-data; boundary=a*b".to_owned(),
        "multipart/form-data; boundary=\"a;b\"".to_owned(),
        "multipart/form-data; boundary=\"unterminated".to_owned(),
        format!("multipart/form-data; boundary={}", "x".repeat(71)),
        "text/plain; boundary=abc".to_owned(),
        "multipart; boundary=abc".to_owned(),
        "multipart/; boundary=abc".to_owned(),
        String::new(),
    ];
    for ct in bad {
        assert_eq!(boundary_from_content_type(&ct), None, "{ct:?}");
    }
}

#[test]
fn invalid_boundary_is_refused() {
    for b in ["", "a b ", "ä", &"x".repeat(71)] {
        let err = MultipartReader::new(&b""[..], b).unwrap_err();
        assert_eq!(err.kind(), Some(ErrorKind::MissingBoundary), "{b:?}");
    }
}

#[test]
fn reads_a_form() {
    assert_eq!(parse(FORM, "b0undary"), Ok(form_parts()));
}

#[test]
fn split_at_every_offset_and_read_in_every_size() {
    let want = Ok(form_parts());
    for cut in 0..=FORM.len() {
        let r = Pieces::new(FORM, vec![cut, usize::MAX]);
        assert_eq!(parse_with(r, "b0undary", MultipartLimits::default(), 4096), want, "cut at {cut}");
    }
    for size in 1..=16 {
        for chunk in [1, 3, 7, 4096] {
            let r = Pieces::new(FORM, vec![size]);
            assert_eq!(parse_with(r, "b0undary", MultipartLimits::default(), chunk), want, "{size}/{chunk}");
        }
    }
}

#[test]
fn preamble_padding_and_bare_boundaries() {
    // A preamble, padding after the boundary, a part without headers or content.
    let body = b"This is a preamble.\r\n--b \t\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b\r\n\r\n--b--";
    let want = Ok(vec![field("x", "1"), (None, None, None, Vec::new())]);
    assert_eq!(parse(body, "b"), want);
    // A part whose headers end right before the next boundary line.
    let body = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n--b--\r\n";
    assert_eq!(parse(body, "b"), Ok(vec![field("x", "")]));
    // A body with no parts at all.
    assert_eq!(parse(b"--b--", "b"), Ok(vec![]));
    assert_eq!(parse(b"\r\n--b--\r\n", "b"), Ok(vec![]));
}

#[test]
fn content_that_only_resembles_a_boundary() {
    let body = b"--b\r\n\r\n--bb\r\n--b_x\r\n-\r\n--\r\n--b\r\n\r\n--bx--b--\r\n--b--";
    let want = Ok(vec![
        (None, None, None, b"--bb\r\n--b_x\r\n-\r\n--".to_vec()),
        (None, None, None, b"--bx--b--".to_vec()),
    ]);
    assert_eq!(parse(body, "b"), want);
}

#[test]
fn unread_content_is_skipped() {
    let big = vec![b'x'; 100_000];
    let mut body = b"--b\r\nContent-Disposition: form-data; name=big\r\n\r\n".to_vec();
    body.extend_from_slice(&big);
    body.extend_from_slice(b"\r\n--b\r\nContent-Disposition: form-data; name=small\r\n\r\nok\r\n--b--");
    let mut reader = MultipartReader::new(&body[..], "b").unwrap();
    let mut first = reader.next_part().unwrap().unwrap();
    let mut two = [0u8; 2];
    first.read_exact(&mut two).unwrap();
    drop(first);
    let mut second = reader.next_part().unwrap().unwrap();
    assert_eq!(second.name(), Some("small"));
    let mut s = String::new();
    second.read_to_string(&mut s).unwrap();
    assert_eq!(s, "ok");
    // Reading past the end of a part keeps answering 0.
    assert_eq!(second.read(&mut two).unwrap(), 0);
    assert!(reader.next_part().unwrap().is_none());
    assert!(reader.is_done());
    assert_eq!(reader.parts_read(), 2);
    assert!(reader.next_part().unwrap().is_none());
}

#[test]
fn window_stays_bounded() {
    // A long part streams through a window of fixed size.
    let mut body = b"--b\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b"0123456789\r\n-", 50_000).flatten());
    body.extend_from_slice(b"\r\n--b--");
    let mut reader = MultipartReader::new(Pieces::new(&body, vec![65536]), "b").unwrap();
    let window = reader.buf.len();
    let mut part = reader.next_part().unwrap().unwrap();
    let n = io::copy(&mut part, &mut io::sink()).unwrap();
    assert_eq!(n, 13 * 50_000);
    assert!(window <= 16 * 1024, "{window}");
}

/// One case per error kind, with the offset where it is reported.
#[test]
fn errors() {
    let limits = MultipartLimits { max_part_head: 64, max_part_headers: 2, max_parts: 2 };
    let table: &[(&[u8], ErrorKind, usize)] = &[
        (b"", ErrorKind::InvalidMultipart, 0),
        (b"no boundary anywhere", ErrorKind::InvalidMultipart, 20),
        (b"--other\r\n\r\n--other--", ErrorKind::InvalidMultipart, 20),
        (b"--b", ErrorKind::InvalidMultipart, 3),
        (b"--b\r\n\r\ncontent", ErrorKind::TruncatedMultipart, 14),
        (b"--b\r\n\r\ncontent\r\n--b", ErrorKind::TruncatedMultipart, 19),
        (b"--b\r\n\r\ncontent\r\n--b-", ErrorKind::TruncatedMultipart, 20),
        (b"--b\r\nA: 1\r\n", ErrorKind::TruncatedMultipart, 11),
        (b"--b\r", ErrorKind::TruncatedMultipart, 4),
        (b"--b  ", ErrorKind::TruncatedMultipart, 5),
        (b"--b\n\r\n--b--", ErrorKind::InvalidMultipart, 3),
        (b"--b x\r\n\r\n--b--", ErrorKind::InvalidMultipart, 4),
        (b"--b\r\n\r\nx\r\n--b-x\r\n--b--", ErrorKind::InvalidMultipart, 13),
        (b"--b\r\nbad header\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 8),
        (b"--b\r\n folded: x\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 5),
        (b"--b\r\nContent-Disposition: form-data; name\r\n\r\n--b--", ErrorKind::InvalidPartHeaders, 5),
        (
            b"--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n--b--",
            ErrorKind::InvalidPartHeaders,
            5,
        ),
        (
            b"--b\r\nContent-Disposition: x\r\nContent-Disposition: y\r\n\r\n--b--",
            ErrorKind::InvalidPartHeaders,
            5,
        ),
        (b"--b\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n--b--", ErrorKind::PartHeadersTooLarge, 17),
        (
            b"--b\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n--b--",
            ErrorKind::PartHeadersTooLarge,
            69,
        ),
        (b"--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b--", ErrorKind::TooManyParts, 23),
    ];
    for &(body, kind, offset) in table {
        for size in [1, 2, 5, usize::MAX] {
            let got = parse_with(Pieces::new(body, vec![size]), "b", limits, 3);
            assert_eq!(
                got.map(|_| ()),
                Err((kind, offset)),
                "{:?} in pieces of {size}",
                String::from_utf8_lossy(body)
            );
        }
    }
    let mut padded = b"--b".to_vec();
    padded.extend(std::iter::repeat_n(b' ', 65));
    padded.extend_from_slice(b"\r\n\r\n--b--");
    assert_eq!(
        parse_with(&padded[..], "b", limits, 8).map(|_| ()),
        Err((ErrorKind::PartHeadersTooLarge, 67))
    );
}

#[test]
fn errors_repeat_and_reach_the_part_reader() {
    let mut reader = MultipartReader::new(&b"--b\r\n\r\nabc"[..], "b").unwrap();
    let mut part = reader.next_part().unwrap().unwrap();
    let mut out = Vec::new();
    let err = Error::from(part.read_to_end(&mut out).unwrap_err());
    assert_eq!(err.kind(), Some(ErrorKind::TruncatedMultipart));
    assert_eq!(out, b"abc");
    assert_eq!(Error::from(part.read(&mut [0; 4]).unwrap_err()).kind(), Some(ErrorKind::TruncatedMultipart));
    assert_eq!(reader.next_part().unwrap_err().kind(), Some(ErrorKind::TruncatedMultipart));
}

#[test]
fn total_size_is_the_limit_readers_job() {
    let body = b"--b\r\nContent-Disposition: form-data; name=f\r\n\r\n0123456789012345678901234567890123456789\r\n--b--";
    let limited = crate::io::LimitReader::new(&body[..], 60);
    let mut reader = MultipartReader::new(limited, "b").unwrap();
    let mut part = reader.next_part().unwrap().unwrap();
    let err = Error::from(part.read_to_end(&mut Vec::new()).unwrap_err());
    assert_eq!(err.kind(), Some(ErrorKind::BodyTooLarge));
    assert_eq!(err.status(), 413);
    assert_eq!(reader.next_part().unwrap_err().kind(), Some(ErrorKind::BodyTooLarge));
}

#[test]
fn io_errors_pass_through() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::TimedOut, "slow"))
        }
    }
    let mut reader = MultipartReader::new(Broken, "b").unwrap();
    let err = reader.next_part().unwrap_err();
    assert!(err.is_timeout());
    assert!(matches!(reader.next_part(), Err(Error::Io(_))));
}

#[test]
fn statuses_are_400() {
    for kind in [
        ErrorKind::MissingBoundary,
        ErrorKind::InvalidMultipart,
        ErrorKind::TruncatedMultipart,
        ErrorKind::InvalidPartHeaders,
        ErrorKind::PartHeadersTooLarge,
        ErrorKind::TooManyParts,
    ] {
        assert_eq!(kind.status(), 400, "{kind:?}");
    }
}

/// Writes parts the way a browser does.
fn encode(boundary: &str, parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"preamble\r\n".to_vec();
    for (name, content) in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Content made of boundary fragments round-trips, however the body is cut into reads.
    #[test]
    fn round_trip(
        contents in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![Just(b"\r\n".to_vec()), Just(b"--".to_vec()), Just(b"bo".to_vec()), Just(b"bound".to_vec()), Just(b"\r".to_vec()), any::<u8>().prop_map(|b| vec![b])], 0..40)
                .prop_map(|pieces| pieces.concat()),
            0..5),
        sizes in proptest::collection::vec(1usize..40, 1..8),
        chunk in 1usize..64,
    ) {
        let boundary = "bound";
        // Content must not contain the delimiter itself (the sender's promise).
        let parts: Vec<(String, Vec<u8>)> = contents
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.windows(9).any(|w| w == b"\r\n--bound") && !c.starts_with(b"--bound"))
            .map(|(i, c)| (format!("f{i}"), c))
            .collect();
        let body = encode(boundary, &parts);
        let want: Vec<_> = parts.iter().map(|(n, c)| (Some(n.clone()), None, None, c.clone())).collect();
        prop_assert_eq!(parse_with(Pieces::new(&body, sizes), boundary, MultipartLimits::default(), chunk), Ok(want));
    }
}
