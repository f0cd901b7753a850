//! gzip for responses (feature `gzip`): which responses, and how.
//!
//! A response is eligible when its status is 200, its body's length is known and at least
//! [`GZIP_MIN`] bytes, its `Content-Type` is compressible
//! ([`is_compressible`]: text, JSON, XML, JavaScript, SVG...),
//! and it has no `Content-Encoding` yet. An eligible response gets `Vary: Accept-Encoding`
//! (its representation depends on that header), and when the request's `Accept-Encoding`
//! allows gzip it is compressed:
//!
//! - in-memory bodies are compressed at once and sent with `Content-Length`;
//! - streamed bodies (files) are compressed as they are read and sent chunked (until close
//!   for HTTP/1.0 peers);
//! - a strong `ETag` becomes weak (`W/"..."`): the bytes differ from the identity
//!   representation, the content is the same (so `If-None-Match` still works);
//! - for `HEAD`, the headers say `Content-Encoding: gzip` as a `GET` would, but no
//!   `Content-Length` is sent (the compressed length is not computed just to be announced).
//!
//! Bodies of unknown length (writers, streams without a length) are never compressed, so
//! they go out as they are written; nor are 206, 304 or other statuses.

use std::io::{self, Read, Seek, Write};

use flate2::read::GzEncoder as GzReader;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_utils::{accepts_gzip, is_compressible, Headers, Method};

use crate::handler::response::{Response, ResponseBody};

/// The smallest body worth compressing.
pub(crate) const GZIP_MIN: u64 = 1024;

/// True when `Vary` already covers `Accept-Encoding`.
fn varies_by_encoding(headers: &Headers) -> bool {
    headers
        .get_all("vary")
        .any(|v| v.split(',').any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("accept-encoding")))
}

/// Compresses `r` in place when it is eligible and the request accepts gzip (see the module
/// docs).
pub(crate) fn maybe_gzip(r: &mut Response, method: &Method, request_headers: &Headers) {
    if r.status != 200 || r.body.len().is_none_or(|n| n < GZIP_MIN) {
        return;
    }
    match r.content_type.as_deref() {
        Some(ct) if is_compressible(ct) => {}
        _ => return,
    }
    if r.headers.get("content-encoding").is_some() {
        return;
    }
    if !varies_by_encoding(&r.headers) {
        let _ = r.headers.append("Vary", "Accept-Encoding");
    }
    if !request_headers.get_all("accept-encoding").any(accepts_gzip) {
        return;
    }
    let compressed = if *method == Method::Head {
        // Nothing is sent: only the framing must not announce the identity length.
        ResponseBody::Stream { reader: Box::new(io::empty()), length: None }
    } else {
        match std::mem::take(&mut r.body) {
            ResponseBody::Static(b) => match gzip_bytes(b) {
                Some(z) => ResponseBody::Bytes(z),
                None => {
                    r.body = ResponseBody::Static(b);
                    return;
                }
            },
            ResponseBody::Bytes(b) => match gzip_bytes(&b) {
                Some(z) => ResponseBody::Bytes(z),
                None => {
                    r.body = ResponseBody::Bytes(b);
                    return;
                }
            },
            ResponseBody::Stream { reader, .. } => {
                ResponseBody::Stream { reader: Box::new(GzReader::new(reader, level())), length: None }
            }
            ResponseBody::File { mut file, offset, length } => match file.seek(io::SeekFrom::Start(offset)) {
                Ok(_) => {
                    let reader: Box<dyn Read + Send> = Box::new(file.take(length));
                    ResponseBody::Stream { reader: Box::new(GzReader::new(reader, level())), length: None }
                }
                Err(_) => {
                    // Sent as it is, uncompressed.
                    r.body = ResponseBody::File { file, offset, length };
                    return;
                }
            },
            other => {
                r.body = other;
                return;
            }
        }
    };
    r.body = compressed;
    let _ = r.headers.append("Content-Encoding", "gzip");
    weaken_etag(&mut r.headers);
}

fn level() -> Compression {
    Compression::new(5)
}

fn gzip_bytes(data: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 3 + 64), level());
    enc.write_all(data).ok()?;
    enc.finish().ok()
}

/// `"x"` becomes `W/"x"`.
fn weaken_etag(headers: &mut Headers) {
    let Some(tag) = headers.get("etag") else { return };
    if tag.starts_with('"') {
        let weak = format!("W/{tag}");
        headers.remove("etag");
        let _ = headers.append("ETag", &weak);
    }
}

/// Reads the whole of a gzip stream (for tests).
#[cfg(test)]
fn gunzip(data: &[u8]) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.append(n, v).unwrap();
        }
        h
    }

    #[test]
    fn compresses_large_text_for_gzip_clients() {
        let text = "hello gzip ".repeat(200);
        let mut r = Response::text(text.clone()).with_header("ETag", "\"abc\"");
        maybe_gzip(&mut r, &Method::Get, &headers(&[("Accept-Encoding", "br, gzip;q=0.5")]));
        assert_eq!(r.headers.get("content-encoding"), Some("gzip"));
        assert_eq!(r.headers.get("vary"), Some("Accept-Encoding"));
        assert_eq!(r.headers.get("etag"), Some("W/\"abc\""));
        let body = r.body.as_bytes().unwrap();
        assert!(body.len() < text.len() / 4);
        assert_eq!(gunzip(body).unwrap(), text.as_bytes());
    }

    #[test]
    fn leaves_small_refused_and_binary_bodies() {
        let mut small = Response::text("tiny");
        maybe_gzip(&mut small, &Method::Get, &headers(&[("Accept-Encoding", "gzip")]));
        assert!(small.headers.get("vary").is_none() && small.headers.get("content-encoding").is_none());

        let mut refused = Response::text("x".repeat(5000));
        maybe_gzip(&mut refused, &Method::Get, &headers(&[("Accept-Encoding", "gzip;q=0, identity")]));
        assert_eq!(refused.headers.get("vary"), Some("Accept-Encoding"));
        assert!(refused.headers.get("content-encoding").is_none());
        assert_eq!(refused.body.len(), Some(5000));

        let mut png = Response::bytes("image/png", vec![0u8; 5000]);
        maybe_gzip(&mut png, &Method::Get, &headers(&[("Accept-Encoding", "gzip")]));
        assert!(png.headers.get("content-encoding").is_none() && png.headers.get("vary").is_none());

        let mut partial = Response::text("x".repeat(5000)).with_status(206);
        maybe_gzip(&mut partial, &Method::Get, &headers(&[("Accept-Encoding", "gzip")]));
        assert!(partial.headers.get("content-encoding").is_none());
    }

    #[test]
    fn streams_become_chunked_and_head_sends_no_length() {
        let data = "line of text\n".repeat(500);
        let mut r = Response::stream(io::Cursor::new(data.clone().into_bytes()), Some(data.len() as u64))
            .with_content_type("text/plain");
        maybe_gzip(&mut r, &Method::Get, &headers(&[("Accept-Encoding", "gzip")]));
        assert_eq!(r.body.len(), None);
        let ResponseBody::Stream { mut reader, .. } = r.take_body() else { panic!("a stream") };
        let mut z = Vec::new();
        reader.read_to_end(&mut z).unwrap();
        assert_eq!(gunzip(&z).unwrap(), data.as_bytes());

        let mut head = Response::text("y".repeat(4000));
        maybe_gzip(&mut head, &Method::Head, &headers(&[("Accept-Encoding", "gzip")]));
        assert_eq!(head.headers.get("content-encoding"), Some("gzip"));
        assert_eq!(head.body.len(), None);
    }
}
