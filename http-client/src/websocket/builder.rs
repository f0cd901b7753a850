//! [`WebSocketBuilder`]: the opening handshake's request, sent through the client (proxies,
//! TLS, cookies, default headers, interceptors), and its answer checked.

use std::fmt;
use std::time::Duration;

use http_utils::websocket::{
    check_upgrade_response, client_key, HandshakeError, Limits as WsLimits, MessageReader, Role,
};
#[cfg(feature = "gzip")]
use http_utils::websocket::{read_upgrade_response, DeflateConfig, PerMessageDeflate};
use http_utils::{Method, Request, ResponseHead};

use super::random::Random;
use super::socket::{WebSocket, WebSocketReader, WebSocketWriter};
use super::transport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::urls::redact_url;

/// How long [`WebSocket::close`] waits for the server's close frame by default.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A WebSocket about to be opened, from [`Client::websocket`]: headers, subprotocols,
/// permessage-deflate, limits and timeouts, then [`connect`](Self::connect).
///
/// ```no_run
/// use http_client::websocket::Message;
/// let client = http_client::Client::new();
/// let mut ws = client.websocket("wss://example.com/chat").protocol("chat").connect()?;
/// ws.send(Message::Text("hello".into()))?;
/// let answer = ws.recv()?;
/// ws.close(1000, "done")?;
/// # let _ = answer;
/// # Ok::<(), http_client::Error>(())
/// ```
pub struct WebSocketBuilder {
    client: Client,
    url: String,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
    #[cfg(feature = "gzip")]
    deflate: Option<DeflateConfig>,
    limits: WsLimits,
    read_timeout: Option<Duration>,
    write_timeout: Option<Option<Duration>>,
    close_timeout: Duration,
}

impl fmt::Debug for WebSocketBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketBuilder")
            .field("url", &redact_url(&self.url))
            .field("protocols", &self.protocols)
            .field("limits", &self.limits)
            .finish()
    }
}

impl WebSocketBuilder {
    pub(crate) fn new(client: Client, url: &str) -> WebSocketBuilder {
        WebSocketBuilder {
            client,
            url: url.to_owned(),
            headers: Vec::new(),
            protocols: Vec::new(),
            #[cfg(feature = "gzip")]
            deflate: Some(DeflateConfig::default()),
            limits: WsLimits::default(),
            read_timeout: None,
            write_timeout: None,
            close_timeout: CLOSE_TIMEOUT,
        }
    }

    /// Adds a header field to the handshake request (`Origin`, `Authorization`, a cookie...).
    /// The fields of the handshake itself (`Upgrade`, `Connection`, `Sec-WebSocket-*`) are
    /// set by the client and replace any given here.
    pub fn header(mut self, name: &str, value: &str) -> WebSocketBuilder {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`), after those offered before; the
    /// server may choose one ([`WebSocket::protocol`]).
    pub fn protocol(mut self, protocol: &str) -> WebSocketBuilder {
        self.protocols.push(protocol.to_owned());
        self
    }

    /// Offers permessage-deflate (RFC 7692) or not; on by default (feature `gzip`). Messages
    /// are compressed only when the server accepts.
    #[cfg(feature = "gzip")]
    pub fn deflate(mut self, on: bool) -> WebSocketBuilder {
        self.deflate = on.then(DeflateConfig::default);
        self
    }

    /// Offers permessage-deflate with `config` (context takeover, compression level).
    #[cfg(feature = "gzip")]
    pub fn deflate_config(mut self, config: DeflateConfig) -> WebSocketBuilder {
        self.deflate = Some(config);
        self
    }

    /// The sizes the server's frames and messages may have (16 MiB each by default; a
    /// compressed message counts inflated). Past them the client closes with 1009.
    pub fn limits(mut self, limits: WsLimits) -> WebSocketBuilder {
        self.limits = limits;
        self
    }

    /// How long [`WebSocket::recv`] waits (`None`, the default: as long as it takes).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> WebSocketBuilder {
        self.read_timeout = timeout;
        self
    }

    /// How long a send may wait for room to write (the client's write timeout by default,
    /// 30 s).
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> WebSocketBuilder {
        self.write_timeout = Some(timeout);
        self
    }

    /// How long [`WebSocket::close`] waits for the server's close frame (5 s by default).
    pub fn close_timeout(mut self, timeout: Duration) -> WebSocketBuilder {
        self.close_timeout = timeout;
        self
    }

    /// Opens the connection and runs the opening handshake: `ws://` and `wss://` URLs
    /// (`http://` and `https://` too), through the client's proxies (an HTTP proxy gets a
    /// `CONNECT` tunnel, a SOCKS proxy its own), with its TLS configuration, cookies,
    /// default headers and interceptors, and its connect, read and write timeouts for the
    /// handshake. Redirects are followed as for any request.
    ///
    /// # Errors
    /// [`Error::UnsupportedScheme`] for another scheme; every error of
    /// [`Client::send`]; [`Error::WebSocketHandshake`] when the answer is not a valid
    /// switch to the WebSocket protocol (not 101, no `Upgrade: websocket`, a wrong
    /// `Sec-WebSocket-Accept`, a subprotocol or extension that was not offered).
    pub fn connect(self) -> Result<WebSocket> {
        let url = http_url(&self.url)?;
        #[cfg(feature = "tls")]
        let mut random = Random::new(self.client.inner.tls.crypto_provider().secure_random);
        #[cfg(not(feature = "tls"))]
        let mut random = Random::new();
        let mut nonce = [0u8; 16];
        random.fill(&mut nonce)?;
        let key = client_key(nonce);
        let mut req = Request::new(Method::Get, url);
        let headers = req.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name, value).map_err(Error::InvalidHeader)?;
        }
        let mut set = |name: &str, value: &str| headers.set(name, value).map_err(Error::InvalidHeader);
        set("Upgrade", "websocket")?;
        set("Connection", "Upgrade")?;
        set("Sec-WebSocket-Version", http_utils::websocket::VERSION)?;
        set("Sec-WebSocket-Key", &key)?;
        if !self.protocols.is_empty() {
            set("Sec-WebSocket-Protocol", &self.protocols.join(", "))?;
        }
        #[cfg(feature = "gzip")]
        if let Some(config) = &self.deflate {
            set("Sec-WebSocket-Extensions", &config.client_offer())?;
        }
        let resp = self.client.send(req)?;
        let head = ResponseHead {
            version: resp.version(),
            status: resp.status(),
            reason: resp.reason().to_owned(),
            headers: resp.headers().clone(),
        };
        let refused = |error: HandshakeError| Error::WebSocketHandshake { status: head.status, error };
        let offered: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        #[cfg(feature = "gzip")]
        let (protocol, deflate) = match &self.deflate {
            Some(config) => {
                let answer = read_upgrade_response(&head, &key, &offered).map_err(refused)?;
                (answer.protocol, config.accept_response(&answer.extensions).map_err(refused)?)
            }
            None => (check_upgrade_response(&head, &key, &offered).map_err(refused)?, None),
        };
        #[cfg(not(feature = "gzip"))]
        let protocol = check_upgrade_response(&head, &key, &offered).map_err(refused)?;
        let protocol = protocol.map(str::to_owned);
        let (stream, early) = resp.into_upgraded()?.into_parts();
        let (read_half, write_half) = transport::split(stream, early)?;
        let write_timeout = self.write_timeout.unwrap_or(self.client.inner.timeouts.write);
        write_half.set_write_timeout(write_timeout)?;
        let reader = MessageReader::new(Role::Client, self.limits);
        #[cfg(feature = "gzip")]
        let (reader, deflater) = match &deflate {
            Some(params) => {
                let (deflater, inflater) = PerMessageDeflate::new(params, Role::Client).split();
                (reader.with_inflater(inflater), Some(deflater))
            }
            None => (reader, None),
        };
        let writer = WebSocketWriter::new(
            write_half,
            random,
            #[cfg(feature = "gzip")]
            deflater,
        );
        let reader = WebSocketReader::new(read_half, reader, writer.clone(), self.read_timeout)?;
        Ok(WebSocket {
            reader,
            writer,
            protocol,
            #[cfg(feature = "gzip")]
            deflate,
            close_timeout: self.close_timeout,
        })
    }
}

/// The `http`/`https` URL a `ws`/`wss` URL is requested at (RFC 6455 §3); `http` and
/// `https` are taken as they are.
fn http_url(url: &str) -> Result<String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| Error::InvalidUrl {
        url: redact_url(url),
        reason: "no scheme (ws:// or wss://)".to_owned(),
    })?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "http",
        "wss" | "https" => "https",
        _ => return Err(Error::UnsupportedScheme(scheme.to_owned())),
    };
    // RFC 6455 §3: a fragment has no meaning in a WebSocket URL.
    if rest.contains('#') {
        return Err(Error::InvalidUrl { url: redact_url(url), reason: "a fragment (#)".to_owned() });
    }
    Ok(format!("{scheme}://{rest}"))
}

#[cfg(test)]
mod tests {
    use super::http_url;
    use crate::error::Error;

    #[test]
    fn the_halves_go_to_other_threads() {
        fn send<T: Send>() {}
        fn shared<T: Send + Sync + Clone>() {}
        send::<crate::WebSocket>();
        send::<super::WebSocketReader>();
        shared::<super::WebSocketWriter>();
    }

    #[test]
    fn websocket_urls_map_to_http_urls() {
        assert_eq!(http_url("ws://a/b?c").unwrap(), "http://a/b?c");
        assert_eq!(http_url("WSS://a:8443/").unwrap(), "https://a:8443/");
        assert_eq!(http_url("https://a/").unwrap(), "https://a/");
        assert!(matches!(http_url("ftp://a/"), Err(Error::UnsupportedScheme(s)) if s == "ftp"));
        assert!(matches!(http_url("ws://a/#x"), Err(Error::InvalidUrl { .. })));
        assert!(matches!(http_url("a/b"), Err(Error::InvalidUrl { .. })));
    }
}
