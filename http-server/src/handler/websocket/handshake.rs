//! The opening handshake answered from a handler: [`Context::websocket`].

use http_utils::websocket::{accept_key, check_upgrade_request, select_protocol};

use super::{SocketStart, WebSocketHandler, WebSocketOptions};
use crate::handler::context::Context;
use crate::handler::response::{Response, Switch, Takeover};

impl Context<'_> {
    /// Answers a WebSocket opening handshake (RFC 6455 §4.2) with default
    /// [`WebSocketOptions`]: `101 Switching Protocols`, and the engine holds the socket,
    /// calling `handler` for each message. A request that is not a valid handshake gets 400,
    /// or 426 naming `websocket` (and `Sec-WebSocket-Version: 13` when its version is
    /// another). See [`websocket_with`](Context::websocket_with).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{Message, Server, WebSocket};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.add_context_resource("/echo", |cx| {
    ///     cx.websocket(|ws: &WebSocket, m: Message| {
    ///         let _ = ws.send(m);
    ///     })
    /// });
    /// # Ok(()) }
    /// ```
    pub fn websocket(&mut self, handler: impl WebSocketHandler) -> Response {
        self.websocket_with(WebSocketOptions::new(), handler)
    }

    /// As [`websocket`](Context::websocket), with `options`. The socket counts against
    /// [`ServerBuilder::max_streams`](crate::ServerBuilder::max_streams) (past it: 503); it
    /// costs no thread: between messages it is parked like an idle connection. On a
    /// graceful shutdown every socket gets a close frame with 1001 and the grace period to
    /// answer it.
    pub fn websocket_with(&mut self, options: WebSocketOptions, handler: impl WebSocketHandler) -> Response {
        let up = match check_upgrade_request(&self.request) {
            Ok(up) => up,
            Err(e) => {
                let r = self.error_response(e.status(), e.description());
                return match e.status() {
                    426 => r
                        .with_header("Upgrade", "websocket")
                        .with_header("Sec-WebSocket-Version", http_utils::websocket::VERSION),
                    _ => r,
                };
            }
        };
        let supported: Vec<&str> = options.get_protocols().iter().map(String::as_str).collect();
        let protocol = select_protocol(&up.protocols, &supported).map(str::to_owned);
        let mut r = Response::new(101).with_header("Sec-WebSocket-Accept", &accept_key(up.key));
        if let Some(p) = &protocol {
            r = r.with_header("Sec-WebSocket-Protocol", p);
        }
        #[cfg(feature = "gzip")]
        let deflate = options.get_deflate().and_then(|config| config.negotiate_server(&up.extensions));
        #[cfg(feature = "gzip")]
        if let Some((_, answer)) = &deflate {
            r = r.with_header("Sec-WebSocket-Extensions", answer);
        }
        let start = SocketStart {
            handler: Box::new(handler),
            options,
            protocol,
            #[cfg(feature = "gzip")]
            deflate: deflate.map(|(params, _)| params),
        };
        r.set_takeover(Takeover::Upgrade {
            protocol: "websocket".to_owned(),
            handler: Switch::Socket(Box::new(start)),
            share: None,
        });
        r
    }
}
