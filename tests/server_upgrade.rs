//! Switching protocols: the 101 head, the bytes after the request given back first, refusals
//! when the request did not ask, no worker held by upgraded connections, the cap, panics,
//! and what a shutdown tells them.

mod server_support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use http_toolkit::server::{ErrorEvent, Response, Server, Upgraded};
use http_toolkit::utils::io::read_response_head;
use http_toolkit::utils::{Limits, Method};
use server_support::{addr, raw, start, status_of, Client};

/// Echoes what it reads until the end of the stream.
fn echo(mut s: Upgraded) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

fn echo_server(
    configure: impl FnOnce(http_toolkit::server::ServerBuilder) -> http_toolkit::server::ServerBuilder,
) -> http_toolkit::server::ServerHandle {
    start(configure, |s: &Server| {
        s.add_context_resource("/echo", |_| Response::upgrade("echo", echo).with_header("X-Echo", "1"));
        s.route(Method::Get, "/now", |_| Response::text("now")).unwrap();
    })
}

const ASK: &str = "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

/// Sends an upgrade request (and `extra` in the same write) and reads the 101 head.
fn switch(c: &mut Client, extra: &[u8]) {
    let mut bytes = ASK.as_bytes().to_vec();
    bytes.extend_from_slice(extra);
    c.send(&bytes);
    let head = read_response_head(&mut c.reader, &Limits::default()).unwrap().unwrap();
    assert_eq!(head.status, 101);
    assert!(head.headers.connection_has("upgrade"));
    assert_eq!(head.headers.get("upgrade"), Some("echo"));
    assert_eq!(head.headers.get("x-echo"), Some("1"));
    assert!(head.headers.get("content-length").is_none() && head.headers.get("transfer-encoding").is_none());
}

fn read_n(c: &mut Client, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    c.reader.read_exact(&mut out).expect("echoed bytes");
    out
}

#[test]
fn the_connection_switches_and_bytes_after_the_request_come_first() {
    let h = echo_server(|b| b);
    let mut c = Client::connect(addr(&h));
    switch(&mut c, b"early bytes|");
    assert_eq!(read_n(&mut c, 12), b"early bytes|");
    c.send(b"GET / HTTP/1.1\r\n\r\n");
    // No longer HTTP: the request line is echoed, not answered.
    assert_eq!(read_n(&mut c, 18), b"GET / HTTP/1.1\r\n\r\n");
}

#[test]
fn an_upgrade_the_request_did_not_ask_for_is_refused() {
    let h = echo_server(|b| b);
    let a = addr(&h);
    let plain = raw(a, b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&plain), 426, "{plain}");
    assert!(plain.to_ascii_lowercase().contains("\r\nupgrade: echo\r\n"), "{plain}");
    let other =
        raw(a, b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: upgrade, close\r\nUpgrade: h2c\r\n\r\n");
    assert_eq!(status_of(&other), 426, "{other}");
    let old = raw(a, b"GET /echo HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
    assert_eq!(status_of(&old), 426, "{old}");
    // The connection stays HTTP after a refusal.
    let mut c = Client::connect(a);
    c.send(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().status(), 426);
    assert_eq!(c.get("/now").text(), "now");
}

#[test]
fn upgraded_connections_hold_no_worker() {
    // Two workers: thirty upgraded connections, each with a handler blocked in a read.
    let h = echo_server(|b| b.threads(2).io_threads(1));
    let a = addr(&h);
    let mut clients: Vec<Client> = (0..30).map(|_| Client::connect(a)).collect();
    for c in clients.iter_mut() {
        switch(c, b"");
    }
    assert_eq!(Client::connect(a).get("/now").text(), "now");
    for (i, c) in clients.iter_mut().enumerate() {
        let msg = format!("hello {i:02}");
        c.send(msg.as_bytes());
        assert_eq!(read_n(c, msg.len()), msg.as_bytes());
    }
}

#[test]
fn the_stream_cap_counts_upgraded_connections() {
    let h = echo_server(|b| b.max_streams(1));
    let a = addr(&h);
    let mut first = Client::connect(a);
    switch(&mut first, b"");
    let refused = raw(a, ASK.as_bytes());
    assert_eq!(status_of(&refused), 503, "{refused}");
    // Once the first is over, its place is free again.
    drop(first);
    let started = Instant::now();
    loop {
        let mut c = Client::connect(a);
        c.send(ASK.as_bytes());
        let head = read_response_head(&mut c.reader, &Limits::default()).unwrap().unwrap();
        if head.status == 101 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the place was never given back");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_upgrade_handler_that_panics_is_reported() {
    let (tx, rx) = mpsc::channel::<String>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        move |s| {
            s.set_error_hook(move |e| {
                if let ErrorEvent::UpgradePanic { protocol, message, .. } = e {
                    let _ = tx.lock().unwrap().send(format!("{protocol}: {message}"));
                }
            });
            s.add_context_resource("/echo", |_| Response::upgrade("echo", |_s| panic!("boom")));
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(ASK.as_bytes());
    let head = read_response_head(&mut c.reader, &Limits::default()).unwrap().unwrap();
    assert_eq!(head.status, 101);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "echo: boom");
    assert!(c.is_closed());
}

#[test]
fn a_shutdown_tells_upgraded_connections_then_cuts_them() {
    // One handler says goodbye when the server stops; another ignores it and is cut at the
    // end of the grace period.
    let cut = Arc::new(AtomicUsize::new(0));
    let cut2 = cut.clone();
    let h = start(
        |b| b.shutdown_grace(Duration::from_millis(500)),
        move |s| {
            s.add_context_resource("/polite", |_| {
                Response::upgrade("echo", |mut s: Upgraded| {
                    s.set_read_timeout(Some(Duration::from_millis(20)));
                    let mut buf = [0u8; 64];
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while Instant::now() < deadline {
                        if s.is_server_stopping() {
                            let _ = s.write_all(b"bye");
                            return;
                        }
                        match s.read(&mut buf) {
                            Ok(0) => return,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(_) => return,
                        }
                    }
                })
            });
            let cut = cut2.clone();
            s.add_context_resource("/rude", move |_| {
                let cut = cut.clone();
                Response::upgrade("echo", move |mut s: Upgraded| {
                    let mut buf = [0u8; 64];
                    if let Err(e) = s.read(&mut buf) {
                        if e.kind() == std::io::ErrorKind::ConnectionAborted {
                            cut.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            });
        },
    );
    let a = addr(&h);
    let mut polite = Client::connect(a);
    polite.send(b"GET /polite HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
    assert_eq!(read_response_head(&mut polite.reader, &Limits::default()).unwrap().unwrap().status, 101);
    let mut rude = Client::connect(a);
    rude.send(b"GET /rude HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
    assert_eq!(read_response_head(&mut rude.reader, &Limits::default()).unwrap().unwrap().status, 101);
    let started = Instant::now();
    h.shutdown();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "the shutdown did not wait for the rude one: {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(read_n(&mut polite, 3), b"bye");
    let started = Instant::now();
    while cut.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the blocked read was never cut");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_upgrade_answered_through_a_responder_switches_too() {
    let h = start(
        |b| b,
        |s| {
            s.add_context_resource("/echo", |cx| {
                let r = cx.responder();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    let _ = r.send(Response::upgrade("echo", echo));
                });
                Response::later()
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(ASK.as_bytes());
    let head = read_response_head(&mut c.reader, &Limits::default()).unwrap().unwrap();
    assert_eq!(head.status, 101);
    c.send(b"ping");
    assert_eq!(read_n(&mut c, 4), b"ping");
}
