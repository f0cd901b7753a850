//! An answer on its way to the writer: the body left for the engine to send after the bytes
//! gathered in the worker's buffer, the log entry held until it is out, and how the
//! connection goes on.

use std::io::Read;

use http_utils::Headers;

use super::feed::FeedOut;
use super::log::LateLog;
use super::{CloseReason, Next};
use crate::handler::response::Switch;
use crate::io::budget::Share;

/// A body the engine sends after the bytes before it.
pub(crate) enum OutBody {
    /// Bytes in memory, from `pos` on.
    Bytes { data: Vec<u8>, pos: usize },
    /// Bytes that live forever, from `pos` on.
    Static { data: &'static [u8], pos: usize },
    /// Bytes of a file, from `pos` to `end`.
    File { file: std::fs::File, pos: u64, end: u64 },
    /// A reader: exactly `left` bytes when the length is known, else chunks until it ends
    /// (with `trailers` after them) or until the connection closes.
    Reader { reader: Box<dyn Read + Send>, left: Option<u64>, chunked: bool, trailers: Option<Headers> },
    /// Chunks fed from a stream sender, until it is done.
    Feed(FeedOut),
    /// Nothing more: once the bytes before it are out, the connection goes to an upgrade
    /// handler.
    Upgrade(Box<UpgradeJob>),
}

/// An upgrade whose `101` head is being written: what takes over after it.
pub(crate) struct UpgradeJob {
    pub protocol: String,
    pub handler: Switch,
    pub share: Share,
}

/// A response whose head (and small body) is in the worker's buffer.
pub(crate) struct Answer {
    /// A body for the engine to send after the buffer (boxed: an answer moves from step to
    /// step, and most have none).
    pub body: Option<Box<OutBody>>,
    /// The log entry to write once the body is out.
    pub log: Option<Box<LateLog>>,
    /// Close after it, and why; `None` keeps the connection.
    pub close: Option<CloseReason>,
    /// Close by lingering (the peer may still be sending).
    pub linger: bool,
}

impl Answer {
    /// An answer (all in the buffer) after which the connection closes for `reason`.
    pub(crate) fn closing(reason: CloseReason, linger: bool) -> Answer {
        Answer { body: None, log: None, close: Some(reason), linger }
    }

    /// Where the connection goes once the answer is out.
    pub(crate) fn then(&self) -> Next {
        match self.close {
            None => Next::Head,
            Some(reason) if self.linger => Next::Linger(reason),
            Some(reason) => Next::Close(reason),
        }
    }
}
