//! The PROXY protocol as a transport layer: a listener whose connections begin with a
//! PROXY header (v1 or v2, see `proxy_header`), read without waiting as the connection's
//! handshake, before anything else (TLS included) sees a byte.
//!
//! ```text
//!   accept ──► Handshake: read into a buffer of at most MAX_HEADER bytes ── partial: park
//!                 │ (the header timeout runs from the accept)
//!                 ├── malformed, too long, or a peer not allowed to send it: close
//!                 ▼ complete
//!              peer := the header's source address (LOCAL / UNKNOWN: the real peer)
//!              the bytes after the header are served first by read(), then the socket
//! ```
//!
//! The header is required on every connection of such a listener (the specification
//! forbids guessing): put it only where a proxy sending it is the sole way in.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::event::Source;

use crate::io::attempt::{attempt, Attempt};
use crate::io::proxy_header::{parse_proxy_header, MAX_HEADER};
use crate::io::transport::{Connection, ListenOptions, Listener, LocalAddr, PeerAddr, Transport};

/// Which peers may send a PROXY header (the others are closed at once).
pub(crate) type PeerFilter = Arc<dyn Fn(&PeerAddr) -> bool + Send + Sync>;

/// A transport whose connections start with a PROXY protocol header (HAProxy's
/// `send-proxy` / `send-proxy-v2`, nginx's `proxy_protocol on`, cloud load balancers); the
/// server then sees the address the header gives as the peer
/// ([`Context::peer`](crate::Context::peer), [`Context::client_ip`](crate::Context::client_ip)).
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use http_server::{ProxyProtocolTransport, Server, TcpTransport};
/// let server = Server::builder().port(8080).transport(ProxyProtocolTransport::new(TcpTransport)).build()?;
/// # Ok(()) }
/// ```
///
/// Or [`ServerBuilder::proxy_protocol`](crate::ServerBuilder::proxy_protocol), which also
/// refuses headers from peers that are not trusted proxies.
pub struct ProxyProtocolTransport {
    inner: Box<dyn Transport>,
    filter: Option<PeerFilter>,
}

impl ProxyProtocolTransport {
    /// The PROXY protocol over `inner` (TCP, a Unix socket...).
    pub fn new(inner: impl Transport) -> ProxyProtocolTransport {
        ProxyProtocolTransport { inner: Box::new(inner), filter: None }
    }

    /// Closes connections from peers for which `allowed` is false before reading a byte.
    pub fn only_from(mut self, allowed: impl Fn(&PeerAddr) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(allowed));
        self
    }
}

impl Transport for ProxyProtocolTransport {
    fn listen(&self, options: &ListenOptions) -> io::Result<Box<dyn Listener>> {
        Ok(wrap_listener(self.inner.listen(options)?, self.filter.clone()))
    }
}

/// Wraps a listener so that its connections start with a PROXY header.
pub(crate) fn wrap_listener(inner: Box<dyn Listener>, filter: Option<PeerFilter>) -> Box<dyn Listener> {
    Box::new(ProxyListener { inner, filter })
}

struct ProxyListener {
    inner: Box<dyn Listener>,
    filter: Option<PeerFilter>,
}

impl Listener for ProxyListener {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        let inner = self.inner.accept()?;
        let peer = inner.peer_addr();
        let refused = self.filter.as_ref().is_some_and(|allowed| !allowed(&peer));
        Ok(Box::new(ProxyConnection {
            inner,
            peer,
            header: Some(Vec::new()),
            refused,
            after: Vec::new(),
            at: 0,
        }))
    }

    fn local_addr(&self) -> io::Result<LocalAddr> {
        self.inner.local_addr()
    }

    fn source(&mut self) -> &mut dyn Source {
        self.inner.source()
    }

    fn pending(&self) -> Option<bool> {
        self.inner.pending()
    }

    fn secure(&self) -> bool {
        self.inner.secure()
    }
}

struct ProxyConnection {
    inner: Box<dyn Connection>,
    /// The real peer until the header names another.
    peer: PeerAddr,
    /// The header's bytes so far; `None` once it is complete.
    header: Option<Vec<u8>>,
    /// The peer may not send a header: the handshake fails.
    refused: bool,
    /// Bytes read after the header, served before the socket's.
    after: Vec<u8>,
    at: usize,
}

fn invalid(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl ProxyConnection {
    /// Reads the header as far as the socket allows: `Ok(true)` once it is complete.
    fn advance(&mut self) -> io::Result<bool> {
        if self.refused {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "a PROXY header from a peer not trusted",
            ));
        }
        let Some(buf) = self.header.as_mut() else { return Ok(true) };
        loop {
            let start = buf.len();
            // Never more than the cap, and little more than a v1 line at a time.
            let room = (MAX_HEADER + 1 - start).min(512);
            buf.resize(start + room, 0);
            let read = attempt(|| self.inner.read(&mut buf[start..]));
            let n = if let Ok(Attempt::Done(n)) = read { n } else { 0 };
            buf.truncate(start + n);
            match read? {
                Attempt::Done(_) => {}
                Attempt::Blocked => return Err(io::ErrorKind::WouldBlock.into()),
                Attempt::Closed => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
            match parse_proxy_header(buf).map_err(invalid)? {
                Some(h) => {
                    if let Some((src, _)) = h.addresses {
                        self.peer = PeerAddr::Ip(src);
                    }
                    self.after = buf.split_off(h.used);
                    self.header = None;
                    return Ok(true);
                }
                None if buf.len() > MAX_HEADER => {
                    return Err(invalid(crate::io::proxy_header::ProxyHeaderError::TooLong));
                }
                None => {}
            }
        }
    }
}

impl Read for ProxyConnection {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.advance()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.at < self.after.len() {
            let n = out.len().min(self.after.len() - self.at);
            out[..n].copy_from_slice(&self.after[self.at..self.at + n]);
            self.at += n;
            if self.at == self.after.len() {
                self.after = Vec::new();
                self.at = 0;
            }
            return Ok(n);
        }
        self.inner.read(out)
    }
}

impl Write for ProxyConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Connection for ProxyConnection {
    fn peer_addr(&self) -> PeerAddr {
        self.peer.clone()
    }

    fn source(&mut self) -> &mut dyn Source {
        self.inner.source()
    }

    fn hard_close(&mut self) {
        self.inner.hard_close();
    }

    fn shutdown_write(&mut self) {
        self.inner.shutdown_write();
    }

    fn handshake(&mut self) -> io::Result<bool> {
        match self.advance() {
            Ok(true) => self.inner.handshake(),
            Ok(false) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn has_buffered_input(&self) -> bool {
        self.at < self.after.len() || self.inner.has_buffered_input()
    }

    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: usize) -> io::Result<usize> {
        self.inner.send_file(file, offset, len)
    }

    fn write_before_file(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_before_file(buf)
    }

    fn read_into_spare(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        if self.header.is_some() || self.at < self.after.len() {
            // The header or bytes read past it come first: through `read`.
            let old = buf.len();
            buf.resize(buf.capacity(), 0);
            let r = self.read(&mut buf[old..]);
            buf.truncate(old + *r.as_ref().unwrap_or(&0));
            return r;
        }
        self.inner.read_into_spare(buf)
    }

    fn wants_write(&self) -> bool {
        self.inner.wants_write()
    }

    fn secure(&self) -> bool {
        self.inner.secure()
    }

    fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        self.inner.peer_certificates()
    }
}
