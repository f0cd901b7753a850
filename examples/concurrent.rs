//! Many requests in flight on one thread: three requests to a local server that answers after
//! 5 s, 2 s and 3 s are submitted to one `Multi` and waited for on the main thread. They are
//! printed as they complete (2, 3, 5), and the whole run takes about 5 s, not 10, with no
//! thread per request: one `mio` poll drives the three connections.
//!
//! The example starts this project's server on a loopback port (port 0, so it never clashes):
//! `GET /delay/N` answers after N seconds (at most 10) without holding a worker, through a
//! `Responder` answered from a timer thread.
//!
//! Run it: `cargo run --example concurrent`

use std::time::{Duration, Instant};

use http_client::Client;
use http_server::{Method, Response, Server};

fn main() {
    let server = Server::builder().port(0).bind("127.0.0.1").build().expect("bind a loopback port");
    server
        .route(Method::Get, "/delay/{secs}", |cx| {
            let secs: u64 = cx.param("secs").and_then(|s| s.parse().ok()).unwrap_or(0).min(10);
            let answer = cx.responder();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(secs));
                let _ = answer.send(Response::text(format!("waited {secs} s\n")));
            });
            Response::later()
        })
        .expect("a valid route");
    let handle = server.spawn().expect("start the server");
    let addr = handle.local_addr().socket_addr().expect("a TCP address");

    let client = Client::new();
    let mut multi = client.multi().expect("a poll");
    let start = Instant::now();
    println!("Starting 3 requests with delays of 5 s, 2 s and 3 s, all on this one thread...");
    let mut delays = std::collections::HashMap::new();
    for delay in [5, 2, 3] {
        let token = multi.submit(format!("http://{addr}/delay/{delay}"));
        delays.insert(token, delay);
        println!("[{:>5.2} s] started  /delay/{delay} as {token}", start.elapsed().as_secs_f64());
    }
    // Completions come in the order the answers arrive.
    for (token, result) in multi.completions() {
        let delay = delays[&token];
        let at = start.elapsed().as_secs_f64();
        match result.and_then(|resp| {
            let status = resp.status_line();
            resp.text().map(|body| (status, body))
        }) {
            Ok((status, body)) => {
                println!("[{at:>5.2} s] finished /delay/{delay}: {status}, {}", body.trim_end())
            }
            Err(e) => println!("[{at:>5.2} s] /delay/{delay} failed: {e}"),
        }
    }
    println!("All done in {:.2} s (one after another it would take 10 s).", start.elapsed().as_secs_f64());
    handle.shutdown();
}
