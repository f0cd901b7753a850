//! Character classes of RFC 9110 §5.6, as lookup tables.

/// `tchar` of RFC 9110 §5.6.2, indexed by byte.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
};

/// True for a byte allowed in a token.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

/// True for a non-empty token.
pub(crate) fn is_token(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| is_tchar(c))
}

/// True for a byte allowed in a field value: VCHAR, SP, HTAB and obs-text.
#[inline]
pub(crate) fn is_field_vchar(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// True for a byte allowed in a request target: visible ASCII.
#[inline]
pub(crate) fn is_target_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

// Word-at-a-time scanning: eight bytes (read little-endian) are tested at once. Each mask below
// sets the high bit of the bytes it flags; it may also flag bytes above a flagged one (borrows
// and carries run upwards), but never below, so its lowest flag marks the first flagged byte.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Flags the bytes of `x` below `n` (`n <= 128`).
#[inline]
fn less(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// Flags the bytes of `x` equal to `b`.
#[inline]
fn equal(x: u64, b: u8) -> u64 {
    less(x ^ (ONES * u64::from(b)), 1)
}

/// Flags the bytes of `x` above `n` (`n <= 127`).
#[inline]
fn more(x: u64, n: u8) -> u64 {
    (x.wrapping_add(ONES * u64::from(127 - n)) | x) & HIGHS
}

/// Length of the run of bytes at the start of `b` that pass `good`. `stops` flags, for a word,
/// every byte that fails `good` and possibly some that pass it (those are checked one by one).
#[inline]
fn run(b: &[u8], stops: impl Fn(u64) -> u64, good: impl Fn(u8) -> bool) -> usize {
    let mut i = 0;
    while let Some(word) = b.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let flags = stops(u64::from_le_bytes(*word));
        if flags == 0 {
            i += 8;
            continue;
        }
        let first = i + (flags.trailing_zeros() / 8) as usize;
        match b.get(first) {
            Some(&c) if good(c) => i = first + 1,
            _ => return first,
        }
    }
    let rest = b.get(i..).unwrap_or_default();
    i + rest.iter().position(|&c| !good(c)).unwrap_or(rest.len())
}

/// Length of the run of field-value bytes ([`is_field_vchar`]) at the start of `b`.
#[inline]
pub(crate) fn field_vchar_run(b: &[u8]) -> usize {
    // HTAB is flagged too, and passed one by one.
    run(b, |x| less(x, 0x20) | equal(x, 0x7f), is_field_vchar)
}

/// Lower-cases the ASCII letters of `buf[start..end]` eight bytes at a time; other bytes
/// (0x80 and above too) stay as they are. Words may reach past `end` when `buf` goes on
/// (only the bytes before `end` change), and may overlap (lower-casing twice changes nothing).
pub(crate) fn lowercase_ascii(buf: &mut [u8], start: usize, end: usize) {
    let len = end.saturating_sub(start);
    if len >= 8 {
        let mut i = start;
        while i + 8 <= end {
            lowercase_word(buf, i, u64::MAX);
            i += 8;
        }
        if i < end {
            lowercase_word(buf, end - 8, u64::MAX);
        }
    } else if start + 8 <= buf.len() {
        lowercase_word(buf, start, (1u64 << (8 * len)) - 1);
    } else if let Some(b) = buf.get_mut(start..end) {
        b.make_ascii_lowercase();
    }
}

/// Lower-cases the letters among the bytes of `buf[at..at + 8]` that `keep` selects (0xff per
/// byte, little-endian).
#[inline]
fn lowercase_word(buf: &mut [u8], at: usize, keep: u64) {
    let Some(w) = buf.get_mut(at..at + 8).and_then(|s| <&mut [u8; 8]>::try_from(s).ok()) else { return };
    let x = u64::from_le_bytes(*w);
    let upper = within(x & !HIGHS, b'A', b'Z') & !x & keep;
    *w = (x | (upper >> 2)).to_le_bytes();
}

/// Length of the run of request-target bytes ([`is_target_char`]) at the start of `b`.
#[inline]
pub(crate) fn target_char_run(b: &[u8]) -> usize {
    run(b, |x| less(x, 0x21) | more(x, 0x7e), is_target_char)
}

/// Length of the run of token bytes ([`is_tchar`]) at the start of `b`.
#[inline]
pub(crate) fn tchar_run(b: &[u8]) -> usize {
    // Letters, digits and `-` (what names are made of) pass eight at a time; the other
    // token bytes (`!#$%&'*+.^_`|~`) are flagged and passed one by one.
    run(b, |x| !name_bytes(x) & HIGHS, is_tchar)
}

/// Flags exactly the bytes of `x` that are ASCII letters, digits or `-`. Each test works on
/// the low seven bits, where no sum carries into the next byte.
#[inline]
fn name_bytes(x: u64) -> u64 {
    let low = x & !HIGHS;
    let letter = within(low | (ONES * 0x20), b'a', b'z');
    let digit = within(low, b'0', b'9');
    let dash = !(low ^ (ONES * u64::from(b'-'))).wrapping_add(ONES * 0x7f);
    (letter | digit | dash) & !x & HIGHS
}

/// Flags exactly the bytes of `low` (high bits clear) from `lo` to `hi` (`0 < lo <= hi < 0x80`):
/// with no high bit set, no sum carries into the next byte, so a byte at `lo` or above gets its
/// high bit from the first sum and one past `hi` from the second.
#[inline]
fn within(low: u64, lo: u8, hi: u8) -> u64 {
    low.wrapping_add(ONES * u64::from(0x80 - lo)) & !low.wrapping_add(ONES * u64::from(0x7f - hi)) & HIGHS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn word_lowercasing_agrees_with_bytewise(
            v in proptest::collection::vec(any::<u8>(), 0..40),
            a in 0usize..40,
            b in 0usize..40,
        ) {
            let (start, end) = (a.min(b).min(v.len()), a.max(b).min(v.len()));
            let mut want = v.clone();
            want[start..end].make_ascii_lowercase();
            let mut got = v.clone();
            lowercase_ascii(&mut got, start, end);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn word_scans_agree_on_any_bytes(v in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\t'), Just(b' '), Just(0x7f), Just(0x80), Just(b':'), any::<u8>()],
            0..40,
        )) {
            let want = |good: fn(u8) -> bool| v.iter().position(|&c| !good(c)).unwrap_or(v.len());
            prop_assert_eq!(field_vchar_run(&v), want(is_field_vchar));
            prop_assert_eq!(target_char_run(&v), want(is_target_char));
            prop_assert_eq!(tchar_run(&v), want(is_tchar));
        }
    }

    #[test]
    fn word_scans_agree_with_the_byte_tests() {
        // Every byte value at every position of a 19-byte run of otherwise good bytes.
        for bad in 0..=255u8 {
            for at in 0..19 {
                let mut v = vec![b'a'; 19];
                v[at] = bad;
                let want = |good: fn(u8) -> bool| v.iter().position(|&c| !good(c)).unwrap_or(v.len());
                assert_eq!(field_vchar_run(&v), want(is_field_vchar), "byte {bad:#x} at {at}");
                assert_eq!(target_char_run(&v), want(is_target_char), "byte {bad:#x} at {at}");
                assert_eq!(tchar_run(&v), want(is_tchar), "byte {bad:#x} at {at}");
            }
        }
        // Several flagged bytes in one word, tabs among good bytes, long runs.
        for v in [&b"a\tb\tc\td\te\tf\tg\th\r\n"[..], b"\t\t\t\t\t\t\t\t\t\t\x01", b"\x7f\x00\x01"] {
            let want = v.iter().position(|&c| !is_field_vchar(c)).unwrap_or(v.len());
            assert_eq!(field_vchar_run(v), want, "{v:?}");
        }
        let long = [b'x'; 100];
        assert_eq!((field_vchar_run(&long), target_char_run(&long), tchar_run(&long)), (100, 100, 100));
        assert_eq!(field_vchar_run(b""), 0);
        assert_eq!(field_vchar_run(b"a\tb\x80\xff c\r\n"), 7);
        assert_eq!(target_char_run(b"/a?b=\x7f"), 5);
    }
}
