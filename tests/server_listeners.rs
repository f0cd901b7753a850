//! Where a server listens: several endpoints at once, sockets bound elsewhere, `SO_REUSEPORT`
//! shared by two servers, and connections the kernel had queued when the shutdown began.

mod server_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use http_toolkit::server::{LocalAddr, Response, Server, TcpTransport};
use server_support::{raw, raw_on, status_of, Client};

fn hello(server: &Server, name: &'static str) {
    server.add_resource("/", move |_req, _args| Response::text(name));
}

#[test]
fn one_server_serves_on_several_endpoints() {
    let server = Server::builder().bind("127.0.0.1").port(0).also_listen(TcpTransport, 0).build().unwrap();
    hello(&server, "same server");
    let h = server.spawn().unwrap();
    let addrs: Vec<_> = h.local_addrs().iter().map(|a| a.socket_addr().unwrap()).collect();
    assert_eq!(addrs.len(), 2);
    assert_ne!(addrs[0], addrs[1]);
    for a in addrs {
        assert_eq!(Client::connect(a).get("/").text(), "same server");
    }
}

#[cfg(unix)]
#[test]
fn tcp_and_a_unix_socket_from_one_server() {
    use http_toolkit::server::UnixTransport;
    let dir = std::env::temp_dir().join(format!("ht-listeners-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let server = Server::builder()
        .bind("127.0.0.1")
        .port(0)
        .also_listen(UnixTransport::new(&path), 0)
        .build()
        .unwrap();
    hello(&server, "both");
    let h = server.spawn().unwrap();
    assert_eq!(h.local_addrs()[1], LocalAddr::Unix(path.clone()));
    let tcp = h.local_addr().socket_addr().unwrap();
    assert_eq!(Client::connect(tcp).get("/").text(), "both");
    let mut unix = std::os::unix::net::UnixStream::connect(&path).unwrap();
    unix.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    unix.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    unix.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("both"), "{out}");
    drop(h);
    assert!(!path.exists(), "the socket file the server made is removed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_listener_bound_elsewhere_is_used_as_it_is() {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    // The builder's own port is not opened when a socket is given.
    let server = Server::builder().port(0).tcp_listener(socket).build().unwrap();
    hello(&server, "given");
    let h = server.spawn().unwrap();
    assert_eq!(h.local_addrs(), &[LocalAddr::Ip(addr)]);
    assert_eq!(Client::connect(addr).get("/").text(), "given");
}

#[cfg(unix)]
#[test]
fn a_unix_listener_bound_elsewhere_keeps_its_file() {
    let dir = std::env::temp_dir().join(format!("ht-given-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("given.sock");
    let _ = std::fs::remove_file(&path);
    let socket = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = Server::builder().unix_listener(socket).build().unwrap();
    hello(&server, "unix given");
    let h = server.spawn().unwrap();
    let mut unix = std::os::unix::net::UnixStream::connect(&path).unwrap();
    unix.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    unix.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    unix.read_to_string(&mut out).unwrap();
    assert!(out.ends_with("unix given"), "{out}");
    drop(h);
    assert!(path.exists(), "whoever bound the socket owns its file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn two_servers_share_a_port_with_reuse_port() {
    let a = Server::builder().bind("127.0.0.1").port(0).reuse_port(true).build().unwrap();
    let port = a.local_addr().port().unwrap();
    // Without the option the port is taken.
    let err = Server::builder().bind("127.0.0.1").port(port).build().err().expect("the port is in use");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    let b = Server::builder().bind("127.0.0.1").port(port).reuse_port(true).build().unwrap();
    hello(&a, "a");
    hello(&b, "b");
    let (a, b) = (a.spawn().unwrap(), b.spawn().unwrap());
    let addr = a.local_addr().socket_addr().unwrap();
    // The kernel spreads connections by their addresses: 64 of them reach both (all on one
    // has a chance of 2^-63).
    let mut seen = std::collections::HashSet::new();
    for _ in 0..64 {
        seen.insert(status_and_body(&raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // One stops: the other takes every connection from then on.
    a.shutdown();
    for _ in 0..32 {
        let reply = raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(status_and_body(&reply), (200, "b".to_owned()));
    }
    drop(b);
}

fn status_and_body(reply: &str) -> (u16, String) {
    (status_of(reply), reply.rsplit("\r\n\r\n").next().unwrap_or("").to_owned())
}

#[test]
fn connections_accepted_before_the_shutdown_are_served() {
    let server = Server::builder().bind("127.0.0.1").port(0).build().unwrap();
    hello(&server, "served");
    let h = server.spawn().unwrap();
    let addr = h.local_addr().socket_addr().unwrap();
    // Connections made before the shutdown, their requests sent just after it began.
    let conns: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(50));
    let stopping = std::thread::spawn(move || {
        let started = Instant::now();
        h.shutdown();
        started.elapsed()
    });
    std::thread::sleep(Duration::from_millis(20));
    for mut c in conns {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("served"), "{out:?}");
        assert!(out.contains("Connection: close") || out.contains("connection: close"), "{out:?}");
    }
    let took = stopping.join().unwrap();
    assert!(took < Duration::from_secs(5), "the shutdown took {took:?}");
}

#[test]
fn a_silent_new_connection_holds_the_shutdown_a_second_at_most() {
    let server = Server::builder().bind("127.0.0.1").port(0).build().unwrap();
    let h = server.spawn().unwrap();
    let addr = h.local_addr().socket_addr().unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    h.shutdown();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "{took:?}");
    silent.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)), "closed");
}

#[test]
fn a_listener_of_any_transport_is_used_as_it_is() {
    use http_toolkit::server::{ListenOptions, ProxyProtocolTransport, Transport};
    let options = ListenOptions { port: 0, host: Some("127.0.0.1".into()), backlog: 16, reuse_port: false };
    let listener = ProxyProtocolTransport::new(TcpTransport).listen(&options).unwrap();
    let server = Server::builder().listener(listener).build().unwrap();
    hello(&server, "through a PROXY listener");
    let h = server.spawn().unwrap();
    let addr = h.local_addr().socket_addr().unwrap();
    let reply = raw(addr, b"PROXY UNKNOWN\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status_and_body(&reply), (200, "through a PROXY listener".to_owned()));
    // That listener wants the header: a plain request gets no answer.
    assert_eq!(raw(addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), "");
}

/// Sends `GET /` with `Connection: close` on `s` and reads the whole answer.
fn get_and_close(s: TcpStream) -> String {
    raw_on(s, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

#[test]
fn connections_are_all_accepted_whether_they_come_alone_or_in_bursts() {
    // Accepting stops once the listener has nothing queued, without a call that finds
    // nothing: every connection must still be taken, whatever the arrivals look like.
    let server = Server::builder().bind("127.0.0.1").port(0).max_connections(2_000).build().unwrap();
    hello(&server, "taken");
    let h = server.spawn().unwrap();
    let a = h.local_addr().socket_addr().unwrap();
    let started = Instant::now();
    // One at a time: each connection the only one queued when it is reported.
    for _ in 0..200 {
        assert!(get_and_close(TcpStream::connect(a).unwrap()).ends_with("taken"));
    }
    // 300 queued at once before any sends a byte, then all asked.
    let held: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(a).unwrap()).collect();
    for s in held {
        assert!(get_and_close(s).ends_with("taken"));
    }
    // Bursts from several threads at once, the last connection of each alone at the end.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                (0..40).filter(|_| get_and_close(TcpStream::connect(a).unwrap()).ends_with("taken")).count()
            })
        })
        .collect();
    let answered: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(answered, 320);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}
