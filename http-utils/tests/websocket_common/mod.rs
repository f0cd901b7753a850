//! Helpers shared by the WebSocket codec's tests: raw frames built by hand (so that broken
//! ones can be made too) and a reader driven over a stream fed whole or in pieces.

#![allow(dead_code)]

use http_utils::websocket::{apply_mask, Error, Limits, Message, MessageReader, Role};

/// A mask key for client frames.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame's first byte from its parts: FIN, RSV bits (0 to 7) and a raw 4-bit opcode.
pub fn b0(fin: bool, rsv: u8, opcode: u8) -> u8 {
    (if fin { 0x80 } else { 0 }) | (rsv << 4) | opcode
}

/// A raw frame with the given first byte and payload, masked (as a client sends) when
/// `masked`, with the length in its shortest form.
pub fn raw(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![first];
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&KEY);
    }
    let body = out.len();
    out.extend_from_slice(payload);
    if masked {
        apply_mask(&mut out[body..], KEY, 0);
    }
    out
}

/// A frame from a client (masked): FIN, raw opcode, payload.
pub fn cf(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw(b0(fin, 0, opcode), payload, true)
}

/// Several frames joined into one stream.
pub fn stream(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

/// What a reader made of a stream: the messages, then the error that stopped it, if any,
/// and whether the stream ended in the middle of a frame or message.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub messages: Vec<Message>,
    pub error: Option<Error>,
    pub mid_message: bool,
}

/// Reads `wire` as an endpoint in `role`, offering it in pieces whose sizes `piece` gives.
pub fn run_pieces(role: Role, limits: Limits, wire: &[u8], mut piece: impl FnMut() -> usize) -> Outcome {
    let mut reader = MessageReader::new(role, limits);
    let mut pending: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut messages = Vec::new();
    // Every round consumes bytes, returns a message or feeds more: bounded by the input.
    for _ in 0..4 * wire.len() + 16 {
        match reader.read(&pending) {
            Ok((used, msg)) => {
                pending.drain(..used);
                if let Some(m) = msg {
                    messages.push(m);
                } else if used == 0 {
                    if fed == wire.len() {
                        return Outcome { messages, error: None, mid_message: reader.is_mid_message() };
                    }
                    let n = piece().clamp(1, wire.len() - fed);
                    pending.extend_from_slice(&wire[fed..fed + n]);
                    fed += n;
                }
            }
            Err(e) => {
                // An error repeats.
                assert_eq!(reader.read(&pending), Err(e));
                return Outcome { messages, error: Some(e), mid_message: reader.is_mid_message() };
            }
        }
    }
    panic!("the reader made no progress");
}

/// Reads `wire` whole.
pub fn run(role: Role, limits: Limits, wire: &[u8]) -> Outcome {
    run_pieces(role, limits, wire, || usize::MAX)
}

/// Reads `wire` whole, as a server, and checks every split into two pieces gives the same.
pub fn server_reads(wire: &[u8]) -> Outcome {
    server_reads_with(Limits::default(), wire)
}

/// As [`server_reads`], with `limits`.
pub fn server_reads_with(limits: Limits, wire: &[u8]) -> Outcome {
    let whole = run(Role::Server, limits, wire);
    for at in 1..wire.len() {
        let mut first = true;
        let split =
            run_pieces(
                Role::Server,
                limits,
                wire,
                || {
                    if std::mem::take(&mut first) {
                        at
                    } else {
                        usize::MAX
                    }
                },
            );
        assert_eq!(split, whole, "split at {at}");
    }
    whole
}

/// The messages, asserting no error.
pub fn ok(outcome: Outcome) -> Vec<Message> {
    assert_eq!(outcome.error, None, "{outcome:?}");
    outcome.messages
}

/// The error, asserting one.
pub fn err(outcome: &Outcome) -> Error {
    outcome.error.unwrap_or_else(|| panic!("no error: {outcome:?}"))
}

/// A text message.
pub fn text(s: &str) -> Message {
    Message::Text(s.to_string())
}
