//! # http-client
//!
//! An HTTP/1.1 client on plain std threads: persistent connections in a pool that threads share,
//! HTTPS with rustls, forward proxies (HTTP with `CONNECT` tunnels for HTTPS, HTTPS proxies
//! spoken to over TLS, SOCKS5 and SOCKS4a; from the environment too, failing closed), a
//! cookie jar, redirects, gzip, interceptors, timeouts on every wait, and many requests in
//! flight on one thread ([`Multi`]). It is the client half of the CHICKEN `http` egg, in Rust.
//!
//! ```no_run
//! // One-liners on a default client:
//! let page = http_client::get_text("http://localhost:4242/").unwrap();
//! let answer = http_client::post_form("http://localhost:4242/form", &[("name", "value")]).unwrap();
//!
//! // A request built a call at a time; 4xx and 5xx are responses like any other:
//! let resp = http_client::get("http://localhost:4242/search")
//!     .query(&[("q", "egg")])
//!     .bearer_auth("t0ken")
//!     .send()
//!     .unwrap();
//! let resp = resp.error_for_status().unwrap(); // unless you want those as errors
//!
//! // A client of your own, shared by threads:
//! use std::io::Read;
//! let client = http_client::Client::builder()
//!     .timeout(std::time::Duration::from_secs(10))
//!     .build()
//!     .unwrap();
//! let mut resp = client.send("http://localhost:4242/big").unwrap();
//! println!("{}", resp.status_line());
//! let mut chunk = [0u8; 8192];
//! while resp.read(&mut chunk).unwrap() > 0 {}
//! assert!(resp.is_complete()); // the connection is back in the pool
//! # let _ = (page, answer);
//! ```
//!
//! ## The egg, mapped
//! | egg | here |
//! | --- | --- |
//! | `(http:send-request REQUEST)` | [`Client::send`], [`send()`]: a [`Request`] or a URL in, a [`Response`] out (status line, headers, body stream) |
//! | `(http:GET REQUEST)` | [`Client::get_text`], [`get_text`] (the body as text, and unlike the egg an error for 4xx/5xx); [`Client::get`], [`get`] start a [`RequestBuilder`] whose `send` gives the whole [`Response`] |
//! | `(http:POST REQUEST ARGUMENTS [DELIM1 DELIM2 ENCODER])` | [`Client::post_form`], [`post_form`]; [`Client::post_form_with`] |
//! | `(http:close-all-connections!)` | [`Client::close_all_connections`], [`close_all_connections`] |
//! | `(http:read-body ARGUMENTS PORT)` | [`Response`] implements `Read`; [`Response::bytes`], [`Response::text`] |
//! | `(http:add-proxy PATTERN PROXY)` | [`Client::add_proxy`] with a [`ProxyPattern`] (host, regex, or [`ProxyPattern::Any`]) |
//! | `(http:remove-all-proxies!)` | [`Client::remove_all_proxies`] |
//! | the request's `sslctx` | `Request::set_tls_config` (a rustls `ClientConfig`; feature `tls`) |
//! | cookies kept from `Set-Cookie` | a real jar (`cookie_store`, feature `cookies`), [`ClientBuilder::cookies`] |
//!
//! Every method is sent the same way: build a [`Request`] with a body of bytes, text or
//! [`Body::stream`] (sent with `Transfer-Encoding: chunked` when its length is unknown) and pass
//! it to [`Client::send`], or start a [`RequestBuilder`] with [`Client::request`],
//! [`Client::get`], [`Client::post`] and the like (headers, query pairs, Basic or Bearer
//! credentials, a deadline, a form or JSON body, then `send`). HTTP/1.0 has no chunked encoding: there a
//! stream of unknown length is read into memory first (up to `Limits::max_body`, else
//! [`Error::UnsizedRequestBody`]) and sent with its length.
//!
//! ## Features
//! | feature | default | what it brings | without it |
//! | --- | --- | --- | --- |
//! | `tls` | on | `https://` URLs, `wss://` WebSockets and `https://` proxies (rustls with ring, webpki roots), the TLS settings of [`ClientBuilder`], a request's own `tls_config` | such a URL or proxy is [`Error::FeatureOff`] naming `tls`, before anything is sent; no ring, no C compiler needed |
//! | `cookies` | on | the cookie jar ([`ClientBuilder::cookies`]; `cookie_store`) | no cookies are kept or sent by the client (a request's own `Cookie` still goes) |
//! | `regex` | on | [`ProxyPattern::Regex`], `ProxyPattern::regex`, [`Regex`] (regex) | proxy patterns by host or for every host |
//! | `gzip` | on | gzip and deflate bodies decoded, permessage-deflate (flate2) | no `Accept-Encoding` is sent, bodies come as sent |
//! | `brotli`, `zstd` | on | brotli and zstd bodies decoded (pure Rust) | not asked for |
//! | `json` | on | `RequestBuilder::json`, `Response::json` (serde, serde_json) | |
//! | `http` | on | conversions with the `http` crate's types | |
//! | `native-roots` | off | `ClientBuilder::native_roots` (the system's store; implies `tls`) | |
//!
//! A plain-HTTP client for a local service, with none of them:
//! `http-toolkit-client = { version = "0.1", default-features = false }`.
//!
//! ## Beyond the egg
//! - **gzip, deflate, brotli, zstd** (features `gzip`, `brotli`, `zstd`, on by default):
//!   requests ask for what is compiled in (`Accept-Encoding: gzip, deflate, br, zstd`) and
//!   such bodies are decoded while they are read (`deflate` as zlib, or raw deflate when it
//!   has no zlib header); `Content-Encoding` and `Content-Length`
//!   are then taken out of the response's headers ([`Response::encoding_headers`] keeps them).
//!   A request with its own `Accept-Encoding` gets the body as sent; [`ClientBuilder::gzip`]
//!   switches it off.
//! - **Interceptors** ([`intercept`]): functions that wrap every request (the first added is
//!   the outermost; each sees a request once, redirects inside), with ready-made ones for
//!   logging ([`intercept::logging`]) and retries with exponential backoff
//!   ([`intercept::Retry`]); [`Response::from_parts`] lets one answer without the network.
//! - **Default headers** ([`ClientBuilder::default_header`]) for every request.
//! - **A request builder** ([`RequestBuilder`]: headers, query pairs, Basic and Bearer
//!   credentials, a deadline, bytes, form or JSON bodies), [`Response::error_for_status`], and
//!   errors that say what they are ([`Error::is_timeout`], [`Error::is_connect`],
//!   [`Error::status`], [`Error::url`]).
//! - **Typed JSON** (feature `json`, on by default): `RequestBuilder::json(&T)` and
//!   `Response::json::<T>()`, `application/json` and `application/*+json` alike.
//! - **`http` crate interop** (feature `http`, on by default): a [`Response`] or its head as an
//!   `http::Response`, `Response::from_http`; requests through `http_utils::interop`.
//! - **The system's certificate store** (feature `native-roots`, off by default):
//!   `ClientBuilder::native_roots(true)` trusts it beside the webpki roots.
//! - **WebSockets** ([`websocket`]): [`Client::websocket`] opens a `ws://` or `wss://`
//!   connection (through proxies, with `CONNECT` for HTTP ones; permessage-deflate when the
//!   `gzip` feature is on), a blocking [`WebSocket`] with `send`, `recv`, `recv_timeout` and a
//!   closing handshake, pings answered, split into a reader and a `Send + Sync` writer.
//! - **A pool shared by threads**, stale connections detected and idempotent requests retried
//!   once on a fresh connection; HTTPS through proxies; timeouts per phase and overall.
//! - **Many requests in flight on one thread** ([`Client::multi`], [`Multi`]): submit
//!   requests, then wait for whichever completes first, over one `mio` poll on the caller's
//!   thread, with the same pool, jar, proxies (HTTP ones), redirects and limits. What it does
//!   differently (name lookups at `submit`, no SOCKS or `https://` proxies) is on [`Multi`].
//!
//! ```no_run
//! let client = http_client::Client::new();
//! let mut multi = client.multi()?;
//! for path in ["/a", "/b", "/c"] {
//!     multi.submit(format!("http://localhost:4242{path}"));
//! }
//! while let Some((token, result)) = multi.wait() {
//!     println!("{token}: {:?}", result.map(|r| r.status()));
//! }
//! # Ok::<(), http_client::Error>(())
//! ```
//!
//! ## Redirects
//! 301, 302, 303, 307 and 308 are followed up to [`ClientBuilder::max_redirects`] (10): 303
//! (and 301 or 302 to a POST) become a GET without a body; the others keep the method and
//! the body (a streamed body cannot be sent again: the redirect is then the answer).
//! Credentials stay with their origin: `Authorization`, `Cookie` and `Proxy-Authorization`
//! of the request and the user name and password of its URL go only to the scheme, host and
//! port the request started at, and once a hop leaves them they are not sent again, even if
//! a later hop comes back (the cookie jar still gives each URL its own cookies). A
//! `Location` with a user name or password in it is refused ([`Error::BadRedirect`]), and so
//! is a hop from `https` to `http` ([`Error::InsecureRedirect`]) unless
//! [`ClientBuilder::allow_downgrade_redirects`]. [`ClientBuilder::redirect_policy`] decides
//! each hop beyond that.
//!
//! ## Connections
//! A host with several addresses is connected to as Happy Eyeballs v2 does (RFC 8305): the
//! addresses alternate between IPv6 and IPv4 (starting with the family of the first), each
//! attempt starts 250 ms after the one before or at once when that one fails, the first to
//! connect wins and the others are closed, all within the one connect timeout. So an
//! address that drops connection attempts costs 250 ms, not a timeout.
//! [`ClientBuilder::resolve`] gives a name its addresses (curl's `--resolve`), and
//! [`ClientBuilder::local_address`] the address connections come from.
//!
//! A response's body is a stream on its connection. When the body has been read to its end and
//! the response allows keep-alive, the connection goes back to the pool at once
//! ([`Response::is_complete`] turns true). A response dropped early closes its connection,
//! unless the rest of its body (up to 64 KiB) had already arrived: that is read without
//! waiting and the connection is kept. A request that fails on a
//! reused connection before any byte of a response arrives is sent again once on a fresh
//! connection, when its method is idempotent (or it carries an `Idempotency-Key` or
//! `X-Idempotency-Key` field, as Go's transport reads them: a POST marked so by its caller)
//! and its body is not a stream.
//!
//! A server or proxy may answer before it has read a whole request body (a 413, a 405, a
//! proxy's 403 or 407) and then stop reading or close. While a body larger than 16 KiB is
//! sent, the socket is looked at between 64 KiB pieces and whenever a wait for room to write
//! passes 20 ms; a final answer found there stops the body and is returned as the
//! [`Response`] (its connection is then closed after it), an interim one is skipped. When a
//! write fails because the server reset or closed the connection, what it had sent is read
//! all the same. The same holds over TLS and through proxies (RFC 9112 §9.5).
//!
//! Each request costs two system calls on a pooled connection: one write for the head (and a
//! small body) and one read for the answer. While the answer is on its way, the waiting thread
//! polls the socket for a few microseconds before it sleeps ([`ClientBuilder::spin_wait`]),
//! which saves a sleep and a wake-up when the server is close.
//!
//! ## Untrusted input
//! A response head may fold a field over several lines (obsolete line folding): each fold is
//! read as spaces (RFC 9112 §5.2). A response is never accepted when its framing is in doubt:
//! a malformed status line,
//! conflicting or malformed `Content-Length`, `Content-Length` with `Transfer-Encoding`, broken
//! chunking, and a body cut short are errors ([`Error::Protocol`]). An encoded body that is corrupt,
//! cut short, or followed by other bytes is an error too ([`Error::Decode`]), and its decoded
//! size counts against the body cap, so a small body that inflates to gigabytes is stopped
//! there. Every wait has a timeout, name lookups included.
//!
//! | limit | default | breach |
//! | --- | --- | --- |
//! | status line (`Limits::max_request_line`) | 8 KiB | [`Error::ResponseHeadTooLarge`] (`RequestLineTooLong`) |
//! | header line, count, whole head (`Limits`; defaults [`Limits::CLIENT`]) | 256 KiB, 1,000, 512 KiB | [`Error::ResponseHeadTooLarge`] |
//! | chunk-size line (`Limits::max_chunk_line`) | 4 KiB | `Error::Protocol` (`ChunkLineTooLong`) |
//! | body read whole ([`Response::bytes`], `text`, `json`; `Limits::max_body`; decoded bytes for every coding) | 10 MiB | [`Error::BodyTooLarge`] |
//! | gzip header fields (name, comment) | 64 KiB (flate2's bound) | [`Error::Decode`] |
//! | zstd window; skippable zstd frames (in all); brotli window | 8 MiB; 64 KiB; 16 MiB (the format's most) | [`Error::Decode`]; —; — |
//! | HTTP/1.0 request stream of unknown length, buffered (`Limits::max_body`) | 10 MiB | [`Error::UnsizedRequestBody`] |
//! | connect (name lookup included), read, write ([`Timeouts`]) | 30 s each | [`Error::Timeout`] |
//! | name lookups running at once, process-wide | 256 | [`Error::Resolve`] |
//! | overall deadline ([`Timeouts::overall`]; [`Multi::submit_within`] per request) | none | [`Error::Timeout`] (`Deadline`) |
//! | interim (1xx) answers before a final one ([`Multi`]) | 100 | [`Error::Io`] |
//! | redirects ([`ClientBuilder::max_redirects`]) | 10 | [`Error::TooManyRedirects`] |
//! | idle connections (total, per host, age) | 100, 10, 30 s (less when the server's `Keep-Alive: timeout` says so) | closed |

// A build without `regex` has no item for the links to it above.
#![cfg_attr(not(feature = "regex"), allow(rustdoc::broken_intra_doc_links))]

mod builder;
mod carrier;
mod client;
mod conn;
#[cfg(feature = "gzip")]
mod decode;
mod dial;
mod error;
mod exchange;
mod eyeballs;
pub mod intercept;
#[cfg(feature = "http")]
mod interop;
mod jar;
#[cfg(feature = "json")]
mod json;
mod key;
mod multi;
mod pool;
mod proxy;
mod redirect;
mod request;
mod request_builder;
mod response;
mod send;
mod socks;
mod timeouts;
#[cfg(feature = "tls")]
mod tls;
mod upgrade;
mod urls;
pub mod websocket;
mod wire;
#[cfg(feature = "zstd")]
mod zstd;

use std::sync::OnceLock;

pub use builder::ClientBuilder;
pub use client::Client;
pub use error::{Error, Result, TimeoutKind};
#[cfg(feature = "json")]
pub use http_utils::is_json_media_type;
pub use http_utils::{Body, Headers, Limits, Method, Request, ResponseHead, Version};
pub use multi::{Completions, Multi, Token};
pub use proxy::{Proxy, ProxyEnv, ProxyPattern};
pub use redirect::{Redirect, RedirectAction, RedirectPolicy};
/// The regex type of [`ProxyPattern::Regex`] (feature `regex`).
#[cfg(feature = "regex")]
pub use regex::Regex;
pub use request::IntoRequest;
pub use request_builder::RequestBuilder;
pub use response::{Response, ResponseBody};
pub use timeouts::Timeouts;
pub use upgrade::Upgraded;
pub use websocket::{WebSocket, WebSocketBuilder};

/// The client behind the free functions, built on first use with the defaults except one:
/// it has no cookie jar. Every caller in a process shares it (its pool, and the proxies added
/// with [`add_proxy`]), so a jar would hand one library's session cookies to another's
/// requests. A program that wants cookies kept builds a [`Client`] of its own (the jar is on
/// by default there).
pub fn default_client() -> &'static Client {
    static DEFAULT: OnceLock<Client> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        Client::builder().cookies(false).build().expect("the default TLS configuration always builds")
    })
}

/// [`Client::send`] on the default client.
///
/// # Errors
/// As [`Client::send`].
pub fn send(req: impl IntoRequest) -> Result<Response> {
    default_client().send(req)
}

/// [`Client::get`] on the default client: a GET request to build on and
/// [`send`](RequestBuilder::send).
///
/// ```no_run
/// let resp = http_client::get("http://localhost:4242/").query(&[("q", "egg")]).send()?;
/// println!("{}", resp.status_line());
/// # Ok::<(), http_client::Error>(())
/// ```
pub fn get(url: impl AsRef<str>) -> RequestBuilder {
    default_client().get(url)
}

/// [`Client::get_text`] on the default client (the egg's `http:GET`: the body as text; a
/// status of 400 or more is an [`Error::Status`]).
///
/// # Errors
/// As [`Client::get_text`].
pub fn get_text(req: impl IntoRequest) -> Result<String> {
    default_client().get_text(req)
}

/// [`Client::post_form`] on the default client.
///
/// # Errors
/// As [`Client::post_form`].
pub fn post_form<K: AsRef<str>, V: AsRef<str>>(req: impl IntoRequest, pairs: &[(K, V)]) -> Result<String> {
    default_client().post_form(req, pairs)
}

/// [`Client::close_all_connections`] on the default client (the egg's
/// `http:close-all-connections!`).
pub fn close_all_connections() {
    default_client().close_all_connections();
}

/// [`Client::add_proxy`] on the default client (the egg's `http:add-proxy`).
pub fn add_proxy(pattern: impl Into<ProxyPattern>, proxy: Proxy) {
    default_client().add_proxy(pattern, proxy);
}

/// [`Client::remove_all_proxies`] on the default client (the egg's `http:remove-all-proxies!`).
pub fn remove_all_proxies() {
    default_client().remove_all_proxies();
}
