//! Boundaries: which RFC 2046 allows, and the one a `Content-Type` names.

use super::MAX_BOUNDARY_LEN;
use crate::params::parse_params;

/// True for the characters RFC 2046 allows in a boundary (`bchars`).
fn is_bchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'\'' | b'(' | b')' | b'+' | b'_' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?' | b' '
        )
}

/// True for a boundary RFC 2046 allows: 1 to 70 `bchars`, not ending in a space.
pub(super) fn is_valid_boundary(b: &str) -> bool {
    (1..=MAX_BOUNDARY_LEN).contains(&b.len()) && b.bytes().all(is_bchar) && !b.ends_with(' ')
}

/// The `boundary` parameter of a `multipart/*` `Content-Type` value, quoted or not.
///
/// `None` when the media type is not `multipart/*`, when the parameter is missing, repeated
/// or malformed, or when the boundary is not 1 to 70 characters RFC 2046 allows.
///
/// ```
/// use http_utils::multipart::boundary_from_content_type;
/// assert_eq!(boundary_from_content_type("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
/// assert_eq!(
///     boundary_from_content_type("Multipart/Form-Data; BOUNDARY=\"a b:c\"").as_deref(),
///     Some("a b:c")
/// );
/// assert_eq!(boundary_from_content_type("text/plain; boundary=abc"), None);
/// assert_eq!(boundary_from_content_type("multipart/form-data"), None);
/// ```
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    let parsed = parse_params(content_type)?;
    let (kind, sub) = parsed.item.split_once('/')?;
    if !kind.eq_ignore_ascii_case("multipart") || sub.is_empty() {
        return None;
    }
    let boundary = parsed.unique("boundary")?;
    is_valid_boundary(boundary).then(|| boundary.to_owned())
}
