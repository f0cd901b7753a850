//! Errors as a JSON API speaks them, over loopback sockets: `JsonErrors` renders the
//! handlers' `HttpError`s and the server's own answers (404, 405 with `Allow`, 413 before
//! and while a body is read, 415, 401 with `WWW-Authenticate`, 500 for a panic, 503 with
//! `Retry-After`, bare statuses) as `application/problem+json` or JSON of the program's
//! shape, never echoing a request's bytes unescaped, and only under its scope.

mod server_support;

use std::sync::{mpsc, Mutex};
use std::time::Duration;

use http_toolkit::server::{BearerAuth, HttpError, JsonErrors, Response, ServerHandle};
use http_toolkit::utils::{Limits, Method};
use serde::Deserialize;
use server_support::{addr, raw, start, status_of, Client, Reply};

struct Busy {
    started: mpsc::Sender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

#[derive(Deserialize)]
struct Note {
    #[allow(dead_code)]
    title: String,
}

type Answer = Result<Response, HttpError>;

fn api(busy: Busy) -> ServerHandle {
    let limits = Limits { max_body: 100, ..Limits::default() };
    start(
        |b| b.limits(limits).request_count_limit(1).queue_size(0).state(busy),
        |s| {
            s.scope("/api").wrap_with(JsonErrors::problem());
            s.scope("/api").wrap_with(BearerAuth::new(["t0k"]).writes_only());
            s.route(Method::Get, "/api/notes/{id}", |cx| -> Answer {
                let id: u32 = cx.param_as("id")?;
                Err(HttpError::not_found(format!("no note {id}")))
            })
            .unwrap();
            s.route(Method::Post, "/api/notes", |cx| -> Answer {
                let _note: Note = cx.json()?;
                Ok(Response::new(201))
            })
            .unwrap();
            s.route(Method::Get, "/api/echo/{word}", |cx| -> Answer {
                let word = cx.param("word").unwrap_or_default();
                Err(HttpError::bad_request(format!("not a word: {word}")))
            })
            .unwrap();
            s.route(Method::Get, "/api/bare", |_cx| Response::new(429)).unwrap();
            s.route(Method::Get, "/api/own", |_cx| Response::text("my own").with_status(409)).unwrap();
            s.route(Method::Get, "/api/panic", |_cx| -> Response { panic!("on purpose") }).unwrap();
            s.route(Method::Get, "/api/busy", |cx| {
                let busy = cx.state::<Busy>();
                let _ = busy.started.send(());
                let _ = busy.release.lock().unwrap().recv_timeout(Duration::from_secs(10));
                Response::text("done")
            })
            .unwrap();
            s.route(Method::Get, "/page", |_cx| Err::<Response, _>(HttpError::conflict("html here")))
                .unwrap();
        },
    )
}

fn busy() -> (Busy, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    (Busy { started: started_tx, release: Mutex::new(release_rx) }, started_rx, release_tx)
}

fn problem(r: &Reply) -> serde_json::Value {
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{}", r.text());
    assert!(r.body.is_ascii(), "{}", r.text());
    serde_json::from_slice(&r.body).expect("JSON")
}

fn problem_raw(raw: &str) -> serde_json::Value {
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    assert!(head.to_ascii_lowercase().contains("content-type: application/problem+json"), "{raw}");
    serde_json::from_str(body).expect("JSON")
}

#[test]
fn errors_of_handlers_and_of_the_server_are_problem_details() {
    let (state, _started, _release) = busy();
    let h = api(state);
    let mut c = Client::connect(addr(&h));

    let r = c.get("/api/notes/7");
    assert_eq!(r.status(), 404);
    let p = problem(&r);
    assert_eq!(
        p,
        serde_json::json!({"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no note 7"})
    );

    let r = c.get("/api/notes/seven");
    assert_eq!(problem(&r)["detail"], "invalid path parameter `id`");
    assert_eq!(r.status(), 400);

    // The server's own 404 for a path without a route, and its 405 with `Allow`.
    let r = c.get("/api/none");
    assert_eq!(problem(&r), serde_json::json!({"type": "about:blank", "title": "Not Found", "status": 404}));
    c.send(
        b"PATCH /api/notes/1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\nContent-Length: 0\r\n\r\n",
    );
    let r = c.read();
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(problem(&r)["title"], "Method Not Allowed");

    // 401 from the layer after it, its challenge kept.
    c.send(b"POST /api/notes HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    let r = c.read();
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"api\""));
    assert_eq!(problem(&r)["status"], 401);

    // 415 and 400 from the typed body.
    let body = r#"{"title":"x"}"#;
    c.send(
        format!("POST /api/notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            .as_bytes(),
    );
    let r = c.read();
    assert_eq!(r.status(), 415);
    assert_eq!(problem(&r)["title"], "Unsupported Media Type");
    c.send(b"POST /api/notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"no\": 1}");
    let r = c.read();
    assert_eq!(r.status(), 400);
    assert!(problem(&r)["detail"].as_str().unwrap().contains("missing field `title`"), "{}", r.text());

    // A bare status becomes a problem; a handler's own error body stays its own.
    let r = c.get("/api/bare");
    assert_eq!((r.status(), problem(&r)["title"].as_str()), (429, Some("Too Many Requests")));
    let r = c.get("/api/own");
    assert_eq!((r.status(), r.text().as_str()), (409, "my own"));

    // A panic costs a 500, rendered.
    let r = c.get("/api/panic");
    assert_eq!(r.status(), 500);
    assert_eq!(problem(&r)["title"], "Internal Server Error");

    // Outside the scope the error page stays the server's HTML or the error's text.
    let r = c.get("/none");
    assert_eq!(r.status(), 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let r = c.get("/page");
    assert_eq!((r.status(), r.text().as_str()), (409, "html here\n"));

    // HEAD: the head a GET would get, no body.
    c.send(b"HEAD /api/none HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read(&Method::Head).expect("a response");
    assert_eq!(r.status(), 404);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(r.body.is_empty());
    h.shutdown();
}

#[test]
fn request_bytes_never_reach_the_body_unescaped() {
    let (state, _started, _release) = busy();
    let h = api(state);
    let mut c = Client::connect(addr(&h));
    // Quotes, markup, a backslash, CR LF, a NUL and non-ASCII from the path, decoded.
    let r = c.get("/api/echo/%22%3Cscript%3E%5C%0D%0A%00%C3%A9%F0%9F%98%80");
    assert_eq!(r.status(), 400);
    let body = r.text();
    assert!(r.body.iter().all(|b| (b' '..=b'~').contains(b)), "{body:?}");
    for bad in ["<", ">", "\\\"<", "\r", "\n"] {
        assert!(!body.contains(bad), "{bad:?} in {body}");
    }
    // The client reads back exactly what was decoded: escaping, not loss.
    assert_eq!(problem(&r)["detail"], "not a word: \"<script>\\\r\n\0é😀");
    h.shutdown();
}

#[test]
fn refusals_before_and_while_a_body_is_read_and_when_busy() {
    let (state, started, release) = busy();
    let h = api(state);
    let a = addr(&h);

    // A declared body over the limit: 413 before a byte of it is read.
    let out = raw(a, b"POST /api/notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n");
    assert_eq!(status_of(&out), 413, "{out}");
    assert_eq!(problem_raw(&out)["title"], "Content Too Large");

    // A chunked body that grows past it: 413 while it is read.
    let mut chunked = b"POST /api/notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0k\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.extend_from_slice(format!("c8\r\n{}\r\n0\r\n\r\n", "x".repeat(200)).as_bytes());
    let out = raw(a, &chunked);
    assert_eq!(status_of(&out), 413, "{out}");
    assert_eq!(problem_raw(&out)["status"], 413);

    // Every handler slot taken and no queue: 503 with `Retry-After`.
    let mut holder = Client::connect(a);
    holder.send(b"GET /api/busy HTTP/1.1\r\nHost: t\r\n\r\n");
    started.recv_timeout(Duration::from_secs(10)).expect("the busy handler runs");
    let mut c = Client::connect(a);
    let r = c.get("/api/notes/1");
    assert_eq!(r.status(), 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(problem(&r)["title"], "Service Unavailable");
    release.send(()).unwrap();
    assert_eq!(holder.read().status(), 200);
    h.shutdown();
}

#[test]
fn errors_of_the_programs_shape() {
    let h = start(
        |b| b,
        |s| {
            s.wrap_with(JsonErrors::shaped(
                |e| serde_json::json!({"error": e.message(), "code": e.status()}),
            ));
            s.route(Method::Get, "/x/{n}", |cx| -> Answer {
                Ok(Response::text(cx.param_as::<u8>("n")?.to_string()))
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/x/300");
    assert_eq!(r.status(), 400);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), r#"{"code":400,"error":"invalid path parameter `n`"}"#);
    let r = c.get("/elsewhere");
    assert_eq!(r.text(), r#"{"code":404,"error":"Not Found"}"#);
    assert_eq!(c.get("/x/3").text(), "3");
    h.shutdown();
}
