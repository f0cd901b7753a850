//! WebSockets on http-toolkit's server: an echo at `/echo` and a chat at `/chat` where
//! every message goes to every connected client; `/` is a page that talks to both.
//!
//! `cargo run --release --example websocket [-- --port N]` (port 8080 by default; the `PORT`
//! environment variable overrides it, the flag wins).
//!
//! The engine holds every socket: no thread per connection, a few hundred bytes for a quiet
//! one. Pings, the closing handshake and limits are the server's; a shutdown sends every
//! socket close code 1001 ("going away") and waits for the answers within its grace period.

use http_toolkit::server::{Message, Response, Server, WebSocket, WebSocketHandler, WebSocketHub};

/// Installs `/`, `/echo` and `/chat` on `server`.
pub fn install(server: &Server) {
    server.add_resource("/", |_, _| Response::html(PAGE));
    server.add_context_resource("/echo", |cx| {
        cx.websocket(|ws: &WebSocket, message: Message| {
            let _ = ws.send(message);
        })
    });
    let room = WebSocketHub::new();
    server.add_context_resource("/chat", move |cx| cx.websocket(Member { room: room.clone() }));
}

/// A member of the chat: what it says goes to everyone (itself included).
struct Member {
    room: WebSocketHub,
}

impl WebSocketHandler for Member {
    fn on_open(&mut self, ws: &WebSocket) {
        self.room.join(ws);
    }

    fn on_message(&mut self, _ws: &WebSocket, message: Message) {
        if let Message::Text(text) = message {
            self.room.publish(text);
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
    // SIGTERM or Ctrl-C: every socket gets close 1001, then the process exits 0.
    if let Err(e) = server.run_until_signal() {
        eprintln!("websocket: {e}");
        std::process::exit(1);
    }
}
