//! Hello world on tiny_http 0.12, with one request-handling thread per allowed CPU (at least 4).
use std::sync::Arc;

fn main() {
    let port = bench_peers::port_arg(4244);
    let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).expect("bind"));
    println!("tiny_http listening on http://127.0.0.1:{port}/");
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).max(4);
    let header: tiny_http::Header = "Content-Type: text/html; charset=utf-8".parse().unwrap();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let server = server.clone();
            let header = header.clone();
            std::thread::spawn(move || {
                for req in server.incoming_requests() {
                    let resp = tiny_http::Response::from_string("<h1>Hello, world!</h1>").with_header(header.clone());
                    let _ = req.respond(resp);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}
