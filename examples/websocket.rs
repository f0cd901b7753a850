//! WebSocket over http-toolkit's server, with the `tungstenite` crate on the upgraded
//! connection: an echo at `/echo` and a chat at `/chat` where every message goes to every
//! connected client; `/` is a page that talks to both.
//!
//! `cargo run --release --example websocket [-- --port N]` (port 8080 by default; the `PORT`
//! environment variable overrides it, the flag wins).
//!
//! The server's workers only answer the opening handshakes; each WebSocket then runs on a
//! thread of its own (the server counts them against `max_streams`). A chat connection reads
//! with a short timeout so that between frames it can pass on what others said and notice a
//! shutdown (it then says goodbye with close code 1001, "going away").

#[path = "support/ws.rs"]
mod ws;

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_toolkit::server::{Response, Server, Upgraded};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Error, Message, WebSocket};

/// How long a chat connection waits for a frame before it looks at its mailbox.
const POLL: Duration = Duration::from_millis(25);

/// The chat room: a mailbox per member.
#[derive(Default)]
pub struct Room {
    members: Mutex<Vec<Sender<String>>>,
}

impl Room {
    fn join(&self) -> Receiver<String> {
        let (tx, rx) = mpsc::channel();
        lock(&self.members).push(tx);
        rx
    }

    /// Gives `text` to every member still there.
    fn say(&self, text: &str) {
        lock(&self.members).retain(|m| m.send(text.to_owned()).is_ok());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs `/`, `/echo` and `/chat` on `server`.
pub fn install(server: &Server) {
    server.add_resource("/", |_, _| Response::html(PAGE));
    server.add_context_resource("/echo", |cx| ws::accept(cx, ws::echo));
    let room = Arc::new(Room::default());
    server.add_context_resource("/chat", move |cx| {
        let room = room.clone();
        ws::accept(cx, move |socket| chat(socket, &room))
    });
}

fn would_block(e: &Error) -> bool {
    matches!(e, Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// A member of the chat: what it says goes to everyone, what others say comes to it.
fn chat(mut socket: WebSocket<Upgraded>, room: &Room) {
    let mailbox = room.join();
    socket.get_mut().set_read_timeout(Some(POLL));
    loop {
        if socket.get_ref().is_server_stopping() {
            let bye = CloseFrame { code: CloseCode::Away, reason: "the server is stopping".into() };
            let _ = socket.close(Some(bye));
            // Let the close handshake finish (briefly).
            for _ in 0..40 {
                match socket.read() {
                    Err(e) if would_block(&e) => {}
                    Err(_) => break,
                    Ok(_) => {}
                }
            }
            return;
        }
        match socket.read() {
            Ok(Message::Text(text)) => room.say(text.as_str()),
            Ok(_) => {}
            Err(e) if would_block(&e) => {}
            Err(_) => return,
        }
        while let Ok(text) = mailbox.try_recv() {
            if let Err(e) = socket.send(Message::text(text)) {
                if !would_block(&e) {
                    return;
                }
            }
        }
    }
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>WebSocket</title></head>
<body>
<h1>WebSocket on http-toolkit</h1>
<p>Echo: <input id="echo-in" value="hello"> <button onclick="echoSend()">Send</button></p>
<pre id="echo-out"></pre>
<p>Chat (open this page twice): <input id="chat-in"> <button onclick="chatSend()">Say</button></p>
<pre id="chat-out"></pre>
<script>
const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
const echo = new WebSocket(base + "/echo");
echo.onmessage = (e) => { document.getElementById("echo-out").textContent += e.data + "\n"; };
function echoSend() { echo.send(document.getElementById("echo-in").value); }
const chat = new WebSocket(base + "/chat");
chat.onmessage = (e) => { document.getElementById("chat-out").textContent += e.data + "\n"; };
function chatSend() { chat.send(document.getElementById("chat-in").value); }
</script>
</body>
</html>
"#;

fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = Some(args.next().ok_or("--port needs a number")?),
            other => match other.strip_prefix("--port=") {
                Some(p) => port = Some(p.to_owned()),
                None => return Err(format!("unknown argument {other:?} (usage: websocket [--port N])")),
            },
        }
    }
    match port {
        None => Ok(8080),
        Some(p) => p.trim().parse().map_err(|_| format!("not a port number: {p:?}")),
    }
}

fn main() {
    let port = port().unwrap_or_else(|e| {
        eprintln!("websocket: {e}");
        std::process::exit(2);
    });
    let server = Server::builder().port(port).build().unwrap_or_else(|e| {
        eprintln!("websocket: cannot listen on port {port}: {e}");
        std::process::exit(1);
    });
    install(&server);
    println!(
        "listening on http://localhost:{}/ (WebSocket at /echo and /chat)",
        server.local_addr().port().unwrap_or(port)
    );
    // SIGTERM or Ctrl-C: chat members get close 1001, then the process exits 0.
    if let Err(e) = server.run_until_signal() {
        eprintln!("websocket: {e}");
        std::process::exit(1);
    }
}
