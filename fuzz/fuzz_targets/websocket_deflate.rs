//! permessage-deflate's inflate path: any payload inflated with any limit never panics, never
//! gives more than the limit and fails only as `MessageTooLarge` or `InvalidCompressedData`;
//! the same payload as a compressed message read by a `MessageReader` gives the same outcome;
//! and the bytes compressed (twice, with context takeover) inflate back to themselves.

#![no_main]

use http_utils::websocket::{
    encode_compressed_frame, DeflateConfig, Error, Limits, Message, MessageReader, Opcode, PerMessageDeflate,
    Role,
};
use libfuzzer_sys::fuzz_target;

const LIMITS: [usize; 5] = [0, 1, 100, 4096, 1 << 20];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else { return };
    let limit = LIMITS[usize::from(selector) % LIMITS.len()];
    let config = DeflateConfig { no_context_takeover: selector & 0x80 != 0, ..DeflateConfig::default() };
    let (params, _) = config.negotiate_server(&["permessage-deflate"]).expect("a plain offer is accepted");

    let inflated = PerMessageDeflate::new(&params, Role::Client).decompress(payload, limit);
    match &inflated {
        Ok(out) => assert!(out.len() <= limit),
        Err(e) => assert!(matches!(e, Error::MessageTooLarge | Error::InvalidCompressedData), "{e}"),
    }

    let mut wire = Vec::new();
    encode_compressed_frame(true, Opcode::Binary, payload, None, &mut wire).unwrap();
    let limits = Limits { max_frame: 1 << 20, max_message: limit.max(payload.len()) };
    let (_, inflater) = PerMessageDeflate::new(&params, Role::Client).split();
    let mut reader = MessageReader::new(Role::Client, limits).with_inflater(inflater);
    let read = reader.read(&wire);
    let again = PerMessageDeflate::new(&params, Role::Client).decompress(payload, limits.max_message);
    match (read, again) {
        (Ok((used, Some(Message::Binary(b)))), Ok(out)) => assert_eq!((used, b), (wire.len(), out)),
        (Err(e), Err(f)) => assert_eq!(e, f),
        (r, a) => panic!("reader {r:?}, inflater {a:?}"),
    }

    let mut server = PerMessageDeflate::new(&params, Role::Server);
    let mut client = PerMessageDeflate::new(&params, Role::Client);
    for _ in 0..2 {
        let compressed = server.compress(payload);
        assert_eq!(client.decompress(&compressed, payload.len()).unwrap(), payload);
    }
});
