//! Behind a proxy, over raw loopback sockets: the PROXY protocol (v1 and v2) as the
//! connection's first bytes, with its timeout, cap and refusals; `Forwarded` and
//! `X-Forwarded-*` believed from trusted proxies only.

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use http_toolkit::server::{Response, Server, ServerBuilder, ServerHandle, TrustedProxies};

/// A server whose `/who` answers "client scheme host peer".
fn start(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> (ServerHandle, SocketAddr) {
    let h = server_support::start(configure, |s: &Server| {
        s.route(http_toolkit::utils::Method::Get, "/who", |cx| {
            let o = cx.origin();
            Response::text(format!(
                "{} {} {} {}",
                o.client_ip.map_or("-".to_owned(), |ip| ip.to_string()),
                o.scheme,
                o.host.unwrap_or_default(),
                cx.peer()
            ))
        })
        .unwrap();
    });
    let addr = server_support::addr(&h);
    (h, addr)
}

/// Sends `bytes` in `pieces` writes and reads until the server closes (at most 10 s).
fn send(addr: SocketAddr, bytes: &[u8], pieces: usize) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let step = bytes.len().div_ceil(pieces.max(1));
    for chunk in bytes.chunks(step.max(1)) {
        s.write_all(chunk).unwrap();
        if pieces > 1 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn body(reply: &str) -> &str {
    reply.rsplit("\r\n\r\n").next().unwrap_or("")
}

const GET_WHO: &[u8] = b"GET /who HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n";

fn v2_tcp4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h
}

#[test]
fn proxy_v1_and_v2_name_the_client() {
    let (_h, addr) = start(|b| b.proxy_protocol(true));
    let v1 = [b"PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n".as_slice(), GET_WHO].concat();
    let reply = send(addr, &v1, 1);
    assert_eq!(body(&reply), "203.0.113.7 http app.example 203.0.113.7:56324", "{reply}");
    let v2 = [v2_tcp4([198, 51, 100, 9], 4000, [10, 0, 0, 1], 80).as_slice(), GET_WHO].concat();
    assert_eq!(body(&send(addr, &v2, 1)), "198.51.100.9 http app.example 198.51.100.9:4000");
    // In pieces of a few bytes, the header and the request alike.
    assert_eq!(body(&send(addr, &v2, 20)), "198.51.100.9 http app.example 198.51.100.9:4000");
    // v2 LOCAL (a health check by the proxy itself): the real peer.
    let local = [b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00".as_slice(), GET_WHO].concat();
    assert!(body(&send(addr, &local, 1)).starts_with("127.0.0.1 http app.example 127.0.0.1:"));
    let unknown = [b"PROXY UNKNOWN\r\n".as_slice(), GET_WHO].concat();
    assert!(body(&send(addr, &unknown, 1)).starts_with("127.0.0.1 "));
}

#[test]
fn a_connection_without_a_valid_header_is_closed_unanswered() {
    let (_h, addr) = start(|b| b.proxy_protocol(true));
    assert_eq!(send(addr, GET_WHO, 1), "", "no header: closed without an answer");
    assert_eq!(send(addr, b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", 1), "");
    let mut huge = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x10\x00".to_vec();
    huge.extend(std::iter::repeat_n(0u8, 5000));
    assert_eq!(send(addr, &huge, 1), "", "a v2 length over the cap");
}

#[test]
fn a_header_that_never_completes_times_out() {
    let (_h, addr) = start(|b| b.proxy_protocol(true).header_timeout(Duration::from_millis(300)));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PROXY TCP4 203.0.113.7").unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(3), "{took:?}");
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"));
}

#[test]
fn proxy_headers_only_from_trusted_peers() {
    let (_h, addr) =
        start(|b| b.proxy_protocol(true).trusted_proxies(TrustedProxies::parse("10.0.0.0/8").unwrap()));
    let v1 = [b"PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n".as_slice(), GET_WHO].concat();
    assert_eq!(send(addr, &v1, 1), "", "127.0.0.1 may not send a PROXY header here");
}

#[test]
fn forwarding_headers_from_a_trusted_proxy_are_believed() {
    let (_h, addr) = start(|b| b.trusted_proxies(TrustedProxies::loopback()));
    let req = b"GET /who HTTP/1.1\r\nHost: backend\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n\
                X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nConnection: close\r\n\r\n";
    assert!(body(&send(addr, req, 1)).starts_with("203.0.113.7 https shop.example 127.0.0.1:"));
    let fwd = b"GET /who HTTP/1.1\r\nHost: backend\r\nForwarded: for=\"[2001:db8::7]:1\";proto=https;host=a.example\r\n\
                Connection: close\r\n\r\n";
    assert!(body(&send(addr, fwd, 1)).starts_with("2001:db8::7 https a.example 127.0.0.1:"));
}

#[test]
fn forwarding_headers_from_anyone_else_are_ignored() {
    // Only 10.0.0.0/8 is trusted: this loopback client's spoofed headers count for nothing.
    let (_h, addr) = start(|b| b.trusted_proxies(TrustedProxies::parse("10.0.0.0/8").unwrap()));
    let req = b"GET /who HTTP/1.1\r\nHost: backend\r\nX-Forwarded-For: 203.0.113.7\r\n\
                X-Forwarded-Proto: https\r\nForwarded: for=198.51.100.1\r\nConnection: close\r\n\r\n";
    assert!(body(&send(addr, req, 1)).starts_with("127.0.0.1 http backend 127.0.0.1:"));
}
