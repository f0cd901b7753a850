//! WebSocket on http-toolkit's server with the `tungstenite` crate: the opening handshake
//! checked and answered with `Response::upgrade`, then tungstenite runs the protocol over
//! the upgraded stream on the thread the server gives it.

use http_toolkit::server::{Context, Response, Upgraded};
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// Answers a WebSocket opening handshake (RFC 6455 §4.2): `run` gets the socket once the
/// `101` is out. A request that is not a version-13 handshake gets 400 (426, from the
/// server, when it did not ask for `websocket` at all).
pub fn accept(cx: &Context<'_>, run: impl FnOnce(WebSocket<Upgraded>) + Send + 'static) -> Response {
    let headers = cx.request().headers();
    let Some(key) = headers.get("sec-websocket-key").map(str::trim) else {
        return Response::text("not a WebSocket handshake: no Sec-WebSocket-Key\n").with_status(400);
    };
    if headers.get("sec-websocket-version").map(str::trim) != Some("13") {
        return Response::text("only WebSocket version 13 is spoken here\n")
            .with_status(400)
            .with_header("Sec-WebSocket-Version", "13");
    }
    let accept = derive_accept_key(key.as_bytes());
    Response::upgrade("websocket", move |stream| run(WebSocket::from_raw_socket(stream, Role::Server, None)))
        .with_header("Sec-WebSocket-Accept", &accept)
}

/// Sends every text and binary message back until the socket closes.
pub fn echo(mut socket: WebSocket<Upgraded>) {
    loop {
        match socket.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if socket.send(m).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            // Closed (tungstenite answered the close frame), or broken.
            Err(_) => return,
        }
    }
}
