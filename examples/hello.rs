//! The egg's hello world: `/` and `/index.html` answer `<h1>Hello, world!</h1>` (`text/html`)
//! on port 4242.
//!
//! `cargo run --release --example hello [-- --port N] [--debug]`; the `PORT` environment
//! variable also sets the port (the flag wins). `--debug` is the egg's debug switch
//! (`((http:make-server 4242) #t)`): a line per request on stderr. SIGTERM or Ctrl-C stops it gracefully (requests in flight
//! are answered first) and it exits with status 0.

use http_toolkit::server::{Response, Server};

/// The port, and whether `--debug` was given.
fn options() -> Result<(u16, bool), String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    let mut debug = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = Some(args.next().ok_or("--port needs a number")?),
            "--debug" | "-d" => debug = true,
            other => match other.strip_prefix("--port=") {
                Some(p) => port = Some(p.to_owned()),
                None => {
                    return Err(format!("unknown argument {other:?} (usage: hello [--port N] [--debug])"))
                }
            },
        }
    }
    let port = match port {
        None => 4242,
        Some(p) => p.trim().parse().map_err(|_| format!("not a port number: {p:?}"))?,
    };
    Ok((port, debug))
}

fn main() {
    let (port, debug) = options().unwrap_or_else(|e| {
        eprintln!("hello: {e}");
        std::process::exit(2);
    });
    let server = Server::builder().port(port).build().unwrap_or_else(|e| {
        eprintln!("hello: cannot listen on port {port}: {e}");
        std::process::exit(1);
    });
    server.add_resource(["/", "/index.html"], |_req, _args| Response::html("<h1>Hello, world!</h1>"));
    server.set_debug(debug);
    println!("listening on http://localhost:{}/", server.local_addr().port().unwrap_or(port));
    if let Err(e) = server.run_until_signal() {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}
