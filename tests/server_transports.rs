//! Transports: HTTPS with an rcgen certificate, Unix domain sockets, and curl as a real
//! client over TCP and TLS.

mod programs;
mod server_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_toolkit::server::{Response, Server};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use server_support::*;

struct Tls {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    cert_pem: String,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls() -> Tls {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Tls { server: Arc::new(server), client: Arc::new(client), cert_pem: ck.cert.pem() }
}

fn hello(s: &Server) {
    s.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
    s.add_resource("/form", |_req, args| Response::text(format!("{:?}", args.get("name"))));
}

/// Reads one Content-Length-framed response from a stream; returns (head, body).
fn read_response(r: &mut impl BufRead) -> (String, String) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "closed early");
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

#[test]
fn https_with_keep_alive() {
    let t = tls();
    let h = start(|b| b.tls(t.server.clone()), hello);
    let sock = TcpStream::connect(addr(&h)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn =
        rustls::ClientConnection::new(t.client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    for path in ["/", "/index.html", "/"] {
        s.get_mut().write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).unwrap();
        let (head, body) = read_response(&mut s);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, "Hello, world!");
    }
    // Pipelined over TLS.
    s.get_mut()
        .write_all(b"GET / HTTP/1.1\r\nHost: l\r\n\r\nGET /form?name=x HTTP/1.1\r\nHost: l\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s).1, "Hello, world!");
    assert_eq!(read_response(&mut s).1, "Some(\"x\")");
}

#[test]
fn alpn_offers_http11_whatever_the_configuration_says() {
    let t = tls();
    // A configuration that advertises h2 first: a browser would speak HTTP/2 to it.
    let mut server = (*t.server).clone();
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let h = start(|b| b.tls(Arc::new(server)), hello);
    let mut client = (*t.client).clone();
    client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let sock = TcpStream::connect(addr(&h)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(client), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    s.get_mut().write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).1, "Hello, world!");
    assert_eq!(s.get_ref().conn.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn tls_handshake_is_bounded_by_the_header_timeout() {
    let t = tls();
    let h = start(
        |b| b.tls(t.server.clone()).header_timeout(Duration::from_millis(300)).threads(2).io_threads(1),
        hello,
    );
    // Silent after connecting, and garbage instead of a ClientHello.
    let mut silent = TcpStream::connect(addr(&h)).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let out = raw(addr(&h), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(!out.contains("Hello"));
    // A real client is served meanwhile.
    let sock = TcpStream::connect(addr(&h)).unwrap();
    let conn =
        rustls::ClientConnection::new(t.client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    s.get_mut().write_all(b"GET / HTTP/1.1\r\nHost: l\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).1, "Hello, world!");
    let started = Instant::now();
    let mut buf = [0u8; 16];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
#[cfg(unix)] // Unix domain sockets: the transport exists on Unix only.
fn unix_domain_socket() {
    use std::os::unix::net::UnixStream;
    let dir = std::env::temp_dir().join(format!("http-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let server = Server::builder().unix(&path).build().unwrap();
    hello(&server);
    let h = server.spawn().unwrap();
    assert_eq!(h.local_addr().to_string(), format!("unix:{}", path.display()));
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_response(&mut r).1, "Hello, world!");
    r.get_mut().write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut r).1, "Hello, world!");
    // A second server on the same path is refused while the first runs.
    assert!(Server::builder().unix(&path).build().is_err());
    h.shutdown();
    assert!(!path.exists(), "the socket file is removed on shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

/// curl's output for `args`; `None` when curl is missing (see `programs`).
fn curl(args: &[&str]) -> Option<String> {
    let program = programs::require("curl_as_a_real_client", "curl", "apt-get install curl")?;
    let out = Command::new(program).args(["-sS", "--max-time", "10"]).args(args).output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn curl_as_a_real_client() {
    let h = start(|b| b, hello);
    let base = format!("http://127.0.0.1:{}", addr(&h).port());
    let Some(out) = curl(&[&format!("{base}/")]) else {
        return;
    };
    assert_eq!(out, "Hello, world!");
    // Several URLs over one kept-alive connection.
    let out = curl(&["-v", &format!("{base}/"), &format!("{base}/index.html")]).unwrap();
    assert_eq!(out, "Hello, world!Hello, world!");
    assert_eq!(h.current_request_count(), 3);
    // A form post, and a large one that makes curl send Expect: 100-continue.
    assert_eq!(
        curl(&["-d", "name=caf%C3%A9+au+lait", &format!("{base}/form")]).unwrap(),
        "Some(\"café au lait\")"
    );
    let big = format!("name=x&pad={}", "p".repeat(2 << 20));
    let file = std::env::temp_dir().join(format!("http-server-curl-{}.txt", std::process::id()));
    std::fs::write(&file, big).unwrap();
    let out = curl(&[
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{base}/form"),
    ]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.unwrap(), "Some(\"x\")");
    // HEAD.
    let out = curl(&["-I", &format!("{base}/")]).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK") && out.contains("Content-Length: 13"), "{out}");
}

#[test]
fn curl_over_https() {
    let t = tls();
    let h = start(|b| b.tls(t.server.clone()), hello);
    let ca = std::env::temp_dir().join(format!("http-server-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, &t.cert_pem).unwrap();
    let url = format!("https://localhost:{}/", addr(&h).port());
    let out = curl(&["--cacert", &ca.display().to_string(), &url, &url]);
    let _ = std::fs::remove_file(&ca);
    if let Some(out) = out {
        assert_eq!(out, "Hello, world!Hello, world!");
    }
}

#[test]
fn static_files_over_https() {
    // Over TLS a file's bytes are read and encrypted (no sendfile): the same bytes arrive.
    let dir = std::env::temp_dir().join(format!("http-toolkit-tls-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text: String = (0..200_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    std::fs::write(dir.join("big.txt"), &text).unwrap();
    let t = tls();
    let root = dir.clone();
    let h = start(|b| b.tls(t.server.clone()).compression(false), move |s| s.serve_dir("/s", root).unwrap());
    let sock = TcpStream::connect(addr(&h)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn =
        rustls::ClientConnection::new(t.client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    s.get_mut().write_all(b"GET /s/big.txt HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (head, body) = read_response(&mut s);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(body == text, "the whole file");
    s.get_mut()
        .write_all(b"GET /s/big.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=26-51\r\n\r\n")
        .unwrap();
    let (head, body) = read_response(&mut s);
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(body, "abcdefghijklmnopqrstuvwxyz");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_http_and_https_from_one_server() {
    use http_toolkit::server::{TcpTransport, TlsTransport};
    let t = tls();
    let h = start(|b| b.also_listen(TlsTransport::new(TcpTransport, t.server.clone()), 0), hello);
    let addrs: Vec<_> = h.local_addrs().iter().map(|a| a.socket_addr().unwrap()).collect();
    assert_eq!(Client::connect(addrs[0]).get("/").text(), "Hello, world!");
    let sock = TcpStream::connect(addrs[1]).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn =
        rustls::ClientConnection::new(t.client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    s.get_mut().write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).1, "Hello, world!");
}

#[test]
fn a_proxy_protocol_header_comes_before_tls() {
    let t = tls();
    let h = start(
        |b| b.proxy_protocol(true).tls(t.server.clone()),
        |s| {
            s.route(http_toolkit::utils::Method::Get, "/who", |cx| {
                Response::text(format!("{:?} {} {}", cx.client_ip(), cx.scheme(), cx.peer()))
            })
            .unwrap();
        },
    );
    let mut sock = TcpStream::connect(addr(&h)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    sock.write_all(b"PROXY TCP4 198.51.100.20 10.0.0.1 40000 443\r\n").unwrap();
    let conn =
        rustls::ClientConnection::new(t.client.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut s = BufReader::new(rustls::StreamOwned::new(conn, sock));
    s.get_mut().write_all(b"GET /who HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).1, "Some(198.51.100.20) https 198.51.100.20:40000");
}
