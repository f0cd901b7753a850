//! A connection that switched protocols after `101 Switching Protocols`: the client's side of
//! an upgrade (a WebSocket, say), given back as an owned stream.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::Duration;

use crate::conn::{Conn, Timing};

/// The connection of a request that was answered `101 Switching Protocols`, from
/// [`Response::into_upgraded`](crate::Response::into_upgraded): a blocking [`Read`] +
/// [`Write`] stream over TCP or TLS, never pooled.
///
/// Bytes the server sent right after its `101` head come first. Reads and writes wait as
/// long as it takes unless a timeout is set (a wait that runs out fails with a timeout
/// error, [`io::ErrorKind::TimedOut`]).
pub struct Upgraded {
    conn: Conn,
    timing: Timing,
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded").field("read_timeout", &self.timing.read).finish()
    }
}

impl Upgraded {
    pub(crate) fn new(mut conn: Conn) -> Upgraded {
        let timing = Timing::default();
        conn.set_timing(timing);
        Upgraded { conn, timing }
    }

    /// The stream and the bytes that arrived after the `101` head and were not read yet.
    pub(crate) fn into_parts(self) -> (crate::conn::Stream, Vec<u8>) {
        self.conn.into_stream_and_buffered()
    }

    /// How long a read may wait (`None`: as long as it takes).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.timing.read = timeout;
        self.conn.set_timing(self.timing);
    }

    /// How long a write may wait (`None`: as long as it takes).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.timing.write = timeout;
        self.conn.set_timing(self.timing);
    }
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.read(buf)
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.conn.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.flush()
    }
}
