//! The blocking adapters over real loopback sockets: pipelined requests with chunked and
//! fixed-length bodies, chunked responses, and peers that hang up in the middle of a body.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use http_utils::io::{read_body, read_request_head, read_response_head, BodyReader, ChunkedWriter};
use http_utils::{
    request_framing, response_framing, write_request_head, write_response_head, ErrorKind, Framing, Headers,
    Limits, Method, ResponseHead, Version,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_write_timeout(Some(TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
    }
    (client, server)
}

/// An echo server for one connection: each request's body comes back as a chunked response
/// with the request's target as a trailer. Returns how many requests it answered.
fn echo_server(stream: TcpStream) -> usize {
    let limits = Limits::default();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut answered = 0;
    while let Some(req) = read_request_head(&mut reader, &limits).unwrap() {
        let body = read_body(&mut reader, request_framing(&req).unwrap(), &limits).unwrap();
        let mut head = ResponseHead::new(200);
        head.headers.append("Transfer-Encoding", "chunked").unwrap();
        let mut out = Vec::new();
        write_response_head(&mut out, &head);
        writer.write_all(&out).unwrap();
        let mut chunks = ChunkedWriter::with_capacity(&mut writer, 16);
        for piece in body.chunks(5) {
            chunks.write_all(piece).unwrap();
        }
        let mut trailers = Headers::new();
        trailers.append("X-Target", req.url()).unwrap();
        chunks.finish(Some(&trailers)).unwrap();
        answered += 1;
    }
    answered
}

#[test]
fn pipelined_requests_in_small_pieces() {
    let (mut client, server) = pair();
    let handle = thread::spawn(move || echo_server(server));

    let mut wire = Vec::new();
    let mut h = Headers::new();
    h.append("Host", "localhost").unwrap();
    h.append("Transfer-Encoding", "chunked").unwrap();
    write_request_head(&mut wire, &Method::Post, "/one", Version::Http11, &h);
    wire.extend_from_slice(b"7;ext=x\r\nchunked\r\n5\r\n body\r\n0\r\nX-T: 1\r\n\r\n");
    let mut h = Headers::new();
    h.append("Host", "localhost").unwrap();
    h.append("Content-Length", "26").unwrap();
    write_request_head(&mut wire, &Method::Put, "/two", Version::Http11, &h);
    wire.extend_from_slice(b"abcdefghijklmnopqrstuvwxyz");
    let mut h = Headers::new();
    h.append("Host", "localhost").unwrap();
    write_request_head(&mut wire, &Method::Get, "/three", Version::Http11, &h);
    // Send in pieces of 3 bytes so heads and bodies straddle reads.
    for piece in wire.chunks(3) {
        client.write_all(piece).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();

    let limits = Limits::default();
    let mut reader = BufReader::new(client);
    let want: [(&str, &[u8]); 3] =
        [("/one", b"chunked body"), ("/two", b"abcdefghijklmnopqrstuvwxyz"), ("/three", b"")];
    for (target, body) in want {
        let head = read_response_head(&mut reader, &limits).unwrap().unwrap();
        assert_eq!(head.status, 200);
        let framing = response_framing(&Method::Post, &head).unwrap();
        assert_eq!(framing, Framing::Chunked);
        let mut b = BodyReader::new(&mut reader, framing, &limits);
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        assert_eq!(got, body);
        assert_eq!(b.trailers().unwrap().get("x-target"), Some(target));
    }
    assert!(read_response_head(&mut reader, &limits).unwrap().is_none());
    assert_eq!(handle.join().unwrap(), 3);
}

#[test]
fn peer_hangs_up_inside_bodies() {
    let cases: [(&[u8], Framing); 3] = [
        (b"0123456789", Framing::Length(20)),
        (b"a\r\n0123456789\r\n5\r\nab", Framing::Chunked),
        (b"a\r\n0123456789\r\n", Framing::Chunked),
    ];
    for (sent, framing) in cases {
        let (mut client, server) = pair();
        let sender = thread::spawn(move || {
            client.write_all(sent).unwrap();
            // Dropping the stream closes it: the body is cut short.
        });
        let mut reader = BufReader::new(server);
        let mut body = BodyReader::new(&mut reader, framing, &Limits::default());
        let mut got = Vec::new();
        let err = http_utils::Error::from(body.read_to_end(&mut got).unwrap_err());
        assert_eq!(err.kind(), Some(ErrorKind::TruncatedBody), "{framing:?}");
        assert!(!body.is_complete());
        assert!(got.starts_with(b"0123456789"));
        sender.join().unwrap();
    }
}

#[test]
fn truncated_head_and_oversized_body() {
    let (mut client, server) = pair();
    let sender = thread::spawn(move || {
        client.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Le").unwrap();
    });
    let mut reader = BufReader::new(server);
    let err = read_request_head(&mut reader, &Limits::default()).unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::TruncatedHead));
    sender.join().unwrap();

    let (mut client, server) = pair();
    let sender = thread::spawn(move || {
        let _ = client.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        let _ = client.write_all(b"400\r\n");
        let _ = client.write_all(&[b'x'; 0x400]);
        let _ = client.write_all(b"\r\n0\r\n\r\n");
    });
    let limits = Limits { max_body: 1000, ..Limits::default() };
    let mut reader = BufReader::new(server);
    let req = read_request_head(&mut reader, &limits).unwrap().unwrap();
    let err = read_body(&mut reader, request_framing(&req).unwrap(), &limits).unwrap_err();
    assert_eq!((err.kind(), err.status()), (Some(ErrorKind::BodyTooLarge), 413));
    sender.join().unwrap();
}
