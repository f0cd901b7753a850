//! The queue of complete requests waiting for a worker slot, oldest first, bounded in
//! length; each entry carries the end of its wait. Only keys live here: the connection stays
//! parked in the connection table (`Phase::Queued`) with its request.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::io::lock;

pub(crate) struct DispatchQueue {
    entries: Mutex<VecDeque<(u64, Instant)>>,
    len: AtomicUsize,
    cap: usize,
}

impl DispatchQueue {
    pub(crate) fn new(cap: usize) -> DispatchQueue {
        DispatchQueue { entries: Mutex::new(VecDeque::new()), len: AtomicUsize::new(0), cap }
    }

    /// True when nothing waits (read without the lock).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// True when no more requests may wait.
    pub(crate) fn is_full(&self) -> bool {
        self.len.load(Ordering::Acquire) >= self.cap
    }

    /// Queues `key` until `until`; false when the queue is full.
    pub(crate) fn push(&self, key: u64, until: Instant) -> bool {
        if self.cap == 0 {
            return false;
        }
        let mut q = lock(&self.entries);
        if q.len() >= self.cap {
            return false;
        }
        q.push_back((key, until));
        self.len.store(q.len(), Ordering::Release);
        true
    }

    /// Queues `key` again at the back unless it is there (a request that lost the race for
    /// the slot it was woken for).
    pub(crate) fn ensure(&self, key: u64, until: Instant) {
        let mut q = lock(&self.entries);
        if !q.iter().any(|&(k, _)| k == key) {
            q.push_back((key, until));
            self.len.store(q.len(), Ordering::Release);
        }
    }

    /// The oldest waiting key.
    pub(crate) fn pop(&self) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        let mut q = lock(&self.entries);
        let front = q.pop_front().map(|(k, _)| k);
        self.len.store(q.len(), Ordering::Release);
        front
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: u64) {
        if self.is_empty() {
            return;
        }
        let mut q = lock(&self.entries);
        q.retain(|&(k, _)| k != key);
        self.len.store(q.len(), Ordering::Release);
    }

    /// Takes out the keys whose wait is over.
    pub(crate) fn expired(&self, now: Instant, out: &mut Vec<u64>) {
        if self.is_empty() {
            return;
        }
        let mut q = lock(&self.entries);
        q.retain(|&(k, until)| {
            if until <= now {
                out.push(k);
                false
            } else {
                true
            }
        });
        self.len.store(q.len(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bounded_ordered_and_expiring() {
        let now = Instant::now();
        let q = DispatchQueue::new(2);
        assert!(q.push(1, now + Duration::from_secs(1)));
        assert!(q.push(2, now + Duration::from_secs(5)));
        assert!(!q.push(3, now), "full");
        q.ensure(1, now);
        let mut out = Vec::new();
        q.expired(now + Duration::from_secs(2), &mut out);
        assert_eq!(out, [1]);
        assert_eq!(q.pop(), Some(2));
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
        q.ensure(4, now);
        q.remove(4);
        assert!(q.is_empty());
    }
}
