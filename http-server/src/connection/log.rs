//! The log entry of an answered request: written at once, or held ([`LateLog`]) until the
//! body the engine writes after the handler is out.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::flight::InFlight;
use super::CloseReason;
use crate::handler::hooks::LogRecord;
use crate::io::transport::PeerAddr;

/// Calls the log hook (and prints the debug line), keeping its panics in; the connection
/// closes after the answer for `f.close`, if any.
pub(crate) fn log(f: &InFlight, peer: &PeerAddr, status: u16, bytes: u64) {
    log_record(f, peer, status, bytes, false);
}

/// [`log`], for the record at the start of a stream as well (`stream_start`).
pub(crate) fn log_record(f: &InFlight, peer: &PeerAddr, status: u16, bytes: u64, stream_start: bool) {
    let Some(t0) = f.started else { return };
    let table = &f.table.1;
    let close = if stream_start { None } else { f.close };
    let duration = t0.elapsed();
    let record = LogRecord { request: &f.request, peer, status, bytes, duration, close, stream_start };
    if let Some(hook) = &table.log_hook {
        let _ = catch_unwind(AssertUnwindSafe(|| hook(&record)));
    }
    if table.debug {
        eprintln!("{record}");
    }
}

/// True when requests served with this record's table are logged at all.
pub(crate) fn logged(f: &InFlight) -> bool {
    f.started.is_some()
}

/// A log entry held until the body the engine writes after the handler is out: logged
/// with its bytes then, or with [`CloseReason::WriteFailed`] if the connection goes first
/// (and none of a body of known length, the bytes that went of one of unknown length).
pub(crate) struct LateLog {
    flight: Box<InFlight>,
    peer: PeerAddr,
    status: u16,
    bytes: u64,
    /// Payload bytes of a body of unknown length, counted as they were written.
    streamed: u64,
    sent: bool,
}

impl LateLog {
    pub(crate) fn new(flight: Box<InFlight>, peer: PeerAddr, status: u16, bytes: u64) -> Box<LateLog> {
        Box::new(LateLog { flight, peer, status, bytes, streamed: 0, sent: false })
    }

    /// The body is out.
    pub(crate) fn sent(mut self) {
        self.sent = true;
    }

    /// Counts payload bytes of a body of unknown length as they go out.
    pub(crate) fn count(&mut self, n: usize) {
        self.streamed += n as u64;
    }

    /// The request it holds until the body is out.
    pub(crate) fn request_mut(&mut self) -> &mut http_utils::Request {
        &mut self.flight.request
    }
}

impl Drop for LateLog {
    fn drop(&mut self) {
        if !self.sent {
            self.bytes = 0;
            self.flight.close = Some(CloseReason::WriteFailed);
        }
        log(&self.flight, &self.peer, self.status, self.bytes + self.streamed);
    }
}

/// A message for a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
