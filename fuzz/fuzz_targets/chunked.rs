//! `ChunkedDecoder`: the whole stream at once with a large output buffer must give the same
//! body, trailers, end and error as the stream fed in pieces into a small output buffer; a
//! finished body survives re-encoding. Half the runs give the decoder a body limit
//! (`with_max_body`), under which a body is never longer than the limit.

#![no_main]

use http_utils::{encode_chunk, encode_last_chunk, ChunkedDecoder, ErrorKind, Headers, Limits};
use libfuzzer_sys::fuzz_target;

mod common;

#[derive(Debug, PartialEq)]
struct Outcome {
    body: Vec<u8>,
    /// Input consumed, when the run ended without an error.
    consumed: Option<usize>,
    done: bool,
    trailers: Option<Vec<(String, String)>>,
    error: Option<(Option<ErrorKind>, Option<usize>)>,
}

/// Runs a decoder limited to `max_body` body bytes over `input`, making `piece(n)` more bytes
/// available whenever it needs more, with an output buffer of `out_cap` bytes.
fn run(
    input: &[u8],
    limits: &Limits,
    max_body: u64,
    out_cap: usize,
    mut piece: impl FnMut() -> usize,
) -> Outcome {
    let mut dec = ChunkedDecoder::new(limits).with_max_body(max_body);
    let mut out = vec![0u8; out_cap];
    let mut body = Vec::new();
    let mut pos = 0;
    let mut avail = piece().min(input.len());
    let mut error = None;
    // Every round makes progress or makes more input available, so this bound is never met
    // by a correct decoder.
    let max_rounds = 4 * input.len() + 16;
    let mut rounds = 0;
    while !dec.is_done() {
        rounds += 1;
        assert!(rounds <= max_rounds, "decoder does not make progress");
        match dec.decode(&input[pos..avail], &mut out) {
            Ok((consumed, produced)) => {
                assert!(consumed <= avail - pos && produced <= out.len());
                body.extend_from_slice(&out[..produced]);
                pos += consumed;
                if consumed == 0 && produced == 0 {
                    if avail == input.len() {
                        break;
                    }
                    avail = (avail + piece().max(1)).min(input.len());
                }
            }
            Err(e) => {
                // An error repeats.
                let again = dec.decode(&input[pos..avail], &mut out).unwrap_err();
                assert_eq!((again.kind(), again.offset()), (e.kind(), e.offset()));
                error = Some((e.kind(), e.offset()));
                break;
            }
        }
    }
    if error.is_none() {
        // (After an error the decoder has looked at bytes that no call reported as consumed.)
        assert_eq!(dec.stream_offset(), pos as u64);
    }
    let trailers = dec.trailers().map(|t| t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    Outcome { body, consumed: error.is_none().then_some(pos), done: dec.is_done(), trailers, error }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else { return };
    let limits = if mode & 1 == 1 { common::TINY } else { Limits::default() };
    let max_body = if mode & 0x10 == 0x10 { limits.max_body } else { u64::MAX };
    let whole = run(stream, &limits, max_body, stream.len() + 1, || usize::MAX);
    assert!(whole.body.len() <= stream.len());
    assert!(whole.body.len() as u64 <= max_body);
    if whole.done {
        assert!(whole.error.is_none());
    }

    // Pieces of 1 to 8 bytes, in a pattern drawn from the mode byte, into 1 to 8 output bytes.
    let mut state = u32::from(mode) | 0x100;
    let pieces = run(stream, &limits, max_body, usize::from((mode >> 1) & 7) + 1, || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        ((state >> 16) & 7) as usize + 1
    });
    assert_eq!(pieces, whole, "pieces and whole differ");

    // A finished body, re-encoded in one chunk with its trailers, decodes to itself.
    if whole.done {
        let mut again = Vec::new();
        encode_chunk(&whole.body, &mut again);
        let mut trailers = Headers::new();
        for (k, v) in whole.trailers.iter().flatten() {
            trailers.append(k, v).unwrap();
        }
        encode_last_chunk(whole.trailers.as_ref().map(|_| &trailers), &mut again);
        // Re-encoded trailer lines may be longer than the originals ("a:b" becomes "a: b").
        let round = run(&again, &Limits::default(), max_body, again.len() + 1, || usize::MAX);
        assert_eq!((round.body, round.done, round.consumed), (whole.body, true, Some(again.len())));
        assert_eq!(round.trailers, whole.trailers);
    }
});
