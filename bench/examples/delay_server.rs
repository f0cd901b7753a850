//! A server whose `/wait` answers come one second later (or `--delay-ms N`) without holding a
//! worker: each request's responder goes to one timer thread, which answers them in turn. It
//! holds ten thousand waiting requests for a socket and a record each. `bench/inflight.py`
//! sends it many concurrent GETs at once.
//!
//! `cargo run --release --example delay_server -- --port N [--delay-ms N]`

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http_server::{Responder, Response, Server};

fn main() {
    let port = http_toolkit_bench::port_arg(18400);
    let args: Vec<String> = std::env::args().collect();
    let delay_ms: u64 = args
        .iter()
        .position(|a| a == "--delay-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let delay = Duration::from_millis(delay_ms);
    let (tx, rx) = mpsc::channel::<(Instant, Responder)>();
    // Answers come due in the order their requests came.
    std::thread::spawn(move || {
        for (due, responder) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let _ = responder.send(Response::text("waited\n"));
        }
    });
    let tx = Mutex::new(tx);
    let server = Server::builder()
        .port(port)
        .bind("127.0.0.1")
        .max_connections(30_000)
        .max_streams(30_000)
        .build()
        .expect("cannot listen");
    server.add_context_resource("/wait", move |cx| {
        let _ = tx.lock().unwrap().send((Instant::now() + delay, cx.responder()));
        Response::later()
    });
    server.run_until_signal().expect("the server failed");
}
