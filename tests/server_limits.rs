//! Timeouts, caps and concurrency: each made to fire over loopback, with other clients still
//! served meanwhile.

mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use http_toolkit::server::Response;
use server_support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn slowloris_is_cut_off_while_others_are_served() {
    let h = start(
        |b| b.header_timeout(ms(300)).threads(2).io_threads(1),
        |s| s.add_resource("/", |_, _| Response::text("ok")),
    );
    let mut slow = TcpStream::connect(addr(&h)).unwrap();
    slow.set_read_timeout(Some(ms(50))).unwrap();
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    let mut good = Client::connect(addr(&h));
    let mut got = Vec::new();
    // Trickle one byte every 50 ms; the server must close within the header timeout plus a
    // sweep, not wait for the head.
    let mut closed = false;
    for _ in 0..60 {
        assert_eq!(good.get("/").text(), "ok");
        if slow.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match slow.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
            }
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the slow client was never cut off");
    let took = started.elapsed();
    assert!(took >= ms(250) && took < ms(2000), "{took:?}");
    if !got.is_empty() {
        assert_eq!(status_of(&String::from_utf8_lossy(&got)), 408);
    }
}

#[test]
fn silent_and_idle_connections_are_closed() {
    let h = start(
        |b| b.header_timeout(ms(300)).keep_alive_timeout(ms(200)),
        |s| s.add_resource("/", |_, _| Response::text("ok")),
    );
    // Connected, never a byte.
    let started = Instant::now();
    let mut silent = Client::connect(addr(&h));
    assert!(silent.is_closed());
    assert!(started.elapsed() >= ms(250), "{:?}", started.elapsed());
    // Idle after a request.
    let mut idle = Client::connect(addr(&h));
    assert_eq!(idle.get("/").status(), 200);
    let started = Instant::now();
    assert!(idle.is_closed());
    let took = started.elapsed();
    assert!(took >= ms(150) && took < ms(2000), "{took:?}");
    assert_eq!(h.open_connections(), 0);
}

#[test]
fn body_timeout_fires() {
    let h = start(
        |b| b.body_timeout(ms(200)),
        |s| s.add_resource("/", |req, _| Response::text(format!("{:?}", req.body().len()))),
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    let started = Instant::now();
    let r = c.read();
    assert_eq!(r.status(), 408);
    assert!(started.elapsed() >= ms(150));
    assert!(c.is_closed());
}

#[test]
fn write_timeout_drops_a_client_that_never_reads() {
    let h = start(
        |b| b.write_timeout(ms(300)).threads(3).io_threads(1),
        |s| {
            s.add_resource("/big", |_, _| Response::bytes("application/octet-stream", vec![7u8; 64 << 20]));
            s.add_resource("/", |_, _| Response::text("ok"));
        },
    );
    let mut lazy = Client::connect(addr(&h));
    lazy.send(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut good = Client::connect(addr(&h));
    assert_eq!(good.get("/").text(), "ok");
    let started = Instant::now();
    while h.open_connections() > 1 {
        assert_eq!(good.get("/").text(), "ok");
        assert!(started.elapsed() < Duration::from_secs(5), "the lazy client was never dropped");
        std::thread::sleep(ms(20));
    }
    assert!(started.elapsed() >= ms(250));
    assert_eq!(good.get("/").text(), "ok");
}

#[test]
fn requests_per_connection_cap() {
    let h = start(|b| b.max_requests_per_connection(3), |s| s.add_resource("/", |_, _| Response::text("ok")));
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/").header("connection"), None);
    assert_eq!(c.get("/").header("connection"), None);
    assert_eq!(c.get("/").header("connection"), Some("close"));
    assert!(c.is_closed());
}

/// A server whose `/slow` handler waits at `gate` and then for `release`.
fn gated(
    gate: &Arc<Barrier>,
    release: &Arc<Mutex<()>>,
    configure: impl FnOnce(http_toolkit::server::ServerBuilder) -> http_toolkit::server::ServerBuilder,
) -> http_toolkit::server::ServerHandle {
    let gate = gate.clone();
    let release = release.clone();
    start(
        |b| configure(b.threads(4).io_threads(1).request_count_limit(2)),
        move |s| {
            s.add_resource("/slow", move |_, _| {
                gate.wait();
                drop(release.lock().unwrap());
                Response::text("slow")
            });
            s.add_resource("/", |_, _| Response::text("fast"));
        },
    )
}

/// Two clients whose `/slow` requests are inside their handler when this returns.
fn hold_both_slots(a: std::net::SocketAddr, gate: &Barrier) -> Vec<std::thread::JoinHandle<String>> {
    let workers = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(a);
                c.get("/slow").text()
            })
        })
        .collect();
    gate.wait();
    workers
}

#[test]
fn busy_requests_wait_in_the_queue_then_get_503() {
    let gate = Arc::new(Barrier::new(3));
    let release = Arc::new(Mutex::new(()));
    let hold = release.lock().unwrap();
    let h = gated(&gate, &release, |b| b.queue_timeout(ms(300)));
    let a = addr(&h);
    let workers = hold_both_slots(a, &gate);
    // A request that finds every slot taken waits parked, and gets 503 when its wait is over.
    let mut c = Client::connect(a);
    let t0 = Instant::now();
    let r = c.get("/");
    assert_eq!((r.status(), r.header("retry-after")), (503, Some("1")));
    assert!(t0.elapsed() >= ms(250), "{:?}", t0.elapsed());
    // One that waits while a slot frees up is served.
    let waiter = std::thread::spawn(move || {
        let mut c = Client::connect(a);
        c.get("/").text()
    });
    std::thread::sleep(ms(50));
    drop(hold);
    assert_eq!(waiter.join().unwrap(), "fast");
    for w in workers {
        assert_eq!(w.join().unwrap(), "slow");
    }
    assert_eq!(c.get("/").text(), "fast");
}

/// Waits (2 s at most) until no request holds a handler slot.
fn no_slot_held(h: &http_toolkit::server::ServerHandle) -> bool {
    let t0 = Instant::now();
    while h.active_requests() != 0 {
        if t0.elapsed() > Duration::from_secs(2) {
            return false;
        }
        std::thread::sleep(ms(5));
    }
    true
}

#[test]
fn a_slot_kept_for_pipelined_requests_goes_back_when_the_turn_ends() {
    // One slot for two connections that pipeline at once: a turn keeps its slot from one
    // request to the next, and the other connection's requests, queued meanwhile, are served
    // when the turn ends (none is refused, none waits for its timeout).
    let h = start(
        |b| b.threads(4).io_threads(1).request_count_limit(1).queue_timeout(Duration::from_secs(5)),
        |s| s.add_resource("/", |_, _| Response::text("fast")),
    );
    let a = addr(&h);
    let batch = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".repeat(40);
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let batch = batch.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(a);
                let mut answers = Vec::new();
                for _ in 0..3 {
                    c.send(&batch);
                    for _ in 0..40 {
                        let r = c.read();
                        answers.push((r.status(), r.text()));
                    }
                }
                answers
            })
        })
        .collect();
    for c in clients {
        let answers = c.join().unwrap();
        assert_eq!(answers.len(), 120);
        assert!(answers.iter().all(|(status, text)| *status == 200 && text == "fast"), "{answers:?}");
    }
    assert!(no_slot_held(&h), "a slot is still held: {}", h.active_requests());
    // The slot is free for the next one.
    assert_eq!(Client::connect(a).get("/").text(), "fast");
    assert!(no_slot_held(&h));
}

#[test]
fn request_count_limit_answers_503_without_a_queue() {
    let gate = Arc::new(Barrier::new(3));
    let release = Arc::new(Mutex::new(()));
    let hold = release.lock().unwrap();
    let h = gated(&gate, &release, |b| b.queue_size(0));
    assert_eq!(h.request_count_limit(), 2);
    let a = addr(&h);
    let workers = hold_both_slots(a, &gate);
    let mut c = Client::connect(a);
    let r = c.get("/");
    assert_eq!((r.status(), r.header("retry-after")), (503, Some("1")));
    drop(hold);
    for w in workers {
        assert_eq!(w.join().unwrap(), "slow");
    }
    assert_eq!(c.get("/").text(), "fast");
}

#[test]
fn connection_cap_answers_503() {
    let h = start(|b| b.max_connections(3), |s| s.add_resource("/", |_, _| Response::text("ok")));
    let mut held: Vec<Client> = (0..3).map(|_| Client::connect(addr(&h))).collect();
    for c in &mut held {
        assert_eq!(c.get("/").text(), "ok");
    }
    let out = raw(addr(&h), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(status_of(&out), 503, "{out}");
    drop(held.pop());
    // Once a slot is free, new connections are served again.
    let started = Instant::now();
    loop {
        let out = raw(addr(&h), b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        if status_of(&out) == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(ms(10));
    }
}

#[test]
fn idle_connections_do_not_hold_workers() {
    let h = start(|b| b.threads(2).io_threads(1), |s| s.add_resource("/", |_, _| Response::text("ok")));
    // Far more idle keep-alive connections than workers.
    let mut idle: Vec<Client> = (0..300).map(|_| Client::connect(addr(&h))).collect();
    for c in idle.iter_mut().step_by(3) {
        assert_eq!(c.get("/").text(), "ok");
    }
    let mut active = Client::connect(addr(&h));
    for _ in 0..100 {
        assert_eq!(active.get("/").text(), "ok");
    }
    // Every idle one is still alive and served.
    for c in &mut idle {
        assert_eq!(c.get("/").text(), "ok");
    }
    assert_eq!(h.open_connections(), 301);
}

#[test]
fn a_blocked_handler_does_not_stall_other_connections() {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let h = start(
        |b| b.threads(4).io_threads(1),
        move |s| {
            s.add_resource("/block", move |_, _| {
                let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
                Response::text("unblocked")
            });
            s.add_resource("/", |_, _| Response::text("ok"));
        },
    );
    let a = addr(&h);
    let blocked = std::thread::spawn(move || Client::connect(a).get("/block").text());
    std::thread::sleep(ms(50));
    let started = Instant::now();
    let mut c = Client::connect(a);
    for _ in 0..50 {
        assert_eq!(c.get("/").text(), "ok");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    tx.send(()).unwrap();
    assert_eq!(blocked.join().unwrap(), "unblocked");
}

#[test]
fn graceful_shutdown_finishes_requests_in_flight() {
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let go_rx = Mutex::new(go_rx);
    let h = start(
        |b| b.shutdown_grace(Duration::from_secs(5)),
        move |s| {
            s.add_resource("/work", move |_, _| {
                let _ = entered_tx.lock().unwrap().send(());
                let _ = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(5));
                Response::text("done")
            });
            s.add_resource("/", |_, _| Response::text("ok"));
        },
    );
    let a = addr(&h);
    let mut idle = Client::connect(a);
    assert_eq!(idle.get("/").text(), "ok");
    let in_flight = std::thread::spawn(move || {
        let mut c = Client::connect(a);
        let r = c.get("/work");
        (r.text(), r.header("connection").map(str::to_owned))
    });
    entered_rx.recv().unwrap();
    let h = Arc::new(h);
    let stopper = {
        let h = h.clone();
        std::thread::spawn(move || h.shutdown())
    };
    // The idle connection is closed and new connections are refused while the request runs.
    assert!(idle.is_closed());
    let started = Instant::now();
    while TcpStream::connect(a).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(5), "still accepting");
        std::thread::sleep(ms(10));
    }
    go_tx.send(()).unwrap();
    let (text, connection) = in_flight.join().unwrap();
    assert_eq!(text, "done");
    assert_eq!(connection.as_deref(), Some("close"));
    stopper.join().unwrap();
    assert_eq!(h.open_connections(), 0);
}

#[test]
fn bodies_read_together_stay_within_the_body_buffer_limit() {
    let h = start(
        |b| b.body_buffer_limit(100_000),
        |s| s.add_resource("/up", |req, _| Response::text(format!("got {}", req.body().len().unwrap_or(0)))),
    );
    let head = |n: usize| {
        format!("POST /up HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n\r\n")
    };
    // A body of 80,000 bytes, 60,000 of them sent: the server holds them.
    let mut a = Client::connect(addr(&h));
    a.send(head(80_000).as_bytes());
    a.send(&vec![b'a'; 60_000]);
    std::thread::sleep(ms(100));
    // Another 60,000 would pass the limit: 503 at once, and that connection closes.
    let mut b = Client::connect(addr(&h));
    b.send(head(60_000).as_bytes());
    b.send(&vec![b'b'; 60_000]);
    let r = b.read();
    assert_eq!((r.status(), r.header("connection")), (503, Some("close")));
    // The first finishes; its share goes back, and the next upload of that size fits.
    a.send(&vec![b'a'; 20_000]);
    assert_eq!(a.read().text(), "got 80000");
    let mut c = Client::connect(addr(&h));
    c.send(head(60_000).as_bytes());
    c.send(&vec![b'c'; 60_000]);
    assert_eq!(c.read().text(), "got 60000");
}

#[test]
fn a_body_still_arriving_at_shutdown_is_served_within_the_grace_period() {
    let h = start(
        |b| b.shutdown_grace(Duration::from_secs(5)),
        |s| s.add_resource("/up", |req, _| Response::text(format!("got {}", req.body().len().unwrap_or(0)))),
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n01234");
    // Let the server read the head (until then the connection looks idle and is closed).
    std::thread::sleep(ms(200));
    let h = Arc::new(h);
    let stopping = {
        let h = h.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            h.shutdown();
            t0.elapsed()
        })
    };
    std::thread::sleep(ms(200));
    c.send(b"56789");
    let r = c.read();
    assert_eq!((r.status(), r.text().as_str()), (200, "got 10"));
    assert_eq!(r.header("connection"), Some("close"), "the server is stopping");
    let took = stopping.join().unwrap();
    assert!(took < Duration::from_secs(4), "shutdown waited for the upload, not the grace period: {took:?}");
}

#[test]
fn a_blocking_response_reader_does_not_stall_other_connections() {
    /// A reader that waits for a signal before its bytes (a slow source behind a response).
    struct Gate(Mutex<mpsc::Receiver<()>>, bool);
    impl Read for Gate {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 {
                return Ok(0);
            }
            let _ = self.0.lock().unwrap().recv_timeout(Duration::from_secs(10));
            self.1 = true;
            buf[..4].copy_from_slice(b"late");
            Ok(4)
        }
    }
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(Mutex::new(Some(rx)));
    let h = start(
        |b| b.threads(4).io_threads(1),
        move |s| {
            let rx = rx.clone();
            s.add_resource("/slow", move |_, _| {
                let rx = rx.lock().unwrap().take().expect("one request");
                Response::stream(Gate(Mutex::new(rx), false), Some(4))
            });
            s.add_resource("/", |_, _| Response::text("ok"));
        },
    );
    let a = addr(&h);
    let slow = std::thread::spawn(move || Client::connect(a).get("/slow").text());
    std::thread::sleep(ms(50));
    // The engine is inside the reader on the one seat: the seat goes to another worker.
    let started = Instant::now();
    let mut c = Client::connect(a);
    for _ in 0..50 {
        assert_eq!(c.get("/").text(), "ok");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    tx.send(()).unwrap();
    assert_eq!(slow.join().unwrap(), "late");
}
