//! The threads and what they share: seats (one poller each) held by workers, standby
//! workers, the acceptor, the monitor (seat hand-offs, deadlines, the queue's waits), and
//! the connection table.
//!
//! ```text
//!   accept (the first seat's worker; the acceptor thread after a failure and at shutdown)
//!      ──► connection table (slab) + a seat's poller ◄── park ──────────────┐
//!                                           │ ready keys                     │
//!   seats: the worker holding one waits on its poller and drives each ready  │
//!          connection itself (connection::drive) ───────────────────────────┘
//!   monitor: gives a seat whose worker is stuck in a handler to a standby worker;
//!            closes parked connections past their deadline; wakes queued requests
//! ```

pub(crate) mod accepting;
pub(crate) mod acceptor;
pub(crate) mod monitor;
pub(crate) mod pool;
pub(crate) mod seats;
pub(crate) mod shared;
pub(crate) mod slab;
