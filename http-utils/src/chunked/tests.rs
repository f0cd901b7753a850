use super::*;
use proptest::prelude::*;

/// What a whole run of the decoder gave: body, bytes consumed, trailers, done.
type Outcome = Result<(Vec<u8>, usize, Vec<(String, String)>, bool), (ErrorKind, usize)>;

/// Runs a decoder over `input`, making more bytes available at each split point, with an
/// output buffer of `out_cap` bytes.
fn run(input: &[u8], limits: &Limits, splits: &[usize], out_cap: usize) -> Outcome {
    run_bounded(input, limits, u64::MAX, splits, out_cap)
}

/// [`run`] with a decoder limited to `max_body` body bytes.
fn run_bounded(input: &[u8], limits: &Limits, max_body: u64, splits: &[usize], out_cap: usize) -> Outcome {
    let mut dec = ChunkedDecoder::new(limits).with_max_body(max_body);
    let mut points = splits.iter().copied().filter(|&s| s <= input.len()).chain([input.len()]);
    let mut avail = points.next().unwrap_or(input.len());
    let mut out = vec![0u8; out_cap];
    let mut body = Vec::new();
    let mut pos = 0;
    for _ in 0..(4 * input.len() + 16) {
        if dec.is_done() {
            let t = dec.trailers().map(|t| t.iter().map(|(n, v)| (n.into(), v.into())).collect());
            return Ok((body, pos, t.unwrap_or_default(), true));
        }
        let (c, p) =
            dec.decode(&input[pos..avail], &mut out).map_err(|e| (e.kind().unwrap(), e.offset().unwrap()))?;
        assert!(c <= avail - pos && p <= out_cap);
        pos += c;
        body.extend_from_slice(&out[..p]);
        if c == 0 && p == 0 {
            if avail == input.len() {
                return Ok((body, pos, Vec::new(), false));
            }
            avail = points.next().unwrap_or(input.len()).max(avail);
        }
    }
    panic!("decoder made no progress");
}

/// Whole, byte by byte, and split at every offset all give the same outcome.
fn check_all_splits(input: &[u8], limits: &Limits) -> Outcome {
    check_all_splits_bounded(input, limits, u64::MAX)
}

/// [`check_all_splits`] with a decoder limited to `max_body` body bytes.
fn check_all_splits_bounded(input: &[u8], limits: &Limits, max_body: u64) -> Outcome {
    let whole = run_bounded(input, limits, max_body, &[], 1 << 16);
    let every: Vec<usize> = (1..input.len()).collect();
    let bytes = run_bounded(input, limits, max_body, &every, 1);
    assert_eq!(bytes, whole, "byte by byte: {:?}", String::from_utf8_lossy(input));
    for i in 0..=input.len() {
        for cap in [1, 3, 1 << 16] {
            assert_eq!(run_bounded(input, limits, max_body, &[i], cap), whole, "split at {i}, out {cap}");
        }
    }
    whole
}

fn ok(body: &str, consumed: usize, trailers: &[(&str, &str)]) -> Outcome {
    let t = trailers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    Ok((body.as_bytes().to_vec(), consumed, t, true))
}

#[test]
fn valid_streams() {
    let table: &[(&[u8], Outcome)] = &[
        (b"0\r\n\r\n", ok("", 5, &[])),
        (b"5\r\nhello\r\n0\r\n\r\n", ok("hello", 15, &[])),
        (b"5\nhello\n0\n\n", ok("hello", 11, &[])),
        (b"5\r\nhello\n0\n\r\n", ok("hello", 13, &[])),
        (b"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", ok("01234567890123456789", 35, &[])),
        (b"005\r\nhello\r\n0000\r\n\r\n", ok("hello", 20, &[])),
        (b"5;a=b;c=\"d;e\"\r\nhello\r\n0;last\r\n\r\n", ok("hello", 32, &[])),
        (b"5 ;a\r\nhello\r\n0\t ;x\r\n\r\n", ok("hello", 22, &[])),
        (b"1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", ok("\r\n", 17, &[])),
        (b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:2 \r\n\r\n", ok("abc", 29, &[("x-sum", "1"), ("y", "2")])),
        (b"0\nA: b\n\n", ok("", 8, &[("a", "b")])),
        (b"0\r\n\r\nGET / HTTP/1.1\r\n", ok("", 5, &[])),
        (b"2\r\nhi\r\n0\r\nA: 1\r\n\r\n0\r\n\r\n", ok("hi", 18, &[("a", "1")])),
    ];
    for (input, want) in table {
        let got = check_all_splits(input, &Limits::default());
        assert_eq!(&got, want, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn incomplete_streams_wait() {
    for input in
        [&b""[..], b"5", b"5\r", b"5\r\nhel", b"5\r\nhello", b"5\r\nhello\r", b"0\r\n", b"0\r\nA: 1\r\n"]
    {
        let got = check_all_splits(input, &Limits::default());
        let Ok((_, consumed, _, done)) = got else { panic!("{input:?}: {got:?}") };
        assert!(!done);
        assert_eq!(consumed, input.len());
    }
    // A huge announced chunk streams what arrives.
    let got = run(b"ffffffffffffffff\r\nabc", &Limits::default(), &[], 16);
    assert_eq!(got, Ok((b"abc".to_vec(), 21, Vec::new(), false)));
}

#[test]
fn errors() {
    use ErrorKind::*;
    let small =
        Limits { max_chunk_line: 8, max_head: 16, max_headers: 1, max_header_line: 10, ..Limits::DEFAULT };
    let table: &[(&[u8], ErrorKind, usize)] = &[
        (b"+5\r\nhello\r\n", InvalidChunk, 0),
        (b"-5\r\n", InvalidChunk, 0),
        (b"0x5\r\n", InvalidChunk, 1),
        (b" 5\r\n", InvalidChunk, 0),
        (b"5 5\r\n", InvalidChunk, 2),
        (b"5 \r\n", InvalidChunk, 2),
        (b"\r\n", InvalidChunk, 0),
        (b"\n", InvalidChunk, 0),
        (b";a\r\n", InvalidChunk, 0),
        (b"g\r\n", InvalidChunk, 0),
        (b"5\rx", InvalidChunk, 2),
        (b"5;a\rx", InvalidChunk, 4),
        (b"5\r\nhelloX", InvalidChunk, 8),
        (b"5\r\nhello\rX", InvalidChunk, 9),
        (b"5\r\nhello\r\r\n", InvalidChunk, 9),
        (b"5;\x01\r\n", InvalidChunk, 2),
        (b"5;a\x7f\r\n", InvalidChunk, 3),
        (b"0\r\n\rX", InvalidChunk, 4),
        (b"000000000\r\n", ChunkLineTooLong, 8),
        (b"5;aaaaaaaa\r\n", ChunkLineTooLong, 8),
        (b"5;aaaaaaa", ChunkLineTooLong, 8),
        (b"5 \t \t \t \t;\r\n", ChunkLineTooLong, 8),
        (b"0\r\nA: 0123456789012345678\r\n\r\n", TrailersTooLarge, 19),
        (b"0\r\nA: 1\r\nB: 2\r\n\r\n", TrailersTooLarge, 9),
        (b"0\r\nAbcdefghi: 1\r\n\r\n", TrailersTooLarge, 13),
        (b"0\r\nbad name: 1\r\n\r\n", InvalidHeaderName, 6),
        (b"0\r\nfoo\r\n\r\n", MissingColon, 6),
        (b"0\r\nA: b\r\n c\r\n\r\n", ObsoleteLineFolding, 9),
        (b"0\r\nA: b\rc\r\n\r\n", BareCarriageReturn, 7),
        (b"0\r\nA: b\x00\r\n\r\n", InvalidHeaderValue, 7),
    ];
    for (input, kind, offset) in table {
        let got = check_all_splits(input, &small);
        assert_eq!(got, Err((*kind, *offset)), "{:?}", String::from_utf8_lossy(input));
    }
    let overflow: &[(&[u8], ErrorKind, usize)] = &[
        (b"10000000000000000\r\n", ChunkSizeOverflow, 16),
        (b"ffffffffffffffff0\r\n", ChunkSizeOverflow, 16),
        (b"00000000000000000000ffffffffffffffff0\r\n", ChunkSizeOverflow, 36),
    ];
    for (input, kind, offset) in overflow {
        assert_eq!(check_all_splits(input, &Limits::default()), Err((*kind, *offset)));
    }
    // Found by the split property: a bad byte and the line limit at the same place give
    // one answer however the line is split.
    let six = Limits { max_chunk_line: 6, ..Limits::DEFAULT };
    assert_eq!(check_all_splits(b"0;;;00;\0", &six), Err((ChunkLineTooLong, 6)));
    assert_eq!(check_all_splits(b"0;;;00\0", &six), Err((InvalidChunk, 6)));
    // Each chunk kind maps to its status.
    assert_eq!(InvalidChunk.status(), 400);
    assert_eq!(ChunkSizeOverflow.status(), 400);
    assert_eq!(ChunkLineTooLong.status(), 400);
    assert_eq!(TrailersTooLarge.status(), 431);
}

#[test]
fn body_limit_is_decided_at_the_size_line() {
    use ErrorKind::*;
    let limits = Limits::DEFAULT;
    // (stream, limit, outcome): a breach is reported at the digit that passes the limit,
    // before the line ends and before any data of that chunk.
    let table: &[(&[u8], u64, Outcome)] = &[
        (b"ffffffffffffffff\r\n", 10 << 20, Err((BodyTooLarge, 5))),
        (b"ffffffffffffffff", 10 << 20, Err((BodyTooLarge, 5))),
        (b"10000000000000000\r\n", 10 << 20, Err((BodyTooLarge, 6))),
        (b"a00000\r\n", 10 << 20, Ok((Vec::new(), 8, Vec::new(), false))),
        (b"a00001\r\n", 10 << 20, Err((BodyTooLarge, 5))),
        (b"00000000000000000000ffffffffffffffff0\r\n", 10 << 20, Err((BodyTooLarge, 25))),
        (b"9\r\n", 8, Err((BodyTooLarge, 0))),
        (b"09\r\n", 8, Err((BodyTooLarge, 1))),
        (b"10;ext\r\n", 15, Err((BodyTooLarge, 1))),
        // The sum of the chunks counts: 5 + 4 passes 8 at the second size line.
        (b"5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", 8, Err((BodyTooLarge, 10))),
        (b"5\nhello\n4\n", 8, Err((BodyTooLarge, 8))),
        // Up to the limit exactly is fine, with or without trailers.
        (b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", 8, ok("helloabc", 23, &[])),
        (b"8\r\nabcdefgh\r\n0\r\nA: 1\r\n\r\n", 8, ok("abcdefgh", 24, &[("a", "1")])),
        (b"0\r\n\r\n", 0, ok("", 5, &[])),
        (b"000\r\n\r\n", 0, ok("", 7, &[])),
        (b"1\r\n", 0, Err((BodyTooLarge, 0))),
        // Other errors on the line before the limit is passed keep their kind.
        (b"5x\r\n", 8, Err((InvalidChunk, 1))),
        (b"+9\r\n", 8, Err((InvalidChunk, 0))),
        // Without a limit the same sizes are read (and wait for their data).
        (b"ffffffffffffffff\r\n", u64::MAX, Ok((Vec::new(), 18, Vec::new(), false))),
    ];
    for (input, max, want) in table {
        let got = check_all_splits_bounded(input, &limits, *max);
        assert_eq!(&got, want, "{:?} within {max}", String::from_utf8_lossy(input));
    }
    // The limit is not the size line's: a limit above u64::MAX's reach still overflows.
    assert_eq!(
        check_all_splits_bounded(b"10000000000000000\r\n", &limits, u64::MAX),
        Err((ChunkSizeOverflow, 16))
    );
    assert_eq!(BodyTooLarge.status(), 413);
}

#[test]
fn body_limit_set_part_way() {
    let mut out = [0u8; 16];
    // Set after some chunks: what was declared already counts.
    let mut dec = ChunkedDecoder::new(&Limits::default());
    assert_eq!(dec.decode(b"5\r\nhello\r\n", &mut out).unwrap(), (10, 5));
    dec.set_max_body(4);
    let e = dec.decode(b"0\r\n\r\n", &mut out).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::BodyTooLarge), Some(10)));
    // Set in the middle of a size line: its digits so far count.
    let mut dec = ChunkedDecoder::new(&Limits::default());
    assert_eq!(dec.decode(b"ff", &mut out).unwrap(), (2, 0));
    dec.set_max_body(100);
    assert_eq!(dec.decode(b"\r\n", &mut out).unwrap_err().kind(), Some(ErrorKind::BodyTooLarge));
    // Within the limit, decoding goes on; a done decoder stays done.
    let mut dec = ChunkedDecoder::new(&Limits::default());
    assert_eq!(dec.decode(b"3\r\nabc", &mut out).unwrap(), (6, 3));
    dec.set_max_body(3);
    assert_eq!(dec.decode(b"\r\n0\r\n\r\n", &mut out).unwrap(), (7, 0));
    assert!(dec.is_done());
    dec.set_max_body(0);
    assert!(dec.is_done());
}

#[test]
fn errors_are_sticky_and_done_consumes_nothing() {
    let mut dec = ChunkedDecoder::new(&Limits::default());
    let mut out = [0u8; 8];
    assert!(dec.decode(b"z", &mut out).is_err());
    let e = dec.decode(b"0\r\n\r\n", &mut out).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (Some(ErrorKind::InvalidChunk), Some(0)));

    let mut dec = ChunkedDecoder::new(&Limits::default());
    assert_eq!(dec.decode(b"0\r\n\r\n", &mut out).unwrap(), (5, 0));
    assert!(dec.is_done());
    assert_eq!(dec.decode(b"more", &mut out).unwrap(), (0, 0));
    assert_eq!(dec.stream_offset(), 5);
    assert!(dec.trailers().is_none());
}

#[test]
fn empty_output_stops_at_data() {
    let mut dec = ChunkedDecoder::new(&Limits::default());
    assert_eq!(dec.decode(b"3\r\nabc\r\n0\r\n\r\n", &mut []).unwrap(), (3, 0));
    assert_eq!(dec.data_remaining(), 3);
    dec.advance_data(3);
    assert_eq!(dec.data_remaining(), 0);
    assert_eq!(dec.decode(b"\r\n0\r\n\r\n", &mut []).unwrap(), (7, 0));
    assert!(dec.is_done());
}

#[test]
fn encoder() {
    let mut out = Vec::new();
    encode_chunk(b"", &mut out);
    assert!(out.is_empty());
    encode_chunk(&[b'x'; 255], &mut out);
    assert!(out.starts_with(b"ff\r\nxxx"));
    assert!(out.ends_with(b"x\r\n"));
    let mut buf = [0u8; 18];
    let n = chunk_size_line(0x1a2b, &mut buf);
    assert_eq!(&buf[..n], b"1a2b\r\n");
    let n = chunk_size_line(usize::MAX, &mut buf);
    assert_eq!(n, 2 * std::mem::size_of::<usize>() + 2);
    let mut t = Headers::new();
    t.append("A", "1").unwrap();
    t.append("B", "2").unwrap();
    out.clear();
    encode_last_chunk(Some(&t), &mut out);
    assert_eq!(out, b"0\r\nA: 1\r\nB: 2\r\n\r\n");
}

proptest! {
    #[test]
    fn encode_then_decode(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
        trailers in proptest::collection::vec(("[a-z][a-z0-9-]{0,8}", "[ -~]{0,12}"), 0..3),
        out_cap in 1usize..500,
    ) {
        let mut wire = Vec::new();
        for p in &pieces {
            encode_chunk(p, &mut wire);
        }
        let mut t = Headers::new();
        for (n, v) in &trailers {
            t.append(n, v).unwrap();
        }
        encode_last_chunk(Some(&t), &mut wire);
        wire.extend_from_slice(b"NEXT");
        let got = run(&wire, &Limits::default(), &[], out_cap).unwrap();
        prop_assert_eq!(got.0, pieces.concat());
        prop_assert_eq!(got.1, wire.len() - 4);
        let want: Vec<(String, String)> = t.iter().map(|(n, v)| (n.into(), v.into())).collect();
        prop_assert_eq!(got.2, want);
        prop_assert!(got.3);
    }

    #[test]
    fn arbitrary_bytes_split_anywhere(
        input in proptest::collection::vec(prop_oneof![
            Just(b'0'), Just(b'1'), Just(b'a'), Just(b'\r'), Just(b'\n'), Just(b';'), Just(b' '),
            Just(b':'), Just(b'x'), any::<u8>()
        ], 0..64),
        split in 0usize..64,
    ) {
        let limits = Limits { max_chunk_line: 6, ..Limits::DEFAULT };
        let whole = run(&input, &limits, &[], 1 << 12);
        prop_assert_eq!(run(&input, &limits, &[split], 2), whole.clone());
        let every: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(run(&input, &limits, &every, 1), whole);
        // With a small body limit too.
        let whole = run_bounded(&input, &limits, 0x1a, &[], 1 << 12);
        prop_assert_eq!(run_bounded(&input, &limits, 0x1a, &[split], 2), whole.clone());
        prop_assert_eq!(run_bounded(&input, &limits, 0x1a, &every, 1), whole);
    }
}
