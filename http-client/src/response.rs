//! The response: status line, headers, and the body as a stream that hands its connection back
//! to the pool the moment the body is complete.

use std::fmt;
use std::io::{self, Read};

#[cfg(feature = "gzip")]
use http_utils::Framing;
use http_utils::{Body, Headers, Limits, ResponseHead, Version};

use crate::error::{Error, Result};
use crate::urls::parse_url;
use crate::wire::RawBody;

/// An HTTP response (what the egg's `http:send-request` returned: the status line, the headers
/// and the still-open connection, here as the body stream).
///
/// The body is read through [`Read`], or whole with [`text`](Response::text) and
/// [`bytes`](Response::bytes), which stop at the client's body cap. The connection goes back to
/// the client's pool as soon as the body has been read to its end (when the response allows
/// keep-alive); [`is_complete`](Response::is_complete) says when that has happened. A response
/// dropped before its body was read closes its connection, unless the rest of the body (up to
/// 64 KiB) had already arrived: dropping reads only what is there and never waits.
///
/// Errors while reading the body (a truncated body, broken chunking, a corrupt gzip stream, a
/// timeout) come out of `read` as an [`io::Error`] that converts back into [`Error`] with
/// `Error::from`.
///
/// ## Decoded bodies
/// When the client asked for gzip itself (see [`ClientBuilder::gzip`](crate::ClientBuilder))
/// and the server answered with `Content-Encoding: gzip` (or `x-gzip`, or `deflate`), the body
/// is decoded
/// while it is read: [`Read`], [`bytes`](Response::bytes) and [`text`](Response::text) give the
/// decoded bytes, and the body cap counts decoded bytes. `Content-Encoding` and
/// `Content-Length` (which describe the encoded bytes) are then removed from
/// [`headers`](Response::headers); [`encoding_headers`](Response::encoding_headers) keeps them.
///
/// ## Responses made without the network
/// [`Response::from_parts`] builds one from a head and a body, for interceptors that answer
/// themselves (a cache, a stub in tests).
pub struct Response {
    status: u16,
    reason: String,
    version: Version,
    headers: Headers,
    url: url::Url,
    body: ResponseBody,
    /// The fields taken out of `headers` when the body is decoded.
    encoding_headers: Option<Headers>,
    /// Tries the request took (set by the client once the chain returns).
    pub(crate) attempts: u32,
}

impl Response {
    pub(crate) fn new(head: ResponseHead, url: url::Url, body: RawBody) -> Response {
        let max_body = body.max_body();
        Response::assemble(head, url, ResponseBody { source: Source::Wire(body), max_body })
    }

    fn assemble(head: ResponseHead, mut url: url::Url, body: ResponseBody) -> Response {
        // Credentials in the URL went out as `Authorization`; they are not shown again.
        if !url.username().is_empty() || url.password().is_some() {
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        Response {
            status: head.status,
            reason: head.reason,
            version: head.version,
            headers: head.headers,
            url,
            body,
            encoding_headers: None,
            attempts: 0,
        }
    }

    /// A response made without the network: `head` as given (its headers are not checked
    /// against the body), `url` as [`url`](Response::url) reports it, and `body` (bytes, text,
    /// or a [`Body::stream`], which must give exactly its length when it states one). For
    /// interceptors that answer by themselves (caches, stubs) and for tests. The body cap of
    /// [`bytes`](Response::bytes) is `Limits::default().max_body`.
    ///
    /// ```
    /// use http_client::{Response, ResponseHead};
    /// let mut head = ResponseHead::new(200);
    /// head.headers.append("Content-Type", "text/plain").unwrap();
    /// let resp = Response::from_parts(head, "http://cache.example/a", "hello").unwrap();
    /// assert_eq!(resp.status(), 200);
    /// assert_eq!(resp.url(), "http://cache.example/a");
    /// assert_eq!(resp.text().unwrap(), "hello");
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] or [`Error::UnsupportedScheme`] for a URL that is not an absolute
    /// `http` or `https` URL.
    pub fn from_parts(head: ResponseHead, url: &str, body: impl Into<Body>) -> Result<Response> {
        let url = parse_url(url)?;
        let source = match body.into() {
            Body::Empty => Source::Local { reader: Box::new(io::empty()), remaining: Some(0) },
            Body::Bytes(b) => {
                let len = b.len() as u64;
                Source::Local { reader: Box::new(io::Cursor::new(b)), remaining: Some(len) }
            }
            Body::Stream { reader, length } => Source::Local { reader, remaining: length },
        };
        let mut body = ResponseBody { source, max_body: Limits::default().max_body };
        body.settle_local();
        Ok(Response::assemble(head, url, body))
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent by the server.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The protocol version of the response.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status line, as the egg returned it (`HTTP/1.1 200 OK`).
    pub fn status_line(&self) -> String {
        format!("{} {} {}", self.version, self.status, self.reason)
    }

    /// The header fields (names in lower case). Without `Content-Encoding` and
    /// `Content-Length` when the body is decoded (see [`encoding_headers`](Self::encoding_headers)).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// When the client decodes the body (gzip, deflate), the `Content-Encoding` and `Content-Length`
    /// fields as the server sent them, which are no longer in [`headers`](Self::headers);
    /// `None` when the body is read as it was sent.
    pub fn encoding_headers(&self) -> Option<&Headers> {
        self.encoding_headers.as_ref()
    }

    /// The URL this response came from, after redirects, without any user name or password it
    /// had.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// How many times the request was tried to get this response: 1 unless a retry
    /// interceptor ([`intercept::Retry`](crate::intercept::Retry)) sent it again (redirects
    /// followed within a try, and a stale pooled connection replaced at once, are not
    /// counted); 0 when an interceptor answered without the network, or for a response made
    /// with [`from_parts`](Response::from_parts) that no client sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// True once the whole body has been received (at once for bodiless responses such as
    /// 204, 304 and answers to HEAD). For a decoded body: once the encoded body has been
    /// received and decoded to its end.
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }

    /// The trailer fields of a chunked body, once the body has been read to its end and if it
    /// had any.
    pub fn trailers(&self) -> Option<&Headers> {
        self.body.trailers()
    }

    /// The response itself when its status is below 400, else [`Error::Status`] with the
    /// status, the reason and the URL (without credentials). The body of an error answer is
    /// dropped with the response.
    ///
    /// ```
    /// use http_client::{Response, ResponseHead};
    /// let resp = Response::from_parts(ResponseHead::new(404), "http://h/missing", "").unwrap();
    /// let err = resp.error_for_status().unwrap_err();
    /// assert_eq!(err.status(), Some(404));
    /// assert_eq!(err.url(), Some("http://h/missing"));
    /// ```
    ///
    /// # Errors
    /// [`Error::Status`] for a status of 400 or more.
    pub fn error_for_status(self) -> Result<Response> {
        if self.status < 400 {
            return Ok(self);
        }
        Err(Error::Status { status: self.status, reason: self.reason.clone(), url: self.url.to_string() })
    }

    /// The body as bytes, at most the client's `Limits::max_body` bytes (decoded bytes for a
    /// decoded body, so a small gzip body that inflates past the cap is stopped there).
    ///
    /// # Errors
    /// [`Error::BodyTooLarge`] past the cap; [`Error::Decode`] for a corrupt or truncated gzip
    /// body; framing errors and timeouts as they come.
    pub fn bytes(self) -> Result<Vec<u8>> {
        let cap = self.body.max_body;
        self.bytes_limited(cap)
    }

    /// The body as bytes, at most `cap` bytes.
    ///
    /// # Errors
    /// As [`Response::bytes`].
    pub fn bytes_limited(mut self, cap: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let n = (&mut self.body).take(cap.saturating_add(1)).read_to_end(&mut out).map_err(Error::from)?;
        if n as u64 > cap {
            return Err(Error::BodyTooLarge { limit: cap });
        }
        Ok(out)
    }

    /// The body as UTF-8 text, at most the client's body cap.
    ///
    /// # Errors
    /// As [`Response::bytes`], and [`Error::NotUtf8`].
    pub fn text(self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| Error::NotUtf8)
    }

    /// The connection of a `101 Switching Protocols` answer to a request that asked to
    /// switch (`Connection: upgrade` and an `Upgrade` field), as an owned stream that now
    /// speaks the new protocol; over TLS too. The connection leaves the client's pool.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use http_client::{Method, Request};
    /// # fn main() -> http_client::Result<()> {
    /// let mut req = Request::new(Method::Get, "http://127.0.0.1:8080/echo".to_owned());
    /// req.headers_mut().append("Connection", "upgrade").unwrap();
    /// req.headers_mut().append("Upgrade", "echo").unwrap();
    /// let resp = http_client::Client::new().send(req)?;
    /// let mut stream = resp.into_upgraded()?;
    /// stream.write_all(b"hello")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::NotUpgraded`] for any other response.
    pub fn into_upgraded(mut self) -> Result<crate::Upgraded> {
        let conn = match &mut self.body.source {
            Source::Wire(raw) if self.status == 101 => raw.take_upgraded(),
            _ => None,
        };
        conn.map(crate::Upgraded::new).ok_or(Error::NotUpgraded { status: self.status })
    }

    /// The body stream alone (decoded, when the body is decoded).
    pub fn into_body(self) -> ResponseBody {
        self.body
    }

    /// Reads and discards the rest of the body (at most `max` bytes), so that the connection
    /// can be reused. Returns true when the body was complete within `max`.
    ///
    /// A decoded body is discarded as it arrives, without decoding it, and `max` counts those
    /// encoded bytes; reading it afterwards gives an error unless it was complete.
    ///
    /// # Errors
    /// As reading.
    pub fn drain(&mut self, max: u64) -> Result<bool> {
        self.body.drain(max)
    }

    /// Decodes the body from gzip or deflate when the response says it is so encoded and has
    /// a body; the encoding fields move to `encoding_headers`. Partial content (206) is left
    /// alone: a range of an encoded stream cannot be decoded by itself.
    #[cfg(feature = "gzip")]
    pub(crate) fn decode_gzip(&mut self) {
        if self.status == 206 {
            return;
        }
        let Some(coding) = coding_of(&self.headers) else { return };
        let Source::Wire(raw) = &self.body.source else { return };
        if matches!(raw.framing, Framing::None | Framing::Length(0)) {
            return;
        }
        let mut taken = Headers::new();
        for name in ["content-encoding", "content-length"] {
            for value in self.headers.get_all(name) {
                let _ = taken.append(name, value);
            }
            self.headers.remove(name);
        }
        self.encoding_headers = Some(taken);
        let source = std::mem::replace(&mut self.body.source, Source::Gone);
        if let Source::Wire(raw) = source {
            self.body.source = Source::Gzip(Box::new(crate::decode::Gunzip::new(raw, coding)));
        }
    }
}

/// The coding when the content codings are exactly one that the client decodes (`identity`
/// aside).
#[cfg(feature = "gzip")]
fn coding_of(headers: &Headers) -> Option<crate::decode::Coding> {
    let mut codings = headers
        .get_all("content-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    let first = codings.next()?;
    if codings.next().is_some() {
        return None;
    }
    crate::decode::Coding::from_name(first)
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("version", &self.version)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("decoded", &self.encoding_headers.is_some())
            .field("complete", &self.body.is_complete())
            .finish()
    }
}

/// A response body: read from its connection (and decoded from gzip when it was gzipped), or
/// made in memory by [`Response::from_parts`].
pub struct ResponseBody {
    source: Source,
    max_body: u64,
}

// The wire body is what nearly every response has: kept inline, not behind a box.
#[allow(clippy::large_enum_variant)]
enum Source {
    /// The bytes as they arrive on the connection.
    Wire(RawBody),
    /// A gzip body, decoded as it arrives.
    #[cfg(feature = "gzip")]
    Gzip(Box<crate::decode::Gunzip>),
    /// A decoded body whose rest was drained without decoding.
    #[cfg(feature = "gzip")]
    Drained(RawBody),
    /// A body made without the network.
    Local {
        reader: Box<dyn Read + Send>,
        /// Bytes still to come when the length is known.
        remaining: Option<u64>,
    },
    /// A local body read to its end.
    LocalDone,
    /// Only while the source is being replaced.
    Gone,
}

impl ResponseBody {
    /// True once the whole body has been received.
    pub fn is_complete(&self) -> bool {
        match &self.source {
            Source::Wire(raw) => raw.is_complete(),
            #[cfg(feature = "gzip")]
            Source::Gzip(g) => g.is_complete(),
            #[cfg(feature = "gzip")]
            Source::Drained(raw) => raw.is_complete(),
            Source::Local { .. } | Source::Gone => false,
            Source::LocalDone => true,
        }
    }

    /// The trailer fields of a chunked body, once it is complete and if it had any.
    pub fn trailers(&self) -> Option<&Headers> {
        match &self.source {
            Source::Wire(raw) => raw.trailers(),
            #[cfg(feature = "gzip")]
            Source::Drained(raw) => raw.trailers(),
            #[cfg(feature = "gzip")]
            Source::Gzip(g) => g.raw().trailers(),
            _ => None,
        }
    }

    /// A local body with nothing left is done.
    fn settle_local(&mut self) {
        if let Source::Local { remaining: Some(0), .. } = self.source {
            self.source = Source::LocalDone;
        }
    }

    fn drain(&mut self, max: u64) -> Result<bool> {
        match std::mem::replace(&mut self.source, Source::Gone) {
            #[cfg(feature = "gzip")]
            Source::Gzip(g) => self.source = Source::Drained(g.into_raw()),
            other => self.source = other,
        }
        #[cfg(feature = "gzip")]
        if let Source::Drained(raw) = &mut self.source {
            return Ok(http_utils::io::drain(raw, max)?);
        }
        Ok(http_utils::io::drain(self, max)?)
    }

    fn read_local(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Source::Local { reader, remaining } = &mut self.source else { return Ok(0) };
        let want = match remaining {
            Some(r) => buf.len().min(usize::try_from(*r).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = reader.read(&mut buf[..want])?;
        match remaining {
            Some(r) => {
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the body stream ended before its stated length",
                    ));
                }
                *r -= n as u64;
            }
            None if n == 0 => self.source = Source::LocalDone,
            None => {}
        }
        self.settle_local();
        Ok(n)
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.source {
            Source::Wire(raw) => raw.read(buf),
            #[cfg(feature = "gzip")]
            Source::Gzip(g) => g.read(buf),
            #[cfg(feature = "gzip")]
            Source::Drained(raw) => {
                if raw.is_complete() {
                    Ok(0)
                } else {
                    Err(io::Error::other("the rest of the body was drained"))
                }
            }
            Source::Local { .. } => self.read_local(buf),
            Source::LocalDone | Source::Gone => Ok(0),
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Wire(raw) => format!("{:?}", raw.framing),
            #[cfg(feature = "gzip")]
            Source::Gzip(g) => format!("{} in {:?}", g.coding().name(), g.raw().framing),
            #[cfg(feature = "gzip")]
            Source::Drained(_) => "drained".to_owned(),
            Source::Local { .. } | Source::LocalDone | Source::Gone => "local".to_owned(),
        };
        f.debug_struct("ResponseBody").field("body", &kind).field("complete", &self.is_complete()).finish()
    }
}
