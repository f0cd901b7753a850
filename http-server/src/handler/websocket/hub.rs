//! Broadcast to many WebSockets: a message is framed once and every member's queue gets the
//! same bytes; a member whose queue is full misses it (or is dropped), so the publisher
//! never waits.

use std::sync::{Arc, Mutex};

use http_utils::websocket::Message;

use super::{encode, WebSocket};
use crate::handler::stream::StreamError;
use crate::io::lock;

/// A room of WebSockets that a message is published to at once.
///
/// Members join with [`join`](WebSocketHub::join) (from
/// [`WebSocketHandler::on_open`](crate::WebSocketHandler::on_open), say) and leave when
/// their socket closes: a closed member is dropped at the next publish. A member whose
/// queue is full when a message is published misses that message; with
/// [`drop_slow`](WebSocketHub::drop_slow) it is closed (1008) and dropped instead, for
/// applications where a gap is worse than a reconnect. Publishing never blocks on a member.
///
/// ```
/// use http_server::{Message, WebSocketHub};
/// let room = WebSocketHub::new();
/// assert_eq!(room.publish("nobody hears this"), 0);
/// assert_eq!(room.len(), 0);
/// ```
#[derive(Clone, Default)]
pub struct WebSocketHub {
    inner: Arc<Room>,
}

#[derive(Default)]
struct Room {
    members: Mutex<Vec<WebSocket>>,
    drop_slow: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for WebSocketHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketHub").field("members", &self.len()).finish()
    }
}

impl WebSocketHub {
    /// An empty room whose slow members miss messages.
    pub fn new() -> WebSocketHub {
        WebSocketHub::default()
    }

    /// Closes (1008) and drops a member whose queue is full when a message is published,
    /// instead of letting it miss the message.
    pub fn drop_slow(self, on: bool) -> WebSocketHub {
        self.inner.drop_slow.store(on, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Adds a socket to the room.
    pub fn join(&self, ws: &WebSocket) {
        lock(&self.inner.members).push(ws.clone());
    }

    /// Takes a socket out of the room (a closed one goes by itself).
    pub fn leave(&self, ws: &WebSocket) {
        lock(&self.inner.members).retain(|m| m.id() != ws.id());
    }

    /// Members now (closed ones not yet dropped included).
    pub fn len(&self) -> usize {
        lock(&self.inner.members).len()
    }

    /// True when the room has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `message` for every member, framed once: the number of members it was queued
    /// for. Closed members are dropped; a member whose queue is full misses it (or, with
    /// [`drop_slow`](WebSocketHub::drop_slow), is closed and dropped). A close message is
    /// not published (close members one by one).
    pub fn publish(&self, message: impl Into<Message>) -> usize {
        let message = message.into();
        if matches!(message, Message::Close(_)) {
            return 0;
        }
        let Some(frame) = encode(&message) else { return 0 };
        let frame: Arc<[u8]> = Arc::from(frame);
        let drop_slow = self.inner.drop_slow.load(std::sync::atomic::Ordering::Relaxed);
        // One pass under the room's lock: a send never waits (a full queue is reported at
        // once), and the members that are gone leave in the same pass.
        let mut sent = 0;
        lock(&self.inner.members).retain(|m| match m.try_send_frame(frame.clone()) {
            Ok(()) => {
                sent += 1;
                true
            }
            Err(StreamError::Full) if drop_slow => {
                m.close(1008, "too slow");
                false
            }
            Err(StreamError::Full) => true,
            Err(_) => false,
        });
        sent
    }
}
