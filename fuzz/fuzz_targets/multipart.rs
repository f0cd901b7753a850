//! `boundary_from_content_type` and the streaming `MultipartReader`.
//!
//! The body is read twice: in one piece and in pieces of a size the input picks, with part
//! content read through buffers of another size. Both readings must agree on every part and
//! on the error (kind and offset), and no part's content may hold a delimiter.

#![no_main]

use std::io::{self, Read};

use http_utils::multipart::{boundary_from_content_type, MultipartLimits, MultipartReader};
use http_utils::Error;
use libfuzzer_sys::fuzz_target;

const BOUNDARY: &str = "bnd";

/// Limits small enough that the fuzzer reaches them quickly.
const TINY: MultipartLimits = MultipartLimits { max_part_head: 40, max_part_headers: 2, max_parts: 3 };

/// Hands out its bytes `size` at a time.
struct Pieces<'a> {
    data: &'a [u8],
    size: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.size.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

type Seen = (Option<String>, Option<String>, Option<String>, Vec<u8>);

fn read_all(
    r: impl Read,
    limits: MultipartLimits,
    chunk: usize,
) -> Result<Vec<Seen>, (Option<http_utils::ErrorKind>, Option<usize>)> {
    let fail = |e: Error| (e.kind(), e.offset());
    let mut reader = MultipartReader::with_limits(r, BOUNDARY, limits).expect("valid boundary");
    let mut seen = Vec::new();
    loop {
        let mut part = match reader.next_part() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(seen),
            Err(e) => return Err(fail(e)),
        };
        assert!(part.headers().len() <= limits.max_part_headers);
        let meta = (
            part.name().map(str::to_owned),
            part.filename().map(str::to_owned),
            part.content_type().map(str::to_owned),
        );
        let mut content = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => content.extend_from_slice(&buf[..n]),
                Err(e) => return Err(fail(Error::from(e))),
            }
        }
        // "\r\n--bnd" may stand in content only when followed by a byte that cannot follow a
        // boundary.
        for (i, _) in content.windows(7).enumerate().filter(|(_, w)| *w == b"\r\n--bnd") {
            let next = content.get(i + 7).copied();
            assert!(next.is_some_and(|c| !b"- \t\r\n".contains(&c)), "delimiter inside content");
        }
        seen.push((meta.0, meta.1, meta.2, content));
        assert!(seen.len() <= limits.max_parts);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, size, chunk], body)) = data.split_first_chunk::<3>() else { return };
    // The Content-Type parser on the same bytes.
    if let Some(b) = boundary_from_content_type(&String::from_utf8_lossy(body)) {
        assert!((1..=70).contains(&b.len()) && !b.ends_with(' '), "{b:?}");
    }
    let limits = if mode & 1 == 1 { TINY } else { MultipartLimits::default() };
    let whole = read_all(body, limits, 4096);
    let pieces =
        read_all(Pieces { data: body, size: usize::from(size).max(1) }, limits, usize::from(chunk).max(1));
    assert_eq!(whole, pieces);
    if let Err((kind, _)) = whole {
        assert_eq!(kind.map(|k| k.status()), Some(400), "{kind:?}");
    }
});
