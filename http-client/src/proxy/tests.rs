use super::*;

#[test]
fn base64_vectors() {
    for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(i.as_bytes()), o);
    }
    assert_eq!(base64(b"Aladdin:open sesame"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

#[test]
fn proxy_urls() {
    let p = Proxy::new("127.0.0.1:8080").unwrap();
    assert_eq!((p.host(), p.port(), p.has_credentials()), ("127.0.0.1", 8080, false));
    let p = Proxy::new("http://u:p@h").unwrap();
    assert_eq!(p.port(), 80);
    assert_eq!(p.authorization(), Some("Basic dTpw"));
    assert!(!format!("{p:?}").contains("dTpw"));
    #[cfg(feature = "tls")]
    assert_eq!(Proxy::new("https://h").unwrap().port(), 443);
    #[cfg(not(feature = "tls"))]
    assert!(matches!(Proxy::new("https://h"), Err(Error::FeatureOff { feature: "tls", .. })));
    assert!(Proxy::new("ftp://h").is_err());
    assert!(Proxy::new("http://").is_err());
    assert!(Proxy::new("socks6://h").is_err());
    let s = Proxy::new("socks5://u%20x:p%40w@[::1]").unwrap();
    assert_eq!((s.host(), s.port(), s.scheme()), ("[::1]", 1080, "socks5"));
    assert_eq!(s.login(), Some((&b"u x"[..], &b"p@w"[..])));
    assert_eq!(s.authorization(), None);
    assert!(!format!("{s:?}").contains("p@w"));
    // Credentials are bytes (RFC 1929): an escape that is not UTF-8 goes as it is.
    let raw = Proxy::new("socks5://%FF:p@h").unwrap();
    assert_eq!(raw.login(), Some((&[0xff][..], &b"p"[..])));
    let s4 = Proxy::new("socks4a://someone@h:9050").unwrap();
    assert_eq!((s4.port(), s4.login()), (9050, Some((&b"someone"[..], &b""[..]))));
    assert_ne!(Proxy::new("socks5://h").unwrap().pool_id(), Proxy::new("socks5h://h").unwrap().pool_id());
    assert_ne!(Proxy::new("socks5://h").unwrap().pool_id(), Proxy::new("http://h:1080").unwrap().pool_id());
}

#[test]
fn env_rules() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        ProxyEnv::from_lookup(move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))
    };
    let env = vars(&[("HTTP_PROXY", "http://up:1"), ("https_proxy", "lo:2"), ("ALL_PROXY", "all:3")]);
    assert_eq!(env.proxy_for("http", "x", 80).unwrap().unwrap().port(), 1);
    assert_eq!(env.proxy_for("https", "x", 443).unwrap().unwrap().port(), 2);
    // Under CGI the upper-case HTTP_PROXY is ignored; all_proxy still applies.
    let env = vars(&[("HTTP_PROXY", "http://up:1"), ("REQUEST_METHOD", "GET"), ("ALL_PROXY", "all:3")]);
    assert_eq!(env.proxy_for("http", "x", 80).unwrap().unwrap().port(), 3);
    let env = vars(&[("REQUEST_METHOD", "GET"), ("http_proxy", "lo:4")]);
    assert_eq!(env.proxy_for("http", "x", 80).unwrap().unwrap().port(), 4);
    // Lower case wins.
    let env = vars(&[("http_proxy", "lo:5"), ("HTTP_PROXY", "up:6")]);
    assert_eq!(env.proxy_for("http", "x", 80).unwrap().unwrap().port(), 5);
}

#[test]
fn no_proxy_rules() {
    let env = ProxyEnv::from_lookup(|n| match n {
        "all_proxy" => Some("p:1".into()),
        "NO_PROXY" => Some("localhost, .corp.example,*.wild,10.0.0.1,other:8080,[::1]".into()),
        _ => None,
    });
    for direct in ["localhost", "LOCALHOST", "a.corp.example", "corp.example", "x.wild", "10.0.0.1", "[::1]"]
    {
        assert!(env.bypasses(direct, 80), "{direct}");
    }
    assert!(env.bypasses("other", 8080));
    for proxied in ["notlocalhost", "corp.example.com", "10.0.0.2", "other"] {
        assert!(!env.bypasses(proxied, 80), "{proxied}");
    }
    let star = ProxyEnv::from_lookup(|n| (n == "no_proxy").then(|| "*".to_string()));
    assert!(star.bypasses("anything", 1));
}

#[test]
fn no_proxy_ranges() {
    let env = ProxyEnv::from_lookup(|n| {
        (n == "no_proxy").then(|| "10.0.0.0/8, 192.168.1.0/24,fd00::/8,[2001:db8::]/32,0.0.0.0/0x".into())
    });
    for direct in ["10.1.2.3", "192.168.1.200", "[fd12::1]", "2001:db8::5", "[::ffff:10.9.9.9]"] {
        assert!(env.bypasses(direct, 80), "{direct}");
    }
    for proxied in ["11.0.0.1", "192.168.2.1", "fe80::1", "10.example", "2001:db9::1"] {
        assert!(!env.bypasses(proxied, 80), "{proxied}");
    }
    let all = ProxyEnv::from_lookup(|n| (n == "NO_PROXY").then(|| "0.0.0.0/0".into()));
    assert!(all.bypasses("203.0.113.9", 1) && !all.bypasses("::1", 1));
}

#[test]
fn unusable_settings_fail_closed_naming_the_variable() {
    for (name, value) in [
        ("ALL_PROXY", "socks7://127.0.0.1:1080"),
        ("https_proxy", "gopher://proxy.example"),
        ("HTTPS_PROXY", "http://[::1"),
        ("all_proxy", "http://"),
    ] {
        let env = ProxyEnv::from_lookup(|n| (n == name).then(|| value.to_string()));
        let err = env.proxy_for("https", "example.com", 443).unwrap_err();
        assert!(matches!(err, Error::InvalidProxy(ref m) if m.starts_with(name)), "{name}: {err}");
        // Nothing of the value is echoed (it may hold a password).
        assert!(!err.to_string().contains("proxy.example"), "{err}");
        // A host that no_proxy covers is still reached directly.
        let env = ProxyEnv::from_lookup(|n| match n {
            n if n == name => Some(value.to_string()),
            "no_proxy" => Some("example.com".to_string()),
            _ => None,
        });
        assert!(env.proxy_for("https", "example.com", 443).unwrap().is_none());
    }
    // A broken https_proxy does not stop plain http requests that do not use it.
    let env = ProxyEnv::from_lookup(|n| (n == "https_proxy").then(|| "gopher://p".to_string()));
    assert!(env.proxy_for("http", "example.com", 80).unwrap().is_none());
}
