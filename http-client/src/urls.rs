//! Request URLs as the client reads them: parsing (a URL without a scheme is `http://`), and
//! the same URL without its credentials for logs and error messages.

use crate::error::{Error, Result};

/// `url` without the user name and password of its authority, for logs and error messages.
pub(crate) fn redact_url(url: &str) -> String {
    http_utils::redact_url(url).into_owned()
}

/// Parses a request URL; one without `://` is taken as `http://`.
///
/// A program often sends to the same URL again and again; the last URL parsed on each thread is
/// kept, so that repeating it costs a comparison and a copy instead of a parse (which, with
/// its host name normalization, is most of the client's own work per request).
pub(crate) fn parse_url(s: &str) -> Result<url::Url> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, url::Url)>> = const { std::cell::RefCell::new(None) };
    }
    let cached = LAST.with(|last| match &*last.borrow() {
        Some((text, url)) if text == s => Some(url.clone()),
        _ => None,
    });
    if let Some(url) = cached {
        return Ok(url);
    }
    let url = parse_url_uncached(s)?;
    LAST.with(|last| *last.borrow_mut() = Some((s.to_owned(), url.clone())));
    Ok(url)
}

fn parse_url_uncached(s: &str) -> Result<url::Url> {
    let bad = |reason: String| Error::InvalidUrl { url: redact_url(s), reason };
    // The URL parser would silently drop these (tabs and line breaks anywhere, controls and
    // spaces at the ends): a URL built from outside input must not change on its way out.
    if let Some(p) = s.bytes().position(|b| b.is_ascii_control()) {
        return Err(bad(format!("a control character (byte {p})")));
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(bad("a space at an end".to_owned()));
    }
    let url = if s.contains("://") { url::Url::parse(s) } else { url::Url::parse(&format!("http://{s}")) }
        .map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::UnsupportedScheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_taken_out_of_urls() {
        for (given, shown) in [
            ("http://u:p@h/x", "http://h/x"),
            ("https://u@h:8443/?a=b@c", "https://h:8443/?a=b@c"),
            ("http://u:p@ss@h#f@g", "http://h#f@g"),
            ("http://h/p@q", "http://h/p@q"),
            ("h:80/no-scheme", "h:80/no-scheme"),
            ("u:p@h:80/no-scheme", "h:80/no-scheme"),
            ("http://u:p@", "http://"),
        ] {
            assert_eq!(redact_url(given), shown, "{given}");
        }
    }
}
