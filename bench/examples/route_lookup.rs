//! The route lookup alone, in process: [`RouteTable::lookup`] on the table of one route
//! (`/hello`) and on the table of `workloads_server --routes 200` (the 200 patterns of
//! [`workload_routes`] and the routes every workload server has), for each path of
//! [`ROUTE_PATHS`]. Prints the fastest and the median of rounds of lookups, in ns per lookup.
//!
//! `cargo run --release --example route_lookup [-- LOOKUPS_PER_ROUND ROUNDS]` (default 200000 15)

use std::hint::black_box;
use std::time::Instant;

use http_server::{Lookup, Method, Pattern, RouteTable};
use http_toolkit_bench::{workload_routes, ROUTE_PATHS};

/// The routes `workloads_server` has besides the 200 patterns.
const BASE: [&str; 5] = ["/hello", "/static/{path...}", "/static", "/upload", "/echo"];

fn table(patterns: &[String]) -> RouteTable<usize> {
    let mut t = RouteTable::new();
    for (i, p) in patterns.iter().enumerate() {
        let method = if p == "/upload" || p == "/echo" { Method::Post } else { Method::Get };
        t.insert(Pattern::parse(p).expect("valid pattern"), method, i).expect("no conflict");
    }
    t
}

fn time(t: &RouteTable<usize>, path: &str, n: u32, rounds: usize) -> (f64, f64) {
    let mut ns = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..n {
            match t.lookup(&Method::Get, black_box(path)) {
                Lookup::Found(r) => {
                    black_box(r.value);
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        ns.push(start.elapsed().as_nanos() as f64 / f64::from(n));
    }
    ns.sort_by(f64::total_cmp);
    (ns[0], ns[ns.len() / 2])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map_or(200_000, |s| s.parse().expect("LOOKUPS_PER_ROUND"));
    let rounds: usize = args.next().map_or(15, |s| s.parse().expect("ROUNDS"));
    let one = table(&["/hello".to_owned()]);
    let mut all: Vec<String> = BASE.iter().map(|s| (*s).to_owned()).collect();
    all.extend(workload_routes());
    let big = table(&all);
    println!("| path | table | fastest ns/lookup | median ns/lookup |");
    println!("| --- | --- | --- | --- |");
    let (fast, median) = time(&one, ROUTE_PATHS[0], n, rounds);
    println!("| {} | 1 route | {fast:.0} | {median:.0} |", ROUTE_PATHS[0]);
    for path in ROUTE_PATHS {
        let (fast, median) = time(&big, path, n, rounds);
        println!("| {path} | {} routes | {fast:.0} | {median:.0} |", big.len());
    }
}
