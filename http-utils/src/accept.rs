//! Content negotiation for compression: does the client take `gzip` (RFC 9110 §12.5.3), and is
//! a media type worth compressing.
//!
//! ```
//! use http_utils::{accepts_gzip, is_compressible};
//! assert!(accepts_gzip("gzip, deflate, br"));
//! assert!(!accepts_gzip("gzip;q=0, *"));
//! assert!(is_compressible("text/html; charset=utf-8"));
//! assert!(!is_compressible("image/png"));
//! ```

use crate::params::{parse_params, split_outside_quotes};

/// A weight (`q` value) in thousandths: `"0.5"` is 500. `None` when malformed
/// (RFC 9110 §12.4.2: `0` or `1`, up to three decimals, never above 1).
fn parse_qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for (i, c) in frac.bytes().enumerate() {
        thousandths += u16::from(c - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The weight the `Accept-Encoding` value gives `coding`, in thousandths, when the value names
/// it or `*`; `None` when it names neither. An element whose `q` is malformed is ignored; when a
/// coding is listed more than once, the lowest weight counts.
fn weight(accept_encoding: &str, coding: &str) -> (Option<u16>, Option<u16>) {
    let mut named: Option<u16> = None;
    let mut star: Option<u16> = None;
    for element in split_outside_quotes(accept_encoding, b',') {
        let Some(parsed) = parse_params(element) else { continue };
        if parsed.item.is_empty() {
            continue;
        }
        let q = match parsed.params.iter().find(|(n, _)| n == "q") {
            None => 1000,
            Some((_, v)) => match parse_qvalue(v) {
                Some(q) => q,
                None => continue,
            },
        };
        let slot = if parsed.item == "*" {
            &mut star
        } else if parsed.item.eq_ignore_ascii_case(coding)
            || (coding.eq_ignore_ascii_case("gzip") && parsed.item.eq_ignore_ascii_case("x-gzip"))
        {
            &mut named
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old| old.min(q)));
    }
    (named, star)
}

/// True when an `Accept-Encoding` value accepts the content coding `coding` (RFC 9110
/// §12.5.3): named with a non-zero weight, or not named while `*` has a non-zero weight.
/// `identity` is acceptable unless refused by `identity;q=0`, or by `*;q=0` without naming it.
///
/// Pass every `Accept-Encoding` line joined with `", "` (as [`Headers::get_joined`] does). An
/// empty value accepts only `identity`. Without the header any coding is acceptable in theory,
/// but servers should then send `identity`: call this only when the header is present.
///
/// [`Headers::get_joined`]: crate::Headers::get_joined
///
/// ```
/// use http_utils::accepts_encoding;
/// assert!(accepts_encoding("br;q=1.0, gzip;q=0.8", "br"));
/// assert!(!accepts_encoding("*;q=0", "identity"));
/// assert!(accepts_encoding("", "identity"));
/// ```
pub fn accepts_encoding(accept_encoding: &str, coding: &str) -> bool {
    match weight(accept_encoding, coding) {
        (Some(q), _) => q > 0,
        (None, Some(q)) => q > 0,
        (None, None) => coding.eq_ignore_ascii_case("identity"),
    }
}

/// True when an `Accept-Encoding` value accepts `gzip` (or its alias `x-gzip`): see
/// [`accepts_encoding`]. `gzip;q=0` refuses it even when `*` is accepted; `*;q=0` refuses it
/// unless it is named.
///
/// ```
/// use http_utils::accepts_gzip;
/// assert!(accepts_gzip("gzip"));
/// assert!(accepts_gzip("deflate, *;q=0.1"));
/// assert!(!accepts_gzip("identity"));
/// assert!(!accepts_gzip("gzip;q=0"));
/// assert!(!accepts_gzip("*;q=0"));
/// ```
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accepts_encoding(accept_encoding, "gzip")
}

/// True when a response of this media type (a `Content-Type` value; parameters are ignored) is
/// worth compressing: `text/*` (except `text/event-stream`, which must reach the client as it
/// is written), JSON, JavaScript, XML, SVG and other `+json`/`+xml` types, WebAssembly, and
/// uncompressed font formats. Images, audio, video, archives and already-compressed fonts are
/// not.
///
/// ```
/// use http_utils::is_compressible;
/// assert!(is_compressible("application/json"));
/// assert!(is_compressible("image/svg+xml"));
/// assert!(is_compressible("TEXT/CSS"));
/// assert!(!is_compressible("application/zip"));
/// assert!(!is_compressible("video/mp4"));
/// ```
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else { return false };
    match kind {
        "text" => sub != "event-stream" && !sub.is_empty(),
        "application" => {
            matches!(
                sub,
                "json"
                    | "javascript"
                    | "ecmascript"
                    | "x-javascript"
                    | "xml"
                    | "xhtml+xml"
                    | "wasm"
                    | "x-www-form-urlencoded"
                    | "graphql"
                    | "x-ndjson"
                    | "vnd.ms-fontobject"
                    | "x-font-ttf"
                    | "x-font-otf"
            ) || sub.ends_with("+json")
                || sub.ends_with("+xml")
        }
        "image" => matches!(sub, "svg+xml" | "x-icon" | "vnd.microsoft.icon" | "bmp"),
        "font" => matches!(sub, "ttf" | "otf" | "collection"),
        _ => false,
    }
}

/// True for `application/json` and the `application/*+json` media types (JSON-LD
/// `application/ld+json`, ActivityPub `application/activity+json`, problem details
/// `application/problem+json`, ...), parameters aside, in any case.
///
/// ```
/// use http_utils::is_json_media_type;
/// assert!(is_json_media_type("Application/JSON; charset=utf-8"));
/// assert!(is_json_media_type("application/activity+json"));
/// assert!(!is_json_media_type("text/json"));
/// assert!(!is_json_media_type("application/+json"));
/// ```
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((top, sub)) = essence.split_once('/') else { return false };
    top.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || (sub.len() > 5
                && sub.is_char_boundary(sub.len() - 5)
                && sub[sub.len() - 5..].eq_ignore_ascii_case("+json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/ld+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/activity+json",
            "application/problem+json",
        ] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in [
            "",
            "text/json",
            "text/html",
            "application/jsonx",
            "application/+json",
            "json",
            "application/x-json5",
        ] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }

    #[test]
    fn qvalues() {
        let table = [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.001", Some(1)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("0.0001", None),
            ("2", None),
            ("", None),
            ("-0", None),
            ("0.5x", None),
            (".5", None),
            ("0.+5", None),
        ];
        for (v, want) in table {
            assert_eq!(parse_qvalue(v), want, "{v:?}");
        }
    }

    #[test]
    fn gzip_table() {
        let table = [
            ("gzip", true),
            ("GZip", true),
            ("x-gzip", true),
            ("gzip, deflate, br, zstd", true),
            ("deflate, gzip;q=1.0, *;q=0.5", true),
            ("gzip;q=0.001", true),
            (" gzip ; q=0.5 ", true),
            ("gzip;Q=0.5", true),
            ("*", true),
            ("*;q=0.1", true),
            ("gzip;q=0", false),
            ("gzip;q=0.000", false),
            ("gzip;q=0, *", false),
            ("*, gzip;q=0", false),
            ("*;q=0", false),
            ("*;q=0, gzip", true),
            ("gzip, gzip;q=0", false),
            ("identity", false),
            ("identity;q=1, *;q=0", false),
            ("deflate, br", false),
            ("", false),
            (",,,", false),
            ("gzip;q=2", false),
            ("gzip;q=abc", false),
            ("gzip;q=abc, *", true),
            ("gzipped", false),
            ("gzip;level=\"9;x\"", true),
            ("gzip;q", false),
        ];
        for (v, want) in table {
            assert_eq!(accepts_gzip(v), want, "{v:?}");
        }
    }

    #[test]
    fn identity_rules() {
        assert!(accepts_encoding("", "identity"));
        assert!(accepts_encoding("gzip", "identity"));
        assert!(accepts_encoding("*;q=0, identity", "identity"));
        assert!(!accepts_encoding("identity;q=0", "identity"));
        assert!(!accepts_encoding("*;q=0", "identity"));
        assert!(!accepts_encoding("", "br"));
    }

    #[test]
    fn compressible_table() {
        let yes = [
            "text/html",
            "text/plain; charset=utf-8",
            "text/css",
            "text/csv",
            "Text/JavaScript",
            "application/json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/javascript",
            "application/xml",
            "application/atom+xml",
            "application/problem+json",
            "application/wasm",
            "image/svg+xml",
            "image/x-icon",
            "font/ttf",
            " application/json ",
        ];
        let no = [
            "",
            "text",
            "text/",
            "text/event-stream",
            "image/png",
            "image/jpeg",
            "image/webp",
            "image/gif",
            "video/mp4",
            "audio/mpeg",
            "application/zip",
            "application/gzip",
            "application/octet-stream",
            "application/pdf",
            "font/woff",
            "font/woff2",
            "multipart/form-data; boundary=x",
            "application/jsonx",
        ];
        for t in yes {
            assert!(is_compressible(t), "{t:?}");
        }
        for t in no {
            assert!(!is_compressible(t), "{t:?}");
        }
    }
}
