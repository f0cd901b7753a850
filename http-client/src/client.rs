//! `Client`: the shared pool, proxies, cookie jar and TLS settings, and `send` with redirects.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use cookie_store::CookieStore;
use http_utils::{
    encode_component, encode_form_with, write_request_head, Body, Headers, Limits, Method, Request, Version,
};
use rustls::ClientConfig;

use crate::error::{Error, Result};
use crate::exchange::{exchange, Settings, Target};
use crate::intercept::{Interceptor, Next};
use crate::pool::{Pool, PoolConfig};
use crate::proxy::{Proxy, ProxyEnv, ProxyPattern};
use crate::response::Response;
use crate::tls::{Pem, TlsSettings};

/// Default of [`ClientBuilder::spin_wait`].
const DEFAULT_SPIN: Duration = Duration::from_micros(50);

/// Bytes of a redirect response's body read to keep its connection; past this it is closed.
const REDIRECT_DRAIN: u64 = 64 * 1024;

/// The timeouts of a client.
///
/// Precedence: every wait is bounded by its own phase timeout, and no wait runs past the
/// overall deadline. So the effective bound of a wait is the smaller of the phase timeout and
/// the time left until the deadline, and the error names the one that ran out
/// ([`TimeoutKind`](crate::TimeoutKind)).
///
/// - `connect` bounds each TCP connection attempt, and also the proxy `CONNECT` exchange and
///   the TLS handshake (each wait within them);
/// - `read` bounds each wait for response bytes (the head and every read of the body): it is
///   an idle timeout, not a total;
/// - `write` bounds each wait while sending the request;
/// - `overall` is a deadline for the whole request: connecting, sending, redirects, and reading
///   the response body to its end.
///
/// `None` means no bound. Looking up a host name counts as connecting: the system resolver
/// has no timeout of its own, so the lookup runs on a helper thread that the connecting thread
/// waits for no longer than the connect timeout (a lookup that takes longer is left to finish
/// on its own, and its answer is dropped). With neither a connect timeout nor a deadline the
/// lookup runs on the calling thread; IP addresses are never looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting (name lookup, TCP, proxy tunnel, TLS handshake). Default 30 s.
    pub connect: Option<Duration>,
    /// Each wait for response bytes. Default 30 s.
    pub read: Option<Duration>,
    /// Each wait while sending. Default 30 s.
    pub write: Option<Duration>,
    /// The whole request, body included. Default none.
    pub overall: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        let t = Some(Duration::from_secs(30));
        Timeouts { connect: t, read: t, write: t, overall: None }
    }
}

/// Something [`Client::send`] accepts: a [`Request`], or a URL (a GET request). A URL without a
/// scheme is taken as `http://` (the egg's `"localhost:4242/"`).
pub trait IntoRequest {
    /// The request.
    fn into_request(self) -> Request;
}

impl IntoRequest for Request {
    fn into_request(self) -> Request {
        self
    }
}

impl IntoRequest for &str {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self)
    }
}

impl IntoRequest for String {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self)
    }
}

impl IntoRequest for &String {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self.as_str())
    }
}

impl IntoRequest for url::Url {
    fn into_request(self) -> Request {
        Request::new(Method::Get, String::from(self))
    }
}

struct Inner {
    timeouts: Timeouts,
    limits: Limits,
    max_redirects: u32,
    user_agent: Option<String>,
    pool: Arc<Pool>,
    proxies: RwLock<Vec<(ProxyPattern, Arc<Proxy>)>>,
    proxy_env: Option<ProxyEnv>,
    jar: Option<Mutex<CookieStore>>,
    tls: Arc<ClientConfig>,
    spin: Duration,
    waiting: AtomicUsize,
    spin_slots: usize,
    gzip: bool,
    default_headers: Headers,
    interceptors: Vec<Arc<Interceptor>>,
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
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeouts", &self.inner.timeouts)
            .field("limits", &self.inner.limits)
            .field("max_redirects", &self.inner.max_redirects)
            .field("cookies", &self.inner.jar.is_some())
            .field("idle_connections", &self.inner.pool.idle_count())
            .finish()
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with the defaults: timeouts of 30 s for connect, read and write, no overall
    /// deadline, default [`Limits`], up to 10 redirects, cookies on, gzip on (feature `gzip`),
    /// webpki roots, no proxies, no interceptors.
    pub fn new() -> Client {
        ClientBuilder::default().build().expect("the default TLS configuration always builds")
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

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
        let mut req = req.into_request();
        let deadline = self.inner.timeouts.overall.map(|d| Instant::now() + d);
        if !self.inner.default_headers.is_empty() {
            let headers = req.headers_mut();
            for (name, value) in self.inner.default_headers.iter() {
                if !headers.contains(name) {
                    headers.append(name, value).map_err(Error::InvalidHeader)?;
                }
            }
        }
        if self.inner.interceptors.is_empty() {
            return self.send_direct(req, deadline);
        }
        Next::new(self, &self.inner.interceptors, deadline).run(req)
    }

    /// Sends `req` and follows redirects: what the innermost interceptor's `Next::run` does.
    pub(crate) fn send_direct(&self, mut req: Request, deadline: Option<Instant>) -> Result<Response> {
        let mut url = parse_url(req.url())?;
        if req.version() == Version::Http10 {
            buffer_unsized_body(&mut req, self.inner.limits.max_body)?;
        }
        let mut hops = 0u32;
        loop {
            let resp = self.send_once(&mut req, &url, deadline)?;
            let status = resp.status();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) || self.inner.max_redirects == 0 {
                return Ok(resp);
            }
            let Some(location) = resp.header("location") else { return Ok(resp) };
            if hops >= self.inner.max_redirects {
                return Err(Error::TooManyRedirects { max: self.inner.max_redirects });
            }
            let next = url.join(location).map_err(|e| Error::BadRedirect(format!("bad Location: {e}")))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(Error::BadRedirect(format!("unsupported scheme {:?}", next.scheme())));
            }
            let method = req.method().clone();
            let to_get = (status == 303 && method != Method::Head)
                || (matches!(status, 301 | 302) && method == Method::Post);
            if to_get {
                req.set_method(Method::Get);
                req.set_body(Body::Empty);
                let h = req.headers_mut();
                for name in ["content-type", "content-length", "transfer-encoding", "content-encoding"] {
                    h.remove(name);
                }
            } else if matches!(req.body(), Body::Stream { .. }) {
                // A streamed body was consumed: the redirect is the caller's to follow.
                return Ok(resp);
            }
            if (next.host_str(), next.port_or_known_default())
                != (url.host_str(), url.port_or_known_default())
            {
                let h = req.headers_mut();
                h.remove("authorization");
                h.remove("cookie");
            }
            let mut resp = resp;
            let _ = resp.drain(REDIRECT_DRAIN);
            drop(resp);
            req.set_url(next.as_str());
            url = next;
            hops += 1;
        }
    }

    /// One hop: the request to `url` as it stands.
    fn send_once(&self, req: &mut Request, url: &url::Url, deadline: Option<Instant>) -> Result<Response> {
        let inner = &*self.inner;
        let https = url.scheme() == "https";
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
        let proxy = self.proxy_for(url, host, port);
        let (head, asked_gzip) = self.request_head(req, url, proxy.as_deref(), https)?;
        let settings = Settings {
            connect_timeout: inner.timeouts.connect,
            read_timeout: inner.timeouts.read,
            write_timeout: inner.timeouts.write,
            deadline,
            limits: &inner.limits,
            pool: &inner.pool,
            tls: &inner.tls,
            spin: inner.spin,
            waiting: &inner.waiting,
            spin_slots: inner.spin_slots,
        };
        let target = Target { https, host, port, proxy: proxy.as_deref() };
        let (resp_head, body) = exchange(&settings, &target, req, &head)?;
        if let (Some(p), 407) = (&proxy, resp_head.status) {
            return Err(Error::ProxyAuthRequired { proxy: p.addr() });
        }
        if let Some(jar) = &inner.jar {
            let mut jar = jar.lock().unwrap_or_else(|p| p.into_inner());
            for set_cookie in resp_head.headers.get_all("set-cookie") {
                let _ = jar.parse(set_cookie, url);
            }
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

    /// The head bytes of a request to `url`, and whether it asks for gzip on the client's
    /// behalf (the response is then decoded).
    fn request_head(
        &self,
        req: &Request,
        url: &url::Url,
        proxy: Option<&Proxy>,
        https: bool,
    ) -> Result<(Vec<u8>, bool)> {
        let mut headers: Headers = req.headers().clone();
        if !headers.contains("host") {
            let host = url.host_str().unwrap_or_default();
            let mut authority = String::with_capacity(host.len() + 6);
            authority.push_str(host);
            if let Some(p) = url.port() {
                authority.push(':');
                authority.push_str(itoa_u16(p, &mut [0u8; 5]));
            }
            headers.append("Host", &authority).map_err(Error::InvalidHeader)?;
        }
        if let Some(ua) = &self.inner.user_agent {
            if !headers.contains("user-agent") {
                headers.append("User-Agent", ua).map_err(Error::InvalidHeader)?;
            }
        }
        if (!url.username().is_empty() || url.password().is_some()) && !headers.contains("authorization") {
            let creds = crate::proxy::basic_credentials(url.username(), url.password().unwrap_or(""));
            headers.append("Authorization", &creds).map_err(Error::InvalidHeader)?;
        }
        // A range of a gzip stream cannot be decoded by itself: ranges are asked for as is.
        let asked_gzip =
            self.inner.gzip && !headers.contains("accept-encoding") && !headers.contains("range");
        if asked_gzip {
            headers.append("Accept-Encoding", "gzip").map_err(Error::InvalidHeader)?;
        }
        headers.remove("content-length");
        headers.remove("transfer-encoding");
        let body = req.body();
        match body.len() {
            Some(0) if matches!(body, Body::Empty) && !needs_length(req.method()) => {}
            Some(n) => headers.append("Content-Length", &n.to_string()).map_err(Error::InvalidHeader)?,
            None => headers.append("Transfer-Encoding", "chunked").map_err(Error::InvalidHeader)?,
        }
        if let Some(jar) = &self.inner.jar {
            let jar = jar.lock().unwrap_or_else(|p| p.into_inner());
            let mut cookies = String::new();
            for (name, value) in jar.get_request_values(url) {
                if !cookies.is_empty() {
                    cookies.push_str("; ");
                }
                cookies.push_str(name);
                cookies.push('=');
                cookies.push_str(value);
            }
            if !cookies.is_empty() {
                let merged = match headers.get_joined("cookie") {
                    Some(own) => format!("{own}; {cookies}"),
                    None => cookies,
                };
                headers.set("Cookie", &merged).map_err(Error::InvalidHeader)?;
            }
        }
        let absolute;
        let target = match proxy {
            Some(p) if !https => {
                if let Some(auth) = p.authorization() {
                    headers.set("Proxy-Authorization", auth).map_err(Error::InvalidHeader)?;
                }
                // Credentials in the URL never go to the proxy in the target.
                absolute = format!(
                    "{}{}",
                    &url[..url::Position::BeforeUsername],
                    &url[url::Position::BeforeHost..url::Position::AfterQuery]
                );
                &absolute
            }
            _ => &url[url::Position::BeforePath..url::Position::AfterQuery],
        };
        let mut out = Vec::with_capacity(256);
        write_request_head(&mut out, req.method(), target, req.version(), &headers);
        Ok((out, asked_gzip))
    }

    /// The proxy for `url`: the most recently added matching rule, then the environment.
    fn proxy_for(&self, url: &url::Url, host: &str, port: u16) -> Option<Arc<Proxy>> {
        {
            let rules = self.inner.proxies.read().unwrap_or_else(|p| p.into_inner());
            if let Some((_, p)) = rules.iter().rev().find(|(pat, _)| pat.matches(host)) {
                return Some(p.clone());
            }
        }
        let env = self.inner.proxy_env.as_ref()?;
        env.proxy_for(url.scheme(), host, port).map(|p| Arc::new(p.clone()))
    }

    /// GET `req` (a URL or a request) and return the body as text (the egg's `http:GET`).
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::Status`] for a status of 400 or more; [`Error::NotUtf8`];
    /// [`Error::BodyTooLarge`] past `Limits::max_body`.
    pub fn get(&self, req: impl IntoRequest) -> Result<String> {
        let mut req = req.into_request();
        req.set_method(Method::Get);
        text_of(self.send(req)?)
    }

    /// POST urlencoded `pairs` to `req` and return the body as text (the egg's `http:POST`).
    /// Sets `Content-Type: application/x-www-form-urlencoded`.
    ///
    /// # Errors
    /// As [`Client::get`].
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
    /// As [`Client::get`].
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

    /// Sends `method` to `url` with `body` (bytes, text, or [`Body::stream`], sent chunked when
    /// its length is unknown).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn request(&self, method: Method, url: &str, body: impl Into<Body>) -> Result<Response> {
        self.send(Request::new(method, url).with_body(body))
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
            jar.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// The `Cookie` header value the jar would send to `url` (empty when none match or the jar
    /// is off).
    pub fn cookies_for(&self, url: &str) -> String {
        let (Some(jar), Ok(url)) = (&self.inner.jar, parse_url(url)) else { return String::new() };
        let jar = jar.lock().unwrap_or_else(|p| p.into_inner());
        jar.get_request_values(&url).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// Formats a port without the formatting machinery.
fn itoa_u16(mut n: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// POST, PUT and PATCH carry `Content-Length: 0` when they have no body.
fn needs_length(m: &Method) -> bool {
    matches!(m, Method::Post | Method::Put | Method::Patch)
}

fn text_of(resp: Response) -> Result<String> {
    if resp.status() >= 400 {
        return Err(Error::Status { status: resp.status(), reason: resp.reason().to_owned() });
    }
    resp.text()
}

/// HTTP/1.0 has no chunked encoding: a streamed body of unknown length is read into memory (at
/// most `limit` bytes) so that it can be sent with its length.
fn buffer_unsized_body(req: &mut Request, limit: u64) -> Result<()> {
    let Body::Stream { reader, length: None } = req.body_mut() else { return Ok(()) };
    let mut bytes = Vec::new();
    let n =
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, limit.saturating_add(1)), &mut bytes)?;
    if n as u64 > limit {
        return Err(Error::UnsizedRequestBody { limit });
    }
    req.set_body(bytes);
    Ok(())
}

/// `url` without the user name and password of its authority, for logs and error messages.
pub(crate) fn redact_url(url: &str) -> String {
    // Without a scheme the URL begins with its authority (it is sent as `http://`).
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Parses a request URL; one without `://` is taken as `http://`.
///
/// A program often sends to the same URL again and again; the last URL parsed on each thread is
/// kept, so that repeating it costs a comparison and a copy instead of a parse (which, with
/// its host name normalization, is most of the client's own work per request).
pub(crate) fn parse_url(s: &str) -> Result<url::Url> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, url::Url)>> = const { std::cell::RefCell::new(None) };
    }
    let cached = LAST.with(|last| match &*last.borrow() {
        Some((text, url)) if text == s => Some(url.clone()),
        _ => None,
    });
    if let Some(url) = cached {
        return Ok(url);
    }
    let url = parse_url_uncached(s)?;
    LAST.with(|last| *last.borrow_mut() = Some((s.to_owned(), url.clone())));
    Ok(url)
}

fn parse_url_uncached(s: &str) -> Result<url::Url> {
    let bad = |reason: String| Error::InvalidUrl { url: redact_url(s), reason };
    let url = if s.contains("://") { url::Url::parse(s) } else { url::Url::parse(&format!("http://{s}")) }
        .map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::UnsupportedScheme(url.scheme().to_owned()));
    }
    if url.host_str().map_or(true, str::is_empty) {
        return Err(bad("no host".to_owned()));
    }
    Ok(url)
}

/// Settings for a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = http_client::Client::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .timeout(Duration::from_secs(60))
///     .max_redirects(3)
///     .cookies(false)
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    timeouts: Timeouts,
    limits: Limits,
    max_redirects: u32,
    user_agent: Option<String>,
    cookies: bool,
    pool: PoolConfig,
    proxy_env: Option<ProxyEnv>,
    tls: TlsSettings,
    spin: Duration,
    gzip: bool,
    default_headers: Headers,
    /// The first invalid default header, reported by `build`.
    bad_header: Option<(String, String)>,
    interceptors: Vec<Arc<Interceptor>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .field("max_redirects", &self.max_redirects)
            .field("user_agent", &self.user_agent)
            .field("cookies", &self.cookies)
            .field("pool", &self.pool)
            .field("proxy_env", &self.proxy_env)
            .field("tls", &self.tls)
            .field("spin", &self.spin)
            .field("gzip", &self.gzip)
            .field("default_headers", &self.default_headers)
            .field("interceptors", &self.interceptors.len())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            max_redirects: 10,
            user_agent: Some(concat!("http-toolkit/", env!("CARGO_PKG_VERSION")).to_owned()),
            cookies: true,
            pool: PoolConfig {
                max_idle: 100,
                max_idle_per_host: 10,
                idle_timeout: Duration::from_secs(30),
                check_after: Duration::from_secs(1),
            },
            proxy_env: None,
            tls: TlsSettings::default(),
            spin: DEFAULT_SPIN,
            gzip: cfg!(feature = "gzip"),
            default_headers: Headers::new(),
            bad_header: None,
            interceptors: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// All timeouts at once.
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = t;
        self
    }

    /// Bound on each connection attempt, tunnel and TLS handshake.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = Some(d);
        self
    }

    /// Bound on each wait for response bytes.
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.timeouts.read = Some(d);
        self
    }

    /// Bound on each wait while sending.
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.timeouts.write = Some(d);
        self
    }

    /// Overall deadline of each request, from `send` until the body is read to its end.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeouts.overall = Some(d);
        self
    }

    /// Limits on response heads and on bodies read whole ([`Response::bytes`],
    /// [`Response::text`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Most redirects followed per request (default 10); 0 returns redirects as responses.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// The `User-Agent` sent when a request has none; `None` sends none.
    pub fn user_agent(mut self, ua: Option<&str>) -> Self {
        self.user_agent = ua.map(str::to_owned);
        self
    }

    /// Turns the cookie jar on (default) or off.
    pub fn cookies(mut self, on: bool) -> Self {
        self.cookies = on;
        self
    }

    /// Most idle connections kept in total (default 100; 0 disables pooling).
    pub fn max_idle(mut self, n: usize) -> Self {
        self.pool.max_idle = n;
        self
    }

    /// Most idle connections kept per scheme, host, port and proxy (default 10).
    pub fn max_idle_per_host(mut self, n: usize) -> Self {
        self.pool.max_idle_per_host = n;
        self
    }

    /// How long an idle connection is kept (default 30 s).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.pool.idle_timeout = d;
        self
    }

    /// Idle connections older than this get a cheap liveness check before reuse (default 1 s);
    /// younger ones are used at once, relying on the retry of idempotent requests.
    pub fn stale_check_after(mut self, d: Duration) -> Self {
        self.pool.check_after = d;
        self
    }

    /// How long a thread polls for the first bytes of a response before it sleeps (default
    /// 50 µs; zero turns it off). A server on the same machine or LAN usually answers within
    /// that time, and picking the answer up without a sleep and a wake-up cuts the latency of
    /// each request. Between polls the thread yields the CPU to other runnable threads. The
    /// wait adapts: only as many requests spin at once as there are spare CPUs (the others
    /// sleep at once), and a connection whose answers keep coming later than this stops
    /// polling for a while, so a slow server costs at most a few such windows of CPU time.
    pub fn spin_wait(mut self, window: Duration) -> Self {
        self.spin = window;
        self
    }

    /// Uses the proxy environment variables (see [`ProxyEnv`]).
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy_env = Some(ProxyEnv::from_env());
        self
    }

    /// Uses these proxy settings as the environment.
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy_env = Some(env);
        self
    }

    /// Trusts the Mozilla roots of `webpki-roots` (default true).
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.tls.webpki_roots = on;
        self
    }

    /// Also trusts the CA certificates in this PEM data.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.tls.extra_roots.push(Pem::Bytes(pem.to_vec()));
        self
    }

    /// Also trusts the CA certificates in this PEM file (read by [`build`](Self::build)).
    pub fn add_root_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.extra_roots.push(Pem::File(path.into()));
        self
    }

    /// Presents this client certificate chain and private key (PEM data).
    pub fn client_certificate_pem(mut self, chain: &[u8], key: &[u8]) -> Self {
        self.tls.client_cert = Some((Pem::Bytes(chain.to_vec()), Pem::Bytes(key.to_vec())));
        self
    }

    /// Presents the client certificate chain and private key in these PEM files.
    pub fn client_certificate_files(mut self, chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some((Pem::File(chain.into()), Pem::File(key.into())));
        self
    }

    /// Uses this rustls configuration as is (roots, client certificates and the verification
    /// switch above are then ignored). A request's own `tls_config` still wins over it.
    pub fn tls_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// **Turns off certificate verification**: any server can then pose as any host. For tests
    /// against self-signed servers only. A warning is logged when such a client is built.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// Asks for gzip (`Accept-Encoding: gzip`) and decodes gzip bodies as they are read (default
    /// on; feature `gzip`, on by default).
    ///
    /// The header is added to requests that have no `Accept-Encoding` (and no `Range`) of their
    /// own, and only responses to those requests are decoded: a request that sets
    /// `Accept-Encoding` itself gets the body as the server sent it. A decoded response has no
    /// `Content-Encoding` and `Content-Length` in its headers (they describe the encoded bytes;
    /// [`Response::encoding_headers`] keeps them), its body cap counts decoded bytes, and a
    /// corrupt or truncated gzip stream is an error ([`Error::Decode`]). Responses without a
    /// body (HEAD, 204, 304) and partial content (206) are left as they are.
    #[cfg(feature = "gzip")]
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// A header field added to every request that has no field of that name itself, when it is
    /// sent (before interceptors see it). Like the request's own fields, `Authorization` and
    /// `Cookie` are dropped when a redirect leads to another host. An invalid name or value
    /// makes [`build`](Self::build) fail with [`Error::InvalidHeader`].
    ///
    /// ```
    /// let client = http_client::Client::builder()
    ///     .default_header("X-Api-Key", "secret")
    ///     .default_header("Accept", "application/json")
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        if self.default_headers.append(name, value).is_err() && self.bad_header.is_none() {
            self.bad_header = Some((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Adds an interceptor: a function that every request passes through (see
    /// [`intercept`](crate::intercept)). The first added is the outermost: it sees the request
    /// first and the response last. Interceptors see each request once, with its redirects
    /// inside.
    ///
    /// ```
    /// use http_client::{intercept::Next, Client, Request};
    /// let client = Client::builder()
    ///     .interceptor(|req: Request, next: &Next<'_>| {
    ///         let resp = next.run(req)?;
    ///         eprintln!("{}: {}", resp.url(), resp.status());
    ///         Ok(resp)
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn interceptor(
        mut self,
        f: impl Fn(Request, &Next<'_>) -> Result<Response> + Send + Sync + 'static,
    ) -> Self {
        self.interceptors.push(Arc::new(f));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::TlsConfig`] when a PEM file cannot be read or holds no certificate or key,
    /// [`Error::Tls`] when a client key does not match its certificate, and
    /// [`Error::InvalidHeader`] for an invalid [`default_header`](Self::default_header).
    pub fn build(self) -> Result<Client> {
        if let Some((name, value)) = &self.bad_header {
            Headers::new().append(name, value).map_err(Error::InvalidHeader)?;
        }
        let tls = self.tls.build()?;
        Ok(Client {
            inner: Arc::new(Inner {
                timeouts: self.timeouts,
                limits: self.limits,
                max_redirects: self.max_redirects,
                user_agent: self.user_agent,
                pool: Arc::new(Pool::new(self.pool)),
                proxies: RwLock::new(Vec::new()),
                proxy_env: self.proxy_env,
                jar: self.cookies.then(|| Mutex::new(CookieStore::new())),
                tls,
                spin: self.spin,
                waiting: AtomicUsize::new(0),
                // Spinning threads beyond the spare CPUs would only slow the others down.
                spin_slots: std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
                gzip: self.gzip,
                default_headers: self.default_headers,
                interceptors: self.interceptors,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_taken_out_of_urls() {
        for (given, shown) in [
            ("http://u:p@h/x", "http://h/x"),
            ("https://u@h:8443/?a=b@c", "https://h:8443/?a=b@c"),
            ("http://u:p@ss@h#f@g", "http://h#f@g"),
            ("http://h/p@q", "http://h/p@q"),
            ("h:80/no-scheme", "h:80/no-scheme"),
            ("u:p@h:80/no-scheme", "h:80/no-scheme"),
            ("http://u:p@", "http://"),
        ] {
            assert_eq!(redact_url(given), shown, "{given}");
        }
    }
}
