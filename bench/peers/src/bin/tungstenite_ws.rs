//! The WebSocket benchmark's blocking peer (`bench/websockets.py`): tungstenite on std
//! sockets, a thread per connection. One listener: each accepted connection gets a thread
//! that peeks at its request line; `GET /ws` is handed to `tungstenite::accept` and the
//! thread then writes the room's messages to it (it blocks on its channel, never reads the
//! socket; a failed write ends it), anything else is answered hello world with keep-alive
//! by a minimal loop on the same thread. A producer thread publishes one message a second
//! (`bench_peers::tick`), handing every member's channel a clone of the same text.
//!
//! `cargo run --release --bin tungstenite_ws -- --port N`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

type Members = Arc<Mutex<Vec<SyncSender<Utf8Bytes>>>>;

fn producer(members: Members) {
    let start = Instant::now();
    for n in 1u64.. {
        if let Some(wait) = (start + Duration::from_secs(n)).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let text = Utf8Bytes::from(bench_peers::tick(n));
        // A member whose channel is full misses the message; a gone one is dropped.
        members
            .lock()
            .unwrap()
            .retain(|m| !matches!(m.try_send(text.clone()), Err(TrySendError::Disconnected(_))));
    }
}

fn socket(stream: TcpStream, rx: Receiver<Utf8Bytes>) {
    let Ok(mut ws) = tungstenite::accept(stream) else { return };
    while let Ok(text) = rx.recv() {
        if ws.send(Message::Text(text)).is_err() {
            return;
        }
    }
}

fn hello(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    let mut pending = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut out = Vec::new();
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            out.extend_from_slice(bench_peers::HELLO_RESPONSE);
        }
        if pending.len() > 64 * 1024 || stream.write_all(&out).is_err() {
            return;
        }
    }
}

fn connection(stream: TcpStream, members: Members) {
    let _ = stream.set_nodelay(true);
    let mut head = [0u8; 8];
    let deadline = Instant::now() + Duration::from_secs(10);
    let ws = loop {
        match stream.peek(&mut head) {
            Ok(0) | Err(_) => return,
            Ok(n) if n >= 8 || Instant::now() > deadline => break bench_peers::asks_for_ws(&head[..n]),
            Ok(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    if ws {
        let (tx, rx) = sync_channel(16);
        members.lock().unwrap().push(tx);
        socket(stream, rx);
    } else {
        hello(stream);
    }
}

fn main() {
    let port = bench_peers::port_arg(4250);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!(
        "tungstenite (a thread per connection) on http://127.0.0.1:{port}/ and ws://127.0.0.1:{port}/ws"
    );
    let members: Members = Arc::default();
    let m = members.clone();
    std::thread::spawn(move || producer(m));
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let m = members.clone();
        if std::thread::Builder::new().spawn(move || connection(stream, m)).is_err() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
