//! A connection driven without blocking: plain TCP, or a rustls `ClientConnection` over TCP,
//! on a `mio` socket. Every operation has one shape: it goes on until it has done something
//! ([`Io::Done`]), the socket would block ([`Io::Blocked`]: wait for the next event), or the
//! peer closed ([`Io::Closed`]). Nothing here sleeps or waits.
//!
//! A connection comes from the client's pool as a blocking [`Stream`] and goes back as one:
//! [`Socket::from_stream`] and [`Socket::into_stream`] switch the socket's mode.

use std::io::{self, Read, Write};
use std::net::TcpStream as StdStream;
#[cfg(feature = "tls")]
use std::sync::Arc;

use mio::net::TcpStream;
#[cfg(feature = "tls")]
use rustls::{ClientConfig, ClientConnection, StreamOwned};

#[cfg(feature = "tls")]
use crate::conn::Carrier;
use crate::conn::Stream;
#[cfg(feature = "tls")]
use crate::dial::tls_session;
#[cfg(feature = "tls")]
use crate::error::Error;
use crate::error::Result;

/// What one operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    /// Moved this many bytes (at least one, except for a flush with nothing left).
    Done(usize),
    /// The socket would block: wait for its next event.
    Blocked,
    /// The peer closed its side.
    Closed,
}

/// A TLS session and its TCP socket.
#[cfg(feature = "tls")]
pub(crate) struct Tls {
    session: ClientConnection,
    tcp: TcpStream,
    /// The peer closed the TCP connection.
    eof: bool,
}

/// The byte stream of a connection under way.
pub(crate) enum Socket {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<Tls>),
}

impl Socket {
    /// The TCP socket (to register it with a poll).
    pub(crate) fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Socket::Tcp(s) => s,
            #[cfg(feature = "tls")]
            Socket::Tls(t) => &mut t.tcp,
        }
    }

    /// A pooled (blocking) stream, made non-blocking.
    pub(crate) fn from_stream(stream: Stream) -> io::Result<Socket> {
        Ok(match stream {
            Stream::Tcp(s) => {
                s.set_nonblocking(true)?;
                Socket::Tcp(TcpStream::from_std(s))
            }
            #[cfg(feature = "tls")]
            Stream::Tls(owned) => {
                let StreamOwned { conn, sock } = *owned;
                let Carrier::Tcp(sock) = sock else {
                    return Err(io::Error::other("TLS inside a tunnel through an HTTPS proxy"));
                };
                sock.set_nonblocking(true)?;
                Socket::Tls(Box::new(Tls { session: conn, tcp: TcpStream::from_std(sock), eof: false }))
            }
        })
    }

    /// The stream made blocking again, for the pool.
    pub(crate) fn into_stream(self) -> io::Result<Stream> {
        Ok(match self {
            Socket::Tcp(s) => {
                let s = StdStream::from(s);
                s.set_nonblocking(false)?;
                Stream::Tcp(s)
            }
            #[cfg(feature = "tls")]
            Socket::Tls(t) => {
                let Tls { session, tcp, .. } = *t;
                let tcp = StdStream::from(tcp);
                tcp.set_nonblocking(false)?;
                Stream::Tls(Box::new(StreamOwned::new(session, Carrier::Tcp(tcp))))
            }
        })
    }

    /// Starts TLS for `host` over a connected TCP socket; [`Socket::handshake`] runs it.
    #[cfg(feature = "tls")]
    pub(crate) fn start_tls(tcp: TcpStream, config: Arc<ClientConfig>, host: &str) -> Result<Socket> {
        let session = tls_session(config, host)?;
        Ok(Socket::Tls(Box::new(Tls { session, tcp, eof: false })))
    }

    /// Runs the TLS handshake as far as the socket allows: `true` once it is done and every
    /// record of it sent.
    pub(crate) fn handshake(&mut self) -> Result<bool> {
        #[cfg(not(feature = "tls"))]
        return Ok(true);
        #[cfg(feature = "tls")]
        {
            let Socket::Tls(t) = self else { return Ok(true) };
            // Bounded: each round sends records, or takes bytes from the socket, or returns.
            loop {
                if t.flush()? == Io::Blocked {
                    return Ok(false);
                }
                if !t.session.is_handshaking() {
                    return Ok(true);
                }
                match t.take_records()? {
                    Io::Blocked => return Ok(false),
                    Io::Closed => {
                        return Err(Error::Io(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed the connection during the TLS handshake",
                        )))
                    }
                    Io::Done(_) => {}
                }
            }
        }
    }

    /// Reads bytes (plaintext, over TLS) into `buf`.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<Io> {
        match self {
            Socket::Tcp(s) => read_tcp(s, buf),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.read(buf),
        }
    }

    /// Writes bytes of `buf`. Over TLS they are taken into the session and as many records as
    /// the socket takes are sent; [`Socket::flush`] sends the rest.
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<Io> {
        match self {
            Socket::Tcp(s) => write_tcp(s, buf),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => {
                if t.flush().map_err(io::Error::from)? == Io::Blocked {
                    return Ok(Io::Blocked);
                }
                let n = t.session.writer().write(buf)?;
                // Records that do not fit now go out with the next write or flush.
                t.flush().map_err(io::Error::from)?;
                Ok(if n == 0 && !buf.is_empty() { Io::Blocked } else { Io::Done(n) })
            }
        }
    }

    /// Sends TLS records still waiting: `Done(0)` once none is left.
    pub(crate) fn flush(&mut self) -> io::Result<Io> {
        match self {
            Socket::Tcp(_) => Ok(Io::Done(0)),
            #[cfg(feature = "tls")]
            Socket::Tls(t) => t.flush().map_err(io::Error::from),
        }
    }
}

/// One read from a TCP socket, retried when interrupted.
fn read_tcp(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<Io> {
    // Bounded: only an interrupted read goes round again.
    loop {
        return match s.read(buf) {
            Ok(0) => Ok(Io::Closed),
            Ok(n) => Ok(Io::Done(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Io::Blocked),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
    }
}

/// One write to a TCP socket, retried when interrupted.
fn write_tcp(s: &mut TcpStream, buf: &[u8]) -> io::Result<Io> {
    // Bounded: only an interrupted write goes round again.
    loop {
        return match s.write(buf) {
            Ok(0) if !buf.is_empty() => Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => Ok(Io::Done(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Io::Blocked),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
    }
}

#[cfg(feature = "tls")]
impl Tls {
    /// Sends records until none is left (`Done(0)`) or the socket is full (`Blocked`).
    fn flush(&mut self) -> Result<Io> {
        // Bounded: each round sends bytes of the records or returns.
        while self.session.wants_write() {
            match self.session.write_tls(&mut self.tcp) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Io::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(Io::Done(0))
    }

    /// Takes bytes from the socket into the session and processes them.
    fn take_records(&mut self) -> Result<Io> {
        let n = match self.session.read_tls(&mut self.tcp) {
            Ok(0) => {
                self.eof = true;
                return Ok(Io::Closed);
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Io::Blocked),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Io::Done(0)),
            Err(e) => return Err(Error::Io(e)),
        };
        if let Err(e) = self.session.process_new_packets() {
            // Tell the server why, if it still listens.
            let _ = self.session.write_tls(&mut self.tcp);
            return Err(Error::Tls(e));
        }
        Ok(Io::Done(n))
    }

    /// Reads plaintext. A server that closes without `close_notify` ends the stream (bodies
    /// with a length or chunked framing still notice when bytes are missing), as the blocking
    /// client reads it.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<Io> {
        // Bounded: each round returns or takes bytes from the socket, until it would block.
        loop {
            match self.session.reader().read(buf) {
                Ok(0) if !buf.is_empty() => return Ok(Io::Closed),
                Ok(n) => return Ok(Io::Done(n)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Io::Closed),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.eof {
                return Ok(Io::Closed);
            }
            match self.take_records().map_err(io::Error::from)? {
                Io::Blocked => return Ok(Io::Blocked),
                Io::Closed | Io::Done(_) => {}
            }
        }
    }
}
