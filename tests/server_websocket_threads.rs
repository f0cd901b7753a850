//! An open WebSocket costs no thread: the server's thread count with 300 sockets open is
//! the count with one. Alone in its file, so that no other test's threads come and go.
//! Linux only: it counts threads in `/proc`.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use http_toolkit::server::{Message, Server, WebSocket};

fn open(port: u16) -> TcpStream {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    sock.write_all(
        b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(sock.read(&mut byte).unwrap(), 1);
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    sock
}

/// Sends a masked "hi" and reads its echo.
fn echo(sock: &mut TcpStream) {
    sock.write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']).unwrap();
    let mut back = [0u8; 4];
    sock.read_exact(&mut back).unwrap();
    assert_eq!(back, [0x81, 0x02, b'h', b'i']);
}

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

#[test]
fn sockets_cost_no_thread() {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    server.add_context_resource("/echo", |cx| {
        cx.websocket(|ws: &WebSocket, m: Message| {
            let _ = ws.send(m);
        })
    });
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().port().unwrap();
    let mut first = open(port);
    echo(&mut first);
    let before = threads();
    let mut sockets: Vec<TcpStream> = (0..300).map(|_| open(port)).collect();
    for s in &mut sockets {
        echo(s);
    }
    assert_eq!(threads(), before, "300 open WebSockets started threads");
    drop((first, sockets));
    handle.shutdown();
}
