use super::*;
use crate::websocket::{Limits, Message, MessageReader};

const HELLO: &[u8] = b"Hello";

fn params(config: &DeflateConfig, offer: &str) -> DeflateParams {
    config.negotiate_server(&[offer]).expect("accepted").0
}

fn pair(offer: &str) -> (PerMessageDeflate, PerMessageDeflate) {
    let p = params(&DeflateConfig::default(), offer);
    (PerMessageDeflate::new(&p, Role::Server), PerMessageDeflate::new(&p, Role::Client))
}

#[test]
fn rfc_7692_examples_inflate() {
    let (_, mut client) = pair("permessage-deflate");
    // §7.2.3.1, then §7.2.3.2: the same message again, referring to the first.
    assert_eq!(client.decompress(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100).unwrap(), HELLO);
    assert_eq!(client.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100).unwrap(), HELLO);
    // §7.2.3.3: a stored block.
    let stored = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00];
    assert_eq!(client.decompress(&stored, 100).unwrap(), HELLO);
    // §7.2.3.4: a final block (and a byte after it); the next message starts afresh.
    let last = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(client.decompress(&last, 100).unwrap(), HELLO);
    assert_eq!(client.decompress(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100).unwrap(), HELLO);
    // §7.2.3.5: two blocks in one message.
    let two = [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(client.decompress(&two, 100).unwrap(), HELLO);
    // §7.2.3.6: an empty message.
    assert_eq!(client.decompress(&[0x00], 100).unwrap(), b"");
}

#[test]
fn compression_round_trips_with_and_without_context_takeover() {
    let messages: Vec<Vec<u8>> = vec![
        HELLO.to_vec(),
        HELLO.to_vec(),
        Vec::new(),
        (0..200_000u32).map(|i| (i % 251) as u8).collect(),
        b"x".repeat(1 << 20),
        (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
    ];
    for offer in
        ["permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"]
    {
        let (mut server, mut client) = pair(offer);
        for m in &messages {
            let down = server.compress(m);
            assert!(!down.ends_with(&TAIL));
            assert_eq!(&client.decompress(&down, 2 << 20).unwrap(), m, "{offer}");
            let up = client.compress(m);
            assert_eq!(&server.decompress(&up, 2 << 20).unwrap(), m, "{offer}");
        }
    }
    // An empty message compresses to one byte (§7.2.3.6).
    assert_eq!(pair("permessage-deflate").0.compress(b""), [0x00]);
}

#[test]
fn context_takeover_shrinks_repeats_and_no_takeover_does_not() {
    let text = b"the quick brown fox jumps over the lazy dog, again and again".repeat(3);
    let (mut keep, _) = pair("permessage-deflate");
    let (mut reset, _) = pair("permessage-deflate; server_no_context_takeover");
    let first = keep.compress(&text).len();
    let second = keep.compress(&text).len();
    assert!(second < first / 2, "{second} vs {first}");
    assert_eq!(reset.compress(&text).len(), reset.compress(&text).len());
    assert!(reset.deflater.state.is_none(), "no compressor held between messages");
}

#[test]
fn a_deflate_bomb_stops_at_the_limit() {
    let (mut server, mut client) = pair("permessage-deflate");
    let bomb = server.compress(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 128 << 10, "{}", bomb.len());
    let start = std::time::Instant::now();
    assert_eq!(client.decompress(&bomb, 1 << 20), Err(Error::MessageTooLarge));
    // A limit of 1 MiB inflates about 1 MiB, not 64.
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    // Exactly at the limit is allowed.
    let (mut server, mut client) = pair("permessage-deflate");
    let payload = server.compress(&[7u8; 1000]);
    assert_eq!(client.decompress(&payload, 1000).unwrap().len(), 1000);
    let (mut server, mut client) = pair("permessage-deflate");
    let payload = server.compress(&[7u8; 1001]);
    assert_eq!(client.decompress(&payload, 1000), Err(Error::MessageTooLarge));
}

#[test]
fn garbage_is_invalid_compressed_data() {
    let (_, mut client) = pair("permessage-deflate");
    // BTYPE 11 is reserved.
    assert_eq!(client.decompress(&[0xff, 0xff, 0xff], 100), Err(Error::InvalidCompressedData));
    assert_eq!(Error::InvalidCompressedData.close_code(), 1002);
}

#[test]
fn the_server_accepts_what_it_can_and_declines_the_rest() {
    let config = DeflateConfig::default();
    let cases: &[(&str, Option<&str>)] = &[
        ("permessage-deflate", Some("permessage-deflate")),
        ("PerMessage-Deflate", Some("permessage-deflate")),
        ("permessage-deflate; client_max_window_bits", Some("permessage-deflate")),
        ("permessage-deflate; client_max_window_bits=10", Some("permessage-deflate")),
        ("permessage-deflate; client_max_window_bits=\"10\"", Some("permessage-deflate")),
        (
            "permessage-deflate; server_max_window_bits=15",
            Some("permessage-deflate; server_max_window_bits=15"),
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        // Windows this build cannot compress with.
        ("permessage-deflate; server_max_window_bits=10", None),
        ("permessage-deflate; server_max_window_bits=8", None),
        // Malformed parameters.
        ("permessage-deflate; server_max_window_bits", None),
        ("permessage-deflate; server_max_window_bits=16", None),
        ("permessage-deflate; client_max_window_bits=7", None),
        ("permessage-deflate; client_max_window_bits=010", None),
        ("permessage-deflate; client_max_window_bits=1x", None),
        ("permessage-deflate; server_no_context_takeover=1", None),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        ("permessage-deflate; client_max_window_bits; client_max_window_bits=9", None),
        ("permessage-deflate; mystery", None),
        ("permessage-deflate; =1", None),
        ("x-webkit-deflate-frame", None),
        ("", None),
    ];
    for (offer, want) in cases {
        let got = config.negotiate_server(&[offer]).map(|(_, answer)| answer);
        assert_eq!(got.as_deref(), *want, "{offer}");
    }
    // The first acceptable offer wins, in one field or several.
    let (p, answer) = config
        .negotiate_server(&[
            "foo, permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=12; server_no_context_takeover",
        ])
        .unwrap();
    assert_eq!(answer, "permessage-deflate; server_no_context_takeover");
    assert_eq!((p.client_max_window_bits, p.server_no_context_takeover), (12, true));
    // A quoted comma does not split an element.
    assert!(config.negotiate_server(&["foo; a=\"x,permessage-deflate\""]).is_none());
    // The server's own wishes are named even when not offered.
    let strict = DeflateConfig { no_context_takeover: true, peer_no_context_takeover: true, level: 1 };
    let (p, answer) = strict.negotiate_server(&["permessage-deflate"]).unwrap();
    assert_eq!(answer, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    assert_eq!(p.level, 1);
}

#[test]
fn the_client_checks_the_answer() {
    let config = DeflateConfig::default();
    let ok = |answer: &str| config.accept_response(&[answer]);
    let p = ok("permessage-deflate").unwrap().unwrap();
    assert_eq!((p.server_no_context_takeover, p.client_no_context_takeover), (false, false));
    let p = ok("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9")
        .unwrap()
        .unwrap();
    assert!(p.server_no_context_takeover && p.client_no_context_takeover);
    assert_eq!(p.server_max_window_bits, 9);
    for bad in [
        "permessage-deflate; client_max_window_bits=15",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; unknown",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; ;",
    ] {
        assert_eq!(ok(bad), Err(HandshakeError::InvalidExtension), "{bad}");
    }
    for bad in ["foo", "permessage-deflate, permessage-deflate", "permessage-deflate, foo"] {
        assert_eq!(ok(bad), Err(HandshakeError::UnofferedExtension), "{bad}");
    }
    assert_eq!(config.accept_response(&[]), Ok(None));
    assert_eq!(config.accept_response(&[" , "]), Ok(None));
    // Asking for no context takeover holds even when the server does not repeat it.
    let own = DeflateConfig { no_context_takeover: true, ..config };
    assert!(own.accept_response(&["permessage-deflate"]).unwrap().unwrap().client_no_context_takeover);
}

/// A compressed message in frames, as a client sends it.
fn compressed_frames(payload: &[u8], opcode: Opcode, pieces: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    let size = payload.len().div_ceil(pieces).max(1);
    let chunks: Vec<&[u8]> = payload.chunks(size).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let fin = i + 1 == chunks.len();
        let key = Some([i as u8, 0x5a, 0xa5, 3]);
        if i == 0 {
            encode_compressed_frame(fin, opcode, chunk, key, &mut wire).unwrap();
        } else {
            encode_frame(fin, Opcode::Continuation, chunk, key, &mut wire).unwrap();
        }
    }
    wire
}

fn server_reader(limits: Limits) -> MessageReader {
    let p = params(&DeflateConfig::default(), "permessage-deflate");
    MessageReader::new(Role::Server, limits).with_inflater(PerMessageDeflate::new(&p, Role::Server).split().1)
}

fn read_all(reader: &mut MessageReader, wire: &[u8]) -> Result<Vec<Message>, Error> {
    let mut out = Vec::new();
    let mut pos = 0;
    for _ in 0..wire.len() + 1 {
        let (used, msg) = reader.read(&wire[pos..])?;
        pos += used;
        match msg {
            Some(m) => out.push(m),
            None if used == 0 => break,
            None => {}
        }
    }
    Ok(out)
}

#[test]
fn the_reader_inflates_compressed_messages_fragmented_and_whole() {
    let p = params(&DeflateConfig::default(), "permessage-deflate");
    let (mut deflater, _) = PerMessageDeflate::new(&p, Role::Client).split();
    let mut reader = server_reader(Limits::default());
    let text = "ünïcødé ✓ ".repeat(1000);
    let mut wire = compressed_frames(&deflater.compress(text.as_bytes()), Opcode::Text, 3);
    // An uncompressed message between compressed ones.
    encode_frame(true, Opcode::Binary, b"plain", Some([9, 9, 9, 9]), &mut wire).unwrap();
    wire.extend(compressed_frames(&deflater.compress(b"\x00\x01"), Opcode::Binary, 1));
    let want = vec![Message::Text(text), Message::Binary(b"plain".to_vec()), Message::Binary(vec![0, 1])];
    assert_eq!(read_all(&mut reader, &wire).unwrap(), want);
    // Split at every offset: the same messages (a fresh reader and compressor each time).
    let (mut deflater, _) = PerMessageDeflate::new(&p, Role::Client).split();
    let wire = compressed_frames(&deflater.compress(b"Hello, hello"), Opcode::Text, 2);
    for at in 0..wire.len() {
        let mut reader = server_reader(Limits::default());
        let (mut pending, mut got) = (Vec::new(), Vec::new());
        for piece in [&wire[..at], &wire[at..]] {
            pending.extend_from_slice(piece);
            for _ in 0..pending.len() + 1 {
                let (used, msg) = reader.read(&pending).unwrap();
                pending.drain(..used);
                match msg {
                    Some(m) => got.push(m),
                    None if used == 0 => break,
                    None => {}
                }
            }
        }
        assert_eq!(got, [Message::Text("Hello, hello".into())], "split at {at}");
    }
}

#[test]
fn the_reader_refuses_rsv1_where_it_does_not_belong() {
    let p = params(&DeflateConfig::default(), "permessage-deflate");
    let (mut deflater, _) = PerMessageDeflate::new(&p, Role::Client).split();
    let payload = deflater.compress(HELLO);
    // RSV1 on a continuation frame.
    let mut wire = Vec::new();
    encode_frame(false, Opcode::Text, b"He", Some([1, 2, 3, 4]), &mut wire).unwrap();
    let mut cont = Vec::new();
    encode_frame(true, Opcode::Continuation, b"llo", Some([1, 2, 3, 4]), &mut cont).unwrap();
    cont[0] |= 0x40;
    wire.extend(cont);
    assert_eq!(read_all(&mut server_reader(Limits::default()), &wire), Err(Error::ReservedBits));
    // RSV1 on a ping.
    let mut ping = Vec::new();
    encode_frame(true, Opcode::Ping, b"", Some([1, 2, 3, 4]), &mut ping).unwrap();
    ping[0] |= 0x40;
    assert_eq!(read_all(&mut server_reader(Limits::default()), &ping), Err(Error::ReservedBits));
    // RSV2 with the extension; RSV1 without it.
    let mut rsv2 = compressed_frames(&payload, Opcode::Text, 1);
    rsv2[0] |= 0x20;
    assert_eq!(read_all(&mut server_reader(Limits::default()), &rsv2), Err(Error::ReservedBits));
    let plain = MessageReader::new(Role::Server, Limits::default());
    let wire = compressed_frames(&payload, Opcode::Text, 1);
    assert_eq!(read_all(&mut { plain }, &wire), Err(Error::ReservedBits));
    // A compressed text that inflates to bad UTF-8.
    let bad = deflater.compress(&[b'a', 0xff, b'b']);
    let wire = compressed_frames(&bad, Opcode::Text, 1);
    assert_eq!(read_all(&mut server_reader(Limits::default()), &wire), Err(Error::InvalidUtf8));
    // Compressed garbage.
    let wire = compressed_frames(&[0xff, 0xff], Opcode::Binary, 1);
    assert_eq!(read_all(&mut server_reader(Limits::default()), &wire), Err(Error::InvalidCompressedData));
}

#[test]
fn the_reader_bounds_inflated_messages_by_the_message_limit() {
    let p = params(&DeflateConfig::default(), "permessage-deflate");
    let (mut deflater, _) = PerMessageDeflate::new(&p, Role::Client).split();
    let bomb = deflater.compress(&vec![b'a'; 8 << 20]);
    let wire = compressed_frames(&bomb, Opcode::Text, 4);
    let limits = Limits { max_frame: 1 << 20, max_message: 64 << 10 };
    assert_eq!(read_all(&mut server_reader(limits), &wire), Err(Error::MessageTooLarge));
    assert_eq!(Error::MessageTooLarge.close_code(), 1009);
}
