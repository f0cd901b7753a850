//! How long the scanner takes per response, on batches of 16 of may_minihttp's hello-world
//! answers (`cargo run --release --example scan_speed`).

use std::time::Instant;

use bench_loadgen::scanner::Scanner;

fn main() {
    let one: &[u8] = b"HTTP/1.1 200 Ok\r\nServer: M\r\nDate: Sun, 06 Dec 2026 18:26:02 GMT\r\n\
        Content-Length: 22\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<h1>Hello, world!</h1>";
    let batch = one.repeat(16);
    let mut scanner = Scanner::new();
    let started = Instant::now();
    let mut responses = 0u64;
    for _ in 0..2_000_000 {
        responses += u64::from(scanner.feed(std::hint::black_box(&batch), 16).unwrap().responses());
    }
    let ns = started.elapsed().as_nanos() as f64 / responses as f64;
    println!("{responses} responses, {ns:.1} ns each");
}
