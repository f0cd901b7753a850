//! The context a handler works in: the request, its arguments, the body as a stream, content
//! parsing, error pages and the low-level response writer.

use std::any::Any;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use http_utils::io::{BodyReader, LimitReader};
use http_utils::multipart::{boundary_from_content_type, MultipartReader};
use http_utils::{Body, Error, ErrorKind, Headers, Request, Version};

use crate::handler::content::{Args, Content, ContentParser};
use crate::handler::hooks::{ErrorEvent, LogRecord};
use crate::handler::method_table::MethodTable;
use crate::handler::quick_hash::QuickMap;
use crate::handler::responder::{Pending, Responder};
use crate::handler::response::Response;
use crate::handler::route::Captures;
use crate::handler::route_table::RouteTable;
use crate::handler::site::Site;
use crate::io::budget::Share;
use crate::io::head::BodyFraming;
use crate::io::poller::Poller;
use crate::io::transport::PeerAddr;
use crate::io::wire::Wire;

/// A body at least this large that the engine's buffer holds exactly is handed over with the
/// buffer rather than copied out of it (smaller ones are copied: the buffer stays).
const TAKE_BODY_AT: u64 = 64 * 1024;
/// A handler with the whole context: the request, its arguments, the body as a stream and
/// the low-level writer. Method handlers, resources registered with
/// [`Server::add_context_resource`](crate::Server::add_context_resource) and the fallback
/// handler have this shape.
pub type Handler = Arc<dyn Fn(&mut Context<'_>) -> Response + Send + Sync>;

/// A status handler: shapes every response with its status code, the server's own included
/// (see [`Server::set_status_handler`](crate::Server::set_status_handler)).
pub type StatusHandler = Arc<dyn Fn(&mut Context<'_>, Response) -> Response + Send + Sync>;

/// The error-response handler (the egg's `http:error-response-handler`): code and message to
/// an HTML body.
pub type ErrorPage = Arc<dyn Fn(u16, &str) -> String + Send + Sync>;

/// The URL transformation (the egg's `http:url-transformation`), applied to the request
/// target before the resource lookup.
pub type UrlTransform = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The log hook: called after each response.
pub type LogHook = Arc<dyn Fn(&LogRecord<'_>) + Send + Sync>;

/// The error hook: called when a handler panics or the server meets an error worth knowing.
pub type ErrorHook = Arc<dyn Fn(&ErrorEvent<'_>) + Send + Sync>;

// Middleware's types live here, beside the table that holds it and the context it gets;
// how the chain runs is in `middleware.rs`.

/// Code that runs around the making of every response
/// ([`Server::wrap`](crate::Server::wrap), [`Server::wrap_with`](crate::Server::wrap_with)).
///
/// It gets the request's [`Context`] and the rest of the chain, [`Next`]: it may look at or
/// change the request, answer early without calling `next` (a refused credential, a CORS
/// preflight), or call [`Next::run`] and change the response it returns. Closures
/// `Fn(&mut Context, Next) -> Response` are middleware; so are the built-ins
/// ([`Cors`](crate::Cors), [`BearerAuth`](crate::BearerAuth),
/// [`RequestId`](crate::RequestId)).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{test, Context, Middleware, Next, Response, Server};
///
/// /// Adds `X-Frame-Options: DENY` to every response.
/// struct NoFrames;
/// impl Middleware for NoFrames {
///     fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
///         next.run(cx).with_header("X-Frame-Options", "DENY")
///     }
/// }
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.wrap_with(NoFrames);
/// assert_eq!(test::get(&server, "/nothing/here").header("x-frame-options"), Some("DENY"));
/// # Ok(()) }
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Makes the response for `cx`, calling `next` (or not) for the rest of the chain.
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response;
}

/// What makes a response for a panic in user code (the server's 500).
pub(crate) type PanicAnswer = fn(&mut Context<'_>, Box<dyn Any + Send>) -> Response;

/// The rest of the middleware chain, given to each layer: [`run`](Next::run) it to get the
/// response of the layers after this one and, at the end, of the handler (or of the
/// server's own answer). It can be run once.
pub struct Next<'n> {
    pub(crate) layers: &'n [Layer],
    pub(crate) inner: &'n mut dyn FnMut(&mut Context<'_>) -> Response,
    pub(crate) panicked: PanicAnswer,
}

/// One registered middleware and where it applies.
#[derive(Clone)]
pub(crate) struct Layer {
    /// The decoded segments of the path prefix it is limited to; `None` for every request.
    pub(crate) scope: Option<Arc<[String]>>,
    pub(crate) run: Arc<dyn Middleware>,
}

/// The dispatch table.
#[derive(Clone)]
pub(crate) struct Table {
    /// Resources at exact (decoded) paths: one hash lookup, tried first.
    pub resources: QuickMap<String, Handler>,
    /// Resources with patterns (and exact ones limited to some methods).
    pub routes: RouteTable<Handler>,
    /// The routes whose handlers read their body from the socket
    /// ([`Server::streaming_route`](crate::Server::streaming_route)).
    pub streaming: RouteTable<()>,
    pub status_handlers: QuickMap<u16, StatusHandler>,
    /// Middleware, outermost first ([`Server::wrap`](crate::Server::wrap)).
    pub middleware: Vec<Layer>,
    /// Body limits of path prefixes ([`Scope::max_body`](crate::Scope::max_body)): the
    /// prefix's segments (`None`: every path) and the limit in bytes.
    pub body_limits: Vec<(Option<Arc<[String]>>, u64)>,
    pub methods: MethodTable<Handler>,
    pub parsers: QuickMap<String, ContentParser>,
    pub default_parser: ContentParser,
    pub fallback: Handler,
    pub error_page: ErrorPage,
    pub url_transform: Option<UrlTransform>,
    pub startup_hook: Option<Arc<dyn Fn() + Send + Sync>>,
    pub error_hook: Option<ErrorHook>,
    pub log_hook: Option<LogHook>,
    /// The debug switch: a line on stderr per request.
    pub debug: bool,
    /// The predefined handlers, to tell them from a user's.
    pub(crate) predefined: (Handler, Handler),
}

/// A response head a handler wrote itself, and what has been sent after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WrittenHead {
    pub status: u16,
    pub framing: BodyFraming,
    pub sent: u64,
}

/// Everything a handler can reach while it serves one request.
///
/// Plain resource handlers (`Fn(&Request, &Args) -> Response`) never see it; method handlers,
/// context resources and the fallback handler get it. It gives:
///
/// - the request ([`request`](Context::request)), the decoded path and arguments;
/// - the body as a stream ([`body`](Context::body)), read whole
///   ([`read_body`](Context::read_body)) or through the content parser registered for its
///   media type ([`parse_content`](Context::parse_content)). Most bodies have been read by
///   the server before the handler runs, so reading them costs no wait; a streaming route's
///   body ([`Server::streaming_route`](crate::Server::streaming_route)) and, while streaming
///   slots are free, a body announced with `Expect: 100-continue` are read from the socket as
///   they arrive: then `100 Continue` is answered when the body is first read, never before
///   (and not at all if the handler does not read it);
/// - error pages ([`error_response`](Context::error_response), the egg's
///   `http:write-error-response`) and the fallback ([`fallback`](Context::fallback));
/// - the egg's low-level `http:write-response-header`
///   ([`write_response_header`](Context::write_response_header)) followed by raw writes
///   through [`Write`](std::io::Write); the handler then returns [`Response::written`].
pub struct Context<'a> {
    pub(crate) request: Box<Request>,
    pub(crate) path: Option<String>,
    pub(crate) captures: Captures,
    /// The connection's key in the connection table (for a responder to resume it).
    pub(crate) key: u64,
    pub(crate) deferred: Option<Arc<Pending>>,
    /// The deferred answer's share of the stream cap.
    pub(crate) stream_share: Option<Share>,
    pub(crate) panicked: bool,
    pub(crate) args: Args,
    pub(crate) content: Option<Content>,
    pub(crate) peer: &'a PeerAddr,
    pub(crate) table: &'a Table,
    pub(crate) body: BodyReader<Wire<'a>>,
    pub(crate) continue_pending: bool,
    pub(crate) body_failed: bool,
    pub(crate) written: Option<WrittenHead>,
    /// The server as handlers see it.
    pub(crate) site: &'a Site,
    /// The poller of the connection's seat (a responder wakes it).
    pub(crate) home: &'a Arc<Poller>,
    /// The connection closes after this response whatever the handler does.
    pub(crate) closing: bool,
    /// The connection is TLS.
    pub(crate) secure: bool,
}

impl<'a> Context<'a> {
    /// The request. Its body is empty until [`parse_content`](Context::parse_content) or
    /// [`read_body`](Context::read_body) has stored the raw bytes there.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The request, to change it (for instance before passing it on).
    pub fn request_mut(&mut self) -> &mut Request {
        &mut self.request
    }

    /// The decoded path the resource lookup uses (after the URL transformation).
    pub fn path(&self) -> &str {
        match &self.path {
            Some(p) => p,
            None => self.request.path(),
        }
    }

    /// The path as the route patterns see it: after the URL transformation, still
    /// percent-encoded, without the query.
    pub fn raw_path(&self) -> &str {
        self.request.path()
    }

    /// Everything the matched route pattern captured (empty for exact resources); the raw,
    /// still-encoded values too ([`Captures::raw`]).
    pub fn captures(&self) -> &Captures {
        &self.captures
    }

    /// The request's HTTP version.
    pub fn version(&self) -> Version {
        self.request.version()
    }

    /// Takes the request out of the worker's hands: the handler gives the returned
    /// [`Responder`] to any thread and returns (by convention [`Response::later`]; the value is
    /// ignored), the worker goes on with other connections at once, and the response is
    /// written when [`Responder::send`] is called. A responder not used within the responder
    /// timeout ([`ServerBuilder::responder_timeout`](crate::ServerBuilder::responder_timeout),
    /// 30 s by default) is answered 503; one dropped unused, 500. A responder taken while
    /// [`ServerBuilder::max_streams`](crate::ServerBuilder::max_streams) answers are waiting
    /// or streaming is born answered 503 (its `send` fails; check
    /// [`Responder::is_open`]). The answer may also be a stream fed from any thread
    /// ([`Responder::stream`], [`Responder::events`]). Requests pipelined behind
    /// this one wait their turn; the connection stays open for the next request afterwards.
    ///
    /// Read the request body (if you need it) before returning: it is drained or the
    /// connection closed when the handler returns. Only the first call returns a live
    /// responder; later ones return one whose `send` fails.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/later", |cx| {
    ///     let responder = cx.responder();
    ///     std::thread::spawn(move || {
    ///         std::thread::sleep(std::time::Duration::from_millis(100));
    ///         let _ = responder.send(Response::text("later"));
    ///     });
    ///     Response::later()
    /// });
    /// # Ok(()) }
    /// ```
    pub fn responder(&mut self) -> Responder {
        let timeout = self.site.responder_timeout;
        self.responder_with_timeout(timeout)
    }

    /// True once the handler took a [`Responder`] ([`responder`](Context::responder)): the
    /// answer comes from it later, and what the handler returned is not sent. Middleware
    /// reads it after [`Next::run`](crate::Next::run) (see [`Server::wrap`](crate::Server::wrap)).
    pub fn responder_taken(&self) -> bool {
        self.deferred.is_some()
    }

    /// Like [`responder`](Context::responder), with its own deadline.
    pub fn responder_with_timeout(&mut self, timeout: Duration) -> Responder {
        if self.deferred.is_some() {
            return Responder::inert();
        }
        let deadline = self.site.clock.now() + timeout;
        let mut share = Share::new(&self.site.streams);
        if !share.grow(1) {
            let (responder, pending) = Responder::refused(self.key, self.home.clone(), deadline);
            self.deferred = Some(pending);
            return responder;
        }
        let (responder, pending) = Responder::new(self.key, self.home.clone(), deadline);
        self.site.track_responder(pending.clone());
        self.deferred = Some(pending);
        self.stream_share = Some(share);
        responder
    }

    /// The body as a stream of `multipart/form-data` parts, read as they arrive (nothing
    /// is buffered beyond a small window), bounded by [`body_limit`](Context::body_limit)
    /// in total. `Expect: 100-continue` is answered
    /// on the first read.
    ///
    /// # Errors
    /// `MissingBoundary` (400) when the request is not `multipart/*` with a valid boundary.
    pub fn multipart(&mut self) -> Result<MultipartReader<LimitReader<BodyStream<'_, 'a>>>, Error> {
        let boundary = self
            .request
            .headers()
            .get("content-type")
            .and_then(boundary_from_content_type)
            .ok_or_else(|| Error::protocol(ErrorKind::MissingBoundary, 0))?;
        let max = self.body_limit();
        // A chunk size past the limit is refused at its size line, before its data.
        self.body.set_max_body(max);
        if self.body.remaining().is_some_and(|n| n > max) {
            self.body_failed = true;
            return Err(Error::protocol(ErrorKind::BodyTooLarge, 0));
        }
        MultipartReader::new(LimitReader::new(self.body(), max), &boundary)
    }

    /// The decoded query arguments, followed by the pairs of a parsed urlencoded body.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The arguments, to change them.
    pub fn args_mut(&mut self) -> &mut Args {
        &mut self.args
    }

    /// The peer's address: who is on the other end of the connection (behind a proxy, the
    /// proxy; with the PROXY protocol, the address its header gives). See
    /// [`client_ip`](Context::client_ip) for the client's.
    pub fn peer(&self) -> &PeerAddr {
        self.peer
    }

    /// True when the request came over TLS (to this server: a proxy in front may have
    /// terminated TLS itself; see [`scheme`](Context::scheme) for what a trusted proxy says).
    pub fn is_tls(&self) -> bool {
        self.secure
    }

    /// The certificates the client presented over TLS (a server configuration that asks for
    /// client certificates), leaf first, each in DER; `None` without TLS or when it
    /// presented none.
    pub fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        self.body.get_ref().io.peer_certificates()
    }

    /// Where the request comes from: the client's address, the scheme and the host, as
    /// trusted proxies report them ([`ServerBuilder::trusted_proxies`](crate::ServerBuilder::trusted_proxies))
    /// or, from any other peer, as the connection and the `Host` header say.
    pub fn origin(&self) -> crate::Origin {
        self.site.trusted.resolve(self.peer, self.secure, self.request.headers())
    }

    /// The client's IP address: the peer's, or from a trusted proxy, the one its
    /// `Forwarded` or `X-Forwarded-For` header names (see [`TrustedProxies`](crate::TrustedProxies)).
    /// `None` for a peer without one (a Unix socket not trusted as a proxy).
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.origin().client_ip
    }

    /// `"https"` or `"http"`: whether the connection is TLS, or from a trusted proxy, what its
    /// `Forwarded` `proto` or `X-Forwarded-Proto` says.
    pub fn scheme(&self) -> &'static str {
        self.origin().scheme
    }

    /// The host the client asked for: the `Host` header, or from a trusted proxy, its
    /// `Forwarded` `host` or `X-Forwarded-Host`.
    pub fn host(&self) -> Option<String> {
        self.origin().host
    }

    /// True when the request announces a body (a `Content-Length` above zero or chunked).
    pub fn has_body(&self) -> bool {
        !self.body.is_complete()
    }

    /// The body as a stream: from memory when the server read it first, from the socket for
    /// a streamed body (the first read then answers `Expect: 100-continue`). Reading from the
    /// socket is bounded by the body timeout between bytes and by the minimum body rate
    /// ([`Timeouts::min_body_rate`](crate::Timeouts::min_body_rate)); the size is not limited here
    /// (use [`read_body`](Context::read_body) for that).
    pub fn body(&mut self) -> BodyStream<'_, 'a> {
        BodyStream { cx: self }
    }

    fn send_continue(&mut self) -> io::Result<()> {
        if self.continue_pending {
            self.continue_pending = false;
            let wire = self.body.get_mut();
            wire.wbuf.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            wire.flush()?;
        }
        Ok(())
    }

    /// Reads the whole body, at most [`body_limit`](Context::body_limit) bytes, and hands
    /// it over: the request keeps no copy (its [`body`](Request::body) stays as it was), so a
    /// body is held in memory once. A body the request holds already (read by
    /// [`parse_content`](Context::parse_content) or the typed readers) is returned as a copy.
    ///
    /// # Errors
    /// `BodyTooLarge` (413) when the body is (or announces itself) larger than the limit;
    /// `TruncatedBody`, chunk errors (400) and timeouts ([`Error::is_timeout`], 408).
    pub fn read_body(&mut self) -> Result<Vec<u8>, Error> {
        if let Body::Bytes(b) = self.request.body() {
            return Ok(b.clone());
        }
        self.take_body()
    }

    /// The most body bytes this request may bring: the limit of the innermost scope it is
    /// under ([`Scope::max_body`](crate::Scope::max_body)), else the server's
    /// [`Limits::max_body`](http_utils::Limits).
    pub fn body_limit(&self) -> u64 {
        let server = self.body.get_ref().rules.limits.max_body;
        self.table.max_body_for(self.request.path()).unwrap_or(server)
    }

    /// Reads the whole body (bounded as [`read_body`](Context::read_body) is) without keeping it.
    pub(crate) fn take_body(&mut self) -> Result<Vec<u8>, Error> {
        let max = self.body_limit();
        // A chunk size past the limit is refused at its size line, before its data.
        self.body.set_max_body(max);
        if self.body.remaining().is_some_and(|n| n > max) {
            self.body_failed = true;
            return Err(Error::protocol(ErrorKind::BodyTooLarge, 0));
        }
        // A body whose bytes are all in memory already gets a buffer of its size (no growing
        // and copying); one still to come, a buffer that grows as its bytes arrive.
        let known = self.body.remaining().unwrap_or(0);
        let in_memory = known <= self.body.get_ref().rbuf.available().len() as u64;
        if in_memory && known >= TAKE_BODY_AT {
            // The engine's buffer holds exactly the body: handed over without a copy.
            if let Some(raw) = self.body.take_rest_with(|wire, n| wire.rbuf.take_exactly(n)) {
                return Ok(raw);
            }
        }
        let first = if in_memory { known } else { known.min(1 << 20) };
        let mut raw = Vec::with_capacity(usize::try_from(first).unwrap_or(0));
        let r = LimitReader::new(self.body(), max).read_to_end(&mut raw);
        if let Err(e) = r {
            self.body_failed = true;
            return Err(Error::from(e));
        }
        Ok(raw)
    }

    /// Parses the body with the content parser registered for its media type (the egg's
    /// `http:content-parser`; urlencoded is predefined, text is the default), keeps the raw
    /// bytes as the request's body, appends urlencoded pairs to the arguments, and returns the
    /// parsed value. A second call returns the first result.
    ///
    /// # Errors
    /// As [`read_body`](Context::read_body), and whatever the parser fails with (400).
    pub fn parse_content(&mut self) -> Result<&Content, Error> {
        if self.content.is_none() {
            let max = self.body_limit();
            // A chunk size past the limit is refused at its size line, before its data.
            self.body.set_max_body(max);
            let size = self.body.remaining();
            if size.is_some_and(|n| n > max) {
                self.body_failed = true;
                return Err(Error::protocol(ErrorKind::BodyTooLarge, 0));
            }
            let parser = self.table.parser_for(self.request.headers().get("content-type"));
            let headers: Headers = self.request.headers().clone();
            let result = {
                let mut limited = LimitReader::new(self.body(), max);
                parser(size, &headers, &mut limited)
            };
            let (content, raw) = match result {
                Ok(v) => v,
                Err(e) => {
                    self.body_failed = true;
                    return Err(Error::from(e));
                }
            };
            if let Content::Form(pairs) = &content {
                for (k, v) in pairs {
                    self.args.push(k.clone(), v.clone());
                }
            }
            self.request.set_body(Body::Bytes(raw));
            self.content = Some(content);
        }
        match &self.content {
            Some(c) => Ok(c),
            None => Err(Error::protocol(ErrorKind::TruncatedBody, 0)),
        }
    }

    /// The parsed body, once [`parse_content`](Context::parse_content) has run.
    pub fn content(&self) -> Option<&Content> {
        self.content.as_ref()
    }

    /// An error response (the egg's `http:write-error-response`): `code` with the HTML the
    /// error-response handler makes of `code` and `message`. The response keeps the error
    /// ([`Response::error`]), so [`JsonErrors`](crate::JsonErrors) can render it as JSON.
    pub fn error_response(&self, code: u16, message: &str) -> Response {
        Response::html(self.table.error_page(code, message))
            .with_status(code)
            .answering_error(message.to_owned())
    }

    /// Runs the fallback handler (404 by default), as the dispatcher does for an unknown path.
    pub fn fallback(&mut self) -> Response {
        let f = self.table.fallback.clone();
        f(self)
    }

    /// The server name sent in `Server`.
    pub fn server_name(&self) -> &str {
        &self.site.server_name
    }

    /// The server's location (the egg's LOCATION, "localhost" by default).
    pub fn location(&self) -> &str {
        &self.site.location
    }
}

/// The request body as a stream, from [`Context::body`].
pub struct BodyStream<'c, 'a> {
    cx: &'c mut Context<'a>,
}

impl Read for BodyStream<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cx.body.is_complete() || buf.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.cx.send_continue() {
            self.cx.body_failed = true;
            return Err(e);
        }
        let r = self.cx.body.read(buf);
        if r.is_err() {
            self.cx.body_failed = true;
        }
        r
    }
}
