//! Server-sent events (`text/event-stream`, as `EventSource` reads them) on top of a
//! stream: [`Event`] and its sender.

use std::time::Duration;

use crate::handler::stream::{StreamError, StreamSender, TrySendError};

/// One server-sent event (`text/event-stream`, as `EventSource` reads it): `data` lines,
/// and an optional `event` type, `id` and `retry` delay.
///
/// ```
/// use http_server::Event;
/// let e = Event::data("line 1\nline 2").event("update").id("7");
/// assert_eq!(e.to_bytes(), b"event: update\nid: 7\ndata: line 1\ndata: line 2\n\n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
}

/// Drops what would end a field's line (CR, LF) or what `EventSource` refuses in an id (NUL).
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')).collect()
}

impl Event {
    /// An event carrying `data` (each of its lines becomes a `data:` line).
    pub fn data(data: impl Into<String>) -> Event {
        Event { data: data.into(), ..Event::default() }
    }

    /// The event's type (`event:`; the listener name in `EventSource`). Line breaks are
    /// dropped.
    pub fn event(mut self, name: &str) -> Event {
        self.event = Some(one_line(name));
        self
    }

    /// The event's id (`id:`; what `EventSource` sends back as `Last-Event-ID` when it
    /// reconnects). Line breaks and NUL are dropped.
    pub fn id(mut self, id: &str) -> Event {
        self.id = Some(one_line(id));
        self
    }

    /// How long the client waits before reconnecting (`retry:`, in milliseconds).
    pub fn retry(mut self, delay: Duration) -> Event {
        self.retry = Some(delay);
        self
    }

    /// The event in the wire format, ending with its blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 32);
        if let Some(name) = &self.event {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            out.push(b'\n');
        }
        if let Some(id) = &self.id {
            out.extend_from_slice(b"id: ");
            out.extend_from_slice(id.as_bytes());
            out.push(b'\n');
        }
        if let Some(retry) = self.retry {
            out.extend_from_slice(format!("retry: {}\n", retry.as_millis()).as_bytes());
        }
        // CRLF, CR and LF all end a line in the format; each line is a `data:` line.
        let data = self.data.replace("\r\n", "\n").replace('\r', "\n");
        for line in data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out
    }
}

/// The comment an event stream's keep-alive writes.
pub(crate) const EVENTS_KEEP_ALIVE: &[u8] = b":\n\n";

/// Feeds a `text/event-stream` response from any thread; see
/// [`Responder::events`](crate::Responder::events).
///
/// ```
/// fn assert_send<T: Send + Sync>() {}
/// assert_send::<http_server::EventSender>();
/// ```
#[derive(Debug)]
pub struct EventSender {
    inner: StreamSender,
}

impl EventSender {
    pub(crate) fn new(inner: StreamSender) -> EventSender {
        EventSender { inner }
    }

    /// Queues an event, waiting while the queue is full.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once the stream is over.
    pub fn send(&self, event: &Event) -> Result<(), StreamError> {
        self.inner.send(event.to_bytes())
    }

    /// Queues an event if there is room, without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the event's bytes.
    pub fn try_send(&self, event: &Event) -> Result<(), TrySendError> {
        self.inner.try_send(event.to_bytes())
    }

    /// Queues an event already in the wire format, without waiting.
    pub(crate) fn try_send_bytes(&self, bytes: Vec<u8>) -> Result<(), TrySendError> {
        self.inner.try_send(bytes)
    }

    /// Queues a comment line (`: text`), which clients ignore.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once the stream is over.
    pub fn comment(&self, text: &str) -> Result<(), StreamError> {
        self.inner.send(format!(": {}\n\n", one_line(text)))
    }

    /// True once the stream is over.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Bytes queued and not yet taken by the server.
    pub fn queued(&self) -> usize {
        self.inner.queued()
    }

    /// Ends the stream (as dropping the sender does). `EventSource` reconnects after a
    /// stream ends; answer it 204 to make it stop.
    pub fn finish(self) {}

    /// An event to send if a graceful shutdown ends the stream, after what is queued (a
    /// `retry:` delay for the reconnect, say, or an event the page shows). Without one the
    /// stream still ends in good order.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use http_server::{Event, Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/events", |cx| {
    ///     if let Ok(events) = cx.responder().events() {
    ///         let bye = Event::data("restarting").event("bye").retry(Duration::from_secs(5));
    ///         events.set_farewell(&bye);
    ///         std::thread::spawn(move || {
    ///             let _ = events.send(&Event::data("hello"));
    ///             // ... more events, until the server shuts down.
    ///         });
    ///     }
    ///     Response::later()
    /// });
    /// # Ok(()) }
    /// ```
    pub fn set_farewell(&self, event: &Event) {
        self.inner.set_farewell(event.to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lines() {
        assert_eq!(Event::data("").to_bytes(), b"data: \n\n");
        assert_eq!(Event::data("a\r\nb\rc").to_bytes(), b"data: a\ndata: b\ndata: c\n\n");
        let e = Event::data("x").event("a\nb").id("1\r2\0").retry(Duration::from_millis(1500));
        assert_eq!(e.to_bytes(), b"event: ab\nid: 12\nretry: 1500\ndata: x\n\n");
    }
}
