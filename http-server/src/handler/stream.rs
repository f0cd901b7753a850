//! Answers that go on: a response whose body is a stream of chunks fed from any thread
//! ([`Responder::stream`](crate::Responder::stream)), and server-sent events on top of it
//! ([`Responder::events`](crate::Responder::events)).
//!
//! ```text
//!   any thread: sender.send(bytes) ──► Feed (bounded queue) ──► engine writes the chunks as
//!        ▲  blocks (or try_send: Full)        │ empty: the connection parks,   the socket
//!        │  while the queue is full           │ the next send resumes it       takes them
//!        └── Err(Closed) once the connection is gone (peer left, write failed, shutdown)
//! ```
//!
//! No worker and no thread is held while a stream lives: between chunks the connection is
//! parked like any idle one. The queue holds at most [`StreamOptions::capacity`] bytes (one
//! chunk larger than that is taken when the queue is empty), so a client that reads slowly
//! makes its producer wait, never the server's memory grow.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::io::budget::Share;
use crate::io::poller::Poller;
use crate::io::{lock, wait_counted};

/// What a stream's queue holds by default, in bytes.
pub const DEFAULT_STREAM_CAPACITY: usize = 64 * 1024;
/// How long an event stream may stay silent before the server sends a comment line, by
/// default.
pub const DEFAULT_EVENTS_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How a stream is fed and kept: the queue's capacity and, for event streams, the keep-alive
/// comment.
///
/// ```
/// use std::time::Duration;
/// use http_server::StreamOptions;
/// let o = StreamOptions::new().capacity(16 * 1024).keep_alive(Some(Duration::from_secs(5)));
/// assert_eq!(o.get_capacity(), 16 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    capacity: usize,
    keep_alive: Option<Duration>,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions::new()
    }
}

impl StreamOptions {
    /// [`DEFAULT_STREAM_CAPACITY`], and no keep-alive (event streams set
    /// [`DEFAULT_EVENTS_KEEP_ALIVE`]).
    pub fn new() -> StreamOptions {
        StreamOptions { capacity: DEFAULT_STREAM_CAPACITY, keep_alive: None }
    }

    /// The most bytes queued and not yet written (at least 1).
    pub fn capacity(mut self, bytes: usize) -> StreamOptions {
        self.capacity = bytes.max(1);
        self
    }

    /// After this long without a chunk the server writes a keep-alive of its own (for event
    /// streams, a comment line `:` that `EventSource` ignores), so that proxies and load
    /// balancers do not take the stream for dead. `None`: never. Plain streams ignore it.
    pub fn keep_alive(mut self, every: Option<Duration>) -> StreamOptions {
        self.keep_alive = every.filter(|d| !d.is_zero());
        self
    }

    /// The queue's capacity in bytes.
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }

    /// The keep-alive interval.
    pub fn get_keep_alive(&self) -> Option<Duration> {
        self.keep_alive
    }
}

/// Why a chunk was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream is over: the client went away, writing failed or timed out, the server is
    /// shutting down, or the response was never started (the responder's wait was over).
    Closed,
    /// The queue stayed full for the whole wait of [`StreamSender::send_timeout`].
    TimedOut,
    /// The queue is full and the send was not to wait
    /// ([`WebSocket::try_send`](crate::WebSocket::try_send)).
    Full,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamError::Closed => "the stream is closed",
            StreamError::TimedOut => "the stream's queue stayed full",
            StreamError::Full => "the stream's queue is full",
        })
    }
}

impl std::error::Error for StreamError {}

/// Why [`StreamSender::try_send`] did not queue a chunk; the chunk comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue is full: try again later (the client reads slower than chunks come).
    Full(Vec<u8>),
    /// The stream is over (see [`StreamError::Closed`]).
    Closed(Vec<u8>),
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "the stream's queue is full",
            TrySendError::Closed(_) => "the stream is closed",
        })
    }
}

impl std::error::Error for TrySendError {}

/// Where a feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    /// The sender is done: the last chunk follows what is queued.
    Finished,
    /// The connection is gone.
    Closed,
}

struct State {
    chunks: VecDeque<Vec<u8>>,
    queued: usize,
    /// Sent last when a shutdown ends the stream ([`StreamSender::set_farewell`]).
    farewell: Option<Vec<u8>>,
    /// The engine found the queue empty and waits to be resumed by the next chunk.
    idle: bool,
    end: End,
    /// Senders waiting for room: only then is taking chunks worth a wake-up.
    waiting: u32,
}

/// The queue between a stream's sender and the engine that writes it.
pub(crate) struct Feed {
    state: Mutex<State>,
    room: Condvar,
    key: u64,
    queue: Arc<Poller>,
    options: StreamOptions,
    /// The keep-alive written when the stream is silent.
    pub(crate) keep_alive: Option<(Duration, &'static [u8])>,
}

/// What the engine found in a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Bytes were appended.
    Data,
    /// Nothing queued: the engine is marked idle and the next chunk resumes it.
    Idle,
    /// The sender is done and everything was taken.
    Finished,
    /// The connection was closed.
    Closed,
}

impl Feed {
    pub(crate) fn new(
        key: u64,
        queue: Arc<Poller>,
        options: StreamOptions,
        keep_alive: Option<&'static [u8]>,
    ) -> Arc<Feed> {
        let keep_alive = keep_alive.and_then(|bytes| options.keep_alive.map(|d| (d, bytes)));
        Arc::new(Feed {
            state: Mutex::new(State {
                chunks: VecDeque::new(),
                queued: 0,
                farewell: None,
                idle: false,
                end: End::Open,
                waiting: 0,
            }),
            room: Condvar::new(),
            key,
            queue,
            options,
            keep_alive,
        })
    }

    /// Moves every queued chunk to `out`: `frame(total, out)` is called first with their total
    /// length (for a chunk-size line), then the bytes are appended.
    pub(crate) fn take_into(&self, out: &mut Vec<u8>, frame: impl FnOnce(usize, &mut Vec<u8>)) -> Taken {
        let mut st = lock(&self.state);
        if st.end == End::Closed {
            return Taken::Closed;
        }
        if st.chunks.is_empty() {
            if st.end == End::Finished {
                return Taken::Finished;
            }
            st.idle = true;
            return Taken::Idle;
        }
        frame(st.queued, out);
        out.reserve(st.queued);
        for chunk in st.chunks.drain(..) {
            out.extend_from_slice(&chunk);
        }
        st.queued = 0;
        let waiting = st.waiting > 0;
        drop(st);
        if waiting {
            self.room.notify_all();
        }
        Taken::Data
    }

    /// The connection is gone: drops what is queued and fails the sender's waits and sends.
    pub(crate) fn close(&self) {
        let mut st = lock(&self.state);
        st.end = End::Closed;
        st.chunks = VecDeque::new();
        st.queued = 0;
        drop(st);
        self.room.notify_all();
    }

    fn is_closed(&self) -> bool {
        lock(&self.state).end == End::Closed
    }

    /// Queues `data`, waiting for room until `until` (`None`: as long as it takes; `Some` in
    /// the past: not at all).
    fn push(&self, data: Vec<u8>, until: Option<Option<Instant>>) -> Result<(), (Vec<u8>, PushError)> {
        let mut st = lock(&self.state);
        loop {
            if st.end != End::Open {
                return Err((data, PushError::Closed));
            }
            if st.queued == 0 || st.queued + data.len() <= self.options.capacity {
                break;
            }
            let wait = match until {
                None => return Err((data, PushError::Full)),
                Some(None) => None,
                Some(Some(deadline)) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err((data, PushError::Full)),
                },
            };
            st = wait_counted(&self.room, st, |st| &mut st.waiting, wait);
        }
        if data.is_empty() {
            return Ok(());
        }
        st.queued += data.len();
        st.chunks.push_back(data);
        let wake = std::mem::take(&mut st.idle);
        drop(st);
        if wake {
            self.queue.resume(self.key);
        }
        Ok(())
    }

    /// A shutdown ends the stream: its farewell (if any) goes after what is queued, then the
    /// last chunk; nothing more is taken from the sender.
    pub(crate) fn wind_down(&self) {
        let mut st = lock(&self.state);
        if st.end != End::Open {
            return;
        }
        st.end = End::Finished;
        if let Some(last) = st.farewell.take() {
            st.queued += last.len();
            st.chunks.push_back(last);
        }
        drop(st);
        self.room.notify_all();
    }

    fn set_farewell(&self, bytes: Vec<u8>) {
        lock(&self.state).farewell = Some(bytes).filter(|b| !b.is_empty());
    }

    /// The sender is done.
    fn finish(&self) {
        let mut st = lock(&self.state);
        if st.end != End::Open {
            return;
        }
        st.end = End::Finished;
        let wake = std::mem::take(&mut st.idle);
        drop(st);
        if wake {
            self.queue.resume(self.key);
        }
    }

    fn queued(&self) -> usize {
        lock(&self.state).queued
    }
}

/// A feed as the engine holds it, with its share of the stream cap; the stream is closed
/// for its sender when the engine lets go of it (written to the end, or the connection gone).
pub(crate) struct FeedBody {
    pub(crate) feed: Arc<Feed>,
    pub(crate) _share: Option<Share>,
}

impl Drop for FeedBody {
    fn drop(&mut self) {
        self.feed.close();
    }
}

enum PushError {
    Full,
    Closed,
}

/// Feeds the body of a streamed response from any thread; see
/// [`Responder::stream`](crate::Responder::stream).
///
/// Each [`send`](StreamSender::send) queues one chunk; the server writes queued chunks as
/// the client takes them (chunked for HTTP/1.1 clients, until the connection closes for
/// HTTP/1.0 ones). Dropping the sender, or [`finish`](StreamSender::finish), ends the body;
/// the connection then goes on with the next request.
///
/// ```
/// fn assert_send<T: Send + Sync>() {}
/// assert_send::<http_server::StreamSender>();
/// ```
pub struct StreamSender {
    feed: Arc<Feed>,
}

impl fmt::Debug for StreamSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSender")
            .field("closed", &self.is_closed())
            .field("queued", &self.queued())
            .finish()
    }
}

impl StreamSender {
    pub(crate) fn new(feed: Arc<Feed>) -> StreamSender {
        StreamSender { feed }
    }

    /// Queues a chunk, waiting while the queue is full (the client reads slower than chunks
    /// come). An empty chunk queues nothing.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once the stream is over.
    pub fn send(&self, data: impl Into<Vec<u8>>) -> Result<(), StreamError> {
        self.feed.push(data.into(), Some(None)).map_err(|_| StreamError::Closed)
    }

    /// Queues a chunk, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// [`StreamError::TimedOut`] when the queue stayed full; [`StreamError::Closed`] once the
    /// stream is over.
    pub fn send_timeout(&self, data: impl Into<Vec<u8>>, timeout: Duration) -> Result<(), StreamError> {
        let until = Instant::now().checked_add(timeout);
        self.feed.push(data.into(), Some(until)).map_err(|(_, e)| match e {
            PushError::Full => StreamError::TimedOut,
            PushError::Closed => StreamError::Closed,
        })
    }

    /// Queues a chunk if there is room, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the chunk.
    pub fn try_send(&self, data: impl Into<Vec<u8>>) -> Result<(), TrySendError> {
        self.feed.push(data.into(), None).map_err(|(data, e)| match e {
            PushError::Full => TrySendError::Full(data),
            PushError::Closed => TrySendError::Closed(data),
        })
    }

    /// True once the stream is over: the client went away, writing failed, or the server is
    /// shutting down.
    pub fn is_closed(&self) -> bool {
        self.feed.is_closed()
    }

    /// Bytes queued and not yet taken by the server.
    pub fn queued(&self) -> usize {
        self.feed.queued()
    }

    /// Ends the body after what is queued (as dropping the sender does).
    pub fn finish(self) {}

    /// A last chunk to send if a graceful shutdown ends the stream (after what is queued,
    /// before the body's end); empty: none. A shutdown always ends a stream in good order —
    /// what is queued, then the end of the chunked body — so the client sees a complete
    /// response rather than a cut connection.
    pub fn set_farewell(&self, data: impl Into<Vec<u8>>) {
        self.feed.set_farewell(data.into());
    }
}

impl Drop for StreamSender {
    fn drop(&mut self) {
        self.feed.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(capacity: usize) -> Arc<Feed> {
        let poller = Arc::new(Poller::new().unwrap());
        Feed::new(1, poller, StreamOptions::new().capacity(capacity), None)
    }

    #[test]
    fn queue_bounds_and_end() {
        let f = feed(4);
        let tx = StreamSender::new(f.clone());
        tx.try_send(b"abc".to_vec()).unwrap();
        assert_eq!(tx.try_send(b"de".to_vec()), Err(TrySendError::Full(b"de".to_vec())));
        assert_eq!(tx.send_timeout(b"de".to_vec(), Duration::from_millis(10)), Err(StreamError::TimedOut));
        let mut out = Vec::new();
        assert_eq!(f.take_into(&mut out, |n, out| out.push(n as u8)), Taken::Data);
        assert_eq!(out, b"\x03abc");
        // One chunk larger than the capacity is taken when the queue is empty.
        tx.try_send(vec![b'x'; 10]).unwrap();
        assert_eq!(tx.queued(), 10);
        out.clear();
        f.take_into(&mut out, |_, _| {});
        assert_eq!(f.take_into(&mut out, |_, _| {}), Taken::Idle);
        drop(tx);
        assert_eq!(f.take_into(&mut out, |_, _| {}), Taken::Finished);
    }

    #[test]
    fn close_fails_a_waiting_send() {
        let f = feed(1);
        let tx = StreamSender::new(f.clone());
        tx.send(b"a".to_vec()).unwrap();
        let t = std::thread::spawn(move || tx.send(b"b".to_vec()));
        std::thread::sleep(Duration::from_millis(20));
        f.close();
        assert_eq!(t.join().unwrap(), Err(StreamError::Closed));
    }
}
