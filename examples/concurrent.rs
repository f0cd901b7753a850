//! Many requests in flight at once over one client: three requests to a local server that
//! answers after 5 s, 2 s and 3 s, each sent from its own thread. They are printed as they
//! complete (2, 3, 5), and the whole run takes about 5 s, not 10.
//!
//! The example starts its own small server on a loopback port: `GET /delay/N` answers after
//! N seconds.
//!
//! Run it: `cargo run --example concurrent`

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_client::Client;

/// Answers `GET /delay/N` after N seconds (at most 10), one thread per connection.
fn serve(stream: TcpStream) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        // Skip the header section.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let secs: u64 = path.strip_prefix("/delay/").and_then(|n| n.parse().ok()).unwrap_or(0).min(10);
        std::thread::sleep(Duration::from_secs(secs));
        let body = format!("waited {secs} s\n");
        let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });

    let client = Client::new();
    let start = Instant::now();
    println!("Starting 3 concurrent requests with delays of 5 s, 2 s and 3 s...");
    let (done_tx, done_rx) = mpsc::channel();
    for delay in [5, 2, 3] {
        let client = client.clone();
        let done_tx = done_tx.clone();
        let url = format!("http://{addr}/delay/{delay}");
        std::thread::spawn(move || {
            println!("[{:>5.2} s] started  /delay/{delay}", start.elapsed().as_secs_f64());
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
                "[{:>5.2} s] finished /delay/{delay}: {status}, {}",
                start.elapsed().as_secs_f64(),
                body.trim_end()
            ),
            Err(e) => println!("[{:>5.2} s] /delay/{delay} failed: {e}", start.elapsed().as_secs_f64()),
        }
    }
    println!("All done in {:.2} s (sequentially it would take 10 s).", start.elapsed().as_secs_f64());
}
