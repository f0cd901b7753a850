//! URLs and forms: the egg's `http:decode-url` and `http:canonicalize-string`, the
//! `application/x-www-form-urlencoded` encoder and decoder (with the custom delimiters and
//! encoder of the egg's `http:POST`), and the path normalization a static file server needs.
//!
//! Decoding never fails: a malformed escape (`%`, `%4`, `%zz`) is kept as it stands, and decoded
//! bytes that are not UTF-8 become U+FFFD. Whether a decoded path is safe to map onto a file
//! system is a separate question, answered by [`normalize_path`].
//!
//! ```
//! use http_utils::{decode_url, normalize_path};
//! let (path, args) = decode_url("/files/%2e%2e/%2e%2e/etc/passwd?download");
//! assert_eq!(path, "/files/../../etc/passwd");
//! assert_eq!(args, [("download".to_string(), String::new())]);
//! assert_eq!(normalize_path(&path), None); // climbs above the root
//! assert_eq!(normalize_path("/files/./a//b/../c").as_deref(), Some("/files/a/c"));
//! ```

use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The bytes `application/x-www-form-urlencoded` leaves as they are: ASCII alphanumerics and
/// `*-._` (the WHATWG URL standard's urlencoded set keeps exactly these). Space is handled apart.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');

/// `url` without the user name and password of its authority, for logs, error messages and
/// `Debug` output. A URL without a scheme is read as starting with its authority.
///
/// ```
/// assert_eq!(http_utils::redact_url("http://user:secret@host/p?q=a@b"), "http://host/p?q=a@b");
/// assert_eq!(http_utils::redact_url("https://host/a"), "https://host/a");
/// ```
pub fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &rest[at + 1..]).into(),
        None => url.into(),
    }
}

/// Decodes every `%XX` escape (two hex digits, either case) into its byte. A `%` that does not
/// start a valid escape is kept as it stands. `+` is left alone.
///
/// ```
/// use http_utils::percent_decode_bytes;
/// assert_eq!(percent_decode_bytes(b"a%20b%zz%4"), b"a b%zz%4");
/// assert_eq!(percent_decode_bytes(b"%FF+"), [0xff, b'+']);
/// ```
pub fn percent_decode_bytes(bytes: &[u8]) -> Vec<u8> {
    percent_decode(bytes).collect()
}

/// Decodes `%XX` escapes into a string; bytes that are not UTF-8 become U+FFFD.
fn percent_decode_lossy(s: &str) -> String {
    match percent_decode(s.as_bytes()).decode_utf8_lossy() {
        std::borrow::Cow::Borrowed(b) => b.to_owned(),
        std::borrow::Cow::Owned(o) => o,
    }
}

/// The egg's `http:canonicalize-string`: `+` becomes a space and `%XX` becomes the byte it
/// names.
///
/// Malformed escapes (`%`, `%4`, `%zz`) are kept literally. The decoded bytes are read as UTF-8;
/// sequences that are not valid UTF-8 are replaced by U+FFFD (the decoding is lossy). An escaped
/// plus (`%2B`) stays a plus.
///
/// ```
/// use http_utils::canonicalize;
/// assert_eq!(canonicalize("caf%C3%A9+au+lait"), "café au lait");
/// assert_eq!(canonicalize("1%2B1%3D2"), "1+1=2");
/// assert_eq!(canonicalize("100%"), "100%");
/// assert_eq!(canonicalize("%ff"), "\u{fffd}");
/// ```
pub fn canonicalize(s: &str) -> String {
    if !s.contains('+') {
        return percent_decode_lossy(s);
    }
    let spaced: Vec<u8> = s.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
    String::from_utf8_lossy(&percent_decode(&spaced).collect::<Vec<u8>>()).into_owned()
}

/// The end of a URL scheme followed by `://` at the start of `url`, if there is one
/// (`scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 §3.1).
fn authority_start(url: &str) -> Option<usize> {
    let b = url.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = b.iter().position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    b[end..].starts_with(b"://").then_some(end + 3)
}

/// The egg's `http:decode-url`: the location path of `url`, decoded, and its query arguments,
/// decoded, in the order they appear.
///
/// `url` is a request target in origin form (`/path?query`) or an absolute URL
/// (`http://host:port/path?query`, whose scheme and authority are dropped; a missing path is
/// `/`). The fragment (`#...`) is dropped.
///
/// - The path is decoded with `%XX` only: a `+` in a path is a plus, not a space (RFC 3986).
///   Decode it before [`normalize_path`], never after.
/// - The query is split at `&`; each argument at its first `=`; names and values are decoded
///   with [`canonicalize`] (`+` is a space there). An argument without `=` has an empty value;
///   empty arguments (`a=1&&b=2`) are skipped.
/// - Bytes that are not UTF-8 after decoding become U+FFFD.
///
/// ```
/// use http_utils::decode_url;
/// let (path, args) = decode_url("/a%20b+c?x=1&flag&y=&q=caf%C3%A9+cr%C3%A8me#top");
/// assert_eq!(path, "/a b+c");
/// let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
/// assert_eq!(args, [("x", "1"), ("flag", ""), ("y", ""), ("q", "café crème")]);
///
/// assert_eq!(decode_url("http://example.com:8080/p?k=v").0, "/p");
/// assert_eq!(decode_url("http://example.com").0, "/");
/// ```
pub fn decode_url(url: &str) -> (String, Vec<(String, String)>) {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let rest = match authority_start(url) {
        Some(auth) => {
            let after = &url[auth..];
            match after.find(['/', '?']) {
                Some(p) => &after[p..],
                None => "",
            }
        }
        None => url,
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = if path.is_empty() && authority_start(url).is_some() { "/" } else { path };
    (percent_decode_lossy(path), query.map(decode_form).unwrap_or_default())
}

/// Decodes an `application/x-www-form-urlencoded` body (or a query string) into its name and
/// value pairs, in order.
///
/// The body is split at `&` and each piece at its first `=`; names and values are decoded with
/// [`canonicalize`]. A piece without `=` has an empty value; empty pieces are skipped. Nothing
/// is rejected: malformed escapes stay literal and invalid UTF-8 becomes U+FFFD.
///
/// ```
/// use http_utils::decode_form;
/// assert_eq!(
///     decode_form("name=J%C3%BCrgen+M&empty=&flag"),
///     [("name".into(), "Jürgen M".into()), ("empty".into(), String::new()), ("flag".into(), String::new())]
/// );
/// ```
pub fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((k, v)) => (canonicalize(k), canonicalize(v)),
            None => (canonicalize(piece), String::new()),
        })
        .collect()
}

/// Encodes one name or value for `application/x-www-form-urlencoded`: ASCII alphanumerics and
/// `*-._` stay, a space becomes `+`, every other byte of the UTF-8 encoding becomes `%XX`
/// (upper-case hex).
///
/// ```
/// use http_utils::encode_component;
/// assert_eq!(encode_component("café au lait & 1+1=2"), "caf%C3%A9+au+lait+%26+1%2B1%3D2");
/// ```
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for (i, part) in s.split(' ').enumerate() {
        if i > 0 {
            out.push('+');
        }
        out.extend(utf8_percent_encode(part, FORM));
    }
    out
}

/// Encodes pairs as an `application/x-www-form-urlencoded` body: `name=value` joined by `&`,
/// each side encoded with [`encode_component`]. [`decode_form`] reads it back.
///
/// ```
/// use http_utils::{decode_form, encode_form};
/// let body = encode_form(&[("q", "rust http"), ("lang", "en&de")]);
/// assert_eq!(body, "q=rust+http&lang=en%26de");
/// assert_eq!(decode_form(&body)[1], ("lang".to_string(), "en&de".to_string()));
/// ```
pub fn encode_form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    encode_form_with(pairs, "&", "=", encode_component)
}

/// Encodes pairs with custom delimiters and encoder, like the egg's `http:POST` with `DELIM1`
/// (`pair_delim`, between pairs), `DELIM2` (`kv_delim`, between a name and its value) and
/// `ENCODER` (`encoder`, applied to every name and every value).
///
/// ```
/// use http_utils::encode_form_with;
/// let body = encode_form_with(&[("a", "1"), ("b", "x y")], ";", ":", |s| s.to_uppercase());
/// assert_eq!(body, "A:1;B:X Y");
/// ```
pub fn encode_form_with<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
    pair_delim: &str,
    kv_delim: &str,
    encoder: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(pair_delim);
        }
        out.push_str(&encoder(k.as_ref()));
        out.push_str(kv_delim);
        out.push_str(&encoder(v.as_ref()));
    }
    out
}

/// Normalizes an already decoded path (the path of [`decode_url`]) for mapping onto a file
/// tree: removes `.` segments, resolves `..` segments (RFC 3986 §5.2.4 `remove_dot_segments`)
/// and collapses repeated slashes. The result always starts with `/`; a trailing slash is
/// kept, and a path ending in `.` or `..` ends in `/`.
///
/// Returns `None` for a path that cannot be served safely:
/// - a `..` that would climb above the root (`/../x`, `/a/../../x`);
/// - a NUL byte;
/// - a backslash (a path separator on some systems, so `..\` could climb).
///
/// The input must be decoded first: an escaped dot segment (`%2e%2e`, `.%2e`) is only seen as
/// one after [`decode_url`]. Decoding the output again would undo the check.
///
/// ```
/// use http_utils::normalize_path;
/// assert_eq!(normalize_path("/a/./b/../c/").as_deref(), Some("/a/c/"));
/// assert_eq!(normalize_path("//x//y").as_deref(), Some("/x/y"));
/// assert_eq!(normalize_path("/a/.."), Some("/".to_string()));
/// assert_eq!(normalize_path("/a/../../etc/passwd"), None);
/// assert_eq!(normalize_path("/a\\..\\..\\x"), None);
/// ```
pub fn normalize_path(path: &str) -> Option<String> {
    if path.bytes().any(|b| b == 0 || b == b'\\') {
        return None;
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in path.split('/') {
        trailing_slash = true;
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop()?;
            }
            name => {
                kept.push(name);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || kept.is_empty() {
        out.push('/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn canonicalize_table() {
        let table: &[(&str, &str)] = &[
            ("", ""),
            ("plain", "plain"),
            ("a+b", "a b"),
            ("+++", "   "),
            ("%20", " "),
            ("%2B", "+"),
            ("%2b", "+"),
            ("a%2Bb+c", "a+b c"),
            ("caf%C3%A9", "café"),
            ("caf%c3%a9", "café"),
            ("%", "%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("%%41", "%A"),
            ("%4%41", "%4A"),
            ("%g1", "%g1"),
            ("100%", "100%"),
            ("%25", "%"),
            ("%2541", "%41"),
            ("%00", "\0"),
            ("%FF", "\u{fffd}"),
            ("%C3", "\u{fffd}"),
            ("a%C3+b", "a\u{fffd} b"),
            ("é+ü", "é ü"),
        ];
        for (input, want) in table {
            assert_eq!(canonicalize(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn percent_decode_bytes_table() {
        let table: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a+b", b"a+b"),
            (b"%41%42", b"AB"),
            (b"%ff%FE", &[0xff, 0xfe]),
            (b"%", b"%"),
            (b"%f", b"%f"),
            (b"%fg", b"%fg"),
            (&[0xff, b'%', b'3', b'0'], &[0xff, b'0']),
        ];
        for (input, want) in table {
            assert_eq!(percent_decode_bytes(input), *want, "input {input:?}");
        }
    }

    /// Input, decoded path, decoded arguments.
    type UrlCase = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

    #[test]
    fn decode_url_table() {
        let table: &[UrlCase] = &[
            ("/", "/", &[]),
            ("", "", &[]),
            ("*", "*", &[]),
            ("/index.html", "/index.html", &[]),
            ("/search?q=caf%C3%A9&page=2", "/search", &[("q", "café"), ("page", "2")]),
            ("/p?a=1&b&c=", "/p", &[("a", "1"), ("b", ""), ("c", "")]),
            ("/p?", "/p", &[]),
            ("/p?&&a=1&&", "/p", &[("a", "1")]),
            ("/p?=v", "/p", &[("", "v")]),
            ("/p?a=b=c", "/p", &[("a", "b=c")]),
            ("/p?a+b=c+d", "/p", &[("a b", "c d")]),
            ("/p?a%26b=c%3Dd", "/p", &[("a&b", "c=d")]),
            ("/p?x=1&x=2", "/p", &[("x", "1"), ("x", "2")]),
            ("/p?q=a?b", "/p", &[("q", "a?b")]),
            ("/a+b/c%20d", "/a+b/c d", &[]),
            ("/a%2Fb", "/a/b", &[]),
            ("/%2e%2e/x", "/../x", &[]),
            ("/bad%zz%", "/bad%zz%", &[]),
            ("/bin%FF", "/bin\u{fffd}", &[]),
            ("/p#frag", "/p", &[]),
            ("/p?a=1#frag?b=2", "/p", &[("a", "1")]),
            ("/p#?a=1", "/p", &[]),
            ("http://example.com:8080/p?k=v", "/p", &[("k", "v")]),
            ("http://example.com/", "/", &[]),
            ("http://example.com", "/", &[]),
            ("http://example.com?k=v", "/", &[("k", "v")]),
            ("https://user@h:1/a/b%20c?x", "/a/b c", &[("x", "")]),
            ("HTTP://H/x", "/x", &[]),
            ("http://h#f", "/", &[]),
            ("/http://x/y", "/http://x/y", &[]),
            ("1http://x/y", "1http://x/y", &[]),
        ];
        for (input, path, args) in table {
            let (p, a) = decode_url(input);
            assert_eq!((p.as_str(), a), (*path, pairs(args)), "input {input:?}");
        }
    }

    #[test]
    fn decode_form_table() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("&", &[]),
            ("a", &[("a", "")]),
            ("a=", &[("a", "")]),
            ("=", &[("", "")]),
            ("a=1&b=2", &[("a", "1"), ("b", "2")]),
            ("a=1;b=2", &[("a", "1;b=2")]),
            ("n=%E2%82%AC+5", &[("n", "€ 5")]),
            ("n=%", &[("n", "%")]),
        ];
        for (input, want) in table {
            assert_eq!(decode_form(input), pairs(want), "input {input:?}");
        }
    }

    #[test]
    fn encode_component_table() {
        let table: &[(&str, &str)] = &[
            ("", ""),
            ("abcXYZ019", "abcXYZ019"),
            ("*-._", "*-._"),
            (" ", "+"),
            ("a b", "a+b"),
            ("+", "%2B"),
            ("~", "%7E"),
            ("&=%/?#", "%26%3D%25%2F%3F%23"),
            ("é", "%C3%A9"),
            ("€", "%E2%82%AC"),
            ("\0\n", "%00%0A"),
        ];
        for (input, want) in table {
            assert_eq!(encode_component(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn encode_form_table() {
        assert_eq!(encode_form::<&str, &str>(&[]), "");
        assert_eq!(encode_form(&[("a", "")]), "a=");
        assert_eq!(encode_form(&[("a b", "c&d"), ("e", "f")]), "a+b=c%26d&e=f");
        let owned = vec![("k".to_string(), "v".to_string())];
        assert_eq!(encode_form(&owned), "k=v");
        assert_eq!(encode_form_with(&[("a", "1"), ("b", "2")], "\n", ": ", |s| s.to_string()), "a: 1\nb: 2");
        assert_eq!(encode_form_with(&[("a b", "c")], "&", "=", encode_component), "a+b=c");
        assert_eq!(encode_form_with::<&str, &str>(&[], ";", ":", encode_component), "");
    }

    #[test]
    fn normalize_path_table() {
        let table: &[(&str, Option<&str>)] = &[
            ("", Some("/")),
            ("/", Some("/")),
            ("//", Some("/")),
            ("///a", Some("/a")),
            ("/a", Some("/a")),
            ("a/b", Some("/a/b")),
            ("/a/", Some("/a/")),
            ("/a//b", Some("/a/b")),
            ("/a/./b", Some("/a/b")),
            ("/a/.", Some("/a/")),
            ("/.", Some("/")),
            ("/a/b/..", Some("/a/")),
            ("/a/b/../", Some("/a/")),
            ("/a/b/../c", Some("/a/c")),
            ("/a/..", Some("/")),
            ("/a/../b/../c", Some("/c")),
            ("/a/b/c/../../d", Some("/a/d")),
            ("/...", Some("/...")),
            ("/..a/b..", Some("/..a/b..")),
            ("/.hidden", Some("/.hidden")),
            ("/a%2e%2e", Some("/a%2e%2e")),
            ("/%2e%2e/x", Some("/%2e%2e/x")),
            ("/a b/é", Some("/a b/é")),
            ("/..", None),
            ("/../", None),
            ("/../x", None),
            ("..", None),
            ("/a/../../x", None),
            ("/a/b/../../../x", None),
            ("//..//x", None),
            ("/./../x", None),
            ("/a\0b", None),
            ("/a\\b", None),
            ("/..\\x", None),
            ("/a/..\\..\\x", None),
        ];
        for (input, want) in table {
            assert_eq!(normalize_path(input).as_deref(), *want, "input {input:?}");
        }
    }

    #[test]
    fn traversal_after_decoding_is_refused() {
        let attacks = [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/.%2e/etc/passwd",
            "/%2e./etc/passwd",
            "/static/%2e%2e/%2e%2e/etc/passwd",
            "/static/..%2f..%2fetc/passwd",
            "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
            "/static/..%5c..%5cetc/passwd",
            "/static/%2e%2e%5c%2e%2e%5cetc",
            "/static/a%00.html",
            "/a/b/%2e%2e/%2e%2e/%2e%2e/x",
            "http://host/%2e%2e/x",
        ];
        for attack in attacks {
            let (path, _) = decode_url(attack);
            assert_eq!(normalize_path(&path), None, "attack {attack:?} decoded to {path:?}");
        }
        // Double encoding decodes once to a harmless literal name.
        let (path, _) = decode_url("/%252e%252e/x");
        assert_eq!(normalize_path(&path).as_deref(), Some("/%2e%2e/x"));
        // Climbing back down inside the root is fine.
        let (path, _) = decode_url("/a/%2e%2e/b");
        assert_eq!(normalize_path(&path).as_deref(), Some("/b"));
    }

    #[test]
    fn normalized_paths_are_fixed_points() {
        for p in ["/a/./b/../c/", "//x//y", "/a/..", "/...", "a/b/.", "/a b/é/"] {
            let once = normalize_path(p).unwrap();
            assert_eq!(normalize_path(&once).as_deref(), Some(once.as_str()), "input {p:?}");
        }
    }

    proptest! {
        #[test]
        fn form_round_trip(list in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,12}"), 0..8)) {
            let body = encode_form(&list);
            prop_assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b"*-._+%&=".contains(&b)));
            // Even an empty pair survives: it is encoded as `=`.
            prop_assert_eq!(decode_form(&body), list);
        }

        #[test]
        fn component_round_trip(s in "\\PC*") {
            prop_assert_eq!(canonicalize(&encode_component(&s)), s);
        }

        #[test]
        fn decoding_never_panics(s in "[%+a-fA-F0-9=&?#/.\\\\]{0,40}") {
            let (path, _) = decode_url(&s);
            if let Some(n) = normalize_path(&path) {
                prop_assert!(n.starts_with('/'));
                prop_assert!(!n.contains("/../") && !n.ends_with("/..") && !n.contains("//"));
                prop_assert_eq!(normalize_path(&n), Some(n.clone()));
            }
        }
    }
}
