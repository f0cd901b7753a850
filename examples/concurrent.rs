//! Many requests in flight at once over one client: three requests to a local server that
//! answers after 5 s, 2 s and 3 s, each sent from its own thread. They are printed as they
//! complete (2, 3, 5), and the whole run takes about 5 s, not 10.
//!
//! The example starts this project's server on a loopback port: `GET /delay?N` answers after
//! N seconds.
//!
//! Run it: `cargo run --example concurrent`

use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_client::Client;
use http_server::{Response, Server};

fn main() {
    let server = Server::builder().port(0).bind("127.0.0.1").build().expect("bind a loopback port");
    server.add_resource("/delay", |req, _args| {
        let secs: u64 = req.query().and_then(|q| q.parse().ok()).unwrap_or(0).min(10);
        std::thread::sleep(Duration::from_secs(secs));
        Response::text(format!("waited {secs} s\n"))
    });
    let handle = server.spawn().expect("start the server");
    let addr = handle.local_addr().socket_addr().expect("a TCP address");

    let client = Client::new();
    let start = Instant::now();
    println!("Starting 3 concurrent requests with delays of 5 s, 2 s and 3 s...");
    let (done_tx, done_rx) = mpsc::channel();
    for delay in [5, 2, 3] {
        let client = client.clone();
        let done_tx = done_tx.clone();
        let url = format!("http://{addr}/delay?{delay}");
        std::thread::spawn(move || {
            println!("[{:>5.2} s] started  /delay?{delay}", start.elapsed().as_secs_f64());
            let result = client.send(url.as_str()).and_then(|resp| {
                let status = resp.status_line();
                resp.text().map(|body| (status, body))
            });
            let _ = done_tx.send((delay, result));
        });
    }
    drop(done_tx);
    // Results arrive in completion order.
    for (delay, result) in done_rx {
        match result {
            Ok((status, body)) => println!(
                "[{:>5.2} s] finished /delay?{delay}: {status}, {}",
                start.elapsed().as_secs_f64(),
                body.trim_end()
            ),
            Err(e) => println!("[{:>5.2} s] /delay?{delay} failed: {e}", start.elapsed().as_secs_f64()),
        }
    }
    println!("All done in {:.2} s (sequentially it would take 10 s).", start.elapsed().as_secs_f64());
    handle.shutdown();
}
