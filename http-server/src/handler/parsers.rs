//! Predefined content parsers beyond the egg's: `multipart/form-data` and `application/json`.
//!
//! Both are registered when a server is built, like the urlencoded parser, and can be
//! replaced with [`Server::set_content_parser`](crate::Server::set_content_parser). Both read
//! through the reader the server gives every parser, which stops at
//! [`Limits::max_body`](http_utils::Limits) bytes: a larger body is answered 413.

use std::io::{self, Read};

use http_utils::multipart::{boundary_from_content_type, MultipartReader};
use http_utils::{Error, ErrorKind, Headers};

use crate::handler::content::{Content, FormPart};

/// The predefined parser for `multipart/form-data`: reads the parts one at a time with
/// [`MultipartReader`] (constant memory beyond the parts' contents, which are kept) and
/// returns [`Content::Multipart`]. The raw body is not kept (it would double the memory): the
/// request's body is left empty.
///
/// For uploads that should not be held in memory at all, read the parts yourself from
/// [`Context::multipart`](crate::Context::multipart) instead.
///
/// # Errors
/// `MissingBoundary` (400) when `Content-Type` has no valid boundary; the reader's errors
/// (`InvalidMultipart`, `TruncatedMultipart`, `TooManyParts`, ... 400); `BodyTooLarge` (413)
/// past the body limit. The errors come as `io::Error`s wrapping [`http_utils::Error`].
pub fn multipart_parser(
    _size: Option<u64>,
    headers: &Headers,
    body: &mut dyn Read,
) -> io::Result<(Content, Vec<u8>)> {
    let boundary = headers
        .get("content-type")
        .and_then(boundary_from_content_type)
        .ok_or_else(|| io::Error::from(Error::protocol(ErrorKind::MissingBoundary, 0)))?;
    let mut reader = MultipartReader::new(body, &boundary)?;
    let mut parts = Vec::new();
    while let Some(mut part) = reader.next_part()? {
        let name = part.name().map(str::to_owned);
        let filename = part.filename().map(str::to_owned);
        let content_type = part.content_type().map(str::to_owned);
        let mut data = Vec::new();
        part.read_to_end(&mut data)?;
        parts.push(FormPart { name, filename, content_type, data });
    }
    Ok((Content::Multipart(parts), Vec::new()))
}

/// The predefined parser for `application/json` (feature `json`): the body parsed with
/// `serde_json` into [`Content::Json`]; the raw bytes are kept as the request's body.
///
/// # Errors
/// `InvalidData` (400) for a document that is not JSON; `BodyTooLarge` (413) past the body
/// limit.
#[cfg(feature = "json")]
pub fn json_parser(
    size: Option<u64>,
    _headers: &Headers,
    body: &mut dyn Read,
) -> io::Result<(Content, Vec<u8>)> {
    let mut raw = Vec::with_capacity(size.unwrap_or(0).min(64 * 1024) as usize);
    body.read_to_end(&mut raw)?;
    let value: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("invalid JSON: {e}")))?;
    Ok((Content::Json(value), raw))
}
