//! Close frames (RFC 6455 §5.5.1, §7.4): which codes may travel on the wire, and the payload
//! of a close frame read and written.

use super::error::Error;
use super::frame::{encode_frame, Opcode, MAX_CONTROL_PAYLOAD};

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    /// The status code (RFC 6455 §7.4.1); [`is_valid_close_code`] holds for it.
    pub code: u16,
    /// Why, in UTF-8; at most 123 bytes. Meant for debugging, not for people.
    pub reason: String,
}

/// True when `code` may be sent in a close frame (RFC 6455 §7.4): 1000 to 1003, 1007 to 1014
/// (1012 to 1014 are registered with IANA since the RFC), and 3000 to 4999 (libraries,
/// frameworks and applications). 1005, 1006 and 1015 only ever stand for a missing code or a
/// connection closed without a frame and must not appear on the wire; the rest is reserved.
///
/// ```
/// use http_utils::websocket::is_valid_close_code;
/// assert!(is_valid_close_code(1000) && is_valid_close_code(4999));
/// assert!(!is_valid_close_code(1005) && !is_valid_close_code(2999) && !is_valid_close_code(5000));
/// ```
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Reads the payload of a close frame: `None` for an empty one (no code given), else the
/// code and reason.
///
/// # Errors
/// [`Error::InvalidClosePayload`] for one byte, [`Error::InvalidCloseCode`] for a code
/// [`is_valid_close_code`] refuses, [`Error::InvalidUtf8`] for a reason that is not UTF-8,
/// [`Error::ControlFrameTooLong`] past 125 bytes.
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, Error> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(Error::ControlFrameTooLong);
    }
    let (code, reason) = match payload {
        [] => return Ok(None),
        [_] => return Err(Error::InvalidClosePayload),
        [hi, lo, reason @ ..] => (u16::from_be_bytes([*hi, *lo]), reason),
    };
    if !is_valid_close_code(code) {
        return Err(Error::InvalidCloseCode);
    }
    let reason = std::str::from_utf8(reason).map_err(|_| Error::InvalidUtf8)?;
    Ok(Some(CloseFrame { code, reason: reason.to_string() }))
}

/// Appends a whole close frame to `out`: `None` for one without a code, else the code and
/// reason; masked with `mask` in the client role.
///
/// ```
/// use http_utils::websocket::{encode_close, CloseFrame};
/// let mut out = Vec::new();
/// encode_close(Some(&CloseFrame { code: 1000, reason: "bye".into() }), None, &mut out).unwrap();
/// assert_eq!(out, [0x88, 5, 0x03, 0xe8, b'b', b'y', b'e']);
/// ```
///
/// # Errors
/// [`Error::InvalidCloseCode`] for a code that may not be sent, [`Error::ControlFrameTooLong`]
/// for a reason longer than 123 bytes. Nothing is appended then.
pub fn encode_close(
    close: Option<&CloseFrame>,
    mask: Option<[u8; 4]>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    let len = match close {
        None => 0,
        Some(close) => {
            if !is_valid_close_code(close.code) {
                return Err(Error::InvalidCloseCode);
            }
            let reason = close.reason.as_bytes();
            if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
                return Err(Error::ControlFrameTooLong);
            }
            payload[..2].copy_from_slice(&close.code.to_be_bytes());
            payload[2..2 + reason.len()].copy_from_slice(reason);
            2 + reason.len()
        }
    };
    encode_frame(true, Opcode::Close, &payload[..len], mask, out)
}
