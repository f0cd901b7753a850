//! The builder's listening side: where the server listens (its own listener, sockets given
//! or handed over by systemd, more endpoints), `SO_REUSEPORT`, the PROXY protocol, trusted
//! proxies and signals, and how the listeners are opened and wrapped at build.

use std::io;
use std::sync::Arc;

use crate::handler::proxies::TrustedProxies;
use crate::io::proxy_protocol::PeerFilter;
use crate::io::transport::{ListenOptions, Listener, PeerAddr, Transport};

use super::ServerBuilder;

/// A listening endpoint besides (or instead of) the builder's own.
pub(super) enum Endpoint {
    /// A TCP socket given bound and listening: wrapped like the builder's own listener (TLS).
    Tcp(std::net::TcpListener),
    /// A Unix socket given bound and listening: wrapped like the builder's own listener.
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener),
    /// A listener with a transport of its own, used as it is.
    Listener(Box<dyn Listener>),
    /// One more endpoint, opened by a transport at a port.
    Also(Box<dyn Transport>, u16),
}

impl ServerBuilder {
    /// Sets `SO_REUSEPORT` on the TCP listeners the builder opens (default off), so that
    /// several processes (N instances, or the next version during an upgrade) listen on one
    /// port and the kernel spreads new connections over them. Unix systems only (not Solaris
    /// or illumos); elsewhere [`build`](ServerBuilder::build) fails with `Unsupported`.
    ///
    /// A process that stops takes the connections the kernel queued on its own socket and
    /// serves them before it closes the socket; a connection that arrives in the instant
    /// between that last look and the close is reset by the kernel (a proxy in front retries
    /// it elsewhere). A listening socket handed from one process to the next (systemd socket
    /// activation, [`systemd_activation`](ServerBuilder::systemd_activation)) has no such
    /// instant.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Serves on an already-bound, listening TCP socket instead of opening one (its port,
    /// address and backlog are the socket's; [`port`](ServerBuilder::port) and
    /// [`bind`](ServerBuilder::bind) are then not used). May be given several times, and
    /// with [`tls`](ServerBuilder::tls) the socket speaks TLS.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let socket = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = socket.local_addr()?;
    /// let server = http_server::Server::builder().tcp_listener(socket).build()?;
    /// assert_eq!(server.local_addr().socket_addr(), Some(addr));
    /// # Ok(()) }
    /// ```
    pub fn tcp_listener(mut self, listener: std::net::TcpListener) -> Self {
        self.endpoints.push(Endpoint::Tcp(listener));
        self
    }

    /// Serves on an already-bound, listening Unix domain socket (Unix systems only), like
    /// [`tcp_listener`](ServerBuilder::tcp_listener); its socket file is left in place.
    #[cfg(unix)]
    pub fn unix_listener(mut self, listener: std::os::unix::net::UnixListener) -> Self {
        self.endpoints.push(Endpoint::Unix(listener));
        self
    }

    /// Serves on a listener made elsewhere, as it is (neither [`tls`](ServerBuilder::tls)
    /// nor the builder's address settings apply to it), instead of opening one. May be given
    /// several times.
    pub fn listener(mut self, listener: impl Listener) -> Self {
        self.endpoints.push(Endpoint::Listener(Box::new(listener)));
        self
    }

    /// Listens at `port` through `transport` too, besides the builder's own listener: with
    /// the same address and backlog, for example plain HTTP on 80 and HTTPS on 443 from one
    /// server.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Server, TcpTransport};
    /// let server = Server::builder().bind("127.0.0.1").port(0).also_listen(TcpTransport, 0).build()?;
    /// assert_eq!(server.local_addrs().len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn also_listen(mut self, transport: impl Transport, port: u16) -> Self {
        self.endpoints.push(Endpoint::Also(Box::new(transport), port));
        self
    }

    /// Takes the listening sockets that systemd hands over (socket activation: `LISTEN_FDS`
    /// and `LISTEN_PID` naming this process; TCP and Unix stream sockets), instead of opening
    /// one, when there are any; otherwise the builder opens its own listener as usual, so
    /// one program runs under systemd and outside it. Unix systems only; elsewhere it does
    /// nothing. With [`tls`](ServerBuilder::tls) they speak TLS.
    pub fn systemd_activation(mut self, on: bool) -> Self {
        self.systemd = on;
        self
    }

    /// The proxies (addresses and CIDR ranges) whose forwarding headers are believed:
    /// `Forwarded` (RFC 7239), `X-Forwarded-For`, `-Proto` and `-Host`, read by
    /// [`Context::client_ip`](crate::Context::client_ip), [`scheme`](crate::Context::scheme)
    /// and [`host`](crate::Context::host). From other peers those headers are ignored. None
    /// by default.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use http_server::{Server, TrustedProxies};
    /// let server = Server::builder()
    ///     .port(0)
    ///     .trusted_proxies(TrustedProxies::parse("127.0.0.1, 10.0.0.0/8")?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted = proxies;
        self
    }

    /// Whether every connection starts with a PROXY protocol header (v1 or v2, as HAProxy's
    /// `send-proxy-v2` sends it; default off): the server reads it before anything else
    /// (TLS included), within the header timeout and at most 4 KiB, and takes the client
    /// address it gives as the peer. A connection without a valid header is closed. With
    /// [`trusted_proxies`](ServerBuilder::trusted_proxies) set, connections from other peers
    /// are closed before a byte is read. It applies to the builder's own listener and to
    /// sockets given or handed over, not to [`listener`](ServerBuilder::listener) and
    /// [`also_listen`](ServerBuilder::also_listen) ones (wrap their transport in
    /// [`ProxyProtocolTransport`](crate::ProxyProtocolTransport)).
    pub fn proxy_protocol(mut self, on: bool) -> Self {
        self.proxy_protocol = on;
        self
    }

    /// Whether SIGTERM and SIGINT shut the server down (default off; Unix systems only,
    /// elsewhere it does nothing): the first starts the graceful shutdown (no more accepts,
    /// requests in flight finish within [`shutdown_grace`](ServerBuilder::shutdown_grace),
    /// idle connections close, then [`Server::run`](crate::Server::run) returns, or with [`Server::spawn`](crate::Server::spawn),
    /// [`ServerHandle::wait`](crate::ServerHandle::wait)), a second one ends the grace
    /// period at once, and if handlers still hold the shutdown 2 s after that the process
    /// exits with status 1. See [`Server::run_until_signal`](crate::Server::run_until_signal).
    pub fn shutdown_on_signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Opens the listeners (unless some are given) and wraps them as the settings say.
    pub(super) fn listeners(&mut self) -> io::Result<Vec<Box<dyn Listener>>> {
        let options = ListenOptions {
            port: self.port,
            host: self.host.clone(),
            backlog: self.backlog,
            reuse_port: self.reuse_port,
        };
        let mut sockets = Vec::new();
        let mut ready = Vec::new();
        #[cfg(unix)]
        if self.systemd {
            sockets.extend(crate::server::systemd::listeners()?);
        }
        let mut also = Vec::new();
        for e in std::mem::take(&mut self.endpoints) {
            match e {
                Endpoint::Tcp(l) => sockets.push(crate::io::transport::tcp_listener_from_std(l)?),
                #[cfg(unix)]
                Endpoint::Unix(l) => sockets.push(crate::io::transport::unix::unix_listener_from_std(l)?),
                Endpoint::Listener(l) => ready.push(l),
                Endpoint::Also(t, port) => also.push((t, port)),
            }
        }
        if sockets.is_empty() && ready.is_empty() {
            sockets.push(self.transport.listen(&options)?);
        }
        let mut out = Vec::with_capacity(sockets.len() + ready.len() + also.len());
        let filter: Option<PeerFilter> = (!self.trusted.is_empty()).then(|| {
            let trusted = self.trusted.clone();
            Arc::new(move |peer: &PeerAddr| trusted.trusts(peer)) as PeerFilter
        });
        for listener in sockets {
            let listener = match self.proxy_protocol {
                true => crate::io::proxy_protocol::wrap_listener(listener, filter.clone()),
                false => listener,
            };
            #[cfg(feature = "tls")]
            let listener = match self.tls.clone() {
                Some(config) => crate::io::tls::wrap_listener(listener, config),
                None => listener,
            };
            out.push(listener);
        }
        out.extend(ready);
        for (t, port) in also {
            out.push(t.listen(&ListenOptions { port, ..options.clone() })?);
        }
        Ok(out)
    }
}
