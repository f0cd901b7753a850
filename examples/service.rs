//! A service as it runs in production: several instances behind a load balancer (nginx,
//! HAProxy), restarted one at a time without a dropped request. It is the program of the
//! deployment guide (`docs/deployment.md`) and of the rolling-restart tests.
//!
//! ```text
//! cargo run --release --example service -- [--port N] [--bind ADDR] [--reuse-port]
//!     [--name NAME] [--record FILE] [--grace SECONDS] [--trust RANGES] [--proxy-protocol]
//! ```
//!
//! - Under systemd it serves on the sockets the unit hands over (socket activation) and says
//!   `READY=1` when it runs, `STOPPING=1` when it stops; elsewhere it listens on `--port`
//!   (8080 by default) at `--bind` (every address by default).
//! - `--reuse-port` sets `SO_REUSEPORT`: the next instance can listen on the same port
//!   before this one stops.
//! - `--trust 127.0.0.1,10.0.0.0/8`: the proxies whose `Forwarded` and `X-Forwarded-*`
//!   headers are believed (nginx in front); `--proxy-protocol`: every connection starts with
//!   a PROXY protocol header (HAProxy's `send-proxy-v2` in front), refused from peers not in
//!   `--trust` when it is given.
//! - SIGTERM or SIGINT: stop accepting, answer every request in flight (within `--grace`
//!   seconds, 10 by default), close idle connections, exit 0.
//!
//! Routes: `GET /health` (for the balancer's health checks), `GET /whoami` (the client's
//! address, scheme and host as the server sees them, and the instance's name), `POST /orders` (the body is an
//! order id; it is appended to the `--record` file, one a line, and answered), `GET
//! /work?ms=N` (answers after N milliseconds, at most 10 s: a request that is in flight for
//! a while), `POST /upload` (answers the number of bytes received).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_toolkit::server::{Response, Server, TrustedProxies};
use http_toolkit::utils::Method;

/// What the command line says.
struct Options {
    port: u16,
    bind: Option<String>,
    reuse_port: bool,
    name: String,
    record: Option<String>,
    grace: u64,
    trust: TrustedProxies,
    proxy_protocol: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        port: 8080,
        bind: None,
        reuse_port: false,
        name: "service".into(),
        record: None,
        grace: 10,
        trust: TrustedProxies::new(),
        proxy_protocol: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{a} needs {what}"));
        match a.as_str() {
            "--port" => o.port = value("a number")?.parse().map_err(|_| "--port needs a number")?,
            "--bind" => o.bind = Some(value("an address")?),
            "--reuse-port" => o.reuse_port = true,
            "--name" => o.name = value("a name")?,
            "--record" => o.record = Some(value("a file")?),
            "--grace" => o.grace = value("seconds")?.parse().map_err(|_| "--grace needs a number")?,
            "--trust" => o.trust = TrustedProxies::parse(&value("addresses")?).map_err(|e| e.to_string())?,
            "--proxy-protocol" => o.proxy_protocol = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// Sets up the routes.
fn install(server: &Server, name: &str, record: Option<File>) {
    let record = record.map(Mutex::new).map(Arc::new);
    server.route(Method::Get, "/health", |_cx| Response::text("ok")).expect("a new route");
    let me = name.to_owned();
    server
        .route(Method::Get, "/whoami", move |cx| {
            let o = cx.origin();
            let client = o.client_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
            let host = o.host.unwrap_or_default();
            Response::text(format!("client={client} scheme={} host={host} by={me}", o.scheme))
        })
        .expect("a new route");
    let me = name.to_owned();
    server
        .route(Method::Post, "/orders", move |cx| {
            let id = match cx.read_body() {
                Ok(body) => String::from_utf8_lossy(&body).trim().to_owned(),
                Err(e) => return cx.error_response(400, &e.to_string()),
            };
            if id.is_empty() || id.len() > 64 || id.contains(char::is_whitespace) {
                return cx.error_response(400, "the body is an order id");
            }
            if let Some(file) = &record {
                let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
                if writeln!(f, "{id}").and_then(|()| f.flush()).is_err() {
                    return cx.error_response(500, "the order could not be recorded");
                }
            }
            Response::text(format!("stored {id} by {me}"))
        })
        .expect("a new route");
    let me = name.to_owned();
    server
        .route(Method::Get, "/work", move |cx| {
            let ms = cx.request().query().and_then(|q| q.strip_prefix("ms=")).and_then(|v| v.parse().ok());
            std::thread::sleep(Duration::from_millis(ms.unwrap_or(0u64).min(10_000)));
            Response::text(format!("worked by {me}"))
        })
        .expect("a new route");
    server
        .route(Method::Post, "/upload", |cx| match cx.read_body() {
            Ok(body) => Response::text(format!("{} bytes", body.len())),
            Err(e) => cx.error_response(400, &e.to_string()),
        })
        .expect("a new route");
}

fn main() {
    let o = options().unwrap_or_else(|e| {
        eprintln!("service: {e}");
        std::process::exit(2);
    });
    let record = o.record.as_ref().map(|path| {
        OpenOptions::new().create(true).append(true).open(path).unwrap_or_else(|e| {
            eprintln!("service: cannot open {path}: {e}");
            std::process::exit(1);
        })
    });
    let mut builder = Server::builder()
        .port(o.port)
        .reuse_port(o.reuse_port)
        .systemd_activation(true)
        .shutdown_on_signals(true)
        .shutdown_grace(Duration::from_secs(o.grace))
        .trusted_proxies(o.trust)
        .proxy_protocol(o.proxy_protocol);
    if let Some(bind) = &o.bind {
        builder = builder.bind(bind.clone());
    }
    let server = builder.build().unwrap_or_else(|e| {
        eprintln!("service: cannot listen: {e}");
        std::process::exit(1);
    });
    install(&server, &o.name, record);
    for addr in server.local_addrs() {
        println!("{} listening on {addr}", o.name);
    }
    let _ = std::io::stdout().flush();
    if let Err(e) = server.run() {
        eprintln!("service: {e}");
        std::process::exit(1);
    }
    println!("{} stopped", o.name);
}
