//! Responses to and from the `http` crate's `Response` (feature `http`, on by default).
//! Requests are http-utils' [`Request`](http_utils::Request), whose conversions live in
//! `http_utils::interop`.
//!
//! ```
//! use http_server::{Response, ResponseBody};
//! // A response made with `http` (by a crate built on it) becomes one of ours...
//! let theirs = http::Response::builder()
//!     .status(201)
//!     .header("content-type", "application/json")
//!     .header("location", "/notes/1")
//!     .body("{}")
//!     .unwrap();
//! let ours = Response::try_from(theirs).unwrap();
//! assert_eq!((ours.status(), ours.content_type()), (201, Some("application/json")));
//! assert_eq!(ours.headers().get("location"), Some("/notes/1"));
//!
//! // ...and back, for middleware that looks at `http` responses.
//! let back = http::Response::<ResponseBody>::try_from(Response::text("hi").with_header("X-Id", "7")).unwrap();
//! assert_eq!(back.status(), http::StatusCode::OK);
//! assert_eq!(back.headers()["content-type"], "text/plain; charset=utf-8");
//! assert_eq!(back.headers()["x-id"], "7");
//! ```

use http_utils::interop::{status_code, ConvertError};
use http_utils::Headers;

use crate::handler::response::{Response, ResponseBody};

impl<B: Into<ResponseBody>> TryFrom<http::Response<B>> for Response {
    type Error = ConvertError;

    /// The status (with its standard reason phrase), the header fields (`Content-Type`
    /// included) and the body. The version is the server's business and is not kept.
    ///
    /// # Errors
    /// A header value that is not UTF-8.
    fn try_from(resp: http::Response<B>) -> Result<Response, ConvertError> {
        let (parts, body) = resp.into_parts();
        let headers = Headers::try_from(&parts.headers)?;
        let mut out = Response::new(parts.status.as_u16()).with_body(body);
        for (name, value) in headers.iter() {
            out = out
                .try_with_header(name, value)
                .map_err(|e| ConvertError::new("header", format!("{name}: {e}")))?;
        }
        Ok(out)
    }
}

impl TryFrom<Response> for http::Response<ResponseBody> {
    type Error = ConvertError;

    /// The status, the header fields with `Content-Type` (and `Connection: close` when the
    /// response closes its connection) and the body. The reason phrase and trailers have no
    /// place in `http` and are dropped.
    ///
    /// # Errors
    /// A response that is not an answer of its own: one already written through the context,
    /// one that passes the request on ([`Response::next`], [`Response::restart`]), or one that
    /// takes the connection over ([`Response::upgrade`]); a status outside 100 to 999.
    fn try_from(mut resp: Response) -> Result<http::Response<ResponseBody>, ConvertError> {
        if resp.written || resp.pass().is_some() || resp.takeover().is_some() {
            let why = "it is written already, passes the request on or takes the connection over";
            return Err(ConvertError::new("response", why));
        }
        let mut headers = http::HeaderMap::from(&resp.headers);
        let mut extra = Headers::new();
        if let Some(ct) = resp.content_type.as_deref() {
            extra
                .append("content-type", ct)
                .map_err(|e| ConvertError::new("header", format!("content-type: {e}")))?;
        }
        if resp.close {
            extra.append("connection", "close").map_err(|e| ConvertError::new("header", e.to_string()))?;
        }
        headers.extend(http::HeaderMap::from(&extra));
        let mut out = http::Response::new(resp.take_body());
        *out.status_mut() = status_code(resp.status)?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_that_is_no_answer_is_refused() {
        let err = http::Response::<ResponseBody>::try_from(Response::next()).unwrap_err();
        assert_eq!(err.what(), "response");
        let closing = http::Response::<ResponseBody>::try_from(Response::text("x").with_close()).unwrap();
        assert_eq!(closing.headers()["connection"], "close");
    }

    #[test]
    fn bodies_and_statuses_come_across() {
        let theirs = http::Response::builder().status(404).body(b"gone".to_vec()).unwrap();
        let ours = Response::try_from(theirs).unwrap();
        assert_eq!((ours.status(), ours.reason()), (404, "Not Found"));
        assert!(matches!(ours.body(), ResponseBody::Bytes(b) if b == b"gone"));
    }
}
