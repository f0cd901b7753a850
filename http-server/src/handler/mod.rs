//! What handler code sees and what it is looked up in: the [`Context`](crate::Context), the
//! resource and route tables (the registry), dispatch from a method to a handler, content
//! parsers, responses, responders (answers from other threads) and the streams they feed,
//! status and log hooks, gzip.
//!
//! ```text
//!   Registry (snapshot per request) ── method handler ── resource / route (patterns) ── fallback
//!        │                                   │
//!        └── status handlers, error pages    └── Context: request, args, body (a Wire),
//!                                                responder, low-level writer
//! ```
//! It stands on `io` (the wire a body is read from) and knows nothing of connections'
//! phases or threads.

pub(crate) mod access_log;
#[cfg(feature = "gzip")]
pub(crate) mod compress;
pub(crate) mod content;
pub(crate) mod context;
pub(crate) mod dispatch;
pub(crate) mod event;
pub(crate) mod extract;
pub(crate) mod forwarded;
pub(crate) mod hooks;
pub(crate) mod hub;
#[cfg(feature = "http")]
pub(crate) mod interop;
pub(crate) mod into_response;
pub(crate) mod method_table;
pub(crate) mod middleware;
pub(crate) mod parsers;
pub(crate) mod proxies;
pub(crate) mod quick_hash;
pub(crate) mod raw_write;
pub(crate) mod registry;
pub(crate) mod responder;
pub(crate) mod response;
pub(crate) mod response_body;
pub(crate) mod route;
pub(crate) mod route_table;
pub(crate) mod site;
pub(crate) mod state;
pub(crate) mod stream;
pub(crate) mod table;
#[cfg(feature = "serde")]
pub(crate) mod typed;
pub(crate) mod websocket;
