//! A streamed answer on its way out: the chunks a [`StreamSender`](crate::StreamSender)
//! queues, framed and written by the engine, with the connection parked while the queue is
//! empty (`Phase::Write`, idle) and woken by the next chunk, by its keep-alive time, or by
//! the client leaving.

use std::time::{Duration, Instant};

use http_utils::chunk_size_line;

use crate::handler::stream::{FeedBody, Taken};

/// How long an idle stream without a keep-alive stays parked before it is looked at again
/// (nothing is sent then; it is parked again).
const IDLE_RECHECK: Duration = Duration::from_secs(3600);

/// A stream's body as the engine writes it.
pub(crate) struct FeedOut {
    body: FeedBody,
    /// Chunked framing (HTTP/1.1); otherwise the bytes run until the connection closes.
    chunked: bool,
    /// When bytes were last taken (the keep-alive counts from there).
    last: Instant,
    /// A shutdown is ending it.
    ending: bool,
}

/// What refilling the output from a stream came to.
pub(super) enum Fill {
    /// Bytes to write are in the buffer: this many of the stream's payload (a keep-alive
    /// counts none).
    Data(usize),
    /// Nothing to write until the next chunk (or the keep-alive time).
    Idle,
    /// The stream is over; its end (the last chunk) is in the buffer.
    Done,
}

impl FeedOut {
    pub(crate) fn new(body: FeedBody, chunked: bool, now: Instant) -> FeedOut {
        FeedOut { body, chunked, last: now, ending: false }
    }

    /// Appends what the sender queued (framed) to `buf`, or a keep-alive when it is due.
    pub(super) fn refill(&mut self, buf: &mut Vec<u8>, now: Instant) -> Fill {
        let chunked = self.chunked;
        let frame = |n: usize, out: &mut Vec<u8>| {
            if chunked {
                let mut line = [0u8; 18];
                let len = chunk_size_line(n, &mut line);
                out.extend_from_slice(&line[..len]);
            }
        };
        let mut payload = 0;
        let framed = |n: usize, out: &mut Vec<u8>| {
            payload = n;
            frame(n, out)
        };
        match self.body.feed.take_into(buf, framed) {
            Taken::Data => {
                if chunked {
                    buf.extend_from_slice(b"\r\n");
                }
                self.last = now;
                Fill::Data(payload)
            }
            Taken::Idle => match self.body.feed.keep_alive {
                Some((every, bytes)) if now >= self.last + every => {
                    frame(bytes.len(), buf);
                    buf.extend_from_slice(bytes);
                    if chunked {
                        buf.extend_from_slice(b"\r\n");
                    }
                    self.last = now;
                    Fill::Data(0)
                }
                _ => Fill::Idle,
            },
            Taken::Finished | Taken::Closed => {
                if chunked {
                    buf.extend_from_slice(b"0\r\n\r\n");
                }
                Fill::Done
            }
        }
    }

    /// A shutdown ends the stream in good order: what is queued, its farewell, the last chunk.
    pub(super) fn wind_down(&mut self) {
        self.ending = true;
        self.body.feed.wind_down();
    }

    /// True once a shutdown is ending it.
    pub(super) fn is_ending(&self) -> bool {
        self.ending
    }

    /// When the parked, idle stream must be looked at again.
    pub(super) fn wake_at(&self, now: Instant) -> Instant {
        match self.body.feed.keep_alive {
            Some((every, _)) => (self.last + every).max(now),
            None => now + IDLE_RECHECK,
        }
    }
}
