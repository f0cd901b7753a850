//! The message reader: frames in, whole messages out, with fragments joined, control frames
//! taken between them, text checked as UTF-8 as it arrives, and every limit applied.

use super::close::{parse_close_payload, CloseFrame};
#[cfg(feature = "gzip")]
use super::deflate::Inflater;
use super::error::Error;
use super::frame::{apply_mask, parse_frame_header_rsv1, FrameHeader, Opcode};
use super::utf8::Utf8Validator;
use super::{Limits, Role};
use crate::parse::Parsed;

/// One message read from the peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message, its fragments joined; valid UTF-8.
    Text(String),
    /// A binary message, its fragments joined.
    Binary(Vec<u8>),
    /// A ping: answer it with a pong carrying the same payload.
    Ping(Vec<u8>),
    /// A pong (solicited or not).
    Pong(Vec<u8>),
    /// The peer's close frame: `None` when it gave no code. Answer with a close frame (echoing
    /// the code is customary), then close the connection; the reader takes no frame after it.
    Close(Option<CloseFrame>),
}

impl From<String> for Message {
    /// A text message.
    fn from(s: String) -> Message {
        Message::Text(s)
    }
}

impl From<&str> for Message {
    /// A text message.
    fn from(s: &str) -> Message {
        Message::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    /// A binary message.
    fn from(v: Vec<u8>) -> Message {
        Message::Binary(v)
    }
}

impl From<&[u8]> for Message {
    /// A binary message.
    fn from(v: &[u8]) -> Message {
        Message::Binary(v.to_vec())
    }
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct Current {
    header: FrameHeader,
    /// Payload bytes read so far.
    read: u64,
}

/// Turns a stream of frames into messages, for an endpoint in one [`Role`].
///
/// Feed it bytes with [`read`](MessageReader::read); it consumes what it can and returns a
/// message whenever one completes. Payload bytes are consumed as they arrive, so a frame
/// need not fit in the caller's buffer; only a frame header (at most
/// [`MAX_HEADER_LEN`](super::MAX_HEADER_LEN) bytes) is left unconsumed until it is whole.
///
/// ```
/// use http_utils::websocket::{Limits, Message, MessageReader, Role};
/// // "Hel" and "lo" as two fragments, with a ping between them (RFC 6455 §5.7), from a server.
/// let wire = [0x01, 0x03, b'H', b'e', b'l', 0x89, 0x00, 0x80, 0x02, b'l', b'o'];
/// let mut reader = MessageReader::new(Role::Client, Limits::default());
/// let (used, msg) = reader.read(&wire).unwrap();
/// assert_eq!(msg, Some(Message::Ping(vec![])));
/// let (rest, msg) = reader.read(&wire[used..]).unwrap();
/// assert_eq!(msg, Some(Message::Text("Hello".into())));
/// assert_eq!(used + rest, wire.len());
/// ```
///
/// A text message is refused at the first byte that makes it invalid UTF-8, not at its end
/// (a compressed one once it is inflated).
/// After an error the reader returns the same error on every call; after a close frame it
/// refuses any further frame ([`Error::FrameAfterClose`]).
///
/// With permessage-deflate negotiated (feature `gzip`, [`with_inflater`](Self::with_inflater)),
/// RSV1 is accepted on the first frame of a text or binary message and marks it compressed:
/// its payload (at most `max_message` bytes, fragments joined) is inflated when the last
/// fragment arrives, into at most `max_message` bytes. RSV1 anywhere else, and always without
/// the extension, is [`Error::ReservedBits`].
#[derive(Debug)]
pub struct MessageReader {
    role: Role,
    limits: Limits,
    current: Option<Current>,
    /// The opcode (text or binary) of the message being assembled, if any.
    message: Option<Opcode>,
    data: Vec<u8>,
    control: Vec<u8>,
    utf8: Utf8Validator,
    /// The message being assembled is compressed (its first frame had RSV1).
    compressed: bool,
    /// permessage-deflate, when negotiated.
    #[cfg(feature = "gzip")]
    inflater: Option<Inflater>,
    closed: bool,
    failed: Option<Error>,
}

impl MessageReader {
    /// A reader for an endpoint in `role` (a server reads a client's masked frames), with
    /// `limits`.
    pub fn new(role: Role, limits: Limits) -> MessageReader {
        MessageReader {
            role,
            limits,
            current: None,
            message: None,
            data: Vec::new(),
            control: Vec::new(),
            utf8: Utf8Validator::default(),
            compressed: false,
            #[cfg(feature = "gzip")]
            inflater: None,
            closed: false,
            failed: None,
        }
    }

    /// The reader of a connection with permessage-deflate negotiated: compressed messages
    /// (RSV1 on their first frame) are inflated with `inflater` (from
    /// [`PerMessageDeflate::split`](super::PerMessageDeflate::split)).
    ///
    /// ```
    /// use http_utils::websocket::{encode_compressed_frame, DeflateConfig, Limits, Message, MessageReader, Opcode, PerMessageDeflate, Role};
    /// let (params, _) = DeflateConfig::default().negotiate_server(&["permessage-deflate"]).unwrap();
    /// let (mut deflater, _) = PerMessageDeflate::new(&params, Role::Client).split();
    /// let (_, inflater) = PerMessageDeflate::new(&params, Role::Server).split();
    /// let mut wire = Vec::new();
    /// encode_compressed_frame(true, Opcode::Text, &deflater.compress(b"Hello"), Some([1, 2, 3, 4]), &mut wire).unwrap();
    /// let mut reader = MessageReader::new(Role::Server, Limits::default()).with_inflater(inflater);
    /// assert_eq!(reader.read(&wire).unwrap(), (wire.len(), Some(Message::Text("Hello".into()))));
    /// ```
    #[cfg(feature = "gzip")]
    pub fn with_inflater(mut self, inflater: Inflater) -> MessageReader {
        self.inflater = Some(inflater);
        self
    }

    /// True when RSV1 may mark a compressed message.
    fn deflate_negotiated(&self) -> bool {
        #[cfg(feature = "gzip")]
        return self.inflater.is_some();
        #[cfg(not(feature = "gzip"))]
        return false;
    }

    /// True once the peer's close frame has been read.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True while a frame or a fragmented message is incomplete: the stream may not end here.
    pub fn is_mid_message(&self) -> bool {
        self.current.is_some() || self.message.is_some()
    }

    /// Reads from `buf`; returns how many bytes were consumed and the message that completed,
    /// if one did. At most one message is returned per call: call again with the rest of the
    /// bytes. Bytes not consumed (a frame header cut short) must be offered again, with more
    /// behind them. `(0, None)` means more bytes are needed.
    ///
    /// # Errors
    /// Any [`Error`] of [`parse_frame_header`](super::parse_frame_header), and [`Error::UnexpectedContinuation`],
    /// [`Error::ExpectedContinuation`], [`Error::MessageTooLarge`], [`Error::InvalidUtf8`],
    /// the close frame errors of [`parse_close_payload`], [`Error::FrameAfterClose`]. Each
    /// error's [`close_code`](Error::close_code) is what to send the peer before closing.
    pub fn read(&mut self, buf: &[u8]) -> Result<(usize, Option<Message>), Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let result = self.read_inner(buf);
        if let Err(e) = result {
            self.failed = Some(e);
        }
        result
    }

    fn read_inner(&mut self, buf: &[u8]) -> Result<(usize, Option<Message>), Error> {
        let mut pos = 0;
        loop {
            let mut current = match self.current {
                Some(current) => current,
                None => match self.start_frame(&buf[pos..])? {
                    Some((current, used)) => {
                        pos += used;
                        current
                    }
                    None => return Ok((pos, None)),
                },
            };
            pos += self.take_payload(&mut current, &buf[pos..])?;
            if current.read < current.header.payload_len {
                self.current = Some(current);
                return Ok((pos, None));
            }
            self.current = None;
            if let Some(message) = self.finish_frame(&current.header)? {
                return Ok((pos, Some(message)));
            }
        }
    }

    /// Parses the next frame header and checks it against the message in progress.
    fn start_frame(&mut self, buf: &[u8]) -> Result<Option<(Current, usize)>, Error> {
        if self.closed && !buf.is_empty() {
            return Err(Error::FrameAfterClose);
        }
        let ((header, rsv1), used) =
            match parse_frame_header_rsv1(buf, self.role, &self.limits, self.deflate_negotiated())? {
                Parsed::Complete { value, used } => (value, used),
                Parsed::Partial => return Ok(None),
            };
        match (header.opcode, self.message) {
            (Opcode::Continuation, None) => return Err(Error::UnexpectedContinuation),
            (Opcode::Text | Opcode::Binary, Some(_)) => return Err(Error::ExpectedContinuation),
            (Opcode::Text | Opcode::Binary, None) => {
                self.message = Some(header.opcode);
                self.compressed = rsv1;
                self.data.clear();
                self.utf8.reset();
            }
            _ => {}
        }
        if header.opcode.is_control() {
            self.control.clear();
        } else if header.payload_len > (self.limits.max_message as u64).saturating_sub(self.data.len() as u64)
        {
            return Err(Error::MessageTooLarge);
        }
        Ok(Some((Current { header, read: 0 }, used)))
    }

    /// Takes as much of the current frame's payload from `buf` as there is, unmasked, into
    /// the message or control buffer; returns how many bytes it took.
    fn take_payload(&mut self, current: &mut Current, buf: &[u8]) -> Result<usize, Error> {
        let left = current.header.payload_len - current.read;
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let target = if current.header.opcode.is_control() { &mut self.control } else { &mut self.data };
        let start = target.len();
        target.extend_from_slice(&buf[..n]);
        if let Some(key) = current.header.mask {
            apply_mask(&mut target[start..], key, current.read);
        }
        current.read += n as u64;
        if self.message == Some(Opcode::Text) && !self.compressed && !current.header.opcode.is_control() {
            self.utf8.feed(&self.data[start..]).map_err(|()| Error::InvalidUtf8)?;
        }
        Ok(n)
    }

    /// A frame's payload is complete: the message it finishes, if any.
    fn finish_frame(&mut self, header: &FrameHeader) -> Result<Option<Message>, Error> {
        let mut control = || std::mem::take(&mut self.control);
        match header.opcode {
            Opcode::Ping => return Ok(Some(Message::Ping(control()))),
            Opcode::Pong => return Ok(Some(Message::Pong(control()))),
            Opcode::Close => {
                let close = parse_close_payload(&control())?;
                self.closed = true;
                return Ok(Some(Message::Close(close)));
            }
            _ => {}
        }
        if !header.fin {
            return Ok(None);
        }
        let mut data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.compressed) {
            data = self.inflate(&data)?;
        }
        match self.message.take() {
            Some(Opcode::Text) => {
                if !self.utf8.is_complete() {
                    return Err(Error::InvalidUtf8);
                }
                // Validated as it arrived, unless it was compressed: then here, whole.
                let text = String::from_utf8(data).map_err(|_| Error::InvalidUtf8)?;
                Ok(Some(Message::Text(text)))
            }
            _ => Ok(Some(Message::Binary(data))),
        }
    }
}

impl MessageReader {
    /// Inflates a compressed message's payload, bounded by the message limit.
    #[cfg(feature = "gzip")]
    fn inflate(&mut self, payload: &[u8]) -> Result<Vec<u8>, Error> {
        match self.inflater.as_mut() {
            Some(inflater) => inflater.decompress(payload, self.limits.max_message),
            None => Err(Error::ReservedBits),
        }
    }

    /// Never called: without the `gzip` feature no message is compressed.
    #[cfg(not(feature = "gzip"))]
    fn inflate(&mut self, _payload: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::ReservedBits)
    }
}
