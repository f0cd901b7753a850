//! The client's side of an upgrade: a `101` answer gives the connection back as a stream,
//! over plain TCP and TLS, against this project's server.

mod client_common;

use std::io::{Read, Write};
use std::time::Duration;

use client_common::tls::{server_config, TestCa};
use http_client::{Client, Error, Method, Request};
use http_server::{Response, Server, ServerHandle, Upgraded};

/// Greets, then echoes what it reads until the end of the stream.
fn greet_and_echo(mut s: Upgraded) {
    if s.write_all(b"welcome|").is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

fn routes(s: &Server) {
    s.add_context_resource("/echo", |_| Response::upgrade("echo", greet_and_echo));
    s.add_resource("/plain", |_, _| Response::text("plain"));
}

fn upgrade_request(url: String) -> Request {
    let mut req = Request::new(Method::Get, url);
    req.headers_mut().append("Connection", "Upgrade").unwrap();
    req.headers_mut().append("Upgrade", "echo").unwrap();
    req
}

fn talk(client: &Client, base: &str) {
    let resp = client.send(upgrade_request(format!("{base}/echo"))).unwrap();
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.header("upgrade"), Some("echo"));
    let mut stream = resp.into_upgraded().unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut greeting = [0u8; 8];
    stream.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"welcome|");
    for i in 0..3 {
        let msg = format!("message {i}");
        stream.write_all(msg.as_bytes()).unwrap();
        stream.flush().unwrap();
        let mut back = vec![0u8; msg.len()];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
    }
}

fn spawn(server: Server) -> ServerHandle {
    routes(&server);
    server.spawn().unwrap()
}

#[test]
fn an_upgrade_over_plain_tcp() {
    let handle = spawn(Server::builder().port(0).bind("127.0.0.1").build().unwrap());
    let base = format!("http://{}", handle.local_addr());
    let client = Client::new();
    talk(&client, &base);
    // The upgraded connection left the pool; ordinary requests go on.
    assert_eq!(client.get_text(format!("{base}/plain")).unwrap(), "plain");
    talk(&client, &base);
}

#[test]
fn an_upgrade_over_tls() {
    let ca = TestCa::new("upgrade test CA");
    let config = server_config(&ca.issue(&["localhost"]), None);
    let handle = spawn(Server::builder().port(0).bind("127.0.0.1").tls(config).build().unwrap());
    let port = handle.local_addr().socket_addr().unwrap().port();
    let client = ca.client_builder().build().unwrap();
    talk(&client, &format!("https://localhost:{port}"));
}

#[test]
fn only_a_switch_gives_a_stream() {
    let handle = spawn(Server::builder().port(0).bind("127.0.0.1").build().unwrap());
    let base = format!("http://{}", handle.local_addr());
    let client = Client::new();
    let resp = client.send(Request::new(Method::Get, format!("{base}/plain"))).unwrap();
    assert!(matches!(resp.into_upgraded(), Err(Error::NotUpgraded { status: 200 })));
    // Asked, but the server cannot switch there.
    let mut req = upgrade_request(format!("{base}/plain"));
    req.headers_mut().remove("upgrade");
    let resp = client.send(req).unwrap();
    assert!(matches!(resp.into_upgraded(), Err(Error::NotUpgraded { status: 200 })));
    let resp = client.send(Request::new(Method::Get, format!("{base}/echo"))).unwrap();
    assert_eq!(resp.status(), 426);
    assert!(matches!(resp.into_upgraded(), Err(Error::NotUpgraded { status: 426 })));
}
