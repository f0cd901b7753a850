//! Proxies: absolute-form requests and CONNECT tunnels through a real tinyproxy, proxy
//! authentication, `no_proxy`, and the priority of proxy patterns.

mod client_common;
mod programs;
#[path = "client_common/tinyproxy.rs"]
mod tinyproxy;

use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use client_common::tls::{early_answer_server, server_config, TestCa, TlsServer};
use client_common::{RawServer, Seen};
use http_client::{Client, Error, Proxy, ProxyEnv, ProxyPattern};
use tinyproxy::Tinyproxy;

/// An origin (or fake proxy) that records requests and answers with `body`.
fn recording(body: &'static str) -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let _ = tx.lock().unwrap().send(seen);
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            if !peer.write(reply.as_bytes()) {
                break;
            }
        }
    });
    (server, rx)
}

const HELLO_TLS: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret";

#[test]
fn http_through_tinyproxy() {
    let Some(proxy) = Tinyproxy::start(None) else { return };
    let (origin, seen) = recording("from origin");
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    for _ in 0..2 {
        assert_eq!(client.get_text(origin.url("/page?q=1")).unwrap(), "from origin");
        // The proxy turned the absolute-form target back into origin form.
        let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(s.target, "/page?q=1");
    }
}

#[test]
fn https_through_a_tinyproxy_tunnel() {
    let Some(proxy) = Tinyproxy::start(None) else { return };
    let ca = TestCa::new("tunnel CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO_TLS);
    let client = ca.client_builder().build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    let url = format!("https://localhost:{}/", server.addr.port());
    for _ in 0..3 {
        assert_eq!(client.get_text(url.as_str()).unwrap(), "secret");
    }
    // One tunnel, kept alive in the pool.
    assert_eq!(server.accepted(), 1);
    assert_eq!(server.next_sni().as_deref(), Some("localhost"));
}

#[test]
fn proxy_authentication_through_tinyproxy() {
    let Some(proxy) = Tinyproxy::start(Some(("alice", "s3cret"))) else { return };
    let (origin, _seen) = recording("authorized");
    let ca = TestCa::new("auth CA");
    let tls = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO_TLS);
    let tls_url = format!("https://localhost:{}/", tls.addr.port());
    let client = ca.client_builder().build().unwrap();

    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    let err = client.get_text(origin.url("/")).unwrap_err();
    assert!(matches!(err, Error::ProxyAuthRequired { .. }), "{err}");
    let err = client.get_text(tls_url.as_str()).unwrap_err();
    assert!(matches!(err, Error::ProxyAuthRequired { .. }), "{err}");

    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(Some("alice:wrong"))).unwrap());
    // tinyproxy answers wrong credentials with 401 rather than 407.
    let err = client.get_text(origin.url("/")).unwrap_err();
    assert!(matches!(err, Error::ProxyAuthRequired { .. } | Error::Status { status: 401, .. }), "{err:?}");

    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(Some("alice:s3cret"))).unwrap());
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "authorized");
    assert_eq!(client.get_text(tls_url.as_str()).unwrap(), "secret");
}

#[test]
fn absolute_form_and_basic_credentials_on_the_wire() {
    let (fake_proxy, seen) = recording("via proxy");
    let client = Client::new();
    let proxy_url = format!("http://user%40corp:p%3Ass@{}", fake_proxy.addr);
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy_url).unwrap());
    assert_eq!(client.get_text("http://origin.example:8080/a/b?c=d").unwrap(), "via proxy");
    let s = seen.recv().unwrap();
    assert_eq!(s.target, "http://origin.example:8080/a/b?c=d");
    assert_eq!(s.header("host"), Some("origin.example:8080"));
    // base64("user@corp:p:ss")
    assert_eq!(s.header("proxy-authorization"), Some("Basic dXNlckBjb3JwOnA6c3M="));
    // Credentials in the request URL become Authorization, never part of the target.
    client.get_text("http://Aladdin:open%20sesame@origin.example/x").unwrap();
    let s = seen.recv().unwrap();
    assert_eq!(s.target, "http://origin.example/x");
    assert_eq!(s.header("authorization"), Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
}

#[test]
fn pattern_priority_and_removal() {
    let (a, seen_a) = recording("A");
    let (b, _seen_b) = recording("B");
    let (origin, _seen_o) = recording("origin");
    let client = Client::new();
    let target = origin.url("/");
    assert_eq!(client.get_text(target.as_str()).unwrap(), "origin");

    client.add_proxy(ProxyPattern::Any, Proxy::new(&a.addr.to_string()).unwrap());
    assert_eq!(client.get_text(target.as_str()).unwrap(), "A");
    // Added later, so it wins where it matches.
    client.add_proxy("127.0.0.1", Proxy::new(&b.addr.to_string()).unwrap());
    assert_eq!(client.get_text(target.as_str()).unwrap(), "B");
    // Not where it does not.
    assert_eq!(client.get_text(format!("http://localhost:{}/", origin.addr.port())).unwrap(), "A");
    let re = http_client::Regex::new(r"^127\.0\.0\.\d+$").unwrap();
    client.add_proxy(re, Proxy::new(&a.addr.to_string()).unwrap());
    assert_eq!(client.get_text(target.as_str()).unwrap(), "A");
    client.add_proxy(false, Proxy::new(&b.addr.to_string()).unwrap());
    assert_eq!(client.get_text(target.as_str()).unwrap(), "A");

    client.remove_all_proxies();
    assert_eq!(client.get_text(target.as_str()).unwrap(), "origin");
    assert!(seen_a.try_iter().all(|s| s.target.starts_with("http://")));
}

#[test]
fn environment_proxies_and_no_proxy() {
    let (proxy, seen) = recording("env proxy");
    let (origin, _) = recording("origin");
    let env = |no_proxy: &'static str| {
        let p = proxy.addr.to_string();
        ProxyEnv::from_lookup(move |name| match name {
            "ALL_PROXY" => Some(format!("http://{p}")),
            "no_proxy" => Some(no_proxy.to_string()),
            _ => None,
        })
    };
    let client = Client::builder().proxy_env(env("localhost,.example.org")).build().unwrap();
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "env proxy");
    assert!(seen.recv().unwrap().target.starts_with("http://127.0.0.1:"));
    assert_eq!(client.get_text(format!("http://localhost:{}/", origin.addr.port())).unwrap(), "origin");

    let direct = Client::builder().proxy_env(env("127.0.0.1")).build().unwrap();
    assert_eq!(direct.get_text(origin.url("/")).unwrap(), "origin");

    // Under CGI, HTTP_PROXY may come from a request header and is ignored.
    let p = proxy.addr.to_string();
    let cgi = ProxyEnv::from_lookup(move |name| match name {
        "HTTP_PROXY" => Some(p.clone()),
        "REQUEST_METHOD" => Some("GET".into()),
        _ => None,
    });
    let client = Client::builder().proxy_env(cgi).build().unwrap();
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "origin");

    // Rules added with add_proxy win over the environment.
    let client = Client::builder().proxy_env(env("")).build().unwrap();
    client.add_proxy("127.0.0.1", Proxy::new(&origin.addr.to_string()).unwrap());
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "origin");
}

#[test]
fn an_unusable_proxy_setting_fails_closed() {
    let (origin, _) = recording("origin");
    for (name, value) in [
        ("all_proxy", "gopher://127.0.0.1:70"),
        ("http_proxy", "http://[::1"),
        ("HTTP_PROXY", "http://"),
        ("all_proxy", "socks7://127.0.0.1:1080"),
    ] {
        let env = ProxyEnv::from_lookup(move |n| (n == name).then(|| value.to_string()));
        let client = Client::builder().proxy_env(env).build().unwrap();
        let err = client.get_text(origin.url("/")).unwrap_err();
        assert!(matches!(err, Error::InvalidProxy(_)), "{name}={value}: {err}");
        assert!(err.to_string().starts_with(&format!("invalid proxy: {name} ")), "{err}");
    }
    // Nothing went out directly.
    assert_eq!(origin.accepted(), 0);
    // Hosts that no_proxy names are reached directly all the same.
    let env = ProxyEnv::from_lookup(|n| match n {
        "ALL_PROXY" => Some("gopher://127.0.0.1:70".into()),
        "NO_PROXY" => Some("127.0.0.0/8".into()),
        _ => None,
    });
    let client = Client::builder().proxy_env(env).build().unwrap();
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "origin");
}

#[test]
fn refused_tunnel_is_a_proxy_error() {
    let refusing = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&refusing.addr.to_string()).unwrap());
    let err = client.get_text("https://example.com/").unwrap_err();
    assert!(matches!(err, Error::ProxyConnect { status: 403, .. }), "{err}");
}

#[test]
fn a_proxy_refusal_during_a_large_upload_is_the_proxy_answer() {
    let Some(proxy) = Tinyproxy::start(Some(("alice", "s3cret"))) else { return };
    let (origin, _seen) = recording("never reached");
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    for body in [vec![b'u'; 8 << 20], vec![b'u'; 100]] {
        let len = body.len();
        let start = Instant::now();
        let req = http_client::Request::new(http_client::Method::Post, origin.url("/upload")).with_body(body);
        let err = client.send(req).unwrap_err();
        let Error::ProxyAuthRequired { proxy: ref addr, ref body, .. } = err else {
            panic!("{len} bytes: {err:?}")
        };
        assert_eq!(addr, &format!("127.0.0.1:{}", proxy.port));
        // The proxy's own page comes with the error. (After a large upload tinyproxy closes
        // with the body unread, and the reset that this sends may discard its page before it
        // leaves: then only the head arrives.)
        if len < 1024 {
            assert!(String::from_utf8_lossy(body).contains("407"), "{len}: {err:?}");
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }
}

#[test]
fn a_dead_proxy_is_named_as_the_proxy_with_the_reason() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&format!("127.0.0.1:{port}")).unwrap());
    for url in ["http://example.com/", "https://example.com/"] {
        let err = client.get_text(url).unwrap_err();
        assert!(matches!(err, Error::Connect { proxy: true, .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("proxy at 127.0.0.1:{port}")), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}

#[test]
fn a_tunnel_refused_with_407_keeps_the_proxy_answer() {
    let refusing = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\
                  Content-Length: 12\r\n\r\nwho are you?",
            );
        }
    });
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&refusing.addr.to_string()).unwrap());
    let err = client.get_text("https://example.com/").unwrap_err();
    let Error::ProxyAuthRequired { ref headers, ref body, .. } = err else { panic!("{err:?}") };
    assert_eq!(headers.get("proxy-authenticate"), Some("Basic realm=\"corp\""));
    assert_eq!(body, b"who are you?");
    assert!(err.to_string().contains("407"), "{err}");
}

#[test]
fn an_early_answer_through_a_tinyproxy_tunnel() {
    let Some(proxy) = Tinyproxy::start(None) else { return };
    let ca = TestCa::new("tunnel early CA");
    let answer: &[u8] = b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\n\r\ntoo large";
    let (port, server) =
        early_answer_server(server_config(&ca.issue(&["localhost"]), None), answer, vec![false]);
    let client = ca.client_builder().write_timeout(Duration::from_secs(20)).build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    let start = Instant::now();
    let body = http_client::Body::from(vec![b'u'; 64 << 20]);
    let url = format!("https://localhost:{port}/upload");
    let resp =
        client.send(http_client::Request::new(http_client::Method::Post, url).with_body(body)).unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.text().unwrap(), "too large");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    server.join().unwrap();
}

#[test]
fn a_proxy_403_during_a_large_upload_is_the_answer() {
    // tinyproxy refuses clients its ACL does not allow with a 403 of its own.
    let Some(proxy) = Tinyproxy::start_allowing(None, "192.0.2.1") else { return };
    let (origin, _seen) = recording("never reached");
    let client = Client::builder().write_timeout(Duration::from_secs(20)).build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    for len in [8 << 20, 100] {
        let start = Instant::now();
        let req = http_client::Request::new(http_client::Method::Post, origin.url("/upload"))
            .with_body(vec![b'u'; len]);
        let resp = client.send(req).unwrap_or_else(|e| panic!("{len} bytes: {e:?}"));
        assert_eq!(resp.status(), 403, "{len} bytes");
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }
}

/// HAProxy on a free loopback port, terminating TLS with `cert` (certificate and key as PEM)
/// and passing the bytes inside to `backend`: an HTTPS proxy when the backend is tinyproxy.
/// Killed on drop.
struct TlsFront {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl TlsFront {
    fn start(test: &str, cert_and_key: &str, backend: u16) -> Option<TlsFront> {
        let program = programs::require(test, "haproxy", "apt-get install haproxy")?;
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("http-client-haproxy-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("proxy.pem");
        std::fs::write(&pem, cert_and_key).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cfg = format!(
            "global\n    maxconn 200\ndefaults\n    mode tcp\n    timeout connect 5s\n    \
             timeout client 30s\n    timeout server 30s\nfrontend tls\n    \
             bind 127.0.0.1:{port} ssl crt {pem}\n    default_backend plain\nbackend plain\n    \
             server tinyproxy 127.0.0.1:{backend}\n",
            pem = pem.display()
        );
        let cfg_path = dir.join("haproxy.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let child = std::process::Command::new(program)
            .arg("-db")
            .arg("-f")
            .arg(&cfg_path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start haproxy");
        let front = TlsFront { child, port, dir };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(5), "haproxy did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(front)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_https_proxy_speaks_tls_with_the_client() {
    const TEST: &str = "an_https_proxy_speaks_tls_with_the_client";
    let Some(tinyproxy) = Tinyproxy::start(Some(("alice", "s3cret"))) else { return };
    let ca = TestCa::new("https proxy CA");
    let leaf = ca.issue(&["localhost"]);
    let Some(front) = TlsFront::start(TEST, &format!("{}{}", leaf.cert_pem, leaf.key_pem), tinyproxy.port)
    else {
        return;
    };
    let (origin, seen) = recording("plain origin");
    let tls_origin = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO_TLS);
    let proxy_url = format!("https://alice:s3cret@localhost:{}", front.port);
    let client = ca.client_builder().build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy_url).unwrap());
    for _ in 0..2 {
        // http: absolute form, inside TLS to the proxy (credentials never in the clear).
        assert_eq!(client.get_text(origin.url("/page")).unwrap(), "plain origin");
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap().target, "/page");
        // https: CONNECT inside TLS to the proxy, then TLS with the server inside that.
        let url = format!("https://localhost:{}/", tls_origin.addr.port());
        assert_eq!(client.get_text(url.as_str()).unwrap(), "secret");
    }
    // The tunnel was kept in the pool: one TLS connection to the server for both requests.
    assert_eq!(tls_origin.accepted(), 1);

    // From the environment too.
    let env = ProxyEnv::from_lookup(move |n| (n == "https_proxy").then(|| proxy_url.clone()));
    let client = ca.client_builder().proxy_env(env).build().unwrap();
    let url = format!("https://localhost:{}/", tls_origin.addr.port());
    assert_eq!(client.get_text(url.as_str()).unwrap(), "secret");

    // A proxy whose certificate the client does not trust is an error, not a way around it.
    let stranger = TestCa::new("another CA").client_builder().build().unwrap();
    stranger.add_proxy(ProxyPattern::Any, Proxy::new(&format!("https://localhost:{}", front.port)).unwrap());
    let err = stranger.get_text(origin.url("/")).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}
