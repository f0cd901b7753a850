//! Keep-alive GET loop with ureq 3: `ureq_get URL SECONDS THREADS`; prints requests per second.
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8080/".into());
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let threads: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let agent: ureq::Agent =
        ureq::Agent::config_builder().max_idle_connections_per_host(threads.max(3)).build().into();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let agent = agent.clone();
            let url = url.clone();
            let count = count.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                while Instant::now() < deadline {
                    let mut resp = agent.get(&url).call().expect("request");
                    buf.clear();
                    resp.body_mut().as_reader().read_to_end(&mut buf).expect("body");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let n = count.load(Ordering::Relaxed);
    println!("ureq threads={threads} requests={n} req/s={:.0}", n as f64 / start.elapsed().as_secs_f64());
}
