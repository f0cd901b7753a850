//! A request id as middleware: one per request, taken from the client when it sent a
//! well-formed one, made here otherwise; set on the request (handlers and the log hook see
//! it) and on the response.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::handler::context::{Context, Middleware, Next};
use crate::handler::response::Response;

/// The longest id taken from a client.
const MAX_LEN: usize = 128;

/// Middleware that gives every request an id, in `X-Request-Id` by default: the client's
/// own when it sent one of at most 128 characters from `A-Z a-z 0-9 - _ . : + / =`
/// (and [`trust_incoming`](RequestId::trust_incoming) is on, the default), otherwise 32
/// new hexadecimal digits (unpredictable, not a counter). The id is set on the request, so
/// handlers, the log hook and later layers read it (`cx.request().headers().get("x-request-id")`),
/// and on the response, the server's own answers included.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{test, RequestId, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.wrap_with(RequestId::new());
/// server.route(Method::Get, "/id", |cx| {
///     Response::text(cx.request().headers().get("x-request-id").unwrap_or_default().to_owned())
/// }).unwrap();
/// let r = test::get(&server, "/id");
/// assert_eq!(r.header("x-request-id"), Some(r.text().as_str()));
/// assert_eq!(r.text().len(), 32);
/// let kept = test::request(&server, Method::Get, "/id").header("X-Request-Id", "abc-1").send();
/// assert_eq!(kept.text(), "abc-1");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RequestId {
    header: String,
    trust_incoming: bool,
}

impl Default for RequestId {
    fn default() -> RequestId {
        RequestId::new()
    }
}

impl RequestId {
    /// Ids in `X-Request-Id`, a client's well-formed one kept.
    pub fn new() -> RequestId {
        RequestId { header: "X-Request-Id".to_owned(), trust_incoming: true }
    }

    /// The header field the id goes in (`X-Correlation-Id`, ...), written in the response
    /// as given here.
    ///
    /// # Panics
    /// When `name` is not a valid field name.
    pub fn header(mut self, name: &str) -> RequestId {
        let mut probe = http_utils::Headers::new();
        assert!(probe.append(name, "x").is_ok(), "RequestId::header: {name:?} is not a field name");
        self.header = name.to_owned();
        self
    }

    /// Whether a client's own id is kept (on by default); off, every request gets a new one
    /// (for a server facing clients that should not choose what goes in its logs).
    pub fn trust_incoming(mut self, on: bool) -> RequestId {
        self.trust_incoming = on;
        self
    }
}

impl Middleware for RequestId {
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        let sent = cx.request().headers().get(&self.header);
        let id = match sent {
            Some(id) if self.trust_incoming && well_formed(id) => id.to_owned(),
            _ => new_id(),
        };
        let _ = cx.request_mut().headers_mut().set(&self.header, &id);
        let mut response = next.run(cx);
        let _ = response.headers_mut().set(&self.header, &id);
        response
    }
}

/// True for an id a client may choose: short, and nothing that could confuse a log line.
fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(&b))
}

/// 128 bits that differ for every call and cannot be guessed from the last: a count hashed
/// with keys chosen at random once per process.
fn new_id() -> String {
    static KEYS: OnceLock<(RandomState, RandomState)> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let (a, b) = KEYS.get_or_init(|| (RandomState::new(), RandomState::new()));
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{:016x}", a.hash_one(n), b.hash_one(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let (x, y) = (new_id(), new_id());
        assert_eq!(x.len(), 32);
        assert_ne!(x, y);
        assert!(well_formed(&x));
        assert!(well_formed("3f2a-01:b/c=+_."));
        assert!(!well_formed(""));
        assert!(!well_formed("a b"));
        assert!(!well_formed("a\"b"));
        assert!(!well_formed(&"a".repeat(MAX_LEN + 1)));
    }
}
