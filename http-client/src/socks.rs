//! SOCKS proxies: the handshake that turns a TCP connection to the proxy into a tunnel to the
//! target, before any HTTP (or TLS) goes through it.
//!
//! ```text
//!   SOCKS5 (RFC 1928)                          SOCKS4a
//!   greeting: 5, methods (0 none; 2 user/pw)   request: 4, 1 (CONNECT), port, 0.0.0.1,
//!   choice:   5, method (255: none fits)                user id, 0, host name, 0
//!   [RFC 1929: 1, user, password → 1, status]  reply:   0, 90 (granted) or 91..93, port, ip
//!   request:  5, 1 (CONNECT), 0, address, port
//!   reply:    5, 0 (succeeded) or 1..8, 0, address, port
//! ```
//!
//! `socks5h` and `socks4a` hand the host name to the proxy, which looks it up (no name lookup
//! leaves this machine); `socks5` and `socks4` look it up here and hand over an address.
//! Every read is bounded by the connect timeout, and every field read from the proxy by its
//! size in the protocol.

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::conn::Timing;
use crate::dial::{lookup, Overrides};
use crate::error::{Error, Result, TimeoutKind};

/// The kinds of SOCKS proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Socks {
    /// SOCKS5; `remote_dns`: the proxy looks the name up (`socks5h`).
    V5 { remote_dns: bool },
    /// SOCKS4; `remote_dns`: the proxy looks the name up (`socks4a`).
    V4 { remote_dns: bool },
}

impl Socks {
    /// The URL scheme of this kind.
    pub(crate) fn scheme(self) -> &'static str {
        match self {
            Socks::V5 { remote_dns: false } => "socks5",
            Socks::V5 { remote_dns: true } => "socks5h",
            Socks::V4 { remote_dns: false } => "socks4",
            Socks::V4 { remote_dns: true } => "socks4a",
        }
    }
}

/// What the handshake needs to know.
pub(crate) struct Handshake<'a> {
    pub(crate) kind: Socks,
    /// The proxy as `host:port`, for errors.
    pub(crate) proxy: &'a str,
    /// User name and password (SOCKS5), or the user id (SOCKS4: the name alone).
    pub(crate) credentials: Option<(&'a [u8], &'a [u8])>,
    /// The target's host (IPv6 addresses with or without brackets) and port.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    /// Addresses given for host names (for `socks5` and `socks4`, which look names up here).
    pub(crate) resolve: &'a Overrides,
}

/// Asks the proxy at the other end of `tcp` for a tunnel to the target.
pub(crate) fn connect(tcp: &mut TcpStream, h: &Handshake<'_>) -> Result<()> {
    let timing = Timing { read: h.connect_timeout, write: h.connect_timeout, deadline: h.deadline };
    let wait = timing.effective(h.connect_timeout).map_err(Error::Timeout)?;
    tcp.set_read_timeout(wait)?;
    tcp.set_write_timeout(wait)?;
    let host = h.host.trim_start_matches('[').trim_end_matches(']');
    let target = match (host.parse::<IpAddr>(), h.kind) {
        (Ok(ip), _) => Target::Ip(ip),
        (Err(_), Socks::V5 { remote_dns: true } | Socks::V4 { remote_dns: true }) => Target::Name(host),
        (Err(_), _) => Target::Ip(lookup_here(host, h, &timing)?),
    };
    let io_err = |e: io::Error| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            Error::Timeout(timing.kind_of(TimeoutKind::Connect))
        }
        io::ErrorKind::UnexpectedEof => socks_error(h, "the proxy closed the connection".to_owned()),
        _ => Error::Io(e),
    };
    // The whole exchange, not each read, is held to the wait: a proxy that trickles its
    // answer a byte at a time cannot stretch it.
    let until = wait.map(|w| Instant::now() + w);
    let mut bounded = Bounded { tcp: &mut *tcp, until };
    let res = match h.kind {
        Socks::V5 { .. } => v5(&mut bounded, h, &target),
        Socks::V4 { .. } => v4(&mut bounded, h, &target),
    };
    match res {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => return Err(refusal),
        Err(e) => return Err(io_err(e)),
    }
    // The connection's own timeouts are set again by whoever uses it next.
    tcp.set_read_timeout(None)?;
    tcp.set_write_timeout(None)?;
    Ok(())
}

/// The proxy's connection with one deadline for the whole handshake: each read and write
/// may wait only for what is left of it.
struct Bounded<'a> {
    tcp: &'a mut TcpStream,
    until: Option<Instant>,
}

impl Bounded<'_> {
    /// Sets the socket's timeouts to what is left until the deadline.
    fn arm(&mut self) -> io::Result<()> {
        let Some(until) = self.until else { return Ok(()) };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.set_write_timeout(Some(left))
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.read(buf)
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Where the tunnel goes.
enum Target<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

fn socks_error(h: &Handshake<'_>, message: String) -> Error {
    Error::Socks { proxy: h.proxy.to_owned(), message }
}

/// The first address of `host`, looked up here (`socks5`, `socks4`: IPv4 only).
fn lookup_here(host: &str, h: &Handshake<'_>, timing: &Timing) -> Result<IpAddr> {
    let wait = timing.effective(h.connect_timeout).map_err(Error::Timeout)?;
    let addrs = lookup(host, h.port, h.resolve, wait)?;
    let v4_only = matches!(h.kind, Socks::V4 { .. });
    addrs.iter().map(|a| a.ip()).find(|ip| !v4_only || ip.is_ipv4()).ok_or_else(|| Error::Resolve {
        host: host.to_owned(),
        proxy: false,
        source: io::Error::new(io::ErrorKind::NotFound, "no IPv4 address, which socks4 needs"),
    })
}

/// The SOCKS5 handshake. The outer error is the connection's, the inner one the proxy's no.
fn v5(tcp: &mut Bounded<'_>, h: &Handshake<'_>, target: &Target<'_>) -> io::Result<Result<()>> {
    let greeting: &[u8] = if h.credentials.is_some() { &[5, 2, 0, 2] } else { &[5, 1, 0] };
    tcp.write_all(greeting)?;
    let mut choice = [0u8; 2];
    tcp.read_exact(&mut choice)?;
    if choice[0] != 5 {
        return Ok(Err(socks_error(h, "the proxy does not speak SOCKS5".to_owned())));
    }
    match (choice[1], h.credentials) {
        (0, _) => {}
        (2, Some((user, password))) => {
            // RFC 1929.
            let (u, p) = (user, password);
            let (Ok(ulen), Ok(plen)) = (u8::try_from(u.len()), u8::try_from(p.len())) else {
                return Ok(Err(socks_error(h, "a user name or password longer than 255 bytes".to_owned())));
            };
            let mut auth = Vec::with_capacity(3 + u.len() + p.len());
            auth.extend_from_slice(&[1, ulen]);
            auth.extend_from_slice(u);
            auth.push(plen);
            auth.extend_from_slice(p);
            tcp.write_all(&auth)?;
            let mut status = [0u8; 2];
            tcp.read_exact(&mut status)?;
            if status[1] != 0 {
                return Ok(Err(socks_error(h, "the proxy refused the user name and password".to_owned())));
            }
        }
        (2, None) => {
            return Ok(Err(socks_error(h, "the proxy wants a user name and password".to_owned())));
        }
        (255, _) if h.credentials.is_none() => {
            return Ok(Err(socks_error(h, "the proxy wants authentication".to_owned())));
        }
        (255, _) => {
            return Ok(Err(socks_error(h, "the proxy takes no user name and password".to_owned())));
        }
        (m, _) => return Ok(Err(socks_error(h, format!("the proxy chose an unknown method {m}")))),
    }
    let mut request = vec![5, 1, 0];
    match target {
        Target::Ip(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Target::Ip(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Target::Name(name) => {
            let Ok(len) = u8::try_from(name.len()) else {
                return Ok(Err(socks_error(h, "a host name longer than 255 bytes".to_owned())));
            };
            request.extend_from_slice(&[3, len]);
            request.extend_from_slice(name.as_bytes());
        }
    }
    request.extend_from_slice(&h.port.to_be_bytes());
    tcp.write_all(&request)?;
    let mut reply = [0u8; 4];
    tcp.read_exact(&mut reply)?;
    if reply[0] != 5 {
        return Ok(Err(socks_error(h, "the proxy's reply is not SOCKS5".to_owned())));
    }
    if reply[1] != 0 {
        return Ok(Err(socks_error(h, format!("the proxy refused: {}", v5_reply(reply[1])))));
    }
    // The bound address, which the client does not need: read past it.
    let rest = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            tcp.read_exact(&mut len)?;
            usize::from(len[0]) + 2
        }
        t => return Ok(Err(socks_error(h, format!("the proxy's reply has an unknown address type {t}")))),
    };
    let mut bound = [0u8; 257];
    tcp.read_exact(&mut bound[..rest])?;
    Ok(Ok(()))
}

/// What a SOCKS5 reply code means (RFC 1928 §6).
fn v5_reply(code: u8) -> String {
    let what = match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown reply",
    };
    format!("{what} (reply {code})")
}

/// The SOCKS4 and SOCKS4a handshake.
fn v4(tcp: &mut Bounded<'_>, h: &Handshake<'_>, target: &Target<'_>) -> io::Result<Result<()>> {
    let user = h.credentials.map_or(&[][..], |(u, _)| u);
    if user.len() > 255 || user.contains(&0) {
        return Ok(Err(socks_error(h, "a user id longer than 255 bytes or with a NUL".to_owned())));
    }
    let mut request = vec![4, 1];
    request.extend_from_slice(&h.port.to_be_bytes());
    match target {
        Target::Ip(IpAddr::V4(ip)) => request.extend_from_slice(&ip.octets()),
        Target::Ip(IpAddr::V6(_)) => {
            return Ok(Err(socks_error(h, "SOCKS4 cannot reach an IPv6 address".to_owned())));
        }
        // SOCKS4a: an address 0.0.0.x (x not 0) says that a name follows.
        Target::Name(_) => request.extend_from_slice(&[0, 0, 0, 1]),
    }
    request.extend_from_slice(user);
    request.push(0);
    if let Target::Name(name) = target {
        if name.len() > 255 {
            return Ok(Err(socks_error(h, "a host name longer than 255 bytes".to_owned())));
        }
        request.extend_from_slice(name.as_bytes());
        request.push(0);
    }
    tcp.write_all(&request)?;
    let mut reply = [0u8; 8];
    tcp.read_exact(&mut reply)?;
    if reply[0] != 0 {
        return Ok(Err(socks_error(h, "the proxy's reply is not SOCKS4".to_owned())));
    }
    match reply[1] {
        90 => Ok(Ok(())),
        91 => Ok(Err(socks_error(h, "the proxy rejected the request (reply 91)".to_owned()))),
        92 | 93 => {
            Ok(Err(socks_error(h, format!("the proxy could not confirm the user id (reply {})", reply[1]))))
        }
        code => Ok(Err(socks_error(h, format!("the proxy's reply has an unknown code {code}")))),
    }
}
