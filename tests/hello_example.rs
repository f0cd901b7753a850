//! The hello example as a user starts it: the egg's answer (`text/html`,
//! `<h1>Hello, world!</h1>`), the debug switch's line per request on stderr, and a graceful
//! stop on SIGTERM with exit status 0.

mod programs;
mod server_support;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use server_support::{example_binary, printed_port, stop_with_sigterm, Client};

fn hello_binary() -> Option<PathBuf> {
    example_binary("hello")
}

#[test]
fn hello_answers_as_the_egg_and_debug_prints_each_request() {
    let Some(bin) = hello_binary() else {
        programs::missing("hello_example", "the hello example binary", "cargo build --examples");
        return;
    };
    let mut child = Command::new(bin)
        .args(["--port", "0", "--debug"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = printed_port(&mut child);
    let mut c = Client::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    let r = c.get("/index.html");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.text(), "<h1>Hello, world!</h1>");
    drop(c);
    // A graceful stop: SIGTERM, exit 0.
    let status = stop_with_sigterm(&mut child, "hello");
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("\"GET /index.html HTTP/1.1\" 200 22 "), "stderr: {err}");
    let bad = Command::new(hello_binary().unwrap()).args(["--port", "x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
