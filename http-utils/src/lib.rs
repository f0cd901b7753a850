//! # http-utils
//!
//! The shared HTTP/1.1 core of http-toolkit: the request record, header fields, URL and form
//! decoding, head parsing, message framing, and body reading and writing. Both `http-client`
//! and `http-server` stand on it.
//!
//! ```
//! use http_utils::{decode_url, parse_request_head, Limits};
//! let raw = b"GET /search?q=caf%C3%A9&page=2 HTTP/1.1\r\nHost: localhost\r\n\r\n";
//! let (req, _used) = parse_request_head(raw, &Limits::default()).unwrap().complete().unwrap();
//! let (path, args) = decode_url(req.url());
//! assert_eq!(path, "/search");
//! assert_eq!(args, [("q".to_string(), "café".to_string()), ("page".to_string(), "2".to_string())]);
//! ```
//!
//! ## What is here
//! - [`Request`] (the egg's request record), [`Body`], [`Method`], [`Version`],
//!   [`ResponseHead`], [`Headers`];
//! - URLs and forms: [`decode_url`], [`canonicalize`], [`encode_form`], [`decode_form`],
//!   [`normalize_path`];
//! - parsers that say complete / partial / error: [`parse_request_head`],
//!   [`parse_response_head`], [`parse_headers`];
//! - the one framing decision: [`Framing`], [`request_framing`], [`response_framing`],
//!   [`response_has_body`];
//! - bodies: [`ChunkedDecoder`], [`encode_chunk`], [`encode_last_chunk`], [`chunk_size_line`] (I/O-free), and in
//!   [`io`] the blocking readers and writers ([`io::read_request_head`],
//!   [`io::read_response_head`], [`io::read_request_attributes`], [`io::BodyReader`],
//!   [`io::read_body`], [`io::LimitReader`], [`io::ChunkedWriter`], [`io::drain`]);
//! - writers for heads: [`write_request_head`], [`write_response_head`], [`http_date`],
//!   [`DateCache`];
//! - [`multipart`]: a streaming `multipart/form-data` reader ([`multipart::MultipartReader`]);
//! - [`websocket`]: an I/O-free WebSocket codec (RFC 6455): frames, messages assembled from
//!   fragments with UTF-8 checked as it arrives, close codes, and the handshake's keys and checks;
//! - compression negotiation: [`accepts_gzip`], [`accepts_encoding`], [`is_compressible`];
//! - `interop` (feature `http`, on by default): conversions both ways between these types and
//!   the `http` crate's (`Method`, `Version`, `StatusCode`, `HeaderMap`, `Request`, response
//!   heads).
//!
//! Out of scope: sockets, threads, clocks and policy. Those live in the client and the server.
//!
//! ## Untrusted input
//! Every byte read from the network is treated as hostile. Each limit below is a field of
//! [`Limits`] with a safe default, and each breach is one [`ErrorKind`] with one status code.
//!
//! | limit | default | breach |
//! | --- | --- | --- |
//! | request/status line length (`max_request_line`, the egg's `http:read-line-limit`) | 8 KiB | `RequestLineTooLong`, 414 |
//! | header line length (`max_header_line`) | 8 KiB | `HeaderLineTooLong`, 431 |
//! | header count (`max_headers`) | 100 | `TooManyHeaders`, 431 |
//! | whole head (`max_head`) | 64 KiB | `HeadTooLarge`, 431 |
//! | chunk-size line (`max_chunk_line`) | 4 KiB | `ChunkLineTooLong`, 400 |
//! | body read whole (`max_body`) | 10 MiB | `BodyTooLarge`, 413 |
//!
//! Limits apply while a head is still incomplete. Ambiguous framing (Content-Length with
//! Transfer-Encoding, differing Content-Lengths, signs or spaces in numbers, unknown codings) is
//! an error, never a guess. Timeouts belong to the caller's sockets; an I/O timeout surfaces as
//! [`Error::Io`] and [`Error::is_timeout`] tells it apart. The WebSocket codec's limits (frame
//! and message sizes, control frames, masking) have their own table in [`websocket`].

mod accept;
mod chunked;
mod error;
mod framing;
mod headers;
#[cfg(feature = "http")]
pub mod interop;
pub mod io;
mod limits;
mod method;
pub mod multipart;
mod params;
mod parse;
mod request;
mod response;
mod section;
mod token;
mod url;
mod version;
pub mod websocket;
mod write;

pub use accept::{accepts_encoding, accepts_gzip, is_compressible, is_json_media_type};
pub use chunked::{chunk_size_line, encode_chunk, encode_last_chunk, ChunkedDecoder};
pub use error::{Error, ErrorKind, Result};
pub use framing::{request_framing, response_framing, response_has_body, Framing};
pub use headers::Headers;
#[cfg(feature = "http")]
pub use interop::ConvertError;
pub use limits::Limits;
pub use method::{ExtensionMethod, InvalidMethod, Method};
pub use parse::{
    check_host, parse_headers, parse_request_head, parse_request_head_into, parse_response_head, Parsed,
};
pub use request::{keep_alive, Body, Request};
pub use response::{reason_phrase, ResponseHead};
pub use url::{
    canonicalize, decode_form, decode_url, encode_component, encode_form, encode_form_with, normalize_path,
    percent_decode_bytes, redact_url,
};
pub use version::Version;
pub use write::{http_date, write_request_head, write_response_head, DateCache};
