//! The client's WebSockets against real servers over loopback: Python's `websockets` (echo
//! from 1 byte to 16 MiB, fragments, pings, close codes both ways, permessage-deflate with and
//! without context takeover, subprotocols), tungstenite in a thread (plain and over TLS, one
//! thread reading while another writes), raw sockets for bad answers (masked frames, invalid
//! UTF-8, oversize messages, bad handshakes), and tinyproxy with CONNECT.

mod client_common;
mod programs;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use client_common::tls::{server_config, TestCa};
use http_client::websocket::{CloseFrame, DeflateConfig, HandshakeError, Limits, Message};
use http_client::{Client, Error, Proxy, ProxyPattern};
use http_toolkit::utils::websocket::{
    accept_key, encode_frame, Error as WsError, Limits as CodecLimits, MessageReader, Opcode, Role,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Python's `websockets` server (tests/websocket_server.py) on a free port, killed on drop.
struct PyServer {
    child: Child,
    port: u16,
    scheme: &'static str,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl PyServer {
    /// Starts the server in `mode` (`plain`, `deflate`, `deflate-nocontext`), over TLS with
    /// `tls` (certificate and key PEM); `None` (after a loud notice) without Python's
    /// `websockets`.
    fn start(test: &str, mode: &str, tls: Option<(&str, &str)>) -> Option<PyServer> {
        let python = programs::python_websockets(test, "websockets.sync.server")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/websocket_server.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg(mode);
        let dir = tls.map(|(cert, key)| {
            static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let dir = std::env::temp_dir().join(format!("client-websocket-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("cert.pem"), cert).unwrap();
            std::fs::write(dir.join("key.pem"), key).unwrap();
            cmd.arg(dir.join("cert.pem")).arg(dir.join("key.pem"));
            TempDir(dir)
        });
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("no port from the server: {line:?}"));
        Some(PyServer { child, port, scheme: if tls.is_some() { "wss" } else { "ws" }, _dir: dir })
    }

    fn url(&self, path: &str) -> String {
        let host = if self.scheme == "wss" { "localhost" } else { "127.0.0.1" };
        format!("{}://{host}:{}{path}", self.scheme, self.port)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(s: &str) -> Message {
    Message::Text(s.to_owned())
}

/// Bytes that compress somewhat (a repeating pattern with noise), `n` of them.
fn payload(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 7 == 0 {
                x as u8
            } else {
                b"abcdefgh"[i % 8]
            }
        })
        .collect()
}

fn echo_sizes(url: &str, deflate: bool) {
    let mut ws = Client::new().websocket(url).deflate(deflate).read_timeout(Some(TIMEOUT)).connect().unwrap();
    assert_eq!(ws.deflate().is_some(), deflate);
    for size in [1, 125, 126, 65_535, 65_536, 1 << 20, 16 << 20] {
        let data = payload(size);
        ws.send(Message::Binary(data.clone())).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Binary(data), "{size} bytes");
        let s: String = payload(size.min(1 << 20)).iter().map(|b| char::from(b % 94 + 32)).collect();
        ws.send(Message::Text(s.clone())).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Text(s), "{size} bytes of text");
    }
    assert_eq!(ws.close(1000, "done").unwrap(), Some(CloseFrame { code: 1000, reason: "done".into() }));
}

#[test]
fn python_echo_from_1_byte_to_16_mib() {
    let test = "python_echo_from_1_byte_to_16_mib";
    let Some(plain) = PyServer::start(test, "plain", None) else { return };
    echo_sizes(&plain.url("/echo"), false);
    let Some(deflate) = PyServer::start(test, "deflate", None) else { return };
    echo_sizes(&deflate.url("/echo"), true);
}

#[test]
fn python_fragments_pings_and_subprotocols() {
    let Some(server) = PyServer::start("python_fragments_pings_and_subprotocols", "deflate", None) else {
        return;
    };
    let client = Client::new();
    let mut ws = client.websocket(&server.url("/fragments")).read_timeout(Some(TIMEOUT)).connect().unwrap();
    assert_eq!(ws.recv().unwrap(), text("fragmented text ✓"));
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![0, 1, 2, 3]));
    // The server's ping is answered by the client on its own (and shown).
    let mut ws = client.websocket(&server.url("/ping")).read_timeout(Some(TIMEOUT)).connect().unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Ping(b"are you there".to_vec()));
    assert_eq!(ws.recv().unwrap(), text("pong received"));
    // The client's ping gets the server's pong.
    ws.send(Message::Ping(b"and you?".to_vec())).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Pong(b"and you?".to_vec()));
    // A control frame too long to send is refused before it goes out.
    let err = ws.send(Message::Ping(vec![0; 126])).unwrap_err();
    assert!(matches!(err, Error::WebSocket(WsError::ControlFrameTooLong)), "{err}");
    ws.send(text("still open")).unwrap();
    assert_eq!(ws.recv().unwrap(), text("still open"));
    // Subprotocols: the server picks "chat" of the two offered.
    let mut ws = client
        .websocket(&server.url("/protocol"))
        .protocol("superchat")
        .protocol("chat")
        .header("Origin", "http://example.test")
        .read_timeout(Some(TIMEOUT))
        .connect()
        .unwrap();
    assert_eq!(ws.protocol(), Some("chat"));
    assert_eq!(ws.recv().unwrap(), text("chat"));
    let mut ws = client.websocket(&server.url("/protocol")).read_timeout(Some(TIMEOUT)).connect().unwrap();
    assert_eq!(ws.protocol(), None);
    assert_eq!(ws.recv().unwrap(), text(""));
}

#[test]
fn python_close_codes_both_ways() {
    let Some(server) = PyServer::start("python_close_codes_both_ways", "plain", None) else { return };
    let client = Client::new();
    for code in [1000, 1001, 1011, 4000, 4999] {
        let mut ws = client
            .websocket(&server.url(&format!("/close/{code}")))
            .read_timeout(Some(TIMEOUT))
            .connect()
            .unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Close(Some(CloseFrame { code, reason: "bye".into() })));
        assert!(matches!(ws.recv(), Err(Error::WebSocketClosed)));
        assert!(matches!(ws.send(text("late")), Err(Error::WebSocketClosed)));
    }
    for code in [1000, 1003, 3000, 4002] {
        let ws = client.websocket(&server.url("/echo")).connect().unwrap();
        ws.send(text("before")).unwrap();
        // The echo of "before" is passed over while the close is answered; the server echoes
        // the code it received.
        let answer = ws.close(code, "client done").unwrap();
        assert_eq!(answer.map(|c| c.code), Some(code));
    }
    // A code that may not be sent is refused here.
    let ws = client.websocket(&server.url("/echo")).connect().unwrap();
    let err = ws.writer().close(1005, "").unwrap_err();
    assert!(matches!(err, Error::WebSocket(WsError::InvalidCloseCode)), "{err}");
}

#[test]
fn python_permessage_deflate_with_and_without_context_takeover() {
    let test = "python_permessage_deflate_with_and_without_context_takeover";
    let Some(server) = PyServer::start(test, "deflate", None) else { return };
    let Some(nocontext) = PyServer::start(test, "deflate-nocontext", None) else { return };
    let cases: [(&PyServer, DeflateConfig, bool, bool); 4] = [
        // Context takeover both ways; the server compresses with a 12-bit window.
        (&server, DeflateConfig::default(), false, false),
        // The client asks for no context takeover on its side, then on the server's too.
        (&server, DeflateConfig { no_context_takeover: true, ..DeflateConfig::default() }, true, false),
        (&server, DeflateConfig { peer_no_context_takeover: true, ..DeflateConfig::default() }, false, true),
        // The server wants none either way.
        (&nocontext, DeflateConfig::default(), true, true),
    ];
    for (server, config, client_reset, server_reset) in cases {
        let mut ws = Client::new()
            .websocket(&server.url("/extensions"))
            .deflate_config(config)
            .read_timeout(Some(TIMEOUT))
            .connect()
            .unwrap();
        let params = *ws.deflate().expect("permessage-deflate agreed");
        assert_eq!(
            (params.client_no_context_takeover, params.server_no_context_takeover),
            (client_reset, server_reset),
            "{config:?}"
        );
        let Message::Text(agreed) = ws.recv().unwrap() else { panic!("not text") };
        assert!(agreed.contains("\"name\": \"permessage-deflate\""), "{agreed}");
        assert!(
            agreed.contains(&format!("\"remote_no_context_takeover\": {}", py_bool(client_reset))),
            "{agreed}"
        );
        assert!(
            agreed.contains(&format!("\"local_no_context_takeover\": {}", py_bool(server_reset))),
            "{agreed}"
        );
        // Repeats (which context takeover shortens), empty messages and a large one.
        for m in ["repeat me, repeat me", "repeat me, repeat me", "", "ünïcødé ✓"] {
            ws.send(text(m)).unwrap();
            assert_eq!(ws.recv().unwrap(), text(m));
        }
        let big = payload(3 << 20);
        ws.send(Message::Binary(big.clone())).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Binary(big));
        ws.close(1000, "").unwrap();
    }
    // Compression off: nothing offered, nothing agreed.
    let mut ws = Client::new().websocket(&server.url("/extensions")).deflate(false).connect().unwrap();
    assert!(ws.deflate().is_none());
    assert_eq!(ws.recv_timeout(TIMEOUT).unwrap(), text("[]"));
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

#[test]
fn python_limits_apply_to_inflated_messages() {
    let Some(server) = PyServer::start("python_limits_apply_to_inflated_messages", "deflate", None) else {
        return;
    };
    let limits = Limits { max_frame: 1 << 20, max_message: 64 << 10 };
    let mut ws = Client::new()
        .websocket(&server.url("/echo"))
        .limits(limits)
        .read_timeout(Some(TIMEOUT))
        .connect()
        .unwrap();
    // 1 MiB of zeros: a few KiB on the wire, 1 MiB inflated.
    ws.send(Message::Binary(vec![0; 1 << 20])).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(matches!(err, Error::WebSocket(WsError::MessageTooLarge)), "{err}");
    assert!(matches!(ws.recv(), Err(Error::WebSocketClosed)));
}

#[test]
fn python_wss_with_a_self_signed_certificate() {
    let ca = TestCa::new("websocket test CA");
    let leaf = ca.issue(&["localhost"]);
    let Some(server) = PyServer::start(
        "python_wss_with_a_self_signed_certificate",
        "deflate",
        Some((&leaf.cert_pem, &leaf.key_pem)),
    ) else {
        return;
    };
    let client = ca.client_builder().build().unwrap();
    let mut ws = client.websocket(&server.url("/echo")).read_timeout(Some(TIMEOUT)).connect().unwrap();
    assert!(ws.deflate().is_some());
    let big = payload(2 << 20);
    ws.send(Message::Binary(big.clone())).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.close(1000, "").unwrap();
    // A client that does not trust the CA refuses the server.
    let err = Client::new().websocket(&server.url("/echo")).connect().unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}

/// A tungstenite echo server over any stream: every text and binary message is sent back.
fn tungstenite_echo<S: Read + Write>(stream: S) {
    let mut ws = tungstenite::accept(stream).expect("handshake");
    for _ in 0..100_000 {
        match ws.read() {
            Ok(m) if m.is_text() || m.is_binary() => {
                if ws.send(m).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// A tungstenite echo server for `connections` connections, on 127.0.0.1:0, optionally over
/// TLS.
fn tungstenite_server(connections: usize, tls: Option<Arc<rustls::ServerConfig>>) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let mut serving = Vec::new();
        for _ in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
            let tls = tls.clone();
            serving.push(thread::spawn(move || match tls {
                None => tungstenite_echo(tcp),
                Some(config) => {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    tungstenite_echo(rustls::StreamOwned::new(conn, tcp));
                }
            }));
        }
        for s in serving {
            s.join().unwrap();
        }
    });
    (port, handle)
}

/// One thread reads while another writes, through the split halves.
fn split_round_trip(mut ws: http_client::WebSocket) {
    ws.send(text("first")).unwrap();
    assert_eq!(ws.recv().unwrap(), text("first"));
    let (mut reader, writer) = ws.split();
    const N: usize = 300;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let writer = writer.clone();
            thread::spawn(move || {
                for i in 0..N / 3 {
                    writer
                        .send(Message::Binary(format!("{w}:{i}:{}", "x".repeat(i * 50)).into_bytes()))
                        .unwrap();
                }
            })
        })
        .collect();
    let mut seen = [0usize; 3];
    for _ in 0..N {
        let Message::Binary(b) = reader.recv_timeout(TIMEOUT).unwrap() else { panic!("not binary") };
        let s = String::from_utf8(b).unwrap();
        let mut parts = s.splitn(3, ':');
        let (w, i): (usize, usize) =
            (parts.next().unwrap().parse().unwrap(), parts.next().unwrap().parse().unwrap());
        // Each writer's messages arrive whole and in its order.
        assert_eq!(i, seen[w], "{s}");
        seen[w] += 1;
    }
    for w in writers {
        w.join().unwrap();
    }
    writer.close(1000, "bye").unwrap();
    assert!(matches!(writer.send(text("late")), Err(Error::WebSocketClosed)));
    assert_eq!(
        reader.recv_timeout(TIMEOUT).unwrap(),
        Message::Close(Some(CloseFrame { code: 1000, reason: "bye".into() }))
    );
    assert!(reader.is_closed());
}

#[test]
fn tungstenite_server_split_halves_and_timeouts() {
    let (port, server) = tungstenite_server(2, None);
    let client = Client::new();
    let url = format!("ws://127.0.0.1:{port}/");
    let mut ws = client.websocket(&url).connect().unwrap();
    assert!(ws.deflate().is_none(), "tungstenite has no permessage-deflate");
    // Nothing to read: a timeout, and the socket stays usable.
    let start = Instant::now();
    let err = ws.recv_timeout(Duration::from_millis(100)).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
    ws.send(text("after the timeout")).unwrap();
    assert_eq!(ws.recv_timeout(TIMEOUT).unwrap(), text("after the timeout"));
    ws.close(1000, "").unwrap();
    split_round_trip(client.websocket(&url).connect().unwrap());
    server.join().unwrap();
}

#[test]
fn tungstenite_server_over_tls() {
    let ca = TestCa::new("websocket test CA");
    let leaf = ca.issue(&["localhost"]);
    let (port, server) = tungstenite_server(2, Some(server_config(&leaf, None)));
    let client = ca.client_builder().build().unwrap();
    let url = format!("wss://localhost:{port}/");
    let mut ws = client.websocket(&url).read_timeout(Some(TIMEOUT)).connect().unwrap();
    for size in [1, 70_000, 4 << 20] {
        let data = payload(size);
        ws.send(Message::Binary(data.clone())).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Binary(data));
    }
    ws.close(1000, "").unwrap();
    split_round_trip(client.websocket(&url).connect().unwrap());
    server.join().unwrap();
}

/// A raw server for one connection: reads the handshake request, writes `answer(key)`, then
/// collects what the client sends until it closes. Returns the URL and the collected bytes.
fn raw_server(answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static) -> (String, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://127.0.0.1:{}/raw", listener.local_addr().unwrap().port());
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut reader = BufReader::new(tcp.try_clone().unwrap());
        let mut key = String::new();
        for _ in 0..100 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("sec-websocket-key") {
                    key = value.trim().to_owned();
                }
            }
            if line == "\r\n" {
                break;
            }
        }
        (&tcp).write_all(&answer(&key)).unwrap();
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        rest
    });
    (url, handle)
}

fn switching(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )
}

/// The close code in the client's frames (read as a server reads them).
fn client_close_code(wire: &[u8]) -> Option<u16> {
    let mut reader = MessageReader::new(Role::Server, CodecLimits::default());
    let mut pos = 0;
    for _ in 0..100 {
        match reader.read(&wire[pos..]) {
            Ok((_, Some(Message::Close(c)))) => return c.map(|c| c.code),
            Ok((used, _)) if used > 0 => pos += used,
            _ => return None,
        }
    }
    None
}

#[test]
fn bad_frames_from_a_server_fail_with_the_right_close_code() {
    let frame = |fin, opcode, payload: &[u8], mask| {
        let mut out = Vec::new();
        encode_frame(fin, opcode, payload, mask, &mut out).unwrap();
        out
    };
    let cases: Vec<(Vec<u8>, WsError, u16)> = vec![
        (frame(true, Opcode::Text, b"hi", Some([1, 2, 3, 4])), WsError::MaskedFrame, 1002),
        (frame(true, Opcode::Text, &[b'a', 0xff], None), WsError::InvalidUtf8, 1007),
        (frame(true, Opcode::Binary, &[0; 2000], None), WsError::MessageTooLarge, 1009),
        (frame(true, Opcode::Continuation, b"x", None), WsError::UnexpectedContinuation, 1002),
        ([0x83, 0x00].to_vec(), WsError::ReservedOpcode, 1002),
        // RSV1 without permessage-deflate agreed.
        ([0xc1, 0x01, b'a'].to_vec(), WsError::ReservedBits, 1002),
    ];
    for (bad, want, code) in cases {
        let (url, server) = raw_server(move |key| {
            let mut out = switching(key).into_bytes();
            out.extend(bad);
            out
        });
        let limits = Limits { max_frame: 1 << 20, max_message: 1000 };
        let mut ws = Client::new()
            .websocket(&url)
            .deflate(false)
            .limits(limits)
            .read_timeout(Some(TIMEOUT))
            .connect()
            .unwrap();
        let err = ws.recv().unwrap_err();
        assert!(matches!(err, Error::WebSocket(e) if e == want), "{err} (wanted {want})");
        assert!(matches!(ws.recv(), Err(Error::WebSocketClosed)));
        // The client said why before it closed.
        assert_eq!(client_close_code(&server.join().unwrap()), Some(code), "{want}");
    }
}

#[test]
fn bad_handshake_answers_are_errors() {
    type Answer = fn(&str) -> Vec<u8>;
    let cases: Vec<(Answer, HandshakeError, u16)> = vec![
        (|_| b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno".to_vec(), HandshakeError::NotSwitching, 200),
        (
            |_| {
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n".to_vec()
            },
            HandshakeError::InvalidAccept,
            101,
        ),
        (
            |key| switching(key).replace("Upgrade: websocket\r\n", "").into_bytes(),
            HandshakeError::MissingUpgrade,
            101,
        ),
        (
            |key| switching(key).replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n").into_bytes(),
            HandshakeError::UnofferedProtocol,
            101,
        ),
        (
            |key| {
                switching(key)
                    .replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: x-other\r\n\r\n")
                    .into_bytes()
            },
            HandshakeError::UnofferedExtension,
            101,
        ),
        (
            |key| {
                let ext =
                    "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n\r\n";
                switching(key).replace("\r\n\r\n", ext).into_bytes()
            },
            HandshakeError::InvalidExtension,
            101,
        ),
    ];
    for (answer, want, status) in cases {
        let (url, server) = raw_server(answer);
        let err = Client::new().websocket(&url).connect().unwrap_err();
        match &err {
            Error::WebSocketHandshake { status: s, error } => {
                assert_eq!((*s, *error), (status, want), "{err}")
            }
            other => panic!("{other} (wanted {want})"),
        }
        assert_eq!(err.status(), Some(status));
        drop(server.join());
    }
    let err = Client::new().websocket("ftp://127.0.0.1/").connect().unwrap_err();
    assert!(matches!(err, Error::UnsupportedScheme(_)), "{err}");
}

/// A tinyproxy in the foreground on a free loopback port, killed on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Tinyproxy {
    fn start(test: &str) -> Option<Tinyproxy> {
        let program = programs::require(test, "tinyproxy", "apt-get install tinyproxy")?;
        let dir = std::env::temp_dir().join(format!("client-websocket-tinyproxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
             LogFile \"{log}\"\nLogLevel Info\nPidFile \"{pid}\"\n",
            log = dir.join("log").display(),
            pid = dir.join("pid").display(),
        );
        std::fs::write(dir.join("tinyproxy.conf"), conf).unwrap();
        let child = Command::new(program)
            .arg("-d")
            .arg("-c")
            .arg(dir.join("tinyproxy.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let proxy = Tinyproxy { child, port, dir: TempDir(dir) };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(5), "tinyproxy did not start listening");
            thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn through_tinyproxy_with_connect() {
    let Some(proxy) = Tinyproxy::start("through_tinyproxy_with_connect") else { return };
    let (port, server) = tungstenite_server(1, None);
    let client = Client::new();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&format!("http://127.0.0.1:{}", proxy.port)).unwrap());
    let mut ws = client
        .websocket(&format!("ws://127.0.0.1:{port}/via-proxy"))
        .read_timeout(Some(TIMEOUT))
        .connect()
        .unwrap();
    let data = payload(1 << 20);
    ws.send(Message::Binary(data.clone())).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(data));
    ws.close(1000, "").unwrap();
    server.join().unwrap();
    let log = std::fs::read_to_string(proxy.dir.0.join("log")).unwrap_or_default();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{port}")) || log.contains("CONNECT"), "{log}");
}
