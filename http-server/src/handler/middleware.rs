//! Middleware: plain functions around every response, the handlers' and the server's own.
//!
//! ```text
//!   request ─► layer 1 ─► layer 2 (scoped: skipped off its prefix) ─► … ─► the answer
//!                 ▲           │ may answer early (401, a preflight)        │ a handler's, or
//!                 │           ▼                                            │ the server's own
//!   response ◄── layer 1 ◄── layer 2 ◄──────────────────────────────────── ┘ (404, 405, 413,
//!                                                                              503, a stream's head)
//! ```
//!
//! A layer is a [`Middleware`] (any `Fn(&mut Context, Next) -> Response`) and an optional
//! scope: a path prefix. Layers run in the order they were registered, the first outermost.
//! With no layer registered a request costs one check of an empty list.

mod auth;
pub(crate) mod basic;
pub(crate) mod bearer;
pub(crate) mod cors;
pub(crate) mod errors;
pub(crate) mod request_id;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use http_utils::percent_decode_bytes;

use crate::handler::context::{Context, Layer, Middleware, Next, PanicAnswer};
use crate::handler::response::Response;

impl<F> Middleware for F
where
    F: Fn(&mut Context<'_>, Next<'_>) -> Response + Send + Sync + 'static,
{
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        self(cx, next)
    }
}

impl Next<'_> {
    /// Runs the rest of the chain for `cx` and returns its response. A layer after this one
    /// that panics answers 500 (reported as a handler's panic is), so this layer still sees
    /// a response.
    pub fn run(self, cx: &mut Context<'_>) -> Response {
        let Next { mut layers, inner, panicked } = self;
        while let Some((layer, rest)) = layers.split_first() {
            layers = rest;
            if layer.applies(cx) {
                let next = Next { layers: rest, inner, panicked };
                return match catch_unwind(AssertUnwindSafe(|| layer.run.call(&mut *cx, next))) {
                    Ok(response) => response,
                    Err(payload) => panicked(cx, payload),
                };
            }
        }
        inner(cx)
    }
}

/// Runs `layers` around `inner` for `cx` (the engine's entry to the chain).
pub(crate) fn run_chain(
    cx: &mut Context<'_>,
    layers: &[Layer],
    inner: &mut dyn FnMut(&mut Context<'_>) -> Response,
    panicked: PanicAnswer,
) -> Response {
    Next { layers, inner, panicked }.run(cx)
}

impl Layer {
    pub(crate) fn new(scope: Option<Arc<[String]>>, run: Arc<dyn Middleware>) -> Layer {
        Layer { scope, run }
    }

    fn applies(&self, cx: &Context<'_>) -> bool {
        match &self.scope {
            None => true,
            Some(prefix) => in_scope(prefix, cx.request().path()),
        }
    }
}

/// The decoded segments of a scope's prefix (`"/api/v1"`, `"api/v1/"`); `None` for the root.
pub(crate) fn scope_segments(prefix: &str) -> Option<Arc<[String]>> {
    let segments: Vec<String> = prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(&percent_decode_bytes(s.as_bytes())).into_owned())
        .collect();
    (!segments.is_empty()).then(|| segments.into())
}

/// True when the request path `raw` (percent-encoded) is at or under the prefix: as a route
/// `{prefix}` or `{prefix}/{rest...}` would match it (segment by segment, each decoded), or
/// as the fully decoded path an exact resource is looked up by would (`/api%2Fx` is under
/// `/api` too). A layer that guards a prefix errs on the side of running.
pub(crate) fn in_scope(prefix: &[String], raw: &str) -> bool {
    if starts_with_segments(prefix, raw, true) {
        return true;
    }
    raw.contains('%') && starts_with_segments(prefix, &http_utils::decode_url(raw).0, false)
}

fn starts_with_segments(prefix: &[String], path: &str, decode_each: bool) -> bool {
    let Some(rest) = path.strip_prefix('/') else { return false };
    let mut segments = rest.split('/');
    prefix.iter().all(|want| match segments.next() {
        Some(seg) if decode_each && seg.contains('%') => {
            percent_decode_bytes(seg.as_bytes()) == want.as_bytes()
        }
        Some(seg) => seg == want,
        None => false,
    })
}

/// True when `a` and `b` are equal, in time that depends on their lengths only, never on
/// where they differ: for comparing a secret a client sent with the one expected (a token,
/// a password). The longer length sets the time, so the expected secret's length is not
/// told by a shorter guess either.
///
/// ```
/// use http_server::constant_time_eq;
/// assert!(constant_time_eq(b"s3cret", b"s3cret"));
/// assert!(!constant_time_eq(b"s3cret", b"s3crex"));
/// assert!(!constant_time_eq(b"s3cret", b"s3cre"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        diff |= std::hint::black_box(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(p: &str) -> Arc<[String]> {
        scope_segments(p).unwrap()
    }

    #[test]
    fn scopes_match_whole_segments() {
        let api = scope("/api");
        for yes in ["/api", "/api/", "/api/notes", "/%61pi/notes", "/api%2Fnotes", "/api/a%2Fb"] {
            assert!(in_scope(&api, yes), "{yes}");
        }
        for no in ["/", "/apix", "/ap", "/v1/api", "*", "", "//api"] {
            assert!(!in_scope(&api, no), "{no}");
        }
        let deep = scope("api/v1/");
        assert!(in_scope(&deep, "/api/v1/x"));
        assert!(!in_scope(&deep, "/api/v2/x"));
        assert!(in_scope(&scope("/caf%C3%A9"), "/café/x"));
        assert!(scope_segments("/").is_none());
        assert!(scope_segments("").is_none());
    }
}
