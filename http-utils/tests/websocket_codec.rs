//! The WebSocket codec's pieces one by one: frame headers parsed (a table of good and broken
//! headers, every prefix partial), written (a table), masking by role, close frames written,
//! the handshake's checks, and a round trip of random messages written then read in random
//! pieces.

mod websocket_common;

use http_utils::websocket::*;
use http_utils::{parse_request_head, parse_response_head, Parsed};
use proptest::prelude::*;
use websocket_common::*;

fn header(bytes: &[u8], role: Role) -> Result<Parsed<FrameHeader>, Error> {
    parse_frame_header(bytes, role, &Limits::default())
}

#[test]
fn headers_table() {
    let m = [1, 2, 3, 4];
    let fh = |fin, opcode, mask, payload_len| FrameHeader { fin, opcode, mask, payload_len };
    #[rustfmt::skip]
    let good: &[(&[u8], Role, FrameHeader, usize)] = &[
        (&[0x81, 0x05], Role::Client, fh(true, Opcode::Text, None, 5), 2),
        (&[0x02, 0x00], Role::Client, fh(false, Opcode::Binary, None, 0), 2),
        (&[0x80, 0x7d], Role::Client, fh(true, Opcode::Continuation, None, 125), 2),
        (&[0x82, 0x7e, 0x00, 0x7e], Role::Client, fh(true, Opcode::Binary, None, 126), 4),
        (&[0x82, 0x7e, 0xff, 0xff], Role::Client, fh(true, Opcode::Binary, None, 65535), 4),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], Role::Client, fh(true, Opcode::Binary, None, 65536), 10),
        (&[0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Role::Client, fh(true, Opcode::Binary, None, u64::MAX >> 1), 10),
        (&[0x88, 0x80, 1, 2, 3, 4], Role::Server, fh(true, Opcode::Close, Some(m), 0), 6),
        (&[0x89, 0xfd, 1, 2, 3, 4], Role::Server, fh(true, Opcode::Ping, Some(m), 125), 6),
        (&[0x8a, 0x81, 1, 2, 3, 4], Role::Server, fh(true, Opcode::Pong, Some(m), 1), 6),
    ];
    for (bytes, role, want, used) in good {
        let limits = Limits { max_frame: u64::MAX, ..Limits::default() };
        let got = parse_frame_header(bytes, *role, &limits);
        assert_eq!(got, Ok(Parsed::Complete { value: *want, used: *used }), "{bytes:x?}");
        assert_eq!(want.encoded_len(), *used);
        // Every proper prefix is partial; bytes after the header are not looked at.
        for cut in 0..bytes.len() {
            assert!(
                parse_frame_header(&bytes[..cut], *role, &limits).unwrap().is_partial(),
                "{bytes:x?} cut {cut}"
            );
        }
        let longer = [*bytes, &[0xff; 20][..]].concat();
        assert_eq!(parse_frame_header(&longer, *role, &limits), got);
    }
}

#[test]
fn headers_refused_table() {
    #[rustfmt::skip]
    let bad: &[(&[u8], Role, Error)] = &[
        (&[0xc1, 0x00], Role::Client, Error::ReservedBits),
        (&[0x91, 0x00], Role::Client, Error::ReservedBits),
        (&[0xa1], Role::Client, Error::ReservedBits),
        (&[0x83], Role::Client, Error::ReservedOpcode),
        (&[0x8f], Role::Server, Error::ReservedOpcode),
        (&[0x09], Role::Client, Error::FragmentedControlFrame),
        (&[0x81, 0x05], Role::Server, Error::UnmaskedFrame),
        (&[0x81, 0x85], Role::Client, Error::MaskedFrame),
        (&[0x89, 0x7e], Role::Client, Error::ControlFrameTooLong),
        (&[0x88, 0xff], Role::Server, Error::ControlFrameTooLong),
        (&[0x82, 0x7e, 0x00, 0x7d], Role::Client, Error::NonMinimalLength),
        (&[0x82, 0x7e, 0x00, 0x00], Role::Client, Error::NonMinimalLength),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff], Role::Client, Error::NonMinimalLength),
        (&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5], Role::Client, Error::NonMinimalLength),
        (&[0x82, 0x7f, 0x80], Role::Client, Error::LengthHighBit),
        (&[0x82, 0x7f, 0x01, 0, 0, 0, 0, 0, 0, 0], Role::Client, Error::FrameTooLarge),
    ];
    for (bytes, role, want) in bad {
        assert_eq!(header(bytes, *role), Err(*want), "{bytes:x?}");
        assert_eq!(want.close_code(), 1002 + 7 * u16::from(*want == Error::FrameTooLarge));
    }
}

/// A header to write (FIN, opcode, mask, length) and the bytes it must give.
type WriteRow = (bool, Opcode, Option<[u8; 4]>, u64, &'static [u8]);

#[test]
fn headers_written_table() {
    #[rustfmt::skip]
    let rows: &[WriteRow] = &[
        (true, Opcode::Text, None, 5, &[0x81, 0x05]),
        (false, Opcode::Continuation, None, 125, &[0x00, 0x7d]),
        (true, Opcode::Binary, None, 126, &[0x82, 0x7e, 0x00, 0x7e]),
        (true, Opcode::Binary, None, 65535, &[0x82, 0x7e, 0xff, 0xff]),
        (true, Opcode::Binary, None, 65536, &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]),
        (true, Opcode::Ping, Some([9, 8, 7, 6]), 0, &[0x89, 0x80, 9, 8, 7, 6]),
        (true, Opcode::Close, Some([9, 8, 7, 6]), 2, &[0x88, 0x82, 9, 8, 7, 6]),
    ];
    for &(fin, opcode, mask, payload_len, want) in rows {
        let mut out = [0u8; MAX_HEADER_LEN];
        let h = FrameHeader { fin, opcode, mask, payload_len };
        let n = write_frame_header(&h, &mut out).unwrap();
        assert_eq!(&out[..n], want);
    }
    let mut out = [0u8; MAX_HEADER_LEN];
    let ping = |fin, payload_len| FrameHeader { fin, opcode: Opcode::Ping, mask: None, payload_len };
    assert_eq!(write_frame_header(&ping(true, 126), &mut out), Err(Error::ControlFrameTooLong));
    assert_eq!(write_frame_header(&ping(false, 1), &mut out), Err(Error::FragmentedControlFrame));
    let huge = FrameHeader { fin: true, opcode: Opcode::Binary, mask: None, payload_len: 1 << 63 };
    assert_eq!(write_frame_header(&huge, &mut out), Err(Error::LengthHighBit));
}

#[test]
fn a_client_reads_unmasked_frames_and_refuses_masked_ones() {
    let wire = stream(&[raw(0x81, b"Hello", false), raw(0x89, b"", false)]);
    let out = run(Role::Client, Limits::default(), &wire);
    assert_eq!(ok(out), [text("Hello"), Message::Ping(vec![])]);
    let out = run(Role::Client, Limits::default(), &cf(true, 1, b"Hello"));
    assert_eq!((err(&out), err(&out).close_code()), (Error::MaskedFrame, 1002));
    let out = run(Role::Server, Limits::default(), &raw(0x81, b"Hello", false));
    assert_eq!(err(&out), Error::UnmaskedFrame);
}

#[test]
fn close_frames_written_and_refused() {
    let mut out = Vec::new();
    encode_close(None, Some(KEY), &mut out).unwrap();
    assert_eq!(ok(run(Role::Server, Limits::default(), &out)), [Message::Close(None)]);
    let close = CloseFrame { code: 4000, reason: "é".repeat(61) };
    let mut out = Vec::new();
    encode_close(Some(&close), None, &mut out).unwrap();
    assert_eq!(ok(run(Role::Client, Limits::default(), &out)), [Message::Close(Some(close))]);
    let mut out = Vec::new();
    let long = CloseFrame { code: 1000, reason: "r".repeat(124) };
    assert_eq!(encode_close(Some(&long), None, &mut out), Err(Error::ControlFrameTooLong));
    let reserved = CloseFrame { code: 1005, reason: String::new() };
    assert_eq!(encode_close(Some(&reserved), None, &mut out), Err(Error::InvalidCloseCode));
    assert!(out.is_empty());
    assert_eq!(parse_close_payload(&[0x03, 0xe8, 0xff]), Err(Error::InvalidUtf8));
}

#[test]
fn errors_never_echo_and_name_their_code() {
    let e = Error::InvalidUtf8;
    assert_eq!(e.to_string(), "websocket: invalid UTF-8 (close code 1007)");
    assert!(e.description().len() <= 123, "fits a close reason");
}

// The handshake.

const KEY_B64: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn upgrade(extra: &str) -> http_utils::Request {
    let head = format!("GET /chat HTTP/1.1\r\nHost: example\r\n{extra}\r\n");
    parse_request_head(head.as_bytes(), &http_utils::Limits::default()).unwrap().complete().unwrap().0
}

const GOOD: &str = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

#[test]
fn handshake_accept_key_and_a_good_request() {
    assert_eq!(accept_key(KEY_B64), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(client_key(*b"the sample nonce"), KEY_B64);
    let req = upgrade(&format!(
        "{GOOD}Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: , superchat \r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    ));
    let up = check_upgrade_request(&req).unwrap();
    assert_eq!(up.key, KEY_B64);
    assert_eq!(up.protocols, ["chat", "superchat"]);
    assert_eq!(up.extensions, ["permessage-deflate; client_max_window_bits"]);
    assert_eq!(select_protocol(&up.protocols, &["superchat"]), Some("superchat"));
    assert_eq!(select_protocol(&up.protocols, &["Chat"]), None);
}

#[test]
fn handshake_requests_refused() {
    let without = |name: &str| {
        GOOD.lines().filter(|l| !l.starts_with(name)).map(|l| format!("{l}\n")).collect::<String>()
    };
    let rows: Vec<(http_utils::Request, HandshakeError, u16)> = vec![
        (upgrade(&without("Upgrade")), HandshakeError::MissingUpgrade, 426),
        (
            upgrade(&without("Connection").replace("Upgrade: websocket", "Upgrade: h2c, websocket")),
            HandshakeError::MissingConnectionUpgrade,
            400,
        ),
        (upgrade(&without("Sec-WebSocket-Version")), HandshakeError::UnsupportedVersion, 426),
        (upgrade(&GOOD.replace("Version: 13", "Version: 8")), HandshakeError::UnsupportedVersion, 426),
        (upgrade(&without("Sec-WebSocket-Key")), HandshakeError::InvalidKey, 400),
        (upgrade(&GOOD.replace(KEY_B64, "dGhlIHNhbXBsZSBub25jZQ")), HandshakeError::InvalidKey, 400),
        (upgrade(&GOOD.replace(KEY_B64, "dGhlIHNhbXBsZSBub25jZSE=")), HandshakeError::InvalidKey, 400),
        (
            upgrade(
                &GOOD.replace(
                    KEY_B64,
                    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                ),
            ),
            HandshakeError::InvalidKey,
            400,
        ),
        (upgrade(&format!("{GOOD}Sec-WebSocket-Protocol: a b\r\n")), HandshakeError::InvalidProtocols, 400),
    ];
    for (req, want, status) in rows {
        assert_eq!(check_upgrade_request(&req), Err(want));
        assert_eq!(want.status(), status);
    }
    let mut post = upgrade(GOOD);
    post.set_method(http_utils::Method::Post);
    assert_eq!(check_upgrade_request(&post), Err(HandshakeError::NotGet));
    let mut old = upgrade(GOOD);
    old.set_version(http_utils::Version::Http10);
    assert_eq!(check_upgrade_request(&old), Err(HandshakeError::NotHttp11));
}

#[test]
fn handshake_responses_checked_by_a_client() {
    let answer = |extra: &str| {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        );
        parse_response_head(head.as_bytes(), &http_utils::Limits::default()).unwrap().complete().unwrap().0
    };
    assert_eq!(check_upgrade_response(&answer(""), KEY_B64, &[]), Ok(None));
    let chat = answer("Sec-WebSocket-Protocol: chat\r\n");
    assert_eq!(check_upgrade_response(&chat, KEY_B64, &["chat"]), Ok(Some("chat")));
    assert_eq!(check_upgrade_response(&chat, KEY_B64, &["mqtt"]), Err(HandshakeError::UnofferedProtocol));
    let ext = answer("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    assert_eq!(check_upgrade_response(&ext, KEY_B64, &[]), Err(HandshakeError::UnofferedExtension));
    assert_eq!(
        check_upgrade_response(&answer(""), "AAAAAAAAAAAAAAAAAAAAAA==", &[]),
        Err(HandshakeError::InvalidAccept)
    );
    let mut ok200 = answer("");
    ok200.status = 200;
    assert_eq!(check_upgrade_response(&ok200, KEY_B64, &[]), Err(HandshakeError::NotSwitching));
}

// Round trip: random messages written by one role, read by the other in random pieces.

#[derive(Debug, Clone)]
enum Out {
    Text(String, usize),
    Binary(Vec<u8>, usize),
    Ping(Vec<u8>),
    Close(Option<(u16, String)>),
}

fn out_message() -> impl Strategy<Value = Out> {
    prop_oneof![
        (".{0,40}", 1usize..8).prop_map(|(s, f)| Out::Text(s, f)),
        (proptest::collection::vec(any::<u8>(), 0..300), 1usize..8).prop_map(|(b, f)| Out::Binary(b, f)),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Out::Ping),
        proptest::option::of((prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999], "[a-z é]{0,30}"))
            .prop_map(Out::Close),
    ]
}

/// Writes `msg` into `wire` in `fragments` frames (cut at byte positions, so text may be cut
/// inside a character), masked with a key drawn from `seed` when `masked`; returns what the
/// reader must make of it.
fn write(msg: &Out, masked: bool, seed: &mut u32, wire: &mut Vec<u8>) -> Message {
    let mut key = || {
        *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        masked.then(|| seed.to_be_bytes())
    };
    let (opcode, bytes, fragments, expect) = match msg {
        Out::Text(s, f) => (Opcode::Text, s.as_bytes().to_vec(), *f, Message::Text(s.clone())),
        Out::Binary(b, f) => (Opcode::Binary, b.clone(), *f, Message::Binary(b.clone())),
        Out::Ping(p) => {
            encode_frame(true, Opcode::Ping, p, key(), wire).unwrap();
            return Message::Ping(p.clone());
        }
        Out::Close(c) => {
            let c = c.as_ref().map(|(code, reason)| CloseFrame { code: *code, reason: reason.clone() });
            encode_close(c.as_ref(), key(), wire).unwrap();
            return Message::Close(c);
        }
    };
    let step = bytes.len().div_ceil(fragments).max(1);
    let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![&[]] } else { bytes.chunks(step).collect() };
    for (i, chunk) in chunks.iter().enumerate() {
        let op = if i == 0 { opcode } else { Opcode::Continuation };
        encode_frame(i + 1 == chunks.len(), op, chunk, key(), wire).unwrap();
    }
    expect
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Whatever one role writes, the other reads back, whole or in pieces of any size.
    #[test]
    fn written_messages_read_back(msgs in proptest::collection::vec(out_message(), 0..8), client_writes: bool, seed: u32, piece in 1usize..64) {
        let mut wire = Vec::new();
        let mut seed = seed;
        let mut expected = Vec::new();
        for msg in &msgs {
            expected.push(write(msg, client_writes, &mut seed, &mut wire));
            if matches!(msg, Out::Close(_)) {
                break;
            }
        }
        let reader = if client_writes { Role::Server } else { Role::Client };
        let whole = run(reader, Limits::default(), &wire);
        prop_assert_eq!(&whole.messages, &expected);
        prop_assert_eq!(whole.error, None);
        prop_assert!(!whole.mid_message);
        let pieces = run_pieces(reader, Limits::default(), &wire, || piece);
        prop_assert_eq!(pieces, whole);
    }

    /// Arbitrary bytes never panic the reader, and pieces agree with the whole.
    #[test]
    fn any_bytes_read_the_same_in_pieces(wire in proptest::collection::vec(any::<u8>(), 0..200), server: bool, piece in 1usize..16) {
        let role = if server { Role::Server } else { Role::Client };
        let limits = Limits { max_frame: 100, max_message: 150 };
        let whole = run(role, limits, &wire);
        prop_assert_eq!(run_pieces(role, limits, &wire, || piece), whole);
    }
}
