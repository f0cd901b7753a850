//! Many requests in flight on the caller's thread ([`Multi`]), in the spirit of curl's multi
//! interface: submit requests, then wait for whichever completes first. One `mio` poll drives
//! every connection; nothing here starts a thread.
//!
//! ```text
//!   submit(req) ──> Transfer (transfer.rs: Start → Connecting → [Tunnel] → [Handshake]
//!        │                      → Sending → Head → Body → answer)
//!        │          driven at once, then on each event of its socket
//!        v
//!   wait() ──> a completion ready? ──yes──> (Token, Result<Response>)
//!                 │ no
//!                 v
//!          poll until the next event or the earliest deadline ──> drive the transfers
//!          whose sockets are ready; a transfer past its deadline fails with Timeout
//! ```
//!
//! Deadlines live in a heap ordered by time, with at least one entry per transfer that is not
//! later than its current deadline; an entry that comes due early (the transfer made progress
//! meanwhile) is put back at the transfer's new deadline.

mod lookup;
mod socket;
mod transfer;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use http_utils::{Body, Request, Version};
use mio::{Events, Poll};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::{buffer_unsized_body, IntoRequest};
use crate::response::Response;
use crate::urls::parse_url;
use lookup::Lookups;
use transfer::{Cx, Sink, Transfer};

/// Bytes read from a socket at a time (one buffer for all transfers).
const SCRATCH: usize = 64 * 1024;

/// Events taken from the poll at a time.
const EVENTS: usize = 1024;

/// A request submitted to a [`Multi`]: what its completion is known by. Tokens are never
/// reused within one `Multi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(u64);

impl Token {
    /// The token's number: 0 for the first request submitted to its `Multi`, then 1, 2...
    pub fn id(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A request in flight and the number its token carries.
struct Slot {
    id: u64,
    transfer: Transfer,
    /// The earliest deadline entry in the heap for it.
    scheduled: Option<Instant>,
}

/// Many requests in flight on one thread, the caller's: submit requests, then
/// [`wait`](Multi::wait) for whichever completes first (curl's multi interface; the `choice`
/// of Concurrent ML). Made by [`Client::multi`], it uses that client's pool, cookie jar,
/// default headers, proxies, limits, timeouts and TLS settings.
///
/// ```no_run
/// use std::time::Duration;
/// let client = http_client::Client::new();
/// let mut multi = client.multi()?;
/// let slow = multi.submit("http://localhost:4242/slow");
/// let fast = multi.submit_within("http://localhost:4242/fast", Duration::from_secs(2));
/// // Completions come in the order they complete.
/// for (token, result) in multi.completions() {
///     match result {
///         Ok(resp) => println!("{token}: {} {}", resp.status(), resp.text()?),
///         Err(e) => println!("{token}: {e}"),
///     }
/// }
/// # let _ = (slow, fast);
/// # Ok::<(), http_client::Error>(())
/// ```
///
/// ## What a completion holds
/// A completion comes when the whole response has arrived: its status, headers and body
/// (at most `Limits::max_body` bytes, else [`Error::BodyTooLarge`]; decoded from gzip,
/// deflate, brotli or zstd as [`Client::send`] does, the cap counting decoded bytes when the
/// body is read). Its connection is back in the client's pool by then. To take a body's bytes
/// as they arrive instead, [`submit_streaming`](Multi::submit_streaming) hands them to a
/// function.
///
/// ## The same rules as `Client::send`
/// Default headers, cookies (sent and kept), proxies by pattern and from the environment
/// (HTTP proxies: absolute-form requests, and `CONNECT` tunnels for `https`), redirects with
/// their rules (credentials stay with their origin; see [`Client`]'s docs), a stale pooled
/// connection retried once for a request that may be replayed, and every limit on the
/// response. Each request has the client's timeouts (connect, read, write) and an overall
/// deadline, the client's or its own ([`submit_within`](Multi::submit_within)); a request
/// that runs out fails alone with [`Error::Timeout`].
///
/// ## What differs
/// - **Name lookups block.** The system resolver has no non-blocking interface: `submit`
///   looks a host name up on the caller's thread (bounded by the connect timeout) and keeps
///   its addresses for 30 s, so a thousand requests to one host cost one lookup. IP
///   addresses and names given with [`ClientBuilder::resolve`](crate::ClientBuilder::resolve)
///   are not looked up at all.
/// - **Addresses are tried one after another**, the next when one fails, not raced 250 ms
///   apart as `Client::send` does (Happy Eyeballs); an address that drops connection
///   attempts costs the connect timeout.
/// - **Not here** (each an [`Error::Unsupported`] for that request, which is not sent):
///   SOCKS proxies and `https://` proxies, and protocol upgrades (`Connection: upgrade`).
///   Interceptors are not run.
/// - A streamed request body ([`Body::stream`](crate::Body::stream)) is read into memory at
///   `submit` (at most `Limits::max_body` bytes), so that it can be sent without blocking.
/// - There is no cap on connections per host: each request in flight has its own connection
///   (taken from the pool when one is idle there).
pub struct Multi {
    client: Client,
    poll: Poll,
    events: Events,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    in_flight: usize,
    next_id: u64,
    ready: VecDeque<(Token, Result<Response>)>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    scratch: Box<[u8]>,
    lookups: Lookups,
    /// The slots an event woke, and whether the event said only "writable".
    woken: Vec<(usize, bool)>,
}

impl fmt::Debug for Multi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multi")
            .field("in_flight", &self.in_flight)
            .field("completed", &self.ready.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A [`Multi`] on this client: many requests in flight on the caller's thread, sharing
    /// this client's pool, cookie jar, proxies, limits and TLS settings.
    ///
    /// # Errors
    /// [`Error::Io`] when the system gives no poll (out of file descriptors, say).
    pub fn multi(&self) -> Result<Multi> {
        Ok(Multi {
            client: self.clone(),
            poll: Poll::new()?,
            events: Events::with_capacity(EVENTS),
            slots: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            next_id: 0,
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            scratch: vec![0u8; SCRATCH].into_boxed_slice(),
            lookups: Lookups::default(),
            woken: Vec::new(),
        })
    }
}

impl Multi {
    /// Submits a request (or a GET for a URL) with the client's timeouts and overall
    /// deadline. Its connection is opened (or taken from the pool) and the request sent as
    /// far as the socket allows at once; the rest happens while [`wait`](Multi::wait) runs.
    /// A request that cannot be sent (a bad URL, an unsupported proxy) completes at once with
    /// its error.
    pub fn submit(&mut self, req: impl IntoRequest) -> Token {
        let overall = self.client.inner.timeouts.overall;
        self.add(req.into_request(), overall, None)
    }

    /// [`submit`](Multi::submit) with `timeout` as the deadline of the whole request
    /// (connecting, sending, redirects, and the whole body); the client's timeouts for each
    /// phase still apply.
    pub fn submit_within(&mut self, req: impl IntoRequest, timeout: Duration) -> Token {
        self.add(req.into_request(), Some(timeout), None)
    }

    /// [`submit`](Multi::submit), with the body's bytes given to `on_data` as they arrive,
    /// on the thread that waits: the completion's response then has the status and headers
    /// and an empty body. The body is given as the server sent it (the client asks for no
    /// content coding; a request's own `Accept-Encoding` is the caller's to decode) and
    /// `Limits::max_body` does not apply, since nothing is kept. The body of a redirect that
    /// the client may follow is not given to `on_data`.
    pub fn submit_streaming(
        &mut self,
        req: impl IntoRequest,
        on_data: impl FnMut(&[u8]) + Send + 'static,
    ) -> Token {
        let overall = self.client.inner.timeouts.overall;
        self.add(req.into_request(), overall, Some(Box::new(on_data)))
    }

    /// Requests submitted and not yet given back by [`wait`](Multi::wait) (in flight, or
    /// complete and waiting to be taken).
    pub fn len(&self) -> usize {
        self.in_flight + self.ready.len()
    }

    /// True when every submitted request has been given back.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next request to complete and gives it back with its token: the first
    /// to complete comes first. `None` when nothing is left (every request submitted has been
    /// given back).
    pub fn wait(&mut self) -> Option<(Token, Result<Response>)> {
        self.run(None)
    }

    /// [`wait`](Multi::wait) for at most `timeout`: `None` also when it passes first (the
    /// requests in flight go on; [`is_empty`](Multi::is_empty) tells the two apart).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<(Token, Result<Response>)> {
        self.run(Some(Instant::now() + timeout))
    }

    /// The completions in the order they come, until none is left: [`wait`](Multi::wait)
    /// as an iterator.
    pub fn completions(&mut self) -> Completions<'_> {
        Completions { multi: self }
    }

    /// Gives up the request of `token`: its connection is closed, and no completion will
    /// come for it. Returns false when it was not in flight (already complete or given
    /// back, or unknown).
    pub fn cancel(&mut self, token: Token) -> bool {
        if let Some(at) = self.ready.iter().position(|(t, _)| *t == token) {
            self.ready.remove(at);
            return true;
        }
        let Some(index) = self.slots.iter().position(|s| s.as_ref().is_some_and(|s| s.id == token.0)) else {
            return false;
        };
        self.abort(index);
        true
    }

    /// Prepares `req` and starts it; an error completes it at once.
    fn add(&mut self, req: Request, overall: Option<Duration>, sink: Option<Sink>) -> Token {
        let token = Token(self.next_id);
        self.next_id += 1;
        let deadline = overall.map(|d| Instant::now() + d);
        let transfer = match self.prepare(req) {
            Ok((req, url)) => Transfer::new(req, url, deadline, sink),
            Err(e) => {
                self.ready.push_back((token, Err(e)));
                return token;
            }
        };
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some(Slot { id: token.0, transfer, scheduled: None });
        self.in_flight += 1;
        self.drive(index);
        token
    }

    /// The request as it goes out: default headers added, its URL checked, a streamed body
    /// read into memory.
    fn prepare(&self, mut req: Request) -> Result<(Request, url::Url)> {
        self.client.add_default_headers(&mut req)?;
        let url = parse_url(req.url())?;
        if req.headers().connection_has("upgrade") {
            return Err(Error::Unsupported(
                "a protocol upgrade on the one-thread interface (Multi); Client::send does it".to_owned(),
            ));
        }
        let limit = self.client.inner.limits.max_body;
        if req.version() == Version::Http10 {
            buffer_unsized_body(&mut req, limit)?;
        }
        if let Body::Stream { reader, length } = req.body_mut() {
            let mut bytes = Vec::new();
            let n = io::Read::read_to_end(&mut io::Read::take(reader, limit.saturating_add(1)), &mut bytes)?;
            if n as u64 > limit {
                return Err(Error::Unsupported(format!(
                    "a streamed request body of more than Limits::max_body ({limit} bytes) on the \
                     one-thread interface (Multi), which reads it into memory"
                )));
            }
            if let Some(expected) = *length {
                if expected != n as u64 {
                    return Err(Error::RequestBodyLength { expected, actual: n as u64 });
                }
            }
            req.set_body(bytes);
        }
        Ok((req, url))
    }

    /// Drives the transfer in `index` as far as its sockets allow.
    fn drive(&mut self, index: usize) {
        let Some(Some(slot)) = self.slots.get_mut(index) else { return };
        let mut cx = Cx {
            client: &self.client,
            registry: self.poll.registry(),
            token: mio::Token(index),
            scratch: &mut self.scratch,
            lookups: &mut self.lookups,
        };
        match slot.transfer.drive(&mut cx) {
            None => {
                if let Some((when, _)) = slot.transfer.deadline() {
                    if slot.scheduled.is_none_or(|s| when < s) {
                        slot.scheduled = Some(when);
                        self.timers.push(Reverse((when, index, slot.id)));
                    }
                }
            }
            Some(result) => self.complete(index, result),
        }
    }

    /// Ends the transfer in `index` with `result`.
    fn complete(&mut self, index: usize, result: Result<Response>) {
        if let Some(slot) = self.release(index) {
            self.ready.push_back((Token(slot.id), result));
        }
    }

    /// Takes the transfer out of slot `index`, the slot free again.
    fn release(&mut self, index: usize) -> Option<Slot> {
        let slot = self.slots[index].take()?;
        self.free.push(index);
        self.in_flight -= 1;
        Some(slot)
    }

    /// Ends the transfer in `index` before its answer: its connection closed, its slot free.
    fn abort(&mut self, index: usize) {
        let Some(mut slot) = self.release(index) else { return };
        let cx = Cx {
            client: &self.client,
            registry: self.poll.registry(),
            token: mio::Token(index),
            scratch: &mut self.scratch,
            lookups: &mut self.lookups,
        };
        slot.transfer.close(&cx);
    }

    /// Fails the transfers whose deadline has passed; puts entries that came due early back
    /// at their transfer's deadline.
    fn expire(&mut self, now: Instant) {
        // Bounded by the entries due: each is taken once, and one put back is later than now.
        while let Some(&Reverse((when, index, id))) = self.timers.peek() {
            if when > now {
                break;
            }
            self.timers.pop();
            let Some(Some(slot)) = self.slots.get_mut(index) else { continue };
            if slot.id != id {
                continue;
            }
            if slot.scheduled == Some(when) {
                slot.scheduled = None;
            }
            match slot.transfer.deadline() {
                Some((due, kind)) if due <= now => {
                    self.abort(index);
                    self.ready.push_back((Token(id), Err(Error::Timeout(kind))));
                }
                Some((due, _)) if slot.scheduled.is_none_or(|s| due < s) => {
                    slot.scheduled = Some(due);
                    self.timers.push(Reverse((due, index, id)));
                }
                _ => {}
            }
        }
    }

    /// Runs the poll until a completion is ready, nothing is in flight, or `until` passes.
    fn run(&mut self, until: Option<Instant>) -> Option<(Token, Result<Response>)> {
        // Bounded by `until` and the requests' deadlines: each round waits for events or a
        // deadline and handles them (without any deadline, until a request completes).
        loop {
            if let Some(done) = self.ready.pop_front() {
                return Some(done);
            }
            if self.in_flight == 0 {
                return None;
            }
            let now = Instant::now();
            self.expire(now);
            if !self.ready.is_empty() {
                continue;
            }
            if until.is_some_and(|u| now >= u) {
                return None;
            }
            let next_timer = self.timers.peek().map(|Reverse((when, _, _))| *when);
            let wake = match (next_timer, until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = wake.map(|w| w.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut self.events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.fail_all(&e);
                continue;
            }
            self.woken.clear();
            // An event that says only "writable" is nothing to a transfer that only reads.
            self.woken.extend(self.events.iter().map(|e| {
                let only_writable =
                    e.is_writable() && !e.is_readable() && !e.is_read_closed() && !e.is_error();
                (e.token().0, only_writable)
            }));
            for i in 0..self.woken.len() {
                let (index, only_writable) = self.woken[i];
                if only_writable
                    && self.slots.get(index).and_then(Option::as_ref).is_some_and(|s| s.transfer.only_reads())
                {
                    continue;
                }
                self.drive(index);
            }
        }
    }

    /// The poll itself failed: every request in flight fails with its error.
    fn fail_all(&mut self, e: &io::Error) {
        for index in 0..self.slots.len() {
            if self.slots[index].is_some() {
                let err = Error::Io(io::Error::new(e.kind(), format!("polling failed: {e}")));
                self.complete(index, Err(err));
            }
        }
    }
}

/// The completions of a [`Multi`] in the order they come ([`Multi::completions`]).
#[derive(Debug)]
pub struct Completions<'a> {
    multi: &'a mut Multi,
}

impl Iterator for Completions<'_> {
    type Item = (Token, Result<Response>);

    fn next(&mut self) -> Option<Self::Item> {
        self.multi.wait()
    }
}
