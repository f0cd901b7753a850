//! The opening handshake (RFC 6455 §4): the accept key, a client's upgrade request checked,
//! a subprotocol chosen from the client's offer, and a server's answer checked by a client.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::fmt;

use crate::headers::Headers;
use crate::method::Method;
use crate::params::trim_ows;
use crate::request::Request;
use crate::response::ResponseHead;
use crate::token::is_token;
use crate::version::Version;

/// The GUID RFC 6455 §1.3 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The protocol version this codec speaks (`Sec-WebSocket-Version: 13`).
pub const VERSION: &str = "13";

/// Why an opening handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request's method is not GET. Answered with 400.
    NotGet,
    /// The request is not HTTP/1.1. Answered with 400.
    NotHttp11,
    /// No `Upgrade: websocket`. Answered with 426 (naming `websocket` in `Upgrade`).
    MissingUpgrade,
    /// No `Connection: upgrade`. Answered with 400.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` is missing or not 13. Answered with 426 and
    /// `Sec-WebSocket-Version: 13` (RFC 6455 §4.4).
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing, repeated, or not the base64 form of 16 bytes. Answered
    /// with 400.
    InvalidKey,
    /// `Sec-WebSocket-Protocol` holds something other than a list of tokens. Answered with 400.
    InvalidProtocols,
    /// Client side: the status is not 101.
    NotSwitching,
    /// Client side: `Sec-WebSocket-Accept` is missing or does not match the key sent.
    InvalidAccept,
    /// Client side: the server chose a subprotocol that was not offered, or more than one.
    UnofferedProtocol,
    /// Client side: the server named an extension that was not offered, or more than one.
    UnofferedExtension,
    /// Client side: the server's permessage-deflate answer is malformed, has an unknown or
    /// repeated parameter or an invalid window size, or names a parameter the client did not
    /// offer (RFC 7692 §7.1).
    InvalidExtension,
}

impl HandshakeError {
    /// The status code a server answers a request refused for this reason (400 or 426); for
    /// the client-side kinds, 502 (the peer is at fault).
    pub fn status(self) -> u16 {
        use HandshakeError::*;
        match self {
            MissingUpgrade | UnsupportedVersion => 426,
            NotGet | NotHttp11 | MissingConnectionUpgrade | InvalidKey | InvalidProtocols => 400,
            NotSwitching | InvalidAccept | UnofferedProtocol | UnofferedExtension | InvalidExtension => 502,
        }
    }

    /// A fixed description; it never contains bytes from the peer.
    pub fn description(self) -> &'static str {
        use HandshakeError::*;
        match self {
            NotGet => "WebSocket handshake with a method other than GET",
            NotHttp11 => "WebSocket handshake not over HTTP/1.1",
            MissingUpgrade => "no Upgrade: websocket",
            MissingConnectionUpgrade => "no Connection: upgrade",
            UnsupportedVersion => "Sec-WebSocket-Version is not 13",
            InvalidKey => "invalid Sec-WebSocket-Key",
            InvalidProtocols => "invalid Sec-WebSocket-Protocol",
            NotSwitching => "the server did not switch protocols",
            InvalidAccept => "Sec-WebSocket-Accept does not match the key",
            UnofferedProtocol => "the server chose a subprotocol that was not offered",
            UnofferedExtension => "the server chose an extension that was not offered",
            InvalidExtension => "the server's permessage-deflate parameters are invalid",
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for HandshakeError {}

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`: the base64 of the
/// SHA-1 of the key followed by the RFC's GUID.
///
/// ```
/// use http_utils::websocket::accept_key;
/// // The example of RFC 6455 §1.3.
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.digest().bytes())
}

/// A client's `Sec-WebSocket-Key` made from 16 bytes the caller drew at random (RFC 6455
/// §4.1 asks for a fresh random nonce per connection; this codec owns no random source).
pub fn client_key(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// What a valid upgrade request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest<'a> {
    /// The client's `Sec-WebSocket-Key`, to answer with [`accept_key`].
    pub key: &'a str,
    /// The subprotocols offered, in the client's order (possibly none).
    pub protocols: Vec<&'a str>,
    /// The extensions offered (`Sec-WebSocket-Extensions` elements, parameters included).
    /// A server hands them to `DeflateConfig::negotiate_server` (feature `gzip`) for
    /// permessage-deflate; without it, it ignores them and names none in its answer.
    pub extensions: Vec<&'a str>,
}

/// Checks a client's opening handshake (RFC 6455 §4.2.1): GET over HTTP/1.1,
/// `Upgrade: websocket`, `Connection: upgrade`, `Sec-WebSocket-Version: 13` and one
/// `Sec-WebSocket-Key` that is the base64 of 16 bytes. `Host` is checked by the head parser.
///
/// ```
/// use http_utils::{parse_request_head, Limits};
/// use http_utils::websocket::{accept_key, check_upgrade_request};
/// let raw = b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
///     Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";
/// let (req, _) = parse_request_head(raw, &Limits::default()).unwrap().complete().unwrap();
/// let up = check_upgrade_request(&req).unwrap();
/// assert_eq!(up.protocols, ["chat", "superchat"]);
/// assert_eq!(accept_key(up.key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
///
/// # Errors
/// The first [`HandshakeError`] in the order of the list above, then
/// [`HandshakeError::InvalidProtocols`].
pub fn check_upgrade_request(req: &Request) -> Result<UpgradeRequest<'_>, HandshakeError> {
    if *req.method() != Method::Get {
        return Err(HandshakeError::NotGet);
    }
    if req.version() != Version::Http11 {
        return Err(HandshakeError::NotHttp11);
    }
    let headers = req.headers();
    if !headers.has_token("upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !headers.connection_has("upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let mut versions = headers.get_all("sec-websocket-version");
    if versions.next().map(trim_ows) != Some(VERSION) || versions.next().is_some() {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let mut keys = headers.get_all("sec-websocket-key");
    let key = match (keys.next().map(trim_ows), keys.next()) {
        (Some(key), None) if is_valid_key(key) => key,
        _ => return Err(HandshakeError::InvalidKey),
    };
    let protocols = list(headers, "sec-websocket-protocol");
    if protocols.iter().any(|p| !is_token(p.as_bytes())) {
        return Err(HandshakeError::InvalidProtocols);
    }
    Ok(UpgradeRequest { key, protocols, extensions: list(headers, "sec-websocket-extensions") })
}

/// True when `key` is the padded base64 of exactly 16 bytes (24 characters).
fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|k| k.len() == 16)
}

/// The non-empty, trimmed elements of every `name` field's comma-separated list. Quoted
/// commas (possible inside extension parameters) are not special-cased: an element is only
/// compared, never interpreted.
fn list<'a>(headers: &'a Headers, name: &'a str) -> Vec<&'a str> {
    headers.get_all(name).flat_map(|v| v.split(',')).map(trim_ows).filter(|e| !e.is_empty()).collect()
}

/// The subprotocol a server answers with: the first of `supported` (the server's order of
/// preference) that the client offered, compared exactly (subprotocol names are
/// case-sensitive), or `None` to name no subprotocol.
///
/// ```
/// use http_utils::websocket::select_protocol;
/// assert_eq!(select_protocol(&["chat", "superchat"], &["superchat", "chat"]), Some("superchat"));
/// assert_eq!(select_protocol(&["mqtt"], &["chat"]), None);
/// ```
pub fn select_protocol<'s>(offered: &[&str], supported: &[&'s str]) -> Option<&'s str> {
    supported.iter().copied().find(|s| offered.contains(s))
}

/// What a server's valid answer to an opening handshake chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeResponse<'h> {
    /// The subprotocol chosen, if any (one that was offered).
    pub protocol: Option<&'h str>,
    /// The `Sec-WebSocket-Extensions` field values, as sent (possibly none): for
    /// `DeflateConfig::accept_response` (feature `gzip`) when permessage-deflate was offered.
    pub extensions: Vec<&'h str>,
}

/// Checks a server's answer to a handshake sent with `key` and `offered` subprotocols (RFC
/// 6455 §4.1): 101, `Upgrade: websocket`, `Connection: upgrade`, the right
/// `Sec-WebSocket-Accept`, at most one subprotocol and one that was offered. The extensions
/// are returned unchecked: the caller checks them against what it offered
/// ([`check_upgrade_response`] refuses any).
///
/// # Errors
/// [`HandshakeError::NotSwitching`], [`HandshakeError::MissingUpgrade`],
/// [`HandshakeError::MissingConnectionUpgrade`], [`HandshakeError::InvalidAccept`],
/// [`HandshakeError::UnofferedProtocol`].
pub fn read_upgrade_response<'h>(
    head: &'h ResponseHead,
    key: &str,
    offered: &[&str],
) -> Result<UpgradeResponse<'h>, HandshakeError> {
    if head.status != 101 {
        return Err(HandshakeError::NotSwitching);
    }
    let headers = &head.headers;
    if !headers.has_token("upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !headers.connection_has("upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    let mut accepts = headers.get_all("sec-websocket-accept");
    match (accepts.next().map(trim_ows), accepts.next()) {
        (Some(accept), None) if accept == accept_key(key) => {}
        _ => return Err(HandshakeError::InvalidAccept),
    }
    let chosen = list(headers, "sec-websocket-protocol");
    let protocol = match chosen[..] {
        [] => None,
        [p] if offered.contains(&p) => Some(p),
        _ => return Err(HandshakeError::UnofferedProtocol),
    };
    Ok(UpgradeResponse { protocol, extensions: headers.get_all("sec-websocket-extensions").collect() })
}

/// Checks a server's answer to a handshake sent with `key` and `offered` subprotocols and no
/// extension: [`read_upgrade_response`], and no extension named. Returns the subprotocol
/// chosen, if any.
///
/// # Errors
/// As [`read_upgrade_response`]; [`HandshakeError::UnofferedExtension`].
pub fn check_upgrade_response<'h>(
    head: &'h ResponseHead,
    key: &str,
    offered: &[&str],
) -> Result<Option<&'h str>, HandshakeError> {
    let answer = read_upgrade_response(head, key, offered)?;
    if !list(&head.headers, "sec-websocket-extensions").is_empty() {
        return Err(HandshakeError::UnofferedExtension);
    }
    Ok(answer.protocol)
}
