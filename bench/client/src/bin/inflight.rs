//! N concurrent GETs of one URL, all in flight at once, with http-client: on one thread with
//! `Client::multi` (`multi`), or a thread per request with `Client::send` (`threads`, 256 KiB
//! stacks). Prints one JSON line: wall time, answers, errors, and the threads of this process
//! while every request was in flight. `bench/inflight.py` runs it.
//!
//! `inflight multi|threads N URL`

use std::time::{Duration, Instant};

/// This process's thread count (Linux; 0 elsewhere).
fn threads_now() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, n, url) = match args.as_slice() {
        [_, mode, n, url] => (mode.as_str(), n.parse::<usize>().expect("a count"), url.clone()),
        _ => panic!("usage: inflight multi|threads N URL"),
    };
    let client =
        http_client::Client::builder().cookies(false).timeout(Duration::from_secs(60)).build().unwrap();
    let start = Instant::now();
    let (mut ok, mut errors, peak) = (0usize, 0usize, threads_now());
    let mut peak = peak;
    match mode {
        "multi" => {
            let mut multi = client.multi().unwrap();
            for _ in 0..n {
                multi.submit(url.as_str());
            }
            peak = peak.max(threads_now());
            let submitted = start.elapsed();
            let mut times = Vec::with_capacity(n);
            for (_, result) in multi.completions() {
                times.push(start.elapsed());
                match result.and_then(|r| r.bytes()) {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("first error: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            if std::env::var_os("INFLIGHT_TIMES").is_some() {
                let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
                eprintln!(
                    "submitted in {submitted:?}; answers at p0 {:?} p50 {:?} p90 {:?} p100 {:?}",
                    at(0.0),
                    at(0.5),
                    at(0.9),
                    at(1.0)
                );
            }
        }
        "threads" => {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let client = client.clone();
                    let url = url.clone();
                    std::thread::Builder::new()
                        .stack_size(256 * 1024)
                        .spawn(move || {
                            client.send(url.as_str()).and_then(|r| r.bytes()).map_err(|e| e.to_string())
                        })
                        .expect("a thread")
                })
                .collect();
            peak = peak.max(threads_now());
            for h in handles {
                match h.join().expect("no panic") {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("first error: {e}");
                        }
                        errors += 1;
                    }
                }
            }
        }
        other => panic!("unknown mode {other}"),
    }
    let wall = start.elapsed().as_secs_f64();
    println!("{{\"wall\": {wall:.3}, \"ok\": {ok}, \"errors\": {errors}, \"threads\": {peak}}}");
}
