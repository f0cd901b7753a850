//! Keep-alive GET requests per second: http-client beside ureq 3, sequential on one connection
//! and from many threads sharing one client, interleaved in rounds so that both see the same
//! machine state.
//!
//! `bench-client URL [SECONDS] [ROUNDS] [THREADS] [ONLY]` (defaults 3 s, 3 rounds, 50 threads;
//! ONLY is `http-client` or `ureq` to run one of them).

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One GET with its body read to the end; returns the body length.
type Get = Arc<dyn Fn(&str, &mut Vec<u8>) -> usize + Send + Sync>;

fn toolkit() -> Get {
    let mut builder = http_client::Client::builder().max_idle_per_host(64).cookies(false);
    if let Some(us) = std::env::var("BENCH_SPIN_US").ok().and_then(|v| v.parse().ok()) {
        builder = builder.spin_wait(Duration::from_micros(us));
    }
    let client = builder.build().unwrap();
    Arc::new(move |url, buf| {
        let mut resp = client.send(url).expect("http-client request");
        buf.clear();
        resp.read_to_end(buf).expect("http-client body")
    })
}

fn ureq() -> Get {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_idle_connections(64)
        .max_idle_connections_per_host(64)
        .build()
        .into();
    Arc::new(move |url, buf| {
        let mut resp = agent.get(url).call().expect("ureq request");
        buf.clear();
        resp.body_mut().as_reader().read_to_end(buf).expect("ureq body")
    })
}

/// Requests per second of `get` from `threads` threads for `secs`.
fn measure(get: &Get, url: &str, threads: usize, secs: f64) -> f64 {
    // Warm up: open the connections.
    let mut buf = Vec::new();
    for _ in 0..threads.min(4) {
        get(url, &mut buf);
    }
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (get, url, count) = (get.clone(), url.to_string(), count.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(1024);
                let mut n = 0;
                while Instant::now() < deadline {
                    get(&url, &mut buf);
                    n += 1;
                }
                count.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8080/".into());
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let threads: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(50);
    let only = args.get(5).cloned();
    let clients: Vec<(&str, Get)> = [("http-client", toolkit as fn() -> Get), ("ureq", ureq)]
        .into_iter()
        .filter(|(name, _)| only.as_deref().map_or(true, |o| o == *name))
        .map(|(name, make)| (name, make()))
        .collect();
    let mut results: Vec<(String, usize, Vec<f64>)> = Vec::new();
    for round in 1..=rounds {
        let counts: &[usize] = if threads == 1 { &[1] } else { &[1, threads] };
        for &t in counts {
            for (name, get) in &clients {
                let rps = measure(get, &url, t, secs);
                println!("round {round} {name:<12} threads={t:<3} req/s={rps:.0}");
                match results.iter_mut().find(|(n, th, _)| n == name && *th == t) {
                    Some((_, _, v)) => v.push(rps),
                    None => results.push((name.to_string(), t, vec![rps])),
                }
            }
        }
    }
    println!("\nmedian over {rounds} rounds of {secs} s:");
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for t in [1, threads] {
        let ours = results.iter().find(|(n, th, _)| n == "http-client" && *th == t).map(|r| median(&r.2));
        let theirs = results.iter().find(|(n, th, _)| n == "ureq" && *th == t).map(|r| median(&r.2));
        if let (Some(a), Some(b)) = (ours, theirs) {
            println!("threads={t:<3} http-client {a:.0} req/s, ureq {b:.0} req/s, ratio {:.2}x", a / b);
        }
    }
}
