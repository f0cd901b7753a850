//! The `Upgrade` step: once the `101` head is out, the connection goes to the upgrade
//! handler, on a thread of its own — or, for a WebSocket, stays with the engine.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::answer::UpgradeJob;
use super::log::panic_message;
use super::websocket::Live;
use super::worker::Worker;
use super::{CloseReason, Conn, Next};
use crate::handler::hooks::ErrorEvent;
use crate::handler::response::{Switch, UpgradeHandler};
use crate::io::budget::Share;
use crate::io::upgraded::{Detached, Upgraded};

/// Gives the connection (its `101` head written) to what takes it over: a WebSocket stays
/// with the engine (the bytes after the request are its first frames); anything else goes
/// to its handler's thread.
pub(super) fn hand_over(w: &mut Worker<'_>, conn: &mut Conn, job: UpgradeJob) -> Next {
    let UpgradeJob { protocol, handler, share } = job;
    match handler {
        Switch::Socket(start) => Next::Socket(Box::new(Live::new(w, conn, *start, share))),
        Switch::Thread(handler) => to_thread(w, conn, protocol, handler, share),
    }
}

/// Gives the connection to the upgrade handler, with the bytes that came after the
/// request, on a thread of its own; the server is done with it.
fn to_thread(
    w: &mut Worker<'_>,
    conn: &mut Conn,
    protocol: String,
    handler: UpgradeHandler,
    share: Share,
) -> Next {
    let engine = w.engine;
    let prefix = w.rbuf.available().to_vec();
    w.rbuf.clear();
    let mut io = std::mem::replace(&mut conn.io, Box::new(Detached::new()));
    engine.poller_of(w.key).delete(io.source());
    let peer = conn.peer.clone();
    let stream =
        match Upgraded::new(io, peer.clone(), protocol.clone(), prefix, engine.upgrades.clone(), share) {
            Ok(s) => s,
            // No poller could be made (out of file descriptors): the connection closes.
            Err(_) => return Next::Close(CloseReason::Upgraded),
        };
    let error_hook = engine.registry.snapshot().error_hook.clone();
    let run = move || {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler(stream))) {
            let message = panic_message(&*payload);
            let event = ErrorEvent::UpgradePanic { peer: &peer, protocol: &protocol, message: &message };
            event.log();
            if let Some(h) = error_hook {
                let _ = catch_unwind(AssertUnwindSafe(|| h(&event)));
            }
        }
    };
    // A thread that cannot be started drops the stream (and closes the connection).
    let _ = std::thread::Builder::new().name("http-upgraded".into()).spawn(run);
    Next::Close(CloseReason::Upgraded)
}
