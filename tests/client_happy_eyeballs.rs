//! Connecting like a browser (RFC 8305, Happy Eyeballs v2), on loopback: a name given two
//! addresses with `ClientBuilder::resolve`, `::1` first and `127.0.0.1` second, where the
//! first drops connection attempts. A listener whose accept queue is full answers no SYN (the
//! kernel drops them, the way a black-holed route does), so a connect to it hangs until its
//! timeout; here the second address must win about 250 ms after the first attempt, not after
//! the whole connect timeout. And connections from a local address of the caller's choosing.

mod client_common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use client_common::RawServer;
use http_client::{Client, Error, TimeoutKind};
use socket2::{Domain, Protocol, Socket, Type};

const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A listener on `addr` that never answers a connection attempt: its accept queue (backlog
/// 0) is filled by one connection that is never accepted. `None` when `addr` cannot be bound
/// (no IPv6 here) or when this system answers attempts all the same (port 0: any port).
struct BlackHole {
    listener: TcpListener,
    _filler: TcpStream,
}

impl BlackHole {
    fn at(addr: SocketAddr) -> Option<BlackHole> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).ok()?;
        if addr.is_ipv6() {
            socket.set_only_v6(true).ok()?;
        }
        socket.bind(&addr.into()).ok()?;
        socket.listen(0).ok()?;
        let listener: TcpListener = socket.into();
        let addr = listener.local_addr().ok()?;
        let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        // The next attempt must go unanswered.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(150)) {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            other => {
                eprintln!("a full accept queue at {addr} does not drop attempts here: {other:?}");
                return None;
            }
        }
        Some(BlackHole { listener, _filler: filler })
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }
}

/// A server on 127.0.0.1:P and a black hole on [::1]:P (the same port, as one name's two
/// addresses would have), or `None` with a notice when this machine cannot make them.
fn dual_stack() -> Option<(RawServer, BlackHole)> {
    // Bounded: a port free on 127.0.0.1 is nearly always free on ::1 too.
    for _ in 0..20 {
        let server = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv4");
        if let Some(hole) = BlackHole::at(SocketAddr::new(V6, server.addr.port())) {
            return Some((server, hole));
        }
        if TcpListener::bind((V6, 0)).is_err() {
            eprintln!("\n*** SKIPPED: no IPv6 loopback here; Happy Eyeballs not tested ***\n");
            return None;
        }
    }
    panic!("could not make a black hole on ::1");
}

#[test]
fn a_black_holed_first_address_costs_one_attempt_delay_not_a_timeout() {
    let Some((server, _hole)) = dual_stack() else { return };
    let client = Client::builder()
        .resolve("dual.test", [V6, V4])
        .connect_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let url = format!("http://dual.test:{}/", server.addr.port());
    let start = Instant::now();
    assert_eq!(client.get_text(url.as_str()).unwrap(), "v4");
    let took = start.elapsed();
    eprintln!("connected through the second address after {took:?}");
    // IPv6 was tried first and given its 250 ms; then IPv4 won at once.
    assert!(took >= Duration::from_millis(240), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    // The pooled connection is reused: no second wait.
    let start = Instant::now();
    assert_eq!(client.get_text(url.as_str()).unwrap(), "v4");
    assert!(start.elapsed() < Duration::from_millis(200));
    assert_eq!(server.accepted(), 1);
}

#[test]
fn the_order_given_is_kept_and_a_refusal_moves_on_at_once() {
    let Some((server, _hole)) = dual_stack() else { return };
    // IPv4 first: it answers at once.
    let client = Client::builder().resolve("dual.test", [V4, V6]).build().unwrap();
    let start = Instant::now();
    let url = format!("http://dual.test:{}/", server.addr.port());
    assert_eq!(client.get_text(url.as_str()).unwrap(), "v4");
    assert!(start.elapsed() < Duration::from_millis(200), "{:?}", start.elapsed());
    // A first address that refuses: the next attempt starts without waiting out the delay.
    let answering = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let port = answering.addr.port();
    // Nothing listens on [::1] at that port (the probe closes at once).
    if TcpListener::bind((V6, port)).is_ok() {
        let client = Client::builder().resolve("dual.test", [V6, V4]).build().unwrap();
        let start = Instant::now();
        assert_eq!(client.get_text(format!("http://dual.test:{port}/")).unwrap(), "ok");
        assert!(start.elapsed() < Duration::from_millis(200), "{:?}", start.elapsed());
    }
}

#[test]
fn every_address_black_holed_is_one_connect_timeout_in_all() {
    // Both addresses drop attempts: [::1]:P and 127.0.0.1:P.
    let mut holes = None;
    // Bounded: a port free on 127.0.0.1 is nearly always free on ::1 too.
    for _ in 0..20 {
        let Some(v4) = BlackHole::at(SocketAddr::new(V4, 0)) else { return };
        let port = v4.port();
        if let Some(v6) = BlackHole::at(SocketAddr::new(V6, port)) {
            holes = Some((v4, v6, port));
            break;
        }
        if TcpListener::bind((V6, 0)).is_err() {
            eprintln!("\n*** SKIPPED: no IPv6 loopback here; Happy Eyeballs not tested ***\n");
            return;
        }
    }
    let (_v4, _v6, port) = holes.expect("could not make black holes on ::1 and 127.0.0.1");
    let client = Client::builder()
        .resolve("dual.test", [V6, V4])
        .connect_timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.get_text(format!("http://dual.test:{port}/")).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Connect)), "{err}");
    // One timeout for the whole, not one per address.
    assert!(took >= Duration::from_millis(650) && took < Duration::from_millis(1300), "{took:?}");
}

/// A server that answers each request with the address the connection came from.
fn peer_echo() -> RawServer {
    RawServer::start(|mut peer| {
        while peer.read_request().is_some() {
            let from = peer.writer.peer_addr().unwrap().ip().to_string();
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{from}", from.len());
            if !peer.write(reply.as_bytes()) {
                break;
            }
        }
    })
}

#[test]
fn connections_come_from_the_local_address_given() {
    let server = peer_echo();
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    if std::net::TcpListener::bind((other, 0)).is_err() {
        eprintln!("\n*** SKIPPED: 127.0.0.2 is not a local address here ***\n");
        return;
    }
    let client = Client::builder().local_address(other).build().unwrap();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "127.0.0.2");
    // With several addresses, only those of the local address's family are tried.
    let client = Client::builder().local_address(other).resolve("dual.test", [V6, V4]).build().unwrap();
    let url = format!("http://dual.test:{}/", server.addr.port());
    let start = Instant::now();
    assert_eq!(client.get_text(url.as_str()).unwrap(), "127.0.0.2");
    assert!(start.elapsed() < Duration::from_millis(200), "{:?}", start.elapsed());
    // No address of that family at all: a connect error.
    let v6_only = Client::builder().local_address(V6).build().unwrap();
    let err = v6_only.get_text(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
}
