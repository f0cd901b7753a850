//! What a handler returns: status, headers and a body from bytes, a reader or a writer.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read, Write};

use http_utils::Headers;

pub use crate::handler::response_body::{BodyWriter, ResponseBody, TrailerWriter};
use crate::handler::stream::FeedBody;
use crate::io::budget::Share;
use crate::io::upgraded::Upgraded;

/// What takes over a connection after `101 Switching Protocols` (see [`Response::upgrade`]).
pub type UpgradeHandler = Box<dyn FnOnce(Upgraded) + Send>;

/// Who takes a switched connection over.
pub(crate) enum Switch {
    /// A handler on a thread of its own, with the connection as a stream.
    Thread(UpgradeHandler),
    /// The engine, as a WebSocket (see [`Context::websocket`](crate::Context::websocket)).
    Socket(Box<crate::handler::websocket::SocketStart>),
}

/// A response that is more than a head and a body: what follows its head is not an HTTP
/// body the handler gave.
pub(crate) enum Takeover {
    /// Switch protocols: `101`, then the connection goes to `handler` for `protocol`. The
    /// share of the stream cap is taken once the server has agreed to switch.
    Upgrade { protocol: String, handler: Switch, share: Option<Share> },
    /// The body is fed from a [`StreamSender`](crate::StreamSender).
    Feed(FeedBody),
}

impl fmt::Debug for Takeover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Takeover::Upgrade { protocol, .. } => write!(f, "Upgrade({protocol})"),
            Takeover::Feed(_) => f.write_str("Feed"),
        }
    }
}

/// An HTTP response as a handler builds it.
///
/// The server adds `Date`, `Server` (when a server name is set), `Content-Length` or
/// `Transfer-Encoding: chunked`, and `Connection` as needed; a handler sets everything else.
///
/// Header names go out as they were written (`X-Request-ID` stays so, `x-custom` too;
/// lookups ignore case), trailers as well. The server's own fields, and those of the
/// built-in middleware, static files and streams, are in Title-Case (`Content-Length`,
/// `ETag`, `Access-Control-Allow-Origin`), as curl and browsers send theirs; names that came
/// from an `http::Response` are lower case, as the `http` crate keeps them.
///
/// ```
/// use http_server::Response;
/// let r = Response::text("hi").with_header("Cache-Control", "no-store");
/// assert_eq!(r.status(), 200);
/// assert_eq!(r.content_type(), Some("text/plain; charset=utf-8"));
/// assert_eq!(Response::new(404).status(), 404);
/// ```
#[derive(Debug)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: Option<Cow<'static, str>>,
    pub(crate) headers: Headers,
    pub(crate) body: ResponseBody,
    pub(crate) close: bool,
    pub(crate) written: bool,
    /// What few responses have, kept apart so that the common response stays small (it is
    /// moved from the handler to the writer).
    pub(crate) rare: Option<Box<Rare>>,
}

/// The parts of a [`Response`] that few responses have.
#[derive(Debug, Default)]
pub(crate) struct Rare {
    reason: Option<Cow<'static, str>>,
    pass: Option<Pass>,
    trailers: Option<Headers>,
    /// The connection goes to something else after the head (an upgrade, a feed).
    takeover: Option<Takeover>,
    /// The message of the error this response answers, while its body is the one made
    /// for it (see [`Response::error`]).
    error: Option<Cow<'static, str>>,
}

/// What a handler asked for instead of answering (see [`Response::next`] and
/// [`Response::restart`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Try the next matching route.
    Next,
    /// Serve the request again at another URL.
    Restart(String),
}

impl Response {
    /// An empty response with `status` and its standard reason phrase.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            content_type: None,
            headers: Headers::new(),
            body: ResponseBody::Empty,
            close: false,
            written: false,
            rare: None,
        }
    }

    /// Switches the connection to another protocol (`101 Switching Protocols`), when the
    /// request asked for `protocol` (`Connection: upgrade` and `Upgrade: protocol`, over
    /// HTTP/1.1; otherwise the client gets `426 Upgrade Required` naming it). The server
    /// writes the 101 head with `Connection: upgrade`, `Upgrade: protocol` and the fields
    /// added here (a WebSocket handshake's `Sec-WebSocket-Accept`, say), then calls
    /// `handler` on a thread of its own with the connection as an [`Upgraded`] stream, which
    /// gives back first any bytes the client sent after its request. The worker is free at
    /// once; the connection is no longer an HTTP connection of the server's (no timeouts,
    /// limits or hooks apply to it) but it counts against
    /// [`ServerBuilder::max_streams`](crate::ServerBuilder::max_streams) (past it: 503) and
    /// a shutdown tells it ([`Upgraded::is_server_stopping`]), then closes it at the end of
    /// its grace period.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{Read, Write};
    /// use http_server::{Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// // An echo over a protocol of its own.
    /// server.add_context_resource("/echo", |_cx| {
    ///     Response::upgrade("echo", |mut stream| {
    ///         let mut buf = [0u8; 1024];
    ///         while let Ok(n) = stream.read(&mut buf) {
    ///             if n == 0 || stream.write_all(&buf[..n]).is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     })
    /// });
    /// # Ok(()) }
    /// ```
    pub fn upgrade(protocol: &str, handler: impl FnOnce(Upgraded) + Send + 'static) -> Response {
        let mut r = Response::new(101);
        r.set_takeover(Takeover::Upgrade {
            protocol: protocol.to_owned(),
            handler: Switch::Thread(Box::new(handler)),
            share: None,
        });
        r
    }

    /// True for a response made by [`Response::upgrade`].
    pub fn is_upgrade(&self) -> bool {
        matches!(self.takeover(), Some(Takeover::Upgrade { .. }))
    }

    /// A 200 response with a `text/plain; charset=utf-8` body.
    pub fn text(body: impl Into<ResponseBody>) -> Response {
        Response::known(200, "text/plain; charset=utf-8", body.into())
    }

    /// A response with a content type of the server's own (clean already).
    #[inline]
    pub(crate) fn known(status: u16, content_type: &'static str, body: ResponseBody) -> Response {
        Response {
            status,
            content_type: Some(Cow::Borrowed(content_type)),
            headers: Headers::new(),
            body,
            close: false,
            written: false,
            rare: None,
        }
    }

    /// A 200 response with a `text/html; charset=utf-8` body.
    pub fn html(body: impl Into<ResponseBody>) -> Response {
        Response::known(200, "text/html; charset=utf-8", body.into())
    }

    /// A 200 response with bytes of the given media type.
    pub fn bytes(content_type: impl Into<Cow<'static, str>>, body: impl Into<ResponseBody>) -> Response {
        Response::new(200).with_content_type(content_type).with_body(body)
    }

    /// A 200 response whose body is read from `reader` (chunked unless `length` is given).
    pub fn stream(reader: impl Read + Send + 'static, length: Option<u64>) -> Response {
        Response::new(200).with_body(ResponseBody::Stream { reader: Box::new(reader), length })
    }

    /// A 200 response with `length` bytes of `file` from `offset` on (see
    /// [`ResponseBody::File`]).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let path = std::env::temp_dir().join("http-server-doc-file.txt");
    /// std::fs::write(&path, b"hello, file")?;
    /// let r = http_server::Response::file(std::fs::File::open(&path)?, 7, 4);
    /// assert_eq!(r.body().len(), Some(4));
    /// # Ok(()) }
    /// ```
    pub fn file(file: std::fs::File, offset: u64, length: u64) -> Response {
        Response::new(200).with_body(ResponseBody::File { file, offset, length })
    }

    /// A 200 response whose body `write` produces, sent chunked. `write` runs on a worker,
    /// which it holds until it returns: for a long-lived answer fed over time (a live feed,
    /// server-sent events) use [`Responder::stream`](crate::Responder::stream) or
    /// [`Responder::events`](crate::Responder::events), which hold no worker.
    ///
    /// ```
    /// use std::io::Write;
    /// let r = http_server::Response::from_writer(|w| {
    ///     for i in 0..3 {
    ///         writeln!(w, "line {i}")?;
    ///     }
    ///     Ok(())
    /// });
    /// assert_eq!(r.body().len(), None);
    /// ```
    pub fn from_writer(write: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static) -> Response {
        Response::new(200).with_body(ResponseBody::Writer(Box::new(write)))
    }

    /// A redirect (`301`, `302`, `303`, `307` or `308`) to `location`.
    ///
    /// # Panics
    /// As [`Response::with_header`], when `location` holds CR, LF or another control
    /// character.
    pub fn redirect(status: u16, location: &str) -> Response {
        Response::new(status).with_header("Location", location)
    }

    /// The marker a handler returns after writing its response itself with
    /// [`Context::write_response_header`](crate::Context::write_response_header).
    pub fn written() -> Response {
        let mut r = Response::new(200);
        r.written = true;
        r
    }

    /// The marker a handler returns to decline a request: the next matching route is tried
    /// (routes are tried most specific first; an exact resource before any pattern), and when
    /// none is left, the fallback handler (404). Returned from the fallback itself it means
    /// 404.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Get, "/users/{id}", |cx| match cx.captures().get("id") {
    ///     Some("me") => Response::next(), // let /users/{rest...} answer
    ///     _ => Response::text("a user"),
    /// }).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn next() -> Response {
        let mut r = Response::new(404);
        r.rare_mut().pass = Some(Pass::Next);
        r
    }

    /// The marker a handler (or a status handler) returns to serve the request again as if it
    /// had been sent to `url` (a path with an optional query): an internal redirect the client
    /// never sees. The method, headers and any parsed body stay.
    /// At most 8 restarts per request; more is answered 500.
    pub fn restart(url: impl Into<String>) -> Response {
        let mut r = Response::new(500);
        r.rare_mut().pass = Some(Pass::Restart(url.into()));
        r
    }

    /// True for the marker of [`Response::next`].
    pub fn is_next(&self) -> bool {
        self.pass() == Some(&Pass::Next)
    }

    /// What takes the connection over after the head, if anything.
    pub(crate) fn takeover(&self) -> Option<&Takeover> {
        self.rare.as_ref()?.takeover.as_ref()
    }

    pub(crate) fn takeover_mut(&mut self) -> Option<&mut Takeover> {
        self.rare.as_mut()?.takeover.as_mut()
    }

    pub(crate) fn take_takeover(&mut self) -> Option<Takeover> {
        self.rare.as_mut()?.takeover.take()
    }

    pub(crate) fn set_takeover(&mut self, t: Takeover) {
        self.rare_mut().takeover = Some(t);
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The reason phrase set with [`with_reason`](Response::with_reason), if any.
    pub(crate) fn custom_reason(&self) -> Option<&str> {
        self.rare.as_ref()?.reason.as_deref()
    }

    /// What the handler asked for instead of answering, if anything.
    pub(crate) fn pass(&self) -> Option<&Pass> {
        self.rare.as_ref()?.pass.as_ref()
    }

    /// Takes what the handler asked for instead of answering.
    pub(crate) fn take_pass(&mut self) -> Option<Pass> {
        self.rare.as_mut()?.pass.take()
    }

    /// The trailer fields added with [`with_trailer`](Response::with_trailer).
    pub(crate) fn trailers(&self) -> Option<&Headers> {
        self.rare.as_ref()?.trailers.as_ref()
    }

    /// Takes the trailer fields.
    pub(crate) fn take_trailers(&mut self) -> Option<Headers> {
        self.rare.as_mut()?.trailers.take()
    }

    /// The marker a handler returns after taking a [`Responder`](crate::Responder) with
    /// [`Context::responder`](crate::Context::responder): the answer comes from the responder.
    /// (Whatever a handler returns after taking a responder is ignored.)
    pub fn later() -> Response {
        Response::new(200)
    }

    /// A 200 response with a streamed body that ends with trailer fields: `write` writes the
    /// body and returns the trailers. Sent chunked (trailers are dropped for HTTP/1.0 peers,
    /// which get the body until the connection closes).
    ///
    /// ```
    /// use std::io::Write;
    /// let r = http_server::Response::from_writer_with_trailers(|w| {
    ///     w.write_all(b"data")?;
    ///     let mut t = http_utils::Headers::new();
    ///     t.append("Checksum", "1234").unwrap();
    ///     Ok(t)
    /// });
    /// assert_eq!(r.body().len(), None);
    /// ```
    pub fn from_writer_with_trailers(
        write: impl FnOnce(&mut dyn Write) -> io::Result<Headers> + Send + 'static,
    ) -> Response {
        Response::new(200).with_body(ResponseBody::WriterWithTrailers(Box::new(write)))
    }

    /// Adds a trailer field, sent after a chunked body (responses of unknown length to
    /// HTTP/1.1 peers); the `Trailer` header announces its name. Dropped when the body is not
    /// chunked.
    ///
    /// # Panics
    /// As [`Response::with_header`], for an invalid name or value.
    pub fn with_trailer(mut self, name: &str, value: &str) -> Response {
        let trailers = self.rare_mut().trailers.get_or_insert_with(Headers::new);
        let added = trailers.append(name, value);
        if let Err(e) = added.and_then(|()| self.headers.append("Trailer", name)) {
            invalid_field(name, &e);
        }
        self
    }

    /// A 200 response with `application/json` made of `value` (anything `Serialize`: a
    /// `serde_json::Value`, a struct with `#[derive(Serialize)]`, ...). A value that cannot be
    /// written as JSON (a map whose keys are not strings) is a 500.
    ///
    /// ```
    /// let r = http_server::Response::json(&serde_json::json!({"ok": true}));
    /// assert_eq!(r.content_type(), Some("application/json"));
    /// assert_eq!(r.body().as_bytes(), Some(&b"{\"ok\":true}"[..]));
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response::known(200, "application/json", ResponseBody::Bytes(body)),
            Err(_) => Response::new(500),
        }
    }

    /// Sets the status code.
    pub fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// Sets a reason phrase other than the standard one. Characters that cannot appear in a
    /// status line are replaced when it is sent.
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Response {
        self.rare_mut().reason = Some(reason.into());
        self
    }

    /// Sets `Content-Type`.
    pub fn with_content_type(mut self, content_type: impl Into<Cow<'static, str>>) -> Response {
        // Control characters (CR, LF, ...) become `?`: never a header of their own.
        self.content_type = Some(crate::io::head::cleaned(content_type.into()));
        self
    }

    /// Adds a header field.
    ///
    /// ```
    /// let r = http_server::Response::text("x").with_header("X-Request-Id", "7");
    /// assert_eq!(r.headers().get("x-request-id"), Some("7"));
    /// ```
    ///
    /// # Panics
    /// When `name` is not a token or `value` holds CR, LF, NUL or another control character:
    /// such a field is never sent, nor dropped in silence. In a handler the panic costs one
    /// 500 and reaches the error hook (its message names the field, not the value). Use
    /// [`Response::try_with_header`] to handle the error instead, for values from outside.
    pub fn with_header(self, name: &str, value: &str) -> Response {
        match self.try_with_header(name, value) {
            Ok(r) => r,
            Err(e) => invalid_field(name, &e),
        }
    }

    /// Adds a header field, or says why it cannot be sent.
    ///
    /// ```
    /// use http_server::Response;
    /// assert!(Response::text("x").try_with_header("Location", "/a\r\nSet-Cookie: x=1").is_err());
    /// assert!(Response::text("x").try_with_header("Location", "/a").is_ok());
    /// ```
    ///
    /// # Errors
    /// `InvalidHeaderName` unless `name` is a token; `InvalidHeaderValue` when `value` holds
    /// CR, LF, NUL or another control character.
    pub fn try_with_header(mut self, name: &str, value: &str) -> Result<Response, http_utils::Error> {
        if name.eq_ignore_ascii_case("content-type") {
            let mut checked = Headers::new();
            checked.append(name, value)?;
            let value = checked.get("content-type").unwrap_or_default().to_owned();
            self.content_type = Some(Cow::Owned(value));
        } else {
            self.headers.append(name, value)?;
        }
        Ok(self)
    }

    /// Sets the body. A response that answered an error is no longer its rendering
    /// ([`error`](Response::error) is `None` after this).
    pub fn with_body(mut self, body: impl Into<ResponseBody>) -> Response {
        self.body = body.into();
        if let Some(rare) = &mut self.rare {
            rare.error = None;
        }
        self
    }

    /// The error this response answers: for a response made from an [`HttpError`] (a
    /// handler's or a middleware's `Err`) and for the server's own error answers (404, 405,
    /// 413, 500, 503, ... made by [`Context::error_response`](crate::Context::error_response)),
    /// as long as its status is still 400 or more and its body the one made for the error.
    /// Middleware that renders errors its own way reads it (see
    /// [`JsonErrors`](crate::JsonErrors)); the message is what the server or the handler
    /// wrote for the client, never bytes of the request.
    ///
    /// ```
    /// use http_server::{HttpError, IntoResponse, Response};
    /// let r = HttpError::conflict("the name is taken").into_response();
    /// assert_eq!(r.error(), Some(HttpError::conflict("the name is taken")));
    /// assert_eq!(Response::text("ok").error(), None);
    /// assert_eq!(r.with_body("replaced").error(), None);
    /// ```
    ///
    /// [`HttpError`]: crate::HttpError
    pub fn error(&self) -> Option<crate::HttpError> {
        let message = self.rare.as_ref()?.error.as_ref()?;
        (self.status >= 400).then(|| crate::HttpError::new(self.status, message.clone()))
    }

    /// Marks the response as the answer to an error with `message` (see
    /// [`error`](Response::error)).
    pub(crate) fn answering_error(mut self, message: impl Into<Cow<'static, str>>) -> Response {
        self.rare_mut().error = Some(message.into());
        self
    }

    /// Closes the connection after this response (adds `Connection: close`).
    pub fn with_close(mut self) -> Response {
        self.close = true;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase that will be sent.
    pub fn reason(&self) -> &str {
        self.custom_reason().unwrap_or_else(|| http_utils::reason_phrase(self.status))
    }

    /// The `Content-Type`, if set.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The header fields (other than `Content-Type`).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The header fields, to change them.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &ResponseBody {
        &self.body
    }

    /// Takes the body out, leaving it empty.
    pub fn take_body(&mut self) -> ResponseBody {
        std::mem::take(&mut self.body)
    }
}

impl From<&'static str> for Response {
    fn from(s: &'static str) -> Response {
        Response::text(s)
    }
}

impl From<String> for Response {
    fn from(s: String) -> Response {
        Response::text(s)
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The default error page (the egg's default `http:error-response-handler`): a small HTML
/// document naming the code and the message, escaped.
///
/// ```
/// let page = http_server::default_error_page(404, "Not <Found>");
/// assert!(page.contains("404") && page.contains("Not &lt;Found&gt;"));
/// ```
pub fn default_error_page(code: u16, message: &str) -> String {
    let m = escape_html(message);
    format!("<!DOCTYPE html>\n<html><head><title>{code} {m}</title></head><body><h1>{code} {m}</h1></body></html>\n")
}

/// The panic of [`Response::with_header`] and [`Response::with_trailer`] for a field that
/// cannot be sent: the name (chosen by the program) is shown, the value (maybe from a peer)
/// is not.
fn invalid_field(name: &str, e: &http_utils::Error) -> ! {
    let shown: String = name.chars().filter(char::is_ascii_graphic).take(64).collect();
    panic!("a response header field {shown:?} cannot be sent: {e}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_response_stays_small_enough_to_move_cheaply() {
        // The rare parts are boxed so that this holds; a response moves from the handler
        // through the dispatch to the writer.
        assert!(std::mem::size_of::<super::Response>() <= 128);
    }
}
