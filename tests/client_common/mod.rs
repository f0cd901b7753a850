//! Test peers for the client tests: a raw-socket server that runs a handler per connection and
//! counts accepted connections.

#![allow(dead_code)]

pub mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the raw server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One accepted connection.
pub struct Peer {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
    /// 1-based number of this connection.
    pub index: usize,
}

impl Peer {
    /// Reads one request (head and Content-Length or chunked body); `None` at end of stream.
    pub fn read_request(&mut self) -> Option<Seen> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let method = parts.next()?.to_string();
        let target = parts.next()?.to_string();
        let version = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        for _ in 0..200 {
            let mut h = String::new();
            if self.reader.read_line(&mut h).ok()? == 0 {
                return None;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':')?;
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let mut seen = Seen { method, target, version, headers, body: Vec::new() };
        if let Some(cl) = seen.header("content-length") {
            let n: usize = cl.parse().ok()?;
            let mut body = vec![0; n];
            self.reader.read_exact(&mut body).ok()?;
            seen.body = body;
        } else if seen.header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            let mut body = Vec::new();
            for _ in 0..100_000 {
                let mut size = String::new();
                self.reader.read_line(&mut size).ok()?;
                let n = usize::from_str_radix(size.trim(), 16).ok()?;
                if n == 0 {
                    let mut end = String::new();
                    self.reader.read_line(&mut end).ok()?;
                    break;
                }
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                body.extend_from_slice(&chunk[..n]);
            }
            seen.body = body;
        }
        Some(seen)
    }

    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).and_then(|()| self.writer.flush()).is_ok()
    }
}

/// A server on 127.0.0.1:0 that runs `handler` on a thread per connection.
pub struct RawServer {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(handler: impl Fn(Peer) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let (acc, st) = (accepted.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            // Bounded: no test opens more than this many connections.
            for _ in 0..500 {
                let Ok((stream, _)) = listener.accept() else { break };
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let index = acc.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let h = handler.clone();
                // Connection threads end when their peer closes or after the read timeout;
                // they are not joined, so a client's idle pooled connection never holds a test.
                std::thread::spawn(move || {
                    let writer = stream.try_clone().unwrap();
                    h(Peer { reader: BufReader::new(stream), writer, index });
                });
            }
        });
        RawServer { addr, accepted, stop, handle: Some(handle) }
    }

    /// A keep-alive server that answers each request with `answer(seen)` and reports every
    /// request it read, in order.
    pub fn recording<R: AsRef<[u8]>>(
        answer: impl Fn(&Seen) -> R + Send + Sync + 'static,
    ) -> (RawServer, std::sync::mpsc::Receiver<Seen>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let server = RawServer::start(move |mut peer| {
            while let Some(seen) = peer.read_request() {
                let reply = answer(&seen);
                let _ = tx.lock().unwrap().send(seen);
                if !peer.write(reply.as_ref()) {
                    break;
                }
            }
        });
        (server, rx)
    }

    /// A server that answers every request on a connection with `response`, keeping the
    /// connection open.
    pub fn fixed(response: &'static [u8]) -> RawServer {
        RawServer::start(move |mut peer| {
            while peer.read_request().is_some() {
                if !peer.write(response) {
                    break;
                }
            }
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
