//! The websocket example against real clients: Python's `websockets` package, and this
//! project's own client (its upgrade, with tungstenite on the client side); a shutdown says
//! goodbye to chat members with close code 1001.
//!
//! The Python package comes from PyPI (`.ci/run` installs it). Without it the Python test
//! fails when `HTTP_TOOLKIT_CI` is set, and otherwise says loudly that it was skipped.

mod programs;
#[allow(dead_code)]
#[path = "../examples/websocket.rs"]
mod websocket;

use std::process::Command;
use std::time::{Duration, Instant};

use http_toolkit::client::{Client, Method, Request};
use http_toolkit::server::{Server, ServerHandle};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

fn start(
    configure: impl FnOnce(http_toolkit::server::ServerBuilder) -> http_toolkit::server::ServerBuilder,
) -> (ServerHandle, u16) {
    let server = configure(Server::builder().port(0).bind("127.0.0.1")).build().expect("bind");
    websocket::install(&server);
    let handle = server.spawn().expect("spawn");
    let port = handle.local_addr().port().expect("a TCP port");
    (handle, port)
}

/// Opens a WebSocket with this project's client: the handshake by hand, the protocol by
/// tungstenite.
fn open(client: &Client, port: u16, path: &str) -> WebSocket<http_toolkit::client::Upgraded> {
    let mut req = Request::new(Method::Get, format!("http://127.0.0.1:{port}{path}"));
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    for (name, value) in [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", key),
    ] {
        req.headers_mut().append(name, value).unwrap();
    }
    let resp = client.send(req).expect("the handshake");
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.header("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    let mut stream = resp.into_upgraded().expect("the upgraded connection");
    stream.set_read_timeout(Some(Duration::from_secs(10)));
    WebSocket::from_raw_socket(stream, Role::Client, None)
}

fn text(ws: &mut WebSocket<http_toolkit::client::Upgraded>) -> String {
    loop {
        match ws.read().expect("a message") {
            Message::Text(t) => return t.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn echo_and_chat_with_our_client_and_tungstenite() {
    let (handle, port) = start(|b| b);
    let client = Client::new();
    let mut echo = open(&client, port, "/echo");
    for msg in ["one", "two", &"z".repeat(100_000)] {
        echo.send(Message::text(msg)).unwrap();
        assert_eq!(text(&mut echo), msg);
    }
    echo.close(None).unwrap();
    let mut a = open(&client, port, "/chat");
    let mut b = open(&client, port, "/chat");
    a.send(Message::text("from a")).unwrap();
    assert_eq!(text(&mut a), "from a");
    b.send(Message::text("from b")).unwrap();
    let started = Instant::now();
    while text(&mut b) != "from b" {
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert_eq!(text(&mut a), "from b");
    // Sockets whose peers are gone end at once; a live one would be given its closing
    // handshake (1001) by the shutdown.
    drop((a, b, echo));
    handle.shutdown();
}

#[test]
fn a_shutdown_says_goodbye_to_chat_members() {
    let (handle, port) = start(|b| b.shutdown_grace(Duration::from_secs(5)));
    let client = Client::new();
    let mut member = open(&client, port, "/chat");
    member.send(Message::text("here")).unwrap();
    assert_eq!(text(&mut member), "here");
    let stopper = std::thread::spawn(move || {
        let started = Instant::now();
        handle.shutdown();
        started.elapsed()
    });
    let frame = loop {
        if let Message::Close(frame) = member.read().expect("the close frame") {
            break frame;
        }
    };
    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Away));
    // tungstenite answers the close; the server's handler then returns, and the shutdown
    // does not wait for the grace period.
    let _ = member.flush();
    let took = stopper.join().unwrap();
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn python_websockets_talks_to_the_example() {
    let test = "python_websockets_talks_to_the_example";
    let Some(python) = programs::python_websockets(test, "websockets.sync.client") else {
        return;
    };
    let (handle, port) = start(|b| b);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/websocket_peer.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(format!("ws://127.0.0.1:{port}"))
        .output()
        .expect("run python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "python websockets failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    handle.shutdown();
}
