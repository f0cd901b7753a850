//! Hello world over HTTPS: `/` answers `<h1>Hello, world!</h1>` on port 4443.
//!
//! `cargo run --release --example tls [-- --port N] [CERT.pem KEY.pem]`; the `PORT` environment
//! variable also sets the port (the flag wins). The certificate chain (leaf first) and its
//! private key (PKCS#8, PKCS#1 or SEC1) are read from the PEM files given. Without them a
//! self-signed pair for `localhost`, `127.0.0.1` and `::1` (ECDSA P-256) is made at start and
//! written to a fresh directory under the system's temporary one, so that a client can trust
//! it:
//!
//! ```text
//! $ cargo run --example tls
//! listening on https://localhost:4443/
//! certificate: /tmp/http-toolkit-tls-1234/cert.pem
//! $ curl --cacert /tmp/http-toolkit-tls-1234/cert.pem https://localhost:4443/
//! ```
//!
//! SIGTERM or Ctrl-C stops it gracefully; it exits with status 0.

use std::path::PathBuf;

use http_toolkit::server::{Response, Server};

/// What the command line asks for.
struct Options {
    port: u16,
    /// The certificate chain and key files, when given.
    pem: Option<(PathBuf, PathBuf)>,
}

fn options() -> Result<Options, String> {
    const USAGE: &str = "usage: tls [--port N] [CERT.pem KEY.pem]";
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" | "-p" => port = Some(args.next().ok_or("--port needs a number")?),
            other if other.starts_with("--port=") => port = Some(other["--port=".len()..].to_owned()),
            other if other.starts_with('-') => return Err(format!("unknown argument {other:?} ({USAGE})")),
            file => files.push(PathBuf::from(file)),
        }
    }
    let port = match port {
        None => 4443,
        Some(p) => p.trim().parse().map_err(|_| format!("not a port number: {p:?}"))?,
    };
    let pem = match <[PathBuf; 2]>::try_from(files) {
        Ok([cert, key]) => Some((cert, key)),
        Err(files) if files.is_empty() => None,
        Err(_) => return Err(format!("give both a certificate and a key file, or neither ({USAGE})")),
    };
    Ok(Options { port, pem })
}

/// Makes a self-signed certificate for this machine's loopback names and writes it and its
/// key as PEM files into a new directory; their paths.
fn self_signed() -> Result<(PathBuf, PathBuf), String> {
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let pair = rcgen::generate_simple_self_signed(names).map_err(|e| format!("making a certificate: {e}"))?;
    let dir = std::env::temp_dir().join(format!("http-toolkit-tls-{}", std::process::id()));
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&cert, pair.cert.pem())?;
        std::fs::write(&key, pair.signing_key.serialize_pem())
    };
    write().map_err(|e| format!("writing the certificate to {}: {e}", dir.display()))?;
    Ok((cert, key))
}

fn fail(what: &str, code: i32) -> ! {
    eprintln!("tls: {what}");
    std::process::exit(code);
}

fn main() {
    let options = options().unwrap_or_else(|e| fail(&e, 2));
    let generated = options.pem.is_none();
    let (cert, key) = match options.pem {
        Some(files) => files,
        None => self_signed().unwrap_or_else(|e| fail(&e, 1)),
    };
    let port = options.port;
    let server = Server::builder()
        .port(port)
        .tls_pem(&cert, &key)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| fail(&format!("cannot serve HTTPS on port {port}: {e}"), 1));
    server.add_resource(["/", "/index.html"], |_req, _args| Response::html("<h1>Hello, world!</h1>"));
    println!("listening on https://localhost:{}/", server.local_addr().port().unwrap_or(port));
    if generated {
        println!("certificate: {}", cert.display());
    }
    let result = server.run_until_signal();
    if generated {
        if let Some(dir) = cert.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    if let Err(e) = result {
        fail(&e.to_string(), 1);
    }
}
