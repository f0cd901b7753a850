//! Frame headers (RFC 6455 §5.2): parsing one from untrusted bytes, writing one into a
//! caller's buffer, and masking payloads.

use super::error::Error;
use super::{Limits, Role};
use crate::parse::Parsed;

/// The longest frame header: 2 bytes, an 8-byte extended length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The most payload bytes a control frame (close, ping, pong) may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode (RFC 6455 §5.2, §11.8). Reserved opcodes are refused by the parser and
/// have no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0: a later fragment of a text or binary message.
    Continuation,
    /// 1: the first frame of a text message (UTF-8).
    Text,
    /// 2: the first frame of a binary message.
    Binary,
    /// 8: close.
    Close,
    /// 9: ping.
    Ping,
    /// 10: pong.
    Pong,
}

impl Opcode {
    /// The opcode of the 4-bit value `bits`, or `None` for a reserved one.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }

    /// True for close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// The header of one frame: everything before its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// The FIN bit: this is the last frame of its message.
    pub fin: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key, present on every frame a client sends and on none a server sends.
    pub mask: Option<[u8; 4]>,
    /// How many payload bytes follow the header.
    pub payload_len: u64,
}

impl FrameHeader {
    /// How many bytes this header takes on the wire (2 to [`MAX_HEADER_LEN`]).
    pub fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        len + if self.mask.is_some() { 4 } else { 0 }
    }
}

/// Parses one frame header from the start of `buf`, as read by an endpoint in `role`.
///
/// Returns [`Parsed::Complete`] with the header and its length once the whole header is in
/// `buf` (the payload need not be), [`Parsed::Partial`] when more bytes are needed. No
/// extension is negotiated, so every reserved bit is refused.
///
/// ```
/// use http_utils::websocket::{parse_frame_header, Limits, Opcode, Role};
/// // A masked "Hello" from a client (RFC 6455 §5.7).
/// let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let (head, used) = parse_frame_header(&wire, Role::Server, &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!((head.fin, head.opcode, head.payload_len, used), (true, Opcode::Text, 5, 6));
/// assert!(parse_frame_header(&wire[..1], Role::Server, &Limits::default()).unwrap().is_partial());
/// ```
///
/// # Errors
/// The first rule the header breaks, checked as soon as the bytes that break it are in `buf`:
/// [`Error::ReservedBits`], [`Error::ReservedOpcode`], [`Error::FragmentedControlFrame`],
/// [`Error::ControlFrameTooLong`], [`Error::UnmaskedFrame`] (server role),
/// [`Error::MaskedFrame`] (client role), [`Error::LengthHighBit`],
/// [`Error::NonMinimalLength`], [`Error::FrameTooLarge`].
pub fn parse_frame_header(buf: &[u8], role: Role, limits: &Limits) -> Result<Parsed<FrameHeader>, Error> {
    Ok(match parse_frame_header_rsv1(buf, role, limits, false)? {
        Parsed::Complete { value: (header, _), used } => Parsed::Complete { value: header, used },
        Parsed::Partial => Parsed::Partial,
    })
}

/// [`parse_frame_header`], with RSV1 allowed on a text or binary frame when `allow_rsv1`
/// (permessage-deflate negotiated: RSV1 marks the first frame of a compressed message).
/// Returns the header and whether RSV1 was set. RSV1 on a control or continuation frame,
/// and RSV2 and RSV3 always, are [`Error::ReservedBits`].
pub(crate) fn parse_frame_header_rsv1(
    buf: &[u8],
    role: Role,
    limits: &Limits,
    allow_rsv1: bool,
) -> Result<Parsed<(FrameHeader, bool)>, Error> {
    let Some(&b0) = buf.first() else { return Ok(Parsed::Partial) };
    let rsv1 = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 || (rsv1 && !allow_rsv1) {
        return Err(Error::ReservedBits);
    }
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(Error::ReservedOpcode)?;
    if rsv1 && !matches!(opcode, Opcode::Text | Opcode::Binary) {
        return Err(Error::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    if opcode.is_control() && !fin {
        return Err(Error::FragmentedControlFrame);
    }
    let Some(&b1) = buf.get(1) else { return Ok(Parsed::Partial) };
    let masked = b1 & 0x80 != 0;
    match (role, masked) {
        (Role::Server, false) => return Err(Error::UnmaskedFrame),
        (Role::Client, true) => return Err(Error::MaskedFrame),
        _ => {}
    }
    let short = b1 & 0x7F;
    if opcode.is_control() && short > 125 {
        return Err(Error::ControlFrameTooLong);
    }
    let (payload_len, mut used) = match short {
        126 => {
            let Some(bytes) = buf.get(2..4) else { return Ok(Parsed::Partial) };
            let len = u64::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            if len < 126 {
                return Err(Error::NonMinimalLength);
            }
            (len, 4)
        }
        127 => {
            if buf.get(2).is_some_and(|&b| b & 0x80 != 0) {
                return Err(Error::LengthHighBit);
            }
            let Some(bytes) = buf.get(2..10) else { return Ok(Parsed::Partial) };
            let mut be = [0u8; 8];
            be.copy_from_slice(bytes);
            let len = u64::from_be_bytes(be);
            if len <= 0xFFFF {
                return Err(Error::NonMinimalLength);
            }
            (len, 10)
        }
        n => (u64::from(n), 2),
    };
    if payload_len > limits.max_frame {
        return Err(Error::FrameTooLarge);
    }
    let mask = if masked {
        let Some(bytes) = buf.get(used..used + 4) else { return Ok(Parsed::Partial) };
        used += 4;
        Some([bytes[0], bytes[1], bytes[2], bytes[3]])
    } else {
        None
    };
    Ok(Parsed::Complete { value: (FrameHeader { fin, opcode, mask, payload_len }, rsv1), used })
}

/// Writes `header` into the start of `out` and returns how many bytes it took (see
/// [`FrameHeader::encoded_len`]). The length is always written in its minimal form.
///
/// ```
/// use http_utils::websocket::{write_frame_header, FrameHeader, Opcode, MAX_HEADER_LEN};
/// let mut out = [0u8; MAX_HEADER_LEN];
/// let head = FrameHeader { fin: true, opcode: Opcode::Binary, mask: None, payload_len: 256 };
/// let n = write_frame_header(&head, &mut out).unwrap();
/// assert_eq!(&out[..n], [0x82, 126, 0x01, 0x00]);
/// ```
///
/// # Errors
/// [`Error::ControlFrameTooLong`] and [`Error::FragmentedControlFrame`] for a control frame
/// RFC 6455 does not allow, [`Error::LengthHighBit`] for a length of 2^63 or more.
///
/// # Panics
/// When `out` is shorter than the header; [`MAX_HEADER_LEN`] bytes always suffice.
pub fn write_frame_header(header: &FrameHeader, out: &mut [u8]) -> Result<usize, Error> {
    write_frame_header_rsv1(header, false, out)
}

/// [`write_frame_header`] with RSV1 set when `rsv1` (only for text and binary frames: the
/// caller checks).
fn write_frame_header_rsv1(header: &FrameHeader, rsv1: bool, out: &mut [u8]) -> Result<usize, Error> {
    if header.opcode.is_control() {
        if !header.fin {
            return Err(Error::FragmentedControlFrame);
        }
        if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(Error::ControlFrameTooLong);
        }
    }
    if header.payload_len >> 63 != 0 {
        return Err(Error::LengthHighBit);
    }
    out[0] = if header.fin { 0x80 } else { 0 } | if rsv1 { 0x40 } else { 0 } | header.opcode.bits();
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    let mut used = match header.payload_len {
        n @ 0..=125 => {
            out[1] = mask_bit | n as u8;
            2
        }
        n @ 126..=0xFFFF => {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
            4
        }
        n => {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&n.to_be_bytes());
            10
        }
    };
    if let Some(key) = header.mask {
        out[used..used + 4].copy_from_slice(&key);
        used += 4;
    }
    Ok(used)
}

/// Masks or unmasks `data` in place with `key` (RFC 6455 §5.3; the operation is its own
/// inverse). `offset` is how many payload bytes came before `data` in the same frame, so a
/// payload can be unmasked in pieces as it arrives.
///
/// ```
/// use http_utils::websocket::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data[..2], key, 0);
/// apply_mask(&mut data[2..], key, 2);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let mut key = key;
    key.rotate_left((offset % 4) as usize);
    // Whole 4-byte groups first: the compiler turns this loop into wide XORs.
    let mut groups = data.chunks_exact_mut(4);
    for group in &mut groups {
        for (b, k) in group.iter_mut().zip(key) {
            *b ^= k;
        }
    }
    for (b, k) in groups.into_remainder().iter_mut().zip(key) {
        *b ^= k;
    }
}

/// Appends one whole frame to `out`: its header, then `payload`, masked with `mask` when one
/// is given (a client must give a fresh, unpredictable key for every frame; a server gives
/// `None`).
///
/// ```
/// use http_utils::websocket::{encode_frame, Opcode};
/// let mut out = Vec::new();
/// encode_frame(true, Opcode::Text, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d]), &mut out).unwrap();
/// assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
///
/// # Errors
/// As [`write_frame_header`]; nothing is appended then.
pub fn encode_frame(
    fin: bool,
    opcode: Opcode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    encode(fin, false, opcode, payload, mask, out)
}

/// Appends the first (or only) frame of a compressed message to `out`: as [`encode_frame`],
/// with RSV1 set (permessage-deflate, RFC 7692 §6). `opcode` is [`Opcode::Text`] or
/// [`Opcode::Binary`]; later fragments of the message are ordinary continuation frames
/// written with [`encode_frame`]. `payload` is what `Deflater::compress` gave (feature
/// `gzip`).
///
/// ```
/// use http_utils::websocket::{encode_compressed_frame, Opcode};
/// let mut out = Vec::new();
/// // "Hello" compressed (RFC 7692 §7.2.3.1).
/// encode_compressed_frame(true, Opcode::Text, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], None, &mut out).unwrap();
/// assert_eq!(out[..2], [0xc1, 0x07]);
/// ```
///
/// # Errors
/// [`Error::ReservedBits`] for an opcode other than text or binary; as [`write_frame_header`].
/// Nothing is appended then.
pub fn encode_compressed_frame(
    fin: bool,
    opcode: Opcode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    if !matches!(opcode, Opcode::Text | Opcode::Binary) {
        return Err(Error::ReservedBits);
    }
    encode(fin, true, opcode, payload, mask, out)
}

/// One frame, RSV1 as given.
fn encode(
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let header = FrameHeader { fin, opcode, mask, payload_len: payload.len() as u64 };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = write_frame_header_rsv1(&header, rsv1, &mut head)?;
    out.reserve(n + payload.len());
    out.extend_from_slice(&head[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::apply_mask;

    #[test]
    fn masking_in_groups_agrees_with_byte_by_byte_at_every_offset() {
        let key = [0x11, 0x22, 0x44, 0x88];
        for offset in 0..8u64 {
            for len in 0..13 {
                let mut data: Vec<u8> = (0..len as u8).collect();
                apply_mask(&mut data, key, offset);
                let want: Vec<u8> =
                    (0..len as u8).map(|i| i ^ key[(offset as usize + usize::from(i)) % 4]).collect();
                assert_eq!(data, want, "offset {offset} length {len}");
            }
        }
    }
}
