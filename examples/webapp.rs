//! A small web application on http-toolkit's server: routes with patterns, one handler for
//! two methods, static files, multipart uploads, JSON, an answer from another thread, a
//! chunked stream, server-sent events fed by a producer thread, a WebSocket echo, and a
//! status handler for 404.
//!
//! `cargo run --release --example webapp [-- --port N] [--root DIR]`: port 8080 by default
//! (the `PORT` environment variable overrides it, the flag wins), static files from
//! `examples/static` by default.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` | the root's `index.html`, whose script fetches `/echo?from=page` and `/later`, listens to `/events` and talks to `/ws` |
//! | `GET /hello/{name}` | `Hello, {name}!` |
//! | `GET`, `POST /echo` | JSON `{"method", "path", "args", "body"}`; other methods 405 |
//! | `GET /files/{path...}` | the files of the root |
//! | `POST /upload` | multipart; a JSON list of `{"name", "filename", "size"}` |
//! | `POST /json` | the posted JSON document (`application/json` or `application/*+json`), parsed and written back; 415 for other types |
//! | `GET /later` | `later`, from another thread after about 100 ms |
//! | `GET /stream` | chunked: `line 1` to `line 5`, one about every 50 ms |
//! | `GET /events` | `text/event-stream`: `connected`, then `tick N` (id `N`) every second from one producer thread; no worker is held while the stream lives |
//! | `GET /ws` | a WebSocket echo (held by the server's engine) |
//! | anything else | 404, a page saying `Not here` |

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use http_toolkit::server::{
    escape_html, Context, Event, EventSender, HttpError, Message, Response, RouteError, Server, StaticDir,
    TrySendError, WebSocket,
};
use http_toolkit::utils::Method;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Installs the application's routes on `server`, serving static files from `root`.
pub fn install(server: &Server, root: &Path) -> Result<(), RouteError> {
    let index = StaticDir::new(root);
    server.route(Method::Get, "/", move |cx| index.serve(cx, "index.html"))?;
    server.route(Method::Get, "/hello/{name}", |cx| {
        Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
    })?;
    server.route([Method::Get, Method::Post], "/echo", echo)?;
    server.serve_dir("/files", root)?;
    server.route(Method::Post, "/upload", upload)?;
    server.route(Method::Post, "/json", json_echo)?;
    server.route(Method::Get, "/later", |cx| {
        let responder = cx.responder();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = responder.send(Response::text("later"));
        });
        Response::later()
    })?;
    server.route(Method::Get, "/stream", |_cx| {
        Response::from_writer(|w| {
            for i in 1..=5 {
                writeln!(w, "line {i}")?;
                w.flush()?;
                if i < 5 {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Ok(())
        })
        .with_content_type("text/plain; charset=utf-8")
    })?;
    let ticks = Arc::new(Ticks::default());
    start_ticker(Arc::downgrade(&ticks), Duration::from_secs(1));
    server.route(Method::Get, "/events", move |cx| {
        if let Ok(events) = cx.responder().events() {
            if events.send(&Event::data("connected")).is_ok() {
                ticks.join(events);
            }
        }
        Response::later()
    })?;
    server.route(Method::Get, "/ws", |cx| {
        cx.websocket(|ws: &WebSocket, message: Message| {
            let _ = ws.send(message);
        })
    })?;
    server.set_status_handler(404, |cx, _response| {
        let page = format!(
            "<!DOCTYPE html>\n<html><head><title>Not here</title></head>\
             <body><h1>Not here</h1><p>Nothing at <code>{}</code>. Try <a href=\"/\">the start page</a>.</p></body></html>\n",
            escape_html(cx.path())
        );
        Response::html(page).with_status(404)
    });
    Ok(())
}

/// The listeners of `/events`.
#[derive(Default)]
struct Ticks {
    listeners: Mutex<Vec<EventSender>>,
}

impl Ticks {
    fn join(&self, events: EventSender) {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(events);
    }
}

/// One producer thread for every `/events` stream: `tick N` every `every`, to each listener
/// whose client still reads (one too slow to take it misses a tick; one gone is dropped).
/// It ends once the routes (and so `ticks`) are gone.
fn start_ticker(ticks: Weak<Ticks>, every: Duration) {
    std::thread::spawn(move || {
        for n in 1u64.. {
            std::thread::sleep(every);
            let Some(ticks) = ticks.upgrade() else { return };
            let event = Event::data(format!("tick {n}")).id(&n.to_string());
            let mut listeners = ticks.listeners.lock().unwrap_or_else(|p| p.into_inner());
            listeners.retain(|l| !matches!(l.try_send(&event), Err(TrySendError::Closed(_))));
        }
    });
}

fn echo(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    let body = String::from_utf8_lossy(&cx.read_body()?).into_owned();
    let mut args = Map::new();
    for (k, v) in cx.args().iter() {
        args.entry(k.clone()).or_insert_with(|| Value::String(v.clone()));
    }
    Ok(Response::json(&json!({
        "method": cx.request().method().as_str(),
        "path": cx.path(),
        "args": args,
        "body": body,
    })))
}

/// One part of an upload as `/upload` reports it.
#[derive(Serialize)]
struct Part {
    name: Option<String>,
    filename: Option<String>,
    size: u64,
}

/// Reads the parts as they arrive and counts their bytes: nothing is kept in memory.
fn upload(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    let mut list = Vec::new();
    let mut parts = cx.multipart()?;
    let mut buf = [0u8; 8192];
    while let Some(mut part) = parts.next_part()? {
        let (name, filename) = (part.name().map(str::to_owned), part.filename().map(str::to_owned));
        let mut size = 0u64;
        loop {
            let n = part.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
        }
        list.push(Part { name, filename, size });
    }
    Ok(Response::json(&list))
}

/// The posted JSON document (any `application/json` or `application/*+json` body), parsed
/// and written back; 415 for another media type, 400 for a body that is not JSON.
fn json_echo(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    let doc: Value = cx.json()?;
    Ok(Response::json(&doc))
}

struct Options {
    port: u16,
    root: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    let mut root = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = Some(args.next().ok_or("--port needs a number")?),
            "--root" => root = Some(PathBuf::from(args.next().ok_or("--root needs a directory")?)),
            other => {
                if let Some(p) = other.strip_prefix("--port=") {
                    port = Some(p.to_owned());
                } else if let Some(r) = other.strip_prefix("--root=") {
                    root = Some(PathBuf::from(r));
                } else {
                    return Err(format!(
                        "unknown argument {other:?} (usage: webapp [--port N] [--root DIR])"
                    ));
                }
            }
        }
    }
    let port = match port {
        None => 8080,
        Some(p) => p.trim().parse().map_err(|_| format!("not a port number: {p:?}"))?,
    };
    let root = root.unwrap_or_else(default_root);
    Ok(Options { port, root })
}

/// `examples/static` under the working directory, or else beside this example's sources.
fn default_root() -> PathBuf {
    let here = PathBuf::from("examples/static");
    if here.is_dir() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("static")
    }
}

fn main() {
    let opts = options().unwrap_or_else(|e| {
        eprintln!("webapp: {e}");
        std::process::exit(2);
    });
    // Under systemd the unit's sockets are used (socket activation); SIGTERM and SIGINT shut
    // the server down gracefully.
    let server = Server::builder().port(opts.port).systemd_activation(true).build().unwrap_or_else(|e| {
        eprintln!("webapp: cannot listen on port {}: {e}", opts.port);
        std::process::exit(1);
    });
    if let Err(e) = install(&server, &opts.root) {
        eprintln!("webapp: {e}");
        std::process::exit(1);
    }
    println!(
        "listening on http://localhost:{}/ (files from {})",
        server.local_addr().port().unwrap_or(opts.port),
        opts.root.display()
    );
    if let Err(e) = server.run_until_signal() {
        eprintln!("webapp: {e}");
        std::process::exit(1);
    }
}
