//! One try at a read or a write on a non-blocking connection, as every loop over one needs
//! it: how many bytes moved, or that the socket would block, or that the peer is gone.
//!
//! mio's readiness is edge-triggered: a connection may wait for its next event only after an
//! operation said [`Attempt::Blocked`]. Epoll and kqueue report new bytes anyway; Windows
//! re-arms its poll only after `WouldBlock`. Every loop here goes on until `Blocked` (or
//! stops for a reason of its own: a full buffer, a turn's budget, a phase change).

use std::io;

/// True where a read of a plain socket that did not fill its buffer proves the socket empty,
/// so that a connection may wait for its next event without the read that would say
/// `WouldBlock`: epoll (Linux, Android) reports every arrival of new bytes on an
/// edge-triggered registration, whether or not the last read saw `WouldBlock` (nginx relies
/// on the same). It saves the read after each answer that would find nothing: with it the
/// server's CPU per keep-alive request was 0.92x (50 connections) and 0.88x (256) of the
/// same build without it, lower in 6 of 6 paired rounds (`bench/servers.py --paired`, see
/// `bench/RESULTS.md`); pipelined, no difference. Everywhere else
/// (Windows re-arms its poll only after `WouldBlock`; kqueue is not measured here) it is
/// false, and every loop reads until [`Attempt::Blocked`]. Only plain sockets use it
/// ([`Connection::short_read_drains`](crate::io::transport::Connection::short_read_drains)):
/// a TLS or PROXY-protocol reader may return less than its buffer while bytes wait in the
/// socket.
pub(crate) const SHORT_READ_DRAINS: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// What one try at a read or a write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// This many bytes moved (never 0).
    Done(usize),
    /// The socket would block: wait for the next readiness event.
    Blocked,
    /// Nothing moved: the end of the stream (a read), or a peer that takes nothing (a write).
    Closed,
}

/// Runs `op` (a read or a write) once, again only when a signal interrupted it.
///
/// # Errors
/// What `op` failed with, `WouldBlock` and `Interrupted` aside.
#[inline]
pub(crate) fn attempt(mut op: impl FnMut() -> io::Result<usize>) -> io::Result<Attempt> {
    loop {
        match op() {
            Ok(0) => return Ok(Attempt::Closed),
            Ok(n) => return Ok(Attempt::Done(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Attempt::Blocked),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Runs a flush once (again only when a signal interrupted it): `true` when everything is
/// out, `false` when the socket would block.
///
/// # Errors
/// What the flush failed with, `WouldBlock` and `Interrupted` aside.
#[inline]
pub(crate) fn attempt_flush(mut op: impl FnMut() -> io::Result<()>) -> io::Result<bool> {
    loop {
        match op() {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_result_has_its_answer() {
        assert_eq!(attempt(|| Ok(3)).unwrap(), Attempt::Done(3));
        assert_eq!(attempt(|| Ok(0)).unwrap(), Attempt::Closed);
        assert_eq!(attempt(|| Err(io::ErrorKind::WouldBlock.into())).unwrap(), Attempt::Blocked);
        let mut tries = 0;
        let r = attempt(|| {
            tries += 1;
            if tries < 3 {
                Err(io::ErrorKind::Interrupted.into())
            } else {
                Ok(7)
            }
        });
        assert_eq!((r.unwrap(), tries), (Attempt::Done(7), 3));
        assert!(attempt(|| Err(io::ErrorKind::ConnectionReset.into())).is_err());
        assert!(attempt_flush(|| Ok(())).unwrap());
        assert!(!attempt_flush(|| Err(io::ErrorKind::WouldBlock.into())).unwrap());
        assert!(attempt_flush(|| Err(io::ErrorKind::BrokenPipe.into())).is_err());
    }
}
