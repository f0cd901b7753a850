//! Transports: how the server listens, accepts, learns addresses and hard-closes (the egg's
//! `http:listen-procedure`, `http:accept-procedure`, `http:get-addresses-procedure` and
//! `http:hard-close-procedure`).
//!
//! A [`Transport`] opens a [`Listener`]; the listener hands out [`Connection`]s. The server
//! drives every socket in non-blocking mode and waits for readiness itself, so a listener must
//! be non-blocking and a connection's reads and writes must answer
//! [`io::ErrorKind::WouldBlock`] instead of waiting. Both hand the server their socket as a
//! [`mio`] event source ([`Listener::source`], [`Connection::source`]) for that wait, which
//! works on every system mio supports (epoll, kqueue, IOCP).
//!
//! Provided: [`TcpTransport`] (the default), [`UnixTransport`](unix::UnixTransport) (Unix
//! domain sockets, on Unix systems) and, with
//! the `tls` feature, [`TlsTransport`](crate::TlsTransport), which wraps any other transport in
//! rustls.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use mio::event::Source;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalAddr {
    /// A TCP address.
    Ip(SocketAddr),
    /// A Unix domain socket path.
    Unix(PathBuf),
    /// Something a custom transport describes.
    Other(String),
}

impl LocalAddr {
    /// The socket address of a TCP listener.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            LocalAddr::Ip(a) => Some(*a),
            _ => None,
        }
    }

    /// The port of a TCP listener.
    pub fn port(&self) -> Option<u16> {
        self.socket_addr().map(|a| a.port())
    }
}

impl fmt::Display for LocalAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalAddr::Ip(a) => write!(f, "{a}"),
            LocalAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            LocalAddr::Other(s) => f.write_str(s),
        }
    }
}

/// Who is on the other end of a connection (the egg's `http:request-ip` comes from here).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerAddr {
    /// A TCP peer.
    Ip(SocketAddr),
    /// A peer on a Unix domain socket (usually unnamed).
    Unix,
    /// Something a custom transport describes.
    Other(String),
}

impl PeerAddr {
    /// The IP address of a TCP peer.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            PeerAddr::Ip(a) => Some(a.ip()),
            _ => None,
        }
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Ip(a) => write!(f, "{a}"),
            PeerAddr::Unix => f.write_str("unix"),
            PeerAddr::Other(s) => f.write_str(s),
        }
    }
}

/// What the server asks of a listening endpoint: `make-server`'s port, restrict-host and
/// backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenOptions {
    /// The port (0 picks a free one).
    pub port: u16,
    /// The address to bind (the egg's RESTRICTHOST); `None` is every address.
    pub host: Option<String>,
    /// The length of the queue of connections not yet accepted.
    pub backlog: u32,
    /// Sets `SO_REUSEPORT` (Unix but Solaris and illumos): other sockets with the option, in
    /// this process or another of the same user, may listen on the same port, and the kernel
    /// spreads new connections over them. Transports without ports ignore it.
    pub reuse_port: bool,
}

/// Opens listeners: the egg's `http:listen-procedure`.
pub trait Transport: Send + Sync + 'static {
    /// Starts listening. The listener must be non-blocking.
    ///
    /// # Errors
    /// Whatever binding fails with (address in use, permission denied, an unknown host).
    fn listen(&self, options: &ListenOptions) -> io::Result<Box<dyn Listener>>;
}

/// A listening endpoint.
pub trait Listener: Send + Sync + 'static {
    /// Accepts one connection without waiting (the egg's `http:accept-procedure`): returns
    /// `WouldBlock` when none is pending. The connection must be non-blocking.
    ///
    /// # Errors
    /// `WouldBlock`, or what accepting fails with (too many open files, ...).
    fn accept(&self) -> io::Result<Box<dyn Connection>>;

    /// The address it listens on.
    ///
    /// # Errors
    /// As the underlying socket call.
    fn local_addr(&self) -> io::Result<LocalAddr>;

    /// The listening socket, for the server to wait for connections on (registered for
    /// reading, edge-triggered: [`accept`](Listener::accept) is called until `WouldBlock`,
    /// or until [`pending`](Listener::pending) says none is left).
    fn source(&mut self) -> &mut dyn Source;

    /// True when its connections are encrypted (TLS): its URLs are `https`.
    fn secure(&self) -> bool {
        false
    }

    /// Whether a connection is waiting to be accepted, when the listener can tell more
    /// cheaply than a call of [`accept`](Listener::accept) that finds none: `Some(false)`
    /// ends accepting after a connection without that call (the next connection to come is
    /// reported anew). `None` (the default): it cannot tell, and the server accepts until
    /// `WouldBlock`.
    fn pending(&self) -> Option<bool> {
        None
    }
}

/// A boxed listener (what [`Transport::listen`] returns) is a listener too.
impl Listener for Box<dyn Listener> {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        (**self).accept()
    }

    fn local_addr(&self) -> io::Result<LocalAddr> {
        (**self).local_addr()
    }

    fn source(&mut self) -> &mut dyn Source {
        (**self).source()
    }

    fn secure(&self) -> bool {
        (**self).secure()
    }

    fn pending(&self) -> Option<bool> {
        (**self).pending()
    }
}

/// One accepted connection, driven in non-blocking mode.
pub trait Connection: Read + Write + Send + 'static {
    /// The peer's address (the egg's `http:get-addresses-procedure`).
    fn peer_addr(&self) -> PeerAddr;

    /// The socket, for the server to wait on (registered for reading and writing,
    /// edge-triggered).
    fn source(&mut self) -> &mut dyn Source;

    /// Aborts the connection without a graceful close (the egg's `http:hard-close-procedure`);
    /// for TCP the peer sees a reset.
    fn hard_close(&mut self);

    /// Closes the sending direction, keeping the receiving one, for a lingering close.
    fn shutdown_write(&mut self) {}

    /// Advances a handshake without waiting; `Ok(true)` once it is done. Plain transports have
    /// none.
    ///
    /// # Errors
    /// `WouldBlock` never: an unfinished handshake is `Ok(false)`. Other errors end the
    /// connection.
    fn handshake(&mut self) -> io::Result<bool> {
        Ok(true)
    }

    /// True when bytes already received sit in a buffer of the transport (for TLS, decrypted
    /// data not yet read), so readiness of the socket says nothing about them.
    fn has_buffered_input(&self) -> bool {
        false
    }

    /// Sends up to `len` bytes of `file` from `offset` on straight to the peer, without
    /// waiting (`WouldBlock` when the socket is full); the count sent. Transports that cannot
    /// (the default, TLS) answer `Unsupported` and the server reads and writes the file.
    ///
    /// # Errors
    /// `WouldBlock`, `Unsupported`, or what sending fails with.
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: usize) -> io::Result<usize> {
        let _ = (file, offset, len);
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Writes bytes that a [`send_file`](Connection::send_file) follows at once (a response
    /// head before its file body), like [`write`](Write::write). Plain TCP on Linux holds them
    /// back (`MSG_MORE`) so that they leave in one segment with the file's first bytes; the
    /// file's last `send_file` pushes them out. The default writes them as they are.
    ///
    /// # Errors
    /// As [`write`](Write::write).
    fn write_before_file(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write(buf)
    }

    /// Reads into the spare capacity of `buf` (what lies between its length and its
    /// capacity), appending what was read; the count read, 0 at the end of the stream. The
    /// bytes are as [`read`](Read::read) would give them. With no spare capacity nothing is
    /// read and the count is 0, so make room first. Plain sockets on Linux read straight into
    /// the spare capacity; the default fills it with zeros first and reads into that.
    ///
    /// # Errors
    /// As [`read`](Read::read), `WouldBlock` included.
    fn read_into_spare(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let old = buf.len();
        buf.resize(buf.capacity(), 0);
        let r = self.read(&mut buf[old..]);
        buf.truncate(old + *r.as_ref().unwrap_or(&0));
        r
    }

    /// True when a read that returned less than its buffer's room proves that nothing more
    /// waits on the socket, so the server may wait for the next readiness event without
    /// reading again until `WouldBlock`. False (the default) for transports that buffer or
    /// decode (TLS, the PROXY protocol's header) and on systems whose poll re-arms only
    /// after `WouldBlock` (Windows); plain sockets answer true on Linux.
    fn short_read_drains(&self) -> bool {
        false
    }

    /// True when the connection is encrypted (TLS): requests on it are `https`.
    fn secure(&self) -> bool {
        false
    }

    /// The certificates the peer presented (TLS with client certificates), leaf first, each
    /// in DER; `None` when it presented none.
    fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        None
    }

    /// True when the transport has output of its own to send before it can go on (TLS), so
    /// the server waits for the socket to become writable rather than readable.
    fn wants_write(&self) -> bool {
        false
    }
}

/// Plain TCP: the default transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpTransport;

fn resolve(options: &ListenOptions) -> io::Result<SocketAddr> {
    match options.host.as_deref() {
        None | Some("") | Some("*") => Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), options.port)),
        Some(host) => {
            if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
                return Ok(SocketAddr::new(ip, options.port));
            }
            (host, options.port)
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host name has no address"))
        }
    }
}

/// Sets `SO_REUSEPORT`, where the system has it.
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))))]
    return socket.set_reuse_port(true);
    #[allow(unreachable_code)]
    {
        let _ = socket;
        Err(io::Error::new(io::ErrorKind::Unsupported, "SO_REUSEPORT is not available on this system"))
    }
}

fn bind_tcp(addr: SocketAddr, options: &ListenOptions) -> io::Result<mio::net::TcpListener> {
    let backlog = options.backlog;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // On Windows SO_REUSEADDR lets another socket take the port; its default is what
    // other systems get from the option.
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    if options.reuse_port {
        set_reuse_port(&socket)?;
    }
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        // "Every address" means IPv4 too; ignore systems without dual-stack sockets.
        let _ = socket.set_only_v6(false);
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// True where a connection accepted from a listener with `TCP_NODELAY` set has it set too,
/// so that it need not be set on every connection (a system call each): Linux copies the
/// listener's Nagle setting into every connection it accepts. Elsewhere (the BSDs, macOS
/// and Windows are not checked here) each accepted connection sets it itself.
const NODELAY_INHERITED: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// A listener over a listening mio socket, with `TCP_NODELAY` set on it where its
/// connections inherit it.
fn tcp_listener(listener: mio::net::TcpListener) -> TcpListenerImpl {
    let inherits_nodelay = NODELAY_INHERITED && SockRef::from(&listener).set_tcp_nodelay(true).is_ok();
    TcpListenerImpl { listener, inherits_nodelay }
}

impl Transport for TcpTransport {
    fn listen(&self, options: &ListenOptions) -> io::Result<Box<dyn Listener>> {
        let addr = resolve(options)?;
        let listener = match bind_tcp(addr, options) {
            Ok(l) => l,
            // A machine without IPv6: fall back to every IPv4 address.
            Err(e)
                if options.host.is_none()
                    && !matches!(e.kind(), io::ErrorKind::AddrInUse | io::ErrorKind::Unsupported) =>
            {
                bind_tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), options.port), options)?
            }
            Err(e) => return Err(e),
        };
        Ok(Box::new(tcp_listener(listener)))
    }
}

/// A listener over an already-bound, listening std socket (made non-blocking here).
pub(crate) fn tcp_listener_from_std(listener: std::net::TcpListener) -> io::Result<Box<dyn Listener>> {
    listener.set_nonblocking(true)?;
    Ok(Box::new(tcp_listener(mio::net::TcpListener::from_std(listener))))
}

struct TcpListenerImpl {
    listener: mio::net::TcpListener,
    /// Its connections have `TCP_NODELAY` from it (see [`NODELAY_INHERITED`]).
    inherits_nodelay: bool,
}

impl Listener for TcpListenerImpl {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        let (stream, peer) = self.listener.accept()?;
        // Responses go out in one write; streamed bodies should not wait for Nagle.
        if !self.inherits_nodelay {
            let _ = stream.set_nodelay(true);
        }
        Ok(Box::new(TcpConnection { stream, peer }))
    }

    fn local_addr(&self) -> io::Result<LocalAddr> {
        self.listener.local_addr().map(LocalAddr::Ip)
    }

    fn source(&mut self) -> &mut dyn Source {
        &mut self.listener
    }

    fn pending(&self) -> Option<bool> {
        listener_pending(&self.listener)
    }
}

/// Whether a connection waits on a listening socket, from a `poll` that does not wait. On
/// Linux an `accept4` that finds none costs about as much as one that succeeds (the kernel
/// makes the new socket and its file before it looks at the queue, and frees them again),
/// against a fraction of that for a look with `poll`; a connection that arrives after the
/// look is reported anew by the edge-triggered poller. Elsewhere: `None`, accept until
/// `WouldBlock` (Windows, above all, re-arms a socket only on `WouldBlock`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn listener_pending(listener: &impl std::os::fd::AsFd) -> Option<bool> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(listener, PollFlags::IN)];
    match poll(&mut fds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })) {
        Ok(_) => Some(!fds[0].revents().is_empty()),
        Err(_) => None,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn listener_pending<T>(_: &T) -> Option<bool> {
    None
}

struct TcpConnection {
    stream: mio::net::TcpStream,
    peer: SocketAddr,
}

// On Linux the reads and writes are the system calls themselves: libc's `recv` and `send`
// are thread-cancellation points, whose bookkeeping costs ~50 instructions a call.
impl Read for TcpConnection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        return Ok(rustix::net::recv(&self.stream, buf, rustix::net::RecvFlags::empty())?.0);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        self.stream.read(buf)
    }
}

impl Write for TcpConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        return Ok(rustix::net::send(&self.stream, buf, rustix::net::SendFlags::NOSIGNAL)?);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        self.stream.write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Connection for TcpConnection {
    fn peer_addr(&self) -> PeerAddr {
        PeerAddr::Ip(self.peer)
    }

    fn short_read_drains(&self) -> bool {
        crate::io::attempt::SHORT_READ_DRAINS
    }

    fn source(&mut self) -> &mut dyn Source {
        &mut self.stream
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: usize) -> io::Result<usize> {
        let mut at = offset;
        Ok(rustix::fs::sendfile(&self.stream, file, Some(&mut at), len)?)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn write_before_file(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(&self.stream, buf, rustix::net::SendFlags::MORE)?)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn read_into_spare(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        recv_into_spare(&self.stream, buf)
    }

    fn hard_close(&mut self) {
        // SO_LINGER 0 makes the close send a reset instead of waiting for the peer.
        let _ = SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// [`Connection::read_into_spare`] for a socket: one `recv` into the spare capacity.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_into_spare(socket: &impl std::os::fd::AsFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() == buf.len() {
        return Ok(0);
    }
    let (n, _) =
        rustix::net::recv(socket, rustix::buffer::spare_capacity(buf), rustix::net::RecvFlags::empty())?;
    Ok(n)
}

#[cfg(test)]
mod tests;
#[cfg(unix)]
pub(crate) mod unix;
