//! Runs the head parsers a fixed number of times, for profilers and for a side-by-side timing
//! that is robust on a busy machine.
//!
//! - `cargo run --release --example profile -- ours-request 100000` runs one parser (also
//!   `ours-response`, `httparse-request`, `httparse-response`), for `perf record` or
//!   `valgrind --tool=callgrind`;
//! - `cargo run --release --example profile -- compare 2000 1000` times rounds of 2000 parses,
//!   alternating the parsers round by round, and prints each parser's fastest and median round
//!   (ns per parse) and the ratios. Other load on the machine slows some rounds down; the
//!   fastest rounds show what the code costs.

use std::hint::black_box;
use std::time::Instant;

use http_toolkit_bench::{REQUEST, RESPONSE};
use http_utils::{parse_request_head, parse_response_head, Limits};

const PARSERS: [&str; 4] = ["ours-request", "httparse-request", "ours-response", "httparse-response"];

fn parse_once(which: &str, limits: &Limits) -> usize {
    match which {
        "ours-request" => parse_request_head(black_box(REQUEST), limits).unwrap().complete().unwrap().1,
        "ours-response" => parse_response_head(black_box(RESPONSE), limits).unwrap().complete().unwrap().1,
        "httparse-request" => {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut req = httparse::Request::new(&mut headers);
            let used = req.parse(black_box(REQUEST)).unwrap().unwrap();
            black_box(&req);
            used
        }
        "httparse-response" => {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut res = httparse::Response::new(&mut headers);
            let used = res.parse(black_box(RESPONSE)).unwrap().unwrap();
            black_box(&res);
            used
        }
        other => panic!("unknown parser {other}"),
    }
}

fn compare(n: u64, rounds: usize, limits: &Limits) {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); PARSERS.len()];
    for _ in 0..rounds {
        for (i, which) in PARSERS.iter().enumerate() {
            let start = Instant::now();
            let mut used = 0;
            for _ in 0..n {
                used += parse_once(which, limits);
            }
            black_box(used);
            times[i].push(start.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    if std::env::var_os("PROFILE_ROUNDS").is_some() {
        for (which, t) in PARSERS.iter().zip(&times) {
            let line: Vec<String> = t.iter().map(|x| format!("{x:.0}")).collect();
            println!("{which}: {}", line.join(" "));
        }
    }
    let mut best = Vec::new();
    for (which, t) in PARSERS.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let (min, median) = (t[0], t[t.len() / 2]);
        println!("{which:18} fastest {min:7.1} ns  median {median:7.1} ns");
        best.push((min, median));
    }
    for (name, ours, theirs) in [("request", 0, 1), ("response", 2, 3)] {
        println!(
            "{name:8} ours/httparse: fastest {:.2}x, median {:.2}x",
            best[ours].0 / best[theirs].0,
            best[ours].1 / best[theirs].1
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "compare".into());
    let default_n = if which == "compare" { 2000 } else { 100_000 };
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(default_n);
    let limits = Limits::default();
    if which == "compare" {
        let rounds = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
        return compare(n, rounds, &limits);
    }
    let mut used = 0;
    for _ in 0..n {
        used += parse_once(&which, &limits);
    }
    println!("{used}");
}
