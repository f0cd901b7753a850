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
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `client` | on | `client`, the http-client crate |
//! | `server` | on | `server`, the http-server crate |
//!
//! `utils` is always there. A program that only sends requests can leave the server out:
//!
//! ```toml
//! [dependencies]
//! http-toolkit = { version = "0.1", default-features = false, features = ["client"] }
//! ```

// A build without a feature has no item for the links to it above.
#![cfg_attr(not(all(feature = "client", feature = "server")), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "client")]
pub use http_client as client;
#[cfg(feature = "server")]
pub use http_server as server;
pub use http_utils as utils;

/// The README's examples, compiled (and the `no_run` ones type-checked) as doctests.
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "client", feature = "server"))]
pub struct ReadmeDoctests;
