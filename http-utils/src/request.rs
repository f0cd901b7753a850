//! The request record (the egg's `http:make-request` and its accessors and setters) and bodies.

use std::fmt;
use std::io::Read;
use std::net::IpAddr;

use crate::headers::Headers;
use crate::method::Method;
use crate::version::Version;

/// A message body as a program supplies it: nothing, bytes in memory, or a stream.
///
/// ```
/// use http_utils::Body;
/// assert_eq!(Body::from("hi").len(), Some(2));
/// let streamed = Body::stream(std::io::Cursor::new(vec![1, 2, 3]), None);
/// assert_eq!(streamed.len(), None);
/// ```
#[derive(Default)]
pub enum Body {
    /// No body (the egg's `#f`).
    #[default]
    Empty,
    /// A body held in memory.
    Bytes(Vec<u8>),
    /// A body read from a stream; sent with `Content-Length` when `length` is known, chunked
    /// otherwise.
    Stream {
        /// Where the bytes come from.
        reader: Box<dyn Read + Send>,
        /// The exact length, when known.
        length: Option<u64>,
    },
}

impl Body {
    /// A streamed body.
    pub fn stream(reader: impl Read + Send + 'static, length: Option<u64>) -> Body {
        Body::Stream { reader: Box::new(reader), length }
    }

    /// The length when known: 0 for `Empty`, the byte count for `Bytes`.
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Stream { length, .. } => *length,
        }
    }

    /// True for `Empty` and for zero-length bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The bytes of an in-memory body (`None` for a stream).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Empty => Some(&[]),
            Body::Bytes(b) => Some(b),
            Body::Stream { .. } => None,
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Stream { length, .. } => write!(f, "Stream(length: {length:?})"),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::Bytes(v)
    }
}

impl From<&[u8]> for Body {
    fn from(v: &[u8]) -> Body {
        Body::Bytes(v.to_vec())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::Bytes(s.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Body {
        Body::Bytes(s.as_bytes().to_vec())
    }
}

/// An HTTP request: the egg's request record.
///
/// | egg | here |
/// | --- | --- |
/// | `(http:make-request METHOD URL [ATTRIBUTES [BODY [PROTOCOL [IP]]]])` | [`Request::new`] and the `with_*` builders |
/// | `http:request?` | the type itself: a value is a request when it is a `Request` |
/// | `http:request-url`, `-protocol`, `-attributes`, `-body`, `-method`, `-ip`, `-sslctx` | [`url`](Request::url), [`version`](Request::version), [`headers`](Request::headers), [`body`](Request::body), [`method`](Request::method), [`ip`](Request::ip), `tls_config` (feature `rustls`) |
/// | the `-set!` procedures | `set_url`, `set_version`, `set_headers`, `set_body`, `set_method`, `set_ip`, `set_tls_config` |
///
/// ```
/// use http_utils::{Method, Request, Version};
/// let req = Request::new(Method::Post, "http://localhost:4242/form")
///     .with_header("Content-Type", "application/x-www-form-urlencoded")
///     .unwrap()
///     .with_body("a=1&b=2")
///     .with_version(Version::Http10);
/// assert_eq!(req.method(), &Method::Post);
/// assert_eq!(req.headers().get("content-type"), Some("application/x-www-form-urlencoded"));
/// assert_eq!(req.body().as_bytes(), Some(&b"a=1&b=2"[..]));
/// ```
pub struct Request {
    method: Method,
    url: String,
    version: Version,
    headers: Headers,
    body: Body,
    ip: Option<IpAddr>,
    #[cfg(feature = "rustls")]
    tls_config: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// Shows the URL without its credentials ([`redact_url`](crate::redact_url)) and the header
/// fields as [`Headers`] shows them (credentials hidden).
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Request");
        d.field("method", &self.method)
            .field("url", &crate::url::redact_url(&self.url))
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("ip", &self.ip);
        #[cfg(feature = "rustls")]
        d.field("tls_config", &self.tls_config.is_some());
        d.finish()
    }
}

impl Request {
    /// A request for `url` (an absolute URL on the client side, the request target on the
    /// server side) with HTTP/1.1, no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request::from_parts(method, url.into(), Version::Http11, Headers::new())
    }

    /// Its URL and header buffers, to parse another request into, unless they grew large.
    pub(crate) fn into_buffers(self) -> Option<(String, Headers)> {
        const KEEP_AT_MOST: usize = 16 * 1024;
        (self.url.capacity() <= KEEP_AT_MOST && self.headers.capacity_bytes() <= KEEP_AT_MOST)
            .then_some((self.url, self.headers))
    }

    /// A request from its head's parts, with no body.
    pub fn from_parts(method: Method, url: String, version: Version, headers: Headers) -> Request {
        Request {
            method,
            url,
            version,
            headers,
            body: Body::Empty,
            ip: None,
            #[cfg(feature = "rustls")]
            tls_config: None,
        }
    }

    /// Adds a header field.
    ///
    /// # Errors
    /// As [`Headers::append`].
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Request, crate::Error> {
        self.headers.append(name, value)?;
        Ok(self)
    }

    /// Replaces the headers.
    pub fn with_headers(mut self, headers: Headers) -> Request {
        self.headers = headers;
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Body>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets the protocol version.
    pub fn with_version(mut self, version: Version) -> Request {
        self.version = version;
        self
    }

    /// Sets the peer address.
    pub fn with_ip(mut self, ip: IpAddr) -> Request {
        self.ip = Some(ip);
        self
    }

    /// The method (`http:request-method`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL or request target, as given or as read from the request line (`http:request-url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The protocol version (`http:request-protocol`).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields (`http:request-attributes`).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The header fields, to change them.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body (`http:request-body`).
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The body, to change or stream it.
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// Takes the body out, leaving `Body::Empty`.
    pub fn take_body(&mut self) -> Body {
        std::mem::take(&mut self.body)
    }

    /// The peer's IP address, when known (`http:request-ip`).
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// `http:request-method-set!`
    pub fn set_method(&mut self, method: Method) {
        self.method = method;
    }

    /// `http:request-url-set!`
    pub fn set_url(&mut self, url: impl Into<String>) {
        self.url = url.into();
    }

    /// `http:request-protocol-set!`
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// `http:request-attributes-set!`
    pub fn set_headers(&mut self, headers: Headers) {
        self.headers = headers;
    }

    /// `http:request-body-set!`
    pub fn set_body(&mut self, body: impl Into<Body>) {
        self.body = body.into();
    }

    /// `http:request-ip-set!`
    pub fn set_ip(&mut self, ip: Option<IpAddr>) {
        self.ip = ip;
    }

    /// The TLS configuration the client uses for this request (`http:request-sslctx`);
    /// `None` means the client's own.
    #[cfg(feature = "rustls")]
    pub fn tls_config(&self) -> Option<&std::sync::Arc<rustls::ClientConfig>> {
        self.tls_config.as_ref()
    }

    /// `http:request-sslctx-set!`
    #[cfg(feature = "rustls")]
    pub fn set_tls_config(&mut self, config: Option<std::sync::Arc<rustls::ClientConfig>>) {
        self.tls_config = config;
    }

    /// Sets the TLS configuration (builder form of [`Request::set_tls_config`]).
    #[cfg(feature = "rustls")]
    pub fn with_tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Request {
        self.tls_config = Some(config);
        self
    }

    /// The path part of the target: everything before `?` (and before `#`), for origin-form
    /// targets; for an absolute-form target the path after the authority.
    pub fn path(&self) -> &str {
        let rest = strip_scheme_authority(&self.url);
        let end = rest.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(rest.len());
        let p = &rest[..end];
        if p.is_empty() {
            "/"
        } else {
            p
        }
    }

    /// The query string after `?` (without the `#` fragment), if any.
    pub fn query(&self) -> Option<&str> {
        let rest = strip_scheme_authority(&self.url);
        let q = &rest[rest.bytes().position(|b| b == b'?')? + 1..];
        Some(&q[..q.bytes().position(|b| b == b'#').unwrap_or(q.len())])
    }

    /// Whether the connection may stay open after this request: the version's default, changed
    /// by `Connection: close` or `Connection: keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

/// The keep-alive rule shared by requests and responses (RFC 9112 §9.3).
pub fn keep_alive(version: Version, headers: &Headers) -> bool {
    if headers.connection_has("close") {
        return false;
    }
    version.keeps_alive_by_default() || headers.connection_has("keep-alive")
}

/// `http://host:port/path?q` -> `/path?q`; origin-form targets are returned unchanged.
fn strip_scheme_authority(url: &str) -> &str {
    if url.starts_with('/') {
        return url;
    }
    match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            &after[after.find(['/', '?', '#']).unwrap_or(after.len())..]
        }
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query() {
        let r = Request::new(Method::Get, "/a/b?x=1#frag");
        assert_eq!(r.path(), "/a/b");
        assert_eq!(r.query(), Some("x=1"));
        let r = Request::new(Method::Get, "http://h:1/p?q");
        assert_eq!(r.path(), "/p");
        assert_eq!(r.query(), Some("q"));
        let r = Request::new(Method::Get, "http://h");
        assert_eq!(r.path(), "/");
        assert_eq!(r.query(), None);
    }

    #[test]
    fn setters() {
        let mut r = Request::new(Method::Get, "/");
        r.set_method(Method::Put);
        r.set_url("/x");
        r.set_version(Version::Http10);
        r.set_body("b");
        r.set_ip(Some("127.0.0.1".parse().unwrap()));
        let mut h = Headers::new();
        h.append("A", "1").unwrap();
        r.set_headers(h);
        assert_eq!(r.method(), &Method::Put);
        assert_eq!(r.url(), "/x");
        assert_eq!(r.version(), Version::Http10);
        assert_eq!(r.body().as_bytes(), Some(&b"b"[..]));
        assert_eq!(r.ip().unwrap().to_string(), "127.0.0.1");
        assert_eq!(r.headers().get("a"), Some("1"));
        assert!(!r.wants_keep_alive());
        r.headers_mut().append("Connection", "keep-alive").unwrap();
        assert!(r.wants_keep_alive());
    }
}
