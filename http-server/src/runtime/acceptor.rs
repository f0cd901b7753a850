//! The acceptor thread: accepts and registers, nothing else.

use std::io::{self, Write};
use std::time::Duration;

use crate::connection::Conn;
use crate::handler::hooks::ErrorEvent;
use crate::io::lock;
use crate::io::poller::AcceptPoll;
use crate::io::transport::{Connection, Listener};
use crate::runtime::shared::Shared;

/// A canned answer for connections beyond the connection limit.
const OVERLOADED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n";

/// Puts a new connection into the table and the poller.
fn register(shared: &Shared, mut io: Box<dyn Connection>) {
    if lock(&shared.slab).live() >= shared.max_connections {
        let _ = io.write(OVERLOADED);
        return;
    }
    let deadline = shared.engine.site.clock.tick() + shared.engine.wire.timeouts.header;
    let conn = Box::new(Conn::new(io, deadline));
    // Registered under the table's lock: a report cannot be handled before the entry is there.
    let _ = lock(&shared.slab)
        .insert_parked(conn, |c, key| shared.engine.poller_of(key).add(c.io.source(), key).is_ok());
}

/// The acceptor thread: accepts and registers, nothing else; backs off when accepting fails
/// (for instance when the process is out of file descriptors).
pub(crate) fn acceptor_main(shared: &Shared, listener: Box<dyn Listener>, mut poll: AcceptPoll) {
    let mut backoff = Duration::from_millis(5);
    while !shared.stopping() {
        match listener.accept() {
            Ok(io) => {
                backoff = Duration::from_millis(5);
                register(shared, io);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll.wait(None);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                if let Some(h) = shared.engine.registry.snapshot().error_hook.clone() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        h(&ErrorEvent::Accept { error: &e })
                    }));
                }
                poll.wait(Some(backoff));
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    drop(listener);
}
