//! WebSocket (RFC 6455), I/O-free: frames parsed from and written to byte slices, messages
//! assembled from fragments, and the opening handshake's checks and keys.
//!
//! ```text
//!   0                   1                   2                   3
//!   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!  +-+-+-+-+-------+-+-------------+-------------------------------+
//!  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//!  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//!  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//!  | |1|2|3|       |K|             |                               |
//!  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//!  |     Extended payload length continued, if payload len == 127  |
//!  + - - - - - - - - - - - - - - - +-------------------------------+
//!  |                               | Masking-key, if MASK set to 1 |
//!  +-------------------------------+-------------------------------+
//!  | Masking-key (continued)       |          Payload Data         |
//!  +-------------------------------- - - - - - - - - - - - - - - - +
//!  :                     Payload Data continued ...                :
//!  + - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - +
//! ```
//!
//! (RFC 6455 §5.2.) A message is one text or binary frame with FIN set, or a first frame
//! without FIN, continuation frames, and a last continuation with FIN; control frames (close,
//! ping, pong) may stand between fragments and are never fragmented themselves.
//!
//! ```
//! use http_utils::websocket::{encode_frame, Limits, Message, MessageReader, Opcode, Role};
//! // A client sends a text message in two fragments, masked.
//! let mut wire = Vec::new();
//! encode_frame(false, Opcode::Text, "caf".as_bytes(), Some([1, 2, 3, 4]), &mut wire).unwrap();
//! encode_frame(true, Opcode::Continuation, "é".as_bytes(), Some([5, 6, 7, 8]), &mut wire).unwrap();
//! // The server reads it.
//! let mut reader = MessageReader::new(Role::Server, Limits::default());
//! let (used, msg) = reader.read(&wire).unwrap();
//! assert_eq!((used, msg), (wire.len(), Some(Message::Text("café".into()))));
//! ```
//!
//! ## What is here
//! - frames: [`parse_frame_header`], [`write_frame_header`], [`encode_frame`], [`apply_mask`],
//!   [`FrameHeader`], [`Opcode`];
//! - messages: [`MessageReader`] (fragments joined, control frames between them, text
//!   validated as UTF-8 as it arrives), [`Message`];
//! - closing: [`CloseFrame`], [`parse_close_payload`], [`encode_close`],
//!   [`is_valid_close_code`]; every [`Error`] names the close code to answer it with
//!   ([`Error::close_code`]: 1002, 1007 or 1009);
//! - the handshake: [`accept_key`], [`client_key`], [`check_upgrade_request`],
//!   [`select_protocol`], [`check_upgrade_response`], [`read_upgrade_response`],
//!   [`HandshakeError`] (with the status a server answers);
//! - permessage-deflate (RFC 7692, feature `gzip`): `DeflateConfig` (a server's choice among
//!   offers, a client's offer and its check of the answer), `DeflateParams`,
//!   `PerMessageDeflate` (a `Deflater` and an `Inflater` per connection, context takeover
//!   kept or not as agreed), [`encode_compressed_frame`], and
//!   `MessageReader::with_inflater`, which accepts RSV1 on the first frame of a message and
//!   inflates it within the message limit. Compression uses a 15-bit window only (flate2's
//!   pure-Rust backend), so a server declines offers with a smaller `server_max_window_bits`
//!   and a client never offers `client_max_window_bits`; see the `deflate` notes on
//!   `DeflateConfig`.
//!
//! Out of scope: sockets, timeouts, pings on idle connections and the closing handshake's
//! timing (those belong to the server and the client), and extensions other than
//! permessage-deflate. Without it negotiated the reserved bits are always refused.
//!
//! ## Untrusted input
//! Every byte from the peer is hostile. Each breach is one [`Error`] with one close code,
//! found as soon as the bytes that commit it are read.
//!
//! | limit or rule | default | breach |
//! | --- | --- | --- |
//! | frame payload ([`Limits::max_frame`]), checked at the header, before any payload | 16 MiB | `FrameTooLarge`, 1009 |
//! | message, fragments summed ([`Limits::max_message`]), checked at each frame's header | 16 MiB | `MessageTooLarge`, 1009 |
//! | control frame payload | 125 bytes | `ControlFrameTooLong`, 1002 |
//! | control frame without FIN | — | `FragmentedControlFrame`, 1002 |
//! | RSV1–3 set (no extension negotiated); with permessage-deflate, RSV1 except on a message's first frame, RSV2–3 | — | `ReservedBits`, 1002 |
//! | compressed message inflated past [`Limits::max_message`] (stopped as it passes, in 16 KiB steps) | 16 MiB | `MessageTooLarge`, 1009 |
//! | compressed data that is not DEFLATE | — | `InvalidCompressedData`, 1002 |
//! | opcodes 3–7, 11–15 | — | `ReservedOpcode`, 1002 |
//! | unmasked frame to a server, masked frame to a client | — | `UnmaskedFrame` / `MaskedFrame`, 1002 |
//! | 64-bit length with the high bit set | — | `LengthHighBit`, 1002 |
//! | length not in its shortest form (RFC 6455 §5.2 "MUST") | — | `NonMinimalLength`, 1002 |
//! | continuation without a message; new message inside one | — | `UnexpectedContinuation` / `ExpectedContinuation`, 1002 |
//! | text or close reason not UTF-8, at the first bad byte | — | `InvalidUtf8`, 1007 |
//! | close payload of one byte; close code not allowed on the wire | — | `InvalidClosePayload` / `InvalidCloseCode`, 1002 |
//! | any frame after the peer's close | — | `FrameAfterClose`, 1002 |
//!
//! Memory held by a [`MessageReader`] is the message being assembled (at most `max_message`
//! bytes, in a buffer that grows as they arrive, never ahead of them on a header's word) and
//! one control payload (at most 125 bytes); with permessage-deflate, while a compressed
//! message is inflated, its payload and the output (at most `max_message` + 16 KiB), and
//! between messages the inflater's window (about 43 KiB with context takeover, nothing
//! without). Error texts never echo peer bytes.

mod close;
#[cfg(feature = "gzip")]
mod deflate;
mod error;
mod frame;
mod handshake;
mod message;
mod utf8;

pub use close::{encode_close, is_valid_close_code, parse_close_payload, CloseFrame};
#[cfg(feature = "gzip")]
pub use deflate::{DeflateConfig, DeflateParams, Deflater, Inflater, PerMessageDeflate, PERMESSAGE_DEFLATE};
pub use error::Error;
pub use frame::{
    apply_mask, encode_compressed_frame, encode_frame, parse_frame_header, write_frame_header, FrameHeader,
    Opcode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
pub use handshake::{
    accept_key, check_upgrade_request, check_upgrade_response, client_key, read_upgrade_response,
    select_protocol, HandshakeError, UpgradeRequest, UpgradeResponse, VERSION,
};
pub use message::{Message, MessageReader};

/// Which end of the connection reads: the masking rule depends on it (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The server: every frame it reads must be masked, every frame it writes is not.
    Server,
    /// The client: no frame it reads may be masked, every frame it writes is.
    Client,
}

/// Size limits on what the peer may send. Both default to 16 MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The most payload bytes one frame may declare. Refused at the header, before any of
    /// its payload is read ([`Error::FrameTooLarge`], 1009).
    pub max_frame: u64,
    /// The most bytes one message may hold, its fragments summed. Refused at the header of
    /// the frame that would pass it ([`Error::MessageTooLarge`], 1009).
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_frame: 16 << 20, max_message: 16 << 20 }
    }
}
