//! Every close of a TLS connection by the server sends `close_notify` first (RFC 8446 §6.1),
//! so that a client can tell the end of a close-delimited answer from a cut connection. The
//! client here is rustls' own, which reports a close without `close_notify` as
//! `UnexpectedEof`: after a `Connection: close` answer, an HTTP/1.0 request, the keep-alive
//! timeout, an error answer, and the server's shutdown.

mod client_common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use client_common::tls::{server_config, TestCa};
use http_toolkit::server::{Response, Server, ServerHandle};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn start(ca: &TestCa) -> ServerHandle {
    let config = server_config(&ca.issue(&["localhost"]), None);
    let server = Server::builder()
        .port(0)
        .bind("127.0.0.1")
        .tls(config)
        .keep_alive_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    server.add_resource("/", |_, _| Response::text("ok"));
    server.spawn().unwrap()
}

fn connect(ca: &TestCa, addr: SocketAddr) -> Tls {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(ca.roots())
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    StreamOwned::new(conn, tcp)
}

/// Reads until the server closes: what came, and how the stream ended (`Ok` for a close
/// with `close_notify`, `UnexpectedEof` for one without).
fn read_to_close(s: &mut Tls) -> (String, Result<(), ErrorKind>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match s.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e.kind()),
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), end)
}

/// Reads one `ok` answer on a connection that stays open.
fn read_ok(s: &mut Tls) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"\r\n\r\nok") {
        assert!(got.len() < 4096, "{:?}", String::from_utf8_lossy(&got));
        let n = s.read(&mut buf).expect("an answer");
        assert!(n > 0, "closed before the answer");
        got.extend_from_slice(&buf[..n]);
    }
}

fn addr(h: &ServerHandle) -> SocketAddr {
    h.local_addr().socket_addr().unwrap()
}

#[test]
fn every_close_sends_close_notify() {
    let ca = TestCa::new("close CA");
    let h = start(&ca);
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "Connection: close",
            b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200",
        ),
        ("HTTP/1.0", b"GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 200"),
        ("keep-alive timeout", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 200"),
        ("error answer", b"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400"),
        ("malformed head", b"\x01\x02 garbage\r\n\r\n", "HTTP/1.1 400"),
    ];
    for (case, request, status) in cases {
        let mut s = connect(&ca, addr(&h));
        s.write_all(request).unwrap();
        let (reply, end) = read_to_close(&mut s);
        assert!(reply.starts_with(status), "{case}: {reply:?}");
        assert_eq!(end, Ok(()), "{case}: closed without close_notify");
    }
}

#[test]
fn shutdown_sends_close_notify_to_idle_connections() {
    let ca = TestCa::new("shutdown CA");
    let h = start(&ca);
    let mut idle = connect(&ca, addr(&h));
    idle.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    read_ok(&mut idle);
    h.shutdown();
    let (rest, end) = read_to_close(&mut idle);
    assert_eq!((rest.as_str(), end), ("", Ok(())));
}
