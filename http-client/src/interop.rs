//! Responses to and from the `http` crate's types (feature `http`, on by default). Requests
//! are http-utils' [`Request`](crate::Request), whose conversions live in
//! `http_utils::interop`: an `http::Request` is sent with
//! `client.send(Request::try_from(req)?)`.
//!
//! ```no_run
//! use http_client::{Client, Request};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let theirs = http::Request::get("http://localhost:4242/").header("accept", "text/html").body(())?;
//! let resp = Client::new().send(Request::try_from(theirs.map(|()| http_client::Body::Empty))?)?;
//! let head: http::Response<()> = (&resp).try_into()?; // status, version, headers
//! let whole: http::Response<http_client::ResponseBody> = resp.try_into()?; // the body streams
//! # let _ = (head, whole);
//! # Ok(()) }
//! ```

use http_utils::interop::{status_code, ConvertError};
use http_utils::{Body, Headers, ResponseHead, Version};

use crate::error::Result;
use crate::response::{Response, ResponseBody};

impl TryFrom<&Response> for http::Response<()> {
    type Error = ConvertError;

    /// The head: status, version and header fields (as [`Response::headers`] has them; the
    /// reason phrase has no place in `http`).
    ///
    /// ```
    /// use http_client::{Response, ResponseHead};
    /// let mut head = ResponseHead::new(404);
    /// head.headers.append("Content-Type", "text/plain").unwrap();
    /// let resp = Response::from_parts(head, "http://h/x", "none").unwrap();
    /// let theirs = http::Response::try_from(&resp).unwrap();
    /// assert_eq!(theirs.status(), http::StatusCode::NOT_FOUND);
    /// assert_eq!(theirs.headers()["content-type"], "text/plain");
    /// ```
    ///
    /// # Errors
    /// A status outside 100 to 999.
    fn try_from(resp: &Response) -> std::result::Result<http::Response<()>, ConvertError> {
        let mut out = http::Response::new(());
        *out.status_mut() = status_code(resp.status())?;
        *out.version_mut() = resp.version().into();
        *out.headers_mut() = resp.headers().into();
        Ok(out)
    }
}

impl TryFrom<Response> for http::Response<ResponseBody> {
    type Error = ConvertError;

    /// The head, and the body as its stream ([`ResponseBody`] implements `Read`; the
    /// connection goes back to the pool when it has been read to its end).
    ///
    /// # Errors
    /// A status outside 100 to 999.
    fn try_from(resp: Response) -> std::result::Result<http::Response<ResponseBody>, ConvertError> {
        let head = http::Response::try_from(&resp)?;
        Ok(head.map(|()| resp.into_body()))
    }
}

impl Response {
    /// A response made from an `http::Response` (one from a cache or a stub built on `http`),
    /// as [`Response::from_parts`] makes one: `url` is what [`url`](Response::url) reports.
    ///
    /// ```
    /// let theirs = http::Response::builder().status(200).header("etag", "\"1\"").body("cached").unwrap();
    /// let resp = http_client::Response::from_http(theirs, "http://h/a").unwrap();
    /// assert_eq!((resp.status(), resp.header("etag")), (200, Some("\"1\"")));
    /// assert_eq!(resp.text().unwrap(), "cached");
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidUrl`](crate::Error::InvalidUrl) as `from_parts`;
    /// [`Error::Convert`](crate::Error::Convert) for an HTTP version other than 1.0 and 1.1
    /// or a header value that is not UTF-8.
    pub fn from_http<B: Into<Body>>(resp: http::Response<B>, url: &str) -> Result<Response> {
        let (parts, body) = resp.into_parts();
        let convert = crate::Error::Convert;
        let mut head = ResponseHead::new(parts.status.as_u16());
        head.version = Version::try_from(parts.version).map_err(convert)?;
        head.headers = Headers::try_from(&parts.headers).map_err(convert)?;
        Response::from_parts(head, url, body)
    }
}
