//! http-utils' WebSocket codec against a real peer over loopback: tungstenite as the client
//! of a small echo server built on the codec (handshake, messages, pings, close, and the close
//! code answering frames the codec refuses), and tungstenite as the server of a client built
//! on it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use http_toolkit::utils::websocket::{
    accept_key, check_upgrade_request, check_upgrade_response, client_key, encode_close, encode_frame,
    CloseFrame, Limits, Message, MessageReader, Opcode, Role,
};
use http_toolkit::utils::{parse_request_head, parse_response_head, Limits as HttpLimits, Parsed};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message as TMessage;

const TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

/// Reads from `sock` until `parse` is complete; returns the value and the bytes after it.
fn read_head<T, E: std::fmt::Debug>(
    sock: &mut TcpStream,
    parse: impl Fn(&[u8]) -> Result<Parsed<T>, E>,
) -> (T, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..64 {
        if let Parsed::Complete { value, used } = parse(&buf).expect("a valid head") {
            return (value, buf.split_off(used));
        }
        let n = sock.read(&mut chunk).expect("read");
        assert!(n > 0, "the peer closed during the handshake");
        buf.extend_from_slice(&chunk[..n]);
    }
    panic!("no head after 64 reads");
}

/// Reads messages from `sock` with `reader`, starting with the bytes in `pending`, handing
/// each to `on` until it returns false. Returns the error that stopped the stream, if any.
fn read_messages(
    sock: &mut TcpStream,
    reader: &mut MessageReader,
    pending: &mut Vec<u8>,
    mut on: impl FnMut(&mut TcpStream, Message) -> bool,
) -> Option<http_toolkit::utils::websocket::Error> {
    let mut chunk = vec![0u8; 64 * 1024];
    for _ in 0..100_000 {
        match reader.read(pending) {
            Ok((used, Some(m))) => {
                pending.drain(..used);
                if !on(sock, m) {
                    return None;
                }
            }
            Ok((0, None)) => {
                let n = sock.read(&mut chunk).expect("read");
                if n == 0 {
                    return None;
                }
                pending.extend_from_slice(&chunk[..n]);
            }
            Ok((used, None)) => {
                pending.drain(..used);
            }
            Err(e) => return Some(e),
        }
    }
    panic!("too many rounds");
}

/// Serves one WebSocket connection: echoes text and binary, answers pings, answers a close,
/// and fails the connection with the close code of a protocol error.
fn echo_server(listener: TcpListener) -> thread::JoinHandle<Option<u16>> {
    thread::spawn(move || {
        let (mut sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(TIMEOUT).unwrap();
        let (req, mut pending) = read_head(&mut sock, |b| parse_request_head(b, &HttpLimits::default()));
        let up = check_upgrade_request(&req).expect("a valid upgrade");
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(up.key)
        );
        sock.write_all(answer.as_bytes()).unwrap();
        let mut reader = MessageReader::new(Role::Server, Limits::default());
        let mut closed_with = None;
        let error = read_messages(&mut sock, &mut reader, &mut pending, |sock, m| {
            let mut out = Vec::new();
            let more = match m {
                Message::Text(t) => encode_frame(true, Opcode::Text, t.as_bytes(), None, &mut out).is_ok(),
                Message::Binary(b) => encode_frame(true, Opcode::Binary, &b, None, &mut out).is_ok(),
                Message::Ping(p) => encode_frame(true, Opcode::Pong, &p, None, &mut out).is_ok(),
                Message::Pong(_) => true,
                Message::Close(c) => {
                    closed_with = c.as_ref().map(|c| c.code);
                    encode_close(c.as_ref(), None, &mut out).unwrap();
                    false
                }
            };
            sock.write_all(&out).unwrap();
            more
        });
        if let Some(e) = error {
            let close = CloseFrame { code: e.close_code(), reason: e.description().to_string() };
            let mut out = Vec::new();
            encode_close(Some(&close), None, &mut out).unwrap();
            sock.write_all(&out).unwrap();
            return Some(e.close_code());
        }
        closed_with
    })
}

fn connect(port: u16) -> tungstenite::WebSocket<TcpStream> {
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(TIMEOUT).unwrap();
    let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/echo"), sock).expect("the handshake");
    ws
}

#[test]
fn tungstenite_client_against_the_codec() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = echo_server(listener);
    let mut ws = connect(port);
    let big = "κ".repeat(512 * 1024);
    for msg in [
        TMessage::text("hello"),
        TMessage::binary(vec![0, 255, 7]),
        TMessage::text(big.as_str()),
        TMessage::text(""),
    ] {
        ws.send(msg.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), msg);
    }
    ws.send(TMessage::Ping(b"are you there".to_vec().into())).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::Pong(b"are you there".to_vec().into()));
    ws.close(Some(tungstenite::protocol::CloseFrame { code: CloseCode::Away, reason: "bye".into() }))
        .unwrap();
    for _ in 0..10 {
        match ws.read() {
            Ok(TMessage::Close(Some(c))) => assert_eq!(u16::from(c.code), 1001),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(server.join().unwrap(), Some(1001));
}

#[test]
fn refused_frames_are_answered_with_their_close_code() {
    // A frame with RSV1 (1002), invalid UTF-8 (1007), a frame past the 16 MiB limit (1009),
    // each sent raw after tungstenite's handshake.
    let key = [1u8, 2, 3, 4];
    let cases: [(Vec<u8>, u16); 3] = [
        (vec![0xc1, 0x80, 1, 2, 3, 4], 1002),
        (vec![0x81, 0x82, 1, 2, 3, 4, 0xff ^ 1, 0xfe ^ 2], 1007),
        ([&[0x82u8, 0xff][..], &(17u64 << 20).to_be_bytes(), &key].concat(), 1009),
    ];
    for (raw, code) in cases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = echo_server(listener);
        let mut ws = connect(port);
        ws.get_mut().write_all(&raw).unwrap();
        match ws.read() {
            Ok(TMessage::Close(Some(c))) => assert_eq!(u16::from(c.code), code),
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert_eq!(server.join().unwrap(), Some(code));
    }
}

#[test]
fn the_codec_as_a_client_of_tungstenite() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(TIMEOUT).unwrap();
        let mut ws = tungstenite::accept(sock).expect("the handshake");
        for _ in 0..100 {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
                Ok(TMessage::Close(_)) => {}
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("{e}"),
            }
        }
    });
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(TIMEOUT).unwrap();
    let key = client_key(*b"0123456789abcdef");
    let request = format!(
        "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
    );
    sock.write_all(request.as_bytes()).unwrap();
    let (head, mut pending) = read_head(&mut sock, |b| parse_response_head(b, &HttpLimits::default()));
    assert_eq!(check_upgrade_response(&head, &key, &[]), Ok(None));

    // A text message in three masked fragments, cut inside a character, and a binary one.
    let mut out = Vec::new();
    let text = "café κόσμε".as_bytes();
    encode_frame(false, Opcode::Text, &text[..4], Some([9, 9, 9, 9]), &mut out).unwrap();
    encode_frame(false, Opcode::Continuation, &text[4..9], Some([1, 2, 3, 4]), &mut out).unwrap();
    encode_frame(true, Opcode::Continuation, &text[9..], Some([5, 6, 7, 8]), &mut out).unwrap();
    encode_frame(true, Opcode::Binary, &[0u8; 70_000], Some([0xaa; 4]), &mut out).unwrap();
    sock.write_all(&out).unwrap();
    let mut reader = MessageReader::new(Role::Client, Limits::default());
    let mut got = Vec::new();
    let error = read_messages(&mut sock, &mut reader, &mut pending, |_, m| {
        got.push(m);
        got.len() < 2
    });
    assert_eq!(error, None);
    assert_eq!(got, [Message::Text("café κόσμε".into()), Message::Binary(vec![0; 70_000])]);

    let mut out = Vec::new();
    encode_close(Some(&CloseFrame { code: 1000, reason: "done".into() }), Some([3, 1, 4, 1]), &mut out)
        .unwrap();
    sock.write_all(&out).unwrap();
    let mut close = None;
    read_messages(&mut sock, &mut reader, &mut pending, |_, m| {
        close = Some(m);
        false
    });
    assert_eq!(close, Some(Message::Close(Some(CloseFrame { code: 1000, reason: "done".into() }))));
    drop(sock);
    server.join().unwrap();
}
