//! What the server writes to the `log` crate (handler panics, deadlines that passed), the
//! line format of the debug switch, and the switch itself turned on and off while running.

mod server_support;

use std::sync::{mpsc, Mutex};
use std::time::Duration;

use http_toolkit::server::Response;
use server_support::{addr, start, Client};

/// Keeps every record of the `http_server` target.
struct Capture(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("http_server")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

fn captured(what: &str) -> Option<log::Level> {
    CAPTURE.0.lock().unwrap().iter().find(|(_, m)| m.contains(what)).map(|(l, _)| *l)
}

#[test]
fn panics_and_deadlines_are_logged_and_the_debug_line_says_what_happened() {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Debug);
    let (tx, rx) = mpsc::channel::<String>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b.header_timeout(Duration::from_millis(200)),
        move |s| {
            s.add_resource("/boom", |_, _| -> Response { panic!("exploded on purpose") });
            s.add_resource("/ok", |_, _| Response::text("fine"));
            s.set_log_hook(move |record| {
                let _ = tx.lock().unwrap().send(record.to_string());
            });
        },
    );
    h.set_debug(true);
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/boom").status(), 500);
    assert_eq!(captured("exploded on purpose"), Some(log::Level::Error));
    assert_eq!(c.get("/ok?x=1").text(), "fine");
    let lines: Vec<String> = (0..2).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    assert!(lines[0].contains("\"GET /boom HTTP/1.1\" 500"), "{}", lines[0]);
    assert!(
        lines[1].contains("127.0.0.1:") && lines[1].contains("\"GET /ok?x=1 HTTP/1.1\" 200 4 "),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with("ms"), "{}", lines[1]);
    h.set_debug(false);
    assert_eq!(c.get("/ok").text(), "fine");
    // A head that never ends: the deadline is logged.
    let mut slow = Client::connect(addr(&h));
    slow.send(b"GET /ok HTTP/1.1\r\n");
    let started = std::time::Instant::now();
    while captured("deadline passed (sending a request head)").is_none() {
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", CAPTURE.0.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(captured("deadline passed (sending a request head)"), Some(log::Level::Debug));
}

#[test]
fn streams_are_logged_as_they_start_and_end_with_the_bytes_that_went() {
    let (tx, rx) = mpsc::channel::<(String, bool, u64, u16)>();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        move |s| {
            s.add_context_resource("/feed", |cx| {
                if let Ok(feed) = cx.responder().stream(Response::bytes("text/plain", "")) {
                    std::thread::spawn(move || {
                        feed.send("abc").unwrap();
                        feed.send("de").unwrap();
                    });
                }
                Response::later()
            });
            s.add_resource("/reader", |_, _| {
                Response::stream(std::io::Read::take(std::io::repeat(b'r'), 7000), None)
            });
            s.set_log_hook(move |r| {
                let record = (r.request.path().to_owned(), r.stream_start, r.bytes, r.status);
                let _ = tx.lock().unwrap().send(record);
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/feed").text(), "abcde");
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("a record");
    assert_eq!(next(), ("/feed".to_owned(), true, 0, 200));
    assert_eq!(next(), ("/feed".to_owned(), false, 5, 200));
    assert_eq!(c.get("/reader").body.len(), 7000);
    assert_eq!(next(), ("/reader".to_owned(), false, 7000, 200));
    h.shutdown();
}
