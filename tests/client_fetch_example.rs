//! The `fetch` example as a user runs it: bodies in order, one connection per host, cookies
//! across URLs, redirects, and its exit status.

mod client_common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::sync::Mutex;

use client_common::{RawServer, Seen};

/// The example binary, built by `cargo test` next to the test binaries.
fn fetch_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path =
        exe.parent()?.parent()?.join("examples").join(format!("fetch{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

fn server() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let reply = match seen.target.as_str() {
                "/login" => {
                    "HTTP/1.1 302 Found\r\nLocation: /one\r\nSet-Cookie: sid=42\r\nContent-Length: 0\r\n\r\n"
                        .to_string()
                }
                "/missing" => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n".to_string(),
                "/echo" => {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", seen.body.len())
                        + &String::from_utf8_lossy(&seen.body)
                }
                t => {
                    let body = format!("{t} {}\n", seen.header("cookie").unwrap_or("-"));
                    format!("HTTP/1.1 200 OK\r\nX-Path: {t}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                }
            };
            let _ = tx.lock().unwrap().send(seen);
            if !peer.write(reply.as_bytes()) {
                break;
            }
        }
    });
    (server, rx)
}

#[test]
fn fetch_prints_bodies_in_order_over_one_connection() {
    let Some(bin) = fetch_binary() else {
        eprintln!("fetch example not built; skipped");
        return;
    };
    let (server, _seen) = server();
    let out = Command::new(&bin).args([server.url("/login"), server.url("/two")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/one sid=42\n/two sid=42\n");
    assert_eq!(server.accepted(), 1);

    let out = Command::new(&bin).args(["-i", &server.url("/three")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("x-path: /three\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n/three -\n"), "{text}");
}

#[test]
fn fetch_sends_forms_data_and_headers() {
    let Some(bin) = fetch_binary() else { return };
    let (server, seen) = server();
    let out = Command::new(&bin)
        .args([
            "--data-urlencode",
            "a=1 2",
            "--data-urlencode",
            "b=&",
            "-H",
            "X-Test: yes",
            &server.url("/echo"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a=1+2&b=%26");
    let s = seen.recv().unwrap();
    assert_eq!((s.method.as_str(), s.header("x-test")), ("POST", Some("yes")));
    let out =
        Command::new(&bin).args(["-X", "PUT", "-d", "raw data", &server.url("/echo")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "raw data");
    assert_eq!(seen.recv().unwrap().method, "PUT");
}

#[test]
fn fetch_exit_status() {
    let Some(bin) = fetch_binary() else { return };
    let (server, _seen) = server();
    // An error status: the body is printed, later URLs still fetched, exit 22.
    let out = Command::new(&bin).args([server.url("/missing"), server.url("/after")]).output().unwrap();
    assert_eq!(out.status.code(), Some(22));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "not here\n/after -\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    // A failure: one line on stderr, exit 1.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = Command::new(&bin).arg(format!("http://{closed}/")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fetch: "), "{err}");
    // Too many redirects: exit 47, as curl's.
    let out = Command::new(&bin).args(["--max-redirs", "0", &server.url("/login")]).output().unwrap();
    assert_eq!(out.status.code(), Some(47), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&bin).args(["--max-redirs", "1", &server.url("/login")]).output().unwrap();
    assert!(out.status.success());
    let out = Command::new(&bin).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
