//! Content negotiation and media-type parameters: `accepts_gzip`, `accepts_encoding`,
//! `is_compressible` and `boundary_from_content_type` on any strings.
//!
//! Input: split at the first `\n` into a header value and a coding name.
//!
//! Invariants:
//! - no panic;
//! - `accepts_gzip(v)` is `accepts_encoding(v, "gzip")`, whatever the case of `v` or of the
//!   coding name (ASCII case never matters);
//! - `gzip;q=0` appended to a list (whose text before it opens no quoted string) refuses gzip,
//!   since the lowest weight of a coding listed twice counts; `*;q=0` appended to a list that
//!   never names gzip refuses it too; `identity` is accepted by an empty value;
//! - `is_compressible` ignores ASCII case and parameters;
//! - a boundary found is 1 to 70 characters without a trailing space, and is found again in
//!   `multipart/form-data; boundary="..."` and in the value upper-cased (parameter names and
//!   media types ignore case).

#![no_main]

use http_utils::multipart::boundary_from_content_type;
use http_utils::{accepts_encoding, accepts_gzip, is_compressible};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (value, coding) = text.split_once('\n').unwrap_or((&text, "br"));

    // Accept-Encoding.
    let gz = accepts_gzip(value);
    assert_eq!(gz, accepts_encoding(value, "gzip"));
    assert_eq!(gz, accepts_encoding(value, "GZip"));
    assert_eq!(gz, accepts_gzip(&value.to_ascii_uppercase()), "{value:?}");
    assert_eq!(gz, accepts_gzip(&value.to_ascii_lowercase()), "{value:?}");
    let c = accepts_encoding(value, coding);
    assert_eq!(c, accepts_encoding(&value.to_ascii_uppercase(), &coding.to_ascii_lowercase()));
    if !value.contains('"') {
        for tail in ["gzip;q=0", "GZIP; Q=0.000", "x-gzip;q=0"] {
            let list = format!("{value}, {tail}");
            assert!(!accepts_gzip(&list), "{list:?} accepts gzip");
            let list = format!("{tail},{value}");
            assert!(!accepts_gzip(&list), "{list:?} accepts gzip");
        }
        if !value.to_ascii_lowercase().contains("gzip") {
            let list = format!("{value}, *;q=0");
            assert!(!accepts_gzip(&list), "{list:?} accepts gzip");
        }
    }
    assert!(accepts_encoding("", "identity"));

    // Media types worth compressing.
    let comp = is_compressible(value);
    assert_eq!(comp, is_compressible(&value.to_ascii_uppercase()), "{value:?}");
    if !value.contains(';') {
        assert_eq!(comp, is_compressible(&format!("{value}; charset=utf-8")), "{value:?}");
    }
    if comp {
        assert!(value.contains('/'));
    }

    // Multipart boundaries.
    if let Some(b) = boundary_from_content_type(value) {
        assert!((1..=70).contains(&b.len()), "{b:?}");
        assert!(!b.ends_with(' '));
        assert!(!b.contains(['"', '\\', '\r', '\n']), "{b:?}");
        let again = format!("multipart/form-data; boundary=\"{b}\"");
        assert_eq!(boundary_from_content_type(&again).as_deref(), Some(b.as_str()), "{again:?}");
        let upper = value.to_ascii_uppercase();
        assert_eq!(boundary_from_content_type(&upper), Some(b.to_ascii_uppercase()), "{upper:?}");
    }
});
