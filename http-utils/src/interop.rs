//! Conversions to and from the `http` crate's types (feature `http`, on by default), so that
//! crates built on them (`headers`, tower-style middleware, `http-body` consumers) plug in.
//!
//! | here | `http` | this way | that way |
//! | --- | --- | --- | --- |
//! | [`Method`] | `http::Method` | `From` | `From` (both sides hold only tokens) |
//! | [`Version`] | `http::Version` | `From` | `TryFrom` (HTTP/0.9, 2 and 3 have no match) |
//! | status (`u16`) | `http::StatusCode` | `StatusCode::from_u16` | `StatusCode::as_u16` |
//! | [`Headers`] | `http::HeaderMap` | `From<&Headers>` | `TryFrom<&HeaderMap>` (a value must be UTF-8) |
//! | [`Request`] | `http::Request<B>` | `TryFrom<Request>` (to `Request<Body>`) | `TryFrom` for any `B: Into<Body>` |
//! | [`ResponseHead`] | `http::Response<()>` | `TryFrom<&ResponseHead>` | `TryFrom<http::response::Parts>` |
//!
//! Header names are lower case on both sides; the order of fields is kept (the `http` map
//! keeps the values of one name together, in order). The TLS configuration and peer address of
//! a [`Request`] have no place in `http::Request` and are not carried over.
//!
//! ```
//! use http_utils::{Headers, Method, Request, Version};
//! let m: http::Method = Method::Post.into();
//! assert_eq!(m, http::Method::POST);
//! assert_eq!(Method::from(http::Method::from_bytes(b"PURGE").unwrap()), Method::extension("PURGE").unwrap());
//! assert_eq!(Version::try_from(http::Version::HTTP_10).unwrap(), Version::Http10);
//! assert!(Version::try_from(http::Version::HTTP_2).is_err());
//! let status = http::StatusCode::from_u16(404).unwrap();
//! assert_eq!(status.as_u16(), 404);
//!
//! let req = http::Request::post("http://example.com/notes").header("X-Id", "7").body("hi").unwrap();
//! let ours = Request::try_from(req).unwrap();
//! assert_eq!((ours.method(), ours.url()), (&Method::Post, "http://example.com/notes"));
//! assert_eq!(ours.headers().get("x-id"), Some("7"));
//! assert_eq!(ours.body().as_bytes(), Some(&b"hi"[..]));
//! let back: http::Request<http_utils::Body> = ours.try_into().unwrap();
//! assert_eq!(back.headers()["x-id"], "7");
//! ```

use std::fmt;

use crate::headers::Headers;
use crate::method::Method;
use crate::request::{Body, Request};
use crate::response::ResponseHead;
use crate::version::Version;

/// A value that has no counterpart on the other side of a conversion: an HTTP version other
/// than 1.0 and 1.1, a header value that is not UTF-8, a URL that is not a URI, a status
/// outside 100 to 999.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    what: &'static str,
    reason: String,
}

impl ConvertError {
    /// An error about `what` (a short noun such as `"header"`), for the reason given.
    pub fn new(what: &'static str, reason: impl Into<String>) -> ConvertError {
        ConvertError { what, reason: reason.into() }
    }

    /// What could not be converted: `"version"`, `"header"`, `"url"`, `"status"` or
    /// `"response"`.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot convert the {}: {}", self.what, self.reason)
    }
}

impl std::error::Error for ConvertError {}

impl From<Method> for http::Method {
    fn from(m: Method) -> http::Method {
        http::Method::from(&m)
    }
}

impl From<&Method> for http::Method {
    fn from(m: &Method) -> http::Method {
        match m {
            Method::Get => http::Method::GET,
            Method::Head => http::Method::HEAD,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Delete => http::Method::DELETE,
            Method::Connect => http::Method::CONNECT,
            Method::Options => http::Method::OPTIONS,
            Method::Trace => http::Method::TRACE,
            Method::Patch => http::Method::PATCH,
            // An extension method is a non-empty token, which `http` takes as it is.
            Method::Other(ext) => {
                http::Method::from_bytes(ext.as_str().as_bytes()).expect("a token is an http::Method")
            }
        }
    }
}

impl From<http::Method> for Method {
    fn from(m: http::Method) -> Method {
        Method::from(&m)
    }
}

impl From<&http::Method> for Method {
    fn from(m: &http::Method) -> Method {
        // `http` accepts only tokens as methods, as this crate does.
        Method::from_bytes(m.as_str().as_bytes()).expect("an http::Method is a token")
    }
}

impl From<Version> for http::Version {
    fn from(v: Version) -> http::Version {
        match v {
            Version::Http10 => http::Version::HTTP_10,
            Version::Http11 => http::Version::HTTP_11,
        }
    }
}

impl TryFrom<http::Version> for Version {
    type Error = ConvertError;

    fn try_from(v: http::Version) -> Result<Version, ConvertError> {
        match v {
            http::Version::HTTP_10 => Ok(Version::Http10),
            http::Version::HTTP_11 => Ok(Version::Http11),
            other => Err(ConvertError::new("version", format!("{other:?} is not HTTP/1.0 or HTTP/1.1"))),
        }
    }
}

impl From<&Headers> for http::HeaderMap {
    /// Every field, in order. Names are tokens and values visible bytes, spaces and tabs,
    /// which `http` takes as they are.
    fn from(h: &Headers) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(h.len());
        for (name, value) in h.iter() {
            let name = http::HeaderName::from_bytes(name.as_bytes()).expect("a token is a header name");
            let value =
                http::HeaderValue::from_bytes(value.as_bytes()).expect("a checked value is a header value");
            map.append(name, value);
        }
        map
    }
}

impl TryFrom<&http::HeaderMap> for Headers {
    type Error = ConvertError;

    /// Every field, in the map's order.
    ///
    /// # Errors
    /// A value that is not UTF-8 (bytes of obsolete text that are not UTF-8).
    fn try_from(map: &http::HeaderMap) -> Result<Headers, ConvertError> {
        let mut h = Headers::new();
        for (name, value) in map {
            let text =
                value.to_str().ok().or_else(|| std::str::from_utf8(value.as_bytes()).ok()).ok_or_else(
                    || ConvertError::new("header", format!("the value of {name} is not UTF-8")),
                )?;
            h.append(name.as_str(), text).map_err(|e| ConvertError::new("header", format!("{name}: {e}")))?;
        }
        Ok(h)
    }
}

impl<B: Into<Body>> TryFrom<http::Request<B>> for Request {
    type Error = ConvertError;

    /// The method, the URI as the URL, the version, the header fields and the body.
    ///
    /// # Errors
    /// An HTTP version other than 1.0 and 1.1; a header value that is not UTF-8.
    fn try_from(req: http::Request<B>) -> Result<Request, ConvertError> {
        let (parts, body) = req.into_parts();
        let version = Version::try_from(parts.version)?;
        let headers = Headers::try_from(&parts.headers)?;
        Ok(Request::from_parts(Method::from(parts.method), parts.uri.to_string(), version, headers)
            .with_body(body))
    }
}

impl TryFrom<Request> for http::Request<Body> {
    type Error = ConvertError;

    /// The method, the URL as the URI, the version, the header fields and the body.
    ///
    /// # Errors
    /// A URL that is not a URI (`http` takes absolute URLs and origin forms such as `/a?b`).
    fn try_from(mut req: Request) -> Result<http::Request<Body>, ConvertError> {
        let uri: http::Uri = req.url().parse().map_err(|e| ConvertError::new("url", format!("{e}")))?;
        let body = req.take_body();
        let mut out = http::Request::new(body);
        *out.method_mut() = req.method().into();
        *out.uri_mut() = uri;
        *out.version_mut() = req.version().into();
        *out.headers_mut() = req.headers().into();
        Ok(out)
    }
}

impl TryFrom<&ResponseHead> for http::Response<()> {
    type Error = ConvertError;

    /// The status, the version and the header fields (the reason phrase has no place in
    /// `http`).
    ///
    /// ```
    /// let mut head = http_utils::ResponseHead::new(201);
    /// head.headers.append("Location", "/notes/1").unwrap();
    /// let resp = http::Response::try_from(&head).unwrap();
    /// assert_eq!(resp.status(), http::StatusCode::CREATED);
    /// assert_eq!(resp.headers()["location"], "/notes/1");
    /// let back = http_utils::ResponseHead::try_from(resp.into_parts().0).unwrap();
    /// assert_eq!((back.status, back.reason.as_str()), (201, "Created"));
    /// ```
    ///
    /// # Errors
    /// A status outside 100 to 999.
    fn try_from(head: &ResponseHead) -> Result<http::Response<()>, ConvertError> {
        let mut out = http::Response::new(());
        *out.status_mut() = status_code(head.status)?;
        *out.version_mut() = head.version.into();
        *out.headers_mut() = (&head.headers).into();
        Ok(out)
    }
}

impl TryFrom<http::response::Parts> for ResponseHead {
    type Error = ConvertError;

    /// The status (with its standard reason phrase), the version and the header fields.
    ///
    /// # Errors
    /// An HTTP version other than 1.0 and 1.1; a header value that is not UTF-8.
    fn try_from(parts: http::response::Parts) -> Result<ResponseHead, ConvertError> {
        let mut head = ResponseHead::new(parts.status.as_u16());
        head.version = Version::try_from(parts.version)?;
        head.headers = Headers::try_from(&parts.headers)?;
        Ok(head)
    }
}

/// `status` as an `http::StatusCode`.
///
/// # Errors
/// A status outside 100 to 999.
pub fn status_code(status: u16) -> Result<http::StatusCode, ConvertError> {
    http::StatusCode::from_u16(status)
        .map_err(|_| ConvertError::new("status", format!("{status} is not 100 to 999")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_method_both_ways() {
        for m in [
            Method::Get,
            Method::Head,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Connect,
            Method::Options,
            Method::Trace,
            Method::Patch,
            Method::extension("PROPFIND").unwrap(),
        ] {
            let theirs = http::Method::from(&m);
            assert_eq!(theirs.as_str(), m.as_str());
            assert_eq!(Method::from(theirs), m);
        }
    }

    #[test]
    fn headers_keep_order_and_repeats() {
        let mut h = Headers::new();
        h.append("Set-Cookie", "a=1").unwrap();
        h.append("X-Y", "caf\u{e9}").unwrap();
        h.append("set-cookie", "b=2").unwrap();
        let map = http::HeaderMap::from(&h);
        let cookies: Vec<_> = map.get_all("set-cookie").iter().map(|v| v.as_bytes()).collect();
        assert_eq!(cookies, [&b"a=1"[..], b"b=2"]);
        let back = Headers::try_from(&map).unwrap();
        assert_eq!(back.get_all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(back.get("x-y"), Some("caf\u{e9}"));

        let mut bad = http::HeaderMap::new();
        bad.insert("x-bin", http::HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert_eq!(Headers::try_from(&bad).unwrap_err().what(), "header");
    }

    #[test]
    fn what_has_no_counterpart_is_an_error() {
        assert_eq!(status_code(1000).unwrap_err().what(), "status");
        let req = Request::new(Method::Get, "not a uri");
        assert_eq!(http::Request::try_from(req).unwrap_err().what(), "url");
        let h2 = http::Request::get("/").version(http::Version::HTTP_2).body(()).unwrap();
        let err = Request::try_from(h2.map(|()| Body::Empty)).unwrap_err();
        assert_eq!(err.what(), "version");
    }
}
