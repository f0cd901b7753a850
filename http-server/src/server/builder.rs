//! The builder (the egg's `http:make-server`): settings, then [`build`](ServerBuilder::build)
//! opens the listener and makes the engine.

use std::io;
#[cfg(unix)]
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use http_utils::{Limits, Version};

use crate::connection::engine::{Budget, Engine, Settings};
use crate::connection::queue::DispatchQueue;
use crate::handler::proxies::TrustedProxies;
use crate::handler::registry::Registry;
use crate::handler::site::Site;
use crate::handler::state::StateMap;
use crate::io::poller::Poller;
use crate::io::timeouts::Timeouts;
#[cfg(unix)]
use crate::io::transport::unix::UnixTransport;
use crate::io::transport::{Listener, TcpTransport, Transport};
use crate::io::wire::WireRules;
use crate::runtime::seats::Seats;
use crate::runtime::shared::Shared;

use crate::server::Server;

mod listeners;
use listeners::Endpoint;

/// The default of [`ServerBuilder::max_streams`].
pub const DEFAULT_MAX_STREAMS: usize = 16_384;

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
    max_streams: usize,
    max_requests_per_connection: u32,
    shutdown_grace: Duration,
    responder_timeout: Duration,
    streaming_limit: Option<usize>,
    queue_size: Option<usize>,
    queue_wait: Duration,
    body_buffer_limit: u64,
    compression: bool,
    transport: Box<dyn Transport>,
    reuse_port: bool,
    proxy_protocol: bool,
    trusted: TrustedProxies,
    endpoints: Vec<Endpoint>,
    state: StateMap,
    systemd: bool,
    signals: bool,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServerBuilder {
    pub(super) fn new() -> ServerBuilder {
        ServerBuilder {
            port: 0,
            host: None,
            // No version: a version in `Server` is what security scanners report as a leak
            // (RFC 9110 §10.2.4 advises against needless detail there).
            server_name: "http-toolkit".to_owned(),
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
            max_streams: DEFAULT_MAX_STREAMS,
            max_requests_per_connection: 10_000,
            shutdown_grace: Duration::from_secs(10),
            responder_timeout: Duration::from_secs(30),
            streaming_limit: None,
            queue_size: None,
            queue_wait: Duration::from_secs(10),
            body_buffer_limit: 256 << 20,
            compression: true,
            transport: Box::new(TcpTransport),
            reuse_port: false,
            proxy_protocol: false,
            trusted: TrustedProxies::new(),
            endpoints: Vec::new(),
            state: StateMap::default(),
            systemd: false,
            signals: false,
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

    /// The `Server` header value (the egg's SERVERNAME), `http-toolkit` by default, with no
    /// version; empty sends none.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// The server's location (the egg's LOCATION), "localhost" by default; handlers read it
    /// with [`Context::location`](crate::Context::location).
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

    /// Gives the server a value its handlers share: [`Context::state`](crate::Context::state)
    /// returns it by type, so closures need no `Arc` of their own. One value per type (a
    /// second of the same type replaces the first); any number of types. The server owns it
    /// for its life; use types that are `Sync` for the reads of many workers at once
    /// (`Mutex`, `RwLock`, atomics, or plain immutable data). [`Server::state`] reaches it
    /// outside handlers.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Mutex;
    /// use http_server::{Response, Server};
    /// use http_utils::Method;
    ///
    /// struct Hits(AtomicU64);
    /// let server = Server::builder()
    ///     .port(0)
    ///     .bind("127.0.0.1")
    ///     .state(Hits(AtomicU64::new(0)))
    ///     .state(Mutex::new(Vec::<String>::new()))
    ///     .build()?;
    /// server.route(Method::Get, "/hits", |cx| {
    ///     let n = cx.state::<Hits>().0.fetch_add(1, Ordering::Relaxed) + 1;
    ///     cx.state::<Mutex<Vec<String>>>().lock().unwrap().push(cx.path().to_owned());
    ///     Response::text(n.to_string())
    /// }).unwrap();
    /// assert_eq!(http_server::test::get(&server, "/hits").text(), "1");
    /// assert_eq!(server.state::<Hits>().unwrap().0.load(Ordering::Relaxed), 1);
    /// # Ok(()) }
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
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

    /// The number of worker threads: a fixed pool, started with the server. Workers run
    /// handlers, and a handler may block.
    ///
    /// Default: four per CPU this process may use (`std::thread::available_parallelism`),
    /// at least 16 and at most 64 ([`default_threads`](ServerBuilder::default_threads)). A
    /// worker only runs handler code: connections waiting on the network (idle, slow, a body
    /// on its way, a response draining, a stream) hold no thread, so threads beyond the CPUs
    /// are only for handlers that wait on something else (a disk, a database, another
    /// service). Four per CPU keeps the CPUs busy while handlers spend up to three quarters
    /// of their time waiting; the floor lets a small machine still run a dozen such
    /// handlers at once; the ceiling keeps a large one from holding threads it rarely
    /// uses. Set more for handlers that mostly wait, fewer for a server that must stay
    /// small.
    pub fn threads(mut self, n: usize) -> Self {
        self.workers = Some(n.max(1));
        self
    }

    /// The default number of worker threads for `cpus` CPUs: `4 × cpus`, at least 16 and at
    /// most 64 (see [`threads`](ServerBuilder::threads)).
    ///
    /// ```
    /// use http_server::ServerBuilder;
    /// assert_eq!(ServerBuilder::default_threads(1), 16);
    /// assert_eq!(ServerBuilder::default_threads(8), 32);
    /// assert_eq!(ServerBuilder::default_threads(64), 64);
    /// ```
    pub fn default_threads(cpus: usize) -> usize {
        cpus.saturating_mul(4).clamp(16, 64)
    }

    /// How many workers wait for ready connections at once (default: the CPUs this process
    /// may use, at most the number of workers).
    pub fn io_threads(mut self, n: usize) -> Self {
        self.io_threads = Some(n.max(1));
        self
    }

    /// The cap on requests handled at once (the egg's `http:request-count-limit`); beyond it
    /// a complete request waits parked in a bounded queue
    /// ([`queue_size`](ServerBuilder::queue_size),
    /// [`queue_timeout`](ServerBuilder::queue_timeout)), then gets 503 with `Retry-After`.
    /// A worker that serves several requests of one connection in a row (pipelined ones)
    /// keeps its slot from one to the next, and gives it up to a waiting request at once.
    /// Default: the workers minus the I/O threads, so some worker is always free to answer.
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

    /// The memory that the request bodies the server reads into buffers may take together
    /// (default 256 MiB); a body that would pass it gets 503 with `Retry-After` and the
    /// connection closes. With [`Limits::max_body`](http_utils::Limits) it bounds what uploads
    /// can make the server hold at once.
    pub fn body_buffer_limit(mut self, bytes: u64) -> Self {
        self.body_buffer_limit = bytes;
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

    /// The cap on long-lived answers together (default [`DEFAULT_MAX_STREAMS`]): requests
    /// waiting for a [`Responder`](crate::Responder), streams fed through one
    /// ([`Responder::stream`](crate::Responder::stream),
    /// [`Responder::events`](crate::Responder::events)) and connections handed to an
    /// upgrade handler ([`Response::upgrade`](crate::Response::upgrade), a thread each). None
    /// of them holds a worker; past the cap, the request is answered 503 (a responder is
    /// born answered, its `send` fails), so they can never stall the server.
    pub fn max_streams(mut self, n: usize) -> Self {
        self.max_streams = n;
        self
    }

    /// How long a [`Responder`](crate::Responder) may take before the client is answered 503
    /// (default 30 s); see [`Context::responder`](crate::Context::responder).
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

    #[cfg(feature = "tls")]
    /// Serves HTTPS with the certificate chain (leaf first) and the private key (PKCS#8,
    /// PKCS#1 or SEC1) read from PEM files, with rustls' safe defaults (TLS 1.2 and 1.3, the
    /// ring provider, no client certificates) and session tickets (rustls' ticketer, its keys
    /// changed every six hours), so that a client resumes a session with a handshake that
    /// costs the server a fraction of a full one, also with a ticket it offers on several
    /// connections (the default's tickets for TLS 1.3 are kept by the server and good for one
    /// resumption). For anything else, build a `rustls::ServerConfig` and use
    /// [`tls`](ServerBuilder::tls).
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// let server = http_server::Server::builder()
    ///     .port(8443)
    ///     .tls_pem("/etc/ssl/example/fullchain.pem", "/etc/ssl/example/key.pem")?
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `NotFound` and the like for a file that cannot be read, `InvalidData` naming the file
    /// for one without a certificate or a key, `InvalidInput` when the key does not fit the
    /// certificate.
    pub fn tls_pem(
        self,
        cert_chain: impl AsRef<std::path::Path>,
        private_key: impl AsRef<std::path::Path>,
    ) -> io::Result<Self> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        let pem_error = |path: &std::path::Path, what: &str, e: rustls_pki_types::pem::Error| match e {
            rustls_pki_types::pem::Error::Io(e) => {
                io::Error::new(e.kind(), format!("{}: {e}", path.display()))
            }
            other => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no {what} in it ({other:?})", path.display()),
            ),
        };
        let certs = CertificateDer::pem_file_iter(cert_path)
            .map_err(|e| pem_error(cert_path, "certificate", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(cert_path, "certificate", e))?;
        if certs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no certificate in it", cert_path.display()),
            ));
        }
        let key =
            PrivateKeyDer::from_pem_file(key_path).map_err(|e| pem_error(key_path, "private key", e))?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(io::Error::other)?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("the certificate and key: {e}"))
                })?;
        config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(io::Error::other)?;
        Ok(self.tls(Arc::new(config)))
    }

    /// Opens the listeners (or takes those given or handed over) and runs the init callback.
    ///
    /// # Errors
    /// Whatever listening fails with (address in use, permission denied, ...), and errors
    /// creating the poller.
    pub fn build(mut self) -> io::Result<Server> {
        let listeners = self.listeners()?;
        let local_addrs = listeners.iter().map(|l| l.local_addr()).collect::<io::Result<Vec<_>>>()?;
        let secure = listeners.iter().map(|l| l.secure()).collect();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.workers.unwrap_or_else(|| ServerBuilder::default_threads(cpus));
        let io_threads = self.io_threads.unwrap_or(cpus).min(workers).max(1);
        let request_count_limit =
            self.request_count_limit.unwrap_or_else(|| workers.saturating_sub(io_threads).max(1));
        let pollers = (0..io_threads).map(|_| Poller::new().map(Arc::new)).collect::<io::Result<Vec<_>>>()?;
        let engine = Engine {
            site: {
                let mut site = Site::new(
                    self.server_name,
                    self.location,
                    self.protocol,
                    self.responder_timeout,
                    self.max_streams,
                );
                site.trusted = self.trusted;
                site.state = self.state;
                site
            },
            wire: WireRules { timeouts: self.timeouts, limits: self.limits, abort: AtomicBool::new(false) },
            registry: Registry::new(),
            settings: Settings {
                max_requests_per_connection: self.max_requests_per_connection,
                request_count_limit,
                queue_wait: self.queue_wait,
                compression: self.compression,
            },
            pollers,
            queue: DispatchQueue::new(self.queue_size.unwrap_or(workers * 16)),
            active: AtomicUsize::new(0),
            streaming: Budget::new(self.streaming_limit.unwrap_or((request_count_limit / 2).max(1)) as u64),
            requests: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            body_budget: Budget::new(self.body_buffer_limit),
            upgrades: Default::default(),
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
        Ok(Server { shared, listeners, local_addrs, secure, signals: self.signals })
    }
}
