//! The request record (the egg's `http:make-request` and its accessors and setters) and bodies.

use std::fmt;
use std::io::Read;
use std::net::IpAddr;

use crate::headers::Headers;
use crate::limits::Limits;
use crate::method::Method;
use crate::section::{Facts, RawSection};
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
    /// Where the path and the query sit in `url`, found when it is set.
    parts: UrlParts,
    version: Version,
    headers: Headers,
    /// The bytes `headers` was parsed from, while it is unchanged.
    section: RawSection,
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

    /// Drops the URL and header buffers if they grew large, so that a record parsed into
    /// again and again does not keep the memory of its largest request.
    pub(crate) fn let_go_of_large_buffers(&mut self) {
        const KEEP_AT_MOST: usize = 16 * 1024;
        if self.url.capacity() > KEEP_AT_MOST {
            self.url = String::new();
        }
        if self.headers.capacity_bytes() > KEEP_AT_MOST {
            self.headers = Headers::new();
            self.section.forget();
        }
    }

    /// Lets go of the copy of the header section this record was parsed from, and of its
    /// memory. A record parsed into again and again keeps that copy so that a request
    /// repeating the section byte for byte takes the headers as they are; a record held for
    /// long instead (a request waiting for its answer, or for its body to go out) needs none.
    /// The headers stay; the next parse into the record parses them afresh.
    ///
    /// ```
    /// use http_utils::{parse_request_head_into, Limits, Method, Parsed, Request};
    ///
    /// let head = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    /// let mut r = Request::new(Method::Get, "/");
    /// assert!(matches!(parse_request_head_into(head, &Limits::default(), &mut r), Ok(Parsed::Complete { .. })));
    /// r.release_section();
    /// assert_eq!(r.headers().get("host"), Some("example.com"));
    /// ```
    pub fn release_section(&mut self) {
        self.section = RawSection::default();
    }

    /// Takes the headers out (leaving none), to parse new ones into their buffers.
    pub(crate) fn take_headers(&mut self) -> Headers {
        self.section.forget();
        std::mem::take(&mut self.headers)
    }

    /// Where a header section at `at` in `buf` ends if it repeats, byte for byte, the one
    /// this record's headers were parsed from (and `limits` pass it): the headers are then
    /// those of the new request as they are.
    #[inline]
    pub(crate) fn repeated_section(&self, buf: &[u8], at: usize, limits: &Limits) -> Option<usize> {
        self.section.repeated_in(buf, at, limits)
    }

    /// What a server asks of the headers, when worked out since they were parsed (and for
    /// the request's version).
    #[inline]
    pub(crate) fn facts(&self) -> Option<&Facts> {
        self.section.facts(self.version)
    }

    /// Notes what a server asks of the headers just parsed, worked out by `work_out`, unless
    /// known already or not to be kept (no section kept: the headers may change unseen).
    pub(crate) fn note_facts(&mut self, work_out: impl FnOnce(&Request) -> Facts) {
        if self.section.wants_facts(self.version) {
            let facts = work_out(self);
            self.section.note_facts(facts);
        }
    }

    /// Makes this record a freshly parsed request, reusing its URL buffer, with `headers`
    /// parsed from `section` within `limits`. False (and the record unchanged but for its
    /// headers) when the target is not UTF-8.
    pub(crate) fn refill(
        &mut self,
        (method, target, version): (Method, &[u8], Version),
        headers: Headers,
        section: &[u8],
        limits: &Limits,
    ) -> bool {
        self.headers = headers;
        self.section.keep(section, limits);
        self.refill_line(method, target, version)
    }

    /// Makes this record a freshly parsed request whose headers are the ones it holds (see
    /// [`repeated_section`](Request::repeated_section)); the URL is copied only when it
    /// changed. False (and the record unchanged) when the target is not UTF-8.
    #[inline]
    pub(crate) fn refill_line(&mut self, method: Method, target: &[u8], version: Version) -> bool {
        if self.url.as_bytes() != target {
            let Ok(target) = std::str::from_utf8(target) else { return false };
            self.url.clear();
            self.url.push_str(target);
            self.parts = UrlParts::of(target);
        }
        self.method = method;
        self.version = version;
        if !matches!(self.body, Body::Empty) {
            self.body = Body::Empty;
        }
        self.ip = None;
        #[cfg(feature = "rustls")]
        {
            self.tls_config = None;
        }
        true
    }

    /// A request from its head's parts, with no body.
    pub fn from_parts(method: Method, url: String, version: Version, headers: Headers) -> Request {
        Request {
            method,
            parts: UrlParts::of(&url),
            url,
            version,
            headers,
            section: RawSection::default(),
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
        self.section.forget();
        self.headers.append(name, value)?;
        Ok(self)
    }

    /// Replaces the headers.
    pub fn with_headers(mut self, headers: Headers) -> Request {
        self.section.forget();
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
        self.section.forget();
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
        self.parts = UrlParts::of(&self.url);
    }

    /// `http:request-protocol-set!`
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// `http:request-attributes-set!`
    pub fn set_headers(&mut self, headers: Headers) {
        self.section.forget();
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
        let (start, end) = self.parts.path;
        match self.url.get(start..end) {
            Some(p) if !p.is_empty() => p,
            _ => "/",
        }
    }

    /// The query string after `?` (without the `#` fragment), if any.
    pub fn query(&self) -> Option<&str> {
        let (start, end) = self.parts.query?;
        self.url.get(start..end)
    }

    /// Whether the connection may stay open after this request: the version's default, changed
    /// by `Connection: close` or `Connection: keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        if let Some(f) = self.facts() {
            return f.keep_alive;
        }
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

/// Where a URL's path and query are: byte ranges into it.
#[derive(Debug, Clone, Copy, Default)]
struct UrlParts {
    path: (usize, usize),
    query: Option<(usize, usize)>,
}

impl UrlParts {
    /// The parts of an origin-form target (`/path?q`) or of an absolute URL
    /// (`http://host:port/path?q`, the scheme and authority skipped); a `#` fragment ends both.
    fn of(url: &str) -> UrlParts {
        let b = url.as_bytes();
        let start = if b.first() == Some(&b'/') {
            0
        } else {
            match url.find("://") {
                Some(i) => i + 3 + url[i + 3..].find(['/', '?', '#']).unwrap_or(url.len() - i - 3),
                None => 0,
            }
        };
        let rest = &b[start..];
        let path_end = start + rest.iter().position(|&c| c == b'?' || c == b'#').unwrap_or(rest.len());
        let query = match b.get(path_end) {
            Some(b'?') => {
                let q = path_end + 1;
                Some((q, q + b[q..].iter().position(|&c| c == b'#').unwrap_or(b.len() - q)))
            }
            _ => None,
        };
        UrlParts { path: (start, path_end), query }
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

    /// The path and query worked out from the URL each time, as the parts stored must give.
    fn reference(url: &str) -> (&str, Option<&str>) {
        let rest = if url.starts_with('/') {
            url
        } else {
            match url.find("://") {
                Some(i) => {
                    let after = &url[i + 3..];
                    &after[after.find(['/', '?', '#']).unwrap_or(after.len())..]
                }
                None => url,
            }
        };
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        let path = if end == 0 { "/" } else { &rest[..end] };
        // A `?` after the `#` is part of the fragment, not a query.
        let query = rest[end..].strip_prefix('?').map(|q| &q[..q.find('#').unwrap_or(q.len())]);
        (path, query)
    }

    #[test]
    fn stored_parts_follow_every_url_change() {
        let urls = [
            "/",
            "",
            "*",
            "/a?",
            "/a?#",
            "/a#?b",
            "?q",
            "#f",
            "/p?q=1&r#x?y",
            "http://h:1",
            "http://h?q",
            "http://h#f",
            "https://u:p@h:8/x/y?z",
            "h://",
            "://",
            "a://b://c/d",
            "x",
            "/é?ü=1",
            "mailto:x@y",
            "http://h/p%3F?q%23#f",
        ];
        let mut r = Request::new(Method::Get, "/first?x");
        for url in urls {
            let fresh = Request::new(Method::Get, url);
            assert_eq!((fresh.path(), fresh.query()), reference(url), "{url:?}");
            r.set_url(url);
            assert_eq!((r.path(), r.query()), reference(url), "set_url {url:?}");
        }
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
