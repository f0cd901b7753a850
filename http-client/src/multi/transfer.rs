//! One request on the one-thread interface: the client's exchange (see `exchange.rs`) as a
//! state machine that never blocks. Each phase does what the socket allows and says what
//! comes next; [`Transfer::drive`] is the one loop that owns the transitions.
//!
//! ```text
//!   Start ──pooled conn──────────────────────────────────────────┐
//!     │ (none, or a retry)                                      │
//!     v                                                         v
//!   Connecting ──> [Tunnel: CONNECT via an HTTP proxy] ──> [Handshake] ──> Sending ──> Head ──> Body
//!     │ an address fails: the next one                   a final answer while sending ─┘        │
//!     │                                                                                         v
//!     └─ a request that failed on a reused connection before any byte of an     answer: jar, 407,
//!        answer, replayable: Start again on a fresh connection (once)           decoding; a redirect
//!                                                                               to follow: Start again
//! ```
//!
//! The connection goes back to the client's pool when the body is complete and the answer
//! allows keep-alive; otherwise it is closed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_utils::{
    parse_response_head, response_framing, Body, ChunkedDecoder, ErrorKind, Framing, Parsed, Request,
    ResponseHead,
};
use mio::{Interest, Registry};
#[cfg(feature = "tls")]
use rustls::ClientConfig;

use super::lookup::Lookups;
use super::socket::{Io, Socket};
use crate::client::Client;
use crate::conn::{Conn, Parts};
use crate::error::{Error, Result, TimeoutKind};
use crate::exchange::{keep_alive_timeout, may_keep};
use crate::key::PoolKey;
use crate::proxy::{proxy_refusal, Proxy};
use crate::redirect::{next_hop, Chain, Step as Hop};
use crate::request::{may_replay, request_head, Added};
use crate::response::Response;
use crate::wire::RawBody;

mod connect;
mod incoming;

/// Most steps one call of [`Transfer::drive`] takes without waiting (each step changes the
/// phase; redirects and the one retry start over).
const MAX_STEPS: usize = 1024;

/// Most interim (1xx) answers taken before a final one.
const MAX_INTERIM: usize = 100;

/// A function given the body's bytes as they arrive.
pub(crate) type Sink = Box<dyn FnMut(&[u8]) + Send>;

/// What a transfer borrows from its [`Multi`](super::Multi) while it is driven.
pub(crate) struct Cx<'a> {
    pub(crate) client: &'a Client,
    pub(crate) registry: &'a Registry,
    pub(crate) token: mio::Token,
    pub(crate) scratch: &'a mut [u8],
    pub(crate) lookups: &'a mut Lookups,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started, or starting again (a redirect, a retry).
    Start,
    /// A TCP connect under way.
    Connecting,
    /// `CONNECT` to an HTTP proxy, and its answer.
    Tunnel,
    /// The TLS handshake with the server.
    // Reached only with the `tls` feature.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Handshake,
    /// The request's head and body going out.
    Sending,
    /// Waiting for the final response head.
    Head,
    /// The body arriving.
    Body,
}

/// What a phase did.
enum Step {
    /// The phase changed: go on at once.
    Next,
    /// Wait for the socket's next event (or a timeout).
    Wait,
    /// The answer.
    Answer(Box<Response>),
}

/// A failure, and whether it may be retried on a fresh connection.
struct Failure {
    error: Error,
    /// Nothing of an answer arrived (the connection may have been stale).
    retryable: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { error, retryable: false }
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure { error: Error::Io(error), retryable: false }
    }
}

type Outcome = std::result::Result<Step, Failure>;

/// What one hop goes to, decided at its start.
struct Target {
    https: bool,
    host: String,
    port: u16,
    proxy: Option<Arc<Proxy>>,
    key: PoolKey,
    #[cfg(feature = "tls")]
    tls: Arc<ClientConfig>,
    asked_gzip: bool,
}

/// A connection in use.
struct Link {
    socket: Socket,
    reused: bool,
    server_idle_limit: Option<Duration>,
}

/// The body as it arrives.
struct Incoming {
    framing: Framing,
    /// Bytes still due for a body with a length.
    left: u64,
    chunked: Option<ChunkedDecoder>,
    bytes: Vec<u8>,
    /// The connection may carry another request afterwards.
    keep: bool,
    done: bool,
    /// The bytes go to the caller's function instead of `bytes`.
    streamed: bool,
}

/// One request in flight.
pub(crate) struct Transfer {
    req: Request,
    url: url::Url,
    overall: Option<Instant>,
    chain: Chain,
    replayable: bool,
    fresh_only: bool,
    phase: Phase,
    /// The deadline of the phase, and which timeout it is.
    phase_until: Option<(Instant, TimeoutKind)>,
    target: Option<Target>,
    link: Option<Link>,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    last_connect_error: Option<io::Error>,
    /// Bytes to send in this phase (the `CONNECT` head, or the request) and how many went.
    out: Vec<u8>,
    sent: usize,
    /// The length of the `CONNECT` head at the front of `out`, while tunnelling.
    tunnel_len: usize,
    /// Bytes received and not yet parsed.
    inbuf: Vec<u8>,
    answered: bool,
    all_sent: bool,
    interim: usize,
    head: Option<ResponseHead>,
    incoming: Option<Incoming>,
    sink: Option<Sink>,
}

impl Transfer {
    /// A transfer of `req` (its body already in memory) to `url`, to be done by `overall`.
    pub(crate) fn new(req: Request, url: url::Url, overall: Option<Instant>, sink: Option<Sink>) -> Transfer {
        let replayable = may_replay(&req);
        Transfer {
            req,
            url,
            overall,
            chain: Chain { followed: 0, credentials: true },
            replayable,
            fresh_only: false,
            phase: Phase::Start,
            phase_until: None,
            target: None,
            link: None,
            addrs: Vec::new(),
            next_addr: 0,
            last_connect_error: None,
            out: Vec::new(),
            sent: 0,
            tunnel_len: 0,
            inbuf: Vec::new(),
            answered: false,
            all_sent: false,
            interim: 0,
            head: None,
            incoming: None,
            sink,
        }
    }

    /// When this transfer times out if nothing happens first, and as which timeout.
    pub(crate) fn deadline(&self) -> Option<(Instant, TimeoutKind)> {
        match (self.phase_until, self.overall) {
            (Some((p, kind)), Some(o)) if p < o => Some((p, kind)),
            (_, Some(o)) => Some((o, TimeoutKind::Deadline)),
            (p, None) => p,
        }
    }

    /// True while the transfer only reads (and its last read would have blocked): an event
    /// that says only "writable" has nothing for it.
    pub(crate) fn only_reads(&self) -> bool {
        matches!(self.phase, Phase::Head | Phase::Body)
    }

    /// Goes as far as the sockets allow: `None` to wait for an event, else the outcome.
    pub(crate) fn drive(&mut self, cx: &mut Cx<'_>) -> Option<Result<Response>> {
        for _ in 0..MAX_STEPS {
            let step = match self.phase {
                Phase::Start => self.start(cx),
                Phase::Connecting => self.connecting(cx),
                Phase::Tunnel => self.tunnel(cx),
                Phase::Handshake => self.handshake(),
                Phase::Sending => self.sending(cx),
                Phase::Head => self.read_final_head(cx).and_then(|h| match h {
                    Some(head) => self.got_head(cx, head),
                    None => Ok(Step::Wait),
                }),
                Phase::Body => self.body(cx),
            };
            match step {
                Ok(Step::Next) => {}
                Ok(Step::Wait) => return None,
                Ok(Step::Answer(resp)) => return Some(Ok(*resp)),
                Err(f) => {
                    let reused = self.link.as_ref().is_some_and(|l| l.reused);
                    self.close(cx);
                    if f.retryable && reused && self.replayable && !self.fresh_only {
                        log::debug!("retrying on a fresh connection after: {}", f.error);
                        self.fresh_only = true;
                        self.phase = Phase::Start;
                        continue;
                    }
                    return Some(Err(f.error));
                }
            }
        }
        Some(Err(Error::Io(io::Error::other("the request did not settle"))))
    }

    /// Closes the connection, if any (the transfer failed or was cancelled).
    pub(crate) fn close(&mut self, cx: &Cx<'_>) {
        if let Some(mut link) = self.link.take() {
            let _ = cx.registry.deregister(link.socket.tcp());
        }
    }

    /// Sets the phase's timeout to `timeout` from now.
    fn arm(&mut self, timeout: Option<Duration>, kind: TimeoutKind) {
        self.phase_until = timeout.map(|t| (Instant::now() + t, kind));
    }

    /// Starts a hop: the target and proxy, the request's head, then a pooled connection or a
    /// new one.
    fn start(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let client = cx.client;
        let inner = &*client.inner;
        self.sent = 0;
        self.inbuf = Vec::new();
        self.answered = false;
        self.all_sent = false;
        self.interim = 0;
        self.head = None;
        self.incoming = None;
        let https = self.url.scheme() == "https";
        if https && !cfg!(feature = "tls") {
            return Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// URL" }.into());
        }
        let host = self.url.host_str().unwrap_or_default().to_owned();
        let port = self.url.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
        let proxy = cx.client.proxy_for(&self.url, &host, port)?;
        if let Some(p) = proxy.as_deref().filter(|p| p.is_socks() || p.is_tls()) {
            return Err(Error::Unsupported(format!(
                "a {} proxy on the one-thread interface (Multi); Client::send goes through it",
                p.scheme()
            ))
            .into());
        }
        let added = Added {
            user_agent: inner.user_agent.as_deref(),
            // Streamed bodies are given as sent: the client asks for no coding.
            gzip: inner.gzip && self.sink.is_none(),
            jar: inner.jar.as_ref(),
        };
        let (mut out, asked_gzip) = request_head(&self.req, &self.url, proxy.as_deref(), https, &added)?;
        if let Body::Bytes(b) = self.req.body() {
            out.extend_from_slice(b);
        }
        self.out = out;
        // No upgrades here: a tunnel for https only, as the blocking client's for a request
        // that does not ask to switch protocols.
        let key =
            crate::exchange::Target { https, tunnel: https, host: &host, port, proxy: proxy.as_deref() }
                .pool_key(&self.req);
        #[cfg(feature = "tls")]
        let tls = self.req.tls_config().unwrap_or(&inner.tls).clone();
        let pooled = if self.fresh_only { None } else { inner.pool.take(&key).and_then(Conn::into_parts) };
        self.target = Some(Target {
            https,
            host,
            port,
            proxy,
            key,
            #[cfg(feature = "tls")]
            tls,
            asked_gzip,
        });
        if let Some(parts) = pooled {
            let mut socket = Socket::from_stream(parts.stream)?;
            cx.registry.register(socket.tcp(), cx.token, Interest::READABLE | Interest::WRITABLE)?;
            self.link =
                Some(Link { socket, reused: parts.reused, server_idle_limit: parts.server_idle_limit });
            self.arm(inner.timeouts.write, TimeoutKind::Write);
            self.phase = Phase::Sending;
            return Ok(Step::Next);
        }
        self.dial(cx)
    }

    /// Sends the request; looks for an early answer whenever the socket is full.
    fn sending(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let write_timeout = cx.client.inner.timeouts.write;
        if self.phase_until.is_none() {
            self.arm(write_timeout, TimeoutKind::Write);
        }
        // Bounded: each round sends bytes, or ends the phase, or stops when the socket is full.
        loop {
            let link = self.link.as_mut().expect("sending has a socket");
            let res = if self.sent < self.out.len() {
                link.socket.write(&self.out[self.sent..])
            } else {
                link.socket.flush()
            };
            match res {
                Ok(Io::Done(n)) if self.sent < self.out.len() => {
                    self.sent += n;
                    self.arm(write_timeout, TimeoutKind::Write);
                }
                Ok(Io::Done(_)) => {
                    self.all_sent = true;
                    self.arm(cx.client.inner.timeouts.read, TimeoutKind::Read);
                    self.phase = Phase::Head;
                    return Ok(Step::Next);
                }
                Ok(Io::Blocked | Io::Closed) => break,
                Err(e) => return self.write_failed(cx, e),
            }
        }
        // The socket is full: has the server answered already (RFC 9112 §9.5)?
        match self.read_final_head(cx)? {
            Some(head) => self.got_head(cx, head),
            None => Ok(Step::Wait),
        }
    }

    /// A write failed: the server may have answered before it reset or closed the connection.
    fn write_failed(&mut self, cx: &mut Cx<'_>, e: io::Error) -> Outcome {
        let reset = matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
        );
        if reset {
            if let Ok(Some(head)) = self.read_final_head(cx) {
                return self.got_head(cx, head);
            }
        }
        let error = Error::from_io(e, TimeoutKind::Write);
        let retryable = !self.answered && !error.is_timeout();
        Err(Failure { error, retryable })
    }

    /// Reads until a final response head is complete (`Some`) or the socket would block
    /// (`None`); interim answers are skipped.
    fn read_final_head(&mut self, cx: &mut Cx<'_>) -> std::result::Result<Option<ResponseHead>, Failure> {
        let limits = &cx.client.inner.limits;
        let read_timeout = cx.client.inner.timeouts.read;
        // Bounded: each round parses a head or reads bytes, until the socket would block.
        loop {
            if !self.inbuf.is_empty() {
                match parse_response_head(&self.inbuf, limits) {
                    Ok(Parsed::Complete { value, used }) => {
                        self.inbuf.drain(..used);
                        if !value.is_interim() {
                            return Ok(Some(value));
                        }
                        self.interim += 1;
                        if self.interim > MAX_INTERIM {
                            let e = io::Error::other(format!("more than {MAX_INTERIM} interim responses"));
                            return Err(Error::Io(e).into());
                        }
                        continue;
                    }
                    Ok(Parsed::Partial) => {}
                    Err(e) => {
                        return Err(Error::head_limit(&e, limits).unwrap_or_else(|| Error::from(e)).into())
                    }
                }
            }
            let link = self.link.as_mut().expect("reading has a socket");
            match link.socket.read(cx.scratch) {
                Ok(Io::Done(n)) => {
                    self.answered = true;
                    self.inbuf.extend_from_slice(&cx.scratch[..n]);
                    if self.phase != Phase::Tunnel {
                        self.arm(read_timeout, TimeoutKind::Read);
                    }
                }
                Ok(Io::Blocked) => return Ok(None),
                Ok(Io::Closed) if self.inbuf.is_empty() && !self.answered => {
                    return Err(Failure { error: Error::ConnectionClosed, retryable: true });
                }
                Ok(Io::Closed) => {
                    let at = self.inbuf.len();
                    return Err(
                        Error::Protocol(http_utils::Error::protocol(ErrorKind::TruncatedHead, at)).into()
                    );
                }
                Err(e) => {
                    let error = Error::from_io(e, TimeoutKind::Read);
                    let retryable = !self.answered
                        && matches!(&error, Error::Io(e) if matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                        ));
                    return Err(Failure { error, retryable });
                }
            }
        }
    }

    /// The final head is in: how its body is framed, and whether the connection stays.
    fn got_head(&mut self, cx: &mut Cx<'_>, head: ResponseHead) -> Outcome {
        let client = cx.client;
        let inner = &*client.inner;
        let framing = response_framing(self.req.method(), &head).map_err(Error::from)?;
        let idle = keep_alive_timeout(&head);
        let keep = may_keep(&self.req, &head, self.all_sent, idle) && framing != Framing::UntilClose;
        if let Some(link) = self.link.as_mut() {
            link.server_idle_limit = idle;
        }
        // A redirect that may be followed is read whole, even when the body is streamed.
        let redirect = matches!(head.status, 301 | 302 | 303 | 307 | 308)
            && head.headers.contains("location")
            && inner.redirects.max > 0;
        let streamed = self.sink.is_some() && !redirect;
        let max_body = inner.limits.max_body;
        let left = match framing {
            Framing::Length(n) if n > max_body && !streamed => {
                return Err(Error::BodyTooLarge { limit: max_body }.into());
            }
            Framing::Length(n) => n,
            _ => 0,
        };
        let chunked = (framing == Framing::Chunked).then(|| {
            let decoder = ChunkedDecoder::new(&inner.limits);
            if streamed {
                decoder
            } else {
                decoder.with_max_body(max_body)
            }
        });
        let done = matches!(framing, Framing::None | Framing::Length(0));
        self.incoming = Some(Incoming { framing, left, chunked, bytes: Vec::new(), keep, done, streamed });
        self.head = Some(head);
        self.arm(inner.timeouts.read, TimeoutKind::Read);
        self.phase = Phase::Body;
        Ok(Step::Next)
    }

    /// Takes the body as it arrives, then answers.
    fn body(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let max_body = cx.client.inner.limits.max_body;
        let read_timeout = cx.client.inner.timeouts.read;
        let incoming = self.incoming.as_mut().expect("a body has its state");
        if !self.inbuf.is_empty() {
            let early = std::mem::take(&mut self.inbuf);
            incoming.feed(&early, max_body, &mut self.sink)?;
        }
        // Bounded: each round takes bytes from the socket, until the body is done or the
        // socket would block.
        while !incoming.done {
            let link = self.link.as_mut().expect("a body has a socket");
            match link.socket.read(cx.scratch).map_err(|e| Error::from_io(e, TimeoutKind::Read))? {
                Io::Done(n) => {
                    incoming.feed(&cx.scratch[..n], max_body, &mut self.sink)?;
                    self.phase_until = read_timeout.map(|t| (Instant::now() + t, TimeoutKind::Read));
                }
                Io::Blocked => return Ok(Step::Wait),
                Io::Closed if incoming.framing == Framing::UntilClose => incoming.done = true,
                Io::Closed => {
                    let at = incoming.bytes.len();
                    return Err(
                        Error::Protocol(http_utils::Error::protocol(ErrorKind::TruncatedBody, at)).into()
                    );
                }
            }
        }
        self.answer(cx)
    }

    /// The body is complete: the connection goes back to the pool (or is closed), and the
    /// response is made; a redirect to follow starts the next hop.
    fn answer(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let incoming = self.incoming.take().expect("an answer has its body");
        let head = self.head.take().expect("an answer has its head");
        let target = self.target.take().expect("an answer has its target");
        let client = cx.client;
        let inner = &*client.inner;
        if let Some(mut link) = self.link.take() {
            let _ = cx.registry.deregister(link.socket.tcp());
            // A pool that has enough idle connections for this key would close this one.
            if incoming.keep && inner.pool.wants(&target.key) {
                if let Ok(stream) = link.socket.into_stream() {
                    let parts = Parts {
                        stream,
                        key: target.key.clone(),
                        reused: link.reused,
                        server_idle_limit: link.server_idle_limit,
                    };
                    inner.pool.put(Conn::from_parts(parts));
                }
            }
        }
        let trailers = incoming.chunked.and_then(|mut d| d.take_trailers());
        let raw = RawBody::received(incoming.bytes, incoming.framing, trailers, &inner.limits);
        let mut resp = cx.client.answer(target.proxy.as_deref(), &self.url, head, raw, target.asked_gzip)?;
        // One try (no retry interceptor runs here).
        resp.attempts = 1;
        let location = resp.header("location").map(str::to_owned);
        match next_hop(
            &inner.redirects,
            &mut self.chain,
            &mut self.req,
            &self.url,
            resp.status(),
            location.as_deref(),
        )? {
            Hop::Answer => Ok(Step::Answer(Box::new(resp))),
            Hop::Follow(next) => {
                self.req.set_url(next.as_str());
                self.url = next;
                self.fresh_only = false;
                self.phase = Phase::Start;
                Ok(Step::Next)
            }
        }
    }
}
