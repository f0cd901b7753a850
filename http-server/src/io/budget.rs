//! Shares of a capped quantity: the memory of buffered request bodies, the handlers
//! streaming their body, the long-lived answers (responders, event streams, upgraded
//! connections). A share is given back when it is dropped, however its holder ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A quantity that requests take shares of, up to a cap: the memory of buffered bodies
/// (bytes), the handlers streaming their body, the long-lived answers (one each).
pub(crate) struct Budget {
    used: AtomicU64,
    cap: u64,
}

impl Budget {
    pub(crate) fn new(cap: u64) -> Arc<Budget> {
        Arc::new(Budget { used: AtomicU64::new(0), cap })
    }
}

/// A request's share of a [`Budget`], given back when it is dropped, however the request
/// ends (answered, or its connection closed while it waited).
pub(crate) struct Share {
    budget: Arc<Budget>,
    amount: u64,
}

impl Share {
    pub(crate) fn new(budget: &Arc<Budget>) -> Share {
        Share { budget: budget.clone(), amount: 0 }
    }

    /// Takes `n` more of the budget; false (taking nothing) when that would pass its cap.
    pub(crate) fn grow(&mut self, n: u64) -> bool {
        let cap = self.budget.cap;
        let taken = self
            .budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| u.checked_add(n).filter(|&t| t <= cap));
        if taken.is_ok() {
            self.amount += n;
        }
        taken.is_ok()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.amount, Ordering::AcqRel);
    }
}
