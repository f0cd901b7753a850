//! # http-server
//!
//! The multithreaded HTTP/1.1 server of http-toolkit, modelled on the CHICKEN `http` egg's
//! `http-server`: resources mapped to handlers, content parsers, hooks, on plain std threads.
//!
//! ```
//! use http_server::{Response, Server};
//! # fn main() -> std::io::Result<()> {
//! let server = Server::builder().port(0).bind("127.0.0.1").build()?;
//! server.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
//! let handle = server.spawn()?; // or server.run() to block
//! # use std::io::{Read, Write};
//! # let mut s = std::net::TcpStream::connect(handle.local_addr().socket_addr().unwrap())?;
//! # s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! # let mut out = String::new();
//! # s.read_to_string(&mut out)?;
//! # assert!(out.ends_with("Hello, world!"));
//! handle.shutdown();
//! # Ok(()) }
//! ```
//!
//! ## What is here
//! - [`Server::builder`] (the egg's `http:make-server`): port, bind address, server name,
//!   location, protocol, backlog, init callback, limits, timeouts, threads; [`Server::run`]
//!   blocks, [`Server::spawn`] returns a [`ServerHandle`] with a graceful
//!   [`shutdown`](ServerHandle::shutdown).
//! - Resources ([`Server::add_resource`], [`remove_resource`](Server::remove_resource),
//!   [`find_resource`](Server::find_resource)), changeable while the server runs; handlers are
//!   plain closures `Fn(&Request, &Args) -> Response`, or take the whole [`Context`].
//! - Method handlers ([`Server::set_method_handler`]), content parsers
//!   ([`Server::set_content_parser`]), the fallback and error-response handlers, the URL
//!   transformation, and the startup, error and log hooks.
//! - [`Response`] with bodies from bytes, a reader or a writer; `Content-Length` when the
//!   length is known, chunked otherwise; `Date` and `Server`.
//! - Transports ([`Transport`]): TCP, Unix domain sockets, and TLS with rustls
//!   (feature `tls`, on by default).
//!
//! ## In production
//! - Signals ([`Server::run_until_signal`], [`ServerBuilder::shutdown_on_signals`], Unix):
//!   SIGTERM and SIGINT start the graceful shutdown and the process exits 0; a second
//!   signal cuts the grace period short.
//! - Several listeners ([`ServerBuilder::also_listen`]), sockets bound elsewhere
//!   ([`ServerBuilder::tcp_listener`], [`ServerBuilder::listener`]), systemd socket
//!   activation ([`ServerBuilder::systemd_activation`]) and readiness (`READY=1`,
//!   `STOPPING=1` to `NOTIFY_SOCKET`), `SO_REUSEPORT` ([`ServerBuilder::reuse_port`]).
//! - Behind a proxy: [`TrustedProxies`] for `Forwarded` and `X-Forwarded-*`
//!   ([`Context::client_ip`], [`Context::scheme`], [`Context::host`], [`Context::origin`]);
//!   the PROXY protocol v1 and v2 ([`ServerBuilder::proxy_protocol`],
//!   [`ProxyProtocolTransport`]).
//! - The deployment guide: `docs/deployment.md` in the repository.
//!
//! ## Beyond the egg
//! - Routes with patterns in the resource table ([`Server::route`], [`Pattern`]):
//!   `/hello/{name}`, `/files/{path...}`; the exact resource at a path is found first with one
//!   hash lookup, then the most specific pattern (Go 1.22 rules); captures reach the handler
//!   decoded, owned or parsed ([`Context::param`], [`Context::param_as`]); one handler for
//!   several methods ([`Methods`]); a path that patterns match with other methods only gets
//!   405 with `Allow`. Routes need no method handler for any method (`route(Method::Put,
//!   ...)` is enough); exact resources answer GET, HEAD and POST unless another method is
//!   routed to them with [`resource_handler`].
//! - [`Response::next`] passes a request to the next matching route; [`Response::restart`]
//!   serves it again at another URL (an internal redirect, at most 8 per request).
//! - Status handlers ([`Server::set_status_handler`]) shape every response of a status,
//!   including the server's own 404, 405, 413, 500 and 503.
//! - Middleware ([`Server::wrap`], [`Server::wrap_with`], [`Middleware`], [`Next`]) around
//!   every response, the server's own included, in the order registered, for the whole
//!   server or a path prefix ([`Server::scope`]); built-ins [`Cors`], [`BearerAuth`],
//!   [`BasicAuth`], [`RequestId`] and [`JsonErrors`] (every error answer as `application/problem+json`,
//!   RFC 9457, or JSON of the program's shape).
//! - Application state ([`ServerBuilder::state`], [`Context::state`]) and typed extraction
//!   ([`Context::param_as`], [`Context::query`], [`Context::json`]).
//! - Answers from other threads ([`Context::responder`], [`Responder`]): the worker is free as
//!   soon as the handler returns; the connection is parked until the answer is sent (503 at
//!   the responder's deadline, 500 if it is dropped); pipelined requests wait in order.
//! - Streamed bodies ([`Response::from_writer`], [`Response::stream`]) go out chunked as they
//!   are written, with trailers ([`Response::with_trailer`],
//!   [`Response::from_writer_with_trailers`]).
//! - Static files ([`Server::serve_dir`], [`StaticDir`], built on [`static_files`]).
//! - gzip (feature `gzip`, default): compressible responses of 1 KiB or more with a known
//!   length, when the client accepts it, with `Vary: Accept-Encoding`; a strong `ETag`
//!   becomes weak; not for 206, 304 or bodies of unknown length; a `HEAD` gets the headers a
//!   `GET` would, without `Content-Length`. [`ServerBuilder::compression`] turns it off.
//! - Content parsers for `multipart/form-data` ([`multipart_parser`], [`Content::Multipart`],
//!   or part by part with [`Context::multipart`]) and JSON ([`json_parser`],
//!   [`Content::Json`], [`Response::json`]; feature `json`, default).
//!
//! ## How it runs
//! **A worker only runs handler code.** A fixed pool of worker threads, an acceptor and a
//! monitor; nothing is spawned per connection or request. The worker holding the first seat
//! accepts new connections itself (the acceptor thread retries after a failure to accept
//! and takes the last ones at shutdown). Every wait on the network is a
//! parked connection (mio: epoll, kqueue or IOCP) that costs a socket and a buffer and no
//! thread: between requests (no buffer at all), while a head or a body arrives (the server
//! reads a body into a buffer bounded by [`Limits::max_body`](http_utils::Limits) and
//! dispatches the request when it is complete), while a response with a known body (bytes, a
//! file, a reader) drains to a slow reader, while an answer comes from a [`Responder`], and
//! while a complete request waits for a free worker in the bounded queue
//! ([`ServerBuilder::queue_size`]). Handlers that read their body as it arrives
//! ([`Server::streaming_route`], and requests with `Expect: 100-continue`) and bodies written
//! by handler code ([`Response::from_writer`]) hold their worker while they wait, under caps.
//! Workers that hold a seat wait on its poller and serve ready connections themselves; when a
//! handler blocks, the monitor gives its seat to a standby worker. The rooms of the source
//! (`io`, `handler`, `connection`, `runtime`, `server`) each open with a diagram. Linux,
//! macOS, the BSDs and Windows (Unix domain sockets on Unix only).
//!
//! ## Untrusted input
//! Every byte from the network is untrusted. Limits ([`Limits`]) and
//! [`Timeouts`] have safe defaults:
//!
//! | what | default | breach |
//! | --- | --- | --- |
//! | request line | 8 KiB | 414, close |
//! | header line / header count / whole head | 8 KiB / 100 / 64 KiB | 431, close |
//! | body read whole (content parsers, [`Context::read_body`]) | 10 MiB | 413, close |
//! | malformed head, bad or missing `Host` on HTTP/1.1, ambiguous framing | — | 400, close |
//! | unknown transfer coding / unknown method | — | 501 |
//! | HTTP version other than 1.0 and 1.1 | — | 505, close |
//! | header timeout (slowloris; includes the TLS handshake) | 10 s | 408, close |
//! | body timeout (between body bytes) | 30 s | 408, close |
//! | body rate, the server or a streaming handler reading ([`Timeouts::min_body_rate`]; it may fall behind by at most the body timeout) | 1024 B/s | 408, close |
//! | a declared body over the body limit (not a streaming route) | 10 MiB | 413 at once, unread, close |
//! | all bodies read into buffers together ([`ServerBuilder::body_buffer_limit`]) | 256 MiB | 503 + `Retry-After`, close |
//! | write timeout | 30 s | close |
//! | rate a response is taken at ([`Timeouts::min_write_rate`]; it may fall behind by at most the write timeout) | 1024 B/s | close |
//! | `Expect` other than `100-continue` | — | 417, handler not run; close if a body follows |
//! | keep-alive idle timeout | 60 s | close |
//! | requests per connection | 10,000 | `Connection: close` on the last |
//! | handlers running at once ([`ServerBuilder::request_count_limit`]); complete requests beyond it wait parked ([`ServerBuilder::queue_size`], [`ServerBuilder::queue_timeout`]) | workers − I/O threads; 16 per worker, 10 s | 503 + `Retry-After` when the queue is full (before any body is read) or the wait is over |
//! | handlers reading their body from the socket ([`ServerBuilder::streaming_body_limit`]) | half the request limit | 503 for a streaming route |
//! | open connections | 20,000 | 503, close |
//! | an answer from a [`Responder`] ([`ServerBuilder::responder_timeout`]) | 30 s | 503 |
//! | internal redirects ([`Response::restart`]) per request | 8 | 500 |
//! | multipart: one part's headers / parts / whole body | 8 KiB, 16 fields / 1000 / `max_body` | 400 / 400 / 413 |
//! | static files: `..` or a dotfile in any encoding, symbolic links out of the root | — | 404 |
//! | static files: backslash, NUL, invalid UTF-8 in the path | — | 400 |
//! | PROXY protocol header ([`ServerBuilder::proxy_protocol`]): size / time / from a peer not trusted | 4 KiB (v1: 107 bytes) / the header timeout / — | close, unanswered |
//! | forwarding headers (`Forwarded`, `X-Forwarded-*`): hops read / from a peer not trusted / malformed `Forwarded` | 64 / — / — | the rest ignored / ignored / ignored whole |
//!
//! Error responses never echo bytes of the request. A handler that panics costs one 500; the
//! server keeps serving. When framing is in doubt the connection is closed after the error
//! response (lingering briefly so the peer can read it).

// The rooms, from the bottom up; imports only run downward (io <- handler <- connection <-
// runtime <- server). See each room's module docs for its diagram.
mod connection;
mod handler;
mod io;
mod runtime;
mod server;
pub mod static_files;
pub mod test;

pub use connection::CloseReason;
pub use handler::access_log::AccessLog;
pub use handler::content::{text_parser, urlencoded_parser, Args, Content, ContentParser, FormPart};
pub use handler::context::{
    BodyStream, Context, ErrorHook, ErrorPage, Handler, LogHook, Middleware, Next, StatusHandler,
    UrlTransform,
};
pub use handler::dispatch::resource_handler;
pub use handler::event::{Event, EventSender};
pub use handler::forwarded::{
    parse_forwarded, parse_x_forwarded_for, ForwardedElement, Node as ForwardedNode,
};
pub use handler::hooks::{ErrorEvent, LogRecord};
pub use handler::hub::EventHub;
pub use handler::into_response::{HttpError, IntoResponse};
pub use handler::middleware::basic::BasicAuth;
pub use handler::middleware::bearer::BearerAuth;
pub use handler::middleware::constant_time_eq;
pub use handler::middleware::cors::Cors;
pub use handler::middleware::errors::JsonErrors;
pub use handler::middleware::request_id::RequestId;
#[cfg(feature = "json")]
pub use handler::parsers::json_parser;
pub use handler::parsers::multipart_parser;
pub use handler::proxies::{InvalidRange, IpRange, Origin, TrustedProxies};
pub use handler::registry::ResourcePaths;
pub use handler::responder::Responder;
pub use handler::response::{
    default_error_page, escape_html, BodyWriter, Response, ResponseBody, TrailerWriter, UpgradeHandler,
};
pub use handler::route::{Captures, Pattern, PatternError, Relation};
pub use handler::route_table::{Lookup, Methods, Route, RouteError, RouteTable};
pub use handler::stream::{
    StreamError, StreamOptions, StreamSender, TrySendError, DEFAULT_EVENTS_KEEP_ALIVE,
    DEFAULT_STREAM_CAPACITY,
};
pub use handler::websocket::{
    CloseFrame, Message, WebSocket, WebSocketHandler, WebSocketHub, WebSocketOptions,
};
#[cfg(feature = "gzip")]
pub use handler::websocket::{DeflateConfig, DeflateParams};
pub use io::proxy_header::{parse_proxy_header, ProxyHeader, ProxyHeaderError};
pub use io::proxy_protocol::ProxyProtocolTransport;
pub use io::timeouts::Timeouts;
#[cfg(feature = "tls")]
pub use io::tls::TlsTransport;
#[cfg(unix)]
pub use io::transport::unix::UnixTransport;
pub use io::transport::{Connection, ListenOptions, Listener, LocalAddr, PeerAddr, TcpTransport, Transport};
pub use io::upgraded::Upgraded;
pub use server::{Scope, Server, ServerBuilder, ServerHandle, Stopper, DEFAULT_MAX_STREAMS};
pub use static_files::dir::StaticDir;

pub use http_utils::{is_json_media_type, Headers, Limits, Method, Request, Version};
/// The readiness layer the server waits on; custom transports hand it their sockets
/// ([`Listener::source`], [`Connection::source`]).
pub use mio;
