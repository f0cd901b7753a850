//! The monitor thread: seat hand-offs (a worker stuck in a handler gives its seat to a
//! standby worker), deadlines of parked connections, responders' deadlines, and the queue's
//! waits.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::connection::Conn;
use crate::io::lock;
use crate::runtime::shared::Shared;

/// Closes parked connections that were taken out of the table.
#[allow(clippy::vec_box)] // the table keeps connections boxed; moving them out keeps the box
pub(crate) fn close_taken(conns: Vec<Box<Conn>>, now: Instant) {
    for mut conn in conns {
        // Closing the socket takes it out of its poller.
        if conn.deadline <= now {
            log::debug!(target: "http_server", "{}: deadline passed ({}), closed", conn.peer, conn.phase_name());
            if let Some(notice) = conn.expiry_notice() {
                // A request that never finished arriving: say so (best effort, never
                // waiting), then abort.
                let _ = conn.io.write(notice);
                let _ = conn.io.flush();
                conn.io.hard_close();
            }
        }
        drop(conn);
    }
}

/// The monitor thread: seat hand-offs and deadlines.
pub(crate) fn monitor_main(shared: &Shared) {
    let seats = &shared.seats;
    let mut last_seen = vec![0u64; seats.seats.len()];
    let mut last_requests = 0u64;
    let t = &shared.engine.wire.timeouts;
    let sweep_every = (t.header.min(t.keep_alive).min(t.linger) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut next_sweep = Instant::now() + sweep_every;
    let mut expired = Vec::new();
    let mut expired_keys = Vec::new();
    let mut woken = Vec::new();
    while !shared.exiting() {
        let mut busy = false;
        for (i, seat) in seats.seats.iter().enumerate() {
            let owner = seat.owner.load(Ordering::Relaxed);
            let tag = seats.workers.get(owner).map_or(0, |w| w.busy.load(Ordering::Relaxed));
            if tag != 0 {
                busy = true;
                if tag == last_seen[i] && seats.hand_off(i) {
                    last_seen[i] = 0;
                    continue;
                }
            }
            last_seen[i] = tag;
        }
        let now = shared.engine.site.clock.tick();
        expire_responders(shared, now);
        schedule_queued(shared, now, &mut expired_keys);
        if now >= next_sweep {
            lock(&shared.slab).expire(now, &mut expired, &mut woken);
            close_taken(std::mem::take(&mut expired), now);
            // Streams whose keep-alive is due.
            for key in woken.drain(..) {
                shared.engine.poller_of(key).resume(key);
            }
            next_sweep = now + sweep_every;
        }
        let requests = shared.requests();
        let lively = busy || requests != last_requests;
        last_requests = requests;
        let tick = if lively { Duration::from_millis(2) } else { Duration::from_millis(50) };
        std::thread::park_timeout(tick.min(next_sweep.saturating_duration_since(now)));
    }
}

/// Schedules queued requests whose wait is over (their seat answers 503), and the oldest
/// one when a slot is free (a slot freed while the queue was being filled).
fn schedule_queued(shared: &Shared, now: Instant, keys: &mut Vec<u64>) {
    keys.clear();
    shared.engine.queue.expired(now, keys);
    if shared.engine.active.load(Ordering::Acquire) < shared.engine.settings.request_count_limit {
        keys.extend(shared.engine.queue.pop());
    }
    for &key in keys.iter() {
        shared.engine.poller_of(key).resume(key);
    }
}

/// Answers 503 for responders whose deadline passed, and forgets settled ones.
fn expire_responders(shared: &Shared, now: Instant) {
    shared.engine.site.expire_responders(now);
}
