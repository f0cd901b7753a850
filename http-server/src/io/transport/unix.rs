//! The Unix domain socket transport: a listener at a path (the file made when listening
//! and removed when the listener is dropped) and its connections.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::path::{Path, PathBuf};

use mio::event::Source;
use socket2::{Domain, Socket, Type};

#[cfg(any(target_os = "linux", target_os = "android"))]
use super::recv_into_spare;
use super::{listener_pending, Connection, ListenOptions, Listener, LocalAddr, PeerAddr, Transport};

/// A Unix domain socket at a path. The socket file is created when the server starts
/// listening and removed when the listener is dropped; an existing file is an error
/// (`AddrInUse`), so a running server is never displaced.
#[derive(Debug, Clone)]
pub struct UnixTransport {
    path: PathBuf,
}

impl UnixTransport {
    /// A transport listening at `path`.
    pub fn new(path: impl AsRef<Path>) -> UnixTransport {
        UnixTransport { path: path.as_ref().to_path_buf() }
    }
}

impl Transport for UnixTransport {
    fn listen(&self, options: &ListenOptions) -> io::Result<Box<dyn Listener>> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        socket.bind(&socket2::SockAddr::unix(&self.path)?)?;
        socket.listen(options.backlog.min(i32::MAX as u32) as i32)?;
        let listener = mio::net::UnixListener::from_std(std::os::unix::net::UnixListener::from(
            std::os::fd::OwnedFd::from(socket),
        ));
        Ok(Box::new(UnixListenerImpl { listener, path: self.path.clone(), owned: true }))
    }
}

/// A listener over an already-bound, listening std Unix socket (made non-blocking here). Its
/// socket file is left in place when it is dropped: whoever bound it owns it.
pub(crate) fn unix_listener_from_std(
    listener: std::os::unix::net::UnixListener,
) -> io::Result<Box<dyn Listener>> {
    listener.set_nonblocking(true)?;
    let path = listener.local_addr()?.as_pathname().map(Path::to_path_buf).unwrap_or_default();
    let listener = mio::net::UnixListener::from_std(listener);
    Ok(Box::new(UnixListenerImpl { listener, path, owned: false }))
}

struct UnixListenerImpl {
    listener: mio::net::UnixListener,
    path: PathBuf,
    /// The socket file was made by this listener, which removes it when dropped.
    owned: bool,
}

impl Drop for UnixListenerImpl {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Listener for UnixListenerImpl {
    fn accept(&self) -> io::Result<Box<dyn Connection>> {
        let (stream, _) = self.listener.accept()?;
        Ok(Box::new(UnixConnection(stream)))
    }

    fn local_addr(&self) -> io::Result<LocalAddr> {
        Ok(LocalAddr::Unix(self.path.clone()))
    }

    fn source(&mut self) -> &mut dyn Source {
        &mut self.listener
    }

    fn pending(&self) -> Option<bool> {
        listener_pending(&self.listener)
    }
}

struct UnixConnection(mio::net::UnixStream);

impl Read for UnixConnection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for UnixConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Connection for UnixConnection {
    fn peer_addr(&self) -> PeerAddr {
        PeerAddr::Unix
    }

    fn short_read_drains(&self) -> bool {
        crate::io::attempt::SHORT_READ_DRAINS
    }

    fn source(&mut self) -> &mut dyn Source {
        &mut self.0
    }

    fn hard_close(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }

    fn shutdown_write(&mut self) {
        let _ = self.0.shutdown(Shutdown::Write);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn read_into_spare(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        recv_into_spare(&self.0, buf)
    }
}
