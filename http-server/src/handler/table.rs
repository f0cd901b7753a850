//! What the dispatch table answers about itself: error pages, the parser for a media type,
//! and the two questions the engine asks before a body is read (does a streaming route take
//! it; would the server refuse it whatever the body).

use std::sync::Arc;

use http_utils::Method;

use crate::handler::content::ContentParser;
use crate::handler::context::Table;
use crate::handler::middleware::in_scope;
use crate::handler::route_table::Lookup;

impl Table {
    /// True when user code may shape the server's own answers (status handlers,
    /// middleware): they then go through a handler's context instead of out at once.
    pub(crate) fn shapes_answers(&self) -> bool {
        !self.status_handlers.is_empty() || !self.middleware.is_empty()
    }

    /// True when a request with `method` and `path` (as sent) is answered by the server's
    /// own 404 or 405 whatever its body: the predefined resource handler serves the method,
    /// no resource or route takes the path with that method, the fallback is the predefined
    /// one, and no URL transformation is set. Such a request needs no body read first.
    pub(crate) fn refuses_outright(&self, method: &Method, path: &str) -> bool {
        let Some(h) = self.methods.get(method) else { return false };
        if self.url_transform.is_some() || path.contains('%') || !Arc::ptr_eq(h, &self.predefined.0) {
            return false;
        }
        if self.resources.contains_key(path) {
            return false;
        }
        match self.routes.lookup(method, path) {
            Lookup::Found(_) => false,
            Lookup::MethodNotAllowed(_) => true,
            Lookup::NotFound => Arc::ptr_eq(&self.fallback, &self.predefined.1),
        }
    }

    /// The body limit of the innermost scope that `path` is under (the last one given, among
    /// scopes of one length); `None` when no scope sets one.
    pub(crate) fn max_body_for(&self, path: &str) -> Option<u64> {
        if self.body_limits.is_empty() {
            return None;
        }
        let mut found: Option<(usize, u64)> = None;
        for (prefix, limit) in &self.body_limits {
            let depth = prefix.as_ref().map_or(0, |p| p.len());
            let applies = prefix.as_ref().is_none_or(|p| in_scope(p, path));
            if applies && found.is_none_or(|(d, _)| depth >= d) {
                found = Some((depth, *limit));
            }
        }
        found.map(|(_, limit)| limit)
    }

    /// True when the request goes to a streaming route (its handler reads the body).
    pub(crate) fn streams_body(&self, method: &Method, path: &str) -> bool {
        !self.streaming.is_empty() && matches!(self.streaming.lookup(method, path), Lookup::Found(_))
    }
}

impl Table {
    /// The error page for `code`, by the error-response handler; the default page if that
    /// handler panics.
    pub(crate) fn error_page(&self, code: u16, message: &str) -> String {
        let f = &self.error_page;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(code, message)))
            .unwrap_or_else(|_| crate::handler::response::default_error_page(code, message))
    }

    /// The parser for a `Content-Type` value (its media type, lower-cased, parameters
    /// dropped), or the default.
    pub(crate) fn parser_for(&self, content_type: Option<&str>) -> ContentParser {
        if let Some(ct) = content_type {
            let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if let Some(p) = self.parsers.get(&media) {
                return p.clone();
            }
            // `application/*+json` is JSON to the JSON parser, unless it has one of its own.
            if media.starts_with("application/")
                && media.ends_with("+json")
                && media.len() > "application/+json".len()
            {
                if let Some(p) = self.parsers.get("application/json") {
                    return p.clone();
                }
            }
        }
        self.default_parser.clone()
    }
}
