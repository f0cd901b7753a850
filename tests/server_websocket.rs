//! WebSockets held by the server's engine (`Context::websocket`), over loopback: tungstenite
//! as a well-behaved client, raw sockets for what a client should not do (unmasked frames,
//! bad UTF-8, oversize messages, silence), and many sockets at once (a broadcast, a
//! shutdown), and permessage-deflate with our client and Python's `websockets`.

mod programs;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_toolkit::server::{
    CloseFrame, Message, Server, ServerBuilder, ServerHandle, StreamError, WebSocket, WebSocketHandler,
    WebSocketHub, WebSocketOptions,
};
use http_toolkit::utils::websocket::{
    encode_close, encode_frame, Limits, Message as Msg, MessageReader, Opcode, Role,
};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message as TMessage;

const STEP: Duration = Duration::from_secs(10);

fn start(
    configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    install: impl FnOnce(&Server),
) -> (ServerHandle, u16) {
    let server = configure(Server::builder().port(0).bind("127.0.0.1")).build().expect("bind");
    install(&server);
    let handle = server.spawn().expect("spawn");
    let port = handle.local_addr().port().expect("a TCP port");
    (handle, port)
}

fn echo_server(options: WebSocketOptions) -> (ServerHandle, u16) {
    start(
        |b| b,
        move |s| {
            s.add_context_resource("/echo", move |cx| {
                cx.websocket_with(options.clone(), |ws: &WebSocket, m: Message| {
                    let _ = ws.send(m);
                })
            });
        },
    )
}

type Tung = tungstenite::WebSocket<TcpStream>;

fn tung(port: u16, path: &str) -> Tung {
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(STEP)).unwrap();
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (ws, resp) =
        tungstenite::client::client_with_config(format!("ws://127.0.0.1:{port}{path}"), sock, Some(config))
            .expect("the handshake");
    assert_eq!(resp.status().as_u16(), 101);
    ws
}

/// A raw client: the handshake by hand, frames written and read with the codec.
struct Raw {
    sock: TcpStream,
    reader: MessageReader,
    pending: Vec<u8>,
}

impl Raw {
    fn open(port: u16, path: &str, extra: &str) -> Raw {
        let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(STEP)).unwrap();
        write!(
            sock,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(sock.read(&mut byte).unwrap(), 1, "closed in the handshake: {head:?}");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        Raw { sock, reader: MessageReader::new(Role::Client, Limits::default()), pending: Vec::new() }
    }

    fn frame(&mut self, fin: bool, opcode: Opcode, payload: &[u8]) {
        let mut out = Vec::new();
        encode_frame(fin, opcode, payload, Some([1, 2, 3, 4]), &mut out).unwrap();
        self.sock.write_all(&out).unwrap();
    }

    fn bytes(&mut self, raw: &[u8]) {
        self.sock.write_all(raw).unwrap();
    }

    /// The next message from the server; `None` once it closed the connection.
    fn next(&mut self) -> Option<Msg> {
        let mut chunk = [0u8; 16 * 1024];
        for _ in 0..10_000 {
            match self.reader.read(&self.pending).expect("a valid frame from the server") {
                (used, Some(m)) => {
                    self.pending.drain(..used);
                    return Some(m);
                }
                (used, None) => {
                    self.pending.drain(..used);
                }
            }
            match self.sock.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            }
        }
        panic!("no message after 10,000 reads");
    }

    /// The close frame the server sent, skipping what came before it.
    fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.next() {
                Some(Msg::Close(c)) => return c.map(|c| c.code),
                Some(_) => {}
                None => panic!("closed without a close frame"),
            }
        }
    }

    /// True once the server closed the connection (within `STEP`).
    fn closed(&mut self) -> bool {
        let started = Instant::now();
        let mut chunk = [0u8; 4096];
        while started.elapsed() < STEP {
            match self.sock.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
        false
    }
}

#[test]
fn echo_of_text_and_binary_from_one_byte_to_16_mib() {
    let (handle, port) = echo_server(WebSocketOptions::new().max_message(16 << 20));
    let mut ws = tung(port, "/echo");
    for (i, len) in [1usize, 125, 126, 65_535, 65_536, 1 << 20, 16 << 20].into_iter().enumerate() {
        let m = if i % 2 == 0 {
            TMessage::text("é".repeat(len / 2) + &"x".repeat(len % 2))
        } else {
            TMessage::binary((0..len).map(|b| b as u8).collect::<Vec<u8>>())
        };
        ws.send(m.clone()).unwrap();
        let back = loop {
            match ws.read().unwrap() {
                TMessage::Ping(_) | TMessage::Pong(_) => {}
                other => break other,
            }
        };
        assert_eq!(back, m, "length {len}");
    }
    ws.close(None).unwrap();
    handle.shutdown();
}

#[test]
fn fragments_with_a_ping_between_them_and_a_close_echoed() {
    let (handle, port) = echo_server(WebSocketOptions::new());
    let mut c = Raw::open(port, "/echo", "");
    c.frame(false, Opcode::Text, "caf".as_bytes());
    c.frame(true, Opcode::Ping, b"are you there");
    c.frame(false, Opcode::Continuation, &[0xc3]);
    c.frame(true, Opcode::Continuation, &[0xa9]);
    assert_eq!(c.next(), Some(Msg::Pong(b"are you there".to_vec())));
    assert_eq!(c.next(), Some(Msg::Text("café".into())));
    let mut close = Vec::new();
    encode_close(Some(&CloseFrame { code: 4001, reason: "bye".into() }), Some([9, 9, 9, 9]), &mut close)
        .unwrap();
    c.bytes(&close);
    assert_eq!(c.close_code(), Some(4001));
    assert!(c.closed(), "the server closes the connection after the handshake");
    handle.shutdown();
}

#[test]
fn broken_frames_get_the_close_code_rfc_6455_asks_for() {
    let (handle, port) = echo_server(WebSocketOptions::new().max_message(1000));
    let cases: [(&str, Vec<u8>, u16); 6] = [
        ("an unmasked frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        ("reserved bits", vec![0xc1, 0x80, 0, 0, 0, 0], 1002),
        ("a reserved opcode", vec![0x83, 0x80, 0, 0, 0, 0], 1002),
        ("a fragmented ping", vec![0x09, 0x80, 0, 0, 0, 0], 1002),
        ("text that is not UTF-8", vec![0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28], 1007),
        ("a message over the limit", vec![0x82, 0xfe, 0x07, 0xd0, 0, 0, 0, 0], 1009),
    ];
    for (what, raw, code) in cases {
        let mut c = Raw::open(port, "/echo", "");
        c.bytes(&raw);
        assert_eq!(c.close_code(), Some(code), "{what}");
        assert!(c.closed(), "{what}: the connection is closed after the close frame");
    }
    handle.shutdown();
}

/// Records what a socket's handler saw.
struct Recorder {
    events: mpsc::Sender<String>,
    close_after: Option<(u16, &'static str)>,
}

impl WebSocketHandler for Recorder {
    fn on_open(&mut self, ws: &WebSocket) {
        let _ = self.events.send(format!("open {:?}", ws.protocol()));
    }
    fn on_message(&mut self, ws: &WebSocket, message: Message) {
        let _ = self.events.send(format!("message {message:?}"));
        if let Some((code, reason)) = self.close_after {
            ws.close(code, reason);
            assert_eq!(ws.send("too late"), Err(StreamError::Closed));
        }
    }
    fn on_close(&mut self, _ws: &WebSocket, close: Option<CloseFrame>) {
        let _ = self.events.send(format!("close {:?}", close.map(|c| (c.code, c.reason))));
    }
}

fn recorder_server(
    options: WebSocketOptions,
    close_after: Option<(u16, &'static str)>,
) -> (ServerHandle, u16, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let (handle, port) = start(
        |b| b,
        move |s| {
            s.add_context_resource("/rec", move |cx| {
                let events = tx.lock().unwrap().clone();
                cx.websocket_with(options.clone(), Recorder { events, close_after })
            });
        },
    );
    (handle, port, rx)
}

fn event(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(STEP).expect("an event from the handler")
}

#[test]
fn the_handler_sees_open_messages_and_the_peers_close_in_order() {
    let options = WebSocketOptions::new().protocols(["chat", "superchat"]);
    let (handle, port, rx) = recorder_server(options, None);
    let mut c = Raw::open(port, "/rec", "Sec-WebSocket-Protocol: superchat, chat\r\n");
    // The server's preference wins among those offered.
    assert_eq!(event(&rx), "open Some(\"chat\")");
    for i in 0..5 {
        c.frame(true, Opcode::Text, format!("m{i}").as_bytes());
    }
    for i in 0..5 {
        assert_eq!(event(&rx), format!("message Text(\"m{i}\")"));
    }
    let mut close = Vec::new();
    encode_close(Some(&CloseFrame { code: 1000, reason: "done".into() }), Some([1, 1, 1, 1]), &mut close)
        .unwrap();
    c.bytes(&close);
    assert_eq!(c.close_code(), Some(1000));
    assert_eq!(event(&rx), "close Some((1000, \"done\"))");
    handle.shutdown();
}

#[test]
fn a_close_from_the_application_runs_the_closing_handshake() {
    let options = WebSocketOptions::new().close_timeout(Duration::from_millis(300));
    let (handle, port, rx) = recorder_server(options, Some((4000, "enough")));
    // A client that answers: tungstenite.
    let mut ws = tung(port, "/rec");
    ws.send(TMessage::text("hello")).unwrap();
    let frame = loop {
        match ws.read() {
            Ok(TMessage::Close(f)) => break f.expect("a code"),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::from(4000), "enough"));
    let _ = ws.flush();
    assert_eq!(event(&rx), "open None");
    assert_eq!(event(&rx), "message Text(\"hello\")");
    // The peer's answer, as it sent it.
    assert_eq!(event(&rx), "close Some((4000, \"enough\"))");
    // A client that never answers: closed after the close timeout.
    let mut c = Raw::open(port, "/rec", "");
    c.frame(true, Opcode::Text, b"hi");
    let started = Instant::now();
    assert_eq!(c.close_code(), Some(4000));
    assert!(c.closed());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(5), "{took:?}");
    handle.shutdown();
}

#[test]
fn a_panicking_handler_closes_its_socket_with_1011() {
    let (handle, port) = start(
        |b| b,
        |s| {
            s.add_context_resource("/boom", |cx| {
                cx.websocket(|_: &WebSocket, _: Message| panic!("the handler's own bug"))
            });
        },
    );
    let mut c = Raw::open(port, "/boom", "");
    c.frame(true, Opcode::Text, b"x");
    assert_eq!(c.close_code(), Some(1011));
    drop(c);
    handle.shutdown();
}

#[test]
fn a_silent_peer_is_pinged_then_closed() {
    let options = WebSocketOptions::new()
        .ping_every(Some(Duration::from_millis(200)))
        .pong_timeout(Duration::from_millis(300));
    let (handle, port) = echo_server(options);
    let mut c = Raw::open(port, "/echo", "");
    let started = Instant::now();
    assert_eq!(c.next(), Some(Msg::Ping(Vec::new())));
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    // No answer: the connection goes.
    assert!(c.closed());
    assert!(started.elapsed() < Duration::from_secs(5));
    // A peer that answers pings stays.
    let mut ws = tung(port, "/echo");
    ws.get_mut().set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let until = Instant::now() + Duration::from_millis(1200);
    let mut pings = 0;
    while Instant::now() < until {
        match ws.read() {
            Ok(TMessage::Ping(_)) => pings += 1,
            Ok(other) => panic!("{other:?}"),
            // A read timeout: WouldBlock on Unix, TimedOut on Windows.
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => panic!("closed: {e}"),
        }
        let _ = ws.flush();
    }
    assert!(pings >= 2, "{pings} pings");
    ws.send(TMessage::text("still here")).unwrap();
    ws.get_mut().set_read_timeout(Some(STEP)).unwrap();
    loop {
        match ws.read().unwrap() {
            TMessage::Text(t) => break assert_eq!(t.as_str(), "still here"),
            TMessage::Ping(_) => {}
            other => panic!("{other:?}"),
        }
    }
    drop(ws);
    handle.shutdown();
}

#[test]
fn a_peer_that_sends_without_reading_is_slowed_not_buffered() {
    let (handle, port) = echo_server(WebSocketOptions::new().capacity(64 * 1024));
    let mut c = Raw::open(port, "/echo", "");
    c.sock.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    // Each message is echoed; nobody reads the echoes. The server stops reading once its
    // queue is full, so the client's writes soon block: what went is bounded by socket
    // buffers and the queue, not by what the client is willing to send.
    let mut frame = Vec::new();
    encode_frame(true, Opcode::Binary, &vec![7u8; 64 * 1024], Some([1, 2, 3, 4]), &mut frame).unwrap();
    let mut sent = 0usize;
    let started = Instant::now();
    while sent < 512 << 20 && started.elapsed() < STEP {
        match c.sock.write(&frame) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(sent < 64 << 20, "{sent} bytes were taken from a peer that reads nothing");
    drop(c);
    handle.shutdown();
}

/// A server whose `/feed` sockets (a queue of `capacity` bytes) read nothing and are handed to
/// the test as they open.
fn handing_server(
    configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    capacity: usize,
) -> (ServerHandle, u16, mpsc::Receiver<WebSocket>) {
    struct Hand(mpsc::Sender<WebSocket>);
    impl WebSocketHandler for Hand {
        fn on_open(&mut self, ws: &WebSocket) {
            let _ = self.0.send(ws.clone());
        }
        fn on_message(&mut self, _: &WebSocket, _: Message) {}
    }
    let (tx, rx) = mpsc::channel::<WebSocket>();
    let tx = Mutex::new(tx);
    let (handle, port) = start(configure, move |s| {
        s.add_context_resource("/feed", move |cx| {
            let tx = tx.lock().unwrap().clone();
            cx.websocket_with(WebSocketOptions::new().capacity(capacity), Hand(tx))
        });
    });
    (handle, port, rx)
}

#[test]
fn a_peer_that_reads_nothing_fills_the_queue_and_is_closed_by_the_write_timeout() {
    let (handle, port, rx) = handing_server(|b| b.write_timeout(Duration::from_millis(500)), 32 * 1024);
    let c = Raw::open(port, "/feed", "");
    let ws = rx.recv_timeout(STEP).unwrap();
    let chunk = vec![1u8; 16 * 1024];
    let started = Instant::now();
    let mut full = false;
    let mut closed = false;
    while started.elapsed() < STEP {
        match ws.try_send(chunk.clone()) {
            Ok(()) => assert!(ws.queued() <= 32 * 1024 + chunk.len() + 16, "{}", ws.queued()),
            Err(StreamError::Full) => {
                full = true;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(StreamError::Closed) => {
                closed = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(full, "the queue never filled");
    assert!(closed, "the write timeout never closed the socket");
    drop(c);
    handle.shutdown();
}

/// A server whose `/room` sockets (with `options`) join `hub` as they open and are then sent
/// "joined"; they ignore what they receive.
fn room_server(hub: &WebSocketHub, options: WebSocketOptions) -> (ServerHandle, u16) {
    struct Member(WebSocketHub);
    impl WebSocketHandler for Member {
        fn on_open(&mut self, ws: &WebSocket) {
            self.0.join(ws);
            let _ = ws.send("joined");
        }
        fn on_message(&mut self, _: &WebSocket, _: Message) {}
    }
    let room = hub.clone();
    start(
        |b| b,
        move |s| {
            s.add_context_resource("/room", move |cx| {
                cx.websocket_with(options.clone(), Member(room.clone()))
            });
        },
    )
}

#[test]
fn a_hub_reaches_every_member_and_forgets_the_gone() {
    let hub = WebSocketHub::new();
    let (handle, port) = room_server(&hub, WebSocketOptions::new());
    let mut members: Vec<Raw> = (0..20).map(|_| Raw::open(port, "/room", "")).collect();
    for m in &mut members {
        assert_eq!(m.next(), Some(Msg::Text("joined".into())));
    }
    assert_eq!(hub.len(), 20);
    assert_eq!(hub.publish("to all"), 20);
    for m in &mut members {
        assert_eq!(m.next(), Some(Msg::Text("to all".into())));
    }
    // Half of them leave; the hub notices at the next publish.
    let gone: Vec<Raw> = members.drain(..10).collect();
    drop(gone);
    let started = Instant::now();
    while hub.publish("again") != 10 && started.elapsed() < STEP {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(hub.len(), 10);
    for m in &mut members {
        loop {
            match m.next() {
                Some(Msg::Text(t)) if t == "again" => break,
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    }
    drop(members);
    handle.shutdown();
}

#[test]
fn past_max_streams_the_handshake_gets_503_and_bad_handshakes_400_or_426() {
    let (handle, port) = start(
        |b| b.max_streams(2),
        |s| {
            s.add_context_resource("/echo", |cx| {
                cx.websocket(|ws: &WebSocket, m: Message| {
                    let _ = ws.send(m);
                })
            });
        },
    );
    let _a = Raw::open(port, "/echo", "");
    let _b = Raw::open(port, "/echo", "");
    let status = |req: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(STEP)).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).split(' ').nth(1).unwrap_or("").to_owned()
    };
    let ok = "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_eq!(status(ok), "503");
    assert_eq!(status(&ok.replace("Version: 13", "Version: 8")), "426");
    assert_eq!(status(&ok.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")), "400");
    assert_eq!(status(&ok.replace("GET", "POST")), "400");
    assert_eq!(status("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"), "426");
    drop((_a, _b));
    handle.shutdown();
}

#[test]
fn a_shutdown_sends_1001_to_a_thousand_sockets_and_waits_for_their_answers() {
    let (handle, port) = echo_server(WebSocketOptions::new().ping_every(None));
    let mut sockets: Vec<Raw> = (0..1000).map(|_| Raw::open(port, "/echo", "")).collect();
    // Every socket is open on the server (its echo answered).
    for c in sockets.iter_mut().step_by(100) {
        c.frame(true, Opcode::Text, b"up");
        assert_eq!(c.next(), Some(Msg::Text("up".into())));
    }
    let started = Instant::now();
    let stopper = std::thread::spawn(move || {
        handle.shutdown();
        Instant::now()
    });
    let mut close = Vec::new();
    encode_close(Some(&CloseFrame { code: 1001, reason: String::new() }), Some([5, 5, 5, 5]), &mut close)
        .unwrap();
    for c in &mut sockets {
        assert_eq!(c.close_code(), Some(1001));
        c.bytes(&close);
    }
    for c in &mut sockets {
        assert!(c.closed());
    }
    let stopped = stopper.join().unwrap();
    let took = stopped - started;
    // The default grace period is far longer: the shutdown ended when the last socket did.
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn sends_from_other_threads_reach_the_peer_in_order() {
    let (handle, port, rx) = handing_server(|b| b, 1024);
    let mut c = Raw::open(port, "/feed", "");
    let ws = rx.recv_timeout(STEP).unwrap();
    let sender = std::thread::spawn(move || {
        for i in 0..2000 {
            ws.send(format!("n{i}")).unwrap();
        }
        ws.close(1000, "all sent");
    });
    for i in 0..2000 {
        assert_eq!(c.next(), Some(Msg::Text(format!("n{i}"))));
    }
    assert_eq!(c.close_code(), Some(1000));
    sender.join().unwrap();
    drop(c);
    handle.shutdown();
}

fn deflate_echo() -> (ServerHandle, u16) {
    echo_server(WebSocketOptions::new().deflate(true).max_message(1 << 20))
}

#[test]
fn permessage_deflate_with_our_client_both_ways_and_a_bomb_refused() {
    use http_toolkit::client::websocket::Message as CMessage;
    let (handle, port) = deflate_echo();
    let client = http_toolkit::client::Client::new();
    let mut ws = client.websocket(&format!("ws://127.0.0.1:{port}/echo")).deflate(true).connect().unwrap();
    let agreed = ws.deflate().copied().expect("permessage-deflate agreed");
    assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
    let text = "compressible ".repeat(20_000);
    for m in [CMessage::Text(text.clone()), CMessage::Binary(vec![9u8; 300_000]), CMessage::Text("é".into())]
    {
        ws.send(m.clone()).unwrap();
        let back = loop {
            match ws.recv_timeout(STEP).unwrap() {
                CMessage::Ping(_) | CMessage::Pong(_) => {}
                other => break other,
            }
        };
        assert_eq!(back, m);
    }
    drop(ws);
    // 64 MiB of zeros deflate to about 64 KiB: refused with 1009 once it passes 1 MiB.
    let mut c = Raw::open(port, "/echo", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    let params = http_toolkit::utils::websocket::DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: 9,
    };
    let (mut deflater, _) =
        http_toolkit::utils::websocket::PerMessageDeflate::new(&params, Role::Client).split();
    let mut bomb = Vec::new();
    deflater.encode_message(Opcode::Binary, &vec![0u8; 64 << 20], Some([3, 1, 4, 1]), &mut bomb).unwrap();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let started = Instant::now();
    let _ = c.sock.write_all(&bomb);
    assert_eq!(c.close_code(), Some(1009));
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(c);
    handle.shutdown();
}

#[test]
fn permessage_deflate_with_python_websockets() {
    let test = "permessage_deflate_with_python_websockets";
    let Some(python) = programs::python_websockets(test, "websockets.sync.client") else {
        return;
    };
    let (handle, port) = deflate_echo();
    let script = r#"
import sys
from websockets.sync.client import connect
with connect(sys.argv[1], open_timeout=10, close_timeout=10, max_size=2**21) as ws:
    names = [e.name for e in ws.protocol.extensions]
    assert names == ["permessage-deflate"], names
    for m in ["deflated " * 20000, b"\x00\x01" * 100000, "short"]:
        ws.send(m)
        assert ws.recv(timeout=10) == m
print("ok")
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, &format!("ws://127.0.0.1:{port}/echo")])
        .output()
        .expect("run python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    handle.shutdown();
}

#[test]
fn a_hub_that_drops_the_slow_closes_a_member_whose_queue_is_full() {
    let hub = WebSocketHub::new().drop_slow(true);
    let (handle, port) = room_server(&hub, WebSocketOptions::new().capacity(16 * 1024));
    // A member that reads nothing after its greeting, which says it has joined.
    let mut c = Raw::open(port, "/room", "");
    assert_eq!(c.next(), Some(Msg::Text("joined".into())));
    let started = Instant::now();
    let big = vec![b'z'; 64 * 1024];
    let mut published = 0;
    while !hub.is_empty() && started.elapsed() < STEP {
        hub.publish(big.clone());
        published += 1;
    }
    assert!(hub.is_empty(), "the slow member was never dropped");
    // Socket buffers took some; the queue's cap the rest.
    assert!(published < 1000, "{published} messages published before the member was dropped");
    drop(c);
    handle.shutdown();
}
