//! The open WebSocket: [`WebSocket`] and its two halves, [`WebSocketReader`] (one thread
//! blocks on it) and [`WebSocketWriter`] (`Send + Sync + Clone`, any thread writes).

use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http_utils::websocket::{encode_close, encode_frame, CloseFrame, Message, MessageReader, Opcode};
#[cfg(feature = "gzip")]
use http_utils::websocket::{DeflateParams, Deflater};

use super::random::Random;
use super::transport::{ReadHalf, WriteHalf};
use crate::error::{Error, Result, TimeoutKind};

/// Bytes read from the connection at a time.
const READ_BUF: usize = 64 * 1024;

/// Masking keys drawn from the random source at a time (4 bytes each).
const KEYS_AT_ONCE: usize = 64;

/// Masking keys for every frame the client sends (RFC 6455 §5.3: fresh and unpredictable),
/// drawn 64 at a time from a [`Random`].
struct Keys {
    random: Random,
    buf: [u8; 4 * KEYS_AT_ONCE],
    pos: usize,
}

impl Keys {
    fn new(random: Random) -> Keys {
        Keys { random, buf: [0; 4 * KEYS_AT_ONCE], pos: 4 * KEYS_AT_ONCE }
    }

    fn next(&mut self) -> io::Result<[u8; 4]> {
        if self.pos == self.buf.len() {
            self.random.fill(&mut self.buf)?;
            self.pos = 0;
        }
        let key =
            [self.buf[self.pos], self.buf[self.pos + 1], self.buf[self.pos + 2], self.buf[self.pos + 3]];
        self.pos += 4;
        Ok(key)
    }
}

/// The writing side's state, locked for the whole of each send so that frames (and the
/// compressor's window) go out in one order.
struct WriterState {
    keys: Keys,
    #[cfg(feature = "gzip")]
    deflater: Option<Deflater>,
    /// This side's close frame has gone out: only the closing handshake is left.
    close_sent: bool,
    /// The connection is over (closed, failed, or shut down).
    done: bool,
    out: Vec<u8>,
}

struct WriterShared {
    half: WriteHalf,
    state: Mutex<WriterState>,
}

/// The writing half of a [`WebSocket`]: `Send + Sync`, and clones write to the same
/// connection (each message goes out whole, in the order the sends took the lock).
#[derive(Clone)]
pub struct WebSocketWriter {
    shared: Arc<WriterShared>,
}

impl fmt::Debug for WebSocketWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("WebSocketWriter")
            .field("close_sent", &state.close_sent)
            .field("done", &state.done)
            .finish()
    }
}

impl WebSocketWriter {
    pub(crate) fn new(
        half: WriteHalf,
        random: Random,
        #[cfg(feature = "gzip")] deflater: Option<Deflater>,
    ) -> WebSocketWriter {
        let state = WriterState {
            keys: Keys::new(random),
            #[cfg(feature = "gzip")]
            deflater,
            close_sent: false,
            done: false,
            out: Vec::new(),
        };
        WebSocketWriter { shared: Arc::new(WriterShared { half, state: Mutex::new(state) }) }
    }

    fn state(&self) -> MutexGuard<'_, WriterState> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends one message, masked with a fresh key (and compressed when permessage-deflate
    /// was agreed: text and binary messages). [`Message::Close`] starts the closing
    /// handshake (see [`close`](Self::close)).
    ///
    /// # Errors
    /// [`Error::WebSocketClosed`] once this side's close frame has gone out (or the
    /// connection is over); [`Error::WebSocket`] for a ping, pong or close payload longer
    /// than 125 bytes or a close code that may not be sent; [`Error::Timeout`] (`Write`) or
    /// [`Error::Io`] when writing fails (the connection is then over).
    pub fn send(&self, message: Message) -> Result<()> {
        let mut state = self.state();
        if state.close_sent || state.done {
            return Err(Error::WebSocketClosed);
        }
        let mask = Some(state.keys.next()?);
        let mut out = std::mem::take(&mut state.out);
        out.clear();
        let encoded = match &message {
            Message::Text(t) => state.encode_data(Opcode::Text, t.as_bytes(), mask, &mut out),
            Message::Binary(b) => state.encode_data(Opcode::Binary, b, mask, &mut out),
            Message::Ping(p) => encode_frame(true, Opcode::Ping, p, mask, &mut out),
            Message::Pong(p) => encode_frame(true, Opcode::Pong, p, mask, &mut out),
            Message::Close(c) => encode_close(c.as_ref(), mask, &mut out),
        };
        if let Err(e) = encoded {
            state.out = out;
            return Err(Error::WebSocket(e));
        }
        let written = self.shared.half.write_all(&out);
        // A big message's buffer is not kept.
        if out.capacity() <= READ_BUF {
            state.out = out;
        }
        if let Err(e) = written {
            state.done = true;
            return Err(Error::from_io(e, TimeoutKind::Write));
        }
        if matches!(message, Message::Close(_)) {
            state.close_sent = true;
        }
        Ok(())
    }

    /// Sends a close frame with `code` and `reason` (at most 123 bytes): the first step of
    /// the closing handshake. Nothing else can be sent after it. The reader half receives the
    /// server's answering close frame ([`Message::Close`]) and then ends the connection; a
    /// [`WebSocket`] that is not split does all of it in [`WebSocket::close`].
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn close(&self, code: u16, reason: &str) -> Result<()> {
        self.send(Message::Close(Some(CloseFrame { code, reason: reason.to_owned() })))
    }

    /// True once this side's close frame has gone out or the connection is over.
    pub fn is_closed(&self) -> bool {
        let state = self.state();
        state.close_sent || state.done
    }

    /// Answers a ping (nothing once closing).
    fn pong(&self, payload: Vec<u8>) {
        // A failed write shows on the next read or send.
        let _ = self.send(Message::Pong(payload));
    }

    /// Answers the peer's close frame (unless this side's went out first), then ends the
    /// connection.
    fn answer_close(&self, close: Option<&CloseFrame>) {
        let echo = close.map(|c| CloseFrame { code: c.code, reason: String::new() });
        let _ = self.send(Message::Close(echo));
        self.end();
    }

    /// Fails the connection: a close frame with `code` and a fixed reason, then the end.
    fn fail(&self, code: u16, reason: &str) {
        let _ = self.close(code, reason);
        self.end();
    }

    /// Ends the connection (both directions).
    fn end(&self) {
        let mut state = self.state();
        if !state.done {
            state.done = true;
            self.shared.half.shutdown();
        }
    }
}

impl WriterState {
    /// Encodes a text or binary message, compressed when permessage-deflate was agreed.
    fn encode_data(
        &mut self,
        opcode: Opcode,
        data: &[u8],
        mask: Option<[u8; 4]>,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), http_utils::websocket::Error> {
        #[cfg(feature = "gzip")]
        if let Some(deflater) = self.deflater.as_mut() {
            return deflater.encode_message(opcode, data, mask, out);
        }
        encode_frame(true, opcode, data, mask, out)
    }
}

/// The reading half of a [`WebSocket`]: messages from the server, pings answered on the way.
pub struct WebSocketReader {
    half: ReadHalf,
    reader: MessageReader,
    writer: WebSocketWriter,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The read timeout set on the socket now.
    timeout: Option<Duration>,
    /// The read timeout `recv` uses.
    default_timeout: Option<Duration>,
    /// Nothing more will arrive: the closing handshake is over or the connection failed.
    done: bool,
}

impl fmt::Debug for WebSocketReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketReader").field("done", &self.done).finish()
    }
}

impl WebSocketReader {
    pub(crate) fn new(
        half: ReadHalf,
        reader: MessageReader,
        writer: WebSocketWriter,
        read_timeout: Option<Duration>,
    ) -> io::Result<WebSocketReader> {
        half.set_read_timeout(read_timeout)?;
        Ok(WebSocketReader {
            half,
            reader,
            writer,
            buf: vec![0u8; READ_BUF],
            start: 0,
            end: 0,
            timeout: read_timeout,
            default_timeout: read_timeout,
            done: false,
        })
    }

    /// The next message from the server, waiting as long as the read timeout allows (none by
    /// default: as long as it takes).
    ///
    /// Pings are answered with a pong at once and returned as well; a close frame from the
    /// server is answered (its code echoed) and returned as [`Message::Close`], and the
    /// connection ends.
    ///
    /// # Errors
    /// [`Error::WebSocket`] when the server broke the protocol or a limit (the client sent
    /// the close code [`close_code`](http_utils::websocket::Error::close_code) names —
    /// 1002, 1007 or 1009 — and ended the connection); [`Error::Timeout`] (`Read`) when the
    /// wait ran out (the socket stays usable); [`Error::Io`] when the connection failed or
    /// ended without a close frame; [`Error::WebSocketClosed`] after the end.
    pub fn recv(&mut self) -> Result<Message> {
        let timeout = self.default_timeout;
        self.recv_within(timeout)
    }

    /// [`recv`](Self::recv), waiting at most `timeout` for the next message to begin
    /// arriving (each wait for bytes is bounded by it).
    ///
    /// # Errors
    /// As [`recv`](Self::recv); [`Error::Timeout`] (`Read`) when nothing came in time.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message> {
        self.recv_within(Some(timeout))
    }

    fn recv_within(&mut self, timeout: Option<Duration>) -> Result<Message> {
        if self.done {
            return Err(Error::WebSocketClosed);
        }
        if self.timeout != timeout {
            self.half.set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))))?;
            self.timeout = timeout;
        }
        // Bounded by the server: each round takes a message or reads bytes, and a read ends
        // with bytes, the end of the stream, an error or the timeout.
        loop {
            match self.reader.read(&self.buf[self.start..self.end]) {
                Ok((used, Some(message))) => {
                    self.start += used;
                    match &message {
                        Message::Ping(p) => self.writer.pong(p.clone()),
                        Message::Close(c) => {
                            self.done = true;
                            self.writer.answer_close(c.as_ref());
                        }
                        _ => {}
                    }
                    return Ok(message);
                }
                Ok((used, None)) if used > 0 => self.start += used,
                Ok(_) => self.fill()?,
                Err(e) => {
                    self.done = true;
                    self.writer.fail(e.close_code(), e.description());
                    return Err(Error::WebSocket(e));
                }
            }
        }
    }

    /// Reads more bytes from the connection behind those not consumed yet.
    fn fill(&mut self) -> Result<()> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        let n = match self.half.read(&mut self.buf[self.end..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(Error::Timeout(TimeoutKind::Read));
            }
            Err(e) => {
                self.done = true;
                self.writer.end();
                return Err(Error::Io(e));
            }
        };
        if n == 0 {
            self.done = true;
            self.writer.end();
            let e = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server ended the connection without a close frame",
            );
            return Err(Error::Io(e));
        }
        self.end += n;
        Ok(())
    }

    /// True once nothing more will arrive (the closing handshake is over, or the connection
    /// failed).
    pub fn is_closed(&self) -> bool {
        self.done
    }
}

/// A WebSocket connection to a server, from [`Client::websocket`](crate::Client::websocket):
/// blocking [`send`](Self::send) and [`recv`](Self::recv), pings answered as they arrive, a
/// closing handshake with a timeout ([`close`](Self::close)), and [`split`](Self::split) into
/// a reader for one thread and a writer for others.
///
/// Dropping it without [`close`](Self::close) ends the TCP connection without a close frame
/// (the server sees 1006).
pub struct WebSocket {
    pub(crate) reader: WebSocketReader,
    pub(crate) writer: WebSocketWriter,
    pub(crate) protocol: Option<String>,
    #[cfg(feature = "gzip")]
    pub(crate) deflate: Option<DeflateParams>,
    pub(crate) close_timeout: Duration,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("protocol", &self.protocol)
            .field("closed", &self.reader.is_closed())
            .finish()
    }
}

impl WebSocket {
    /// [`WebSocketWriter::send`].
    ///
    /// # Errors
    /// As [`WebSocketWriter::send`].
    pub fn send(&self, message: Message) -> Result<()> {
        self.writer.send(message)
    }

    /// [`WebSocketReader::recv`].
    ///
    /// # Errors
    /// As [`WebSocketReader::recv`].
    pub fn recv(&mut self) -> Result<Message> {
        self.reader.recv()
    }

    /// [`WebSocketReader::recv_timeout`].
    ///
    /// # Errors
    /// As [`WebSocketReader::recv_timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message> {
        self.reader.recv_timeout(timeout)
    }

    /// Runs the closing handshake: sends a close frame with `code` and `reason`, then reads
    /// (and drops) messages until the server's close frame, for at most the close timeout
    /// (5 s unless [`WebSocketBuilder::close_timeout`](super::WebSocketBuilder::close_timeout)
    /// says otherwise), and ends the connection. Returns the server's close frame (`None`
    /// when it gave no code).
    ///
    /// # Errors
    /// As [`WebSocketWriter::send`] for the close frame ([`Error::WebSocketClosed`] when it
    /// had gone out already); [`Error::Timeout`] (`Read`) when the server did not answer in
    /// time; as [`recv`](Self::recv) for what came before its answer. The connection is
    /// ended in every case.
    pub fn close(mut self, code: u16, reason: &str) -> Result<Option<CloseFrame>> {
        let result = self.finish_close(code, reason);
        self.writer.end();
        result
    }

    fn finish_close(&mut self, code: u16, reason: &str) -> Result<Option<CloseFrame>> {
        self.writer.close(code, reason)?;
        let deadline = Instant::now() + self.close_timeout;
        // Bounded by the deadline: each round waits at most what is left of it.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(TimeoutKind::Read));
            }
            if let Message::Close(frame) = self.reader.recv_timeout(left)? {
                return Ok(frame);
            }
        }
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The permessage-deflate parameters agreed with the server, or `None` when messages go
    /// uncompressed.
    #[cfg(feature = "gzip")]
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref()
    }

    /// A writer for other threads (the same as the one [`split`](Self::split) gives).
    pub fn writer(&self) -> WebSocketWriter {
        self.writer.clone()
    }

    /// The two halves apart: one thread reads (and so answers pings and closes) while others
    /// write.
    pub fn split(self) -> (WebSocketReader, WebSocketWriter) {
        (self.reader, self.writer)
    }
}
