//! The server's API: the builder (the egg's `http:make-server`), the [`Server`] with the
//! resource table and parameters that can change while it runs, and the running handle.
//!
//! ```text
//!   ServerBuilder ──build──► Server (listener bound, engine made) ──spawn──► ServerHandle
//!                                  │ add_resource, route, hooks...            │ shutdown: stop
//!                                  └──────────── run (blocks until Stopper::stop) ┘ accepting,
//!                                                 finish in-flight requests, close idle ones
//! ```

mod builder;
mod handle;
mod layers;
mod signals;
mod systemd;

pub use builder::{ServerBuilder, DEFAULT_MAX_STREAMS};
pub use handle::{ServerHandle, Stopper};
pub use layers::Scope;

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http_utils::{Headers, Method, Request};

use crate::handler::content::Args;
use crate::handler::content::{Content, ContentParser};
use crate::handler::context::Context;
use crate::handler::context::{Handler, StatusHandler};
use crate::handler::dispatch::boxed;
use crate::handler::dispatch::plain;
use crate::handler::hooks::{ErrorEvent, LogRecord};
use crate::handler::into_response::IntoResponse;
use crate::handler::registry::ResourcePaths;
use crate::handler::response::Response;
use crate::handler::route::Pattern;
use crate::handler::route_table::{Methods, RouteError};
use crate::io::lock;
use crate::io::transport::{Listener, LocalAddr};
use crate::runtime::shared::Shared;

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
    pub(in crate::server) shared: Arc<Shared>,
    pub(in crate::server) listeners: Vec<Box<dyn Listener>>,
    pub(in crate::server) local_addrs: Vec<LocalAddr>,
    /// Per listener: its connections are TLS.
    pub(in crate::server) secure: Vec<bool>,
    /// SIGTERM and SIGINT shut it down.
    pub(in crate::server) signals: bool,
}

impl Server {
    /// The engine its connections run on.
    pub(crate) fn engine(&self) -> &crate::connection::engine::Engine {
        &self.shared.engine
    }

    /// A builder with the defaults.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// The value of type `T` given with [`ServerBuilder::state`], if one was: what handlers
    /// read with [`Context::state`], for code outside them (a thread that publishes to it,
    /// `main` after the server stopped).
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.shared.engine.site.state.get::<T>()
    }

    /// Where the server listens (the first of its listeners, when it has several).
    pub fn local_addr(&self) -> &LocalAddr {
        &self.local_addrs[0]
    }

    /// Every address the server listens on, in the order of its listeners.
    pub fn local_addrs(&self) -> &[LocalAddr] {
        &self.local_addrs
    }

    /// The URL of the first listener, for a client on this machine (tests, mostly):
    /// `http://127.0.0.1:PORT` (`https` for TLS; an address the server binds names itself,
    /// `[::1]` for every IPv6 address and `127.0.0.1` for every IPv4 one or both). A Unix
    /// socket or a custom transport gives its address as [`LocalAddr`] shows it.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let server = http_server::Server::builder().port(0).bind("127.0.0.1").build()?;
    /// let port = server.local_addr().port().unwrap();
    /// assert_eq!(server.url(), format!("http://127.0.0.1:{port}"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        let scheme = if self.secure.first().copied().unwrap_or(false) { "https" } else { "http" };
        match &self.local_addrs[0] {
            LocalAddr::Ip(a) => {
                let ip = match a.ip() {
                    std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
                    // "Every address" is dual-stack by default: IPv4's loopback always answers.
                    std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
                    ip => ip,
                };
                format!("{scheme}://{}", std::net::SocketAddr::new(ip, a.port()))
            }
            other => other.to_string(),
        }
    }

    /// Adds a resource (the egg's `http:add-resource`) at one path or several; `handler` gets
    /// the request and the decoded arguments (query, then urlencoded body) and returns the
    /// response. The body is parsed by the content parser for its media type first. Replaces
    /// a resource at the same path.
    ///
    /// A resource answers the methods routed to resources: GET, HEAD (as GET, without the
    /// body) and POST by default, any method (PUT, DELETE, ...) once
    /// [`set_method_handler(method, resource_handler)`](crate::resource_handler) routes it
    /// there. Other methods get 405 with `Allow`. For a handler per method use
    /// [`route`](Server::route), which needs no method handler.
    pub fn add_resource<F, R>(&self, paths: impl ResourcePaths, handler: F)
    where
        F: Fn(&Request, &Args) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.add_context_resource_arc(paths, plain(handler));
    }

    /// Adds a resource whose handler gets the whole [`Context`]: the body as a stream, the
    /// low-level writer, error pages. It answers the methods
    /// [`add_resource`](Server::add_resource) says.
    pub fn add_context_resource<F, R>(&self, paths: impl ResourcePaths, handler: F)
    where
        F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.add_context_resource_arc(paths, boxed(handler));
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
    /// Any method works without a method handler: `route(Method::Put, ...)` is all a PUT
    /// route needs, for DELETE, PATCH and extension methods alike. A request is served by
    /// the routes when its method has no method handler of its own or is routed to
    /// resources ([`resource_handler`](crate::resource_handler): GET and POST by default);
    /// then the exact resource at its path answers first if there is one (a single hash
    /// lookup; resources answer only the methods routed to resources), otherwise the most
    /// specific matching pattern (Go 1.22 rules; [`RouteTable`](crate::RouteTable)). A
    /// method with a method handler of one's own
    /// ([`set_method_handler`](Server::set_method_handler)) goes to that handler, its routes
    /// untried. A path that patterns match with other methods only gets 405 with `Allow`.
    /// `GET` routes answer `HEAD` too. A handler may decline with [`Response::next`]: the
    /// next matching route is tried.
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
    pub fn route<F, R>(
        &self,
        methods: impl Into<Methods>,
        pattern: &str,
        handler: F,
    ) -> Result<(), RouteError>
    where
        F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.route_arc(methods.into(), pattern, boxed(handler))
    }

    /// Like [`route`](Server::route), for handlers that read their request body as it
    /// arrives (large uploads): the server does not read the body first, the handler's reads
    /// ([`Context::body`], [`Context::multipart`]) wait for the peer on the worker. Such
    /// handlers are capped ([`ServerBuilder::streaming_body_limit`]); a request past the cap
    /// gets 503. The body size is not limited by [`Limits::max_body`](http_utils::Limits) unless the handler
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
    pub fn streaming_route<F, R>(
        &self,
        methods: impl Into<Methods>,
        pattern: &str,
        handler: F,
    ) -> Result<(), RouteError>
    where
        F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        let methods = methods.into();
        self.route_arc(methods.clone(), pattern, boxed(handler))?;
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
    /// and POST start with [`resource_handler`](crate::resource_handler); other methods have
    /// none and go to the routes ([`route`](Server::route) needs no method handler).
    ///
    /// The handler takes every request of its method: routes and resources are not tried
    /// unless it calls [`resource_handler`](crate::resource_handler) (or is it). Register
    /// `resource_handler` for a method to let exact resources
    /// ([`add_resource`](Server::add_resource)) answer it too.
    pub fn set_method_handler<F, R>(&self, method: Method, handler: F)
    where
        F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        let h: Handler = boxed(handler);
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
    pub fn set_fallback_handler<F, R>(&self, handler: F)
    where
        F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        let h: Handler = boxed(handler);
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
        Response::html(table.error_page(code, message)).with_status(code).answering_error(message.to_owned())
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

    /// The egg's debug switch (`((http:make-server 4242) #t)`): with `on`, a line per
    /// request on stderr (the peer, the request line, the status, the body bytes, the time,
    /// and why the connection closes if it does; see [`LogRecord`]'s `Display`). Live: it
    /// can be turned on and off while the server runs. Beside it, the server always writes
    /// its own troubles (handler panics, accept failures, failed handshakes, deadlines that
    /// passed) to the `log` crate, target `http_server`.
    pub fn set_debug(&self, on: bool) {
        self.shared.engine.registry.update(|t| t.debug = on);
    }

    /// Requests handled since startup (the egg's `http:current-request-count`).
    pub fn current_request_count(&self) -> u64 {
        self.shared.requests()
    }

    /// Requests being handled right now: the slots of the request-count limit that are
    /// taken (a worker serving pipelined requests holds one between them too).
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
}
