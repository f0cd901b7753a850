//! The timeouts, each named after the phase it bounds.

use std::time::Duration;

/// Timeouts, each named after the phase it bounds. All are on by default.
///
/// ```
/// use std::time::Duration;
/// let t = http_server::Timeouts { header: Duration::from_secs(5), ..Default::default() };
/// assert_eq!(t.keep_alive, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request head (or from accepting a connection, for its first
    /// request, TLS handshake included) to the complete head. A slow sender (slowloris) is
    /// cut off with 408 when it passes. Default 10 s.
    pub header: Duration,
    /// The longest wait for the next bytes of a request body. Default 30 s.
    pub body: Duration,
    /// The least rate, in bytes per second, at which a request body must arrive: while the
    /// server reads it into its buffer (the connection parked), or while a streaming handler
    /// reads it. The clock starts the first time a body read has to wait for the peer, with
    /// the body timeout ([`body`](Timeouts::body)) as credit; every body byte received since
    /// earns `1 / rate` seconds more, and the credit never exceeds the body timeout, so bytes
    /// sent fast early cannot pay for a trickle later. A body whose credit runs out fails as
    /// a timeout: 408, and the connection closes. This bounds how long a peer trickling a
    /// byte just inside every body timeout can hold a buffer (or a streaming handler's
    /// worker). Bytes that arrived before the first wait do not count, and once the clock
    /// runs, time a handler spends between its reads counts too. `None` turns it off.
    /// Default 1024 B/s.
    pub min_body_rate: Option<u64>,
    /// The longest wait for room to write more of a response. Default 30 s.
    pub write: Duration,
    /// The least rate, in bytes per second, at which the peer must take a response once
    /// writing it has had to wait: from the first wait for room, with the write timeout
    /// ([`write`](Timeouts::write)) as credit, every byte written earns `1 / rate` seconds
    /// more, credit never exceeding the write timeout; when it runs out the connection
    /// closes. This bounds how long a peer reading a large response a few bytes at a time
    /// can hold its connection (or, for a body a handler writes itself, its worker). Responses that never wait for room pay nothing for it. `None`
    /// turns it off. Default 1024 B/s.
    pub min_write_rate: Option<u64>,
    /// How long a connection may stay idle between requests. Default 60 s.
    pub keep_alive: Duration,
    /// After an error response on a connection whose request may not be over, how long its
    /// input is read and dropped before closing, so the peer sees the response rather than a
    /// reset. Default 2 s.
    pub linger: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            min_body_rate: Some(1024),
            write: Duration::from_secs(30),
            min_write_rate: Some(1024),
            keep_alive: Duration::from_secs(60),
            linger: Duration::from_secs(2),
        }
    }
}
