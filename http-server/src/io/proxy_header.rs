//! The PROXY protocol header (HAProxy's, versions 1 and 2): what a proxy sends before the
//! client's bytes to say whom the connection is for. Pure parsing of untrusted bytes over a
//! slice: complete (with the bytes used), partial, or an error, never more than
//! 4096 bytes (`MAX_HEADER`).
//!
//! ```text
//!   v1: "PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n"     (text, at most 107 bytes)
//!       "PROXY UNKNOWN ...\r\n"                               (addresses not given)
//!   v2: \r\n\r\n\0\r\nQUIT\n │ ver 2, cmd │ family, proto │ length (BE u16) │ addresses │ TLVs
//!        12-byte signature      LOCAL=0      TCP4=0x11         ...             skipped
//!                               PROXY=1      TCP6=0x21
//! ```
//!
//! A v2 `LOCAL` command (the proxy's own health checks), v1 `UNKNOWN` and families other
//! than TCP over IPv4 or IPv6 give no addresses: the connection's own peer stands.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The most bytes a header may take (a v2 header with its TLVs included); a longer one is an
/// error.
pub const MAX_HEADER: usize = 4096;

/// The v2 signature.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// The longest v1 line, CRLF included (the specification's figure).
const V1_MAX: usize = 107;

/// A complete PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    /// The client's address and the address it connected to, when the header gives them.
    pub addresses: Option<(SocketAddr, SocketAddr)>,
    /// The bytes the header took.
    pub used: usize,
}

/// Why a PROXY header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyHeaderError {
    /// Neither a v1 nor a v2 header starts the stream.
    NotProxy,
    /// A v1 line that breaks the grammar (or passes 107 bytes).
    BadV1,
    /// A v2 header with a wrong version, command, or address block.
    BadV2,
    /// Longer than 4096 bytes (`MAX_HEADER`).
    TooLong,
}

impl fmt::Display for ProxyHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyHeaderError::NotProxy => "the connection does not start with a PROXY protocol header",
            ProxyHeaderError::BadV1 => "malformed PROXY protocol v1 header",
            ProxyHeaderError::BadV2 => "malformed PROXY protocol v2 header",
            ProxyHeaderError::TooLong => "PROXY protocol header too long",
        })
    }
}

impl std::error::Error for ProxyHeaderError {}

/// Reads a PROXY header at the start of `buf`: `Ok(Some(header))` when complete, `Ok(None)`
/// when more bytes are needed.
///
/// ```
/// use http_server::parse_proxy_header;
/// let h = parse_proxy_header(b"PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\nGET /").unwrap().unwrap();
/// assert_eq!(h.used, 43);
/// assert_eq!(h.addresses.unwrap().0, "203.0.113.7:56324".parse().unwrap());
/// ```
///
/// # Errors
/// [`ProxyHeaderError`] when the bytes cannot start a valid header.
pub fn parse_proxy_header(buf: &[u8]) -> Result<Option<ProxyHeader>, ProxyHeaderError> {
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        return if n < V2_SIGNATURE.len() { Ok(None) } else { v2(buf) };
    }
    let n = buf.len().min(6);
    if buf[..n] == b"PROXY "[..n] {
        return if n < 6 { Ok(None) } else { v1(buf) };
    }
    Err(ProxyHeaderError::NotProxy)
}

fn v1(buf: &[u8]) -> Result<Option<ProxyHeader>, ProxyHeaderError> {
    // The CR is at most at V1_MAX - 2, so that the line with its LF fits.
    let window = &buf[..buf.len().min(V1_MAX - 1)];
    // Only printable ASCII before the CR.
    let cr = window.iter().position(|&b| !(0x20..=0x7e).contains(&b));
    if cr.is_some_and(|i| window[i] != b'\r') {
        return Err(ProxyHeaderError::BadV1);
    }
    let Some(cr) = cr else {
        return if buf.len() >= V1_MAX - 1 { Err(ProxyHeaderError::BadV1) } else { Ok(None) };
    };
    match buf.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(ProxyHeaderError::BadV1),
    }
    let line = std::str::from_utf8(&buf[6..cr]).map_err(|_| ProxyHeaderError::BadV1)?;
    let used = cr + 2;
    let fields: Vec<&str> = line.split(' ').collect();
    let addresses = match fields.as_slice() {
        ["UNKNOWN", ..] => None,
        [family @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let (src, dst) = (v1_ip(src)?, v1_ip(dst)?);
            if (*family == "TCP4") != (src.is_ipv4() && dst.is_ipv4()) || src.is_ipv4() != dst.is_ipv4() {
                return Err(ProxyHeaderError::BadV1);
            }
            Some((SocketAddr::new(src, v1_port(sport)?), SocketAddr::new(dst, v1_port(dport)?)))
        }
        _ => return Err(ProxyHeaderError::BadV1),
    };
    Ok(Some(ProxyHeader { addresses, used }))
}

fn v1_ip(s: &str) -> Result<IpAddr, ProxyHeaderError> {
    s.parse().map_err(|_| ProxyHeaderError::BadV1)
}

/// A port: 1 to 5 digits, no sign, no leading zero but "0" itself, at most 65535.
fn v1_port(s: &str) -> Result<u16, ProxyHeaderError> {
    let digits = !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return Err(ProxyHeaderError::BadV1);
    }
    s.parse().map_err(|_| ProxyHeaderError::BadV1)
}

fn v2(buf: &[u8]) -> Result<Option<ProxyHeader>, ProxyHeaderError> {
    let Some(fixed) = buf.get(..16) else { return Ok(None) };
    let (version, command, family) = (fixed[12] >> 4, fixed[12] & 0x0f, fixed[13]);
    if version != 2 || command > 1 {
        return Err(ProxyHeaderError::BadV2);
    }
    let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    let used = 16 + len;
    if used > MAX_HEADER {
        return Err(ProxyHeaderError::TooLong);
    }
    let Some(block) = buf.get(16..used) else { return Ok(None) };
    if command == 0 {
        // LOCAL: the proxy speaks for itself; whatever the block holds is ignored.
        return Ok(Some(ProxyHeader { addresses: None, used }));
    }
    let addresses = match family {
        // TCP over IPv4.
        0x11 => {
            let a = block.get(..12).ok_or(ProxyHeaderError::BadV2)?;
            let ip = |i: usize| IpAddr::V4(Ipv4Addr::new(a[i], a[i + 1], a[i + 2], a[i + 3]));
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            Some((SocketAddr::new(ip(0), port(8)), SocketAddr::new(ip(4), port(10))))
        }
        // TCP over IPv6.
        0x21 => {
            let a = block.get(..36).ok_or(ProxyHeaderError::BadV2)?;
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&a[i..i + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            Some((SocketAddr::new(ip(0), port(32)), SocketAddr::new(ip(16), port(34))))
        }
        // UNSPEC, UDP, Unix sockets: nothing to take.
        _ if family >> 4 <= 3 && family & 0x0f <= 2 => None,
        _ => return Err(ProxyHeaderError::BadV2),
    };
    Ok(Some(ProxyHeader { addresses, used }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_header(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(block.len() as u16).to_be_bytes());
        h.extend_from_slice(block);
        h
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v1_lines() {
        let h = parse_proxy_header(b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n").unwrap().unwrap();
        assert_eq!(h.addresses, Some((sa("192.0.2.1:1234"), sa("192.0.2.2:80"))));
        let h = parse_proxy_header(b"PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\nxyz").unwrap().unwrap();
        assert_eq!(h.addresses, Some((sa("[2001:db8::1]:65535"), sa("[2001:db8::2]:0"))));
        assert_eq!(h.used, 44);
        let h = parse_proxy_header(b"PROXY UNKNOWN ffff::1 whatever\r\n").unwrap().unwrap();
        assert_eq!(h.addresses, None);
        assert_eq!(parse_proxy_header(b"PROXY UNKNOWN\r\n").unwrap().unwrap().used, 15);
    }

    #[test]
    fn v1_refusals() {
        for bad in [
            &b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\n"[..],
            b"PROXY TCP4 192.0.2.1 192.0.2.2 1234\r\n",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 01234 80\r\n",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 +1 80\r\n",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 65536 80\r\n",
            b"PROXY TCP4 2001:db8::1 192.0.2.2 1 80\r\n",
            b"PROXY TCP6 192.0.2.1 192.0.2.2 1 80\r\n",
            b"PROXY TCP4  192.0.2.1 192.0.2.2 1 80\r\n",
            b"PROXY UDP4 192.0.2.1 192.0.2.2 1 80\r\n",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 1 80\rX",
        ] {
            assert_eq!(
                parse_proxy_header(bad),
                Err(ProxyHeaderError::BadV1),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = [b"PROXY UNKNOWN ".as_slice(), &[b'a'; 100]].concat();
        assert_eq!(parse_proxy_header(&long), Err(ProxyHeaderError::BadV1));
        assert_eq!(parse_proxy_header(b"GET / HTTP/1.1\r\n"), Err(ProxyHeaderError::NotProxy));
        assert_eq!(parse_proxy_header(b"PROXZ"), Err(ProxyHeaderError::NotProxy));
    }

    #[test]
    fn v2_headers() {
        let block = [192, 0, 2, 1, 10, 0, 0, 1, 0x04, 0xd2, 0x01, 0xbb];
        let mut h = v2_header(1, 0x11, &block);
        h.extend_from_slice(b"GET");
        let p = parse_proxy_header(&h).unwrap().unwrap();
        assert_eq!(p.addresses, Some((sa("192.0.2.1:1234"), sa("10.0.0.1:443"))));
        assert_eq!(p.used, 28);
        let mut six = vec![0u8; 36];
        six[15] = 1;
        six[31] = 2;
        six[32..34].copy_from_slice(&8080u16.to_be_bytes());
        // With a TLV after the addresses, skipped.
        let with_tlv = [six.as_slice(), &[0x04, 0x00, 0x01, 0xaa]].concat();
        let p = parse_proxy_header(&v2_header(1, 0x21, &with_tlv)).unwrap().unwrap();
        assert_eq!(p.addresses, Some((sa("[::1]:8080"), sa("[::2]:0"))));
        assert_eq!(p.used, 16 + 40);
        // LOCAL, and families without addresses.
        assert_eq!(parse_proxy_header(&v2_header(0, 0x11, &[])).unwrap().unwrap().addresses, None);
        assert_eq!(parse_proxy_header(&v2_header(1, 0x00, &[])).unwrap().unwrap().addresses, None);
        assert_eq!(parse_proxy_header(&v2_header(1, 0x31, &[0; 216])).unwrap().unwrap().addresses, None);
    }

    #[test]
    fn v2_refusals() {
        let mut bad_version = v2_header(1, 0x11, &[0; 12]);
        bad_version[12] = 0x11;
        assert_eq!(parse_proxy_header(&bad_version), Err(ProxyHeaderError::BadV2));
        assert_eq!(parse_proxy_header(&v2_header(2, 0x11, &[0; 12])), Err(ProxyHeaderError::BadV2));
        assert_eq!(parse_proxy_header(&v2_header(1, 0x11, &[0; 11])), Err(ProxyHeaderError::BadV2));
        assert_eq!(parse_proxy_header(&v2_header(1, 0x21, &[0; 35])), Err(ProxyHeaderError::BadV2));
        assert_eq!(parse_proxy_header(&v2_header(1, 0x41, &[0; 12])), Err(ProxyHeaderError::BadV2));
        let mut huge = v2_header(1, 0x11, &[0; 12]);
        huge[14..16].copy_from_slice(&5000u16.to_be_bytes());
        assert_eq!(parse_proxy_header(&huge), Err(ProxyHeaderError::TooLong));
    }

    #[test]
    fn every_prefix_is_partial() {
        let block = [192, 0, 2, 1, 10, 0, 0, 1, 0x04, 0xd2, 0x01, 0xbb];
        for whole in [v2_header(1, 0x11, &block), b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n".to_vec()] {
            let done = parse_proxy_header(&whole).unwrap().unwrap();
            assert_eq!(done.used, whole.len());
            for cut in 0..whole.len() {
                assert_eq!(parse_proxy_header(&whole[..cut]), Ok(None), "cut at {cut}");
            }
        }
    }
}
