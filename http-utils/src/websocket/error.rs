//! The one error type of the WebSocket codec: what the peer did wrong and the close code that
//! answers it.

use std::fmt;

/// A protocol violation or limit breach found in a WebSocket stream, or a frame the caller
/// asked to write that RFC 6455 does not allow.
///
/// Every kind maps to the close code the endpoint sends before it closes the connection
/// ([`Error::close_code`]) and has a short, fixed description that never contains bytes from
/// the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// One of the reserved bits RSV1, RSV2, RSV3 is set and no extension was negotiated that
    /// defines it. Answered with 1002.
    ReservedBits,
    /// An opcode RFC 6455 reserves (3 to 7, 11 to 15). Answered with 1002.
    ReservedOpcode,
    /// A server received a frame without a mask (RFC 6455 §5.1). Answered with 1002.
    UnmaskedFrame,
    /// A client received a masked frame (RFC 6455 §5.1). Answered with 1002.
    MaskedFrame,
    /// A control frame (close, ping, pong) with more than 125 payload bytes. Answered with 1002.
    ControlFrameTooLong,
    /// A control frame without the FIN bit: control frames are never fragmented. Answered
    /// with 1002.
    FragmentedControlFrame,
    /// A payload length in the 16- or 64-bit form that would fit a shorter one (RFC 6455 §5.2:
    /// "the minimal number of bytes MUST be used"). Answered with 1002.
    NonMinimalLength,
    /// A 64-bit payload length with its most significant bit set (RFC 6455 §5.2). Answered
    /// with 1002.
    LengthHighBit,
    /// A frame whose payload is longer than [`Limits::max_frame`](super::Limits). Answered
    /// with 1009.
    FrameTooLarge,
    /// A message whose fragments add up to more than [`Limits::max_message`](super::Limits),
    /// or a compressed message that inflates to more (found as soon as the inflated bytes
    /// pass the limit). Answered with 1009.
    MessageTooLarge,
    /// A continuation frame with no fragmented message to continue. Answered with 1002.
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is still open. Answered with 1002.
    ExpectedContinuation,
    /// A text message (or a close reason) that is not valid UTF-8, found at the first byte
    /// that cannot start or continue a sequence. Answered with 1007.
    InvalidUtf8,
    /// A close frame with a one-byte payload (a code needs two). Answered with 1002.
    InvalidClosePayload,
    /// A close code that may not be sent on the wire (RFC 6455 §7.4): below 1000, 1004 to
    /// 1006, 1015 to 2999, 5000 and above. Answered with 1002.
    InvalidCloseCode,
    /// A frame after the peer's close frame. Answered with 1002.
    FrameAfterClose,
    /// A compressed message (permessage-deflate, RFC 7692) that is not valid DEFLATE data.
    /// Answered with 1002.
    InvalidCompressedData,
}

impl Error {
    /// The close code (RFC 6455 §7.4.1) an endpoint sends in its close frame when it fails the
    /// connection for this error: 1002 (protocol error), 1007 (invalid payload data) or 1009
    /// (message too big).
    ///
    /// ```
    /// use http_utils::websocket::Error;
    /// assert_eq!(Error::ReservedBits.close_code(), 1002);
    /// assert_eq!(Error::InvalidUtf8.close_code(), 1007);
    /// assert_eq!(Error::MessageTooLarge.close_code(), 1009);
    /// ```
    pub fn close_code(self) -> u16 {
        match self {
            Error::InvalidUtf8 => 1007,
            Error::FrameTooLarge | Error::MessageTooLarge => 1009,
            _ => 1002,
        }
    }

    /// A fixed, human-readable description. It never contains bytes from the peer, so it may
    /// be sent as the close frame's reason.
    pub fn description(self) -> &'static str {
        match self {
            Error::ReservedBits => "reserved bits set",
            Error::ReservedOpcode => "reserved opcode",
            Error::UnmaskedFrame => "unmasked frame from a client",
            Error::MaskedFrame => "masked frame from a server",
            Error::ControlFrameTooLong => "control frame longer than 125 bytes",
            Error::FragmentedControlFrame => "fragmented control frame",
            Error::NonMinimalLength => "payload length not minimally encoded",
            Error::LengthHighBit => "payload length with the high bit set",
            Error::FrameTooLarge => "frame too large",
            Error::MessageTooLarge => "message too large",
            Error::UnexpectedContinuation => "continuation frame without a message",
            Error::ExpectedContinuation => "new message inside a fragmented message",
            Error::InvalidUtf8 => "invalid UTF-8",
            Error::InvalidClosePayload => "close frame with a one-byte payload",
            Error::InvalidCloseCode => "close code not allowed on the wire",
            Error::FrameAfterClose => "frame after a close frame",
            Error::InvalidCompressedData => "invalid compressed data",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "websocket: {} (close code {})", self.description(), self.close_code())
    }
}

impl std::error::Error for Error {}
