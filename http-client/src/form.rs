//! Request bodies from name/value pairs: urlencoded forms and the egg's custom delimiters.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Bytes left as they are in `application/x-www-form-urlencoded` (besides alphanumerics).
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_').remove(b' ');

/// Encodes one name or value for `application/x-www-form-urlencoded`: space becomes `+`,
/// everything but alphanumerics and `*-._` becomes `%XX` (UTF-8).
///
/// ```
/// assert_eq!(http_client::form::form_encode("a b&c=é"), "a+b%26c%3D%C3%A9");
/// ```
pub fn form_encode(s: &str) -> String {
    utf8_percent_encode(s, FORM).to_string().replace(' ', "+")
}

/// Joins pairs the egg's way: `encoder(name) kv_delim encoder(value)`, pairs separated by
/// `pair_delim` (the egg's DELIM1 and DELIM2 and ENCODER).
///
/// ```
/// use http_client::form::{encode_pairs, form_encode};
/// assert_eq!(encode_pairs(&[("a", "1"), ("b", "x y")], "&", "=", form_encode), "a=1&b=x+y");
/// ```
pub fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(
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
