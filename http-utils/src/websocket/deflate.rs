//! permessage-deflate (RFC 7692): the extension negotiated in the opening handshake, and
//! messages compressed and decompressed with it (flate2, feature `gzip`).
//!
//! ```text
//!   client offer  ──>  DeflateConfig::negotiate_server  ──>  (DeflateParams, response value)
//!   DeflateConfig::client_offer            DeflateConfig::accept_response  <──  server answer
//!                        DeflateParams + Role ──> PerMessageDeflate
//!                                           ├── Deflater: compress(message) -> payload (RSV1)
//!                                           └── Inflater: decompress(payload, limit) -> message
//! ```
//!
//! A compressed message is the DEFLATE data of its bytes, flushed to a byte boundary, without
//! the `00 00 ff ff` that the flush ends with (§7.2.1); the receiver appends those four bytes
//! before it inflates (§7.2.2). With context takeover (the default) each direction keeps its
//! LZ77 window from message to message; `*_no_context_takeover` starts every message afresh,
//! and then nothing is held between messages at all.
//!
//! **Window bits.** flate2 here runs on its pure-Rust backend (miniz_oxide), which compresses
//! with a 32 KiB window only (`window_bits` 15) and inflates any window up to that. So:
//! - a server declines an offer whose `server_max_window_bits` is below 15 (RFC 7692
//!   §7.1.2.1 lets it; the client's next offer, or no compression, is taken instead), and
//!   accepts one of 15;
//! - a client never offers `client_max_window_bits`, so no server may ask it for a smaller
//!   window (§7.1.2.2), and accepts any `server_max_window_bits` (8 to 15) in the answer;
//! - what the peer compresses with a window of 8 to 15 bits is inflated with a 15-bit window,
//!   which holds every smaller one.
//!
//! **Untrusted input.** Inflating is bounded by the caller's limit: output is produced in
//! 16 KiB steps and the message is refused ([`Error::MessageTooLarge`], 1009) as soon as it
//! passes the limit, so a small payload that inflates to gigabytes costs at most the limit.
//! Data that is not DEFLATE is [`Error::InvalidCompressedData`] (1002). A message whose
//! DEFLATE data ends with a final block (BFINAL, allowed by §7.2.3.4) ends the stream: bytes
//! after the final block are passed over (as zlib does) and the inflater starts afresh for the
//! next message.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::error::Error;
use super::frame::{encode_compressed_frame, encode_frame, Opcode};
use super::handshake::HandshakeError;
use super::Role;
use crate::params::{split_outside_quotes, unquote};

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// The four bytes a sync flush ends with, taken off by the sender and put back by the receiver.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The only window this build compresses with (flate2's miniz_oxide backend).
const WINDOW_BITS: u8 = 15;

/// Output produced per inflate step, and so the most the limit can be passed by.
const INFLATE_STEP: usize = 16 * 1024;

/// What one endpoint asks for and accepts, in either role. The default asks for nothing
/// (context takeover both ways, compression level 6).
///
/// `no_context_takeover` is about this endpoint's own compressor (`server_no_context_takeover`
/// when it is the server, `client_no_context_takeover` when it is the client);
/// `peer_no_context_takeover` asks the same of the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateConfig {
    /// Compress every message on its own, holding no compressor between messages (less
    /// memory per connection, larger messages).
    pub no_context_takeover: bool,
    /// Ask the peer to compress every message on its own, so no inflater is held between
    /// messages here.
    pub peer_no_context_takeover: bool,
    /// The compression level, 0 (stored) to 9 (best).
    pub level: u32,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig { no_context_takeover: false, peer_no_context_takeover: false, level: 6 }
    }
}

/// What the two endpoints agreed on, named as RFC 7692 names it (by role, not by "own" and
/// "peer"), plus the local compression level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server starts every message it compresses afresh.
    pub server_no_context_takeover: bool,
    /// The client starts every message it compresses afresh.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (8 to 15; 15 when not named).
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (8 to 15; 15 when not named).
    pub client_max_window_bits: u8,
    /// The compression level this endpoint uses (not negotiated), 0 to 9.
    pub level: u32,
}

/// One extension element of `Sec-WebSocket-Extensions`: its name and parameters, values
/// unquoted.
#[derive(Debug)]
struct Element<'a> {
    name: &'a str,
    params: Vec<(&'a str, Option<String>)>,
}

/// True for an RFC 9110 token.
fn is_token(s: &str) -> bool {
    crate::token::is_token(s.as_bytes())
}

/// Parses one extension element (`name; param; param=value`), `None` when malformed.
fn parse_element(element: &str) -> Option<Element<'_>> {
    let mut parts = split_outside_quotes(element, b';').into_iter().map(str::trim);
    let name = parts.next().filter(|n| is_token(n))?;
    let mut params = Vec::new();
    for part in parts {
        let (pname, value) = match part.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
            None => (part, None),
        };
        if !is_token(pname) {
            return None;
        }
        params.push((pname, value));
    }
    Some(Element { name, params })
}

/// Every element of `values` (each a whole field value or one element of it), `None` for a
/// malformed one, empty elements skipped.
fn elements<'a>(values: &[&'a str]) -> Vec<Option<Element<'a>>> {
    values
        .iter()
        .flat_map(|v| split_outside_quotes(v, b','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse_element)
        .collect()
}

/// A window size parameter's value: a decimal 8 to 15 without leading zeros (RFC 7692
/// §7.1.2.1).
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || value.len() > 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|b| (8..=15).contains(b))
}

/// The parameters of one permessage-deflate element, each at most once.
#[derive(Debug, Default)]
struct Named {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `Some(None)`: named without a value.
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Reads the parameters of a permessage-deflate element: `None` for an unknown or repeated
/// parameter, a value where none belongs or an invalid window size. `server_max_window_bits`
/// needs a value; `client_max_window_bits` may go without one.
fn named(params: &[(&str, Option<String>)]) -> Option<Named> {
    let mut n = Named::default();
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        let flag = match name.as_str() {
            "server_no_context_takeover" => &mut n.server_no_context_takeover,
            "client_no_context_takeover" => &mut n.client_no_context_takeover,
            "server_max_window_bits" | "client_max_window_bits" => {
                let slot = if name.starts_with("server") {
                    &mut n.server_max_window_bits
                } else {
                    &mut n.client_max_window_bits
                };
                if slot.is_some() {
                    return None;
                }
                *slot = Some(match value {
                    Some(v) => Some(window_bits(v)?),
                    None if name.starts_with("client") => None,
                    None => return None,
                });
                continue;
            }
            _ => return None,
        };
        if *flag || value.is_some() {
            return None;
        }
        *flag = true;
    }
    Some(n)
}

impl DeflateConfig {
    /// A server's choice among a client's offers (RFC 7692 §5, §7.1): the first
    /// permessage-deflate offer it can accept, with the parameters agreed and the value of
    /// its `Sec-WebSocket-Extensions` answer. `None` when there is none: answer without the
    /// extension (and read no compressed message).
    ///
    /// `offers` are `Sec-WebSocket-Extensions` values, whole or split into elements (as in
    /// [`UpgradeRequest::extensions`](super::UpgradeRequest)). Other extensions, malformed
    /// elements and offers with unknown or repeated parameters are passed over; so is an offer
    /// with a `server_max_window_bits` below 15 (this build compresses with a 15-bit window
    /// only). `server_no_context_takeover` and `client_no_context_takeover` offered are
    /// accepted (named in the answer), and named too when this configuration asks for them.
    ///
    /// ```
    /// use http_utils::websocket::DeflateConfig;
    /// let offers = ["permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits"];
    /// let (params, answer) = DeflateConfig::default().negotiate_server(&offers).unwrap();
    /// assert_eq!(answer, "permessage-deflate");
    /// assert_eq!((params.server_max_window_bits, params.client_max_window_bits), (15, 15));
    /// ```
    pub fn negotiate_server(&self, offers: &[&str]) -> Option<(DeflateParams, String)> {
        elements(offers).into_iter().flatten().find_map(|element| self.accept_offer(&element))
    }

    /// One offer, accepted or not.
    fn accept_offer(&self, element: &Element<'_>) -> Option<(DeflateParams, String)> {
        if !element.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            return None;
        }
        let n = named(&element.params)?;
        if matches!(n.server_max_window_bits, Some(Some(bits)) if bits < WINDOW_BITS) {
            return None;
        }
        let params = DeflateParams {
            server_no_context_takeover: n.server_no_context_takeover || self.no_context_takeover,
            client_no_context_takeover: n.client_no_context_takeover || self.peer_no_context_takeover,
            server_max_window_bits: WINDOW_BITS,
            // The client's own promise, when it made one; it is not narrowed here.
            client_max_window_bits: n.client_max_window_bits.flatten().unwrap_or(WINDOW_BITS),
            level: self.level,
        };
        let mut answer = String::from(PERMESSAGE_DEFLATE);
        if params.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if params.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        if n.server_max_window_bits.is_some() {
            answer.push_str("; server_max_window_bits=15");
        }
        Some((params, answer))
    }

    /// The `Sec-WebSocket-Extensions` value a client offers: `permessage-deflate`, with
    /// `client_no_context_takeover` and `server_no_context_takeover` as configured. It never
    /// names `client_max_window_bits` (this build compresses with a 15-bit window only).
    ///
    /// ```
    /// use http_utils::websocket::DeflateConfig;
    /// assert_eq!(DeflateConfig::default().client_offer(), "permessage-deflate");
    /// let config = DeflateConfig { peer_no_context_takeover: true, ..DeflateConfig::default() };
    /// assert_eq!(config.client_offer(), "permessage-deflate; server_no_context_takeover");
    /// ```
    pub fn client_offer(&self) -> String {
        let mut offer = String::from(PERMESSAGE_DEFLATE);
        if self.no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        if self.peer_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        offer
    }

    /// A client's check of the server's answer to [`client_offer`](Self::client_offer):
    /// `answers` are the response's `Sec-WebSocket-Extensions` values (see
    /// [`read_upgrade_response`](super::read_upgrade_response)). `Ok(None)` when the server
    /// named no extension (send and read no compressed message), else the parameters agreed.
    ///
    /// ```
    /// use http_utils::websocket::{DeflateConfig, HandshakeError};
    /// let config = DeflateConfig::default();
    /// let params = config.accept_response(&["permessage-deflate; server_max_window_bits=12"]).unwrap().unwrap();
    /// assert_eq!(params.server_max_window_bits, 12);
    /// assert_eq!(config.accept_response(&[]), Ok(None));
    /// // Not offered, so not allowed.
    /// let err = config.accept_response(&["permessage-deflate; client_max_window_bits=10"]);
    /// assert_eq!(err, Err(HandshakeError::InvalidExtension));
    /// ```
    ///
    /// # Errors
    /// [`HandshakeError::UnofferedExtension`] for another extension or more than one;
    /// [`HandshakeError::InvalidExtension`] for a malformed element, an unknown or repeated
    /// parameter, an invalid window size, or `client_max_window_bits` (never offered).
    pub fn accept_response(&self, answers: &[&str]) -> Result<Option<DeflateParams>, HandshakeError> {
        let all = elements(answers);
        let element = match all.as_slice() {
            [] => return Ok(None),
            [Some(e)] if e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) => e,
            [None] => return Err(HandshakeError::InvalidExtension),
            _ => return Err(HandshakeError::UnofferedExtension),
        };
        let n = named(&element.params).ok_or(HandshakeError::InvalidExtension)?;
        if n.client_max_window_bits.is_some() {
            return Err(HandshakeError::InvalidExtension);
        }
        Ok(Some(DeflateParams {
            server_no_context_takeover: n.server_no_context_takeover,
            client_no_context_takeover: n.client_no_context_takeover || self.no_context_takeover,
            server_max_window_bits: n.server_max_window_bits.flatten().unwrap_or(WINDOW_BITS),
            client_max_window_bits: WINDOW_BITS,
            level: self.level,
        }))
    }
}

/// The compressing half: messages this endpoint sends.
#[derive(Debug)]
pub struct Deflater {
    /// `None` between messages without context takeover (nothing held), or before the first.
    state: Option<Compress>,
    level: u32,
    takeover: bool,
}

impl Deflater {
    /// Compresses one whole message and returns the payload of its compressed frame (RSV1
    /// set: [`encode_compressed_frame`]): the DEFLATE data, flushed to a byte boundary, the
    /// trailing `00 00 ff ff` taken off. An empty message gives `[0x00]`.
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let level = self.level;
        let state = self.state.get_or_insert_with(|| Compress::new(Compression::new(level), false));
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = state.total_in();
        // Bounded: each round consumes input or fills the room it was given, and the room
        // grows; the flush is done when a round leaves room unused with all input consumed.
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let consumed = (state.total_in() - start) as usize;
            // Only a stream already finished fails, and this one never is.
            let _ = state.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
            if (state.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if !self.takeover {
            self.state = None;
        }
        out
    }

    /// Compresses `data` and appends it to `out` as one compressed frame of `opcode` (text or
    /// binary), masked with `mask` in the client role.
    ///
    /// # Errors
    /// As [`encode_compressed_frame`]: [`Error::ReservedBits`] for another opcode.
    pub fn encode_message(
        &mut self,
        opcode: Opcode,
        data: &[u8],
        mask: Option<[u8; 4]>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if !matches!(opcode, Opcode::Text | Opcode::Binary) {
            return encode_frame(true, opcode, data, mask, out);
        }
        encode_compressed_frame(true, opcode, &self.compress(data), mask, out)
    }
}

/// The inflating half: compressed messages from the peer.
#[derive(Debug)]
pub struct Inflater {
    /// `None` between messages without context takeover (nothing held), or before the first.
    state: Option<Decompress>,
    takeover: bool,
}

impl Inflater {
    /// Inflates the payload of one compressed message (its fragments joined, `00 00 ff ff`
    /// appended here) into at most `limit` bytes.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] as soon as the output passes `limit` (at most 16 KiB past
    /// it are produced); [`Error::InvalidCompressedData`] for data that is not DEFLATE.
    /// After an error the inflater's window is lost: fail the
    /// connection.
    pub fn decompress(&mut self, payload: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
        let state = self.state.get_or_insert_with(|| Decompress::new(false));
        let result = inflate(state, payload, limit);
        if !self.takeover || !matches!(result, Ok((_, false))) {
            // Without takeover, after a final block, or after an error: start afresh.
            self.state = None;
        }
        result.map(|(out, _)| out)
    }
}

/// Inflates `payload` then [`TAIL`] into at most `limit` bytes; says whether the data ended
/// with a final block.
fn inflate(state: &mut Decompress, payload: &[u8], limit: usize) -> Result<(Vec<u8>, bool), Error> {
    let mut out = Vec::with_capacity(payload.len().saturating_mul(2).min(limit).min(1 << 20));
    let mut step = vec![0u8; INFLATE_STEP];
    for input in [payload, &TAIL[..]] {
        let mut pos = 0;
        // Bounded: a round that neither consumes input nor produces output ends the loop.
        loop {
            let (in0, out0) = (state.total_in(), state.total_out());
            let status = state
                .decompress(&input[pos..], &mut step, FlushDecompress::Sync)
                .map_err(|_| Error::InvalidCompressedData)?;
            let used = (state.total_in() - in0) as usize;
            let made = (state.total_out() - out0) as usize;
            pos += used;
            if out.len() + made > limit {
                return Err(Error::MessageTooLarge);
            }
            out.extend_from_slice(&step[..made]);
            if status == Status::StreamEnd {
                // Bytes after a final block are passed over, as zlib does (RFC 7692 §7.2.3.4
                // shows one).
                return Ok((out, true));
            }
            if (pos == input.len() && made < step.len()) || (used == 0 && made == 0) {
                break;
            }
        }
    }
    Ok((out, false))
}

/// permessage-deflate for one connection: a [`Deflater`] for what this endpoint sends and an
/// [`Inflater`] for what it reads, set up from the parameters agreed and the endpoint's role.
///
/// ```
/// use http_utils::websocket::{DeflateConfig, PerMessageDeflate, Role};
/// let (params, _answer) = DeflateConfig::default().negotiate_server(&["permessage-deflate"]).unwrap();
/// let mut server = PerMessageDeflate::new(&params, Role::Server);
/// let mut client = PerMessageDeflate::new(&params, Role::Client);
/// for _ in 0..3 {
///     let payload = server.compress(b"Hello, hello, hello!");
///     assert_eq!(client.decompress(&payload, 1 << 20).unwrap(), b"Hello, hello, hello!");
/// }
/// ```
#[derive(Debug)]
pub struct PerMessageDeflate {
    deflater: Deflater,
    inflater: Inflater,
}

impl PerMessageDeflate {
    /// The compressor and inflater of an endpoint in `role`, keeping or dropping their
    /// windows between messages as `params` say. Nothing is allocated before the first
    /// message.
    pub fn new(params: &DeflateParams, role: Role) -> PerMessageDeflate {
        let (own_reset, peer_reset) = match role {
            Role::Server => (params.server_no_context_takeover, params.client_no_context_takeover),
            Role::Client => (params.client_no_context_takeover, params.server_no_context_takeover),
        };
        PerMessageDeflate {
            deflater: Deflater { state: None, level: params.level.min(9), takeover: !own_reset },
            inflater: Inflater { state: None, takeover: !peer_reset },
        }
    }

    /// [`Deflater::compress`].
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        self.deflater.compress(data)
    }

    /// [`Inflater::decompress`].
    ///
    /// # Errors
    /// As [`Inflater::decompress`].
    pub fn decompress(&mut self, payload: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
        self.inflater.decompress(payload, limit)
    }

    /// The two halves apart, for a writer and a reader on different threads (a
    /// [`MessageReader`](super::MessageReader) takes the inflater with
    /// [`with_inflater`](super::MessageReader::with_inflater)).
    pub fn split(self) -> (Deflater, Inflater) {
        (self.deflater, self.inflater)
    }
}

#[cfg(test)]
mod tests;
