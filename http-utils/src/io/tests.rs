use super::*;
use crate::method::Method;
use proptest::prelude::*;
use std::io::{IoSlice, Write};

/// A `BufRead` over bytes that arrive in segments: each `fill_buf` shows at most the bytes
/// up to the next split point, like reads from a socket.
struct Segments<'a> {
    data: &'a [u8],
    pos: usize,
    splits: Vec<usize>,
    fills: usize,
}

impl<'a> Segments<'a> {
    fn new(data: &'a [u8], splits: &[usize]) -> Segments<'a> {
        Segments { data, pos: 0, splits: splits.to_vec(), fills: 0 }
    }
    fn every_byte(data: &'a [u8]) -> Segments<'a> {
        Segments::new(data, &(1..data.len()).collect::<Vec<_>>())
    }
    fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

impl Read for Segments<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Segments<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fills += 1;
        let end = self.splits.iter().copied().find(|&s| s > self.pos).unwrap_or(self.data.len());
        Ok(&self.data[self.pos..end.min(self.data.len())])
    }
    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

fn limits() -> Limits {
    Limits::default()
}

const PIPELINE: &[u8] =
    b"\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\
    X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n\
    5;e=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n\
    GET /next HTTP/1.1\r\nHost: example.com\nContent-Length: 3\n\nabc";

/// A request's target, body and trailers.
type Message = (String, Vec<u8>, Option<Headers>);

/// Reads the whole pipeline from `r`: two requests, their bodies and trailers.
fn read_pipeline(r: &mut Segments<'_>) -> Result<Vec<Message>, Error> {
    let mut out = Vec::new();
    while let Some(req) = read_request_head(r, &limits())? {
        let framing = crate::framing::request_framing(&req)?;
        let mut body = BodyReader::new(&mut *r, framing, &limits());
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes)?;
        assert!(body.is_complete());
        out.push((req.url().to_owned(), bytes, body.take_trailers()));
    }
    Ok(out)
}

#[test]
fn pipeline_at_every_split() {
    let whole = read_pipeline(&mut Segments::new(PIPELINE, &[])).unwrap();
    assert_eq!(whole.len(), 2);
    assert_eq!(whole[0].0, "/upload?x=1");
    assert_eq!(whole[0].1, b"hello world");
    assert_eq!(whole[0].2.as_ref().unwrap().get("x-trailer"), Some("t"));
    assert_eq!(whole[1], ("/next".to_owned(), b"abc".to_vec(), None));
    assert_eq!(read_pipeline(&mut Segments::every_byte(PIPELINE)).unwrap(), whole);
    for i in 0..=PIPELINE.len() {
        for j in [i + 1, i + 7, i + 40] {
            let got = read_pipeline(&mut Segments::new(PIPELINE, &[i, j])).unwrap();
            assert_eq!(got, whole, "split at {i}, {j}");
        }
    }
}

#[test]
fn head_consumes_exactly_its_bytes() {
    let wire = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    for i in 0..=wire.len() {
        let mut r = Segments::new(wire, &[i]);
        let req = read_request_head(&mut r, &limits()).unwrap().unwrap();
        assert_eq!(req.headers().get("host"), Some("a"));
        assert_eq!(r.rest(), b"BODY", "split at {i}");
    }
}

#[test]
fn byte_at_a_time_parses_per_line() {
    // A 32-line head fed one byte per fill_buf: the head is parsed again only when a line
    // ends, so it finishes quickly even with large limits.
    let mut wire = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..30 {
        wire.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(200)).as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    let mut r = Segments::every_byte(&wire);
    let parses = std::cell::Cell::new(0);
    let counting = |b: &[u8], l: &Limits| {
        parses.set(parses.get() + 1);
        parse_request_head(b, l)
    };
    let req = read_head(&mut r, &limits(), counting).unwrap().unwrap();
    assert_eq!(req.headers().len(), 31);
    assert_eq!(r.fills, wire.len());
    // One parse for the first byte, then at most one per CR and one per LF.
    assert!(parses.get() <= 1 + 2 * 33, "{} parses", parses.get());
}

#[test]
fn clean_end_and_truncation() {
    assert!(read_request_head(&mut Segments::new(b"", &[]), &limits()).unwrap().is_none());
    assert!(read_request_head(&mut Segments::new(b"\r\n\r\n", &[1]), &limits()).unwrap().is_none());
    assert!(read_response_head(&mut Segments::new(b"", &[]), &limits()).unwrap().is_none());
    let wire = b"GET / HTTP/1.1\r\nHost: a\r\n";
    for i in 1..wire.len() {
        let e = read_request_head(&mut Segments::new(&wire[..i], &[i / 2]), &limits()).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedHead), Some(i)), "{i}");
    }
    let e = read_response_head(&mut Segments::new(b"HTTP/1.1 200 OK\r\n", &[3]), &limits()).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::TruncatedHead));
    let e = read_request_attributes(&mut Segments::new(b"A: 1\r\n", &[]), &limits()).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::TruncatedHead));
}

#[test]
fn head_errors_match_the_parser() {
    let small =
        Limits { max_request_line: 20, max_header_line: 16, max_headers: 2, max_head: 80, ..Limits::DEFAULT };
    let cases: &[&[u8]] = &[
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n",
        b"G@T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\rX",
    ];
    for wire in cases {
        let want =
            parse_request_head(wire, &small).map(|p| p.complete().map(|(r, u)| (r.url().to_owned(), u)));
        let want = want.map_err(|e| (e.kind(), e.offset()));
        for splits in [vec![], (1..wire.len()).collect::<Vec<_>>(), vec![wire.len() / 2]] {
            let mut r = Segments::new(wire, &splits);
            let got = read_request_head(&mut r, &small);
            match (&want, got) {
                (Err(w), Err(g)) => {
                    assert_eq!(*w, (g.kind(), g.offset()), "{:?}", String::from_utf8_lossy(wire))
                }
                (Ok(Some((url, used))), Ok(Some(req))) => {
                    assert_eq!((url.as_str(), *used), (req.url(), r.pos));
                }
                (w, g) => panic!("{:?}: want {w:?}, got {g:?}", String::from_utf8_lossy(wire)),
            }
        }
    }
}

#[test]
fn response_heads_and_attributes() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for i in 0..=wire.len() {
        let mut r = Segments::new(wire, &[i]);
        let interim = read_response_head(&mut r, &limits()).unwrap().unwrap();
        assert!(interim.is_interim());
        let head = read_response_head(&mut r, &limits()).unwrap().unwrap();
        assert_eq!(head.status, 200);
        let framing = crate::framing::response_framing(&Method::Get, &head).unwrap();
        assert_eq!(read_body(&mut r, framing, &limits()).unwrap(), b"ok");
    }
    let h = read_request_attributes(&mut Segments::new(b"", &[]), &limits()).unwrap();
    assert!(h.is_empty());
    let h = read_request_attributes(&mut Segments::new(b"\r\nrest", &[]), &limits()).unwrap();
    assert!(h.is_empty());
    let e = read_request_attributes(&mut Segments::new(b"A 1\r\n\r\n", &[]), &limits()).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::InvalidHeaderName));
}

fn read_all<R: BufRead>(body: &mut BodyReader<R>, step: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; step];
    for _ in 0..10_000 {
        let n = body.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
    panic!("body never ended");
}

#[test]
fn length_bodies() {
    let wire = b"0123456789NEXT";
    for i in 0..=wire.len() {
        for step in [1, 4, 64] {
            let mut r = Segments::new(wire, &[i]);
            let mut body = BodyReader::new(&mut r, Framing::Length(10), &limits());
            assert_eq!(body.remaining(), Some(10));
            assert_eq!(read_all(&mut body, step).unwrap(), b"0123456789");
            assert!(body.is_complete());
            assert_eq!((body.remaining(), body.bytes_read()), (Some(0), 10));
            assert_eq!(r.rest(), b"NEXT");
        }
    }
    let mut body = BodyReader::new(&b"0123"[..], Framing::Length(10), &limits());
    let e = read_all(&mut body, 3).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedBody), Some(4)));
    assert!(!body.is_complete());
    let mut body = BodyReader::new(&b"abc"[..], Framing::Length(0), &limits());
    assert_eq!(read_all(&mut body, 3).unwrap(), b"");
    assert!(body.is_complete());
    assert_eq!(body.into_inner(), b"abc");
}

#[test]
fn none_and_until_close_bodies() {
    let mut body = BodyReader::new(&b"rest"[..], Framing::None, &limits());
    assert!(body.is_complete());
    assert_eq!(read_all(&mut body, 8).unwrap(), b"");
    assert_eq!(*body.get_ref(), b"rest");
    let mut body = BodyReader::new(&b"all of it"[..], Framing::UntilClose, &limits());
    assert!(!body.is_complete());
    assert_eq!(body.remaining(), None);
    assert_eq!(read_all(&mut body, 2).unwrap(), b"all of it");
    assert!(body.is_complete());
    assert!(body.trailers().is_none());
    let _ = body.get_mut();
}

#[test]
fn chunked_bodies_truncated_and_malformed() {
    let wire = b"5\r\nhello\r\n0\r\nA: 1\r\n\r\n";
    for end in 0..wire.len() {
        let mut body = BodyReader::new(&wire[..end], Framing::Chunked, &limits());
        let e = read_all(&mut body, 4).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::TruncatedBody), Some(end)), "{end}");
    }
    let mut body = BodyReader::new(&b"5\r\nhelloXX"[..], Framing::Chunked, &limits());
    let e = read_all(&mut body, 64).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(8)));
    let mut body = BodyReader::new(&b"5\r\nhelloX"[..], Framing::Chunked, &limits());
    assert_eq!(body.read(&mut [0u8; 16]).unwrap(), 5);
    let e = Error::from(body.read(&mut [0u8; 16]).unwrap_err());
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(8)));
    let mut body = BodyReader::new(&b"5\r\nhelloXX"[..], Framing::Chunked, &limits());
    let mut sink = Vec::new();
    let e = Error::from(body.read_to_end(&mut sink).unwrap_err());
    assert_eq!(e.kind(), Some(ErrorKind::InvalidChunk));
    assert_eq!(sink, b"hello");
}

#[test]
fn read_body_limits() {
    let small = Limits { max_body: 8, ..Limits::DEFAULT };
    let e = read_body(&mut &b"whatever"[..], Framing::Length(9), &small).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::BodyTooLarge), Some(0)));
    assert_eq!(e.status(), 413);
    assert_eq!(read_body(&mut &b"12345678"[..], Framing::Length(8), &small).unwrap(), b"12345678");
    assert_eq!(read_body(&mut &b"12345678"[..], Framing::UntilClose, &small).unwrap(), b"12345678");
    let e = read_body(&mut &b"123456789"[..], Framing::UntilClose, &small).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge));
    let e = read_body(&mut &b"9\r\n123456789\r\n0\r\n\r\n"[..], Framing::Chunked, &small).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge));
    let ok = read_body(&mut &b"4\r\n1234\r\n4\r\n5678\r\n0\r\n\r\n"[..], Framing::Chunked, &small).unwrap();
    assert_eq!(ok, b"12345678");
    assert_eq!(read_body(&mut &b"x"[..], Framing::None, &small).unwrap(), b"");
    let e = read_body(&mut &b"1234"[..], Framing::Length(5), &small).unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::TruncatedBody));
    // A chunk size past the limit is refused at its size line, with none of its data sent:
    // the stream ends there, and the answer is 413, not a truncated body.
    for stream in [&b"ffffffffffffffff\r\n"[..], b"4\r\n1234\r\n5\r\n", b"ffffffffffffffff"] {
        let e = read_body(&mut &stream[..], Framing::Chunked, &small).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge), "{stream:?}");
    }
    // A reader asked to limit a chunked body part way through.
    let mut wire = &b"4\r\n1234\r\n5\r\n"[..];
    let mut body = BodyReader::new(&mut wire, Framing::Chunked, &Limits::DEFAULT);
    let mut first = [0u8; 4];
    body.read_exact(&mut first).unwrap();
    body.set_max_body(8);
    let e = Error::from(body.read(&mut first).unwrap_err());
    assert_eq!(e.kind(), Some(ErrorKind::BodyTooLarge));
}

#[test]
fn limit_reader() {
    let mut r = LimitReader::new(&b"abcdef"[..], 6);
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!((out.as_slice(), r.remaining()), (&b"abcdef"[..], 0));
    let mut r = LimitReader::new(&b"abcdefg"[..], 6);
    let e = Error::from(r.read_to_end(&mut Vec::new()).unwrap_err());
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::BodyTooLarge), Some(6)));
    let mut r = LimitReader::new(&b""[..], 0);
    assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
    assert_eq!(r.read(&mut []).unwrap(), 0);
    assert_eq!(*r.get_ref(), b"");
    let _ = r.get_mut();
    let _ = r.into_inner();
}

#[test]
fn drain_bounds() {
    let mut b = BodyReader::new(&b"0123456789NEXT"[..], Framing::Length(10), &limits());
    assert!(drain(&mut b, 10).unwrap());
    assert_eq!(b.into_inner(), b"NEXT");
    let mut b = BodyReader::new(&b"0123456789NEXT"[..], Framing::Length(10), &limits());
    assert!(!drain(&mut b, 9).unwrap());
    let mut b = BodyReader::new(&b"0123"[..], Framing::Length(10), &limits());
    assert_eq!(drain(&mut b, 100).unwrap_err().kind(), Some(ErrorKind::TruncatedBody));
    assert!(drain(&mut &[0u8; 20000][..], 20000).unwrap());
    assert!(!drain(&mut &[0u8; 20001][..], 20000).unwrap());
}

/// A writer that takes at most `max` bytes per call, vectored or not.
struct Stingy {
    out: Vec<u8>,
    max: usize,
    calls: usize,
}

impl Write for Stingy {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        let n = data.len().min(self.max);
        self.out.extend_from_slice(&data[..n]);
        Ok(n)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.calls += 1;
        let mut n = 0;
        for b in bufs {
            let take = b.len().min(self.max - n);
            self.out.extend_from_slice(&b[..take]);
            n += take;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn chunked_writer_framing() {
    let mut w = ChunkedWriter::with_capacity(Stingy { out: Vec::new(), max: usize::MAX, calls: 0 }, 8);
    w.write_all(b"ab").unwrap();
    w.write_all(b"cd").unwrap();
    assert!(w.get_ref().out.is_empty());
    w.write_all(b"efghi").unwrap(); // does not fit: "abcd" goes out, "efghi" waits
    w.write_all(b"0123456789").unwrap(); // large: its own chunk, vectored
    w.flush().unwrap();
    w.write_all(b"").unwrap();
    w.flush().unwrap();
    w.write_all(b"z").unwrap();
    let _ = w.get_mut();
    let mut t = Headers::new();
    t.append("Digest", "x").unwrap();
    let inner = w.finish(Some(&t)).unwrap();
    assert_eq!(inner.out, b"4\r\nabcd\r\n5\r\nefghi\r\na\r\n0123456789\r\n1\r\nz\r\n0\r\nDigest: x\r\n\r\n");
    assert_eq!(inner.calls, 4);

    let w = ChunkedWriter::new(Vec::new());
    assert_eq!(w.finish(None).unwrap(), b"0\r\n\r\n");
}

proptest! {
    #[test]
    fn chunked_writer_round_trip(
        writes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
        cap in 1usize..32,
        max in 1usize..7,
        read_step in 1usize..9,
    ) {
        let mut w = ChunkedWriter::with_capacity(Stingy { out: Vec::new(), max, calls: 0 }, cap);
        for data in &writes {
            w.write_all(data).unwrap();
        }
        let mut wire = w.finish(None).unwrap().out;
        wire.extend_from_slice(b"NEXT");
        let mut r = Segments::new(&wire, &[wire.len() / 3]);
        let mut body = BodyReader::new(&mut r, Framing::Chunked, &limits());
        prop_assert_eq!(read_all(&mut body, read_step).unwrap(), writes.concat());
        prop_assert!(body.is_complete());
        prop_assert_eq!(r.rest(), b"NEXT");
    }
}
