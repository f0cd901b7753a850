//! [`ClientBuilder`]: the settings of a client, and the ways to make one.

use std::fmt;
#[cfg(feature = "tls")]
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http_utils::{Headers, Limits, Request};
#[cfg(feature = "tls")]
use rustls::ClientConfig;

use crate::client::{Client, Inner, Interceptor, Next};
use crate::dial::Overrides;
use crate::error::{Error, Result};
use crate::jar::Jar;
use crate::pool::{Pool, PoolConfig};
use crate::proxy::ProxyEnv;
use crate::redirect::{Redirect, RedirectAction, Rules};
use crate::response::Response;
use crate::timeouts::Timeouts;
#[cfg(feature = "tls")]
use crate::tls::{Pem, TlsSettings};

/// Default of [`ClientBuilder::spin_wait`].
const DEFAULT_SPIN: Duration = Duration::from_micros(50);

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with the defaults: timeouts of 30 s for connect, read and write, no overall
    /// deadline, default [`Limits`], up to 10 redirects, cookies on (feature `cookies`), gzip
    /// on (feature `gzip`), webpki roots (feature `tls`), no proxies, no interceptors.
    pub fn new() -> Client {
        ClientBuilder::default().build().expect("the default TLS configuration always builds")
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
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
    redirects: Rules,
    user_agent: Option<String>,
    cookies: bool,
    pool: PoolConfig,
    proxy_env: Option<ProxyEnv>,
    resolve: Overrides,
    local_address: Option<std::net::IpAddr>,
    #[cfg(feature = "tls")]
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
        let mut d = f.debug_struct("ClientBuilder");
        d.field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .field("redirects", &self.redirects)
            .field("user_agent", &self.user_agent)
            .field("cookies", &self.cookies)
            .field("pool", &self.pool)
            .field("proxy_env", &self.proxy_env)
            .field("resolve", &self.resolve)
            .field("local_address", &self.local_address)
            .field("spin", &self.spin)
            .field("gzip", &self.gzip)
            .field("default_headers", &self.default_headers)
            .field("interceptors", &self.interceptors.len());
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls);
        d.finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            timeouts: Timeouts::default(),
            limits: Limits::CLIENT,
            redirects: Rules { max: 10, allow_downgrade: false, policy: None },
            user_agent: Some(concat!("http-toolkit/", env!("CARGO_PKG_VERSION")).to_owned()),
            cookies: true,
            pool: PoolConfig {
                max_idle: 100,
                max_idle_per_host: 10,
                idle_timeout: Duration::from_secs(30),
                check_after: Duration::from_secs(1),
            },
            proxy_env: None,
            resolve: Overrides::new(),
            local_address: None,
            #[cfg(feature = "tls")]
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

    /// Bound on connecting (the name lookup and every address of the host together), and on
    /// each wait of a tunnel and of the TLS handshake.
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
    /// [`Response::text`]). Default [`Limits::CLIENT`]: header lines up to 256 KiB, 1,000
    /// fields, a 512 KiB head, 10 MiB bodies read whole.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Most redirects followed per request (default 10); 0 returns redirects as responses.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.redirects.max = n;
        self
    }

    /// Follows redirects from `https` to `http` (default false: such a redirect is an
    /// [`Error::InsecureRedirect`]). A followed downgrade leaves the origin, so the request's
    /// credentials (`Authorization`, `Cookie`, `Proxy-Authorization`, those of its URL) are
    /// not sent on it or after it.
    pub fn allow_downgrade_redirects(mut self, allow: bool) -> Self {
        self.redirects.allow_downgrade = allow;
        self
    }

    /// Asks `policy` before each redirect is followed: it may follow it, stop (the redirect
    /// response is then the answer) or refuse (an [`Error::BadRedirect`]). It is asked only
    /// for hops that the client's own rules let through (the count of
    /// [`max_redirects`](Self::max_redirects), `http` and `https` only, no credentials in
    /// `Location`, no `https` to `http` unless allowed), and credentials stay with their
    /// origin whatever it says.
    ///
    /// ```
    /// use http_client::{Client, RedirectAction};
    /// // Follow redirects within the same site only.
    /// let client = Client::builder()
    ///     .redirect_policy(|hop| {
    ///         if hop.to_host().ends_with("example.com") {
    ///             RedirectAction::Follow
    ///         } else {
    ///             RedirectAction::Stop
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn redirect_policy(
        mut self,
        policy: impl Fn(&Redirect<'_>) -> RedirectAction + Send + Sync + 'static,
    ) -> Self {
        self.redirects.policy = Some(Arc::new(policy));
        self
    }

    /// The `User-Agent` sent when a request has none; `None` sends none.
    pub fn user_agent(mut self, ua: Option<&str>) -> Self {
        self.user_agent = ua.map(str::to_owned);
        self
    }

    /// Turns the cookie jar on (default) or off. The jar is the `cookies` feature's (on by
    /// default): without it a client keeps no cookies and this switch changes nothing.
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

    /// Uses the proxy environment variables (see [`ProxyEnv`]), read now. A variable that
    /// cannot be used (a malformed URL, a kind of proxy this client does not speak) makes
    /// every request that would go through it fail with [`Error::InvalidProxy`] naming the
    /// variable: never a direct connection.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy_env = Some(ProxyEnv::from_env());
        self
    }

    /// Connects to `addrs` for `host` instead of looking the name up (curl's `--resolve`, for
    /// every port): the port is the URL's, and the name is still the one the request carries
    /// (`Host`, and the name TLS checks the certificate against). Several addresses are tried
    /// as for a name that resolves to them (Happy Eyeballs). A proxy's host name is looked up
    /// here too. A later call for the same host replaces the addresses.
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    /// let client = http_client::Client::builder()
    ///     .resolve("api.example", [IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::LOCALHOST)])
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn resolve(mut self, host: &str, addrs: impl IntoIterator<Item = std::net::IpAddr>) -> Self {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
        self.resolve.insert(host.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }

    /// Binds every connection (to servers and to proxies) to this local address, as curl's
    /// `--interface` with an address does: for a machine with several addresses or
    /// networks. Only addresses of its family are then tried (an IPv4 local address reaches
    /// no IPv6 server); a host with none of them is an [`Error::Connect`]. Default: none (the
    /// system chooses).
    pub fn local_address(mut self, ip: std::net::IpAddr) -> Self {
        self.local_address = Some(ip);
        self
    }

    /// Uses these proxy settings as the environment.
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy_env = Some(env);
        self
    }

    /// Trusts the certificates of the system's store as well (feature `native-roots`; default
    /// false): the roots an administrator installed (`/etc/ssl/certs` and
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` on Unix, the system stores on Windows and macOS, read with
    /// `rustls-native-certs`), beside the webpki roots unless those are switched off with
    /// [`webpki_roots(false)`](Self::webpki_roots). For servers signed by a company's own CA.
    ///
    /// The feature is off by default, and so is this switch: the webpki roots give the same
    /// answer on every machine and cost nothing to load, while the system's store differs
    /// from machine to machine (it may hold roots that a program should not trust, or be
    /// missing in a container) and is read from disk each time a client is built.
    ///
    /// ```
    /// # fn main() -> http_client::Result<()> {
    /// let client = http_client::Client::builder().native_roots(true).build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    ///
    /// [`build`](Self::build) fails with [`Error::TlsConfig`] when the store gives no
    /// certificate at all; certificates in it that cannot be used are skipped and logged.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, on: bool) -> Self {
        self.tls.native_roots = on;
        self
    }

    /// Trusts the Mozilla roots of `webpki-roots` (default true). Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.tls.webpki_roots = on;
        self
    }

    /// Also trusts the CA certificates in this PEM data. Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.tls.extra_roots.push(Pem::Bytes(pem.to_vec()));
        self
    }

    /// Also trusts the CA certificates in this PEM file (read by [`build`](Self::build)).
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn add_root_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.extra_roots.push(Pem::File(path.into()));
        self
    }

    /// Presents this client certificate chain and private key (PEM data). Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn client_certificate_pem(mut self, chain: &[u8], key: &[u8]) -> Self {
        self.tls.client_cert = Some((Pem::Bytes(chain.to_vec()), Pem::Bytes(key.to_vec())));
        self
    }

    /// Presents the client certificate chain and private key in these PEM files. Feature
    /// `tls`.
    #[cfg(feature = "tls")]
    pub fn client_certificate_files(mut self, chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some((Pem::File(chain.into()), Pem::File(key.into())));
        self
    }

    /// Uses this rustls configuration as is (roots, client certificates and the verification
    /// switch above are then ignored). A request's own `tls_config` still wins over it.
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls.config = Some(config);
        self
    }

    /// **Turns off certificate verification**: any server can then pose as any host. For tests
    /// against self-signed servers only. A warning is logged when such a client is built.
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// Asks for the codings compiled in (`Accept-Encoding: gzip, deflate`, with `br` and
    /// `zstd` under the features `brotli` and `zstd`) and decodes such bodies as they are read
    /// (default on; feature `gzip`, on by default, as are `brotli` and `zstd`). `deflate` is
    /// read as the zlib format, or as raw deflate when the body does not start with a zlib
    /// header; a zstd frame may ask for a window of at most 8 MiB.
    ///
    /// The header is added to requests that have no `Accept-Encoding` (and no `Range`) of their
    /// own, and only responses to those requests are decoded: a request that sets
    /// `Accept-Encoding` itself gets the body as the server sent it. A decoded response has no
    /// `Content-Encoding` and `Content-Length` in its headers (they describe the encoded bytes;
    /// [`Response::encoding_headers`] keeps them), its body cap counts decoded bytes, and a
    /// corrupt or truncated stream is an error ([`Error::Decode`]). Responses without a
    /// body (HEAD, 204, 304) and partial content (206) are left as they are.
    #[cfg(feature = "gzip")]
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// A header field added to every request that has no field of that name itself, when it is
    /// sent (before interceptors see it). Like the request's own fields, `Authorization`,
    /// `Cookie` and `Proxy-Authorization` are dropped when a redirect leaves the origin
    /// (scheme, host and port) the request started at. An invalid name or value
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
    /// `Error::Tls` when a client key does not match its certificate (feature `tls`), and
    /// [`Error::InvalidHeader`] for an invalid [`default_header`](Self::default_header).
    pub fn build(self) -> Result<Client> {
        if let Some((name, value)) = &self.bad_header {
            Headers::new().append(name, value).map_err(Error::InvalidHeader)?;
        }
        #[cfg(feature = "tls")]
        let tls = self.tls.build()?;
        Ok(Client {
            inner: Arc::new(Inner {
                timeouts: self.timeouts,
                limits: self.limits,
                redirects: self.redirects,
                user_agent: self.user_agent,
                pool: Arc::new(Pool::new(self.pool)),
                proxies: RwLock::new(Vec::new()),
                proxy_env: self.proxy_env,
                resolve: self.resolve,
                local_address: self.local_address,
                jar: if self.cookies { Jar::new() } else { None },
                #[cfg(feature = "tls")]
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
