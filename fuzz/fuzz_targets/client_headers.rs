//! The client's parsers of configuration text a program may take from outside: proxy URLs
//! (`Proxy::new`), the proxy environment (`ProxyEnv::from_lookup`, `no_proxy` lists) and host
//! patterns (`ProxyPattern`). The `Keep-Alive`, `Retry-After` and `Location` handling of the
//! client is internal and reached through the socket tests instead.
//!
//! Input: split at `\n` into a proxy URL, a `no_proxy` value, a host name and a port.
//!
//! Invariants:
//! - no panic;
//! - a parsed proxy has a non-empty host; its `Debug` output shows host, port and whether
//!   there are credentials, never the credentials;
//!   `host:port` parses again to the same host and port, without credentials;
//! - `no_proxy=*` bypasses every host; a `no_proxy` list bypasses a host exactly when the list
//!   with the host's ASCII case changed does, and when a trailing dot is added to the host;
//!   a list entry that is a plain host name bypasses that host and its subdomains;
//! - `proxy_for` is `None` exactly when the list bypasses the host, for http and https alike
//!   (the proxy URL being set for both), and for any other scheme;
//! - lower-case variables win over upper-case ones, and `HTTP_PROXY` is ignored under CGI.

#![no_main]

use http_client::{Proxy, ProxyEnv, ProxyPattern};
use libfuzzer_sys::fuzz_target;

fn env(vars: &[(&str, &str)]) -> ProxyEnv {
    ProxyEnv::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
}

fn is_plain_host(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let proxy_url = fields.next().unwrap_or("");
    let no_proxy = fields.next().unwrap_or("");
    let host = fields.next().unwrap_or("example.com");
    let port = fields.next().and_then(|p| p.parse::<u16>().ok()).unwrap_or(80);

    // Proxy URLs.
    if let Ok(p) = Proxy::new(proxy_url) {
        assert!(!p.host().is_empty());
        // Debug shows the host, port and whether there are credentials: nothing else.
        let shown = format!("{p:?}");
        let want = format!(
            "Proxy {{ host: {:?}, port: {}, credentials: {} }}",
            p.host(),
            p.port(),
            p.has_credentials()
        );
        assert_eq!(shown, want);
        let again = Proxy::new(&format!("{}:{}", p.host(), p.port()))
            .unwrap_or_else(|e| panic!("{}:{} from {proxy_url:?}: {e}", p.host(), p.port()));
        assert_eq!((again.host(), again.port()), (p.host(), p.port()), "{proxy_url:?}");
        assert!(!again.has_credentials());
    }

    // Host patterns.
    let pattern = ProxyPattern::from(host);
    assert!(pattern.matches(host));
    assert!(pattern.matches(&host.to_ascii_uppercase()));
    assert!(ProxyPattern::Any.matches(no_proxy));
    assert!(!ProxyPattern::from(false).matches(host) || host.trim_matches(['[', ']']).is_empty());

    // The environment.
    let proxy = "http://proxy.test:3128";
    let e = env(&[("http_proxy", proxy), ("https_proxy", proxy), ("no_proxy", no_proxy)]);
    let bypass = e.bypasses(host, port);
    assert_eq!(bypass, e.bypasses(&host.to_ascii_uppercase(), port), "{no_proxy:?} {host:?}");
    assert_eq!(bypass, e.bypasses(&host.to_ascii_lowercase(), port), "{no_proxy:?} {host:?}");
    if !host.is_empty() && !host.ends_with(['.', ']']) {
        assert_eq!(bypass, e.bypasses(&format!("{host}."), port), "{no_proxy:?} {host:?}");
    }
    for scheme in ["http", "https"] {
        assert_eq!(e.proxy_for(scheme, host, port).is_none(), bypass, "{scheme} {no_proxy:?} {host:?}");
    }
    assert!(e.proxy_for("ftp", host, port).is_none());
    assert!(env(&[("http_proxy", proxy), ("no_proxy", "*")]).bypasses(host, port));
    if is_plain_host(host) {
        let own = env(&[("no_proxy", &format!("{no_proxy},{host}"))]);
        assert!(own.bypasses(host, port), "{no_proxy:?},{host} does not bypass {host}");
        assert!(own.bypasses(&format!("sub.{host}"), port));
        assert!(env(&[("no_proxy", &format!(".{host}:{port}"))]).bypasses(&format!("a.{host}"), port));
    }

    // Which variable wins.
    let upper_only = env(&[("HTTP_PROXY", proxy_url), ("no_proxy", no_proxy)]);
    let cgi = env(&[("HTTP_PROXY", proxy_url), ("REQUEST_METHOD", "GET")]);
    assert!(cgi.proxy_for("http", host, port).is_none());
    let lower_wins = env(&[("http_proxy", proxy), ("HTTP_PROXY", proxy_url)]);
    if let Some(p) = lower_wins.proxy_for("http", host, port) {
        assert_eq!((p.host(), p.port()), ("proxy.test", 3128));
    }
    if let (Ok(p), false) = (Proxy::new(proxy_url), upper_only.bypasses(host, port)) {
        if !proxy_url.trim().is_empty() {
            assert_eq!(upper_only.proxy_for("http", host, port), Some(&p));
        }
    }
});
