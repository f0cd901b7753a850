//! The one place that decides how a message body is delimited (RFC 9112 §6).
//!
//! Both sides ask here: the server with [`request_framing`] before it reads a request body,
//! the client with [`response_framing`] before it reads a response body, and the server's
//! writer with [`response_has_body`] before it sends one. Every ambiguity is an error, never a
//! guess:
//!
//! | headers | request | response |
//! | --- | --- | --- |
//! | none | [`Framing::None`] | [`Framing::UntilClose`] |
//! | `Content-Length: n` | [`Framing::Length`] | [`Framing::Length`] |
//! | `Transfer-Encoding: chunked` | [`Framing::Chunked`] | [`Framing::Chunked`] |
//! | `Transfer-Encoding` not ending in `chunked` | `ChunkedNotFinal` (400) | [`Framing::UntilClose`] |
//! | another coding before `chunked` | `UnsupportedTransferCoding` (501) | `UnsupportedTransferCoding` |
//! | `chunked` with parameters (`chunked;q=1`) anywhere in the list | `InvalidTransferCoding` (400) | `InvalidTransferCoding` |
//! | both `Content-Length` and `Transfer-Encoding` | `ContentLengthWithTransferEncoding` (400) | same |
//! | differing or malformed `Content-Length` | `ConflictingContentLength` / `InvalidContentLength` (400) | same |
//! | `Transfer-Encoding` on an HTTP/1.0 request | `TransferEncodingInHttp10` (400) | as HTTP/1.1 |
//!
//! Responses to HEAD, 1xx, 204 and 304 responses, and 2xx responses to CONNECT have no body
//! whatever their headers say.

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;
use crate::method::Method;
use crate::request::Request;
use crate::response::ResponseHead;
use crate::version::Version;

pub(crate) mod kind;
pub use kind::Framing;

fn err<T>(kind: ErrorKind) -> Result<T, Error> {
    Err(Error::protocol(kind, 0))
}

/// The transfer codings, in order, lower-cased and without parameters.
///
/// `chunked` with parameters is refused (`InvalidTransferCoding`): the chunked coding defines
/// none (RFC 9112 §7), so `chunked;q=1` is not a coding a body can be read with, and reading it
/// as `chunked` would disagree with the proxies in front of a server (nginx answers 501,
/// HAProxy 400, squid refuses it), the kind of disagreement requests are smuggled through.
/// For a request it is answered like a final coding other than `chunked`: 400 and a close
/// (RFC 9112 §6.1), as HAProxy does; nginx's 501 comes from refusing every
/// `Transfer-Encoding` other than exactly `chunked`. A response with it is an error for the
/// client, not a body read until the close, which would hand chunk framing over as content.
fn transfer_codings(headers: &Headers) -> Result<Vec<String>, ErrorKind> {
    let chunked_with_parameters =
        headers.get_all("transfer-encoding").flat_map(|v| v.split(',')).any(|member| {
            member
                .split_once(';')
                .is_some_and(|(name, _)| name.trim_matches([' ', '\t']).eq_ignore_ascii_case("chunked"))
        });
    if chunked_with_parameters {
        return Err(ErrorKind::InvalidTransferCoding);
    }
    Ok(headers.transfer_codings())
}

/// `Content-Length` as framing: `Length(n)`, or `None` when absent.
fn length_framing(headers: &Headers) -> Result<Option<Framing>, ErrorKind> {
    Ok(headers.content_length()?.map(Framing::Length))
}

/// Decides how the body of a received request is delimited (RFC 9112 §6.1–6.3).
///
/// Requests are never close-delimited: without `Content-Length` or `Transfer-Encoding` a
/// request has no body.
///
/// ```
/// use http_utils::{request_framing, Framing, Method, Request};
/// let req = Request::new(Method::Post, "/").with_header("Content-Length", "5").unwrap();
/// assert_eq!(request_framing(&req).unwrap(), Framing::Length(5));
/// let req = Request::new(Method::Post, "/").with_header("Transfer-Encoding", "chunked").unwrap();
/// assert_eq!(request_framing(&req).unwrap(), Framing::Chunked);
/// assert_eq!(request_framing(&Request::new(Method::Get, "/")).unwrap(), Framing::None);
/// ```
///
/// # Errors
/// All answered with 400 unless said otherwise, and the connection should be closed after the
/// answer because the end of the body is unknown:
/// - `ContentLengthWithTransferEncoding`: both fields are present (a request smuggling guard);
/// - `TransferEncodingInHttp10`: an HTTP/1.0 request with `Transfer-Encoding`;
/// - `ChunkedNotFinal`: `chunked` is missing, repeated, or not the last coding;
/// - `InvalidTransferCoding`: `chunked` with parameters (`chunked;q=1`), which it has none of;
/// - `UnsupportedTransferCoding` (501): a coding other than `chunked` is applied under it;
/// - `InvalidContentLength`, `ConflictingContentLength`: see [`Headers::content_length`].
pub fn request_framing(req: &Request) -> Result<Framing, Error> {
    let framing = match req.facts() {
        Some(facts) => facts.framing,
        None => framing_of(req),
    };
    framing.map_err(|kind| Error::protocol(kind, 0))
}

/// [`request_framing`] worked out from the request's version and headers.
pub(crate) fn framing_of(req: &Request) -> Result<Framing, ErrorKind> {
    let headers = req.headers();
    if headers.contains("transfer-encoding") {
        if headers.contains("content-length") {
            return Err(ErrorKind::ContentLengthWithTransferEncoding);
        }
        if req.version() == Version::Http10 {
            return Err(ErrorKind::TransferEncodingInHttp10);
        }
        let codings = transfer_codings(headers)?;
        let Some((last, before)) = codings.split_last() else {
            return Err(ErrorKind::ChunkedNotFinal);
        };
        if last != "chunked" || before.iter().any(|c| c == "chunked") {
            return Err(ErrorKind::ChunkedNotFinal);
        }
        if !before.is_empty() {
            return Err(ErrorKind::UnsupportedTransferCoding);
        }
        return Ok(Framing::Chunked);
    }
    Ok(length_framing(headers)?.unwrap_or(Framing::None))
}

/// True when a response with `status` to a request with `request_method` carries a body
/// (RFC 9112 §6.3): false for responses to HEAD, for 1xx, 204 and 304, and for 2xx responses
/// to CONNECT.
///
/// A server still sends the `Content-Length` a GET would have had in a response to HEAD; it
/// only leaves the body out.
///
/// ```
/// use http_utils::{response_has_body, Method};
/// assert!(response_has_body(&Method::Get, 200));
/// assert!(!response_has_body(&Method::Head, 200));
/// assert!(!response_has_body(&Method::Get, 304));
/// assert!(response_has_body(&Method::Connect, 407));
/// ```
pub fn response_has_body(request_method: &Method, status: u16) -> bool {
    !(*request_method == Method::Head
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (*request_method == Method::Connect && (200..300).contains(&status)))
}

/// Decides how the body of a received response is delimited (RFC 9112 §6.3), given the method
/// of the request it answers.
///
/// ```
/// use http_utils::{response_framing, Framing, Method, ResponseHead};
/// let mut head = ResponseHead::new(200);
/// assert_eq!(response_framing(&Method::Get, &head).unwrap(), Framing::UntilClose);
/// head.headers.append("Content-Length", "12").unwrap();
/// assert_eq!(response_framing(&Method::Get, &head).unwrap(), Framing::Length(12));
/// assert_eq!(response_framing(&Method::Head, &head).unwrap(), Framing::None);
/// ```
///
/// # Errors
/// - `ContentLengthWithTransferEncoding`: both fields are present;
/// - `UnsupportedTransferCoding`: codings other than `chunked` are layered under `chunked`
///   (this crate does not decode transfer codings such as gzip);
/// - `InvalidTransferCoding`: `chunked` with parameters (`chunked;q=1`), which it has none of;
/// - `InvalidContentLength`, `ConflictingContentLength`: see [`Headers::content_length`].
///
/// A `Transfer-Encoding` whose last coding is not `chunked` means the body runs until the
/// connection closes.
pub fn response_framing(request_method: &Method, head: &ResponseHead) -> Result<Framing, Error> {
    if !response_has_body(request_method, head.status) {
        return Ok(Framing::None);
    }
    let headers = &head.headers;
    if headers.contains("transfer-encoding") {
        if headers.contains("content-length") {
            return err(ErrorKind::ContentLengthWithTransferEncoding);
        }
        let codings = match transfer_codings(headers) {
            Ok(codings) => codings,
            Err(kind) => return err(kind),
        };
        return match codings.split_last() {
            Some((last, before)) if last == "chunked" => {
                if before.is_empty() {
                    Ok(Framing::Chunked)
                } else {
                    err(ErrorKind::UnsupportedTransferCoding)
                }
            }
            _ => Ok(Framing::UntilClose),
        };
    }
    match length_framing(headers) {
        Ok(length) => Ok(length.unwrap_or(Framing::UntilClose)),
        Err(kind) => err(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: Version, fields: &[(&str, &str)]) -> Request {
        let headers = Headers::try_from(fields).unwrap();
        Request::from_parts(Method::Post, "/".into(), version, headers)
    }

    fn head(status: u16, fields: &[(&str, &str)]) -> ResponseHead {
        let mut h = ResponseHead::new(status);
        h.headers = Headers::try_from(fields).unwrap();
        h
    }

    type Expect = Result<Framing, ErrorKind>;

    fn kind_of(r: Result<Framing, Error>) -> Expect {
        r.map_err(|e| e.kind().expect("protocol error"))
    }

    const TE: &str = "Transfer-Encoding";
    const CL: &str = "Content-Length";

    #[test]
    fn request_table() {
        use ErrorKind::*;
        let table: &[(&[(&str, &str)], Expect)] = &[
            (&[], Ok(Framing::None)),
            (&[("Host", "x")], Ok(Framing::None)),
            (&[(CL, "0")], Ok(Framing::Length(0))),
            (&[(CL, "42")], Ok(Framing::Length(42))),
            (&[(CL, "42"), (CL, "42")], Ok(Framing::Length(42))),
            (&[(CL, "42, 42")], Ok(Framing::Length(42))),
            (&[(CL, "18446744073709551615")], Ok(Framing::Length(u64::MAX))),
            (&[(CL, "42"), (CL, "43")], Err(ConflictingContentLength)),
            (&[(CL, "+5")], Err(InvalidContentLength)),
            (&[(CL, "-5")], Err(InvalidContentLength)),
            (&[(CL, "5 5")], Err(InvalidContentLength)),
            (&[(CL, "0x5")], Err(InvalidContentLength)),
            (&[(CL, "")], Err(InvalidContentLength)),
            (&[(CL, "18446744073709551616")], Err(InvalidContentLength)),
            (&[(TE, "chunked")], Ok(Framing::Chunked)),
            (&[(TE, "Chunked")], Ok(Framing::Chunked)),
            (&[(TE, "CHUNKED ")], Ok(Framing::Chunked)),
            (&[(TE, ", chunked")], Ok(Framing::Chunked)),
            (&[(TE, "chunked"), (CL, "5")], Err(ContentLengthWithTransferEncoding)),
            (&[(CL, "5"), (TE, "chunked")], Err(ContentLengthWithTransferEncoding)),
            (&[(CL, "5"), (TE, "gzip")], Err(ContentLengthWithTransferEncoding)),
            (&[(CL, "bogus"), (TE, "chunked")], Err(ContentLengthWithTransferEncoding)),
            (&[(TE, "gzip, chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "gzip"), (TE, "chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "x-custom, chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "gzip")], Err(ChunkedNotFinal)),
            (&[(TE, "chunked, gzip")], Err(ChunkedNotFinal)),
            (&[(TE, "chunked"), (TE, "gzip")], Err(ChunkedNotFinal)),
            (&[(TE, "chunked, chunked")], Err(ChunkedNotFinal)),
            (&[(TE, "")], Err(ChunkedNotFinal)),
            (&[(TE, ",")], Err(ChunkedNotFinal)),
            (&[(TE, "identity")], Err(ChunkedNotFinal)),
            (&[(TE, "xchunked")], Err(ChunkedNotFinal)),
            // Parameters on chunked, which defines none.
            (&[(TE, "chunked;q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked ; q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "Chunked;")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked;foo=bar")], Err(InvalidTransferCoding)),
            (&[(TE, "gzip, chunked;q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked;q=1, chunked")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked"), (TE, "chunked;q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked;q=1"), (CL, "5")], Err(ContentLengthWithTransferEncoding)),
            // Parameters on other codings leave the rules for those codings.
            (&[(TE, "gzip;level=1, chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "chunked, gzip;q=1")], Err(ChunkedNotFinal)),
            (&[(TE, "xchunked;q=1")], Err(ChunkedNotFinal)),
        ];
        for (fields, want) in table {
            let got = kind_of(request_framing(&request(Version::Http11, fields)));
            assert_eq!(&got, want, "{fields:?}");
        }
    }

    #[test]
    fn request_http10() {
        let r = request(Version::Http10, &[(TE, "chunked")]);
        assert_eq!(kind_of(request_framing(&r)), Err(ErrorKind::TransferEncodingInHttp10));
        let r = request(Version::Http10, &[(CL, "3")]);
        assert_eq!(kind_of(request_framing(&r)), Ok(Framing::Length(3)));
        let r = request(Version::Http10, &[]);
        assert_eq!(kind_of(request_framing(&r)), Ok(Framing::None));
    }

    #[test]
    fn request_errors_map_to_statuses() {
        let status = |fields: &[(&str, &str)]| {
            request_framing(&request(Version::Http11, fields)).unwrap_err().status()
        };
        assert_eq!(status(&[(TE, "chunked"), (CL, "1")]), 400);
        assert_eq!(status(&[(TE, "gzip, chunked")]), 501);
        assert_eq!(status(&[(TE, "gzip")]), 400);
        assert_eq!(status(&[(TE, "chunked;q=1")]), 400);
        assert_eq!(status(&[(CL, "1"), (CL, "2")]), 400);
        assert_eq!(status(&[(CL, "x")]), 400);
    }

    #[test]
    fn response_table() {
        use ErrorKind::*;
        let table: &[(&[(&str, &str)], Expect)] = &[
            (&[], Ok(Framing::UntilClose)),
            (&[(CL, "0")], Ok(Framing::Length(0))),
            (&[(CL, "7"), (CL, "7")], Ok(Framing::Length(7))),
            (&[(CL, "7"), (CL, "8")], Err(ConflictingContentLength)),
            (&[(CL, "-7")], Err(InvalidContentLength)),
            (&[(TE, "chunked")], Ok(Framing::Chunked)),
            (&[(TE, "chunked"), (CL, "7")], Err(ContentLengthWithTransferEncoding)),
            (&[(TE, "gzip, chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "chunked, chunked")], Err(UnsupportedTransferCoding)),
            (&[(TE, "gzip")], Ok(Framing::UntilClose)),
            (&[(TE, "chunked, gzip")], Ok(Framing::UntilClose)),
            (&[(TE, "")], Ok(Framing::UntilClose)),
            (&[(TE, "chunked;q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "gzip, chunked;q=1")], Err(InvalidTransferCoding)),
            (&[(TE, "chunked;q=1, gzip")], Err(InvalidTransferCoding)),
            (&[(TE, "gzip;q=1")], Ok(Framing::UntilClose)),
        ];
        for (fields, want) in table {
            let got = kind_of(response_framing(&Method::Get, &head(200, fields)));
            assert_eq!(&got, want, "{fields:?}");
            // The same headers on an HTTP/1.0 response decide the same way.
            let mut h10 = head(200, fields);
            h10.version = Version::Http10;
            assert_eq!(&kind_of(response_framing(&Method::Post, &h10)), want, "{fields:?}");
        }
    }

    #[test]
    fn responses_without_body() {
        let fields: &[&[(&str, &str)]] =
            &[&[], &[(CL, "10")], &[(TE, "chunked")], &[(TE, "chunked"), (CL, "1")], &[(CL, "x")]];
        let cases: &[(Method, u16)] = &[
            (Method::Head, 200),
            (Method::Head, 404),
            (Method::Get, 100),
            (Method::Get, 101),
            (Method::Get, 103),
            (Method::Get, 199),
            (Method::Post, 204),
            (Method::Get, 304),
            (Method::Connect, 200),
            (Method::Connect, 299),
        ];
        for (method, status) in cases {
            assert!(!response_has_body(method, *status), "{method} {status}");
            for f in fields {
                let got = kind_of(response_framing(method, &head(*status, f)));
                assert_eq!(got, Ok(Framing::None), "{method} {status} {f:?}");
            }
        }
        for (method, status) in [(Method::Connect, 407), (Method::Connect, 300), (Method::Get, 205)] {
            assert!(response_has_body(&method, status));
            let got = kind_of(response_framing(&method, &head(status, &[(CL, "3")])));
            assert_eq!(got, Ok(Framing::Length(3)));
        }
    }

    #[test]
    fn framing_helpers() {
        assert!(Framing::UntilClose.is_close_delimited());
        assert!(!Framing::Chunked.is_close_delimited());
        assert_eq!(Framing::None.known_length(), Some(0));
        assert_eq!(Framing::Length(9).known_length(), Some(9));
        assert_eq!(Framing::Chunked.known_length(), None);
        assert_eq!(Framing::UntilClose.known_length(), None);
    }
}
