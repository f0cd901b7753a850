//! Header values with parameters (RFC 9110 §5.6.6): `item; name=value; name="quoted value"`,
//! and comma-separated lists of them, for `Content-Type`, `Content-Disposition` and
//! `Accept-Encoding`.

use crate::token::is_tchar;

/// Splits `s` at every `sep` that stands outside a quoted string. A backslash inside a quoted
/// string escapes the next character.
pub(crate) fn split_outside_quotes(s: &str, sep: u8) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            c if c == sep && !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start.min(s.len())..]);
    out
}

/// Trims spaces and horizontal tabs (OWS) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Unquotes a parameter value: a token as it stands, or a quoted string without its quotes.
/// Inside quotes, a backslash escapes a following `"` or `\`; before any other character it is
/// kept literally (senders put Windows paths in `filename` without escaping them).
/// Returns `None` for anything else (an empty value, a stray quote, bytes outside a token).
pub(crate) fn unquote(v: &str) -> Option<String> {
    let Some(inner) = v.strip_prefix('"') else {
        return (!v.is_empty() && v.bytes().all(is_tchar)).then(|| v.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    loop {
        match chars.next()? {
            '"' => return chars.next().is_none().then_some(out),
            '\\' => match chars.clone().next() {
                Some(c @ ('"' | '\\')) => {
                    out.push(c);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c if c.is_control() && c != '\t' => return None,
            c => out.push(c),
        }
    }
}

/// A header value split into its leading item and its parameters.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct WithParams<'a> {
    /// The item before the first `;`, trimmed.
    pub(crate) item: &'a str,
    /// `(lower-case name, unquoted value)` pairs in order.
    pub(crate) params: Vec<(String, String)>,
}

impl WithParams<'_> {
    /// The value of the parameter `name` (lower case) when it appears exactly once.
    pub(crate) fn unique(&self, name: &str) -> Option<&str> {
        let mut it = self.params.iter().filter(|(n, _)| n == name);
        let first = it.next()?;
        it.next().is_none().then_some(first.1.as_str())
    }
}

/// Parses `item *( OWS ";" OWS [ name "=" value ] )`. Returns `None` when a parameter is
/// malformed (no `=`, a name that is not a token, a value that is neither a token nor a
/// well-formed quoted string).
pub(crate) fn parse_params(s: &str) -> Option<WithParams<'_>> {
    let mut pieces = split_outside_quotes(s, b';').into_iter();
    let item = trim_ows(pieces.next().unwrap_or(""));
    let mut params = Vec::new();
    for piece in pieces {
        let piece = trim_ows(piece);
        if piece.is_empty() {
            continue;
        }
        let (name, value) = piece.split_once('=')?;
        let name = trim_ows(name);
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return None;
        }
        params.push((name.to_ascii_lowercase(), unquote(trim_ows(value))?));
    }
    Some(WithParams { item, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_only() {
        assert_eq!(split_outside_quotes(r#"a;b="x;y";c"#, b';'), ["a", r#"b="x;y""#, "c"]);
        assert_eq!(split_outside_quotes(r#"a="\";";b"#, b';'), [r#"a="\";""#, "b"]);
        assert_eq!(split_outside_quotes("", b','), [""]);
        assert_eq!(split_outside_quotes("a,", b','), ["a", ""]);
    }

    #[test]
    fn unquotes_tokens_and_quoted_strings() {
        assert_eq!(unquote("abc").as_deref(), Some("abc"));
        assert_eq!(unquote(r#""a b""#).as_deref(), Some("a b"));
        assert_eq!(unquote(r#""a\"b\\c""#).as_deref(), Some(r#"a"b\c"#));
        assert_eq!(unquote(r#""C:\dir\f.txt""#).as_deref(), Some(r"C:\dir\f.txt"));
        assert_eq!(unquote(r#""""#).as_deref(), Some(""));
        assert_eq!(unquote(r#""café.txt""#).as_deref(), Some("café.txt"));
        for bad in ["", "a b", r#""open"#, r#""a"b"#, "\"a\nb\"", "a\"b", r#""\""#] {
            assert_eq!(unquote(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parses_params() {
        let p = parse_params(r#"form-data; name="field"; FILENAME=a.txt ;; "#).unwrap();
        assert_eq!(p.item, "form-data");
        assert_eq!(p.unique("name"), Some("field"));
        assert_eq!(p.unique("filename"), Some("a.txt"));
        assert_eq!(p.unique("other"), None);
        let twice = parse_params("x; a=1; a=2").unwrap();
        assert_eq!(twice.unique("a"), None);
        assert_eq!(parse_params("text/plain").unwrap().params, []);
        for bad in ["x; a", "x; =1", "x; a=", "x; a b=1", r#"x; a="1"#] {
            assert_eq!(parse_params(bad), None, "{bad:?}");
        }
    }
}
