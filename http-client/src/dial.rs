//! Opening connections: name lookups bounded by the connect timeout (or addresses given for a
//! name instead), TCP connects to the first address that answers (Happy Eyeballs when there
//! are several), and the TLS handshake.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "tls")]
use rustls::{ClientConfig, ClientConnection, StreamOwned};
#[cfg(feature = "tls")]
use rustls_pki_types::ServerName;

use crate::conn::Timing;
#[cfg(feature = "tls")]
use crate::conn::{Carrier, Stream};
use crate::error::{Error, Result, TimeoutKind};
use crate::eyeballs;

/// Addresses given for host names (lower case, IPv6 without brackets), used instead of
/// looking the names up (`ClientBuilder::resolve`).
pub(crate) type Overrides = HashMap<String, Vec<IpAddr>>;

/// Where connections come from: addresses given for names, and the local address to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialing<'a> {
    pub(crate) overrides: &'a Overrides,
    pub(crate) local: Option<IpAddr>,
}

/// The addresses of `host` (brackets allowed around IPv6): those given for it in
/// `overrides`, else [`resolve`]'s.
pub(crate) fn lookup(
    host: &str,
    port: u16,
    overrides: &Overrides,
    wait: Option<Duration>,
) -> Result<Vec<SocketAddr>> {
    let plain = host.trim_start_matches('[').trim_end_matches(']');
    if !overrides.is_empty() {
        if let Some(ips) = overrides.get(&plain.trim_end_matches('.').to_ascii_lowercase()) {
            return Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
        }
    }
    resolve(plain, port, wait)
}

/// Most name lookups running at once on helper threads, in the whole process. A resolver that
/// hangs can hold this many threads (each until the system resolver gives up); past it, lookups
/// fail at once instead of piling up threads.
const MAX_LOOKUPS: usize = 256;

/// Name lookups running now.
static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// Counts a lookup as running while alive.
struct LookupSlot;

impl Drop for LookupSlot {
    fn drop(&mut self) {
        LOOKUPS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The addresses of `host` (an IP address is used as it is). The system resolver has no
/// timeout of its own, so a name is looked up on a helper thread and waited for at most
/// `wait` (`None`: as long as it takes, on this thread); a lookup that takes longer is left to
/// finish on its own and its answer is dropped.
pub(crate) fn resolve(host: &str, port: u16, wait: Option<Duration>) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    resolve_with(host, port, wait, |host, port| (host, port).to_socket_addrs().map(Iterator::collect))
}

/// [`resolve`] with the blocking lookup `lookup`.
pub(crate) fn resolve_with(
    host: &str,
    port: u16,
    wait: Option<Duration>,
    lookup: impl FnOnce(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + 'static,
) -> Result<Vec<SocketAddr>> {
    let failed = |source: io::Error| Error::Resolve { host: host.to_owned(), proxy: false, source };
    let Some(wait) = wait else { return lookup(host, port).map_err(failed) };
    if LOOKUPS.fetch_add(1, Ordering::Relaxed) >= MAX_LOOKUPS {
        LOOKUPS.fetch_sub(1, Ordering::Relaxed);
        return Err(failed(io::Error::other("too many name lookups in progress")));
    }
    let slot = LookupSlot;
    let (tx, rx) = mpsc::sync_channel(1);
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("http-client-dns".to_owned())
        .spawn(move || {
            let _slot = slot;
            // The receiver is gone when the caller stopped waiting.
            let _ = tx.send(lookup(&name, port));
        })
        .map_err(failed)?;
    match rx.recv_timeout(wait) {
        Ok(res) => res.map_err(failed),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout(TimeoutKind::Connect)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(failed(io::Error::other("the lookup thread failed")))
        }
    }
}

/// Resolves `host:port` and connects to the first address that answers, within the connect
/// timeout (never past the deadline); the lookup itself is bounded by it too. With several
/// addresses, they are tried as Happy Eyeballs does (see `eyeballs.rs`), all within that
/// one timeout.
pub(crate) fn connect_tcp(
    host: &str,
    port: u16,
    dialing: &Dialing<'_>,
    connect_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<TcpStream> {
    let timing = Timing { read: None, write: None, deadline };
    let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
    let mut addrs = lookup(host, port, dialing.overrides, wait).map_err(|e| match e {
        Error::Timeout(kind) => Error::Timeout(timing.kind_of(kind)),
        other => other,
    })?;
    if let Some(local) = dialing.local {
        // A socket bound to an address of one family reaches only addresses of that family.
        addrs.retain(|a| a.is_ipv6() == local.is_ipv6());
    }
    let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
    let res = match (addrs.as_slice(), dialing.local) {
        ([], Some(_)) => {
            Err(io::Error::new(io::ErrorKind::NotFound, "no address of the local address's family"))
        }
        ([], None) => Err(io::Error::new(io::ErrorKind::NotFound, "no address")),
        ([one], None) => match wait {
            Some(w) => TcpStream::connect_timeout(one, w),
            None => TcpStream::connect(one),
        },
        ([one], Some(local)) if wait.is_none() => eyeballs::connect_from(local, *one, true),
        (several, local) => eyeballs::connect(&eyeballs::interleave(several), local, wait),
    };
    match res {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            Err(Error::Timeout(timing.kind_of(TimeoutKind::Connect)))
        }
        Err(e) => Err(Error::Connect { addr: format!("{host}:{port}"), proxy: false, source: e }),
    }
}

/// A TLS session with `host` (a name, or an IP address with or without brackets), its
/// handshake not yet begun.
#[cfg(feature = "tls")]
pub(crate) fn tls_session(config: Arc<ClientConfig>, host: &str) -> Result<ClientConnection> {
    let host_plain = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host_plain.to_owned())
        .map_err(|_| Error::TlsConfig(format!("{host_plain:?} is not a valid TLS server name")))?;
    ClientConnection::new(config, name).map_err(Error::Tls)
}

/// Runs the TLS handshake over `carrier` (TCP, or a tunnel through an HTTPS proxy) for
/// `host`, within the connect timeout.
#[cfg(feature = "tls")]
pub(crate) fn handshake(
    carrier: Carrier,
    host: &str,
    config: Arc<ClientConfig>,
    connect_timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Result<Stream> {
    let mut conn = tls_session(config, host)?;
    let timing = Timing { read: connect_timeout, write: connect_timeout, deadline };
    let mut carrier = carrier;
    while conn.is_handshaking() {
        let wait = timing.effective(connect_timeout).map_err(Error::Timeout)?;
        carrier.tcp().set_read_timeout(wait)?;
        carrier.tcp().set_write_timeout(wait)?;
        match conn.complete_io(&mut carrier) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                return Err(Error::Timeout(timing.kind_of(TimeoutKind::Connect)));
            }
            Err(e) => return Err(Error::from(e)),
        }
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, carrier))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_lookup_is_bounded_by_the_wait() {
        let (release, hold) = mpsc::channel::<()>();
        let start = Instant::now();
        let err = resolve_with("slow.example", 80, Some(Duration::from_millis(50)), move |_, _| {
            // A resolver that hangs until the test is over.
            let _ = hold.recv();
            Ok(Vec::new())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Timeout(TimeoutKind::Connect)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(release);
    }

    #[test]
    fn lookups_answer_and_fail_as_the_resolver_says() {
        let addr: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let got = resolve_with("fast.example", 80, Some(Duration::from_secs(5)), move |h, p| {
            assert_eq!((h, p), ("fast.example", 80));
            Ok(vec![addr])
        })
        .unwrap();
        assert_eq!(got, [addr]);
        let err =
            resolve_with("gone.example", 80, None, |_, _| Err(io::Error::other("no such host"))).unwrap_err();
        assert!(matches!(err, Error::Resolve { ref host, .. } if host == "gone.example"), "{err}");
        // Addresses are not looked up.
        assert_eq!(resolve("127.0.0.1", 8, Some(Duration::ZERO)).unwrap(), ["127.0.0.1:8".parse().unwrap()]);
        assert_eq!(resolve("::1", 8, None).unwrap(), ["[::1]:8".parse().unwrap()]);
    }
}
