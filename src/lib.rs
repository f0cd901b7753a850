//! # http-toolkit
//!
//! A multithreaded HTTP/1.1 server and client on plain std threads, in the style of the
//! CHICKEN Scheme `http` egg. This package re-exports the three crates it is made of:
//!
//! - [`utils`] ([`http_utils`]): the request record, URL decoding, header and body reading;
//! - [`client`] ([`http_client`]): requests over persistent, pooled connections;
//! - [`server`] ([`http_server`]): resources mapped to handlers on a bounded thread pool.

pub use http_client as client;
pub use http_server as server;
pub use http_utils as utils;

/// The README's examples, compiled (and the `no_run` ones type-checked) as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
