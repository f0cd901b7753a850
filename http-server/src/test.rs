//! Tests without sockets: a request run through a server's real table and engine (routes,
//! method handlers, content parsers, status handlers, responders and streams, the framing
//! decisions) over an in-memory connection, and the response it gives.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use http_server::{test, Response, Server};
//! use http_utils::Method;
//! let server = Server::builder().port(0).bind("127.0.0.1").build()?;
//! server.route(Method::Get, "/hello/{name}", |cx| {
//!     Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
//! }).unwrap();
//! let r = test::get(&server, "/hello/world");
//! assert_eq!(r.status(), 200);
//! assert_eq!(r.text(), "Hello, world!");
//! let r = test::request(&server, Method::Post, "/hello/world").body("x").send();
//! assert_eq!(r.status(), 405);
//! # Ok(()) }
//! ```
//!
//! The server may be running or not: the requests never go through its listener, and no
//! worker of its pool serves them (the calling thread does). An answer from a
//! [`Responder`](crate::Responder) is waited for (up to [`Call::timeout`]); a stream is read to
//! its end. An upgrade gives its `101` response, and the upgrade handler gets a stream with
//! nothing to read.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_utils::io::BodyReader;
use http_utils::{
    parse_response_head, response_framing, write_request_head, Headers, Limits, Method, Parsed, ResponseHead,
    Version,
};
use mio::event::Source;

use crate::connection::{drive, Conn, Outcome, Worker};
use crate::io::lock;
use crate::io::transport::{Connection, PeerAddr};
use crate::io::upgraded::Nowhere;
use crate::server::Server;

/// A key no connection of the table ever has (its slot index is past any table's).
const KEY: u64 = 0xffff_fffe;

/// A request to send through a server without the network: see [`request`].
#[must_use]
pub struct Call<'s> {
    server: &'s Server,
    method: Method,
    target: String,
    version: Version,
    headers: Headers,
    body: Vec<u8>,
    timeout: Duration,
}

/// A `GET` of `target` (a path with an optional query), sent at once.
///
/// # Panics
/// When no response comes within 10 s (see [`Call::send`]).
pub fn get(server: &Server, target: &str) -> TestResponse {
    request(server, Method::Get, target).send()
}

/// A request with `method` for `target` (a path with an optional query), to complete with
/// headers and a body, then [`send`](Call::send).
pub fn request<'s>(server: &'s Server, method: Method, target: &str) -> Call<'s> {
    Call {
        server,
        method,
        target: target.to_owned(),
        version: Version::Http11,
        headers: Headers::new(),
        body: Vec::new(),
        timeout: Duration::from_secs(10),
    }
}

impl Call<'_> {
    /// Adds a header field.
    ///
    /// # Panics
    /// For a name or value that is not valid in a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(name, value).expect("a valid header field");
        self
    }

    /// Sets the body (sent with `Content-Length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends an `application/json` body.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a value that serializes to JSON");
        self.header("Content-Type", "application/json").body(body)
    }

    /// Sends an `application/x-www-form-urlencoded` body made of `pairs`.
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let body = http_utils::encode_form(pairs);
        self.header("Content-Type", "application/x-www-form-urlencoded").body(body)
    }

    /// The request's HTTP version (HTTP/1.1 by default).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// How long to wait for the response (10 s by default): an answer from a responder or
    /// a stream may take time.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the request and returns the response.
    ///
    /// # Panics
    /// When no complete response comes within the timeout, or the server's answer cannot
    /// be read as HTTP: a test should fail then.
    pub fn send(self) -> TestResponse {
        match self.try_send() {
            Ok(r) => r,
            Err(e) => panic!("no response: {e}"),
        }
    }

    /// Runs the request.
    ///
    /// # Errors
    /// `TimedOut` when no complete response came within the timeout; `InvalidData` when the
    /// server's answer cannot be read; `UnexpectedEof` when the connection closed first.
    pub fn try_send(mut self) -> io::Result<TestResponse> {
        if !self.headers.contains("host") {
            let _ = self.headers.append("Host", "test");
        }
        if !self.body.is_empty() || matches!(self.method, Method::Post | Method::Put | Method::Patch) {
            self.headers.remove("content-length");
            let _ = self.headers.append("Content-Length", &self.body.len().to_string());
        }
        let mut input = Vec::with_capacity(128 + self.body.len());
        write_request_head(&mut input, &self.method, &self.target, self.version, &self.headers);
        input.extend_from_slice(&self.body);
        let engine = self.server.engine();
        let deadline = Instant::now() + self.timeout;
        let output = Arc::new(Mutex::new(Vec::new()));
        let memory = Memory { input, pos: 0, output: output.clone(), source: Nowhere };
        let mut conn = Conn::new(Box::new(memory), deadline);
        let mut w = Worker::new(engine, u64::from(u32::MAX));
        w.key = KEY;
        loop {
            let outcome = drive(&mut w, &mut conn, false);
            if let Some(r) = complete(&lock(&output), &self.method)? {
                return Ok(r);
            }
            match outcome {
                Outcome::Close(_) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed first"))
                }
                Outcome::Yield => {}
                // Waiting for a responder or a stream's next chunk.
                Outcome::Park => {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "no complete response in time"));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}

/// The response in `out`, once it is all there.
fn complete(out: &[u8], method: &Method) -> io::Result<Option<TestResponse>> {
    let limits =
        Limits { max_head: 1 << 20, max_header_line: 1 << 20, max_headers: 10_000, ..Limits::default() };
    let mut rest = out;
    // Interim responses (100 Continue) come first.
    let head = loop {
        match parse_response_head(rest, &limits) {
            Ok(Parsed::Complete { value, used }) => {
                rest = &rest[used..];
                if value.is_interim() {
                    continue;
                }
                break value;
            }
            Ok(Parsed::Partial) => return Ok(None),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    };
    if head.status == 101 {
        return Ok(Some(TestResponse { head, body: Vec::new() }));
    }
    let framing =
        response_framing(method, &head).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let limits = Limits { max_body: u64::MAX, ..Limits::default() };
    let mut body = Vec::new();
    let mut reader = BodyReader::new(rest, framing, &limits);
    match reader.read_to_end(&mut body) {
        Ok(_) if reader.is_complete() => Ok(Some(TestResponse { head, body })),
        // Not all there yet (or a body that runs until the close).
        _ => Ok(None),
    }
}

/// A response, as [`Call::send`] gives it.
#[derive(Debug)]
pub struct TestResponse {
    head: ResponseHead,
    body: Vec<u8>,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.head.headers
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name)
    }

    /// The body (decoded from chunks).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When the body is not JSON that fits `T`.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("the body is not the JSON expected: {e}: {}", self.text()),
        }
    }
}

/// An in-memory connection: the request's bytes to read, the response's bytes written.
struct Memory {
    input: Vec<u8>,
    pos: usize,
    output: Arc<Mutex<Vec<u8>>>,
    source: Nowhere,
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.input.len() {
            // Everything was sent; the client waits for the answer.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.output).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Connection for Memory {
    fn peer_addr(&self) -> PeerAddr {
        PeerAddr::Ip(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
    }
    fn source(&mut self) -> &mut dyn Source {
        &mut self.source
    }
    fn hard_close(&mut self) {}
}
