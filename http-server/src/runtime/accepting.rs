//! What accepting shares between the first seat's worker and the acceptor thread: the
//! listeners, whether accepting must be tried again after a failure, and the acceptor
//! thread's waker (see [`acceptor`](crate::runtime::acceptor)).

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock};

use crate::io::lock;
use crate::io::transport::Listener;

/// The listeners, shared by the first seat's worker and the acceptor thread.
#[derive(Default)]
pub(crate) struct Accepting {
    pub(crate) listeners: Mutex<Vec<Box<dyn Listener>>>,
    /// Accepting failed and calls for a pause: the acceptor thread tries again.
    pub(crate) retry: AtomicBool,
    /// Wakes the acceptor thread.
    waker: OnceLock<mio::Waker>,
}

impl Accepting {
    /// Takes the listeners (registered with the first seat's poller already) and the
    /// acceptor thread's waker.
    pub(crate) fn start(&self, listeners: Vec<Box<dyn Listener>>, waker: mio::Waker) {
        *lock(&self.listeners) = listeners;
        let _ = self.waker.set(waker);
    }

    /// Wakes the acceptor thread (the shutdown has begun, or accepting failed).
    pub(crate) fn wake(&self) {
        if let Some(w) = self.waker.get() {
            let _ = w.wake();
        }
    }
}
