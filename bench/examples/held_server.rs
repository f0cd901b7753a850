//! A server whose `/later` answers come from responders that never answer (until the
//! responder timeout of 120 s): every request to it is held, with its record, while the
//! worker goes on. `bench/held.py` measures the memory each held request costs.
//!
//! `cargo run --release --example held_server -- --port N`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_server::{Response, Server};

fn main() {
    let port = http_toolkit_bench::port_arg(18300);
    let server = Server::builder()
        .port(port)
        .bind("127.0.0.1")
        .max_connections(20_000)
        .responder_timeout(Duration::from_secs(120))
        .build()
        .expect("cannot listen");
    let held = Arc::new(Mutex::new(Vec::new()));
    server.add_context_resource("/later", move |cx| {
        held.lock().unwrap().push(cx.responder());
        Response::later()
    });
    server.run_until_signal().expect("the server failed");
}
