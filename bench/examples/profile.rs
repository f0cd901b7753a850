//! Runs one parser a fixed number of times, for profilers (`perf record`, `valgrind
//! --tool=callgrind`): `cargo run --release --example profile -- ours-request 100000`.

use std::hint::black_box;

use http_toolkit_bench::{REQUEST, RESPONSE};
use http_utils::{parse_request_head, parse_response_head, Limits};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "ours-request".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let limits = Limits::default();
    let mut used = 0;
    for _ in 0..n {
        used += match which.as_str() {
            "ours-request" => parse_request_head(black_box(REQUEST), &limits).unwrap().complete().unwrap().1,
            "ours-response" => parse_response_head(black_box(RESPONSE), &limits).unwrap().complete().unwrap().1,
            "httparse-request" => {
                let mut headers = [httparse::EMPTY_HEADER; 16];
                let mut req = httparse::Request::new(&mut headers);
                req.parse(black_box(REQUEST)).unwrap().unwrap()
            }
            "httparse-response" => {
                let mut headers = [httparse::EMPTY_HEADER; 16];
                let mut res = httparse::Response::new(&mut headers);
                res.parse(black_box(RESPONSE)).unwrap().unwrap()
            }
            other => panic!("unknown parser {other}"),
        };
    }
    println!("{used}");
}
