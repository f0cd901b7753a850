//! The WebSocket codec: `MessageReader` over any bytes, in either role, with default or tiny
//! limits. The stream read whole and read in pieces of 1 to 8 bytes must give the same
//! messages, the same error and the same end; an error repeats; no livelock; every message
//! keeps the limits (and a control payload 125 bytes); the messages read, written again unfragmented
//! by the other role, read back the same. `parse_frame_header` agrees with itself on every prefix.

#![no_main]

use http_utils::websocket::{
    encode_close, encode_frame, parse_frame_header, Error, Limits, Message, MessageReader, Opcode, Role,
};
use http_utils::Parsed;
use libfuzzer_sys::fuzz_target;

const TINY: Limits = Limits { max_frame: 40, max_message: 100 };

#[derive(Debug, PartialEq)]
struct Outcome {
    messages: Vec<Message>,
    error: Option<Error>,
    mid_message: bool,
}

fn run(role: Role, limits: Limits, wire: &[u8], mut piece: impl FnMut() -> usize) -> Outcome {
    let mut reader = MessageReader::new(role, limits);
    let mut pending = Vec::new();
    let mut fed = 0;
    let mut messages = Vec::new();
    for _ in 0..4 * wire.len() + 16 {
        match reader.read(&pending) {
            Ok((used, msg)) => {
                assert!(used <= pending.len());
                pending.drain(..used);
                match msg {
                    Some(m) => messages.push(m),
                    None if used == 0 => {
                        if fed == wire.len() {
                            return Outcome { messages, error: None, mid_message: reader.is_mid_message() };
                        }
                        let n = piece().clamp(1, wire.len() - fed);
                        pending.extend_from_slice(&wire[fed..fed + n]);
                        fed += n;
                    }
                    None => {}
                }
            }
            Err(e) => {
                assert_eq!(reader.read(&pending), Err(e), "an error repeats");
                return Outcome { messages, error: Some(e), mid_message: reader.is_mid_message() };
            }
        }
    }
    panic!("the reader makes no progress");
}

fn check_limits(m: &Message, limits: &Limits) {
    match m {
        Message::Text(s) => assert!(s.len() <= limits.max_message),
        Message::Binary(b) => assert!(b.len() <= limits.max_message),
        Message::Ping(p) | Message::Pong(p) => assert!(p.len() <= 125),
        Message::Close(c) => assert!(c.as_ref().is_none_or(|c| c.reason.len() <= 123)),
    }
}

/// Writes `messages` as the other role would (masked when the reader is a server).
fn rewrite(messages: &[Message], reader: Role) -> Vec<u8> {
    let mask = (reader == Role::Server).then_some([0xa5, 0x01, 0x7f, 0x80]);
    let mut out = Vec::new();
    for m in messages {
        let r = match m {
            Message::Text(s) => encode_frame(true, Opcode::Text, s.as_bytes(), mask, &mut out),
            Message::Binary(b) => encode_frame(true, Opcode::Binary, b, mask, &mut out),
            Message::Ping(p) => encode_frame(true, Opcode::Ping, p, mask, &mut out),
            Message::Pong(p) => encode_frame(true, Opcode::Pong, p, mask, &mut out),
            Message::Close(c) => encode_close(c.as_ref(), mask, &mut out),
        };
        r.expect("what was read can be written");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, wire)) = data.split_first() else { return };
    let role = if mode & 1 == 1 { Role::Server } else { Role::Client };
    let limits = if mode & 2 == 2 { TINY } else { Limits::default() };

    let whole = run(role, limits, wire, || usize::MAX);
    for m in &whole.messages {
        check_limits(m, &limits);
    }
    if let Some(e) = whole.error {
        assert!(matches!(e.close_code(), 1002 | 1007 | 1009));
    }

    let mut state = u32::from(mode) | 0x100;
    let pieces = run(role, limits, wire, || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        ((state >> 16) & 7) as usize + 1
    });
    assert_eq!(pieces, whole, "pieces and whole differ");

    // Rewritten unfragmented, so a frame may be as long as a message.
    let again = rewrite(&whole.messages, role);
    let one_frame = Limits { max_frame: limits.max_message as u64, ..limits };
    let round = run(role, one_frame, &again, || usize::MAX);
    assert_eq!((round.messages, round.error), (whole.messages, None));

    // A frame header: every prefix of a complete one is partial; an error stays an error (or
    // is not reached yet) on a prefix.
    if let Ok(full) = parse_frame_header(wire, role, &limits) {
        let used = match full {
            Parsed::Complete { used, .. } => used,
            Parsed::Partial => wire.len(),
        };
        for cut in 0..used.min(wire.len()) {
            let prefix = parse_frame_header(&wire[..cut], role, &limits);
            assert!(prefix.is_ok_and(|p| p.is_partial()), "prefix {cut} of a header");
        }
    }
});
