//! The server side of the workload benchmark (`bench/workloads.py`):
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /hello` | `Hello, world!` (an exact route) |
//! | `GET /static/{path...}` | the files under `--root` ([`Server::serve_dir`]) |
//! | `POST /upload` | reads the whole body ([`Context::read_body`]), answers its length |
//! | `POST /upload-stream` | a streaming route: reads the body as it arrives through a 64 KiB buffer ([`Context::body`]), answers its length |
//! | `POST /echo` | parses a JSON body ([`Context::json`]) and writes it back ([`Response::json`]) |
//!
//! With `--routes 200` the table also holds the 200 patterns of
//! [`workload_routes`](http_toolkit_bench::workload_routes), each answering its pattern; with
//! `--routes 1` (the default) `/hello` is the only route besides the three above. The default
//! pool and timeouts; bodies up to 64 MiB.
//!
//! `cargo run --release --example workloads_server -- --port N --root DIR [--routes 1|200]`
//!
//! [`Context::read_body`]: http_server::Context::read_body
//! [`Context::json`]: http_server::Context::json
//! [`Context::body`]: http_server::Context::body

use std::io::Read;

use http_server::{Context, HttpError, Limits, Method, Response, Server};

struct Options {
    port: u16,
    root: String,
    routes: usize,
}

fn options() -> Options {
    let mut o = Options { port: 8080, root: ".".to_owned(), routes: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--port" => o.port = value().parse().expect("--port N"),
            "--root" => o.root = value(),
            "--routes" => o.routes = value().parse().expect("--routes 1|200"),
            other => panic!("unknown argument {other:?}"),
        }
    }
    assert!(o.routes == 1 || o.routes == 200, "--routes takes 1 or 200");
    o
}

fn upload(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    let body = cx.read_body()?;
    Ok(Response::text(body.len().to_string()))
}

fn upload_stream(cx: &mut Context<'_>) -> Response {
    let mut buf = vec![0; 64 * 1024];
    let mut body = cx.body();
    let mut n = 0;
    loop {
        match body.read(&mut buf) {
            Ok(0) => return Response::text(n.to_string()),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Response::new(400),
        }
    }
}

fn echo(cx: &mut Context<'_>) -> Result<Response, HttpError> {
    let doc: serde_json::Value = cx.json()?;
    Ok(Response::json(&doc))
}

fn main() {
    let o = options();
    let limits = Limits { max_body: 64 << 20, ..Limits::default() };
    let server = Server::builder().port(o.port).bind("127.0.0.1").limits(limits).build().expect("listen");
    server.route(Method::Get, "/hello", |_: &mut Context<'_>| Response::text("Hello, world!")).unwrap();
    server.serve_dir("/static", &o.root).unwrap();
    server.route(Method::Post, "/upload", upload).unwrap();
    server.streaming_route(Method::Post, "/upload-stream", upload_stream).unwrap();
    server.route(Method::Post, "/echo", echo).unwrap();
    if o.routes == 200 {
        for pattern in http_toolkit_bench::workload_routes() {
            let answer = pattern.clone();
            server
                .route(Method::Get, &pattern, move |_: &mut Context<'_>| Response::text(answer.clone()))
                .unwrap();
        }
    }
    println!("workloads server on http://127.0.0.1:{}/", o.port);
    server.run().expect("run");
}
