//! Interceptors: plain functions that wrap every request of a client, and ready-made ones for
//! logging and retries.
//!
//! An interceptor is any `Fn(Request, &Next) -> Result<Response>` (plus `Send + Sync +
//! 'static`), added with [`ClientBuilder::interceptor`](crate::ClientBuilder::interceptor). It
//! may change the request, pass it on with [`Next::run`] (any number of times), look at or
//! replace the response, or answer by itself without the network
//! ([`Response::from_parts`](crate::Response::from_parts)).
//!
//! - **Order**: the first interceptor added is the outermost: it sees the request first and
//!   the response last. The innermost one's [`Next::run`] does the exchange.
//! - **Redirects**: an interceptor sees the whole exchange once, redirects included: the
//!   request as the caller made it and the final response ([`Response::url`](crate::Response::url)
//!   says where it came from). A retry therefore starts again from the first URL.
//! - **Responses come back with their bodies unread**: time measured in an interceptor runs
//!   to the response head, and errors while reading the body reach the caller, not the
//!   interceptors.
//! - **Deadline**: the client's overall timeout starts when [`Client::send`](crate::Client::send)
//!   is called and covers every pass through the chain (retries and their waits included).
//!   A per-try timeout ([`RequestBuilder::try_timeout`](crate::RequestBuilder::try_timeout))
//!   bounds each send below the last interceptor (one try) instead.
//! - **Tries**: each send below the last interceptor is one try;
//!   [`Response::attempts`](crate::Response::attempts) and, after more than one,
//!   [`Error::Retried`] say how many there were.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use http_client::{intercept, Client, Error, Request, Response, ResponseHead};
//!
//! let sent = Arc::new(AtomicUsize::new(0));
//! let counter = sent.clone();
//! let client = Client::builder()
//!     .interceptor(intercept::logging())
//!     .interceptor(intercept::Retry::new().attempts(3).interceptor())
//!     // Header injection computed per request (fixed ones: `ClientBuilder::default_header`).
//!     .interceptor(move |mut req: Request, next: &intercept::Next<'_>| {
//!         let n = counter.fetch_add(1, Ordering::Relaxed);
//!         req.headers_mut().set("X-Request-Number", &n.to_string()).map_err(Error::InvalidHeader)?;
//!         next.run(req)
//!     })
//!     // Answers by itself for one host: no network.
//!     .interceptor(|req: Request, next: &intercept::Next<'_>| {
//!         if req.url().starts_with("http://stub.invalid/") {
//!             return Response::from_parts(ResponseHead::new(200), req.url(), "stubbed");
//!         }
//!         next.run(req)
//!     })
//!     .build()
//!     .unwrap();
//! assert_eq!(client.get_text("http://stub.invalid/x").unwrap(), "stubbed");
//! assert_eq!(sent.load(Ordering::Relaxed), 1);
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::time::{Duration, Instant};

use http_utils::{Body, Request};

pub use crate::client::Next;
use crate::error::{Error, Result, TimeoutKind};
use crate::request::may_replay;
use crate::response::Response;
use crate::urls::{parse_url, redact_url};

/// An interceptor that logs every request through the `log` crate: the method, the URL
/// (without user name or password), the status (and the final URL after redirects), and the
/// time until the response head arrived, at level `Info`; failures at level `Warn`.
///
/// ```text
/// GET http://localhost:4242/hello: 200 in 1.2 ms
/// GET http://localhost:4242/moved: 200 from http://localhost:4242/new in 2.0 ms
/// GET http://localhost:1/: failed after 0.3 ms: cannot connect to localhost:1
/// ```
pub fn logging() -> impl Fn(Request, &Next<'_>) -> Result<Response> + Send + Sync + 'static {
    |req: Request, next: &Next<'_>| {
        let method = req.method().clone();
        let url = redact_url(req.url());
        // The URL as the response reports it, to tell a redirect from a spelling.
        let asked = parse_url(&url).map_or_else(|_| url.clone(), String::from);
        let start = Instant::now();
        let result = next.run(req);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(resp) if resp.url() != asked => {
                log::info!("{method} {url}: {} from {} in {ms:.1} ms", resp.status(), resp.url());
            }
            Ok(resp) => log::info!("{method} {url}: {} in {ms:.1} ms", resp.status()),
            Err(e) => log::warn!("{method} {url}: failed after {ms:.1} ms: {e}"),
        }
        result
    }
}

/// Retries with exponential backoff, as an interceptor ([`Retry::interceptor`]).
///
/// Only requests that can be sent again safely are retried: idempotent methods (GET, HEAD,
/// PUT, DELETE, OPTIONS, TRACE), and others that carry an `Idempotency-Key` (or
/// `X-Idempotency-Key`) field, whose body is not a stream. A try is repeated when it ended
/// with
/// - a failure to connect ([`Error::Connect`]), a connect, read or write timeout or a
///   try's own ([`Error::Timeout`], [`TimeoutKind::Try`] from
///   [`RequestBuilder::try_timeout`](crate::RequestBuilder::try_timeout); not the overall
///   deadline), or a connection closed or reset before the response
///   ([`Error::ConnectionClosed`], [`Error::Io`] with a reset, abort or broken pipe);
/// - a `502`, `503` or `504` response (its body is discarded).
///
/// The wait before retry `n` is `initial × 2^(n−1)`, at most `max` per wait; with jitter
/// (default on) each wait is a random time between half of it and all of it, so clients that
/// failed together do not come back together. A `Retry-After` of seconds on the response is
/// waited instead when it is longer, and ends the retries (the response is returned) when it is
/// longer than `max`. The bounds: at most [`attempts`](Retry::attempts) tries in all (default
/// 3), no retry that would start later than [`max_total`](Retry::max_total) after the first
/// try began (default 10 s), and none past the client's overall deadline. When the retries run
/// out, the last response is returned, or the last error (as [`Error::Retried`] with the
/// number of tries, when there was more than one).
///
/// ```
/// use std::time::Duration;
/// use http_client::{intercept::Retry, Client};
/// let retry = Retry::new().attempts(4).backoff(Duration::from_millis(50), Duration::from_secs(1));
/// assert_eq!(retry.delay(1), Duration::from_millis(50));
/// assert_eq!(retry.delay(3), Duration::from_millis(200));
/// let client = Client::builder().interceptor(retry.interceptor()).build().unwrap();
/// # let _ = client;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    attempts: u32,
    initial: Duration,
    max: Duration,
    max_total: Duration,
    jitter: bool,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 3,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            max_total: Duration::from_secs(10),
            jitter: true,
        }
    }
}

impl Retry {
    /// The defaults: 3 tries, waits from 100 ms doubling up to 2 s, with jitter, no retry
    /// starting later than 10 s after the first try.
    pub fn new() -> Retry {
        Retry::default()
    }

    /// Most tries in all, the first included (at least 1; 1 means no retry).
    pub fn attempts(mut self, n: u32) -> Retry {
        self.attempts = n.max(1);
        self
    }

    /// The wait before the first retry, and the most any one wait may be.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Retry {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// No retry starts later than this after the first try began.
    pub fn max_total(mut self, d: Duration) -> Retry {
        self.max_total = d;
        self
    }

    /// Randomizes each wait between half of it and all of it (default on).
    pub fn jitter(mut self, on: bool) -> Retry {
        self.jitter = on;
        self
    }

    /// The wait before retry `n` (1 for the first retry), before jitter.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial.checked_mul(factor).map_or(self.max, |d| d.min(self.max))
    }

    /// The interceptor.
    pub fn interceptor(self) -> impl Fn(Request, &Next<'_>) -> Result<Response> + Send + Sync + 'static {
        move |req: Request, next: &Next<'_>| self.run(req, next)
    }

    fn run(&self, req: Request, next: &Next<'_>) -> Result<Response> {
        if self.attempts <= 1 || !may_replay(&req) || matches!(req.body(), Body::Stream { .. }) {
            return next.run(req);
        }
        let start = Instant::now();
        let mut tries = 1;
        loop {
            let result = next.run(copy_request(&req));
            let retry_after = match &result {
                Ok(resp) if matches!(resp.status(), 502..=504) => retry_after(resp),
                Err(e) if retryable(e) => None,
                _ => return result,
            };
            if tries >= self.attempts {
                return result;
            }
            let mut wait = self.delay(tries);
            if self.jitter {
                wait = jittered(wait);
            }
            if let Some(server_wait) = retry_after {
                if server_wait > self.max {
                    return result;
                }
                wait = wait.max(server_wait);
            }
            let resume = Instant::now() + wait;
            if resume > start + self.max_total || next.deadline().is_some_and(|d| resume >= d) {
                return result;
            }
            match result {
                Ok(mut resp) => {
                    log::debug!("{} {}: {}; retrying in {wait:?}", req.method(), resp.url(), resp.status());
                    // Read what the server sent, so the connection can be used again.
                    let _ = resp.drain(64 * 1024);
                }
                Err(e) => {
                    log::debug!("{} {}: {e}; retrying in {wait:?}", req.method(), redact_url(req.url()))
                }
            }
            std::thread::sleep(wait);
            tries += 1;
        }
    }
}

/// The errors worth another try: nothing of a response arrived, and the failure may pass.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Connect { .. } | Error::ConnectionClosed => true,
        Error::Timeout(kind) => *kind != TimeoutKind::Deadline,
        Error::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

/// A `Retry-After` of delta seconds (an HTTP date is not waited for).
fn retry_after(resp: &Response) -> Option<Duration> {
    resp.header("retry-after")?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A random time between half of `d` and `d`.
fn jittered(d: Duration) -> Duration {
    let random = RandomState::new().build_hasher().finish();
    let half = d / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(if nanos == 0 { 0 } else { random % (nanos + 1) })
}

/// A copy of a request whose body is in memory.
fn copy_request(req: &Request) -> Request {
    let mut copy =
        Request::from_parts(req.method().clone(), req.url().to_owned(), req.version(), req.headers().clone());
    if let Some(bytes) = req.body().as_bytes() {
        if !matches!(req.body(), Body::Empty) {
            copy.set_body(bytes.to_vec());
        }
    }
    copy.set_ip(req.ip());
    #[cfg(feature = "tls")]
    copy.set_tls_config(req.tls_config().cloned());
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let r = Retry::new().backoff(Duration::from_millis(100), Duration::from_millis(500));
        let delays: Vec<u128> = (1..=5).map(|n| r.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(r.delay(200), Duration::from_millis(500));
        for _ in 0..100 {
            let j = jittered(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j <= Duration::from_millis(100), "{j:?}");
        }
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn which_errors_are_retried() {
        assert!(retryable(&Error::ConnectionClosed));
        assert!(retryable(&Error::Timeout(TimeoutKind::Read)));
        assert!(!retryable(&Error::Timeout(TimeoutKind::Deadline)));
        assert!(retryable(&Error::Io(io::Error::from(io::ErrorKind::ConnectionReset))));
        assert!(!retryable(&Error::NotUtf8));
        assert!(!retryable(&Error::TooManyRedirects { max: 1 }));
    }
}
