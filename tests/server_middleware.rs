//! Middleware over loopback sockets: CORS headers on every answer, the server's own
//! included (404, 405, 413 before and while a body is read, 417, 503 when busy and when the
//! body budget is spent, static files with 200, 206 and 301, a stream's head), preflights
//! through curl, the order of layers, early answers, scopes, panics, and the two passes of
//! a request answered by a responder.

mod programs;
mod server_support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_toolkit::server::{BearerAuth, Cors, Event, RequestId, Response, ServerHandle};
use http_toolkit::utils::{Limits, Method};
use server_support::{addr, raw, start, status_of, Client};

const ORIGIN: &str = "http://app.test:8080";

/// The value of header `name` in a raw response, lower-case names.
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn assert_cors(raw: &str, status: u16) {
    assert_eq!(status_of(raw), status, "{raw}");
    assert_eq!(header(raw, "access-control-allow-origin"), Some(ORIGIN), "{status}: {raw}");
    assert_eq!(header(raw, "access-control-allow-credentials"), Some("true"), "{status}: {raw}");
    let vary = header(raw, "vary").unwrap_or("");
    assert!(vary.to_ascii_lowercase().contains("origin"), "{status}: {raw}");
}

struct Busy {
    started: mpsc::Sender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

fn cors_server(dir: &std::path::Path, busy: Busy) -> ServerHandle {
    let limits = Limits { max_body: 1000, ..Limits::default() };
    start(
        |b| b.limits(limits).body_buffer_limit(64).request_count_limit(1).queue_size(0).state(busy),
        |s| {
            s.route(Method::Get, "/ok", |_cx| Response::text("ok")).unwrap();
            s.route(Method::Put, "/only-put", |_cx| Response::new(204)).unwrap();
            s.route(Method::Post, "/upload", |cx| -> Result<Response, http_toolkit::server::HttpError> {
                Ok(Response::text(format!("{}", cx.read_body()?.len())))
            })
            .unwrap();
            s.route(Method::Get, "/busy", |cx| {
                let busy = cx.state::<Busy>();
                let _ = busy.started.send(());
                let _ = busy.release.lock().unwrap().recv_timeout(Duration::from_secs(10));
                Response::text("done")
            })
            .unwrap();
            s.route(Method::Get, "/events", |cx| {
                let events = cx.responder().events().expect("a stream");
                std::thread::spawn(move || {
                    let _ = events.send(&Event::data("one"));
                });
                Response::later()
            })
            .unwrap();
            s.serve_dir("/static", dir).unwrap();
            s.wrap_with(
                Cors::new().allow_origin(ORIGIN).allow_credentials(true).allow_headers(["content-type"]),
            );
        },
    )
}

/// Reads a response head (through the blank line) from a raw connection.
fn read_head(r: &mut BufReader<TcpStream>) -> String {
    let mut head = String::new();
    for _ in 0..100 {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    head + "\r\n"
}

fn send(a: SocketAddr, req: &str) -> String {
    raw(a, req.as_bytes())
}

#[test]
fn cors_headers_on_every_answer_the_servers_own_included() {
    let dir = std::env::temp_dir().join(format!("http-toolkit-mw-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.txt"), "0123456789").unwrap();
    std::fs::write(dir.join("sub/index.html"), "<p>index</p>").unwrap();
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let h = cors_server(&dir, Busy { started: started_tx, release: Mutex::new(release_rx) });
    let a = addr(&h);
    let o = format!("Origin: {ORIGIN}\r\n");
    let get =
        |path: &str| send(a, &format!("GET {path} HTTP/1.1\r\nHost: t\r\n{o}Connection: close\r\n\r\n"));
    assert_cors(&get("/ok"), 200);
    assert_cors(&get("/nowhere"), 404);
    assert_cors(&get("/only-put"), 405);
    // Static files: 200, a range (206), the redirect to the directory (301).
    assert_cors(&get("/static/a.txt"), 200);
    let range = send(
        a,
        &format!("GET /static/a.txt HTTP/1.1\r\nHost: t\r\n{o}Range: bytes=0-3\r\nConnection: close\r\n\r\n"),
    );
    assert_cors(&range, 206);
    assert_cors(&get("/static/sub"), 301);
    // A declared body over the limit: 413 before it is read.
    assert_cors(
        &send(a, &format!("POST /upload HTTP/1.1\r\nHost: t\r\n{o}Content-Length: 5000\r\n\r\n")),
        413,
    );
    // A chunked body that passes the body budget (64 bytes) while it is read: 503.
    let chunk = "x".repeat(100);
    let chunked = format!(
        "POST /upload HTTP/1.1\r\nHost: t\r\n{o}Transfer-Encoding: chunked\r\n\r\n64\r\n{chunk}\r\n0\r\n\r\n"
    );
    assert_cors(&send(a, &chunked), 503);
    // An expectation the server does not meet: 417.
    assert_cors(
        &send(a, &format!("GET /ok HTTP/1.1\r\nHost: t\r\n{o}Expect: teapot\r\nConnection: close\r\n\r\n")),
        417,
    );
    // Every handler slot taken and no queue: 503.
    let mut holder = Client::connect(a);
    holder.send(b"GET /busy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    started.recv_timeout(Duration::from_secs(10)).expect("the busy handler runs");
    assert_cors(&get("/ok"), 503);
    release.send(()).unwrap();
    assert_eq!(holder.read().text(), "done");
    // The slot is given back before the connection closes: the next request may have it.
    assert!(holder.is_closed());
    // A stream's head, from a responder on another thread.
    let s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s);
    r.get_mut().write_all(format!("GET /events HTTP/1.1\r\nHost: t\r\n{o}\r\n").as_bytes()).unwrap();
    let head = read_head(&mut r);
    assert_cors(&head, 200);
    assert_eq!(header(&head, "content-type"), Some("text/event-stream"));
    // Without an Origin: no CORS header, but Vary says responses differ by it.
    let plain = send(a, "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
    assert_eq!(header(&plain, "vary"), Some("Origin"));
    // Another origin: none either.
    let other =
        send(a, "GET /ok HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.test\r\nConnection: close\r\n\r\n");
    assert_eq!(header(&other, "access-control-allow-origin"), None);
    h.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What curl printed (`-i`: the head too), or `None` when curl is missing (see `programs`).
fn curl(args: &[&str]) -> Option<String> {
    let curl = programs::require("preflights_through_curl", "curl", "apt-get install curl")?;
    let out = Command::new(curl).args(["-s", "-i", "--max-time", "10"]).args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn preflights_through_curl() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Put, "/notes/{id}", |_cx| Response::new(204)).unwrap();
            s.wrap_with(
                Cors::new()
                    .allow_origin(ORIGIN)
                    .allow_methods([Method::Get, Method::Put, Method::Delete])
                    .allow_headers(["content-type", "authorization"])
                    .expose_headers(["x-request-id"])
                    .max_age(Duration::from_secs(600)),
            );
            s.wrap_with(BearerAuth::new(["t0ken"]));
        },
    );
    let url = format!("http://{}/notes/1", addr(&h));
    let origin = format!("Origin: {ORIGIN}");
    let asked = [
        "-X",
        "OPTIONS",
        "-H",
        &origin,
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Headers: content-type,authorization",
        &url,
    ];
    let Some(pre) = curl(&asked) else {
        h.shutdown();
        return;
    };
    // Answered by CORS before the bearer check (a preflight has no credentials).
    assert_eq!(status_of(&pre), 204, "{pre}");
    assert_eq!(header(&pre, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&pre, "access-control-allow-methods"), Some("GET, PUT, DELETE"));
    assert_eq!(header(&pre, "access-control-allow-headers"), Some("content-type, authorization"));
    assert_eq!(header(&pre, "access-control-max-age"), Some("600"));
    assert!(header(&pre, "vary").unwrap_or("").contains("Origin"));
    // The request itself: 401 without a token (with CORS headers, so the page can read it),
    // 204 with one.
    let refused = curl(&["-X", "PUT", "-H", &origin, &url]).unwrap();
    assert_eq!(status_of(&refused), 401, "{refused}");
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&refused, "www-authenticate"), Some("Bearer realm=\"api\""));
    let wrong = curl(&["-X", "PUT", "-H", &origin, "-H", "Authorization: Bearer nope", &url]).unwrap();
    assert!(header(&wrong, "www-authenticate").unwrap_or("").contains("invalid_token"), "{wrong}");
    let ok = curl(&["-X", "PUT", "-H", &origin, "-H", "Authorization: Bearer t0ken", &url]).unwrap();
    assert_eq!(status_of(&ok), 204, "{ok}");
    assert_eq!(header(&ok, "access-control-expose-headers"), Some("x-request-id"));
    // A preflight from an origin not allowed goes on: no CORS header, and the bearer check
    // refuses it.
    let evil =
        ["-X", "OPTIONS", "-H", "Origin: http://evil.test", "-H", "Access-Control-Request-Method: PUT", &url];
    let evil = curl(&evil).unwrap();
    assert_eq!(header(&evil, "access-control-allow-origin"), None, "{evil}");
    h.shutdown();
}

#[test]
fn layers_in_order_early_answers_scopes_and_panics() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Get, "/api/notes", |_cx| Response::text("notes")).unwrap();
            s.route(Method::Get, "/apix", |_cx| Response::text("apix")).unwrap();
            s.add_resource("/api/exact", |_r, _a| Response::text("exact"));
            s.route(Method::Get, "/boom", |_cx| Response::text("never")).unwrap();
            s.wrap(|cx, next| next.run(cx).with_header("X-Trace", "outer"));
            s.wrap(|cx, next| {
                if cx.path() == "/boom" {
                    panic!("a layer that panics");
                }
                next.run(cx).with_header("X-Trace", "inner")
            });
            s.scope("/api")
                .wrap_with(BearerAuth::new(["k"]))
                .wrap(|cx, next| next.run(cx).with_header("X-Api", "1"));
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/apix");
    assert_eq!((r.status(), r.text().as_str()), (200, "apix"));
    let trace: Vec<&str> = r.head.headers.get_all("x-trace").collect();
    assert_eq!(trace, ["inner", "outer"], "the first registered is outermost");
    assert_eq!(r.header("x-api"), None);
    // Under the scope: refused early, the layers outside still see the answer.
    let r = c.get("/api/notes");
    assert_eq!(r.status(), 401);
    assert_eq!(r.head.headers.get_all("x-trace").count(), 2);
    assert_eq!(r.header("x-api"), None, "the layer after the refusal did not run");
    // The same path spelled with escapes is under the scope too.
    assert_eq!(c.get("/%61pi/notes").status(), 401);
    assert_eq!(c.get("/api%2Fexact").status(), 401);
    c.send(b"GET /api/notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.header("x-api")), (200, Some("1")));
    // A layer that panics: 500 to the layers around it; the connection and server go on.
    let r = c.get("/boom");
    assert_eq!(r.status(), 500);
    assert_eq!(r.header("x-trace"), Some("outer"));
    assert_eq!(c.get("/apix").status(), 200);
    h.shutdown();
}

#[test]
fn a_responders_answer_passes_the_chain_again_with_the_same_request_id() {
    let passes = Arc::new(AtomicUsize::new(0));
    let deferred = Arc::new(AtomicUsize::new(0));
    let (p, d) = (passes.clone(), deferred.clone());
    let h = start(
        |b| b,
        move |s| {
            s.wrap_with(RequestId::new());
            s.wrap(move |cx, next| {
                p.fetch_add(1, Ordering::SeqCst);
                let r = next.run(cx);
                if cx.responder_taken() {
                    d.fetch_add(1, Ordering::SeqCst);
                }
                r.with_header("X-Seen-Id", cx.request().headers().get("x-request-id").unwrap_or("-"))
            });
            s.route(Method::Get, "/later", |cx| {
                let responder = cx.responder();
                std::thread::spawn(move || {
                    let _ = responder.send(Response::text("later"));
                });
                Response::later()
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/later");
    assert_eq!(r.text(), "later");
    let id = r.header("x-request-id").expect("an id").to_owned();
    assert_eq!(r.header("x-seen-id"), Some(id.as_str()), "one id for both passes");
    assert_eq!((passes.load(Ordering::SeqCst), deferred.load(Ordering::SeqCst)), (2, 1));
    h.shutdown();
}
