//! HTTPS: a transport that wraps another one in rustls.
//!
//! The acceptor only accepts; the handshake runs on a worker, without blocking (a
//! connection waiting for handshake bytes is parked like any other) and within the header
//! timeout, so a silent or slow client costs no thread.
//!
//! Every close sends `close_notify` first (RFC 8446 §6.1), so that a client can tell the end
//! of a close-delimited answer from a cut connection: a lingering close when it shuts the
//! sending side, any other close when the connection is dropped. Both are best effort and
//! never wait: what the socket does not take at once is lost, as the rest of an answer to a
//! peer that stopped reading would be. An aborted connection (`hard_close`), one that
//! failed with an error alert, and one whose handshake never finished send none.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection};

use crate::io::attempt::{attempt, Attempt};
use crate::io::transport::{Connection, ListenOptions, Listener, LocalAddr, PeerAddr, Transport};

/// A transport that speaks TLS over another one (TCP by default). Whatever protocols the
/// configuration advertises by ALPN, the server advertises `http/1.1` alone (it speaks no
/// other).
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// # let config: std::sync::Arc<rustls::ServerConfig> = unimplemented!();
/// use http_server::{Server, TcpTransport, TlsTransport};
/// let server = Server::builder().port(8443).transport(TlsTransport::new(TcpTransport, config)).build()?;
/// # Ok(()) }
/// ```
pub struct TlsTransport {
    inner: Box<dyn Transport>,
    config: Arc<ServerConfig>,
}

impl TlsTransport {
    /// TLS with `config` over `inner`.
    pub fn new(inner: impl Transport, config: Arc<ServerConfig>) -> TlsTransport {
        TlsTransport { inner: Box::new(inner), config }
    }
}

impl Transport for TlsTransport {
    fn listen(&self, options: &ListenOptions) -> io::Result<Box<dyn Listener>> {
        Ok(wrap_listener(self.inner.listen(options)?, self.config.clone()))
    }
}

/// Wraps a listener so that its connections speak TLS.
pub(crate) fn wrap_listener(inner: Box<dyn Listener>, config: Arc<ServerConfig>) -> Box<dyn Listener> {
    Box::new(TlsListener { inner, config: http11_only(config) })
}

/// The one protocol this server speaks, whatever the configuration advertises: a client
/// offered `h2` by ALPN would speak HTTP/2 to it (browsers do, and then fail).
fn http11_only(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    const HTTP11: &[u8] = b"http/1.1";
    if config.alpn_protocols.len() == 1 && config.alpn_protocols[0] == HTTP11 {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols = vec![HTTP11.to_vec()];
    Arc::new(config)
}

struct TlsListener {
    inner: Box<dyn Listener>,
    config: Arc<ServerConfig>,
}

impl Listener for TlsListener {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        let inner = self.inner.accept()?;
        let tls = ServerConnection::new(self.config.clone()).map_err(io::Error::other)?;
        Ok(Box::new(TlsConnection { inner, tls, buffered: false, closed: false }))
    }

    fn local_addr(&self) -> io::Result<LocalAddr> {
        self.inner.local_addr()
    }

    fn source(&mut self) -> &mut dyn mio::event::Source {
        self.inner.source()
    }

    fn pending(&self) -> Option<bool> {
        self.inner.pending()
    }

    fn secure(&self) -> bool {
        true
    }
}

struct TlsConnection {
    inner: Box<dyn Connection>,
    tls: ServerConnection,
    /// Decrypted bytes wait in rustls.
    buffered: bool,
    /// `close_notify` was sent, or must not be (aborted, or an error alert was sent).
    closed: bool,
}

impl TlsConnection {
    /// Sends what rustls has queued; stops quietly at `WouldBlock`.
    fn push(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match attempt(|| self.tls.write_tls(&mut self.inner))? {
                Attempt::Done(_) => {}
                Attempt::Blocked => return Ok(()),
                Attempt::Closed => return Err(io::ErrorKind::WriteZero.into()),
            }
        }
        Ok(())
    }

    /// Sends `close_notify` once, with what rustls still holds, as far as the socket takes
    /// it now; never waits. Not before the handshake is done: a peer that never finished it
    /// (silent, or not speaking TLS at all) has no session to close.
    fn notify_close(&mut self) {
        if !self.closed && !self.tls.is_handshaking() {
            self.closed = true;
            self.tls.send_close_notify();
            let _ = self.push();
        }
    }

    /// Reads TLS records and processes them. `Ok(false)` at the end of the stream.
    fn pull(&mut self) -> io::Result<bool> {
        let n = self.tls.read_tls(&mut self.inner)?;
        match self.tls.process_new_packets() {
            Ok(state) => self.buffered = state.plaintext_bytes_to_read() > 0,
            Err(e) => {
                // Tell the peer why (an alert), then give up: no close_notify after it.
                self.closed = true;
                let _ = self.push();
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
        Ok(n > 0)
    }
}

impl Read for TlsConnection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => {
                    if let Ok(state) = self.tls.process_new_packets() {
                        self.buffered = state.plaintext_bytes_to_read() > 0;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            self.push()?;
            if !self.pull()? {
                return Ok(0);
            }
        }
    }
}

impl Write for TlsConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push()?;
        let n = self.tls.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.push()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.push()?;
        if self.tls.wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(())
    }
}

/// Whatever closes the connection (an answer with `Connection: close`, the keep-alive
/// timeout, the server's shutdown), it closes by dropping it: `close_notify` goes first.
impl Drop for TlsConnection {
    fn drop(&mut self) {
        self.notify_close();
    }
}

impl Connection for TlsConnection {
    fn peer_addr(&self) -> PeerAddr {
        self.inner.peer_addr()
    }

    fn source(&mut self) -> &mut dyn mio::event::Source {
        self.inner.source()
    }

    fn hard_close(&mut self) {
        self.closed = true;
        self.inner.hard_close();
    }

    fn shutdown_write(&mut self) {
        self.notify_close();
        self.inner.shutdown_write();
    }

    fn handshake(&mut self) -> io::Result<bool> {
        loop {
            self.push()?;
            if !self.tls.is_handshaking() {
                return Ok(!self.tls.wants_write());
            }
            if self.tls.wants_write() {
                return Ok(false);
            }
            match self.pull() {
                Ok(true) => {}
                Ok(false) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    fn has_buffered_input(&self) -> bool {
        self.buffered
    }

    fn secure(&self) -> bool {
        true
    }

    fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        let chain = self.tls.peer_certificates()?;
        Some(chain.iter().map(|c| c.as_ref().to_vec()).collect())
    }

    fn wants_write(&self) -> bool {
        self.tls.wants_write()
    }
}
