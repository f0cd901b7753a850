//! The server: its builder (the egg's `http:make-server`), the running handle, and the
//! resource table and parameters that can change while it runs.

use std::io;
#[cfg(unix)]
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_utils::{Headers, Limits, Method, Request, Version};

use crate::connection::engine::{Engine, Settings};
use crate::connection::queue::DispatchQueue;
use crate::handler::context::Context;
use crate::handler::dispatch::plain;
use crate::handler::hooks::{ErrorEvent, LogRecord};
use crate::handler::registry::{
    Args, Content, ContentParser, Handler, Registry, ResourcePaths, StatusHandler,
};
use crate::handler::response::Response;
use crate::handler::route::Pattern;
use crate::handler::route_table::{Methods, RouteError};
use crate::handler::site::Site;
use crate::io::lock;
use crate::io::poller::{AcceptPoll, Poller};
use crate::io::timeouts::Timeouts;
#[cfg(unix)]
use crate::io::transport::UnixTransport;
use crate::io::transport::{ListenOptions, Listener, LocalAddr, TcpTransport, Transport};
use crate::io::wire::WireRules;
use crate::runtime::acceptor::acceptor_main;
use crate::runtime::monitor::{close_taken, monitor_main};
use crate::runtime::pool::{worker_main, Seats};
use crate::runtime::shared::Shared;

/// Configures and binds a server (the egg's `http:make-server`).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// let server = http_server::Server::builder()
///     .port(0)
///     .bind("127.0.0.1")
///     .server_name("example/1.0")
///     .threads(8)
///     .header_timeout(Duration::from_secs(5))
///     .build()?;
/// assert!(server.local_addr().port().unwrap() > 0);
/// # Ok(()) }
/// ```
#[must_use]
pub struct ServerBuilder {
    port: u16,
    host: Option<String>,
    server_name: String,
    location: String,
    protocol: Version,
    backlog: u32,
    init: Option<Box<dyn FnOnce() + Send>>,
    limits: Limits,
    timeouts: Timeouts,
    workers: Option<usize>,
    io_threads: Option<usize>,
    request_count_limit: Option<usize>,
    max_connections: usize,
    max_requests_per_connection: u32,
    shutdown_grace: Duration,
    responder_timeout: Duration,
    streaming_limit: Option<usize>,
    queue_size: Option<usize>,
    queue_wait: Duration,
    compression: bool,
    transport: Box<dyn Transport>,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServerBuilder {
    fn new() -> ServerBuilder {
        ServerBuilder {
            port: 0,
            host: None,
            server_name: concat!("http-toolkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            location: "localhost".to_owned(),
            protocol: Version::Http11,
            backlog: 4096,
            init: None,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            workers: None,
            io_threads: None,
            request_count_limit: None,
            max_connections: 20_000,
            max_requests_per_connection: 10_000,
            shutdown_grace: Duration::from_secs(10),
            responder_timeout: Duration::from_secs(30),
            streaming_limit: None,
            queue_size: None,
            queue_wait: Duration::from_secs(10),
            compression: true,
            transport: Box::new(TcpTransport),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The TCP port (the egg's PORTNUMBER); 0, the default, picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on (the egg's RESTRICTHOST): an IP address or a host name.
    /// By default every address.
    pub fn bind(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The `Server` header value (the egg's SERVERNAME); empty sends none.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// The server's location (the egg's LOCATION), "localhost" by default; handlers read it
    /// with [`Context::location`].
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = location.into();
        self
    }

    /// The protocol version of responses (the egg's PROTOCOL): HTTP/1.1 by default. With
    /// HTTP/1.0 the server never sends chunked bodies.
    pub fn protocol(mut self, version: Version) -> Self {
        self.protocol = version;
        self
    }

    /// The listen backlog (the egg's BACKLOG; the egg's default was 40). Default 4096, so a
    /// burst of thousands of connects waits in the kernel instead of being dropped (a dropped
    /// connect is retried by the client a second later); the kernel caps it at
    /// `net.core.somaxconn`.
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// A callback run once, right after the listener is open (the egg's INIT).
    pub fn init(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.init = Some(Box::new(f));
        self
    }

    /// Byte limits on requests (the egg's `http:read-line-limit` and more).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// All timeouts at once.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The header timeout (slowloris).
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.timeouts.header = d;
        self
    }

    /// The body timeout.
    pub fn body_timeout(mut self, d: Duration) -> Self {
        self.timeouts.body = d;
        self
    }

    /// The write timeout.
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.timeouts.write = d;
        self
    }

    /// The minimum request body rate in bytes per second ([`Timeouts::min_body_rate`]);
    /// `None` turns it off.
    pub fn min_body_rate(mut self, bytes_per_second: Option<u64>) -> Self {
        self.timeouts.min_body_rate = bytes_per_second;
        self
    }

    /// The minimum response write rate in bytes per second ([`Timeouts::min_write_rate`]);
    /// `None` turns it off.
    pub fn min_write_rate(mut self, bytes_per_second: Option<u64>) -> Self {
        self.timeouts.min_write_rate = bytes_per_second;
        self
    }

    /// The keep-alive idle timeout.
    pub fn keep_alive_timeout(mut self, d: Duration) -> Self {
        self.timeouts.keep_alive = d;
        self
    }

    /// The number of worker threads (default 64). Workers run handlers; a handler may block.
    pub fn threads(mut self, n: usize) -> Self {
        self.workers = Some(n.max(1));
        self
    }

    /// How many workers wait for ready connections at once (default: the CPUs this process
    /// may use, at most the number of workers).
    pub fn io_threads(mut self, n: usize) -> Self {
        self.io_threads = Some(n.max(1));
        self
    }

    /// The cap on requests handled at once (the egg's `http:request-count-limit`); beyond it
    /// a request gets 503 with `Retry-After`. Default: the workers minus the I/O threads, so
    /// some worker is always free to answer.
    pub fn request_count_limit(mut self, n: usize) -> Self {
        self.request_count_limit = Some(n.max(1));
        self
    }

    /// How many complete requests may wait for a worker when every one is busy (default: 16
    /// per worker); beyond it a request gets 503 with `Retry-After`. A waiting request is a
    /// parked connection: it holds no thread. 0 turns the queue off.
    pub fn queue_size(mut self, n: usize) -> Self {
        self.queue_size = Some(n);
        self
    }

    /// How long a complete request may wait in the queue for a worker before it gets 503 with
    /// `Retry-After` (default 10 s).
    pub fn queue_timeout(mut self, d: Duration) -> Self {
        self.queue_wait = d;
        self
    }

    /// The cap on handlers that read their request body from the socket as it arrives, each
    /// holding its worker while it waits for the peer: handlers of streaming routes
    /// ([`Server::streaming_route`]) and of requests with `Expect: 100-continue` (answered
    /// when the handler first reads). Default: half the request-count limit. Past it,
    /// 100-continue bodies are read by the server first like any other, and a streaming
    /// route's request gets 503.
    pub fn streaming_body_limit(mut self, n: usize) -> Self {
        self.streaming_limit = Some(n.max(1));
        self
    }

    /// The cap on open connections (default 20,000); a connection beyond it gets a 503 and is
    /// closed at once.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long a [`Responder`](crate::Responder) may take before the client is answered 503
    /// (default 30 s); see [`Context::responder`].
    pub fn responder_timeout(mut self, d: Duration) -> Self {
        self.responder_timeout = d;
        self
    }

    /// Whether compressible responses of 1 KiB or more are gzipped for clients that accept it
    /// (default on; needs the `gzip` feature, on by default). See the crate docs.
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = on;
        self
    }

    /// The cap on requests served over one connection (default 10,000); the last response
    /// says `Connection: close`.
    pub fn max_requests_per_connection(mut self, n: u32) -> Self {
        self.max_requests_per_connection = n.max(1);
        self
    }

    /// How long a graceful shutdown waits for requests in flight (default 10 s).
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// A custom transport (the egg's listen, accept, get-addresses and hard-close
    /// procedures).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Box::new(transport);
        self
    }

    /// Listens on a Unix domain socket at `path` instead of TCP (Unix systems only).
    #[cfg(unix)]
    pub fn unix(self, path: impl AsRef<Path>) -> Self {
        self.transport(UnixTransport::new(path))
    }

    /// Serves HTTPS: the transport is wrapped in rustls with `config`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Opens the listener and runs the init callback.
    ///
    /// # Errors
    /// Whatever listening fails with (address in use, permission denied, ...), and errors
    /// creating the poller.
    pub fn build(self) -> io::Result<Server> {
        let options = ListenOptions { port: self.port, host: self.host.clone(), backlog: self.backlog };
        #[allow(unused_mut)]
        let mut listener = self.transport.listen(&options)?;
        #[cfg(feature = "tls")]
        if let Some(config) = self.tls.clone() {
            listener = crate::io::tls::wrap_listener(listener, config);
        }
        let local_addr = listener.local_addr()?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.workers.unwrap_or(64);
        let io_threads = self.io_threads.unwrap_or(cpus).min(workers).max(1);
        let request_count_limit =
            self.request_count_limit.unwrap_or_else(|| workers.saturating_sub(io_threads).max(1));
        let pollers = (0..io_threads).map(|_| Poller::new().map(Arc::new)).collect::<io::Result<Vec<_>>>()?;
        let engine = Engine {
            site: Site::new(self.server_name, self.location, self.protocol, self.responder_timeout),
            wire: WireRules { timeouts: self.timeouts, limits: self.limits, abort: AtomicBool::new(false) },
            registry: Registry::new(),
            settings: Settings {
                max_requests_per_connection: self.max_requests_per_connection,
                request_count_limit,
                streaming_limit: self.streaming_limit.unwrap_or((request_count_limit / 2).max(1)),
                queue_wait: self.queue_wait,
                compression: self.compression,
            },
            pollers,
            queue: DispatchQueue::new(self.queue_size.unwrap_or(workers * 16)),
            active: AtomicUsize::new(0),
            streaming: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        };
        let shared = Arc::new(Shared::new(
            engine,
            Seats::new(io_threads, workers),
            workers,
            self.max_connections,
            self.shutdown_grace,
        ));
        if let Some(init) = self.init {
            init();
        }
        Ok(Server { shared, listener: Some(listener), local_addr })
    }
}

/// An HTTP server: bound, configured, not yet running until [`run`](Server::run) or
/// [`spawn`](Server::spawn).
///
/// Resources, method handlers, content parsers and hooks can be changed at any time, before
/// or while the server runs (through the [`ServerHandle`], which dereferences to the
/// server).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{Response, Server};
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
/// let handle = server.spawn()?;
/// assert!(handle.find_resource("/index.html").is_some());
/// handle.shutdown();
/// # Ok(()) }
/// ```
pub struct Server {
    shared: Arc<Shared>,
    listener: Option<Box<dyn Listener>>,
    local_addr: LocalAddr,
}

impl Server {
    /// A builder with the defaults.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// Where the server listens.
    pub fn local_addr(&self) -> &LocalAddr {
        &self.local_addr
    }

    /// Adds a resource (the egg's `http:add-resource`) at one path or several; `handler` gets
    /// the request and the decoded arguments (query, then urlencoded body) and returns the
    /// response. The body is parsed by the content parser for its media type first. Replaces
    /// a resource at the same path.
    pub fn add_resource<F>(&self, paths: impl ResourcePaths, handler: F)
    where
        F: Fn(&Request, &Args) -> Response + Send + Sync + 'static,
    {
        self.add_context_resource_arc(paths, plain(handler));
    }

    /// Adds a resource whose handler gets the whole [`Context`]: the body as a stream, the
    /// low-level writer, error pages.
    pub fn add_context_resource<F>(&self, paths: impl ResourcePaths, handler: F)
    where
        F: Fn(&mut Context<'_>) -> Response + Send + Sync + 'static,
    {
        self.add_context_resource_arc(paths, Arc::new(handler));
    }

    fn add_context_resource_arc(&self, paths: impl ResourcePaths, handler: Handler) {
        let paths = paths.into_paths();
        self.shared.engine.registry.update(|t| {
            for p in paths {
                t.resources.insert(p, handler.clone());
            }
        });
    }

    /// Adds a resource with a route pattern (see [`Pattern`] for the syntax: `/hello/{name}`,
    /// `/files/{path...}`, literal segments) for some methods (a [`Method`], a list or array of
    /// them, or [`Methods::Any`]). The handler gets the whole [`Context`]; the captures are
    /// there decoded ([`Context::param`]).
    ///
    /// Routes live in the resource table: a request whose method is routed to resources (GET
    /// and POST by default, see [`resource_handler`](crate::resource_handler)), or whose method
    /// has no method handler at all, is served by the exact resource at its path if there is
    /// one (a single hash lookup), otherwise by the most specific matching pattern (Go 1.22
    /// rules; [`RouteTable`](crate::RouteTable)). A path that patterns match with other
    /// methods only gets 405 with `Allow`. `GET` routes answer `HEAD` too. A handler may
    /// decline with [`Response::next`]: the next matching route is tried.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Methods, Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Get, "/hello/{name}", |cx| {
    ///     Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
    /// }).unwrap();
    /// server.route([Method::Get, Method::Post], "/echo", |cx| Response::text(cx.request().method().to_string())).unwrap();
    /// server.route(Methods::Any, "/any/{rest...}", |_cx| Response::text("anything")).unwrap();
    /// assert!(server.route(Method::Get, "/hello/{other}", |_cx| Response::new(204)).is_err()); // same paths
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RouteError::InvalidPattern`] for a bad pattern; [`RouteError::Duplicate`] and
    /// [`RouteError::Conflict`] when it collides with a route already there.
    pub fn route<F>(&self, methods: impl Into<Methods>, pattern: &str, handler: F) -> Result<(), RouteError>
    where
        F: Fn(&mut Context<'_>) -> Response + Send + Sync + 'static,
    {
        self.route_arc(methods.into(), pattern, Arc::new(handler))
    }

    /// Like [`route`](Server::route), for handlers that read their request body as it
    /// arrives (large uploads): the server does not read the body first, the handler's reads
    /// ([`Context::body`], [`Context::multipart`]) wait for the peer on the worker. Such
    /// handlers are capped ([`ServerBuilder::streaming_body_limit`]); a request past the cap
    /// gets 503. The body size is not limited by [`Limits::max_body`] unless the handler
    /// reads it whole ([`Context::read_body`]). Matched on the request's path as sent
    /// (before the URL transformation).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Read;
    /// use http_server::{Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.streaming_route(Method::Put, "/upload/{name}", |cx| {
    ///     let n = std::io::copy(&mut cx.body(), &mut std::io::sink()).unwrap_or(0);
    ///     Response::text(format!("{n} bytes"))
    /// }).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`route`](Server::route).
    pub fn streaming_route<F>(
        &self,
        methods: impl Into<Methods>,
        pattern: &str,
        handler: F,
    ) -> Result<(), RouteError>
    where
        F: Fn(&mut Context<'_>) -> Response + Send + Sync + 'static,
    {
        let methods = methods.into();
        self.route_arc(methods.clone(), pattern, Arc::new(handler))?;
        let parsed = Pattern::parse(pattern)
            .map_err(|error| RouteError::InvalidPattern { pattern: pattern.to_owned(), error })?;
        self.shared.engine.registry.update(|t| {
            let _ = t.streaming.remove(&parsed);
            t.streaming.insert(parsed, methods, ())
        })
    }

    pub(crate) fn route_arc(
        &self,
        methods: Methods,
        pattern: &str,
        handler: Handler,
    ) -> Result<(), RouteError> {
        let parsed = Pattern::parse(pattern)
            .map_err(|error| RouteError::InvalidPattern { pattern: pattern.to_owned(), error })?;
        self.shared.engine.registry.update(|t| t.routes.insert(parsed, methods, handler))
    }

    /// Serves the files under `root` at `url_prefix` (`"/files"`, `"/"`): a `GET` route
    /// `{url_prefix}/{path...}` with a [`StaticDir`](crate::StaticDir) handler (see there for
    /// what it answers: content types, `index.html`, validators and 304, ranges, HEAD; never
    /// a dotfile, never anything outside the root), and a redirect from the prefix without its
    /// final `/` to the prefix with it.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let server = http_server::Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.serve_dir("/files", std::env::temp_dir()).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`route`](Server::route): an invalid prefix, or routes already there.
    pub fn serve_dir(&self, url_prefix: &str, root: impl Into<std::path::PathBuf>) -> Result<(), RouteError> {
        let prefix = url_prefix.trim_end_matches('/');
        let dir = crate::static_files::dir::StaticDir::new(root);
        self.route(Method::Get, &format!("{prefix}/{{path...}}"), dir.handler("path"))?;
        if !prefix.is_empty() {
            let target = format!("{prefix}/");
            self.route(Method::Get, prefix, move |cx| {
                let location = match cx.request().query() {
                    Some(q) => format!("{target}?{q}"),
                    None => target.clone(),
                };
                Response::redirect(301, &location)
            })?;
        }
        Ok(())
    }

    /// Removes the resource at each path (the egg's `http:remove-resource`), or the route with
    /// each pattern (all its methods); returns how many existed.
    pub fn remove_resource(&self, paths: impl ResourcePaths) -> usize {
        let paths = paths.into_paths();
        self.shared.engine.registry.update(|t| {
            let mut n = 0;
            for p in &paths {
                if t.resources.remove(p.as_str()).is_some() {
                    n += 1;
                } else if let Ok(pattern) = Pattern::parse(p) {
                    let _ = t.streaming.remove(&pattern);
                    if !t.routes.remove(&pattern).is_empty() {
                        n += 1;
                    }
                }
            }
            n
        })
    }

    /// The handler that would serve a GET of the first of `paths` that has one (the egg's
    /// `http:find-resource`): the exact resource, else the most specific route.
    pub fn find_resource(&self, paths: impl ResourcePaths) -> Option<Handler> {
        let table = self.shared.engine.registry.snapshot();
        paths.into_paths().iter().find_map(|p| {
            table.resources.get(p.as_str()).cloned().or_else(|| match table.routes.lookup(&Method::Get, p) {
                crate::handler::route_table::Lookup::Found(r) => Some(r.value.clone()),
                _ => None,
            })
        })
    }

    /// Every registered path and route pattern, sorted.
    pub fn resource_paths(&self) -> Vec<String> {
        let table = self.shared.engine.registry.snapshot();
        let mut v: Vec<String> = table.resources.keys().cloned().collect();
        v.extend(table.routes.patterns().map(|p| p.as_str().to_owned()));
        v.sort();
        v.dedup();
        v
    }

    /// Sets the status handler for `code`: it shapes every response with that status, whoever
    /// made it (a handler, a route, or the server itself: the 404 fallback, 405, 413, the 500
    /// of a panicking handler, 503 when busy or when a responder timed out, 400 for a bad
    /// `Host`...). It gets the context and the response and returns the response to send, or
    /// [`Response::restart`] to serve the request at another URL. Its own result is not
    /// shaped again. Responses to requests that could not be parsed at all (a malformed
    /// head, 408 before a head was complete) are sent without it. A status handler that
    /// panics leaves the default error page.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.set_status_handler(404, |cx, _response| {
    ///     Response::html(format!("<h1>Not here</h1><p>{}</p>", http_server::escape_html(cx.path())))
    ///         .with_status(404)
    /// });
    /// # Ok(()) }
    /// ```
    pub fn set_status_handler<F>(&self, code: u16, handler: F)
    where
        F: Fn(&mut Context<'_>, Response) -> Response + Send + Sync + 'static,
    {
        let h: StatusHandler = Arc::new(handler);
        self.shared.engine.registry.update(|t| {
            t.status_handlers.insert(code, h);
        });
    }

    /// Removes the status handler for `code`; true when there was one.
    pub fn remove_status_handler(&self, code: u16) -> bool {
        self.shared.engine.registry.update(|t| t.status_handlers.remove(&code).is_some())
    }

    /// Sets the handler for a method (the egg's `http:request-method-handler` with PROC). GET
    /// and POST start with [`resource_handler`](crate::resource_handler).
    pub fn set_method_handler<F>(&self, method: Method, handler: F)
    where
        F: Fn(&mut Context<'_>) -> Response + Send + Sync + 'static,
    {
        let h: Handler = Arc::new(handler);
        self.shared.engine.registry.update(|t| {
            t.methods.insert(method, h);
        });
    }

    /// The handler for a method (the egg's `http:request-method-handler` without PROC).
    pub fn method_handler(&self, method: &Method) -> Option<Handler> {
        self.shared.engine.registry.snapshot().methods.get(method).cloned()
    }

    /// Removes the handler for a method: the method then gets 405 (501 for unknown methods).
    pub fn remove_method_handler(&self, method: &Method) -> Option<Handler> {
        self.shared.engine.registry.update(|t| t.methods.remove(method))
    }

    /// Sets the content parser for a media type such as `application/json` (the egg's
    /// `http:content-parser` with PROC).
    pub fn set_content_parser<F>(&self, media_type: &str, parser: F)
    where
        F: Fn(Option<u64>, &Headers, &mut dyn io::Read) -> io::Result<(Content, Vec<u8>)>
            + Send
            + Sync
            + 'static,
    {
        let p: ContentParser = Arc::new(parser);
        let key = media_type.trim().to_ascii_lowercase();
        self.shared.engine.registry.update(|t| {
            t.parsers.insert(key, p);
        });
    }

    /// The content parser for a media type (the egg's `http:content-parser` without PROC).
    pub fn content_parser(&self, media_type: &str) -> Option<ContentParser> {
        self.shared.engine.registry.snapshot().parsers.get(&media_type.trim().to_ascii_lowercase()).cloned()
    }

    /// Sets the parser for media types without one of their own (text by default).
    pub fn set_default_content_parser<F>(&self, parser: F)
    where
        F: Fn(Option<u64>, &Headers, &mut dyn io::Read) -> io::Result<(Content, Vec<u8>)>
            + Send
            + Sync
            + 'static,
    {
        let p: ContentParser = Arc::new(parser);
        self.shared.engine.registry.update(|t| t.default_parser = p);
    }

    /// Sets the fallback handler for paths without a resource (the egg's
    /// `http:fallback-handler`; 404 by default).
    pub fn set_fallback_handler<F>(&self, handler: F)
    where
        F: Fn(&mut Context<'_>) -> Response + Send + Sync + 'static,
    {
        let h: Handler = Arc::new(handler);
        self.shared.engine.registry.update(|t| t.fallback = h);
    }

    /// Sets the error-response handler (the egg's `http:error-response-handler`): code and
    /// message to the HTML of an error page.
    pub fn set_error_response_handler<F>(&self, f: F)
    where
        F: Fn(u16, &str) -> String + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.shared.engine.registry.update(|t| t.error_page = f);
    }

    /// An error response made by the error-response handler (the egg's
    /// `http:write-error-response`).
    pub fn write_error_response(&self, code: u16, message: &str) -> Response {
        let table = self.shared.engine.registry.snapshot();
        Response::html(table.error_page(code, message)).with_status(code)
    }

    /// Sets the URL transformation (the egg's `http:url-transformation`), applied to each
    /// request target before the lookup.
    pub fn set_url_transformation<F>(&self, f: F)
    where
        F: Fn(&str) -> String + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.shared.engine.registry.update(|t| t.url_transform = Some(f));
    }

    /// Sets the startup hook (the egg's `http:startup-hook`), run before the first accept.
    pub fn set_startup_hook<F>(&self, f: F)
    where
        F: Fn() + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.shared.engine.registry.update(|t| t.startup_hook = Some(f));
    }

    /// Sets the error hook (the egg's `http:error-hook`).
    pub fn set_error_hook<F>(&self, f: F)
    where
        F: Fn(&ErrorEvent<'_>) + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.shared.engine.registry.update(|t| t.error_hook = Some(f));
    }

    /// Sets the log hook (the egg's `http:log-hook`), called after each response.
    pub fn set_log_hook<F>(&self, f: F)
    where
        F: Fn(&LogRecord<'_>) + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.shared.engine.registry.update(|t| t.log_hook = Some(f));
    }

    /// Requests handled since startup (the egg's `http:current-request-count`).
    pub fn current_request_count(&self) -> u64 {
        self.shared.engine.requests.load(Ordering::Relaxed)
    }

    /// Requests being handled right now.
    pub fn active_requests(&self) -> usize {
        self.shared.engine.active.load(Ordering::Relaxed)
    }

    /// Open connections, parked or being served.
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.slab).live()
    }

    /// The cap on requests handled at once (the egg's `http:request-count-limit`).
    pub fn request_count_limit(&self) -> usize {
        self.shared.engine.settings.request_count_limit
    }

    /// A handle that asks the server to stop, from any thread; [`run`](Server::run) then
    /// shuts down gracefully and returns.
    pub fn stopper(&self) -> Stopper {
        Stopper { shared: self.shared.clone() }
    }

    /// Runs the server on this thread until [`Stopper::stop`] is called, then shuts down
    /// gracefully.
    ///
    /// # Errors
    /// Errors starting the threads.
    pub fn run(self) -> io::Result<()> {
        let handle = self.spawn()?;
        handle.shared.wait_for_stop_request();
        handle.shutdown();
        Ok(())
    }

    /// Starts the server's threads and returns a handle to it. Dropping the handle shuts the
    /// server down.
    ///
    /// # Errors
    /// Errors starting the threads.
    pub fn spawn(mut self) -> io::Result<ServerHandle> {
        let shared = self.shared.clone();
        let mut listener =
            self.listener.take().ok_or_else(|| io::Error::other("the server was already started"))?;
        let (accept_poll, waker) = AcceptPoll::new(listener.source())?;
        if let Some(hook) = shared.engine.registry.snapshot().startup_hook.clone() {
            hook();
        }
        let mut threads = Threads { acceptor: None, others: Vec::new() };
        let spawn =
            |name: String, f: Box<dyn FnOnce() + Send>| std::thread::Builder::new().name(name).spawn(f);
        let started = (|| -> io::Result<()> {
            for id in 0..shared.workers {
                let s = shared.clone();
                threads
                    .others
                    .push(spawn(format!("http-worker-{id}"), Box::new(move || worker_main(&s, id)))?);
            }
            let s = shared.clone();
            threads.others.push(spawn("http-monitor".to_owned(), Box::new(move || monitor_main(&s)))?);
            let s = shared.clone();
            threads.acceptor = Some(spawn(
                "http-acceptor".to_owned(),
                Box::new(move || acceptor_main(&s, listener, accept_poll)),
            )?);
            Ok(())
        })();
        let handle = ServerHandle { server: self, waker, threads: Mutex::new(Some(threads)) };
        started?;
        Ok(handle)
    }
}

/// Asks a running server to stop; see [`Server::stopper`].
#[derive(Clone)]
pub struct Stopper {
    shared: Arc<Shared>,
}

impl Stopper {
    /// Asks the server to shut down gracefully; returns at once.
    pub fn stop(&self) {
        self.shared.request_stop();
    }
}

struct Threads {
    acceptor: Option<JoinHandle<()>>,
    others: Vec<JoinHandle<()>>,
}

/// A running server: its address and counters, the server's whole API (it dereferences to
/// [`Server`]), and a graceful [`shutdown`](ServerHandle::shutdown).
pub struct ServerHandle {
    server: Server,
    waker: mio::Waker,
    threads: Mutex<Option<Threads>>,
}

impl std::ops::Deref for ServerHandle {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl ServerHandle {
    /// Stops gracefully: stops accepting, closes idle connections, lets requests in flight
    /// finish within the grace period (then interrupts their waits), and joins every thread.
    /// A handler that never returns keeps this waiting. Calling it again does nothing.
    pub fn shutdown(&self) {
        let Some(mut threads) = lock(&self.threads).take() else {
            return;
        };
        let shared = &self.server.shared;
        shared.engine.stop.store(true, Ordering::SeqCst);
        shared.request_stop();
        let _ = self.waker.wake();
        if let Some(a) = threads.acceptor.take() {
            let _ = a.join();
        }
        let mut idle = Vec::new();
        lock(&shared.slab).close_parked(&mut idle);
        close_taken(idle, Instant::now());
        let grace_end = Instant::now() + shared.shutdown_grace;
        let wait_empty = |until: Instant| {
            while lock(&shared.slab).live() > 0 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        wait_empty(grace_end);
        shared.engine.wire.abort.store(true, Ordering::SeqCst);
        wait_empty(Instant::now() + Duration::from_millis(500));
        shared.exit.store(true, Ordering::SeqCst);
        for p in &shared.engine.pollers {
            p.wake();
        }
        shared.seats.wake_all();
        for t in &threads.others {
            t.thread().unpark();
        }
        for t in threads.others {
            let _ = t.join();
        }
        let mut rest = Vec::new();
        lock(&shared.slab).close_rest(&mut rest);
        close_taken(rest, Instant::now());
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
