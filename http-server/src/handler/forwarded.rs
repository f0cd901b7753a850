//! What proxies say about a request: the `Forwarded` header (RFC 7239) and the older
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`. Pure parsing of untrusted
//! text; whether any of it is believed is decided by [`TrustedProxies`](crate::TrustedProxies).
//!
//! ```text
//!   Forwarded: for=192.0.2.60;proto=https;host=example.com, for="[2001:db8::17]:4711"
//!              └──────────── element (one per proxy) ─────┘  └─ node: address, port ─┘
//! ```
//!
//! A malformed `Forwarded` value (an unclosed quote, a pair without `=`, a name or token
//! with characters RFC 7230 does not allow) makes [`parse_forwarded`] answer `None`, so the
//! whole header is disregarded rather than half believed. At most 64 (`MAX_HOPS`) elements are
//! read.

use std::net::{IpAddr, SocketAddr};

/// The most elements (hops) read from forwarding headers; those beyond are ignored.
pub const MAX_HOPS: usize = 64;

/// One proxy's report (an element of `Forwarded`): who its client was, and the scheme and
/// host that client asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardedElement {
    /// `for`: the client of the proxy that added the element.
    pub for_node: Option<Node>,
    /// `proto`: the scheme the client used (`http` or `https`, lower-cased; others dropped).
    pub proto: Option<String>,
    /// `host`: the `Host` the client sent (dropped unless it looks like a host and port).
    pub host: Option<String>,
}

/// A node of `Forwarded`'s `for` (or one entry of `X-Forwarded-For`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// An address, with the port if one was given.
    Ip(IpAddr, Option<u16>),
    /// `unknown`, an obfuscated identifier (`_hidden`), or something that is not an address.
    Unknown,
}

impl Node {
    /// The address, if the node names one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Node::Ip(ip, _) => Some(*ip),
            Node::Unknown => None,
        }
    }

    /// Reads a node: `192.0.2.60`, `192.0.2.60:80`, `[2001:db8::1]`, `[2001:db8::1]:80`, a bare
    /// `2001:db8::1` (as `X-Forwarded-For` has it); anything else is `Unknown`.
    pub fn parse(s: &str) -> Node {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Node::Ip(ip.to_canonical(), None);
        }
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Node::Ip(sa.ip().to_canonical(), Some(sa.port()));
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if let Ok(ip) = inner.parse::<std::net::Ipv6Addr>() {
                return Node::Ip(IpAddr::V6(ip).to_canonical(), None);
            }
        }
        Node::Unknown
    }
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits `s` at `sep` outside quoted strings; `None` for an unclosed quote.
fn split_outside_quotes(s: &str, sep: u8) -> Option<Vec<&str>> {
    let bytes = s.as_bytes();
    let (mut parts, mut start, mut quoted, mut i) = (Vec::new(), 0, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b if b == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted {
        return None;
    }
    parts.push(&s[start.min(s.len())..]);
    Some(parts)
}

/// A value: a token, or a quoted string with its escapes undone.
fn value(v: &str) -> Option<String> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c if c.is_control() => return None,
                c => out.push(c),
            }
        }
        Some(out)
    } else if !v.is_empty() && v.bytes().all(is_tchar) {
        Some(v.to_owned())
    } else {
        None
    }
}

/// A scheme worth believing: `http` or `https`.
pub(crate) fn scheme(v: &str) -> Option<String> {
    let v = v.trim().to_ascii_lowercase();
    matches!(v.as_str(), "http" | "https").then_some(v)
}

/// A `Host` worth believing: a name, an IPv4 address or a bracketed IPv6 one, with an
/// optional port, at most 255 bytes.
pub(crate) fn host(v: &str) -> Option<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 255
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        && !v.starts_with(':');
    ok.then(|| v.to_owned())
}

/// Parses the `Forwarded` field values (each line in order): the elements, at most
/// 64 (`MAX_HOPS`); `None` when any value is malformed.
pub fn parse_forwarded<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Vec<ForwardedElement>> {
    let mut out = Vec::new();
    for line in values {
        for element in split_outside_quotes(line, b',')? {
            if element.trim().is_empty() {
                continue;
            }
            if out.len() == MAX_HOPS {
                return Some(out);
            }
            let mut e = ForwardedElement::default();
            for pair in split_outside_quotes(element, b';')? {
                let pair = pair.trim();
                if pair.is_empty() {
                    continue;
                }
                let (name, v) = pair.split_once('=')?;
                if name.is_empty() || !name.bytes().all(is_tchar) {
                    return None;
                }
                let v = value(v)?;
                match name.to_ascii_lowercase().as_str() {
                    "for" => e.for_node = Some(Node::parse(&v)),
                    "proto" => e.proto = scheme(&v),
                    "host" => e.host = host(&v),
                    _ => {}
                }
            }
            out.push(e);
        }
    }
    Some(out)
}

/// Parses `X-Forwarded-For` values (each line in order, entries separated by commas): at
/// most 64 (`MAX_HOPS`) nodes.
pub fn parse_x_forwarded_for<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Node> {
    values
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(MAX_HOPS)
        .map(Node::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Node {
        Node::Ip(s.parse().unwrap(), None)
    }

    #[test]
    fn the_rfc_examples() {
        let e = parse_forwarded([r#"for="_gazonk""#]).unwrap();
        assert_eq!(e[0].for_node, Some(Node::Unknown));
        let e = parse_forwarded([r#"For="[2001:db8:cafe::17]:4711""#]).unwrap();
        assert_eq!(e[0].for_node, Some(Node::Ip("2001:db8:cafe::17".parse().unwrap(), Some(4711))));
        let e = parse_forwarded(["for=192.0.2.60;proto=http;by=203.0.113.43"]).unwrap();
        assert_eq!(e[0].for_node, Some(ip("192.0.2.60")));
        assert_eq!(e[0].proto.as_deref(), Some("http"));
        let e = parse_forwarded(["for=192.0.2.43, for=198.51.100.17"]).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].for_node, Some(ip("198.51.100.17")));
        let e = parse_forwarded([r#"for=unknown;host="example.com:8443";proto=HTTPS"#]).unwrap();
        assert_eq!(e[0].for_node, Some(Node::Unknown));
        assert_eq!(e[0].host.as_deref(), Some("example.com:8443"));
        assert_eq!(e[0].proto.as_deref(), Some("https"));
    }

    #[test]
    fn several_lines_and_quoted_separators() {
        let e = parse_forwarded([r#"for="a,b";proto=https"#, "for=10.0.0.1"]).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].for_node, Some(Node::Unknown));
        assert_eq!(e[1].for_node, Some(ip("10.0.0.1")));
        // A port on an IPv4 node is quoted (`:` is not a token character).
        let e = parse_forwarded([r#"for="192.0.2.1:80""#]).unwrap();
        assert_eq!(e[0].for_node, Some(Node::Ip("192.0.2.1".parse().unwrap(), Some(80))));
        assert_eq!(parse_forwarded(["for=192.0.2.1:80"]), None);
    }

    #[test]
    fn malformed_values_are_refused_whole() {
        for bad in [
            r#"for="192.0.2.1"#,
            "for",
            "for=",
            "f o r=1.2.3.4",
            "for=1.2.3.4 5",
            "for=[::1]",
            r#"for="a"b""#,
            "=1.2.3.4",
        ] {
            assert_eq!(parse_forwarded([bad]), None, "{bad}");
        }
        assert_eq!(parse_forwarded(["for=1.2.3.4", "for=\"x"]), None);
    }

    #[test]
    fn unbelievable_proto_and_host_are_dropped() {
        let e = parse_forwarded([r#"proto=gopher;host="a b""#]).unwrap();
        assert_eq!((e[0].proto.as_deref(), e[0].host.as_deref()), (None, None));
        assert_eq!(host("[::1]:8080").as_deref(), Some("[::1]:8080"));
        assert_eq!(host("evil.example/path"), None);
        assert_eq!(host(&"a".repeat(256)), None);
    }

    #[test]
    fn x_forwarded_for_lists() {
        let n =
            parse_x_forwarded_for(["203.0.113.7, 10.0.0.1", " ::ffff:10.0.0.2 ,,[2001:db8::1]:443, junk"]);
        assert_eq!(
            n,
            vec![
                ip("203.0.113.7"),
                ip("10.0.0.1"),
                ip("10.0.0.2"),
                Node::Ip("2001:db8::1".parse().unwrap(), Some(443)),
                Node::Unknown
            ]
        );
        let many = vec!["1.1.1.1"; 100].join(",");
        assert_eq!(parse_x_forwarded_for([many.as_str()]).len(), MAX_HOPS);
    }

    #[test]
    fn at_most_max_hops_elements() {
        let many = vec!["for=1.1.1.1"; 100].join(",");
        assert_eq!(parse_forwarded([many.as_str()]).unwrap().len(), MAX_HOPS);
    }
}
