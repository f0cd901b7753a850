//! Forwarding headers and trusted proxies: `parse_forwarded`, `parse_x_forwarded_for` and
//! `TrustedProxies::resolve` on any header values, from a trusted and an untrusted peer.
//!
//! Input: lines. Line 0 is a list of trusted ranges (read by `TrustedProxies::parse`, or
//! `10.0.0.0/8` when it does not parse); each later line is `name: value`, a header field.
//!
//! Invariants:
//! - never a panic; at most `MAX_HOPS` elements or nodes;
//! - from a peer that is not trusted the origin is the peer's address, the connection's
//!   scheme and the `Host` header, whatever else the fields say;
//! - from a trusted peer the client is the peer, or an address named in the fields; the
//!   scheme is `http` or `https`; a host is at most 255 bytes of host characters.

#![no_main]

use http_server::{parse_forwarded, parse_x_forwarded_for, PeerAddr, TrustedProxies};
use http_utils::Headers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let trusted = TrustedProxies::parse(lines.next().unwrap_or(""))
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| TrustedProxies::parse("10.0.0.0/8").unwrap());
    let mut headers = Headers::new();
    for line in lines.take(16) {
        if let Some((n, v)) = line.split_once(':') {
            let _ = headers.append(n.trim(), v.trim());
        }
    }
    let mut named: Vec<std::net::IpAddr> = Vec::new();
    if let Some(elements) = parse_forwarded(headers.get_all("forwarded")) {
        assert!(elements.len() <= 64);
        named.extend(elements.iter().filter_map(|e| e.for_node.and_then(|n| n.ip())));
    }
    let nodes = parse_x_forwarded_for(headers.get_all("x-forwarded-for"));
    assert!(nodes.len() <= 64);
    named.extend(nodes.iter().filter_map(|n| n.ip()));

    let outsider = PeerAddr::Ip("203.0.113.250:4000".parse().unwrap());
    if !trusted.trusts(&outsider) {
        let o = trusted.resolve(&outsider, false, &headers);
        assert_eq!(o.client_ip, Some("203.0.113.250".parse().unwrap()));
        assert_eq!(o.scheme, "http");
        assert_eq!(o.host.as_deref(), headers.get("host"));
    }
    let insider = PeerAddr::Ip("10.1.2.3:4000".parse().unwrap());
    let o = trusted.resolve(&insider, true, &headers);
    assert!(o.scheme == "http" || o.scheme == "https");
    if let Some(h) = &o.host {
        if Some(h.as_str()) != headers.get("host") {
            assert!(h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b)));
        }
    }
    let ip = o.client_ip.expect("a TCP peer always gives an address");
    if ip != "10.1.2.3".parse::<std::net::IpAddr>().unwrap() {
        assert!(trusted.trusts(&insider) && named.contains(&ip), "{ip} from nowhere");
    }
});
