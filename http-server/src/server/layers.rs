//! Registering middleware: for every request ([`Server::wrap`]) or under a path prefix
//! ([`Server::scope`]).

use std::sync::Arc;

use crate::handler::context::Context;
use crate::handler::context::{Layer, Middleware, Next};
use crate::handler::into_response::IntoResponse;
use crate::handler::middleware::scope_segments;
use crate::handler::response::Response;
use crate::server::Server;

impl Server {
    /// Adds middleware around every response: `f` gets the context and the rest of the
    /// chain ([`Next`]), and returns the response (anything [`IntoResponse`]), calling
    /// [`next.run(cx)`](Next::run) for the inner layers and the handler, or answering early
    /// without it. Layers run in the order they were added, the first outermost; live while
    /// the server runs.
    ///
    /// They run around the server's own answers too: 404 and 405, 413 and 400 for a body
    /// the server refuses, 417, 503 when busy or when a responder timed out, 500 for a
    /// panicking handler, static files, and the head of a stream from a
    /// [`Responder`](crate::Responder). Not around answers to requests that could not be
    /// parsed (no request to show them), a 408 sent when a deadline passes while the
    /// connection waits, nor the 503 of a connection over
    /// [`max_connections`](crate::ServerBuilder::max_connections).
    ///
    /// What a layer sees and does:
    /// - the request routed: [`Context::path`] decoded, after the URL transformation, and
    ///   the query's [`args`](Context::args); route captures are not known yet;
    /// - [status handlers](Server::set_status_handler) run inside the chain (a layer sees
    ///   their response), and not on a layer's own early answer;
    /// - a request answered through a [`Responder`](crate::Responder) passes the chain
    ///   twice: around its handler (after `next.run`,
    ///   [`Context::responder_taken`] is true and the response is a placeholder that is
    ///   not sent) and around the responder's answer, where `next.run` returns that answer
    ///   without running the handler again;
    /// - a panic in a layer answers 500 to the layers around it;
    /// - a layer may not return [`Response::next`] or [`Response::restart`] (500).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, HttpError, Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// // Outermost: time every response, the server's own 404 included.
    /// server.wrap(|cx, next| {
    ///     let started = std::time::Instant::now();
    ///     let response = next.run(cx);
    ///     response.with_header("Server-Timing", &format!("total;dur={}", started.elapsed().as_millis()))
    /// });
    /// // Then: answer early when a header is missing.
    /// server.wrap(|cx, next| {
    ///     if cx.request().headers().get("x-api-key").is_none() {
    ///         return Err(HttpError::unauthorized("an X-Api-Key is needed"));
    ///     }
    ///     Ok(next.run(cx))
    /// });
    /// let r = test::get(&server, "/nowhere");
    /// assert_eq!(r.status(), 401);
    /// assert!(r.header("server-timing").is_some());
    /// assert_eq!(test::request(&server, http_utils::Method::Get, "/nowhere").header("X-Api-Key", "k").send().status(), 404);
    /// # Ok(()) }
    /// ```
    pub fn wrap<F, R>(&self, f: F)
    where
        F: Fn(&mut Context<'_>, Next<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.add_layer(
            None,
            Arc::new(move |cx: &mut Context<'_>, next: Next<'_>| f(cx, next).into_response()),
        );
    }

    /// Adds middleware that is a value ([`Middleware`]), such as the built-in
    /// [`Cors`](crate::Cors), [`BearerAuth`](crate::BearerAuth) and
    /// [`RequestId`](crate::RequestId); otherwise as [`wrap`](Server::wrap).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, Cors, RequestId, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.wrap_with(RequestId::new());
    /// server.wrap_with(Cors::new().allow_origin("https://app.example"));
    /// let r = test::request(&server, http_utils::Method::Get, "/missing")
    ///     .header("Origin", "https://app.example")
    ///     .send();
    /// assert_eq!(r.status(), 404);
    /// assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    /// assert!(r.header("x-request-id").is_some());
    /// # Ok(()) }
    /// ```
    pub fn wrap_with(&self, middleware: impl Middleware) {
        self.add_layer(None, Arc::new(middleware));
    }

    /// Middleware for the requests at or under `prefix` only (`"/api"`: `/api`, `/api/`,
    /// `/api/notes`, not `/apis`). A path is under the prefix when its segments, each
    /// decoded, begin with the prefix's (as a route `/api/{rest...}` matches), or when its
    /// fully decoded path does (`/api%2Fx`, as an exact resource is found): a layer that
    /// guards a prefix runs rather than not. Scoped and global layers run in the one order
    /// they were added.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, BearerAuth, Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Get, "/api/notes", |_cx| Response::text("[]")).unwrap();
    /// server.route(Method::Get, "/health", |_cx| Response::text("ok")).unwrap();
    /// server.scope("/api").wrap_with(BearerAuth::new(["s3cret"]));
    /// assert_eq!(test::get(&server, "/api/notes").status(), 401);
    /// assert_eq!(test::get(&server, "/health").status(), 200);
    /// # Ok(()) }
    /// ```
    pub fn scope(&self, prefix: &str) -> Scope<'_> {
        Scope { server: self, prefix: scope_segments(prefix) }
    }

    fn add_layer(&self, scope: Option<Arc<[String]>>, middleware: Arc<dyn Middleware>) {
        let layer = Layer::new(scope, middleware);
        self.shared.engine.registry.update(|t| t.middleware.push(layer));
    }
}

/// The requests under a path prefix, to add middleware for them only: see
/// [`Server::scope`].
pub struct Scope<'s> {
    server: &'s Server,
    /// `None`: the root, every request.
    prefix: Option<Arc<[String]>>,
}

impl Scope<'_> {
    /// As [`Server::wrap`], for the requests under the prefix; returns the scope for more.
    pub fn wrap<F, R>(&self, f: F) -> &Self
    where
        F: Fn(&mut Context<'_>, Next<'_>) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        let run = move |cx: &mut Context<'_>, next: Next<'_>| -> Response { f(cx, next).into_response() };
        self.server.add_layer(self.prefix.clone(), Arc::new(run));
        self
    }

    /// As [`Server::wrap_with`], for the requests under the prefix; returns the scope for
    /// more.
    pub fn wrap_with(&self, middleware: impl Middleware) -> &Self {
        self.server.add_layer(self.prefix.clone(), Arc::new(middleware));
        self
    }

    /// A body limit of their own for the requests under the prefix, in place of the
    /// server's [`Limits::max_body`](http_utils::Limits) (larger for an upload route,
    /// smaller for a JSON API). It holds where the server's would: a `Content-Length` over
    /// it is answered 413 before a byte of the body is read, a chunked body is cut off at
    /// it, and [`Context::read_body`], [`json`](Context::json), [`form`](Context::form),
    /// [`parse_content`](Context::parse_content) and [`multipart`](Context::multipart)
    /// read at most that much (the limit is [`Context::body_limit`]). Of several scopes a
    /// path is under, the longest prefix's limit holds. Buffered bodies still share the
    /// server's [`body_buffer_limit`](crate::ServerBuilder::body_buffer_limit); a route that
    /// takes very large bodies is better a
    /// [`streaming_route`](Server::streaming_route).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, Context, HttpError, Response, Server};
    /// use http_utils::{Limits, Method};
    /// fn size(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    ///     Ok(Response::text(cx.read_body()?.len().to_string()))
    /// }
    /// let limits = Limits { max_body: 1024, ..Limits::default() };
    /// let server = Server::builder().port(0).bind("127.0.0.1").limits(limits).build()?;
    /// server.route(Method::Post, "/upload/{name}", size).unwrap();
    /// server.route(Method::Post, "/notes", size).unwrap();
    /// server.scope("/upload").max_body(1 << 20);
    /// let big = vec![b'x'; 64 * 1024];
    /// assert_eq!(test::request(&server, Method::Post, "/upload/a").body(big.clone()).send().status(), 200);
    /// assert_eq!(test::request(&server, Method::Post, "/notes").body(big).send().status(), 413);
    /// # Ok(()) }
    /// ```
    pub fn max_body(&self, bytes: u64) -> &Self {
        let entry = (self.prefix.clone(), bytes);
        self.server.shared.engine.registry.update(|t| t.body_limits.push(entry.clone()));
        self
    }
}
