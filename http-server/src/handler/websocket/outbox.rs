//! The queue between a WebSocket's senders (any thread) and the engine that writes to its
//! socket: whole frames, bounded in bytes, with the close the application asked for kept
//! until every frame before it is out.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use http_utils::websocket::CloseFrame;

use crate::handler::stream::StreamError;
use crate::io::poller::Poller;
use crate::io::{lock, wait_counted};

/// A frame ready for the wire: the server's frames are not masked, so one made for many
/// sockets (a broadcast) is shared rather than copied.
pub(crate) enum Frame {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl Frame {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Frame::Owned(v) => v,
            Frame::Shared(a) => a,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    /// The application asked to close: no more frames are taken.
    Closing,
    /// The socket is gone.
    Closed,
}

struct State {
    frames: VecDeque<Frame>,
    queued: usize,
    /// The engine found the queue empty and waits to be resumed by the next frame.
    idle: bool,
    end: End,
    /// The close the application asked for, not yet taken by the engine.
    close: Option<CloseFrame>,
    /// Senders waiting for room: only then is taking frames worth a wake-up.
    waiting: u32,
}

/// What the engine found in the queue.
pub(crate) enum Taken {
    /// Frames were appended.
    Data,
    /// Nothing queued: the engine is marked idle and the next frame resumes it.
    Idle,
    /// Everything queued was taken; the application asked to close with this.
    Close(CloseFrame),
    /// Closed: nothing more will come.
    Closed,
}

/// One WebSocket's queue of frames to write.
pub(crate) struct Outbox {
    state: Mutex<State>,
    room: Condvar,
    key: u64,
    poller: Arc<Poller>,
    capacity: usize,
}

impl Outbox {
    pub(crate) fn new(key: u64, poller: Arc<Poller>, capacity: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State {
                frames: VecDeque::new(),
                queued: 0,
                idle: false,
                end: End::Open,
                close: None,
                waiting: 0,
            }),
            room: Condvar::new(),
            key,
            poller,
            capacity: capacity.max(1),
        }
    }

    /// Queues a frame, waiting for room until `until` (`None`: as long as it takes; `Some` in
    /// the past: not at all). `unbounded`: queued whatever the queue holds (the socket's own
    /// handler sends from the thread that writes the socket, which must not wait for itself).
    pub(crate) fn push(
        &self,
        frame: Frame,
        until: Option<Option<Instant>>,
        unbounded: bool,
    ) -> Result<(), StreamError> {
        let len = frame.bytes().len();
        let mut st = lock(&self.state);
        loop {
            if st.end != End::Open {
                return Err(StreamError::Closed);
            }
            if unbounded || st.queued == 0 || st.queued + len <= self.capacity {
                break;
            }
            let wait = match until {
                None => None,
                Some(Some(deadline)) if Instant::now() < deadline => Some(deadline - Instant::now()),
                Some(Some(_)) => return Err(StreamError::TimedOut),
                Some(None) => return Err(StreamError::Full),
            };
            st = wait_counted(&self.room, st, |st| &mut st.waiting, wait);
        }
        st.queued += len;
        st.frames.push_back(frame);
        self.wake(st);
        Ok(())
    }

    /// Asks for the closing handshake once what is queued is out; false when the socket is
    /// closing or closed already.
    pub(crate) fn close(&self, frame: CloseFrame) -> bool {
        let mut st = lock(&self.state);
        if st.end != End::Open {
            return false;
        }
        st.end = End::Closing;
        st.close = Some(frame);
        self.room.notify_all();
        self.wake(st);
        true
    }

    /// Resumes the engine if it waits for the queue (the lock is given up first).
    fn wake(&self, mut st: std::sync::MutexGuard<'_, State>) {
        let wake = std::mem::take(&mut st.idle);
        drop(st);
        if wake {
            self.poller.resume(self.key);
        }
    }

    /// Moves queued frames to `out`, up to about `max` bytes (one frame at least).
    pub(crate) fn take_into(&self, out: &mut Vec<u8>, max: usize) -> Taken {
        let mut st = lock(&self.state);
        if st.end == End::Closed {
            return Taken::Closed;
        }
        if st.frames.is_empty() {
            if let Some(close) = st.close.take() {
                return Taken::Close(close);
            }
            if st.end == End::Open {
                st.idle = true;
                return Taken::Idle;
            }
            return Taken::Closed;
        }
        while let Some(frame) = st.frames.front() {
            let len = frame.bytes().len();
            if !out.is_empty() && out.len() + len > max {
                break;
            }
            out.extend_from_slice(frame.bytes());
            st.queued -= len;
            st.frames.pop_front();
        }
        let waiting = st.waiting > 0;
        drop(st);
        if waiting {
            self.room.notify_all();
        }
        Taken::Data
    }

    /// The socket is gone: drops what is queued and fails every send and wait.
    pub(crate) fn shut(&self) {
        let mut st = lock(&self.state);
        st.end = End::Closed;
        st.frames = VecDeque::new();
        st.queued = 0;
        st.close = None;
        drop(st);
        self.room.notify_all();
    }

    /// No more frames are taken (the socket is closing or closed).
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).end != End::Open
    }

    /// Bytes queued and not yet taken by the engine.
    pub(crate) fn queued(&self) -> usize {
        lock(&self.state).queued
    }

    /// The queue holds at least its capacity: the engine reads no more from the peer until
    /// it is written down (a peer that sends faster than it reads is slowed, not buffered).
    pub(crate) fn is_full(&self) -> bool {
        lock(&self.state).queued >= self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outbox(capacity: usize) -> Outbox {
        Outbox::new(1, Arc::new(Poller::new().unwrap()), capacity)
    }

    #[test]
    fn bounded_queue_then_close_after_the_frames() {
        let o = outbox(4);
        o.push(Frame::Owned(vec![1, 2, 3]), Some(None), false).unwrap();
        assert_eq!(o.push(Frame::Owned(vec![4, 5]), Some(None), false), Err(StreamError::Full));
        let soon = Some(Some(Instant::now() + Duration::from_millis(20)));
        assert_eq!(o.push(Frame::Owned(vec![4, 5]), soon, false), Err(StreamError::TimedOut));
        // The handler's own sends are never refused for room.
        o.push(Frame::Shared(Arc::from(&[4u8, 5][..])), Some(None), true).unwrap();
        assert_eq!(o.queued(), 5);
        assert!(o.close(CloseFrame { code: 1000, reason: String::new() }));
        assert!(!o.close(CloseFrame { code: 1000, reason: String::new() }));
        assert_eq!(o.push(Frame::Owned(vec![6]), Some(None), false), Err(StreamError::Closed));
        let mut out = Vec::new();
        assert!(matches!(o.take_into(&mut out, 1), Taken::Data));
        assert_eq!(out, [1, 2, 3]);
        assert!(matches!(o.take_into(&mut out, 1 << 20), Taken::Data));
        assert_eq!(out, [1, 2, 3, 4, 5]);
        assert!(matches!(o.take_into(&mut out, 1 << 20), Taken::Close(c) if c.code == 1000));
        assert!(matches!(o.take_into(&mut out, 1 << 20), Taken::Closed));
    }

    #[test]
    fn shut_fails_a_waiting_send() {
        let o = Arc::new(outbox(1));
        o.push(Frame::Owned(vec![1]), None, false).unwrap();
        let o2 = o.clone();
        let t = std::thread::spawn(move || o2.push(Frame::Owned(vec![2]), None, false));
        std::thread::sleep(Duration::from_millis(20));
        o.shut();
        assert_eq!(t.join().unwrap(), Err(StreamError::Closed));
        let mut out = Vec::new();
        assert!(matches!(o.take_into(&mut out, 10), Taken::Closed));
        assert!(out.is_empty());
    }

    #[test]
    fn an_empty_queue_marks_the_engine_idle() {
        let o = outbox(10);
        let mut out = Vec::new();
        assert!(matches!(o.take_into(&mut out, 10), Taken::Idle));
        assert!(lock(&o.state).idle);
        o.push(Frame::Owned(vec![1]), Some(None), false).unwrap();
        assert!(!lock(&o.state).idle);
    }
}
