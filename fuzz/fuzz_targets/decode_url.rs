//! `decode_url`, `canonicalize`, the form codec and `normalize_path`.

#![no_main]

use http_utils::{canonicalize, decode_form, decode_url, encode_component, encode_form, normalize_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let (path, args) = decode_url(&s);
    for candidate in [path.as_str(), s.as_ref()] {
        if let Some(n) = normalize_path(candidate) {
            assert!(n.starts_with('/'), "{n:?}");
            assert!(!n.contains("/../") && !n.ends_with("/..") && n != "..", "{n:?}");
            assert!(!n.contains("/./") && !n.ends_with("/.") && !n.contains("//"), "{n:?}");
            assert!(!n.contains('\0') && !n.contains('\\'), "{n:?}");
            assert_eq!(normalize_path(&n).as_deref(), Some(n.as_str()), "not a fixed point");
        }
    }
    // Arguments survive a trip through the form encoder.
    assert_eq!(decode_form(&encode_form(&args)), args);
    // Any string survives a trip through the component encoder.
    assert_eq!(canonicalize(&encode_component(&s)), s.as_ref());
    let _ = canonicalize(&s);
    // Decoding adds no bytes beyond U+FFFD replacements (3 bytes for a 3-byte escape).
    assert!(canonicalize(&s).len() <= s.len());
});
