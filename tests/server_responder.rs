//! Answers from other threads: the worker is free while the answer is prepared, pipelined
//! requests wait their turn, keep-alive goes on, and responders that time out or are dropped
//! become 503 and 500.

mod server_support;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_toolkit::server::{Responder, Response};
use http_toolkit::utils::Method;
use server_support::{addr, start, Client};

#[test]
fn many_waiting_requests_do_not_pin_the_few_workers() {
    // Two workers; 40 requests wait at once for answers that one thread sends together.
    let (tx, rx) = mpsc::channel::<Responder>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b.threads(2).io_threads(1),
        move |s| {
            s.route(Method::Get, "/later/{n}", move |cx| {
                let n = cx.param("n").unwrap_or_default();
                let r = cx.responder();
                tx.lock().unwrap().send(r).unwrap();
                let _ = n;
                Response::later()
            })
            .unwrap();
            s.route(Method::Get, "/now", |_| Response::text("now")).unwrap();
        },
    );
    let a = addr(&h);
    let mut clients: Vec<Client> = (0..40).map(|_| Client::connect(a)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send(format!("GET /later/{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    let mut responders = Vec::new();
    for _ in 0..40 {
        responders.push(rx.recv_timeout(Duration::from_secs(10)).expect("every handler ran and returned"));
    }
    // While all 40 wait, the server still answers others at once.
    assert_eq!(Client::connect(a).get("/now").text(), "now");
    for (i, r) in responders.into_iter().enumerate() {
        assert!(r.is_open());
        r.send(Response::text(format!("answer {i}"))).unwrap();
    }
    let mut answers: Vec<String> = clients.iter_mut().map(|c| c.read().text()).collect();
    answers.sort();
    assert_eq!(answers.len(), 40);
    assert!(answers.iter().all(|t| t.starts_with("answer ")));
    // Keep-alive goes on after a deferred answer.
    assert_eq!(clients[0].get("/now").text(), "now");
}

#[test]
fn pipelined_requests_behind_a_waiting_one_keep_their_order() {
    let (tx, rx) = mpsc::channel::<Responder>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        move |s| {
            s.route(Method::Get, "/slow", move |cx| {
                tx.lock().unwrap().send(cx.responder()).unwrap();
                Response::later()
            })
            .unwrap();
            s.route(Method::Get, "/fast/{n}", |cx| {
                Response::text(format!("fast {}", cx.param("n").unwrap()))
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(
        b"GET /fast/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast/2 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(c.read().text(), "fast 1");
    let responder = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // More requests arrive while the answer is pending.
    c.send(b"GET /fast/3 HTTP/1.1\r\nHost: t\r\n\r\n");
    c.stream().set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    assert_eq!(c.fill(), 0, "nothing may overtake the waiting answer");
    c.stream().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let sender = std::thread::spawn(move || responder.send(Response::text("slow")).is_ok());
    assert!(sender.join().unwrap());
    assert_eq!(c.read().text(), "slow");
    assert_eq!(c.read().text(), "fast 2");
    assert_eq!(c.read().text(), "fast 3");
}

#[test]
fn deadline_gives_503_and_a_dropped_responder_500() {
    let kept: Arc<Mutex<Vec<Responder>>> = Arc::default();
    let kept2 = kept.clone();
    let h = start(
        |b| b.responder_timeout(Duration::from_millis(200)),
        move |s| {
            s.route(Method::Get, "/never", move |cx| {
                kept2.lock().unwrap().push(cx.responder());
                Response::later()
            })
            .unwrap();
            s.route(Method::Get, "/dropped", |cx| {
                let r = cx.responder();
                std::thread::spawn(move || drop(r));
                Response::later()
            })
            .unwrap();
            s.route(Method::Get, "/own-deadline", |cx| {
                let r = cx.responder_with_timeout(Duration::from_millis(50));
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(500));
                    // Too late: the client was told 503 already.
                    assert!(r.send(Response::text("late")).is_err());
                });
                Response::later()
            })
            .unwrap();
            s.set_status_handler(503, |_cx, r| r.with_header("X-Shaped", "503"));
        },
    );
    let mut c = Client::connect(addr(&h));
    let t0 = Instant::now();
    let r = c.get("/never");
    assert_eq!((r.status(), r.header("x-shaped")), (503, Some("503")));
    assert!(t0.elapsed() >= Duration::from_millis(190), "{:?}", t0.elapsed());
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(!kept.lock().unwrap()[0].is_open());
    let r = c.get("/dropped");
    assert_eq!(r.status(), 500);
    let t0 = Instant::now();
    assert_eq!(c.get("/own-deadline").status(), 503);
    assert!(t0.elapsed() < Duration::from_millis(190), "{:?}", t0.elapsed());
    // The connection is still good.
    c.send(b"GET /dropped HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().status(), 500);
}

#[test]
fn responders_stream_chunks_and_trailers() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Get, "/stream", |cx| {
                let r = cx.responder();
                std::thread::spawn(move || {
                    let _ = r.send(Response::from_writer_with_trailers(|w| {
                        for i in 1..=3 {
                            writeln!(w, "part {i}")?;
                            w.flush()?;
                        }
                        let mut t = http_toolkit::utils::Headers::new();
                        t.append("X-Parts", "3").unwrap();
                        Ok(t)
                    }));
                });
                Response::later()
            })
            .unwrap();
            s.route(Method::Get, "/fixed-trailer", |_| {
                Response::from_writer(|w| w.write_all(b"body")).with_trailer("X-Sum", "42")
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /stream HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n\r\n");
    let mut raw = Vec::new();
    // Read until the end of the chunked body (trailer section ends with an empty line).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !raw.ends_with(b"\r\n\r\n") || !String::from_utf8_lossy(&raw).contains("\r\n0\r\n") {
        assert!(Instant::now() < deadline);
        let mut buf = [0u8; 1024];
        let n = std::io::Read::read(&mut c.reader, &mut buf).unwrap();
        assert!(n > 0);
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    assert!(text.contains("part 1\n") && text.contains("part 3\n"), "{text}");
    assert!(text.ends_with("0\r\nx-parts: 3\r\n\r\n"), "{text}");
    c.send(b"GET /fixed-trailer HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read();
    assert_eq!((r.text().as_str(), r.header("trailer")), ("body", Some("X-Sum")));
}

#[test]
fn a_long_pipeline_of_answers_sent_at_once() {
    // Each handler answers through its responder before returning: the answers are written
    // in a loop, however long the pipeline (no recursion per request).
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Get, "/now/{n}", |cx| {
                let n = cx.param("n").unwrap_or_default();
                let r = cx.responder();
                r.send(Response::text(n)).unwrap();
                Response::later()
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    let n = 3000;
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend_from_slice(format!("GET /now/{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    let mut writer = c.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(&batch).is_ok());
    for i in 0..n {
        assert_eq!(c.read().text(), i.to_string());
    }
    assert!(sender.join().unwrap());
}

#[test]
fn a_panicking_body_writer_closes_its_connection_only() {
    let h = start(
        |b| b.threads(2).io_threads(1),
        |s| {
            s.route(Method::Get, "/bad-stream", |_| {
                Response::from_writer(|w| {
                    w.write_all(b"partial")?;
                    panic!("the writer broke");
                })
            })
            .unwrap();
            s.route(Method::Get, "/ok", |_| Response::text("ok")).unwrap();
        },
    );
    for _ in 0..4 {
        // More panics than workers: none of them may take a worker down.
        let mut c = Client::connect(addr(&h));
        c.send(b"GET /bad-stream HTTP/1.1\r\nHost: t\r\n\r\n");
        let mut all = Vec::new();
        let _ = c.reader.read_to_end(&mut all);
        assert!(!String::from_utf8_lossy(&all).contains("\r\n0\r\n\r\n"), "the body must not look complete");
    }
    assert_eq!(Client::connect(addr(&h)).get("/ok").text(), "ok");
}

#[test]
fn shutdown_waits_for_a_pending_answer_within_the_grace_period() {
    let (tx, rx) = mpsc::channel::<Responder>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b.shutdown_grace(Duration::from_secs(5)),
        move |s| {
            s.route(Method::Get, "/later", move |cx| {
                tx.lock().unwrap().send(cx.responder()).unwrap();
                Response::later()
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
    let responder = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let h = Arc::new(h);
    let h2 = h.clone();
    let stopper = std::thread::spawn(move || {
        let t0 = Instant::now();
        h2.shutdown();
        t0.elapsed()
    });
    std::thread::sleep(Duration::from_millis(200));
    responder.send(Response::text("in time")).unwrap();
    let r = c.read();
    assert_eq!(r.text(), "in time");
    assert_eq!(r.header("connection"), Some("close"));
    let took = stopper.join().unwrap();
    assert!(took < Duration::from_secs(4), "{took:?}");
}
