//! # http-toolkit
//!
//! A multithreaded HTTP/1.1 server and client on plain std threads, in the style of the
//! CHICKEN Scheme `http` egg. This package re-exports the three crates it is made of:
//!
//! - [`utils`] ([`http_utils`]): the request record, URL decoding, header and body reading;
//! - [`client`] ([`http_client`]): requests over persistent, pooled connections (feature
//!   `client`);
//! - [`server`] ([`http_server`]): resources mapped to handlers on a bounded thread pool
//!   (feature `server`).
//!
//! ## Features
//! The default is what a server needs and no more: the README's hello world builds 19
//! crates, no client, no TLS, no serde. Each feature below adds one thing.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `server` | on | `server`, the http-server crate: routing, static files, middleware, server-sent events, WebSockets, plain HTTP |
//! | `client` | off | `client`, the http-client crate with its default features (HTTPS, cookies, regex proxy patterns, gzip/brotli/zstd decoding, JSON, `http` interop) |
//! | `tls` | off | the server's rustls transport (`ServerBuilder::tls` and the like); the client's HTTPS (already on with `client`) |
//! | `gzip` | off | the server's gzip of compressible responses; the client's decoding (already on with `client`) |
//! | `json` | off | the server's JSON content parser, `Response::json`, typed bodies and queries (`cx.json::<T>()`, `cx.form::<T>()`, `cx.query::<T>()`); the client's `.json(&T)` and `Response::json::<T>()` |
//! | `http` | off | conversions with the `http` crate's types in each crate |
//! | `native-roots` | off | the client trusts the system's certificate store (`ClientBuilder::native_roots`); implies `client` |
//! | `full` | off | `server`, `client`, `tls`, `gzip`, `json` and `http` |
//!
//! `utils` is always there. A server with HTTPS and typed JSON, a program that also sends
//! requests, and one that only sends them:
//!
//! ```toml
//! [dependencies]
//! http-toolkit = { version = "0.1", features = ["tls", "json"] }
//! http-toolkit = { version = "0.1", features = ["client"] }
//! http-toolkit = { version = "0.1", default-features = false, features = ["client"] }
//! ```
//!
//! A client without TLS, cookies, regex or decoders (plain HTTP to a local service) is
//! `http-toolkit-client` itself with `default-features = false` (its features are listed in
//! its crate docs).

// A build without a feature has no item for the links to it above.
#![cfg_attr(not(all(feature = "client", feature = "server")), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "client")]
pub use http_client as client;
#[cfg(feature = "server")]
pub use http_server as server;
pub use http_utils as utils;

/// The README's examples, compiled (and the `no_run` ones type-checked) as doctests.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "full"))]
pub struct ReadmeDoctests;
