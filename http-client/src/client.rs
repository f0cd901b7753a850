//! `Client`: the shared pool, proxies, cookie jar and TLS settings; `send` through the chain of
//! interceptors ([`Next`], public as `intercept::Next`), and redirects.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http_utils::{encode_component, encode_form_with, Headers, Limits, Method, Request, Version};
#[cfg(feature = "tls")]
use rustls::ClientConfig;

use crate::dial::Overrides;
use crate::error::{Error, Result, TimeoutKind};
use crate::exchange::{asked_to_switch, exchange, Settings, Target};
use crate::jar::Jar;
use crate::pool::Pool;
use crate::proxy::{proxy_refusal, Proxy, ProxyEnv, ProxyPattern};
use crate::redirect::{next_hop, Chain, Rules, Step};
use crate::request::{buffer_unsized_body, request_head, Added, IntoRequest};
use crate::response::Response;
use crate::timeouts::Timeouts;
use crate::urls::parse_url;

/// Bytes of a redirect response's body read to keep its connection; past this it is closed.
const REDIRECT_DRAIN: u64 = 64 * 1024;

/// What every clone of a [`Client`] shares.
pub(crate) struct Inner {
    pub(crate) timeouts: Timeouts,
    pub(crate) limits: Limits,
    pub(crate) redirects: Rules,
    pub(crate) user_agent: Option<String>,
    pub(crate) pool: Arc<Pool>,
    pub(crate) proxies: RwLock<Vec<(ProxyPattern, Arc<Proxy>)>>,
    pub(crate) proxy_env: Option<ProxyEnv>,
    /// Addresses given for host names instead of looking them up.
    pub(crate) resolve: Overrides,
    /// The local address connections are bound to.
    pub(crate) local_address: Option<std::net::IpAddr>,
    /// The cookie jar (feature `cookies`; `None` when switched off).
    pub(crate) jar: Option<Jar>,
    /// The TLS configuration (feature `tls`).
    #[cfg(feature = "tls")]
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) spin: Duration,
    pub(crate) waiting: AtomicUsize,
    pub(crate) spin_slots: usize,
    pub(crate) gzip: bool,
    pub(crate) default_headers: Headers,
    pub(crate) interceptors: Vec<Arc<Interceptor>>,
}

/// An HTTP/1.1 client: a pool of persistent connections shared by every clone and every thread,
/// proxies, a cookie jar and TLS settings.
///
/// `Client` is `Send + Sync`; cloning it is cheap (an `Arc`) and clones share everything.
///
/// ```no_run
/// let client = http_client::Client::new();
/// let resp = client.send("http://localhost:4242/").unwrap();
/// println!("{}", resp.status_line());
/// println!("{}", resp.text().unwrap());
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeouts", &self.inner.timeouts)
            .field("limits", &self.inner.limits)
            .field("redirects", &self.inner.redirects)
            .field("cookies", &self.inner.jar.is_some())
            .field("idle_connections", &self.inner.pool.idle_count())
            .finish()
    }
}

impl Client {
    /// Sends a request (or a GET for a URL) and returns the response with its body still to be
    /// read (the egg's `http:send-request`). Redirects are followed as configured; cookies are
    /// sent and kept when the jar is on; gzip bodies are decoded when the client asked for
    /// them. The request passes through the client's default headers, then its interceptors
    /// (see [`intercept`](crate::intercept)).
    ///
    /// # Errors
    /// Every [`Error`]: a bad URL, connection and TLS failures, timeouts, malformed responses,
    /// proxy refusals, too many redirects. An error status (4xx, 5xx) is a response, not an
    /// error.
    pub fn send(&self, req: impl IntoRequest) -> Result<Response> {
        self.send_within(req.into_request(), self.inner.timeouts.overall)
    }

    /// [`Client::send`] with `overall` as the deadline of the whole request.
    pub(crate) fn send_within(&self, req: Request, overall: Option<Duration>) -> Result<Response> {
        self.send_tries(req, overall, None)
    }

    /// [`Client::send`] with `overall` as the deadline of the whole request and `per_try` as
    /// the timeout of each try (each pass through the innermost [`Next::run`]); counts the
    /// tries into the response, or into the error when there was more than one.
    pub(crate) fn send_tries(
        &self,
        mut req: Request,
        overall: Option<Duration>,
        per_try: Option<Duration>,
    ) -> Result<Response> {
        let deadline = overall.map(|d| Instant::now() + d);
        self.add_default_headers(&mut req)?;
        let count = AtomicU32::new(0);
        let tries = Tries { deadline, per_try, count: &count };
        let result = if self.inner.interceptors.is_empty() {
            self.send_try(req, &tries)
        } else {
            Next::new(self, &self.inner.interceptors, tries).run(req)
        };
        let attempts = count.load(Ordering::Relaxed);
        match result {
            Ok(mut resp) => {
                resp.attempts = attempts;
                Ok(resp)
            }
            Err(last) if attempts > 1 => Err(Error::Retried { attempts, last: Box::new(last) }),
            Err(e) => Err(e),
        }
    }

    /// One try: the request sent (redirects followed) within the try's own timeout, if it
    /// has one, up to the final response's head; its body is then read within the overall
    /// deadline. A try that ran out of its own time fails with [`TimeoutKind::Try`].
    fn send_try(&self, req: Request, tries: &Tries<'_>) -> Result<Response> {
        tries.count.fetch_add(1, Ordering::Relaxed);
        let Some(per_try) = tries.per_try else {
            return self.send_direct(req, tries.deadline, tries.deadline);
        };
        let try_end = Instant::now() + per_try;
        let (head_deadline, try_first) = match tries.deadline {
            Some(overall) if overall <= try_end => (overall, false),
            _ => (try_end, true),
        };
        self.send_direct(req, Some(head_deadline), tries.deadline).map_err(|e| match e {
            Error::Timeout(TimeoutKind::Deadline) if try_first => Error::Timeout(TimeoutKind::Try),
            e => e,
        })
    }

    /// Adds the client's default header fields that `req` does not have.
    pub(crate) fn add_default_headers(&self, req: &mut Request) -> Result<()> {
        if !self.inner.default_headers.is_empty() {
            let headers = req.headers_mut();
            for (name, value) in self.inner.default_headers.iter_as_written() {
                if !headers.contains(name) {
                    headers.append(name, value).map_err(Error::InvalidHeader)?;
                }
            }
        }
        Ok(())
    }

    /// Sends `req` and follows redirects: what the innermost interceptor's `Next::run` does.
    /// `deadline` bounds everything up to the final response's head, `body_deadline` the
    /// reading of its body.
    fn send_direct(
        &self,
        mut req: Request,
        deadline: Option<Instant>,
        body_deadline: Option<Instant>,
    ) -> Result<Response> {
        let mut url = parse_url(req.url())?;
        if req.version() == Version::Http10 {
            buffer_unsized_body(&mut req, self.inner.limits.max_body)?;
        }
        let mut chain = Chain { followed: 0, credentials: true };
        // Bounded by the redirect count: each round follows one redirect or returns.
        loop {
            let resp = self.send_once(&mut req, &url, deadline, body_deadline)?;
            let location = resp.header("location");
            match next_hop(&self.inner.redirects, &mut chain, &mut req, &url, resp.status(), location)? {
                Step::Answer => return Ok(resp),
                Step::Follow(next) => {
                    let mut resp = resp;
                    let _ = resp.drain(REDIRECT_DRAIN);
                    drop(resp);
                    req.set_url(next.as_str());
                    url = next;
                }
            }
        }
    }

    /// One hop: the request to `url` as it stands.
    fn send_once(
        &self,
        req: &mut Request,
        url: &url::Url,
        deadline: Option<Instant>,
        body_deadline: Option<Instant>,
    ) -> Result<Response> {
        let inner = &*self.inner;
        let https = url.scheme() == "https";
        if https && !cfg!(feature = "tls") {
            return Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// URL" });
        }
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
        let proxy = self.proxy_for(url, host, port)?;
        let added =
            Added { user_agent: inner.user_agent.as_deref(), gzip: inner.gzip, jar: inner.jar.as_ref() };
        // Through an HTTP proxy, a request to switch protocols (a WebSocket) goes through a
        // CONNECT tunnel, as https does: a forwarding proxy would not pass the new protocol on.
        let http_proxy = proxy.as_deref().is_some_and(|p| !p.is_socks());
        let tunnel = https || (http_proxy && asked_to_switch(req));
        let (head, asked_gzip) = request_head(req, url, proxy.as_deref(), tunnel, &added)?;
        let settings = Settings {
            connect_timeout: inner.timeouts.connect,
            read_timeout: inner.timeouts.read,
            write_timeout: inner.timeouts.write,
            deadline,
            body_deadline,
            limits: &inner.limits,
            resolve: &inner.resolve,
            local: inner.local_address,
            pool: &inner.pool,
            #[cfg(feature = "tls")]
            tls: &inner.tls,
            spin: inner.spin,
            waiting: &inner.waiting,
            spin_slots: inner.spin_slots,
        };
        let target = Target { https, tunnel, host, port, proxy: proxy.as_deref() };
        let (resp_head, body) = exchange(&settings, &target, req, &head)?;
        self.answer(proxy.as_deref(), url, resp_head, body, asked_gzip)
    }

    /// The response to a request sent to `url` (through `proxy`): a proxy's 407 as an error,
    /// its cookies kept in the jar, its body decoded when the client asked for a coding.
    pub(crate) fn answer(
        &self,
        proxy: Option<&Proxy>,
        url: &url::Url,
        resp_head: http_utils::ResponseHead,
        body: crate::wire::RawBody,
        asked_gzip: bool,
    ) -> Result<Response> {
        let inner = &*self.inner;
        if let (Some(p), 407) = (proxy.filter(|p| !p.is_socks()), resp_head.status) {
            let headers = resp_head.headers.clone();
            return Err(proxy_refusal(p, headers, Response::new(resp_head, url.clone(), body)));
        }
        if let Some(jar) = &inner.jar {
            jar.store(resp_head.headers.get_all("set-cookie"), url);
        }
        #[allow(unused_mut)]
        let mut resp = Response::new(resp_head, url.clone(), body);
        #[cfg(feature = "gzip")]
        if asked_gzip {
            resp.decode_gzip();
        }
        #[cfg(not(feature = "gzip"))]
        let _ = asked_gzip;
        Ok(resp)
    }

    /// The proxy for `url`: the most recently added matching rule, then the environment (an
    /// error when the environment's proxy for it cannot be used: never a direct connection).
    pub(crate) fn proxy_for(&self, url: &url::Url, host: &str, port: u16) -> Result<Option<Arc<Proxy>>> {
        {
            let rules = self.inner.proxies.read().unwrap_or_else(|p| p.into_inner());
            if let Some((_, p)) = rules.iter().rev().find(|(pat, _)| pat.matches(host)) {
                return Ok(Some(p.clone()));
            }
        }
        let Some(env) = self.inner.proxy_env.as_ref() else { return Ok(None) };
        Ok(env.proxy_for(url.scheme(), host, port)?.map(|p| Arc::new(p.clone())))
    }

    /// Starts a WebSocket to `url` (`ws://` or `wss://`): set headers, subprotocols,
    /// permessage-deflate, limits and timeouts on the builder, then
    /// [`connect`](crate::WebSocketBuilder::connect). See [`websocket`](crate::websocket).
    ///
    /// ```no_run
    /// use http_client::websocket::Message;
    /// let mut ws = http_client::Client::new().websocket("ws://127.0.0.1:8080/echo").connect()?;
    /// ws.send(Message::Text("hi".into()))?;
    /// assert_eq!(ws.recv()?, Message::Text("hi".into()));
    /// ws.close(1000, "")?;
    /// # Ok::<(), http_client::Error>(())
    /// ```
    pub fn websocket(&self, url: &str) -> crate::WebSocketBuilder {
        crate::WebSocketBuilder::new(self.clone(), url)
    }

    /// GET `req` (a URL or a request) and return the body as text: the egg's `http:GET`,
    /// which gave the body alone. Unlike the egg, a status of 400 or more is an error here
    /// (the body of an error page is not mistaken for the resource). [`Client::get`] gives
    /// the whole [`Response`] instead.
    ///
    /// ```no_run
    /// let page = http_client::Client::new().get_text("http://localhost:4242/")?;
    /// # Ok::<(), http_client::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::Status`] for a status of 400 or more; [`Error::NotUtf8`];
    /// [`Error::BodyTooLarge`] past `Limits::max_body`.
    pub fn get_text(&self, req: impl IntoRequest) -> Result<String> {
        let mut req = req.into_request();
        req.set_method(Method::Get);
        text_of(self.send(req)?)
    }

    /// POST urlencoded `pairs` to `req` and return the body as text (the egg's `http:POST`).
    /// Sets `Content-Type: application/x-www-form-urlencoded`.
    ///
    /// # Errors
    /// As [`Client::get_text`].
    pub fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        req: impl IntoRequest,
        pairs: &[(K, V)],
    ) -> Result<String> {
        let mut req = req.into_request();
        req.headers_mut()
            .set("Content-Type", "application/x-www-form-urlencoded")
            .map_err(Error::InvalidHeader)?;
        self.post_form_with(req, pairs, "&", "=", encode_component)
    }

    /// POST `pairs` joined the egg's way: each name and value passed through `encoder`, name and
    /// value separated by `kv_delim` (DELIM2), pairs by `pair_delim` (DELIM1). The request's own
    /// `Content-Type` is kept. Returns the body as text.
    ///
    /// ```no_run
    /// use http_client::{Client, Method, Request};
    /// let req = Request::new(Method::Post, "http://localhost:4242/pairs")
    ///     .with_header("Content-Type", "text/x-pairs")
    ///     .unwrap();
    /// // Sends the body `A:1;B:X Y`.
    /// let answer = Client::new().post_form_with(req, &[("a", "1"), ("b", "x y")], ";", ":", |s| s.to_uppercase());
    /// # let _ = answer;
    /// ```
    ///
    /// # Errors
    /// As [`Client::get_text`].
    pub fn post_form_with<K: AsRef<str>, V: AsRef<str>>(
        &self,
        req: impl IntoRequest,
        pairs: &[(K, V)],
        pair_delim: &str,
        kv_delim: &str,
        encoder: impl Fn(&str) -> String,
    ) -> Result<String> {
        let mut req = req.into_request();
        req.set_method(Method::Post);
        req.set_body(encode_form_with(pairs, pair_delim, kv_delim, encoder));
        text_of(self.send(req)?)
    }

    /// Closes every idle connection (the egg's `http:close-all-connections!`). Connections in use
    /// by unread responses are closed when those are done.
    pub fn close_all_connections(&self) {
        self.inner.pool.close_all();
    }

    /// Number of idle connections in the pool.
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_count()
    }

    /// Sends requests for hosts matching `pattern` through `proxy` (the egg's `http:add-proxy`).
    /// The most recently added matching rule wins (the first added has the least priority);
    /// rules win over the environment.
    ///
    /// ```
    /// use http_client::{Client, Proxy, ProxyPattern};
    /// let client = Client::new();
    /// client.add_proxy(ProxyPattern::Any, Proxy::new("http://127.0.0.1:3128").unwrap());
    /// client.add_proxy("intranet.example", Proxy::new("http://127.0.0.1:8080").unwrap());
    /// client.remove_all_proxies();
    /// ```
    pub fn add_proxy(&self, pattern: impl Into<ProxyPattern>, proxy: Proxy) {
        let mut rules = self.inner.proxies.write().unwrap_or_else(|p| p.into_inner());
        rules.push((pattern.into(), Arc::new(proxy)));
    }

    /// Removes every proxy rule added with [`Client::add_proxy`] (the egg's
    /// `http:remove-all-proxies!`). Proxies from the environment stay.
    pub fn remove_all_proxies(&self) {
        self.inner.proxies.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Empties the cookie jar.
    pub fn clear_cookies(&self) {
        if let Some(jar) = &self.inner.jar {
            jar.clear();
        }
    }

    /// The `Cookie` header value the jar would send to `url` (empty when none match or the jar
    /// is off).
    pub fn cookies_for(&self, url: &str) -> String {
        let (Some(jar), Ok(url)) = (&self.inner.jar, parse_url(url)) else { return String::new() };
        jar.cookies_for(&url)
    }
}

fn text_of(resp: Response) -> Result<String> {
    resp.error_for_status()?.text()
}

/// An interceptor as the client keeps it.
pub(crate) type Interceptor = dyn Fn(Request, &Next<'_>) -> Result<Response> + Send + Sync;

/// The time bounds of one request's tries, and their count.
#[derive(Clone, Copy)]
struct Tries<'a> {
    /// The overall deadline.
    deadline: Option<Instant>,
    /// The timeout of each try.
    per_try: Option<Duration>,
    /// Tries made so far.
    count: &'a AtomicU32,
}

/// The rest of the chain below an interceptor; [`run`](Next::run) passes a request on.
pub struct Next<'a> {
    client: &'a Client,
    rest: &'a [Arc<Interceptor>],
    tries: Tries<'a>,
}

impl<'a> Next<'a> {
    fn new(client: &'a Client, rest: &'a [Arc<Interceptor>], tries: Tries<'a>) -> Next<'a> {
        Next { client, rest, tries }
    }

    /// Passes `req` to the next interceptor, or, below the last one, sends it (following
    /// redirects) and returns the response with its body still to be read. Each send below
    /// the last interceptor is one try: it counts in
    /// [`Response::attempts`](crate::Response::attempts) and runs within the request's
    /// [per-try timeout](crate::RequestBuilder::try_timeout), if it has one.
    ///
    /// # Errors
    /// As [`Client::send`](crate::Client::send), or what an interceptor below returns.
    pub fn run(&self, req: Request) -> Result<Response> {
        match self.rest.split_first() {
            Some((first, rest)) => first(req, &Next { client: self.client, rest, tries: self.tries }),
            None => self.client.send_try(req, &self.tries),
        }
    }

    /// The client the request is being sent with.
    pub fn client(&self) -> &Client {
        self.client
    }

    /// When the client's overall timeout for this request runs out, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.tries.deadline
    }
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("interceptors_left", &self.rest.len()).finish()
    }
}
