//! A load generator for pipelined HTTP/1.1 that spends little per answer, so that the server,
//! not the generator, sets the rate (`bench/servers.py --loader loadgen`).
//!
//! One thread and one [`mio::Poll`] drive every connection. Each writes a batch of `depth`
//! identical GETs, reads until `depth` responses are complete, and writes the next batch: the
//! closed loop of wrk with `bench/pipeline.lua`. Responses are counted, not parsed: a
//! [`scanner::Scanner`] per connection finds the end of each head, its status code and its
//! `Content-Length`, and skips the body.
//!
//! ```no_run
//! use std::time::Duration;
//! let report = bench_loadgen::run(&bench_loadgen::Config {
//!     addr: "127.0.0.1:8080".parse().unwrap(),
//!     host: "127.0.0.1:8080".into(),
//!     path: "/".into(),
//!     conns: 256,
//!     depth: 16,
//!     duration: Duration::from_secs(10),
//!     warmup: Duration::ZERO,
//! })?;
//! println!("{} responses", report.responses());
//! # Ok::<(), bench_loadgen::RunError>(())
//! ```
//!
//! Untrusted input: a response head is at most [`scanner::HEAD_LIMIT`] bytes; a response
//! without `Content-Length`, an interim or malformed one, or bytes nobody asked for end the run
//! with an error; a connection the server closes is opened again, at most
//! [`run::CLOSES_IN_A_ROW`] times in a row without a response in between.

pub mod cpu;
pub mod run;
pub mod scanner;

pub use run::{run, Config, Report, RunError};
