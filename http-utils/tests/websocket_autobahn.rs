//! The WebSocket codec against the Autobahn test suite's case list, category by category.
//! Autobahn drives a live peer; here each case is the frames it sends, fed to a server-side
//! `MessageReader` whole and split at every offset, with the messages and the close code RFC
//! 6455 requires checked.
//!
//! Checklist (Autobahn case → test):
//! - 1.x framing: text and binary of 0, 125, 126, 127, 128, 65535, 65536 bytes, and read in
//!   997-byte pieces → `framing_*`
//! - 2.x pings and pongs: empty, 125 bytes, 126 bytes refused, unsolicited pong, ten pings →
//!   `pings_*`
//! - 3.x reserved bits: RSV 1 to 7 on text, binary, ping, after a good message → `reserved_*`
//! - 4.x opcodes: 3 to 7 and 11 to 15, with and without payload, after a good message →
//!   `opcodes_*`
//! - 5.x fragmentation: fragmented ping and pong refused, fragments with pings between,
//!   continuation without a message, a new message inside one → `fragments_*`
//! - 6.x UTF-8: valid texts split anywhere, invalid ones refused with 1007 as soon as the bad
//!   byte arrives (6.4 fail fast), overlong forms, surrogates, above U+10FFFF, cut sequences at
//!   a message's end → `utf8_*`
//! - 7.x close handling: empty, one byte, code only, code and reason, 123- and 124-byte
//!   reasons, allowed and refused codes, a reason that is not UTF-8, frames after close →
//!   `close_*`
//! - 9.x limits: large messages and frames up to the limits, one byte past them refused with
//!   1009 before the payload → `limits_*`
//! - 10.x (auto-fragmentation) is a sender's choice; 12.x and 13.x need permessage-deflate,
//!   which is not implemented.

mod websocket_common;

use http_utils::websocket::{Error, Limits, Message, Role};
use websocket_common::*;

// 1.x framing

#[test]
fn framing_text_and_binary_of_every_boundary_length() {
    for len in [0usize, 125, 126, 127, 128, 65535, 65536] {
        let body = "*".repeat(len);
        let wire = cf(true, 1, body.as_bytes());
        assert_eq!(ok(run(Role::Server, Limits::default(), &wire)), [text(&body)], "text {len}");
        let wire = cf(true, 2, body.as_bytes());
        assert_eq!(ok(run(Role::Server, Limits::default(), &wire)), [Message::Binary(body.into_bytes())]);
    }
}

#[test]
fn framing_read_in_997_byte_pieces() {
    let body = vec![0xfe; 65536];
    let wire = cf(true, 2, &body);
    let out = run_pieces(Role::Server, Limits::default(), &wire, || 997);
    assert_eq!(ok(out), [Message::Binary(body)]);
}

#[test]
fn framing_small_messages_split_at_every_offset() {
    let wire = stream(&[cf(true, 1, b"Hello"), cf(true, 2, &[0, 1, 2, 255]), cf(true, 1, b"")]);
    let msgs = ok(server_reads(&wire));
    assert_eq!(msgs, [text("Hello"), Message::Binary(vec![0, 1, 2, 255]), text("")]);
}

// 2.x pings and pongs

#[test]
fn pings_empty_and_125_bytes_and_unsolicited_pongs() {
    let wire = stream(&[cf(true, 9, b""), cf(true, 9, &[0xab; 125]), cf(true, 10, b"unsolicited")]);
    let msgs = ok(server_reads(&wire));
    assert_eq!(
        msgs,
        [Message::Ping(vec![]), Message::Ping(vec![0xab; 125]), Message::Pong(b"unsolicited".to_vec())]
    );
}

#[test]
fn pings_of_126_bytes_are_refused_at_the_header() {
    let out = server_reads(&cf(true, 9, &[0; 126]));
    assert_eq!((err(&out), err(&out).close_code()), (Error::ControlFrameTooLong, 1002));
    // Refused with only the two header bytes read.
    assert_eq!(
        err(&run(Role::Server, Limits::default(), &cf(true, 10, &[0; 126])[..2])),
        Error::ControlFrameTooLong
    );
}

#[test]
fn pings_ten_in_a_row() {
    let frames: Vec<_> = (0..10u8).map(|i| cf(true, 9, &[i])).collect();
    let msgs = ok(server_reads(&stream(&frames)));
    assert_eq!(msgs, (0..10u8).map(|i| Message::Ping(vec![i])).collect::<Vec<_>>());
}

// 3.x reserved bits

#[test]
fn reserved_bits_are_refused_on_every_frame_type() {
    for rsv in 1..=7 {
        for opcode in [1, 2, 9, 10, 8, 0] {
            let out = server_reads(&raw(b0(true, rsv, opcode), b"", true));
            assert_eq!(err(&out), Error::ReservedBits, "rsv {rsv} opcode {opcode}");
            assert_eq!(err(&out).close_code(), 1002);
        }
    }
}

#[test]
fn reserved_bits_after_a_good_message_deliver_it_first() {
    let wire = stream(&[cf(true, 1, b"Hello"), raw(b0(true, 2, 1), b"Hello", true), cf(true, 9, b"")]);
    let out = server_reads(&wire);
    assert_eq!(out.messages, [text("Hello")]);
    assert_eq!(err(&out), Error::ReservedBits);
}

// 4.x opcodes

#[test]
fn opcodes_reserved_are_refused() {
    for opcode in (3..=7).chain(11..=15) {
        for payload in [&b""[..], b"reserved"] {
            let out = server_reads(&stream(&[cf(true, 1, b"Hello"), cf(true, opcode, payload)]));
            assert_eq!(out.messages, [text("Hello")]);
            assert_eq!((err(&out), err(&out).close_code()), (Error::ReservedOpcode, 1002), "opcode {opcode}");
        }
    }
}

// 5.x fragmentation

#[test]
fn fragments_of_control_frames_are_refused() {
    for opcode in [8, 9, 10] {
        let out = server_reads(&stream(&[cf(false, opcode, b"frag1"), cf(true, 0, b"frag2")]));
        assert_eq!((err(&out), err(&out).close_code()), (Error::FragmentedControlFrame, 1002));
    }
}

#[test]
fn fragments_join_with_pings_between() {
    let wire = stream(&[
        cf(false, 1, b"frag"),
        cf(true, 9, b"ping"),
        cf(false, 0, b"men"),
        cf(true, 10, b"pong"),
        cf(false, 0, b""),
        cf(true, 0, b"ts"),
    ]);
    let msgs = ok(server_reads(&wire));
    assert_eq!(msgs, [Message::Ping(b"ping".to_vec()), Message::Pong(b"pong".to_vec()), text("fragments")]);
    let wire = stream(&[cf(false, 2, &[1]), cf(true, 0, &[2])]);
    assert_eq!(ok(server_reads(&wire)), [Message::Binary(vec![1, 2])]);
}

#[test]
fn fragments_continuation_without_a_message_is_refused() {
    for fin in [true, false] {
        let out = server_reads(&stream(&[cf(fin, 0, b"non-continuation payload"), cf(true, 1, b"Hello")]));
        assert_eq!((err(&out), err(&out).close_code()), (Error::UnexpectedContinuation, 1002));
    }
    // After a finished message too.
    let out = server_reads(&stream(&[cf(true, 1, b"a"), cf(true, 0, b"b")]));
    assert_eq!((out.messages.clone(), err(&out)), (vec![text("a")], Error::UnexpectedContinuation));
}

#[test]
fn fragments_a_new_message_inside_one_is_refused() {
    let out = server_reads(&stream(&[cf(false, 1, b"fragment1"), cf(true, 1, b"fragment2")]));
    assert_eq!((err(&out), err(&out).close_code()), (Error::ExpectedContinuation, 1002));
    let out = server_reads(&stream(&[cf(false, 2, b"x"), cf(true, 9, b""), cf(false, 2, b"y")]));
    assert_eq!((out.messages.clone(), err(&out)), (vec![Message::Ping(vec![])], Error::ExpectedContinuation));
}

#[test]
fn fragments_an_unfinished_message_is_reported_mid_message() {
    let out = server_reads(&cf(false, 1, b"half"));
    assert_eq!((out.messages.len(), out.error, out.mid_message), (0, None, true));
    let out = server_reads(&cf(true, 1, b"whole"));
    assert!(!out.mid_message);
}

// 6.x UTF-8

const KOSME: &str = "κόσμε";

#[test]
fn utf8_valid_texts_split_across_fragments_at_every_byte() {
    let samples =
        [KOSME, "Hello-µ@ßöäüàá-UTF-8!!", "\u{10FFFF}\u{FFFF}\u{FFFE}\u{80}\u{7FF}\u{800}", "\u{1F600}"];
    for s in samples {
        let b = s.as_bytes();
        for at in 0..=b.len() {
            let wire = stream(&[cf(false, 1, &b[..at]), cf(true, 0, &b[at..])]);
            assert_eq!(ok(run(Role::Server, Limits::default(), &wire)), [text(s)], "{s} at {at}");
        }
        // One byte per frame (6.2.4).
        let mut frames: Vec<_> =
            b.iter().enumerate().map(|(i, c)| cf(false, u8::from(i == 0), &[*c])).collect();
        frames.push(cf(true, 0, b""));
        assert_eq!(ok(server_reads(&stream(&frames))), [text(s)]);
    }
}

#[test]
fn utf8_invalid_texts_are_refused_with_1007() {
    let invalid: &[&[u8]] = &[
        &[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64,
            0x69, 0x74, 0x65, 0x64,
        ],
        &[0xc0, 0x80],             // overlong NUL
        &[0xe0, 0x80, 0xaf],       // overlong '/'
        &[0xf0, 0x80, 0x80, 0xaf], // overlong '/'
        &[0xed, 0xbf, 0xbf],       // a surrogate
        &[0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
        &[0xfe],
        &[0xff],
        &[0x80],
        &[0xce, 0xba, 0xe1], // cut at the message's end
        &[0xc0],
    ];
    for bytes in invalid {
        let out = server_reads(&cf(true, 1, bytes));
        assert_eq!((err(&out), err(&out).close_code()), (Error::InvalidUtf8, 1007), "{bytes:x?}");
        for at in 0..=bytes.len() {
            let out = server_reads(&stream(&[cf(false, 1, &bytes[..at]), cf(true, 0, &bytes[at..])]));
            assert_eq!(err(&out), Error::InvalidUtf8, "{bytes:x?} fragmented at {at}");
        }
    }
}

#[test]
fn utf8_invalid_text_fails_fast_in_the_first_fragment() {
    // 6.4.1: κόσμε then a code point above U+10FFFF in the first fragment; the rest never
    // comes. Refused before the message (or even the frame) ends.
    let mut first = KOSME.as_bytes().to_vec();
    first.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]);
    let out = run(Role::Server, Limits::default(), &cf(false, 1, &first));
    assert_eq!(err(&out), Error::InvalidUtf8);
    let frame = cf(true, 1, &[&first[..], &[b'x'; 1000][..]].concat());
    let out = run(Role::Server, Limits::default(), &frame[..8 + KOSME.len() + 2]);
    assert_eq!(err(&out), Error::InvalidUtf8);
}

#[test]
fn utf8_binary_messages_are_not_checked() {
    assert_eq!(ok(server_reads(&cf(true, 2, &[0xff, 0xfe]))), [Message::Binary(vec![0xff, 0xfe])]);
}

// 7.x close handling

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason].concat()
}

#[test]
fn close_empty_code_only_and_with_reason() {
    let msgs = ok(server_reads(&cf(true, 8, b"")));
    assert_eq!(msgs, [Message::Close(None)]);
    let msgs = ok(server_reads(&cf(true, 8, &close_payload(1000, b""))));
    assert!(matches!(&msgs[..], [Message::Close(Some(c))] if c.code == 1000 && c.reason.is_empty()));
    let msgs = ok(server_reads(&cf(true, 8, &close_payload(1001, "bye κόσμε".as_bytes()))));
    assert!(matches!(&msgs[..], [Message::Close(Some(c))] if c.code == 1001 && c.reason == "bye κόσμε"));
    let reason = "r".repeat(123);
    let msgs = ok(server_reads(&cf(true, 8, &close_payload(1000, reason.as_bytes()))));
    assert!(matches!(&msgs[..], [Message::Close(Some(c))] if c.reason == reason));
}

#[test]
fn close_malformed_payloads_are_refused() {
    let out = server_reads(&cf(true, 8, &[0x03]));
    assert_eq!((err(&out), err(&out).close_code()), (Error::InvalidClosePayload, 1002));
    let out = server_reads(&cf(true, 8, &close_payload(1000, &[b'r'; 124])));
    assert_eq!(err(&out), Error::ControlFrameTooLong);
    let out = server_reads(&cf(true, 8, &close_payload(1000, &[0xce, 0xba, 0xed, 0xa0, 0x80])));
    assert_eq!((err(&out), err(&out).close_code()), (Error::InvalidUtf8, 1007));
}

#[test]
fn close_codes_allowed_and_refused() {
    for code in
        [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
    {
        let msgs = ok(run(Role::Server, Limits::default(), &cf(true, 8, &close_payload(code, b""))));
        assert!(matches!(&msgs[..], [Message::Close(Some(c))] if c.code == code), "{code}");
    }
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
        let out = run(Role::Server, Limits::default(), &cf(true, 8, &close_payload(code, b"")));
        assert_eq!((err(&out), err(&out).close_code()), (Error::InvalidCloseCode, 1002), "{code}");
    }
}

#[test]
fn close_then_any_frame_is_refused() {
    let wire = stream(&[cf(true, 8, &close_payload(1000, b"")), cf(true, 9, b""), cf(true, 1, b"late")]);
    let out = server_reads(&wire);
    assert_eq!(out.messages.len(), 1);
    assert_eq!(err(&out), Error::FrameAfterClose);
    // Inside a fragmented message too: the close is delivered, the rest refused.
    let wire = stream(&[cf(false, 1, b"frag"), cf(true, 8, b""), cf(true, 0, b"ment")]);
    let out = server_reads(&wire);
    assert_eq!((out.messages.clone(), err(&out)), (vec![Message::Close(None)], Error::FrameAfterClose));
}

// 9.x limits

#[test]
fn limits_large_messages_up_to_the_limit() {
    let limits = Limits { max_frame: 1 << 20, max_message: 4 << 20 };
    // 9.1.x and 9.2.x: one frame of 1 MiB, and 4 MiB in 1 MiB fragments, read in 64 KiB pieces.
    let body = vec![b'*'; 1 << 20];
    let out = run_pieces(Role::Server, limits, &cf(true, 1, &body), || 65536);
    assert_eq!(ok(out), [text(std::str::from_utf8(&body).unwrap())]);
    let frames = [cf(false, 2, &body), cf(false, 0, &body), cf(false, 0, &body), cf(true, 0, &body)];
    let out = run_pieces(Role::Server, limits, &stream(&frames), || 65536);
    assert_eq!(ok(out), [Message::Binary(vec![b'*'; 4 << 20])]);
}

#[test]
fn limits_a_frame_past_the_limit_is_refused_at_its_header() {
    let limits = Limits { max_frame: 1000, max_message: 10_000 };
    let wire = cf(true, 2, &[0; 1001]);
    // The header alone (2 + 2 length bytes) is enough.
    let out = run(Role::Server, limits, &wire[..4]);
    assert_eq!((err(&out), err(&out).close_code()), (Error::FrameTooLarge, 1009));
    assert_eq!(ok(server_reads_with(limits, &cf(true, 2, &[0; 1000]))).len(), 1);
}

#[test]
fn limits_a_message_past_the_limit_is_refused_at_the_fragment_that_passes_it() {
    let limits = Limits { max_frame: 1000, max_message: 2500 };
    let wire = stream(&[cf(false, 1, &[b'a'; 1000]), cf(false, 0, &[b'b'; 1000]), cf(true, 0, &[b'c'; 501])]);
    let out = server_reads_with(limits, &wire);
    assert_eq!((err(&out), err(&out).close_code()), (Error::MessageTooLarge, 1009));
    let wire = stream(&[cf(false, 1, &[b'a'; 1000]), cf(false, 0, &[b'b'; 1000]), cf(true, 0, &[b'c'; 500])]);
    assert_eq!(ok(server_reads_with(limits, &wire)).len(), 1);
    // Control frames between fragments do not count.
    let wire = stream(&[cf(false, 2, &[1; 2500]), cf(true, 9, &[0; 125]), cf(true, 0, b"")]);
    let big = Limits { max_frame: 4000, max_message: 2500 };
    assert_eq!(
        ok(run(Role::Server, big, &wire)),
        [Message::Ping(vec![0; 125]), Message::Binary(vec![1; 2500])]
    );
}

#[test]
fn limits_a_64_bit_length_is_refused_before_its_payload() {
    // 2^62 bytes declared: refused at the header, nothing allocated.
    let mut wire = vec![0x82, 0xff];
    wire.extend_from_slice(&(1u64 << 62).to_be_bytes());
    wire.extend_from_slice(&KEY);
    assert_eq!(err(&run(Role::Server, Limits::default(), &wire)), Error::FrameTooLarge);
}
