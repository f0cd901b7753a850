//! The connection of a WebSocket cut in two: a read half that one thread blocks on and a
//! write half that another thread writes through, over TCP or TLS.
//!
//! Over TCP each half has its own handle on the socket. Over TLS the one rustls session is
//! shared under a mutex that is never held while a thread waits on the network: the read half
//! reads ciphertext from its own socket handle without the lock, then takes the lock only to
//! hand it to the session and take plaintext out; the write half encrypts under the lock and
//! sends with it released. Records leave in the order they were encrypted because whoever
//! takes records out of the session holds the write lock first (lock order: write, then
//! session).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[cfg(feature = "tls")]
use rustls::ClientConnection;

#[cfg(feature = "tls")]
use crate::conn::Carrier;
use crate::conn::Stream;

/// Ciphertext read from the socket at a time.
#[cfg(feature = "tls")]
const RAW_BUF: usize = 16 * 1024;

/// Locks `m`, taking the value even after a panic elsewhere (every update here leaves it
/// consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What both halves of a TLS connection share.
#[cfg(feature = "tls")]
struct Tls {
    session: Mutex<ClientConnection>,
}

/// The reading half.
pub(crate) struct ReadHalf {
    sock: TcpStream,
    /// Bytes that arrived with the handshake's answer (plaintext), read first.
    early: Vec<u8>,
    early_pos: usize,
    #[cfg(feature = "tls")]
    tls: Option<TlsRead>,
}

/// The read half's part of a TLS connection: ciphertext read and not yet handed over.
#[cfg(feature = "tls")]
struct TlsRead {
    shared: Arc<Tls>,
    writer: Arc<Mutex<TcpStream>>,
    raw: Vec<u8>,
    raw_pos: usize,
    raw_len: usize,
}

/// The writing half: cheap to share (clones write through the same lock).
#[derive(Clone)]
pub(crate) struct WriteHalf {
    sock: Arc<Mutex<TcpStream>>,
    #[cfg(feature = "tls")]
    tls: Option<Arc<Tls>>,
}

/// Splits a connection; `early` are bytes already received after the handshake's answer.
pub(crate) fn split(stream: Stream, early: Vec<u8>) -> io::Result<(ReadHalf, WriteHalf)> {
    #[cfg(not(feature = "tls"))]
    let Stream::Tcp(sock) = stream;
    #[cfg(feature = "tls")]
    let (sock, session) = match stream {
        Stream::Tcp(sock) => (sock, None),
        Stream::Tls(owned) => {
            let owned = *owned;
            match owned.sock {
                Carrier::Tcp(sock) => (sock, Some(owned.conn)),
                // TLS inside the TLS of an `https://` proxy: the halves cannot share it.
                Carrier::Tls(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "a wss:// WebSocket through an https:// proxy is not supported",
                    ))
                }
            }
        }
    };
    sock.set_read_timeout(None)?;
    let writer = Arc::new(Mutex::new(sock.try_clone()?));
    #[cfg(feature = "tls")]
    let tls = session.map(|s| Arc::new(Tls { session: Mutex::new(s) }));
    #[cfg(feature = "tls")]
    let read_tls = tls.as_ref().map(|shared| TlsRead {
        shared: shared.clone(),
        writer: writer.clone(),
        raw: vec![0u8; RAW_BUF],
        raw_pos: 0,
        raw_len: 0,
    });
    let read = ReadHalf {
        sock,
        early,
        early_pos: 0,
        #[cfg(feature = "tls")]
        tls: read_tls,
    };
    Ok((
        read,
        WriteHalf {
            sock: writer,
            #[cfg(feature = "tls")]
            tls,
        },
    ))
}

impl ReadHalf {
    /// How long a read may wait (`None`: as long as it takes). A wait that runs out fails
    /// with `TimedOut` or `WouldBlock`, and the half stays usable.
    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
}

impl Read for ReadHalf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.early_pos < self.early.len() {
            let n = out.len().min(self.early.len() - self.early_pos);
            out[..n].copy_from_slice(&self.early[self.early_pos..self.early_pos + n]);
            self.early_pos += n;
            if self.early_pos == self.early.len() {
                self.early = Vec::new();
                self.early_pos = 0;
            }
            return Ok(n);
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            return tls.read(&mut self.sock, out);
        }
        self.sock.read(out)
    }
}

#[cfg(feature = "tls")]
impl TlsRead {
    /// Plaintext from the session, reading ciphertext from `sock` (without the lock) when
    /// the session has none.
    fn read(&mut self, sock: &mut TcpStream, out: &mut [u8]) -> io::Result<usize> {
        // Bounded: each round hands ciphertext to the session or reads more from the socket,
        // and the socket's end or timeout returns.
        loop {
            let (flush, starved) = {
                let mut session = lock(&self.shared.session);
                match session.reader().read(out) {
                    Ok(n) => return Ok(n),
                    // Closed without close_notify: the end of the stream all the same (the
                    // WebSocket's own close frame says whether it ended cleanly).
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.raw_pos < self.raw_len {
                    let n = session.read_tls(&mut &self.raw[self.raw_pos..self.raw_len])?;
                    self.raw_pos += n;
                    if let Err(e) = session.process_new_packets() {
                        drop(session);
                        // Tell the server why (an alert), if it still listens.
                        let _ = self.flush_records();
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    (session.wants_write(), false)
                } else {
                    (false, true)
                }
            };
            if flush {
                // A key update or other record the session must answer.
                self.flush_records()?;
            }
            if !starved {
                // Plaintext may have come of what was handed over: look first.
                continue;
            }
            let n = sock.read(&mut self.raw)?;
            if n == 0 {
                return Ok(0);
            }
            self.raw_pos = 0;
            self.raw_len = n;
        }
    }

    /// Sends the records the session has waiting, under the write lock.
    fn flush_records(&self) -> io::Result<()> {
        let mut sock = lock(&self.writer);
        send_records(&self.shared, &mut sock, &[])
    }
}

/// Encrypts `data` (if any) and sends it with every record the session has waiting, the write
/// lock held by the caller (`sock`) and the session locked only while records are taken out.
#[cfg(feature = "tls")]
fn send_records(tls: &Tls, sock: &mut TcpStream, data: &[u8]) -> io::Result<()> {
    let mut records = Vec::new();
    let mut pos = 0;
    // Bounded: each round encrypts part of `data` or sends what the session had; a round
    // that does neither fails.
    loop {
        records.clear();
        {
            let mut session = lock(&tls.session);
            if pos < data.len() {
                pos += session.writer().write(&data[pos..])?;
            }
            while session.wants_write() {
                session.write_tls(&mut records)?;
            }
        }
        if records.is_empty() {
            if pos == data.len() {
                return Ok(());
            }
            return Err(io::Error::new(io::ErrorKind::WriteZero, "the TLS session took no bytes"));
        }
        sock.write_all(&records)?;
    }
}

impl WriteHalf {
    /// Writes all of `data` (one or more whole frames), as one unit among concurrent writers.
    pub(crate) fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let mut sock = lock(&self.sock);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return send_records(tls, &mut sock, data);
        }
        sock.write_all(data)
    }

    /// How long a write may wait (`None`: as long as it takes).
    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        lock(&self.sock).set_write_timeout(timeout)
    }

    /// Ends the connection: TLS `close_notify` first, then both directions of the socket
    /// (which also wakes a read half blocked on it).
    pub(crate) fn shutdown(&self) {
        #[allow(unused_mut)]
        let mut sock = lock(&self.sock);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            lock(&tls.session).send_close_notify();
            let _ = send_records(tls, &mut sock, &[]);
        }
        let _ = sock.shutdown(Shutdown::Both);
    }
}
