//! The server side of the event-stream benchmark (`bench/sse.py`): `/` answers hello world,
//! `/events` subscribes to a `text/event-stream` fed by one producer thread that sends every
//! stream one event a second, and `/stats` reports the streams and what the producer's sends
//! cost. The default pool and limits.
//!
//! `cargo run --release --example sse_server -- --port N`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_server::{Event, EventSender, Response, Server, TrySendError};

#[derive(Default)]
struct Hub {
    streams: Mutex<Vec<EventSender>>,
    /// Events queued, events refused for a full queue, and the nanoseconds the sends took.
    sent: AtomicU64,
    full: AtomicU64,
    send_ns: AtomicU64,
    /// The longest round of sends (every stream once), in microseconds.
    worst_round_us: AtomicU64,
}

fn producer(hub: Arc<Hub>) {
    let mut n = 0u64;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        n += 1;
        let event = Event::data(format!("tick {n} 0123456789abcdef")).id(&n.to_string());
        let mut streams = hub.streams.lock().unwrap();
        let t0 = Instant::now();
        let before = streams.len();
        let mut full = 0;
        streams.retain(|s| match s.try_send(&event) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                full += 1;
                true
            }
            Err(TrySendError::Closed(_)) => false,
        });
        let took = t0.elapsed();
        hub.sent.fetch_add((before - full) as u64, Ordering::Relaxed);
        hub.full.fetch_add(full as u64, Ordering::Relaxed);
        hub.send_ns.fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        hub.worst_round_us.fetch_max(took.as_micros() as u64, Ordering::Relaxed);
    }
}

fn main() {
    let port = http_toolkit_bench::port_arg(8080);
    let server = Server::builder().port(port).build().expect("listen");
    let hub = Arc::new(Hub::default());
    let h = hub.clone();
    std::thread::spawn(move || producer(h));
    server.add_resource("/", |_, _| Response::text("Hello, world!"));
    let h = hub.clone();
    server.add_context_resource("/events", move |cx| {
        if let Ok(events) = cx.responder().events() {
            h.streams.lock().unwrap().push(events);
        }
        Response::later()
    });
    let h = hub;
    server.add_resource("/stats", move |_, _| {
        let streams = h.streams.lock().unwrap().len();
        let sent = h.sent.load(Ordering::Relaxed);
        let ns = h.send_ns.load(Ordering::Relaxed);
        Response::text(format!(
            "streams {streams}\nsent {sent}\nfull {}\nns_per_send {}\nworst_round_us {}\n",
            h.full.load(Ordering::Relaxed),
            ns.checked_div(sent).unwrap_or(0),
            h.worst_round_us.load(Ordering::Relaxed),
        ))
    });
    server.run().expect("run");
}
