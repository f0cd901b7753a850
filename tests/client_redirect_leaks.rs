//! Credentials across redirects, over real sockets: servers that log every header field they
//! receive. `Authorization`, `Cookie` and `Proxy-Authorization` set by the caller (and the
//! user name and password of the URL) travel only while the origin — scheme, host and port —
//! stays the same, and stay dropped once a hop has left it; a `Location` with credentials in
//! it is refused; `https` to `http` is refused unless allowed, and then carries none.

mod client_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use client_common::tls::{server_config, TestCa};
use client_common::{RawServer, Seen};
use http_client::{Client, Error, Method, RedirectAction, Request};

/// A server that logs every request and answers with `answer(seen)`.
fn logging(answer: impl Fn(&Seen) -> String + Send + Sync + 'static) -> (RawServer, mpsc::Receiver<Seen>) {
    RawServer::recording(answer)
}

fn redirect(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
}

fn ok(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

/// A GET of `url` with every kind of credential a caller can set.
fn with_credentials(url: &str) -> Request {
    Request::new(Method::Get, url)
        .with_header("Authorization", "Bearer secret-token")
        .unwrap()
        .with_header("Cookie", "session=secret-cookie")
        .unwrap()
        .with_header("Proxy-Authorization", "Basic c2VjcmV0")
        .unwrap()
}

fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(10)).expect("the server saw no request")
}

fn assert_no_credentials(seen: &Seen) {
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert_eq!(seen.header(name), None, "{name} leaked to {}", seen.target);
    }
}

fn assert_all_credentials(seen: &Seen) {
    assert_eq!(seen.header("authorization"), Some("Bearer secret-token"), "{}", seen.target);
    assert_eq!(seen.header("cookie"), Some("session=secret-cookie"), "{}", seen.target);
    assert_eq!(seen.header("proxy-authorization"), Some("Basic c2VjcmV0"), "{}", seen.target);
}

#[test]
fn the_same_origin_keeps_credentials() {
    let (server, seen) = logging(|s| if s.target == "/a" { redirect("/b") } else { ok("b") });
    let resp = Client::new().send(with_credentials(&server.url("/a"))).unwrap();
    assert_eq!(resp.text().unwrap(), "b");
    assert_all_credentials(&next(&seen));
    assert_all_credentials(&next(&seen));
}

#[test]
fn another_port_on_the_same_host_drops_credentials() {
    let (other, other_seen) = logging(|_| ok("other"));
    let target = other.url("/landing");
    let (server, seen) = logging(move |_| redirect(&target));
    let resp = Client::new().send(with_credentials(&server.url("/a"))).unwrap();
    assert_eq!(resp.text().unwrap(), "other");
    assert_all_credentials(&next(&seen));
    let landed = next(&other_seen);
    assert_eq!(landed.target, "/landing");
    assert_no_credentials(&landed);
}

#[test]
fn another_host_name_drops_credentials() {
    let (other, other_seen) = logging(|_| ok("other"));
    // The same machine under another name.
    let target = format!("http://localhost:{}/landing", other.addr.port());
    let (server, _seen) = logging(move |_| redirect(&target));
    Client::new().send(with_credentials(&server.url("/a"))).unwrap().text().unwrap();
    assert_no_credentials(&next(&other_seen));
}

#[test]
fn credentials_dropped_once_stay_dropped_when_the_chain_comes_back() {
    // A → B → A: the second visit to A gets nothing.
    let b_port = Arc::new(OnceLock::<u16>::new());
    let port = b_port.clone();
    let (a, a_seen) = logging(move |s| match s.target.as_str() {
        "/start" => redirect(&format!("http://127.0.0.1:{}/bounce", port.get().unwrap())),
        _ => ok("back at a"),
    });
    let back = a.url("/back");
    let (b, b_seen) = logging(move |_| redirect(&back));
    b_port.set(b.addr.port()).unwrap();
    let resp = Client::new().send(with_credentials(&a.url("/start"))).unwrap();
    assert_eq!(resp.text().unwrap(), "back at a");
    assert_all_credentials(&next(&a_seen));
    assert_no_credentials(&next(&b_seen));
    let back = next(&a_seen);
    assert_eq!(back.target, "/back");
    assert_no_credentials(&back);
}

#[test]
fn url_credentials_stay_with_their_origin() {
    let (other, other_seen) = logging(|_| ok("other"));
    let target = other.url("/landing");
    let (server, seen) = logging(move |s| match s.target.as_str() {
        "/a" => redirect("/b"),
        "/b" => redirect(&target),
        _ => ok("?"),
    });
    let url = format!("http://alice:pw@{}/a", server.addr);
    assert_eq!(Client::new().get_text(url.as_str()).unwrap(), "other");
    let basic = Some("Basic YWxpY2U6cHc=");
    assert_eq!(next(&seen).header("authorization"), basic);
    // A relative Location keeps the URL's credentials: the same origin.
    assert_eq!(next(&seen).header("authorization"), basic);
    assert_no_credentials(&next(&other_seen));
}

#[test]
fn credentials_in_a_location_are_refused() {
    let (other, other_seen) = logging(|_| ok("other"));
    let target = format!("http://mallory:stolen@{}/landing", other.addr);
    let (server, _seen) = logging(move |_| redirect(&target));
    let err = Client::new().send(server.url("/a")).unwrap_err();
    assert!(matches!(err, Error::BadRedirect(_)), "{err}");
    assert!(!err.to_string().contains("stolen"), "{err}");
    // Nothing went to the host the Location named.
    assert!(other_seen.try_recv().is_err());
    assert_eq!(other.accepted(), 0);
    // Scheme-relative too.
    let target = format!("//mallory@{}/landing", other.addr);
    let (server, _seen) = logging(move |_| redirect(&target));
    assert!(matches!(Client::new().send(server.url("/a")), Err(Error::BadRedirect(_))));
    assert_eq!(other.accepted(), 0);
}

#[test]
fn a_redirect_policy_decides_each_hop() {
    let (other, _other_seen) = logging(|_| ok("other"));
    let target = other.url("/landing");
    let (server, _seen) = logging(move |s| match s.target.as_str() {
        "/a" => redirect("/b"),
        _ => redirect(&target),
    });
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let client = Client::builder()
        .redirect_policy(move |hop| {
            log.lock().unwrap().push((hop.status(), hop.to(), hop.same_origin(), hop.followed()));
            if hop.same_origin() {
                RedirectAction::Follow
            } else {
                RedirectAction::Stop
            }
        })
        .build()
        .unwrap();
    let resp = client.send(server.url("/a")).unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.url(), server.url("/b"));
    assert_eq!(other.accepted(), 0);
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked, [(302, server.url("/b"), true, 0), (302, other.url("/landing"), false, 1)]);
    let refusing = Client::builder().redirect_policy(|_| RedirectAction::Refuse).build().unwrap();
    let err = refusing.send(server.url("/a")).unwrap_err();
    assert!(matches!(err, Error::BadRedirect(ref m) if m.contains("policy")), "{err}");
}

/// Reads one request head from `r`; `None` at the end of the stream.
fn read_head(r: &mut impl BufRead) -> Option<Seen> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let version = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    for _ in 0..200 {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            return Some(Seen { method, target, version, headers, body: Vec::new() });
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    None
}

/// One port that speaks TLS to a client whose first byte starts a TLS record and plain HTTP to
/// any other, so `https://localhost:P/` and `http://localhost:P/` are the same host and port.
/// Over TLS every request is redirected to `http://localhost:P/landing`; in plain text it is
/// answered 200. Serves `connections` connections, then its thread ends. Each request is
/// logged with whether it came over TLS.
fn dual_server(connections: usize) -> (TestCa, u16, mpsc::Receiver<(bool, Seen)>, JoinHandle<()>) {
    let ca = TestCa::new("dual test CA");
    let config = server_config(&ca.issue(&["localhost"]), None);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut served = Vec::new();
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept() else { break };
            let (tx, config) = (tx.clone(), config.clone());
            served.push(std::thread::spawn(move || serve_either(tcp, config, port, tx)));
        }
        for s in served {
            let _ = s.join();
        }
    });
    (ca, port, rx, handle)
}

/// Serves one connection of [`dual_server`], over TLS or not as its first byte says.
fn serve_either(
    tcp: std::net::TcpStream,
    config: Arc<rustls::ServerConfig>,
    port: u16,
    tx: mpsc::Sender<(bool, Seen)>,
) {
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0u8; 1];
    if tcp.peek(&mut first).unwrap_or(0) == 0 {
        return;
    }
    if first[0] == 0x16 {
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        let mut tcp = tcp;
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                return;
            }
        }
        let mut tls = BufReader::new(rustls::StreamOwned::new(conn, tcp));
        serve(&mut tls, true, &tx, &redirect(&format!("http://localhost:{port}/landing")));
    } else {
        serve(&mut BufReader::new(tcp), false, &tx, &ok("plain"));
    }
}

/// Answers every request on one connection with `answer`, logging it.
fn serve<S: Read + Write>(
    conn: &mut BufReader<S>,
    tls: bool,
    log: &mpsc::Sender<(bool, Seen)>,
    answer: &str,
) {
    // Bounded: a test sends a few requests per connection.
    for _ in 0..20 {
        let Some(seen) = read_head(conn) else { return };
        let _ = log.send((tls, seen));
        let out = conn.get_mut();
        if out.write_all(answer.as_bytes()).and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

#[test]
fn https_to_http_on_the_same_host_and_port_is_refused() {
    let (ca, port, seen, handle) = dual_server(1);
    let client = ca.client_builder().build().unwrap();
    let err = client.send(with_credentials(&format!("https://localhost:{port}/secure"))).unwrap_err();
    match &err {
        Error::InsecureRedirect { url } => assert_eq!(url, &format!("http://localhost:{port}/landing")),
        other => panic!("{other}"),
    }
    let (tls, first) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(tls);
    assert_all_credentials(&first);
    drop(client);
    handle.join().unwrap();
    // Nothing went out in plain text.
    assert!(seen.try_recv().is_err());
}

#[test]
fn an_allowed_downgrade_carries_no_credentials() {
    let (ca, port, seen, handle) = dual_server(2);
    let client = ca.client_builder().allow_downgrade_redirects(true).build().unwrap();
    let url = format!("https://localhost:{port}/secure");
    let resp = client.send(with_credentials(&url)).unwrap();
    assert_eq!(resp.url(), format!("http://localhost:{port}/landing"));
    assert_eq!(resp.text().unwrap(), "plain");
    let (tls, first) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(tls);
    assert_all_credentials(&first);
    let (tls, landed) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!tls);
    assert_eq!(landed.target, "/landing");
    assert_no_credentials(&landed);
    drop(client);
    handle.join().unwrap();
}

#[test]
fn default_headers_with_credentials_stay_with_the_origin_too() {
    let (other, other_seen) = logging(|_| ok("other"));
    let target = other.url("/landing");
    let (server, seen) = logging(move |_| redirect(&target));
    let client = Client::builder().default_header("Authorization", "Bearer default").build().unwrap();
    client.get_text(server.url("/a")).unwrap();
    assert_eq!(next(&seen).header("authorization"), Some("Bearer default"));
    assert_no_credentials(&next(&other_seen));
}
