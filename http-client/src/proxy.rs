//! Forward proxies: what a proxy is, which requests go through which proxy, and the proxy
//! environment variables.
//!
//! Through an HTTP proxy, plain `http` requests go to the proxy with an absolute-form target
//! (`GET http://host/path HTTP/1.1`); `https` requests open a tunnel with `CONNECT host:443`
//! and run TLS with the origin server through it, so the proxy never sees the plaintext.
//! Through a SOCKS proxy, every request goes through a tunnel that the SOCKS handshake opens
//! (see `socks.rs`), in origin form as to the server itself.

use std::fmt;
use std::io::Read;
use std::net::IpAddr;

#[cfg(feature = "regex")]
use regex::Regex;

use http_utils::{write_request_head, Headers, Method, Version};

use crate::error::{Error, Result};
use crate::socks::Socks;

/// A forward proxy, from its URL:
///
/// | URL | proxy | default port |
/// | --- | --- | --- |
/// | `http://[user:password@]host[:port]`, or a bare `host:port` | HTTP (`CONNECT` tunnels for `https`); credentials sent as Basic `Proxy-Authorization` | 80 |
/// | `socks5://[user:password@]host[:port]` | SOCKS5, target names looked up here; credentials by RFC 1929 | 1080 |
/// | `socks5h://...` | SOCKS5, target names looked up by the proxy (no lookup leaves this machine) | 1080 |
/// | `socks4a://[user@]host[:port]` | SOCKS4a, names looked up by the proxy; the user is SOCKS4's user id | 1080 |
/// | `socks4://[user@]host[:port]` | SOCKS4, names looked up here (IPv4 only) | 1080 |
/// | `https://[user:password@]host[:port]` | HTTP over TLS to the proxy itself (its certificate checked by the client's TLS settings, for the proxy's host name); inside it as `http://` | 443 |
///
/// Other schemes are refused. [`Client::multi`](crate::Client::multi) does not go through
/// SOCKS or `https://` proxies (an [`Error::Unsupported`] for those requests).
///
/// ```
/// use http_client::Proxy;
/// let p = Proxy::new("http://alice:s%40fe@proxy.example:3128").unwrap();
/// assert_eq!(p.host(), "proxy.example");
/// assert_eq!(p.port(), 3128);
/// assert!(p.has_credentials());
/// let s = Proxy::new("socks5h://127.0.0.1").unwrap();
/// assert_eq!((s.scheme(), s.port(), s.is_socks()), ("socks5h", 1080, true));
/// let t = Proxy::new("https://proxy.example").unwrap();
/// assert_eq!((t.scheme(), t.port(), t.is_socks()), ("https", 443, false));
/// assert!(Proxy::new("ftp://proxy.example").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    /// `None` for an HTTP proxy.
    socks: Option<Socks>,
    /// TLS to the proxy itself (`https://`).
    tls: bool,
    host: String,
    port: u16,
    /// `Basic <base64(user:password)>` (HTTP), when the URL had credentials.
    authorization: Option<String>,
    /// The decoded user name and password (SOCKS), when the URL had credentials.
    login: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials are never printed.
        f.debug_struct("Proxy")
            .field("scheme", &self.scheme())
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.has_credentials())
            .finish()
    }
}

impl Proxy {
    /// Parses a proxy URL.
    ///
    /// # Errors
    /// [`Error::InvalidProxy`] for a malformed URL, a scheme other than those above, or a URL
    /// without a host; [`Error::FeatureOff`] for an `https://` proxy in a build without the
    /// `tls` feature.
    pub fn new(proxy_url: &str) -> Result<Proxy> {
        let s = proxy_url.trim();
        let full = if s.contains("://") { s.to_owned() } else { format!("http://{s}") };
        let url = url::Url::parse(&full).map_err(|e| Error::InvalidProxy(format!("{e}")))?;
        let tls = url.scheme() == "https";
        if tls && !cfg!(feature = "tls") {
            return Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// proxy" });
        }
        let socks = match url.scheme() {
            "http" | "https" => None,
            "socks5" => Some(Socks::V5 { remote_dns: false }),
            "socks5h" => Some(Socks::V5 { remote_dns: true }),
            "socks4" => Some(Socks::V4 { remote_dns: false }),
            "socks4a" => Some(Socks::V4 { remote_dns: true }),
            other => return Err(Error::InvalidProxy(format!("unsupported proxy scheme {other:?}"))),
        };
        let host =
            url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| Error::InvalidProxy("no host".into()))?;
        let port = url.port().unwrap_or(match (socks, tls) {
            (Some(_), _) => 1080,
            (None, true) => 443,
            (None, false) => 80,
        });
        let has_login = !url.username().is_empty() || url.password().is_some();
        // RFC 1929 credentials are bytes: decoded as such, not as text.
        let decode = |s: &str| http_utils::percent_decode_bytes(s.as_bytes());
        let (authorization, login) = match (has_login, socks) {
            (false, _) => (None, None),
            (true, None) => (Some(basic_credentials(url.username(), url.password().unwrap_or(""))), None),
            (true, Some(_)) => (None, Some((decode(url.username()), decode(url.password().unwrap_or(""))))),
        };
        Ok(Proxy { socks, tls, host: host.to_owned(), port, authorization, login })
    }

    /// The proxy's host name or address (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The kind of proxy, as its URL's scheme: `http`, `https`, `socks5`, `socks5h`, `socks4`
    /// or `socks4a`.
    pub fn scheme(&self) -> &'static str {
        match (self.socks, self.tls) {
            (Some(s), _) => s.scheme(),
            (None, true) => "https",
            (None, false) => "http",
        }
    }

    /// True for an `https://` proxy: the client speaks TLS with the proxy itself.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True for a SOCKS proxy.
    pub fn is_socks(&self) -> bool {
        self.socks.is_some()
    }

    /// True when requests through it carry credentials (`Proxy-Authorization`, or a SOCKS
    /// login).
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some() || self.login.is_some()
    }

    /// The `Proxy-Authorization` value (HTTP proxies).
    pub(crate) fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The SOCKS kind, if it is one.
    pub(crate) fn socks(&self) -> Option<Socks> {
        self.socks
    }

    /// The SOCKS user name and password.
    pub(crate) fn login(&self) -> Option<(&[u8], &[u8])> {
        self.login.as_ref().map(|(u, p)| (u.as_slice(), p.as_slice()))
    }

    /// The `CONNECT host:port` request head that asks this (HTTP) proxy for a tunnel to
    /// `host:port`, with the proxy's credentials.
    pub(crate) fn connect_head(&self, host: &str, port: u16) -> Result<Vec<u8>> {
        let authority = format!("{host}:{port}");
        let mut headers = Headers::new();
        headers.append("Host", &authority).map_err(Error::InvalidHeader)?;
        if let Some(auth) = self.authorization() {
            headers.append("Proxy-Authorization", auth).map_err(Error::InvalidHeader)?;
        }
        let mut head = Vec::with_capacity(256);
        write_request_head(&mut head, &Method::Connect, &authority, Version::Http11, &headers);
        Ok(head)
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The pool's identity of this proxy (its kind, and credentials included, so two users
    /// never share a connection).
    pub(crate) fn pool_id(&self) -> String {
        let mut id = format!("{}://{}:{}", self.scheme(), self.host, self.port);
        if let Some(a) = &self.authorization {
            id.push(' ');
            id.push_str(a);
        }
        if let Some((u, p)) = &self.login {
            // Lengths first, so that no two logins give the same text.
            id.push_str(&format!(" {}:{}:{u:?}{p:?}", u.len(), p.len()));
        }
        id
    }
}

/// Which hosts a proxy serves (the egg's string, regex or `#t`).
///
/// ```
/// use http_client::ProxyPattern;
/// assert!(ProxyPattern::from("example.com").matches("EXAMPLE.com"));
/// assert!(!ProxyPattern::from("example.com").matches("www.example.com"));
/// # #[cfg(feature = "regex")] {
/// let re = ProxyPattern::regex(r"^.*\.internal$").unwrap(); // feature `regex`
/// assert!(re.matches("db.internal"));
/// # }
/// assert!(ProxyPattern::Any.matches("anything"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProxyPattern {
    /// Exactly this host (compared case-insensitively; no port).
    Host(String),
    /// Hosts in which the regex finds a match (anchor it with `^...$` for a whole match).
    /// Feature `regex` (on by default).
    #[cfg(feature = "regex")]
    Regex(Regex),
    /// Every host (the egg's `#t`).
    Any,
}

impl ProxyPattern {
    /// A regex pattern from its source text (feature `regex`, on by default).
    ///
    /// # Errors
    /// [`Error::InvalidProxy`] when `pattern` is not a valid regex.
    #[cfg(feature = "regex")]
    pub fn regex(pattern: &str) -> Result<ProxyPattern> {
        Regex::new(pattern).map(ProxyPattern::Regex).map_err(|e| Error::InvalidProxy(e.to_string()))
    }

    /// True when `host` (without port; IPv6 without brackets or with) is served.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            ProxyPattern::Host(h) => h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .eq_ignore_ascii_case(host.trim_start_matches('[').trim_end_matches(']')),
            #[cfg(feature = "regex")]
            ProxyPattern::Regex(r) => r.is_match(host),
            ProxyPattern::Any => true,
        }
    }
}

impl From<&str> for ProxyPattern {
    fn from(s: &str) -> ProxyPattern {
        ProxyPattern::Host(s.to_owned())
    }
}

impl From<String> for ProxyPattern {
    fn from(s: String) -> ProxyPattern {
        ProxyPattern::Host(s)
    }
}

#[cfg(feature = "regex")]
impl From<Regex> for ProxyPattern {
    fn from(r: Regex) -> ProxyPattern {
        ProxyPattern::Regex(r)
    }
}

impl From<bool> for ProxyPattern {
    /// `true` is [`ProxyPattern::Any`] (the egg's `#t`); `false` matches nothing.
    fn from(all: bool) -> ProxyPattern {
        if all {
            ProxyPattern::Any
        } else {
            ProxyPattern::Host(String::new())
        }
    }
}

/// Proxy settings read from the environment, in the way curl reads them.
///
/// | variable | meaning |
/// | --- | --- |
/// | `http_proxy` | proxy for `http` URLs. The upper-case `HTTP_PROXY` is read too, except under CGI (when `REQUEST_METHOD` is set), where a request header `Proxy:` could have set it |
/// | `https_proxy`, `HTTPS_PROXY` | proxy for `https` URLs (through a `CONNECT` tunnel) |
/// | `all_proxy`, `ALL_PROXY` | proxy for either when the specific one is not set |
/// | `no_proxy`, `NO_PROXY` | comma-separated hosts that are reached directly: `*` for all, a domain (`example.com` or `.example.com`, which also covers its subdomains), an IP address, each optionally with `:port`, or a range of addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`), which covers URLs whose host is an address in it |
///
/// Lower-case names win over upper-case ones. Empty values count as unset.
///
/// **A setting that cannot be used fails closed**: a malformed proxy URL, or one of a kind
/// this client does not speak, is kept as an error, and every request that would go through
/// it fails with [`Error::InvalidProxy`] naming the variable, instead of going out directly.
/// A host that `no_proxy` covers is still reached directly.
///
/// ```
/// use http_client::ProxyEnv;
/// let env = ProxyEnv::from_lookup(|name| match name {
///     "http_proxy" => Some("http://proxy:3128".to_string()),
///     "https_proxy" => Some("gopher://proxy".to_string()),
///     "no_proxy" => Some("localhost,.internal".to_string()),
///     _ => None,
/// });
/// assert_eq!(env.proxy_for("http", "example.com", 80).unwrap().unwrap().port(), 3128);
/// assert!(env.proxy_for("http", "db.internal", 80).unwrap().is_none());
/// // A proxy that cannot be used is an error, never a direct connection.
/// let err = env.proxy_for("https", "example.com", 443).unwrap_err();
/// assert!(err.to_string().contains("https_proxy"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    http: Option<FromVar>,
    https: Option<FromVar>,
    all: Option<FromVar>,
    no_proxy: Vec<NoProxyEntry>,
}

/// A proxy variable as read: the name it was read from, and its proxy or why there is none.
#[derive(Debug, Clone)]
struct FromVar {
    name: &'static str,
    proxy: std::result::Result<Proxy, String>,
}

#[derive(Debug, Clone)]
enum NoProxyEntry {
    All,
    Host { name: String, port: Option<u16> },
    Range { net: IpAddr, prefix: u8 },
}

impl ProxyEnv {
    /// Reads the process environment.
    pub fn from_env() -> ProxyEnv {
        ProxyEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (for tests and for programs that keep their own
    /// environment). A value that is not a usable proxy URL is kept as an error for the
    /// requests that would use it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let get = |lower: &'static str, upper: Option<&'static str>| {
            let found = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v));
            found(lower).or_else(|| upper.and_then(found))
        };
        let parse = |found: Option<(&'static str, String)>| {
            found.map(|(name, v)| FromVar { name, proxy: Proxy::new(&v).map_err(|e| reason(&e)) })
        };
        let cgi = lookup("REQUEST_METHOD").is_some();
        let http_upper = if cgi { None } else { Some("HTTP_PROXY") };
        ProxyEnv {
            http: parse(get("http_proxy", http_upper)),
            https: parse(get("https_proxy", Some("HTTPS_PROXY"))),
            all: parse(get("all_proxy", Some("ALL_PROXY"))),
            no_proxy: get("no_proxy", Some("NO_PROXY")).map(|(_, v)| parse_no_proxy(&v)).unwrap_or_default(),
        }
    }

    /// The proxy for a request to `scheme://host:port`, or `None` to go direct.
    ///
    /// # Errors
    /// [`Error::InvalidProxy`], naming the variable, when the proxy the request would use
    /// cannot be used (a malformed URL, an unsupported kind).
    pub fn proxy_for(&self, scheme: &str, host: &str, port: u16) -> Result<Option<&Proxy>> {
        let chosen = match scheme {
            "http" => self.http.as_ref().or(self.all.as_ref()),
            "https" => self.https.as_ref().or(self.all.as_ref()),
            _ => None,
        };
        let Some(chosen) = chosen else { return Ok(None) };
        if self.bypasses(host, port) {
            return Ok(None);
        }
        match &chosen.proxy {
            Ok(p) => Ok(Some(p)),
            Err(why) => Err(Error::InvalidProxy(format!(
                "{} cannot be used ({why}); the request is not sent without it",
                chosen.name
            ))),
        }
    }

    /// True when `no_proxy` says `host:port` is reached directly.
    pub fn bypasses(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
        let ip = host.parse::<IpAddr>().ok();
        self.no_proxy.iter().any(|e| match e {
            NoProxyEntry::All => true,
            NoProxyEntry::Range { net, prefix } => ip.is_some_and(|ip| in_range(ip, *net, *prefix)),
            NoProxyEntry::Host { name, port: p } => {
                if p.is_some_and(|p| p != port) {
                    return false;
                }
                host.eq_ignore_ascii_case(name)
                    || (host.len() > name.len()
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'
                        && host[host.len() - name.len()..].eq_ignore_ascii_case(name))
            }
        })
    }
}

/// The reason in an [`Error::InvalidProxy`], without the error's own prefix.
fn reason(e: &Error) -> String {
    match e {
        Error::InvalidProxy(why) => why.clone(),
        other => other.to_string(),
    }
}

/// True when `ip` is in `net/prefix` (IPv4-mapped IPv6 addresses count as IPv4).
fn in_range(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix.min(32))).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix.min(128))).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn parse_no_proxy(v: &str) -> Vec<NoProxyEntry> {
    v.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e == "*" {
                return NoProxyEntry::All;
            }
            if let Some((net, prefix)) = e.split_once('/') {
                let net = net.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>();
                if let (Ok(net), Ok(prefix)) = (net, prefix.parse::<u8>()) {
                    let max = if net.is_ipv4() { 32 } else { 128 };
                    return NoProxyEntry::Range { net, prefix: prefix.min(max) };
                }
            }
            let e = e.trim_start_matches("*.").trim_start_matches('.');
            // `[v6]:port`, `host:port`, a bare IPv6 address, or a host.
            let (name, port) = if let Some(rest) = e.strip_prefix('[') {
                match rest.split_once(']') {
                    Some((h, p)) => (h, p.strip_prefix(':').and_then(|p| p.parse().ok())),
                    None => (rest, None),
                }
            } else if e.matches(':').count() == 1 {
                let (h, p) = e.split_once(':').unwrap_or((e, ""));
                (h, p.parse().ok())
            } else {
                (e, None)
            };
            NoProxyEntry::Host { name: name.trim_end_matches('.').to_ascii_lowercase(), port }
        })
        .collect()
}

/// `Basic <base64(user:password)>` from the percent-encoded user and password of a URL.
pub(crate) fn basic_credentials(user: &str, password: &str) -> String {
    let mut creds = percent_encoding::percent_decode_str(user).collect::<Vec<u8>>();
    creds.push(b':');
    creds.extend(percent_encoding::percent_decode_str(password));
    format!("Basic {}", base64(&creds))
}

/// Standard base64 with padding (RFC 4648 §4), for Basic credentials.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Most bytes of a proxy's refusal page kept in the error.
const REFUSAL_BODY: u64 = 64 * 1024;

/// The error for a proxy's `407`, with its header fields and as much of its body (at most
/// 64 KiB) as arrives before the body ends, fails or times out.
pub(crate) fn proxy_refusal(proxy: &Proxy, headers: Headers, body: impl Read) -> Error {
    let mut kept = Vec::new();
    // Bounded by REFUSAL_BODY; an error keeps what came before it.
    let _ = body.take(REFUSAL_BODY).read_to_end(&mut kept);
    Error::ProxyAuthRequired { proxy: proxy.addr(), headers, body: kept }
}

#[cfg(test)]
mod tests;
