//! Heap allocations per request on the hello path, counted by a global allocator that
//! counts: a server in this process answers keep-alive GETs from a client thread over
//! loopback; the allocations of the whole process during the timed part (after a warm-up)
//! are divided by the requests.
//!
//! `cargo run --release --example allocs [-- REQUESTS [--wrap]]` (default 20000; `--wrap`
//! registers a middleware layer that passes every request on). The client's side is
//! a raw socket that reuses its buffers, so nearly all the count is the server's; a run with
//! 0 requests measures what the idle server allocates in the same time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};

use http_server::{Response, Server};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sends `n` GETs one after another on `s`, reading each response whole.
fn run(s: &mut TcpStream, n: u64, buf: &mut [u8]) {
    const REQ: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
    for _ in 0..n {
        s.write_all(REQ).unwrap();
        let mut got = 0;
        // The hello response is small and ends with its body: read until the body is there.
        loop {
            got += s.read(&mut buf[got..]).unwrap();
            if buf[..got].ends_with(b"Hello, world!") {
                break;
            }
        }
    }
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let server =
        Server::builder().port(0).bind("127.0.0.1").max_requests_per_connection(u32::MAX).build().unwrap();
    server.add_resource("/", |_, _| Response::text("Hello, world!"));
    if std::env::args().any(|a| a == "--wrap") {
        // A middleware layer that passes every request on.
        server.wrap(|cx, next| next.run(cx));
    }
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr().socket_addr().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 4096];
    run(&mut s, 2000, &mut buf);
    let (a0, b0) = (ALLOCS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    let t0 = std::time::Instant::now();
    run(&mut s, n, &mut buf);
    let took = t0.elapsed();
    let (a1, b1) = (ALLOCS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    let per = |x: u64| if n > 0 { x as f64 / n as f64 } else { x as f64 };
    println!(
        "requests {n}: {:.2} allocations and {:.0} bytes allocated per request ({} in {:.2} s)",
        per(a1 - a0),
        per(b1 - b0),
        a1 - a0,
        took.as_secs_f64()
    );
    drop(s);
    handle.shutdown();
}
