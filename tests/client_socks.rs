//! SOCKS proxies (`socks5`, `socks5h`, `socks4`, `socks4a`), for `http` and `https` targets:
//! against a SOCKS server written here over raw sockets (which logs what it was asked, so
//! the tests can tell a name looked up by the proxy from an address looked up here), and
//! against Python's `pproxy` as a real peer.

mod client_common;
mod programs;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_common::tls::{server_config, TestCa, TlsServer};
use client_common::{RawServer, Seen};
use http_client::{Client, Error, Proxy, ProxyEnv, ProxyPattern};

/// What a client asked the SOCKS server for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    /// A name, for the proxy to look up.
    Name(String, u16),
    /// An address the client looked up itself.
    Addr(SocketAddr),
}

/// Which protocol and which credentials the server accepts.
#[derive(Clone)]
struct Rules {
    /// SOCKS5 user name and password the server insists on.
    login: Option<(String, String)>,
    /// Names the server resolves (only these: a name the client should have looked up itself
    /// fails here).
    names: HashMap<String, SocketAddr>,
}

/// A SOCKS4/4a/5 server on 127.0.0.1 that serves one tunnel per connection.
struct SocksServer {
    addr: SocketAddr,
    asked: mpsc::Receiver<Asked>,
}

impl SocksServer {
    fn start(rules: Rules) -> SocksServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        let tx = Arc::new(Mutex::new(tx));
        std::thread::spawn(move || {
            // Bounded: no test opens more connections than this.
            for _ in 0..50 {
                let Ok((client, _)) = listener.accept() else { return };
                let (rules, tx) = (rules.clone(), tx.clone());
                std::thread::spawn(move || {
                    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let _ = serve(client, &rules, &tx);
                });
            }
        });
        SocksServer { addr, asked: rx }
    }

    fn url(&self, scheme: &str, login: Option<&str>) -> String {
        match login {
            Some(l) => format!("{scheme}://{l}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }

    fn next(&self) -> Asked {
        self.asked.recv_timeout(Duration::from_secs(10)).expect("the SOCKS server was asked nothing")
    }
}

fn read_n(s: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads bytes up to a NUL (at most 300).
fn read_cstr(s: &mut TcpStream) -> std::io::Result<String> {
    let mut out = Vec::new();
    for _ in 0..300 {
        let b = read_n(s, 1)?[0];
        if b == 0 {
            return Ok(String::from_utf8_lossy(&out).into_owned());
        }
        out.push(b);
    }
    Err(std::io::Error::other("no NUL"))
}

fn serve(mut c: TcpStream, rules: &Rules, log: &Mutex<mpsc::Sender<Asked>>) -> std::io::Result<()> {
    let version = read_n(&mut c, 1)?[0];
    let (asked, v5) = if version == 5 {
        let n = read_n(&mut c, 1)?[0];
        let methods = read_n(&mut c, usize::from(n))?;
        match &rules.login {
            Some((user, pass)) => {
                if !methods.contains(&2) {
                    return c.write_all(&[5, 255]);
                }
                c.write_all(&[5, 2])?;
                let head = read_n(&mut c, 2)?;
                let u = read_n(&mut c, usize::from(head[1]))?;
                let plen = read_n(&mut c, 1)?[0];
                let p = read_n(&mut c, usize::from(plen))?;
                if head[0] != 1 || u != user.as_bytes() || p != pass.as_bytes() {
                    return c.write_all(&[1, 1]);
                }
                c.write_all(&[1, 0])?;
            }
            None => {
                if !methods.contains(&0) {
                    return c.write_all(&[5, 255]);
                }
                c.write_all(&[5, 0])?;
            }
        }
        let req = read_n(&mut c, 4)?;
        assert_eq!(&req[..3], &[5, 1, 0]);
        let asked = match req[3] {
            1 => {
                let a = read_n(&mut c, 6)?;
                let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
                Asked::Addr(SocketAddr::from((ip, u16::from_be_bytes([a[4], a[5]]))))
            }
            4 => {
                let a = read_n(&mut c, 18)?;
                let ip = Ipv6Addr::from(<[u8; 16]>::try_from(&a[..16]).unwrap());
                Asked::Addr(SocketAddr::from((ip, u16::from_be_bytes([a[16], a[17]]))))
            }
            3 => {
                let len = read_n(&mut c, 1)?[0];
                let name = String::from_utf8_lossy(&read_n(&mut c, usize::from(len))?).into_owned();
                let p = read_n(&mut c, 2)?;
                Asked::Name(name, u16::from_be_bytes([p[0], p[1]]))
            }
            _ => return c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
        };
        (asked, true)
    } else {
        assert_eq!(version, 4);
        let req = read_n(&mut c, 7)?;
        assert_eq!(req[0], 1);
        let port = u16::from_be_bytes([req[1], req[2]]);
        let ip = Ipv4Addr::new(req[3], req[4], req[5], req[6]);
        let _user = read_cstr(&mut c)?;
        let asked = if ip.octets()[..3] == [0, 0, 0] && ip.octets()[3] != 0 {
            Asked::Name(read_cstr(&mut c)?, port)
        } else {
            Asked::Addr(SocketAddr::from((ip, port)))
        };
        (asked, false)
    };
    let _ = log.lock().unwrap().send(asked.clone());
    let to = match &asked {
        Asked::Addr(a) => Some(*a),
        Asked::Name(n, p) => rules.names.get(n).map(|a| SocketAddr::new(a.ip(), *p)),
    };
    let target = to.and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)).ok());
    let Some(target) = target else {
        // Host unreachable / rejected.
        return if v5 {
            c.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0])
        } else {
            c.write_all(&[0, 91, 0, 0, 0, 0, 0, 0])
        };
    };
    if v5 {
        // Bound to a name, to exercise the reply's variable-length form.
        c.write_all(&[5, 0, 0, 3, 5, b'p', b'r', b'o', b'x', b'y', 0x1f, 0x90])?;
    } else {
        c.write_all(&[0, 90, 0, 0, 0, 0, 0, 0])?;
    }
    relay(c, target);
    Ok(())
}

/// Copies both ways until either side closes.
fn relay(client: TcpStream, target: TcpStream) {
    target.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut c_in, mut t_out) = (client.try_clone().unwrap(), target.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_in, &mut t_out);
        let _ = t_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut t_in, mut c_out) = (target, client);
    let _ = std::io::copy(&mut t_in, &mut c_out);
    let _ = c_out.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

/// An origin that logs every request and answers `hello`.
fn origin() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let _ = tx.lock().unwrap().send(seen);
            if !peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") {
                break;
            }
        }
    });
    (server, rx)
}

fn no_login_knowing(names: &[(&str, SocketAddr)]) -> Rules {
    Rules { login: None, names: names.iter().map(|(n, a)| (n.to_string(), *a)).collect() }
}

fn through(proxy: &str) -> Client {
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(proxy).unwrap());
    client
}

#[test]
fn socks5h_hands_the_name_to_the_proxy() {
    let (origin, seen) = origin();
    // A name that only the proxy can resolve: looking it up here would fail.
    let socks = SocksServer::start(no_login_knowing(&[("origin.invalid", origin.addr)]));
    let client = through(&socks.url("socks5h", None));
    let url = format!("http://origin.invalid:{}/page?q=1", origin.addr.port());
    for _ in 0..2 {
        assert_eq!(client.get_text(url.as_str()).unwrap(), "hello");
        let s = seen.recv_timeout(Duration::from_secs(10)).unwrap();
        // Origin form, as to a server: the proxy is only a tunnel.
        assert_eq!(s.target, "/page?q=1");
        assert_eq!(s.header("host"), Some(format!("origin.invalid:{}", origin.addr.port()).as_str()));
        assert_eq!(s.header("proxy-authorization"), None);
    }
    assert_eq!(socks.next(), Asked::Name("origin.invalid".into(), origin.addr.port()));
    // The second request reused the tunnel.
    assert!(socks.asked.try_recv().is_err());
    assert_eq!(origin.accepted(), 1);
}

#[test]
fn socks5_looks_the_name_up_here() {
    let (origin, _seen) = origin();
    let socks = SocksServer::start(no_login_knowing(&[]));
    let client = through(&socks.url("socks5", None));
    let url = format!("http://localhost:{}/", origin.addr.port());
    assert_eq!(client.get_text(url.as_str()).unwrap(), "hello");
    match socks.next() {
        Asked::Addr(a) => assert!(a.ip().is_loopback() && a.port() == origin.addr.port(), "{a}"),
        other => panic!("the name went to the proxy: {other:?}"),
    }
}

#[test]
fn socks4a_and_socks4() {
    let (origin, _seen) = origin();
    let socks = SocksServer::start(no_login_knowing(&[("origin.invalid", origin.addr)]));
    let client = through(&socks.url("socks4a", Some("someone")));
    let url = format!("http://origin.invalid:{}/", origin.addr.port());
    assert_eq!(client.get_text(url.as_str()).unwrap(), "hello");
    assert_eq!(socks.next(), Asked::Name("origin.invalid".into(), origin.addr.port()));
    let client = through(&socks.url("socks4", None));
    assert_eq!(client.get_text(origin.url("/")).unwrap(), "hello");
    assert_eq!(socks.next(), Asked::Addr(origin.addr));
    // A name the proxy cannot resolve: its rejection (reply 91).
    let err = through(&socks.url("socks4a", None)).get_text("http://missing.invalid/").unwrap_err();
    assert!(matches!(err, Error::Socks { .. }), "{err}");
}

#[test]
fn socks5_with_a_user_name_and_password() {
    let (origin, _seen) = origin();
    let rules = Rules {
        login: Some(("alice".into(), "s3cret pw".into())),
        names: [("origin.invalid".to_string(), origin.addr)].into(),
    };
    let socks = SocksServer::start(rules);
    let url = format!("http://origin.invalid:{}/", origin.addr.port());
    let good = through(&socks.url("socks5h", Some("alice:s3cret%20pw")));
    assert_eq!(good.get_text(url.as_str()).unwrap(), "hello");
    let wrong = through(&socks.url("socks5h", Some("alice:nope")));
    let err = wrong.get_text(url.as_str()).unwrap_err();
    assert!(matches!(err, Error::Socks { .. }), "{err}");
    assert!(err.to_string().contains("user name and password"), "{err}");
    assert!(!err.to_string().contains("nope"), "{err}");
    let none = through(&socks.url("socks5h", None));
    let err = none.get_text(url.as_str()).unwrap_err();
    assert!(matches!(err, Error::Socks { .. }), "{err}");
}

#[test]
fn https_through_socks5h() {
    let ca = TestCa::new("socks test CA");
    let tls = TlsServer::start(
        server_config(&ca.issue(&["origin.invalid"]), None),
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
    );
    let socks = SocksServer::start(no_login_knowing(&[("origin.invalid", tls.addr)]));
    let client = ca.client_builder().build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&socks.url("socks5h", None)).unwrap());
    let url = format!("https://origin.invalid:{}/", tls.addr.port());
    assert_eq!(client.get_text(url.as_str()).unwrap(), "secret");
    assert_eq!(socks.next(), Asked::Name("origin.invalid".into(), tls.addr.port()));
    assert_eq!(tls.next_sni().as_deref(), Some("origin.invalid"));
}

#[test]
fn a_refusal_from_the_proxy_is_an_error_that_says_so() {
    let socks = SocksServer::start(no_login_knowing(&[]));
    let client = through(&socks.url("socks5h", None));
    let err = client.get_text("http://unknown.invalid/").unwrap_err();
    assert!(matches!(err, Error::Socks { .. }), "{err}");
    assert!(err.to_string().contains("host unreachable"), "{err}");
    assert!(err.is_connect());
    // A proxy that is not there: a connect error naming the proxy.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err = through(&format!("socks5h://{dead}")).get_text("http://unknown.invalid/").unwrap_err();
    assert!(matches!(err, Error::Connect { proxy: true, .. }), "{err}");
    // A server that is not a SOCKS proxy: it answers in HTTP at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let not_socks = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        let _ = c.read(&mut [0u8; 64]);
    });
    let err = through(&format!("socks5://{not_socks}")).get_text("http://127.0.0.1:9/").unwrap_err();
    assert!(matches!(err, Error::Socks { ref message, .. } if message.contains("SOCKS5")), "{err}");
    server.join().unwrap();
}

#[test]
fn all_proxy_from_the_environment_can_be_socks() {
    let (origin, _seen) = origin();
    let socks = SocksServer::start(no_login_knowing(&[("origin.invalid", origin.addr)]));
    let url = socks.url("socks5h", None);
    let env = ProxyEnv::from_lookup(move |n| (n == "ALL_PROXY").then(|| url.clone()));
    let client = Client::builder().proxy_env(env).build().unwrap();
    let target = format!("http://origin.invalid:{}/", origin.addr.port());
    assert_eq!(client.get_text(target.as_str()).unwrap(), "hello");
    assert_eq!(socks.next(), Asked::Name("origin.invalid".into(), origin.addr.port()));
}

/// Python's pproxy listening for SOCKS5 on a free port, killed on drop.
struct Pproxy {
    child: Child,
    port: u16,
}

impl Pproxy {
    /// Starts pproxy, or returns `None` when it is not installed (the rule of
    /// `tests/programs`: a loud line, or a failure in CI).
    fn start(login: Option<&str>) -> Option<Pproxy> {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = match login {
            Some(l) => format!("socks5://127.0.0.1:{port}#{l}"),
            None => format!("socks5://127.0.0.1:{port}"),
        };
        let pproxy = programs::require("client_socks (pproxy)", "pproxy", "pip install pproxy")?;
        let child = Command::new(pproxy)
            .args(["-l", &listen, "--auth", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pproxy starts");
        let proxy = Pproxy { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "pproxy did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }
}

impl Drop for Pproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn through_pproxy_with_and_without_a_login() {
    let (origin, seen) = origin();
    let ca = TestCa::new("pproxy test CA");
    let tls = TlsServer::start(
        server_config(&ca.issue(&["localhost"]), None),
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
    );
    for login in [None, Some("alice:s3cret")] {
        let Some(pproxy) = Pproxy::start(login) else { return };
        for scheme in ["socks5", "socks5h"] {
            let proxy = match login {
                Some(l) => format!("{scheme}://{l}@127.0.0.1:{}", pproxy.port),
                None => format!("{scheme}://127.0.0.1:{}", pproxy.port),
            };
            let client = ca.client_builder().build().unwrap();
            client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy).unwrap());
            let url = format!("http://localhost:{}/via/{scheme}", origin.addr.port());
            assert_eq!(client.get_text(url.as_str()).unwrap(), "hello", "{proxy}");
            assert_eq!(seen.recv_timeout(Duration::from_secs(10)).unwrap().target, format!("/via/{scheme}"));
            let url = format!("https://localhost:{}/", tls.addr.port());
            assert_eq!(client.get_text(url.as_str()).unwrap(), "secret", "{proxy}");
        }
        if login.is_some() {
            let wrong = format!("socks5h://alice:wrong@127.0.0.1:{}", pproxy.port);
            let err = through(&wrong).get_text(origin.url("/")).unwrap_err();
            assert!(matches!(err, Error::Socks { .. }), "{err:?}");
        }
    }
}
