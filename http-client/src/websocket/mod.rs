//! WebSocket client (RFC 6455): [`Client::websocket`](crate::Client::websocket) opens one,
//! `ws://` or `wss://`, through the client's proxies and with its TLS configuration, and
//! gives a blocking [`WebSocket`].
//!
//! ```text
//!   Client::websocket(url) ─> WebSocketBuilder ─(headers, subprotocols, deflate, limits,
//!                                                timeouts)─> connect()
//!       GET with Upgrade: websocket ──> [CONNECT tunnel] ──> [TLS] ──> 101 checked
//!                                                                       │
//!                                   WebSocket { send, recv, recv_timeout, close } ─ split()
//!                                        │                                     │
//!                     WebSocketReader (one thread: recv,          WebSocketWriter (Send + Sync +
//!                     pings answered, closes answered)            Clone: send, close, any thread)
//! ```
//!
//! ```no_run
//! use http_client::websocket::Message;
//! let client = http_client::Client::new();
//! let ws = client.websocket("ws://127.0.0.1:8080/echo").connect()?;
//! let (mut reader, writer) = ws.split();
//! let sender = std::thread::spawn(move || writer.send(Message::Text("hello".into())));
//! let echo = reader.recv()?;
//! sender.join().unwrap()?;
//! # let _ = echo;
//! # Ok::<(), http_client::Error>(())
//! ```
//!
//! Every frame the client sends is masked with a fresh key from the TLS configuration's
//! secure random source (rustls' `ring` provider: the operating system's generator; without
//! the `tls` feature, SipHash under a key from that generator), and so is the handshake's
//! `Sec-WebSocket-Key`. `wss://` needs the `tls` feature. Frames from the server go through
//! [`http_utils::websocket::MessageReader`]: a masked frame, a reserved bit or opcode, a
//! broken fragment sequence and the like fail the connection with 1002, a text message that
//! is not UTF-8 with 1007, a frame or message past [`Limits`]
//! with 1009 (the client sends that close frame, ends the connection and returns
//! [`Error::WebSocket`](crate::Error::WebSocket)).
//!
//! permessage-deflate (RFC 7692, feature `gzip`) is offered by default and used when the
//! server accepts: text and binary messages are compressed on their way out and inflated,
//! within the message limit, on their way in. The client compresses with a 15-bit window
//! and never offers `client_max_window_bits`; see `http_utils::websocket::DeflateConfig`.
//!
//! ## Untrusted input
//! | limit | default | breach |
//! | --- | --- | --- |
//! | frame, message (inflated too) ([`WebSocketBuilder::limits`]) | 16 MiB, 16 MiB | close 1009, [`Error::WebSocket`](crate::Error::WebSocket) |
//! | handshake: connect, read, write | the client's timeouts (30 s each) | [`Error::Timeout`](crate::Error::Timeout) |
//! | [`WebSocket::recv`] | no timeout ([`WebSocketBuilder::read_timeout`]) | [`Error::Timeout`](crate::Error::Timeout), the socket stays usable |
//! | a send waiting for room ([`WebSocketBuilder::write_timeout`]) | the client's write timeout (30 s) | [`Error::Timeout`](crate::Error::Timeout), the connection ends |
//! | the closing handshake ([`WebSocketBuilder::close_timeout`]) | 5 s | [`Error::Timeout`](crate::Error::Timeout), the connection ends |

mod builder;
mod random;
mod socket;
mod transport;

pub use builder::WebSocketBuilder;
pub use http_utils::websocket::{CloseFrame, HandshakeError, Limits, Message};
#[cfg(feature = "gzip")]
pub use http_utils::websocket::{DeflateConfig, DeflateParams};
pub use socket::{WebSocket, WebSocketReader, WebSocketWriter};
