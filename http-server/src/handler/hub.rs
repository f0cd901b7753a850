//! Server-sent events to many clients: an [`EventHub`] keeps one event stream per subscriber
//! and publishes each event to all of them.
//!
//! ```text
//!   GET /events ─► hub.subscribe(cx) ─► a text/event-stream, its sender kept in the hub
//!   any thread:    hub.publish(&event) ─► try_send to every sender, never waiting:
//!                     queued ─────────────► the engine writes it when the client reads
//!                     the stream is over ─► the subscriber is dropped (the client left)
//!                     the queue is full ──► the subscriber is let go: its stream ends after
//!                                           what is queued (EventSource reconnects and sends
//!                                           Last-Event-ID)
//! ```
//!
//! A publisher never waits for a client: a slow reader costs its own queue
//! ([`StreamOptions::capacity`] bytes) and then its subscription, never the others' events.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::handler::context::Context;
use crate::handler::event::{Event, EventSender};
use crate::handler::response::Response;
use crate::handler::stream::{StreamOptions, TrySendError, DEFAULT_EVENTS_KEEP_ALIVE};
use crate::io::lock;

/// A broadcast of server-sent events: clients [`subscribe`](EventHub::subscribe), any
/// thread [`publish`](EventHub::publish)es. Cheap to clone (clones share the subscribers),
/// `Send + Sync`, fit for app state.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{Event, EventHub, Server};
/// let hub = EventHub::new();
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// let h = hub.clone();
/// server.add_context_resource("/events", move |cx| h.subscribe(cx));
/// // elsewhere, on any thread:
/// let delivered = hub.publish(&Event::data("changed").event("note"));
/// assert_eq!(delivered, 0); // nobody listens yet
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    subscribers: Mutex<Vec<EventSender>>,
    options: StreamOptions,
}

impl fmt::Debug for EventHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHub").field("subscribers", &self.len()).finish()
    }
}

impl Default for EventHub {
    fn default() -> EventHub {
        EventHub::new()
    }
}

impl EventHub {
    /// A hub whose streams have the default queue capacity and a keep-alive comment after
    /// [`DEFAULT_EVENTS_KEEP_ALIVE`] of silence.
    pub fn new() -> EventHub {
        EventHub::with_options(StreamOptions::new().keep_alive(Some(DEFAULT_EVENTS_KEEP_ALIVE)))
    }

    /// A hub whose streams take `options` (the queue capacity bounds how far a subscriber
    /// may fall behind before it is let go).
    pub fn with_options(options: StreamOptions) -> EventHub {
        EventHub { inner: Arc::new(Inner { subscribers: Mutex::new(Vec::new()), options }) }
    }

    /// Answers the request with an event stream and adds it to the hub; return what it
    /// returns from the handler. Middleware sees the stream's head as any response.
    pub fn subscribe(&self, cx: &mut Context<'_>) -> Response {
        self.subscribe_with(cx, Response::new(200))
    }

    /// Like [`subscribe`](EventHub::subscribe), with a head of its own (see
    /// [`Responder::events_head`](crate::Responder::events_head)).
    pub fn subscribe_with(&self, cx: &mut Context<'_>, head: Response) -> Response {
        // The list stays locked from before the head can go out until the sender is in it,
        // so a client that has read the head gets every event published after.
        let mut subs = lock(&self.inner.subscribers);
        // A refused responder (the stream cap was reached) has answered 503 already.
        if let Ok(sender) = cx.responder().events_head(head, self.inner.options) {
            subs.retain(|s| !s.is_closed());
            subs.push(sender);
        }
        Response::later()
    }

    /// Adds a stream started elsewhere (for one that first sends events of its own, such as
    /// those a reconnecting client missed after its `Last-Event-ID`).
    pub fn add(&self, sender: EventSender) {
        let mut subs = lock(&self.inner.subscribers);
        subs.retain(|s| !s.is_closed());
        subs.push(sender);
    }

    /// Queues `event` on every subscriber's stream without waiting, and returns to how many.
    /// Subscribers whose client left are dropped; one whose queue is full is let go (its
    /// stream ends after what it has queued).
    pub fn publish(&self, event: &Event) -> usize {
        let bytes = event.to_bytes();
        let mut subs = lock(&self.inner.subscribers);
        subs.retain(|s| match s.try_send_bytes(bytes.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => false,
        });
        subs.len()
    }

    /// The subscribers kept (some may have left since the last publish).
    pub fn len(&self) -> usize {
        lock(&self.inner.subscribers).len()
    }

    /// True when no subscriber is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends every subscriber's stream (after what each has queued).
    pub fn close_all(&self) {
        lock(&self.inner.subscribers).clear();
    }
}
