//! The server side of the WebSocket benchmark (`bench/websockets.py`): `/` answers hello
//! world, `/ws` opens a WebSocket held by the engine that joins one [`WebSocketHub`], and a
//! producer thread publishes one message a second to the hub: its number, the wall-clock
//! time in nanoseconds since the Unix epoch (the clients compute the delivery latency from
//! it) and padding, about 45 bytes. The default pool, limits and WebSocket options (a ping
//! after 30 s of silence, which the bench's clients answer).
//!
//! `cargo run --profile release-lto --example ws_server -- --port N`

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_server::{Message, Response, Server, WebSocket, WebSocketHandler, WebSocketHub};

/// A member of the room: it listens and says nothing.
struct Member {
    room: WebSocketHub,
}

impl WebSocketHandler for Member {
    fn on_open(&mut self, ws: &WebSocket) {
        self.room.join(ws);
    }

    fn on_message(&mut self, _ws: &WebSocket, _message: Message) {}
}

fn producer(room: WebSocketHub) {
    let start = Instant::now();
    for n in 1u64.. {
        if let Some(wait) = (start + Duration::from_secs(n)).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        room.publish(format!("{n} {ns} 0123456789abcdef"));
    }
}

fn main() {
    let port = http_toolkit_bench::port_arg(8080);
    let server = Server::builder().port(port).build().expect("listen");
    let room = WebSocketHub::new();
    let r = room.clone();
    std::thread::spawn(move || producer(r));
    server.add_resource("/", |_, _| Response::text("Hello, world!"));
    server.add_context_resource("/ws", move |cx| cx.websocket(Member { room: room.clone() }));
    server.run().expect("run");
}
