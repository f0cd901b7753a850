//! The egg's hello world: `/` and `/index.html` answer `Hello, world!` on port 4242.
//!
//! `cargo run --release --example hello [-- --port N]`; the `PORT` environment variable also
//! sets the port (the flag wins). SIGTERM or Ctrl-C stops it gracefully (requests in flight
//! are answered first) and it exits with status 0.

use http_toolkit::server::{Response, Server};

fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = Some(args.next().ok_or("--port needs a number")?),
            other => match other.strip_prefix("--port=") {
                Some(p) => port = Some(p.to_owned()),
                None => return Err(format!("unknown argument {other:?} (usage: hello [--port N])")),
            },
        }
    }
    match port {
        None => Ok(4242),
        Some(p) => p.trim().parse().map_err(|_| format!("not a port number: {p:?}")),
    }
}

fn main() {
    let port = port().unwrap_or_else(|e| {
        eprintln!("hello: {e}");
        std::process::exit(2);
    });
    let server = Server::builder().port(port).build().unwrap_or_else(|e| {
        eprintln!("hello: cannot listen on port {port}: {e}");
        std::process::exit(1);
    });
    server.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
    println!("listening on http://localhost:{}/", server.local_addr().port().unwrap_or(port));
    if let Err(e) = server.run_until_signal() {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}
