//! The tls example as a user starts it: hello over HTTPS with a self-signed pair it makes
//! itself (and prints the certificate's path, which a client then trusts), and with PEM files
//! given on the command line; a graceful stop on SIGTERM with exit status 0.

mod programs;
mod server_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use server_support::{example_binary, stop_with_sigterm};

/// Starts the example with `args`; the child, its port and the certificate path it printed
/// (if any).
fn start(bin: &Path, args: &[&str]) -> (Child, u16, Option<PathBuf>) {
    let mut child =
        Command::new(bin).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port = line
        .strip_prefix("listening on https://localhost:")
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let cert = if args.iter().any(|a| a.ends_with(".pem")) {
        None
    } else {
        line.clear();
        out.read_line(&mut line).unwrap();
        let path =
            line.trim().strip_prefix("certificate: ").unwrap_or_else(|| panic!("no certificate in {line:?}"));
        Some(PathBuf::from(path))
    };
    (child, port, cert)
}

/// GETs `/` over HTTPS trusting `cert` alone; the body.
fn get(port: u16, cert: &Path) -> String {
    let client = http_toolkit::client::Client::builder()
        .webpki_roots(false)
        .add_root_certificate_file(cert)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let response = client.get(format!("https://localhost:{port}/")).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    response.text().unwrap()
}

#[test]
fn tls_serves_hello_over_https_with_its_own_or_given_certificate() {
    let Some(bin) = example_binary("tls") else {
        programs::missing("tls_example", "the tls example binary", "cargo build --examples");
        return;
    };
    // A pair it makes itself, removed when it stops.
    let (mut child, port, cert) = start(&bin, &["--port", "0"]);
    let cert = cert.unwrap();
    assert_eq!(get(port, &cert), "<h1>Hello, world!</h1>");
    assert_eq!(stop_with_sigterm(&mut child, "tls").code(), Some(0));
    assert!(!cert.exists(), "the generated certificate was left behind");

    // PEM files given on the command line.
    let dir = std::env::temp_dir().join(format!("tls-example-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, pair.cert.pem()).unwrap();
    std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
    let (mut child, port, printed) =
        start(&bin, &["--port", "0", cert.to_str().unwrap(), key.to_str().unwrap()]);
    assert_eq!(printed, None);
    assert_eq!(get(port, &cert), "<h1>Hello, world!</h1>");
    assert_eq!(stop_with_sigterm(&mut child, "tls").code(), Some(0));

    // One file alone is a usage error.
    let bad = Command::new(&bin).arg(cert.to_str().unwrap()).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
