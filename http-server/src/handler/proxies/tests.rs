use super::*;

fn headers(fields: &[(&str, &str)]) -> Headers {
    let mut h = Headers::new();
    for (n, v) in fields {
        h.append(n, v).unwrap();
    }
    h
}

fn peer(s: &str) -> PeerAddr {
    PeerAddr::Ip(s.parse().unwrap())
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn ranges() {
    let r = IpRange::parse("10.0.0.0/8").unwrap();
    assert!(r.contains("10.255.0.1".parse().unwrap()));
    assert!(!r.contains("11.0.0.1".parse().unwrap()));
    assert!(r.contains("::ffff:10.1.1.1".parse().unwrap()), "IPv4-mapped");
    assert!(IpRange::parse("0.0.0.0/0").unwrap().contains("203.0.113.9".parse().unwrap()));
    assert!(!IpRange::parse("0.0.0.0/0").unwrap().contains("::1".parse().unwrap()));
    let v6 = IpRange::parse("fd00::/8").unwrap();
    assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
    assert!(IpRange::parse("[::1]").unwrap().contains("::1".parse().unwrap()));
    assert_eq!(IpRange::parse("192.0.2.1").unwrap().to_string(), "192.0.2.1/32");
    for bad in ["", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/+8", "host.example", "10.0.0.0/8/8"] {
        assert!(IpRange::parse(bad).is_err(), "{bad}");
    }
    assert!(TrustedProxies::parse("10.0.0.0/8, nope").unwrap_err().to_string().contains("nope"));
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_says() {
    let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let h = headers(&[
        ("Host", "real.example"),
        ("X-Forwarded-For", "1.2.3.4"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "spoofed.example"),
        ("Forwarded", "for=5.6.7.8;proto=https"),
    ]);
    let o = t.resolve(&peer("203.0.113.9:5000"), false, &h);
    assert_eq!(o, Origin { client_ip: ip("203.0.113.9"), scheme: "http", host: Some("real.example".into()) });
    // No trusted proxies at all: the same.
    assert_eq!(TrustedProxies::new().resolve(&peer("10.0.0.1:1"), true, &h).client_ip, ip("10.0.0.1"));
    assert_eq!(TrustedProxies::new().resolve(&peer("10.0.0.1:1"), true, &h).scheme, "https");
}

#[test]
fn x_forwarded_for_walks_past_trusted_hops() {
    let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let p = peer("10.0.0.1:1");
    let resolve = |xff: &str| t.resolve(&p, false, &headers(&[("X-Forwarded-For", xff)])).client_ip;
    assert_eq!(resolve("203.0.113.7"), ip("203.0.113.7"));
    // A client that prepends a spoofed address does not get past the first untrusted hop.
    assert_eq!(resolve("6.6.6.6, 203.0.113.7, 10.0.0.2"), ip("203.0.113.7"));
    // All trusted: the first is the client.
    assert_eq!(resolve("10.9.9.9, 10.0.0.2"), ip("10.9.9.9"));
    // A hop that is not an address: the nearest known one.
    assert_eq!(resolve("203.0.113.7, garbage, 10.0.0.2"), ip("10.0.0.2"));
    assert_eq!(resolve("garbage"), ip("10.0.0.1"));
    // Several lines are one list.
    let h = headers(&[("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "10.0.0.3")]);
    assert_eq!(t.resolve(&p, false, &h).client_ip, ip("203.0.113.7"));
}

#[test]
fn proto_and_host_from_trusted_proxies() {
    let t = TrustedProxies::loopback();
    let p = peer("127.0.0.1:9");
    let h = headers(&[
        ("Host", "backend:8080"),
        ("X-Forwarded-For", "198.51.100.1"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "shop.example"),
    ]);
    assert_eq!(
        t.resolve(&p, false, &h),
        Origin { client_ip: ip("198.51.100.1"), scheme: "https", host: Some("shop.example".into()) }
    );
    let bad =
        headers(&[("Host", "backend"), ("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "a/b")]);
    let o = t.resolve(&p, true, &bad);
    assert_eq!((o.scheme, o.host.as_deref()), ("https", Some("backend")));
}

#[test]
fn forwarded_wins_and_its_element_gives_proto_and_host() {
    let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let p = peer("10.0.0.1:1");
    let h = headers(&[
        ("Host", "internal"),
        ("X-Forwarded-For", "9.9.9.9"),
        ("Forwarded", r#"for=192.0.2.60;proto=https;host=shop.example, for="10.0.0.2";proto=http"#),
    ]);
    let o = t.resolve(&p, false, &h);
    assert_eq!(o, Origin { client_ip: ip("192.0.2.60"), scheme: "https", host: Some("shop.example".into()) });
    let v6 = headers(&[("Forwarded", r#"for="[2001:db8::17]:4711""#)]);
    assert_eq!(t.resolve(&p, false, &v6).client_ip, ip("2001:db8::17"));
    // Malformed: nothing is believed, X-Forwarded-For included.
    let broken = headers(&[("Forwarded", "for=\"192.0.2.60"), ("X-Forwarded-For", "9.9.9.9")]);
    assert_eq!(t.resolve(&p, false, &broken).client_ip, ip("10.0.0.1"));
    // Obfuscated client: the nearest known address.
    let hidden = headers(&[("Forwarded", "for=_hidden, for=10.0.0.5")]);
    assert_eq!(t.resolve(&p, false, &hidden).client_ip, ip("10.0.0.5"));
}

#[test]
fn unix_peers_only_when_asked() {
    let h = headers(&[("X-Forwarded-For", "198.51.100.1")]);
    assert_eq!(TrustedProxies::loopback().resolve(&PeerAddr::Unix, false, &h).client_ip, None);
    let t = TrustedProxies::new().with_unix_peers();
    assert_eq!(t.resolve(&PeerAddr::Unix, false, &h).client_ip, ip("198.51.100.1"));
}
