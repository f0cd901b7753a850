//! The connection table: every open connection has a slot, whether parked or being served.
//!
//! A slot is `Vacant`, `Busy` (a worker holds the connection) or `Parked` (the connection sits
//! in the table, registered with the poller). Keys carry the slot's generation, so a stale
//! readiness report for a closed connection finds a newer generation and is ignored.
//!
//! A readiness report that arrives while a worker holds the connection is settled here: it
//! marks the busy slot `pending`, and [`Slab::park`] hands the connection back to the worker
//! instead of parking it, so no report is ever lost.

use std::time::Instant;

/// What the table needs to know about a parked entry.
pub(crate) trait Expiring {
    /// When the entry must be closed if nothing happens.
    fn deadline(&self) -> Instant;

    /// True for a parked entry that still owes an answer (a request waiting for a
    /// responder): closing the table leaves it parked until [`Slab::close_rest`].
    fn in_flight(&self) -> bool {
        false
    }

    /// True for a parked entry that is to be woken at its deadline rather than closed.
    fn wakes_at_deadline(&self) -> bool {
        false
    }

    /// True for a parked entry that a shutdown wakes rather than closes: it ends itself in
    /// good order (and owes nothing once it has begun to: `in_flight` then says whether it
    /// is to be waited for).
    fn winds_down(&self) -> bool {
        false
    }
}

enum State<T> {
    Vacant,
    Busy { pending: bool, hangup: bool },
    Parked(Box<T>),
}

struct Slot<T> {
    generation: u32,
    state: State<T>,
}

/// The outcome of [`Slab::park`].
pub(crate) enum Park<T> {
    /// The entry is parked.
    Parked,
    /// A readiness report came while the entry was busy: serve it again (`true`: the report
    /// said the peer hung up).
    Pending(Box<T>, bool),
    /// The server is closing: close the entry instead.
    Closing(Box<T>),
}

/// Slots indexed by key.
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
    closing: bool,
}

fn key(index: u32, generation: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(index)
}

fn split(key: u64) -> (usize, u32) {
    ((key & 0xffff_ffff) as usize, (key >> 32) as u32)
}

impl<T: Expiring> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab { slots: Vec::new(), free: Vec::new(), live: 0, closing: false }
    }

    /// Number of open connections.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// Makes a new busy slot; `None` once the table is closing.
    pub(crate) fn insert_busy(&mut self) -> Option<u64> {
        if self.closing {
            return None;
        }
        self.live += 1;
        if let Some(i) = self.free.pop() {
            let slot = &mut self.slots[i as usize];
            slot.state = State::Busy { pending: false, hangup: false };
            return Some(key(i, slot.generation));
        }
        let i = self.slots.len() as u32;
        self.slots.push(Slot { generation: 0, state: State::Busy { pending: false, hangup: false } });
        Some(key(i, 0))
    }

    fn slot(&mut self, k: u64) -> Option<&mut Slot<T>> {
        let (i, generation) = split(k);
        self.slots.get_mut(i).filter(|s| s.generation == generation)
    }

    /// Takes a parked entry for serving after a readiness report. A report for a busy entry
    /// is remembered; a stale one is ignored.
    pub(crate) fn take(&mut self, k: u64, hangup: bool) -> Option<Box<T>> {
        let slot = self.slot(k)?;
        match std::mem::replace(&mut slot.state, State::Busy { pending: false, hangup: false }) {
            State::Parked(t) => Some(t),
            State::Busy { hangup: h, .. } => {
                slot.state = State::Busy { pending: true, hangup: h || hangup };
                None
            }
            State::Vacant => {
                slot.state = State::Vacant;
                None
            }
        }
    }

    /// Puts a busy entry back as parked, unless a report came meanwhile or the table closes.
    pub(crate) fn park(&mut self, k: u64, t: Box<T>) -> Park<T> {
        let closing = self.closing;
        let Some(slot) = self.slot(k) else {
            // Cannot happen: a busy slot is never freed by others. Close it to be safe.
            return Park::Closing(t);
        };
        match slot.state {
            State::Busy { pending: true, hangup } => {
                slot.state = State::Busy { pending: false, hangup: false };
                Park::Pending(t, hangup)
            }
            // Woken to end in good order, as the start of the shutdown did with those parked.
            _ if closing && t.winds_down() => Park::Pending(t, false),
            _ if closing && !t.in_flight() => Park::Closing(t),
            _ => {
                slot.state = State::Parked(t);
                Park::Parked
            }
        }
    }

    /// Frees the slot of a busy entry that is being closed.
    pub(crate) fn remove(&mut self, k: u64) {
        let (i, generation) = split(k);
        if let Some(slot) = self.slots.get_mut(i).filter(|s| s.generation == generation) {
            slot.state = State::Vacant;
            slot.generation = slot.generation.wrapping_add(1);
            self.free.push(i as u32);
            self.live -= 1;
        }
    }

    /// Removes every parked entry for which `f` is true.
    pub(crate) fn take_parked_where(&mut self, mut f: impl FnMut(&T) -> bool, out: &mut Vec<Box<T>>) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if matches!(&slot.state, State::Parked(t) if f(t)) {
                if let State::Parked(t) = std::mem::replace(&mut slot.state, State::Vacant) {
                    out.push(t);
                }
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(i as u32);
                self.live -= 1;
            }
        }
    }

    /// Removes every parked entry whose deadline has passed, but for those to be woken
    /// then: their keys go to `wake` and they stay.
    pub(crate) fn expire(&mut self, now: Instant, out: &mut Vec<Box<T>>, wake: &mut Vec<u64>) {
        for (i, slot) in self.slots.iter().enumerate() {
            if matches!(&slot.state, State::Parked(t) if t.deadline() <= now && t.wakes_at_deadline()) {
                wake.push(key(i as u32, slot.generation));
            }
        }
        self.take_parked_where(|t| t.deadline() <= now && !t.wakes_at_deadline(), out);
    }

    /// Starts closing: no new entries, busy ones are handed back for closing, and every
    /// parked one is returned now, except those still owing an answer and those that end
    /// themselves (their keys go to `wake`).
    pub(crate) fn close_parked(&mut self, out: &mut Vec<Box<T>>, wake: &mut Vec<u64>) {
        self.closing = true;
        for (i, slot) in self.slots.iter().enumerate() {
            if matches!(&slot.state, State::Parked(t) if t.winds_down()) {
                wake.push(key(i as u32, slot.generation));
            }
        }
        self.take_parked_where(|t| !t.in_flight() && !t.winds_down(), out);
    }

    /// Returns every parked entry, those owing an answer included (the end of a shutdown).
    pub(crate) fn close_rest(&mut self, out: &mut Vec<Box<T>>) {
        self.closing = true;
        self.take_parked_where(|_| true, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct E(Instant);
    impl Expiring for E {
        fn deadline(&self) -> Instant {
            self.0
        }
    }

    #[test]
    fn lifecycle_and_stale_keys() {
        let now = Instant::now();
        let mut s: Slab<E> = Slab::new();
        let k = s.insert_busy().unwrap();
        assert!(matches!(s.park(k, Box::new(E(now))), Park::Parked));
        assert!(s.take(k, false).is_some());
        // A report while busy is remembered and handed back on park.
        assert!(s.take(k, false).is_none());
        assert!(matches!(s.park(k, Box::new(E(now))), Park::Pending(..)));
        assert!(matches!(s.park(k, Box::new(E(now))), Park::Parked));
        let mut out = Vec::new();
        s.expire(now + Duration::from_secs(1), &mut out, &mut Vec::new());
        assert_eq!((out.len(), s.live()), (1, 0));
        // The old key is stale now; the slot is reused with a new generation.
        assert!(s.take(k, false).is_none());
        let k2 = s.insert_busy().unwrap();
        assert_ne!(k, k2);
        assert!(s.take(k, false).is_none());
        s.remove(k2);
        assert_eq!(s.live(), 0);
    }

    #[test]
    fn closing_hands_back() {
        let now = Instant::now();
        let mut s: Slab<E> = Slab::new();
        let a = s.insert_busy().unwrap();
        let b = s.insert_busy().unwrap();
        assert!(matches!(s.park(a, Box::new(E(now))), Park::Parked));
        let mut out = Vec::new();
        s.close_parked(&mut out, &mut Vec::new());
        assert_eq!(out.len(), 1);
        assert!(matches!(s.park(b, Box::new(E(now))), Park::Closing(_)));
        s.remove(b);
        assert!(s.insert_busy().is_none());
        assert_eq!(s.live(), 0);
    }
}
