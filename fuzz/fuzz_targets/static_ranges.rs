//! The conditional and range headers of static files: `parse_range`, `evaluate_range`,
//! `if_range_allows` and `is_not_modified` on any header values, lengths and times.
//!
//! Input: bytes 0-7 the representation length (small lengths made likely), bytes 8-11 the
//! modification time in seconds, byte 12 flags; the rest is split at `\n` into the `Range`,
//! `If-Range`, `If-None-Match` and `If-Modified-Since` values.
//!
//! Invariants:
//! - a `Satisfiable` range has `start <= end < len`; its `Content-Range` value parses back to
//!   the same numbers, and `bytes=start-end` parses to the same range;
//! - `Unsatisfiable` never for a length the whole range fits in: `bytes=0-` on a non-empty
//!   representation is always satisfiable;
//! - `evaluate_range` is `parse_range` when `If-Range` allows it and `Ignore` otherwise;
//! - `If-Range` with our own strong tag or our own date allows the range; a weak tag never
//!   does by tag, and a date does not depend on the tag;
//! - `is_not_modified`: `*` and a list starting with our tag say yes, a list without a quote
//!   (so without a tag) says no;
//!   without `If-None-Match`, our own `Last-Modified` says yes; no headers say no.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http_server::static_files::{
    content_range, etag, evaluate_range, if_range_allows, is_not_modified, parse_range, unsatisfied_range,
    ByteRange, EtagKind,
};
use libfuzzer_sys::fuzz_target;

fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.strip_prefix("bytes ")?;
    let (range, len) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?, len.parse().ok()?))
}

fn check_range(r: ByteRange, len: u64, header: &str) {
    match r {
        ByteRange::Satisfiable { start, end } => {
            assert!(start <= end && end < len, "{header:?} on {len}: {start}-{end}");
            let cr = content_range(start, end, len);
            assert_eq!(parse_content_range(&cr), Some((start, end, len)), "{cr}");
            assert_eq!(parse_range(&format!("bytes={start}-{end}"), len), r);
        }
        ByteRange::Unsatisfiable => {
            assert_eq!(unsatisfied_range(len), format!("bytes */{len}"));
        }
        ByteRange::Ignore => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<13>() else { return };
    let raw_len = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
    let flags = head[12];
    let len = match flags & 3 {
        0 => raw_len % 16,
        1 => raw_len % 100_000,
        2 => u64::MAX - raw_len % 4,
        _ => raw_len,
    };
    let secs = u64::from(u32::from_le_bytes(head[8..12].try_into().unwrap_or_default()));
    let modified = UNIX_EPOCH + Duration::new(secs, u32::from(flags) * 1_000_000);
    let weak = flags & 4 != 0;
    let tag = etag(len, modified, if weak { EtagKind::Weak } else { EtagKind::Strong });

    let text = String::from_utf8_lossy(rest);
    let mut fields = text.split('\n');
    let range = fields.next().unwrap_or("");
    let if_range = fields.next();
    let if_none_match = fields.next();
    let if_modified_since = fields.next();

    let parsed = parse_range(range, len);
    check_range(parsed, len, range);
    if len > 0 {
        assert_eq!(parse_range("bytes=0-", len), ByteRange::Satisfiable { start: 0, end: len - 1 });
    }

    // If-Range.
    assert_eq!(evaluate_range(range, None, len, &tag, modified), parsed);
    if let Some(ir) = if_range {
        let allows = if_range_allows(ir, &tag, modified);
        // A weak tag never allows a range by tag; a date compares with the modification time
        // whatever the tag.
        let by_tag = ir.trim().starts_with('"') || ir.trim().starts_with("W/");
        if weak && by_tag {
            assert!(!allows, "weak tag {tag} allowed by {ir:?}");
        }
        if !by_tag {
            assert_eq!(allows, if_range_allows(ir, "\"other\"", modified), "{ir:?}");
        }
        let want = if allows { parsed } else { ByteRange::Ignore };
        assert_eq!(evaluate_range(range, Some(ir), len, &tag, modified), want);
    }
    assert_eq!(if_range_allows(&tag, &tag, modified), !weak, "{tag}");
    assert!(if_range_allows(&httpdate::fmt_http_date(modified), &tag, modified));

    // If-None-Match / If-Modified-Since.
    let answer = is_not_modified(if_none_match, if_modified_since, &tag, modified);
    if let Some(list) = if_none_match {
        assert_eq!(answer, is_not_modified(Some(list), None, &tag, modified));
        if list.trim() == "*" {
            assert!(answer);
        }
        assert!(is_not_modified(Some(&format!("{tag}, {list}")), None, &tag, modified));
        if !list.contains('"') && list.trim() != "*" {
            assert!(!answer, "no tag in {list:?}");
        }
    }
    assert!(!is_not_modified(None, None, &tag, modified));
    assert!(is_not_modified(None, Some(&httpdate::fmt_http_date(modified)), &tag, modified));
});
