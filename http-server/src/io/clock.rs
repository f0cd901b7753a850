//! A coarse clock: read from an atomic, set when a worker wakes from the poller and on every
//! monitor tick, so serving a request reads no clock of its own.
//!
//! Its error is at most the time since the last wake-up or tick (a few milliseconds when
//! busy, 50 ms when idle): fine for timeouts of a tenth of a second and more, and for the
//! one-second `Date` header.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) struct Clock {
    start: Instant,
    /// Milliseconds since `start`.
    ms: AtomicU64,
    /// Seconds since the Unix epoch.
    unix: AtomicU64,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        let c = Clock { start: Instant::now(), ms: AtomicU64::new(0), unix: AtomicU64::new(0) };
        c.tick();
        c
    }

    /// Reads the real clocks and publishes them.
    pub(crate) fn tick(&self) -> Instant {
        let now = Instant::now();
        self.ms.store(now.duration_since(self.start).as_millis() as u64, Ordering::Relaxed);
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.unix.store(unix, Ordering::Relaxed);
        now
    }

    /// The time of the last tick.
    pub(crate) fn now(&self) -> Instant {
        self.start + Duration::from_millis(self.ms.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch at the last tick.
    pub(crate) fn unix_secs(&self) -> u64 {
        self.unix.load(Ordering::Relaxed)
    }
}
