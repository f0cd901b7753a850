//! The access log in the Common and Combined Log Formats over loopback sockets, through the
//! `log` crate: byte counts as sent (bytes, a file the engine writes, a chunked writer, a
//! `HEAD`, a 304, a refusal before the body), `-` for what is unknown, the time, the Basic
//! user, and fields from the peer escaped so that no line can be broken or forged.

mod server_support;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http_toolkit::server::{AccessLog, BasicAuth, Response, ServerHandle};
use http_toolkit::utils::{Limits, Method};
use server_support::{addr, raw, start, Client};

/// Keeps every line of the `http_server::access` target.
struct Capture(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target() == "http_server::access"
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push((r.level(), r.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));
/// The tests share the one logger: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Info);
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    CAPTURE.0.lock().unwrap().clear();
    guard
}

/// The `n`th line logged, waiting up to 10 s for it (the hook runs after the response is
/// out, maybe after the client has read it).
fn line(n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((level, l)) = CAPTURE.0.lock().unwrap().get(n) {
            assert_eq!(*level, log::Level::Info);
            return l.clone();
        }
        assert!(Instant::now() < deadline, "no line {n}: {:?}", CAPTURE.0.lock().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The part of a line after the time: `"request" status bytes ...`.
fn after_time(l: &str) -> &str {
    l.split_once("] ").expect("a time").1
}

fn server(format: AccessLog, dir: &std::path::Path) -> ServerHandle {
    let limits = Limits { max_body: 100, ..Limits::default() };
    start(
        |b| b.limits(limits),
        |s| {
            s.route([Method::Get, Method::Post], "/hi", |_cx| Response::text("hello")).unwrap();
            s.route(Method::Get, "/chunked", |_cx| {
                Response::from_writer(|w| {
                    for _ in 0..10 {
                        w.write_all(&[b'x'; 1000])?;
                    }
                    Ok(())
                })
            })
            .unwrap();
            s.route(Method::Get, "/reader", |_cx| {
                Response::stream(std::io::repeat(b'y').take_bytes(5000), Some(5000))
            })
            .unwrap();
            s.serve_dir("/files", dir).unwrap();
            s.set_log_hook(format.hook());
        },
    )
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        std::io::Read::take(self, n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

fn files() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("access-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), vec![b'a'; 3000]).unwrap();
    dir
}

#[test]
fn common_lines_count_the_body_bytes_sent() {
    let _serial = serial();
    let h = server(AccessLog::common(), &files());
    let mut c = Client::connect(addr(&h));
    let before = std::time::SystemTime::now();
    assert_eq!(c.get("/hi").text(), "hello");
    let l = line(0);
    assert!(l.starts_with("127.0.0.1 - - ["), "{l}");
    assert_eq!(after_time(&l), "\"GET /hi HTTP/1.1\" 200 5");
    // The time: this minute, in UTC, as CLF writes it.
    let date = httpdate::fmt_http_date(before); // "Sun, 06 Nov 1994 08:49:37 GMT"
    let p: Vec<&str> = date.split(' ').collect();
    let want = format!("[{}/{}/{}:{}", p[1], p[2], p[3], &p[4][..5]);
    assert!(l.contains(&want) && l.contains(" +0000] "), "{l} (want {want})");

    c.send(b"HEAD /hi HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.try_read(&Method::Head).unwrap().status(), 200);
    assert_eq!(after_time(&line(1)), "\"HEAD /hi HTTP/1.1\" 200 -");

    let file = c.get("/files/a.txt");
    assert_eq!(file.body.len(), 3000);
    assert_eq!(after_time(&line(2)), "\"GET /files/a.txt HTTP/1.1\" 200 3000");
    let etag = file.header("etag").unwrap().to_owned();
    c.send(format!("GET /files/a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n").as_bytes());
    assert_eq!(c.read().status(), 304);
    assert_eq!(after_time(&line(3)), "\"GET /files/a.txt HTTP/1.1\" 304 -");
    c.send(b"GET /files/a.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=10-19\r\n\r\n");
    assert_eq!(c.read().body.len(), 10);
    assert_eq!(after_time(&line(4)), "\"GET /files/a.txt HTTP/1.1\" 206 10");

    assert_eq!(c.get("/chunked").body.len(), 10_000);
    assert_eq!(after_time(&line(5)), "\"GET /chunked HTTP/1.1\" 200 10000");
    assert_eq!(c.get("/reader").body.len(), 5000);
    assert_eq!(after_time(&line(6)), "\"GET /reader HTTP/1.1\" 200 5000");
    assert_eq!(c.get("/nowhere").status(), 404);
    let l = line(7);
    let bytes: u64 = after_time(&l).rsplit(' ').next().unwrap().parse().expect("the page's size");
    assert!(bytes > 0, "{l}");

    // A body over the limit, refused before it is read.
    let out = raw(addr(&h), b"POST /hi HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(after_time(&line(8)).starts_with("\"POST /hi HTTP/1.1\" 413 "), "{}", line(8));
    h.shutdown();
}

#[test]
fn combined_lines_escape_what_peers_sent() {
    let _serial = serial();
    let h = server(AccessLog::combined(), &files());
    let mut c = Client::connect(addr(&h));
    // `"-\"` in the referer, a tab, and UTF-8 in the user agent; a Basic user with a quote.
    let request = b"GET /hi?q=%22a%22 HTTP/1.1\r\nHost: t\r\nReferer: http://r.example/?\"x\"\\\tq\r\nUser-Agent: caf\xc3\xa9/1 \"evil\" 200 9\r\nAuthorization: Basic ImFubiI6cHc=\r\n\r\n".to_vec();
    c.send(&request);
    assert_eq!(c.read().status(), 200);
    let l = line(0);
    assert!(l.starts_with(r#"127.0.0.1 - \"ann\" ["#), "{l}");
    assert_eq!(
        after_time(&l),
        r#""GET /hi?q=%22a%22 HTTP/1.1" 200 5 "http://r.example/?\"x\"\\\x09q" "caf\xc3\xa9/1 \"evil\" 200 9""#
    );
    // Without the fields: `-` in quotes.
    assert_eq!(c.get("/hi").status(), 200);
    assert!(line(1).ends_with(r#" 200 5 "-" "-""#), "{}", line(1));
    // Every line is one line of printable ASCII.
    for (_, l) in CAPTURE.0.lock().unwrap().iter() {
        assert!(l.bytes().all(|b| (b' '..=b'~').contains(&b)), "{l:?}");
    }
    h.shutdown();
}

#[test]
fn a_basic_user_is_logged_whether_or_not_it_was_accepted() {
    let _serial = serial();
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Get, "/admin", |_cx| Response::text("in")).unwrap();
            s.wrap_with(BasicAuth::new("ann", "pw"));
            s.set_log_hook(AccessLog::common().level(log::Level::Info).hook());
        },
    );
    let mut c = Client::connect(addr(&h));
    // "ann:pw", then "bob:no".
    for (field, status) in [("YW5uOnB3", 200), ("Ym9iOm5v", 401)] {
        c.send(format!("GET /admin HTTP/1.1\r\nHost: t\r\nAuthorization: Basic {field}\r\n\r\n").as_bytes());
        assert_eq!(c.read().status(), status);
    }
    assert!(line(0).starts_with("127.0.0.1 - ann ["), "{}", line(0));
    assert!(line(1).starts_with("127.0.0.1 - bob ["), "{}", line(1));
    assert!(after_time(&line(1)).starts_with("\"GET /admin HTTP/1.1\" 401 "), "{}", line(1));
    h.shutdown();
}
