//! Seats: places on the pollers, one per I/O thread. The worker holding a seat waits on its
//! poller and drives what it reports; the other workers stand by until a seat is vacant.
//! The monitor gives away the seat of a worker stuck in a handler.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::connection::WorkerCell;
use crate::io::lock;
use crate::io::poller::Ready;

pub(crate) struct SeatQueue {
    pub(crate) epoch: u64,
    pub(crate) keys: VecDeque<Ready>,
}

pub(crate) struct Seat {
    pub(crate) queue: Mutex<SeatQueue>,
    pub(crate) owner: AtomicUsize,
}

struct Standby {
    vacant: Vec<usize>,
    waiting: usize,
}

/// The seats (places on the poller) and the workers standing by.
pub(crate) struct Seats {
    pub(crate) seats: Vec<Seat>,
    standby: Mutex<Standby>,
    cv: Condvar,
    /// Per worker: what it is serving and has served.
    pub(crate) workers: Vec<WorkerCell>,
}

impl Seats {
    pub(crate) fn new(seats: usize, workers: usize) -> Seats {
        Seats {
            seats: (0..seats)
                .map(|_| Seat {
                    queue: Mutex::new(SeatQueue { epoch: 0, keys: VecDeque::new() }),
                    owner: AtomicUsize::new(usize::MAX),
                })
                .collect(),
            standby: Mutex::new(Standby { vacant: (0..seats).rev().collect(), waiting: 0 }),
            cv: Condvar::new(),
            workers: (0..workers).map(|_| WorkerCell::default()).collect(),
        }
    }

    /// Waits for a vacant seat; `None` when the pool is exiting.
    pub(crate) fn take(&self, exit: &AtomicBool, worker: usize) -> Option<(usize, u64)> {
        let mut sb = lock(&self.standby);
        loop {
            if exit.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(s) = sb.vacant.pop() {
                drop(sb);
                let seat = &self.seats[s];
                seat.owner.store(worker, Ordering::Relaxed);
                let epoch = lock(&seat.queue).epoch;
                return Some((s, epoch));
            }
            sb.waiting += 1;
            sb = match self.cv.wait(sb) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            sb.waiting -= 1;
        }
    }

    /// Gives seat `s` to a standby worker, if there is one.
    pub(crate) fn hand_off(&self, s: usize) -> bool {
        let mut sb = lock(&self.standby);
        if sb.waiting == 0 || sb.vacant.len() >= sb.waiting {
            return false;
        }
        lock(&self.seats[s].queue).epoch += 1;
        self.seats[s].owner.store(usize::MAX, Ordering::Relaxed);
        sb.vacant.push(s);
        drop(sb);
        self.cv.notify_one();
        true
    }

    /// Requests the workers have answered.
    pub(crate) fn served(&self) -> u64 {
        self.workers.iter().map(|w| w.served.load(Ordering::Relaxed)).sum()
    }

    pub(crate) fn wake_all(&self) {
        let _sb = lock(&self.standby);
        self.cv.notify_all();
    }
}
