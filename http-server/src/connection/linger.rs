//! The `Linger` phase: a connection that must close but whose peer may still be sending
//! (its request not read to the end) half-closes, then reads and drops what comes until the
//! peer closes or the linger time runs out, so that the answer is not lost to a reset.

use super::worker::Worker;
use super::{CloseReason, Conn, Next, Phase};
use crate::io::attempt::{attempt, Attempt};
use crate::io::wire::READ_BUF;

/// Reads of a lingering connection per turn.
const READS_PER_TURN: u32 = 64;

/// Half-closes a connection whose output is all written, and lingers.
pub(super) fn start(w: &mut Worker<'_>, conn: &mut Conn, reason: CloseReason) -> Next {
    conn.io.shutdown_write();
    conn.deadline = w.engine.site.clock.now() + w.engine.wire.timeouts.linger;
    // Read what is already there, so that parking waits for new bytes (or the end).
    drain(w, conn, reason)
}

/// Discards input until the peer closes, the socket is empty (park), or the turn's reads
/// are spent (give way).
pub(super) fn drain(w: &mut Worker<'_>, conn: &mut Conn, reason: CloseReason) -> Next {
    for _ in 0..READS_PER_TURN {
        w.rbuf.clear();
        match attempt(|| w.rbuf.read_from(&mut *conn.io, READ_BUF)) {
            Ok(Attempt::Done(_)) => {}
            Ok(Attempt::Blocked) => {
                w.rbuf.clear();
                return Next::Park(Phase::Linger(reason));
            }
            Ok(Attempt::Closed) | Err(_) => return Next::Close(reason),
        }
    }
    w.rbuf.clear();
    Next::Yield(Phase::Linger(reason))
}
