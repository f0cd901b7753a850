//! What a TLS session of the client runs over: a TCP socket, or the tunnel inside the TLS
//! session with an HTTPS proxy; and reading plaintext from a session.

use std::io::{self, Read, Write};
use std::net::TcpStream;

#[cfg(feature = "tls")]
use rustls::{ClientConnection, StreamOwned};

/// What a TLS session runs over: TCP, or a tunnel inside the TLS session with an HTTPS proxy
/// (TLS inside TLS: the proxy sees neither the request nor the answer).
pub(crate) enum Carrier {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Carrier {
    /// The TCP socket at the bottom.
    #[cfg(feature = "tls")]
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Carrier::Tcp(s) => s,
            Carrier::Tls(s) => &s.sock,
        }
    }

    /// True while records of the proxy's TLS session wait to be sent.
    #[cfg(feature = "tls")]
    pub(crate) fn wants_write(&self) -> bool {
        matches!(self, Carrier::Tls(s) if s.conn.wants_write())
    }

    /// Sends records of the proxy's TLS session.
    #[cfg(feature = "tls")]
    pub(crate) fn send_pending(&mut self) -> io::Result<usize> {
        match self {
            Carrier::Tcp(_) => Ok(0),
            Carrier::Tls(s) => s.conn.write_tls(&mut s.sock),
        }
    }
}

impl Read for Carrier {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Carrier::Tcp(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Carrier::Tls(s) => tls_read(s, buf),
        }
    }
}

impl Write for Carrier {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Carrier::Tcp(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Carrier::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Carrier::Tcp(s) => s.flush(),
            #[cfg(feature = "tls")]
            Carrier::Tls(s) => s.flush(),
        }
    }
}

/// Reads plaintext from a TLS session. Unlike rustls' `Stream`, it never first sends TLS
/// records still waiting to go out: after an early answer the rest of a request body may be
/// stuck there, toward a server that no longer reads.
#[cfg(feature = "tls")]
pub(crate) fn tls_read<S: Read + Write>(
    s: &mut StreamOwned<ClientConnection, S>,
    buf: &mut [u8],
) -> io::Result<usize> {
    // Bounded: each round either returns or takes bytes from the socket.
    loop {
        match s.conn.reader().read(buf) {
            // A server that closes without close_notify: the end of the stream. Bodies with a
            // length or chunked framing still notice when bytes are missing.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
        let n = s.conn.read_tls(&mut s.sock)?;
        if let Err(e) = s.conn.process_new_packets() {
            // Tell the server why, if it still listens.
            let _ = s.conn.write_tls(&mut s.sock);
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        if n == 0 && s.conn.process_new_packets().is_ok_and(|st| st.plaintext_bytes_to_read() == 0) {
            return Ok(0);
        }
    }
}
