//! WebSockets held by the engine: a handler answers the opening handshake with
//! [`Context::websocket`], and the socket is then parked like any idle connection — no
//! thread of its own, a few hundred bytes while it is quiet.
//!
//! ```text
//!   peer ──frames──► engine (a worker, when bytes arrive): pings answered, close handshake,
//!                    limits ──► WebSocketHandler::on_message, one at a time, in order
//!   any thread: WebSocket::send ──► Outbox (bounded) ──► engine writes it as the socket
//!                                   takes it; full: the engine reads no more from the peer
//! ```

mod handshake;
mod hub;
mod outbox;

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "gzip")]
use http_utils::websocket::Deflater;
use http_utils::websocket::{encode_close, encode_frame, Opcode};
pub use http_utils::websocket::{CloseFrame, Message};
#[cfg(feature = "gzip")]
pub use http_utils::websocket::{DeflateConfig, DeflateParams};

pub use hub::WebSocketHub;
pub(crate) use outbox::{Frame, Outbox, Taken};

use crate::handler::stream::StreamError;
use crate::io::poller::Poller;
use crate::io::transport::PeerAddr;

/// What a WebSocket does with what arrives. The engine calls it on a worker, for one socket
/// never more than one call at a time and in the order the messages came.
///
/// Closures `FnMut(&WebSocket, Message)` are handlers (they get only the messages). A
/// struct holding the socket's own state implements the trait:
///
/// ```
/// use http_server::{Message, WebSocket, WebSocketHandler};
/// struct Counter { seen: u64 }
/// impl WebSocketHandler for Counter {
///     fn on_open(&mut self, ws: &WebSocket) {
///         let _ = ws.send("hello");
///     }
///     fn on_message(&mut self, ws: &WebSocket, message: Message) {
///         self.seen += 1;
///         let _ = ws.send(format!("message {} was {message:?}", self.seen));
///     }
/// }
/// ```
///
/// A handler should not block for long: it runs on a worker, and its socket reads nothing
/// meanwhile. Work that takes time goes to another thread, which answers through a clone
/// of the [`WebSocket`].
pub trait WebSocketHandler: Send + 'static {
    /// The `101` is out: the socket is open. Nothing by default.
    fn on_open(&mut self, ws: &WebSocket) {
        let _ = ws;
    }

    /// A text or binary message arrived (fragments joined; text checked to be UTF-8).
    /// Pings, pongs and the closing handshake are the engine's.
    fn on_message(&mut self, ws: &WebSocket, message: Message);

    /// The socket is closed: `close` is the peer's close frame if it sent one (`None` when
    /// the connection ended without one, which RFC 6455 calls 1006). Called once, last.
    /// Nothing by default.
    fn on_close(&mut self, ws: &WebSocket, close: Option<CloseFrame>) {
        let _ = (ws, close);
    }
}

impl<F> WebSocketHandler for F
where
    F: FnMut(&WebSocket, Message) + Send + 'static,
{
    fn on_message(&mut self, ws: &WebSocket, message: Message) {
        self(ws, message)
    }
}

/// How a WebSocket is kept: limits on what the peer sends, the queue of what is sent to it,
/// pings and the closing handshake.
///
/// ```
/// use std::time::Duration;
/// use http_server::WebSocketOptions;
/// let o = WebSocketOptions::new().max_message(16 << 20).ping_every(None).protocols(["chat"]);
/// assert_eq!(o.get_max_message(), 16 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketOptions {
    max_message: usize,
    capacity: usize,
    ping_every: Option<Duration>,
    pong_timeout: Duration,
    close_timeout: Duration,
    protocols: Vec<String>,
    #[cfg(feature = "gzip")]
    deflate: Option<DeflateConfig>,
}

impl Default for WebSocketOptions {
    fn default() -> WebSocketOptions {
        WebSocketOptions::new()
    }
}

impl WebSocketOptions {
    /// Messages up to 1 MiB, a queue of 64 KiB, a ping after 30 s of silence answered
    /// within 30 s, 5 s for the closing handshake, no subprotocol.
    pub fn new() -> WebSocketOptions {
        WebSocketOptions {
            max_message: 1 << 20,
            capacity: 64 * 1024,
            ping_every: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            protocols: Vec::new(),
            #[cfg(feature = "gzip")]
            deflate: None,
        }
    }

    /// The largest message (its fragments summed) the peer may send; a larger one closes
    /// the socket with 1009, found at the frame header that passes it.
    pub fn max_message(mut self, bytes: usize) -> WebSocketOptions {
        self.max_message = bytes.max(1);
        self
    }

    /// The bytes queued for the peer and not yet written ([`WebSocket::send`] waits past it,
    /// [`WebSocket::try_send`] fails). One message larger than it is taken when the queue is
    /// empty. While the queue is full the engine reads nothing more from the peer.
    pub fn capacity(mut self, bytes: usize) -> WebSocketOptions {
        self.capacity = bytes.max(1);
        self
    }

    /// After this long without a byte from the peer the server sends a ping; `None`: never
    /// (a dead peer is then found only when a write fails).
    pub fn ping_every(mut self, every: Option<Duration>) -> WebSocketOptions {
        self.ping_every = every.filter(|d| !d.is_zero());
        self
    }

    /// How long the peer has to send anything after a ping before the socket is closed.
    pub fn pong_timeout(mut self, d: Duration) -> WebSocketOptions {
        self.pong_timeout = d;
        self
    }

    /// How long the peer has to answer a close frame before the connection is closed.
    pub fn close_timeout(mut self, d: Duration) -> WebSocketOptions {
        self.close_timeout = d;
        self
    }

    /// The subprotocols the handler speaks, preferred first: the first one the client
    /// offered is chosen ([`WebSocket::protocol`]); none in common: no subprotocol.
    pub fn protocols<I, S>(mut self, protocols: I) -> WebSocketOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Agrees to permessage-deflate (RFC 7692) when the client offers it, with both sides
    /// compressing each message on its own (`server_no_context_takeover` and
    /// `client_no_context_takeover`: no compressor or inflater is held between messages, so
    /// a quiet socket costs no more than without it). Off by default. Messages from the peer
    /// are inflated within [`max_message`](WebSocketOptions::max_message) (a deflate bomb is
    /// refused with 1009 as soon as it passes it); messages sent with [`WebSocket::send`] are
    /// compressed, those a [`WebSocketHub`] publishes go uncompressed (framed once for all).
    /// Feature `gzip`.
    #[cfg(feature = "gzip")]
    pub fn deflate(self, on: bool) -> WebSocketOptions {
        let config = DeflateConfig { no_context_takeover: true, peer_no_context_takeover: true, level: 6 };
        self.deflate_config(on.then_some(config))
    }

    /// Permessage-deflate with a configuration of its own (context takeover keeps the
    /// compressor's window between messages: better compression, about 300 KiB more per
    /// socket); `None`: off. Feature `gzip`.
    #[cfg(feature = "gzip")]
    pub fn deflate_config(mut self, config: Option<DeflateConfig>) -> WebSocketOptions {
        self.deflate = config;
        self
    }

    /// The permessage-deflate configuration, if it is on.
    #[cfg(feature = "gzip")]
    pub fn get_deflate(&self) -> Option<DeflateConfig> {
        self.deflate
    }

    /// The largest message the peer may send.
    pub fn get_max_message(&self) -> usize {
        self.max_message
    }

    /// The queue's capacity in bytes.
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }

    /// The silence after which a ping is sent.
    pub fn get_ping_every(&self) -> Option<Duration> {
        self.ping_every
    }

    /// The time a ping has to be answered.
    pub fn get_pong_timeout(&self) -> Duration {
        self.pong_timeout
    }

    /// The time the closing handshake has.
    pub fn get_close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The subprotocols the handler speaks.
    pub fn get_protocols(&self) -> &[String] {
        &self.protocols
    }
}

/// What a handler's handshake leaves for the engine: the socket's handler and options.
pub(crate) struct SocketStart {
    pub handler: Box<dyn WebSocketHandler>,
    pub options: WebSocketOptions,
    pub protocol: Option<String>,
    /// Permessage-deflate as agreed in the handshake.
    #[cfg(feature = "gzip")]
    pub deflate: Option<DeflateParams>,
}

thread_local! {
    /// The socket whose handler runs on this thread now (its address; 0: none). Its own
    /// sends never wait for room: this thread is the one that would make it.
    static DELIVERING: Cell<usize> = const { Cell::new(0) };
}

struct Inner {
    outbox: Outbox,
    protocol: Option<String>,
    peer: PeerAddr,
    /// The compressor of permessage-deflate, when it was agreed. Held while a message is
    /// compressed and queued, so that messages are queued in the order the compressor saw
    /// them (which its window depends on).
    #[cfg(feature = "gzip")]
    deflater: Option<std::sync::Mutex<Deflater>>,
}

/// An open WebSocket's sending side: cheap to clone, usable from any thread.
///
/// Sends queue whole messages; the engine writes them as the peer takes them. The queue is
/// bounded ([`WebSocketOptions::capacity`]): [`send`](WebSocket::send) waits for room
/// (except from the socket's own handler, whose sends are always queued: the engine then
/// reads nothing more from the peer until the queue is written down),
/// [`try_send`](WebSocket::try_send) does not. Once the socket is closing or closed every
/// send fails with [`StreamError::Closed`].
///
/// ```
/// fn assert_send<T: Send + Sync + Clone>() {}
/// assert_send::<http_server::WebSocket>();
/// ```
#[derive(Clone)]
pub struct WebSocket {
    inner: Arc<Inner>,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("peer", &self.inner.peer)
            .field("protocol", &self.inner.protocol)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl WebSocket {
    pub(crate) fn new(
        key: u64,
        poller: Arc<Poller>,
        capacity: usize,
        protocol: Option<String>,
        peer: PeerAddr,
        #[cfg(feature = "gzip")] deflater: Option<Deflater>,
    ) -> WebSocket {
        WebSocket {
            inner: Arc::new(Inner {
                outbox: Outbox::new(key, poller, capacity),
                protocol,
                peer,
                #[cfg(feature = "gzip")]
                deflater: deflater.map(std::sync::Mutex::new),
            }),
        }
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Runs `f` (the socket's handler) marked as delivering to this socket.
    pub(crate) fn delivering<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = DELIVERING.with(|d| d.replace(self.id()));
        let r = f();
        DELIVERING.with(|d| d.set(before));
        r
    }

    fn push(&self, message: Message, until: Option<Option<Instant>>) -> Result<(), StreamError> {
        if let Message::Close(close) = message {
            self.close_with(close);
            return Ok(());
        }
        let own = DELIVERING.with(|d| d.get()) == self.id();
        #[cfg(feature = "gzip")]
        if let (Some(deflater), Some((opcode @ (Opcode::Text | Opcode::Binary), payload))) =
            (&self.inner.deflater, parts(&message))
        {
            let mut deflater = crate::io::lock(deflater);
            let mut out = Vec::new();
            deflater.encode_message(opcode, payload, None, &mut out).map_err(|_| StreamError::Closed)?;
            return self.inner.outbox.push(Frame::Owned(out), until, own);
        }
        let frame = Frame::Owned(encode(&message).ok_or(StreamError::Closed)?);
        self.inner.outbox.push(frame, until, own)
    }

    /// Queues a message (`&str` and `String` are text, `Vec<u8>` and `&[u8]` binary),
    /// waiting while the queue is full.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once the socket is closing or closed (or for a ping or pong
    /// longer than 125 bytes).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), StreamError> {
        self.push(message.into(), None)
    }

    /// As [`send`](WebSocket::send), waiting at most `timeout` for room.
    ///
    /// # Errors
    /// [`StreamError::TimedOut`] when the queue stayed full; [`StreamError::Closed`].
    pub fn send_timeout(&self, message: impl Into<Message>, timeout: Duration) -> Result<(), StreamError> {
        self.push(message.into(), Some(Some(Instant::now() + timeout)))
    }

    /// Queues a message if there is room now.
    ///
    /// # Errors
    /// [`StreamError::Full`] when the queue is full (the peer reads slower than messages
    /// come); [`StreamError::Closed`].
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), StreamError> {
        self.push(message.into(), Some(None))
    }

    pub(crate) fn try_send_frame(&self, frame: Arc<[u8]>) -> Result<(), StreamError> {
        self.inner.outbox.push(Frame::Shared(frame), Some(None), false)
    }

    /// Starts the closing handshake once what is queued is out: `code` (1000 for a normal
    /// close; see [`is_valid_close_code`](http_utils::websocket::is_valid_close_code)) and a
    /// reason of at most 123 bytes (cut at a character boundary). An invalid code becomes
    /// 1000. Nothing is queued after it; calling it again does nothing.
    pub fn close(&self, code: u16, reason: &str) {
        self.close_with(Some(CloseFrame { code, reason: reason.to_owned() }));
    }

    fn close_with(&self, close: Option<CloseFrame>) {
        let mut close = close.unwrap_or(CloseFrame { code: 1000, reason: String::new() });
        if !http_utils::websocket::is_valid_close_code(close.code) {
            close.code = 1000;
        }
        let mut end = close.reason.len().min(123);
        while !close.reason.is_char_boundary(end) {
            end -= 1;
        }
        close.reason.truncate(end);
        self.inner.outbox.close(close);
    }

    /// True once the socket is closing or closed: sends fail.
    pub fn is_closed(&self) -> bool {
        self.inner.outbox.is_closed()
    }

    /// Bytes queued and not yet taken for writing.
    pub fn queued(&self) -> usize {
        self.inner.outbox.queued()
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.inner.protocol.as_deref()
    }

    /// The peer's address.
    pub fn peer(&self) -> &PeerAddr {
        &self.inner.peer
    }
}

/// A message's opcode and payload; `None` for a close.
fn parts(message: &Message) -> Option<(Opcode, &[u8])> {
    match message {
        Message::Text(s) => Some((Opcode::Text, s.as_bytes())),
        Message::Binary(b) => Some((Opcode::Binary, &b[..])),
        Message::Ping(p) => Some((Opcode::Ping, &p[..])),
        Message::Pong(p) => Some((Opcode::Pong, &p[..])),
        Message::Close(_) => None,
    }
}

/// A message as one unmasked frame (a server's); `None` for a control message too long to
/// be a frame.
pub(crate) fn encode(message: &Message) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match (message, parts(message)) {
        (_, Some((opcode, payload))) => encode_frame(true, opcode, payload, None, &mut out).ok()?,
        (Message::Close(c), None) => encode_close(c.as_ref(), None, &mut out).ok()?,
        _ => return None,
    }
    Some(out)
}
