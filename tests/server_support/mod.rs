//! Helpers shared by the server's integration tests: start a server on 127.0.0.1:0, talk to
//! it over raw sockets, read responses with http-utils.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub mod notes;

// Instances are stopped with signals and handed sockets systemd style: Unix only.
#[cfg(unix)]
pub mod instances;

use http_toolkit::server::{Server, ServerBuilder, ServerHandle};
use http_toolkit::utils::io::{read_response_head, BodyReader};
use http_toolkit::utils::{response_framing, Limits, Method, ResponseHead};

/// Starts a server on 127.0.0.1:0 configured by `configure`, with resources set by `setup`.
pub fn start(
    configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    setup: impl FnOnce(&Server),
) -> ServerHandle {
    let builder = configure(Server::builder().port(0).bind("127.0.0.1"));
    let server = builder.build().expect("bind");
    setup(&server);
    server.spawn().expect("spawn")
}

/// The TCP address of a running server.
pub fn addr(h: &ServerHandle) -> SocketAddr {
    h.local_addr().socket_addr().expect("a TCP server")
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    pub head: ResponseHead,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn status(&self) -> u16 {
        self.head.status
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection with a read timeout, reading responses one at a time.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { reader: BufReader::new(s) }
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        self.reader.get_mut()
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream().write_all(bytes).expect("write");
    }

    /// Reads one response to a request made with `method`; `None` at the end of the stream.
    pub fn try_read(&mut self, method: &Method) -> Option<Reply> {
        let head = loop {
            let head = read_response_head(&mut self.reader, &Limits::default()).ok()??;
            if !head.is_interim() {
                break head;
            }
        };
        let framing = response_framing(method, &head).expect("framing");
        let mut body = Vec::new();
        BodyReader::new(&mut self.reader, framing, &Limits::default()).read_to_end(&mut body).expect("body");
        Some(Reply { head, body })
    }

    pub fn read(&mut self) -> Reply {
        self.try_read(&Method::Get).expect("a response")
    }

    /// Sends a GET for `path` and reads the response.
    pub fn get(&mut self, path: &str) -> Reply {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        self.read()
    }

    /// True when the server has closed the connection (reads the end of the stream).
    pub fn is_closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.reader.read(&mut buf), Ok(0) | Err(_))
    }

    /// Whether bytes are buffered but unread.
    pub fn buffered(&self) -> usize {
        self.reader.buffer().len()
    }

    pub fn fill(&mut self) -> usize {
        self.reader.fill_buf().map(|b| b.len()).unwrap_or(0)
    }
}

/// Sends raw bytes on a fresh connection and returns everything the server sends back until
/// it closes (or 10 s pass).
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    raw_on(TcpStream::connect(addr).expect("connect"), bytes)
}

/// As [`raw`], on a connection already open.
pub fn raw_on(mut s: TcpStream, bytes: &[u8]) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).expect("write");
    // The request is complete: a server lingering after an error sees the end at once.
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code at the start of a raw response.
pub fn status_of(raw: &str) -> u16 {
    raw.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// The example binary `name`, built by `cargo test` next to the test binaries.
pub fn example_binary(name: &str) -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path =
        exe.parent()?.parent()?.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

/// The port in the `listening on http://localhost:PORT/` line an example prints first.
pub fn printed_port(child: &mut std::process::Child) -> u16 {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("a piped stdout")).read_line(&mut line).unwrap();
    line.split("localhost:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// Stops `child` with SIGTERM (`kill`) and waits for it to exit; its exit status.
///
/// # Panics
/// When it is still running 15 s later ("`name` did not stop on SIGTERM").
pub fn stop_with_sigterm(child: &mut std::process::Child, name: &str) -> std::process::ExitStatus {
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let started = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{name} did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
