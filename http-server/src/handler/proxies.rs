//! Trusted proxies: the peers whose forwarding headers (`Forwarded`, `X-Forwarded-*`) are
//! believed, and the client, scheme and host a request comes from once they are.
//!
//! ```text
//!   client 203.0.113.7 ──► proxy 10.0.0.2 ──► proxy 10.0.0.1 ──► server (peer 10.0.0.1)
//!        X-Forwarded-For: 203.0.113.7, 10.0.0.2     (each proxy appends its own client)
//!   peer trusted? walk the list from the right past trusted addresses: the first one
//!   that is not trusted is the client (203.0.113.7); a peer not trusted: the peer is.
//! ```
//!
//! Only the peer's trust opens the headers: from any other peer they are ignored, however
//! they look, so a client cannot name itself someone else. `Forwarded` wins over
//! `X-Forwarded-For` when both are there; a malformed `Forwarded` means no forwarding
//! information at all (the client is the peer). A hop that is not an address (`unknown`,
//! an obfuscated name) ends the walk: the client is then the nearest address known.

use std::fmt;
use std::net::IpAddr;

use http_utils::Headers;

use crate::handler::forwarded::{self, ForwardedElement, Node};
use crate::io::transport::PeerAddr;

/// A range of addresses: an address and how many leading bits must match (`10.0.0.0/8`,
/// `fd00::/8`; a bare address is a range of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

/// A range that could not be read; says which text, never more than 64 bytes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRange(String);

impl fmt::Display for InvalidRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an address or CIDR range: {:?}", self.0)
    }
}

impl std::error::Error for InvalidRange {}

impl IpRange {
    /// Reads `addr` or `addr/prefix`.
    ///
    /// # Errors
    /// [`InvalidRange`] for anything else, or a prefix longer than the address.
    pub fn parse(s: &str) -> Result<IpRange, InvalidRange> {
        let bad = || InvalidRange(s.chars().take(64).collect());
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim_matches(['[', ']']).parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&n| n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(IpRange { addr, prefix })
    }

    /// True when `ip` is inside the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            let keep = u32::from(prefix);
            if keep == 0 {
                0
            } else {
                bits >> (u32::from(width) - keep)
            }
        }
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                masked(u128::from(u32::from(a)), self.prefix, 32)
                    == masked(u128::from(u32::from(b)), self.prefix, 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                masked(u128::from(a), self.prefix, 128) == masked(u128::from(b), self.prefix, 128)
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpRange {
    type Err = InvalidRange;
    fn from_str(s: &str) -> Result<IpRange, InvalidRange> {
        IpRange::parse(s)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The peers whose forwarding headers are believed (none by default); see
/// [`ServerBuilder::trusted_proxies`](crate::ServerBuilder::trusted_proxies) and
/// [`Context::client_ip`](crate::Context::client_ip).
///
/// ```
/// use http_server::TrustedProxies;
/// let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ::1").unwrap();
/// assert!(trusted.contains("10.1.2.3".parse().unwrap()));
/// assert!(!trusted.contains("203.0.113.7".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<IpRange>,
    unix: bool,
}

/// Where a request comes from, with trusted proxies' word taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address: the peer's, or the one trusted proxies report.
    pub client_ip: Option<IpAddr>,
    /// `"https"` or `"http"`: the connection's (TLS or not), or what trusted proxies report.
    pub scheme: &'static str,
    /// The host the client asked for: what trusted proxies report, else the `Host` header.
    pub host: Option<String>,
}

impl TrustedProxies {
    /// No trusted proxies.
    pub fn new() -> TrustedProxies {
        TrustedProxies::default()
    }

    /// The loopback addresses (`127.0.0.0/8`, `::1`): a proxy on the same machine.
    pub fn loopback() -> TrustedProxies {
        TrustedProxies {
            ranges: vec![IpRange::parse("127.0.0.0/8").unwrap(), IpRange::parse("::1").unwrap()],
            unix: false,
        }
    }

    /// Reads addresses and ranges separated by commas or white space.
    ///
    /// # Errors
    /// The first entry that is not an address or range.
    pub fn parse(list: &str) -> Result<TrustedProxies, InvalidRange> {
        let mut t = TrustedProxies::new();
        for entry in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            t.ranges.push(IpRange::parse(entry)?);
        }
        Ok(t)
    }

    /// Adds a range.
    pub fn with(mut self, range: IpRange) -> TrustedProxies {
        self.ranges.push(range);
        self
    }

    /// Trusts peers on Unix domain sockets too (a proxy on the same machine; default off).
    pub fn with_unix_peers(mut self) -> TrustedProxies {
        self.unix = true;
        self
    }

    /// True when no peer is trusted.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && !self.unix
    }

    /// True when `ip` is in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }

    /// True when forwarding headers from `peer` are believed.
    pub fn trusts(&self, peer: &PeerAddr) -> bool {
        match peer {
            PeerAddr::Ip(a) => self.contains(a.ip()),
            PeerAddr::Unix => self.unix,
            _ => false,
        }
    }

    /// Where a request with `headers` from `peer` comes from; `secure`: the connection is
    /// TLS.
    pub fn resolve(&self, peer: &PeerAddr, secure: bool, headers: &Headers) -> Origin {
        let direct = Origin {
            client_ip: peer.ip().map(|ip| ip.to_canonical()),
            scheme: if secure { "https" } else { "http" },
            host: headers.get("host").map(str::to_owned),
        };
        if !self.trusts(peer) {
            return direct;
        }
        if headers.get("forwarded").is_some() {
            return match forwarded::parse_forwarded(headers.get_all("forwarded")) {
                Some(elements) => self.believe_forwarded(direct, &elements),
                None => direct,
            };
        }
        let mut origin = direct;
        let nodes = forwarded::parse_x_forwarded_for(headers.get_all("x-forwarded-for"));
        match self.client_hop(&nodes) {
            Some(i) => origin.client_ip = nodes[i].ip().or(origin.client_ip),
            // Every hop is a trusted address: the first of them is the client.
            None => origin.client_ip = nodes.first().and_then(Node::ip).or(origin.client_ip),
        }
        if let Some(p) = last_value(headers, "x-forwarded-proto").and_then(forwarded::scheme) {
            origin.scheme = if p == "https" { "https" } else { "http" };
        }
        if let Some(h) = last_value(headers, "x-forwarded-host").and_then(forwarded::host) {
            origin.host = Some(h);
        }
        origin
    }

    /// The index of the hop that is the client, walking from the right past trusted ones;
    /// `None` when every hop is a trusted address.
    fn client_hop(&self, nodes: &[Node]) -> Option<usize> {
        for (i, n) in nodes.iter().enumerate().rev() {
            match n.ip() {
                Some(ip) if self.contains(ip) => continue,
                Some(_) => return Some(i),
                // Not an address: the walk ends at the nearest known one.
                None => return Some(if i + 1 < nodes.len() { i + 1 } else { i }),
            }
        }
        None
    }

    fn believe_forwarded(&self, mut origin: Origin, elements: &[ForwardedElement]) -> Origin {
        let nodes: Vec<Node> = elements.iter().map(|e| e.for_node.unwrap_or(Node::Unknown)).collect();
        let chosen = match self.client_hop(&nodes) {
            Some(i) => i,
            None if nodes.is_empty() => return origin,
            None => 0,
        };
        if let Some(ip) = nodes[chosen].ip() {
            origin.client_ip = Some(ip);
        }
        // The element that names the client was added by the proxy it talked to: its
        // proto and host are what the client used.
        let e = &elements[chosen];
        if let Some(p) = &e.proto {
            origin.scheme = if p == "https" { "https" } else { "http" };
        }
        if let Some(h) = &e.host {
            origin.host = Some(h.clone());
        }
        origin
    }
}

/// The last entry of a comma-separated header (set by the proxy nearest the server).
fn last_value<'a>(headers: &'a Headers, name: &'a str) -> Option<&'a str> {
    headers.get_all(name).flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty()).last()
}

#[cfg(test)]
mod tests;
