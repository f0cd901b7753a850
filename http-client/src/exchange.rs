//! One request and its response head over one connection: the client's state machine.
//!
//! ```text
//!   take idle conn ──(none)──> connect TCP ──> [SOCKS or CONNECT tunnel] ──> [TLS handshake]
//!        │                                                                        │
//!        └──────────────────────────────┬─────────────────────────────────────────┘
//!                                       v
//!                          send head ──> send body ──> read head (skip 1xx)
//!                                       │                    │
//!   failed on a reused conn before any ─┘                    v
//!   response byte, idempotent (or with an            Response { body stream }
//!   Idempotency-Key), replayable body:                       │
//!   retry once on a fresh connection                         │ body read to its end
//!                                                            v
//!                                            keep-alive? ── yes ──> back to the pool
//!                                                 └──────── no ───> closed
//! ```

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_utils::{response_framing, Body, Limits, Method, Request, ResponseHead};
#[cfg(feature = "tls")]
use rustls::ClientConfig;

use crate::conn::{Carrier, Conn, Timing};
#[cfg(feature = "tls")]
use crate::dial::handshake;
use crate::dial::{connect_tcp, Dialing, Overrides};
use crate::error::{Error, Result, TimeoutKind};
use crate::key::PoolKey;
#[cfg(feature = "tls")]
use crate::key::TlsId;
use crate::pool::Pool;
use crate::proxy::{proxy_refusal, Proxy};
use crate::request::may_replay;
use crate::send::{read_final_head, send_request, Sent};
use crate::socks::{self, Handshake};
use crate::wire::RawBody;

/// What one exchange needs from the client.
pub(crate) struct Settings<'a> {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    /// The deadline of reading the response body (the overall one, when `deadline` is a
    /// try's).
    pub(crate) body_deadline: Option<Instant>,
    pub(crate) limits: &'a Limits,
    /// Addresses given for host names.
    pub(crate) resolve: &'a Overrides,
    /// The local address connections are bound to.
    pub(crate) local: Option<std::net::IpAddr>,
    pub(crate) pool: &'a Arc<Pool>,
    /// The client's TLS configuration (feature `tls`).
    #[cfg(feature = "tls")]
    pub(crate) tls: &'a Arc<ClientConfig>,
    pub(crate) spin: Duration,
    /// Requests of this client now waiting for a response head.
    pub(crate) waiting: &'a AtomicUsize,
    /// At most this many of them spin wait (the others would only take CPU from them).
    pub(crate) spin_slots: usize,
}

/// Counts a request as waiting for its response head while alive.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a request goes.
pub(crate) struct Target<'a> {
    pub(crate) https: bool,
    /// Through an HTTP proxy, a `CONNECT` tunnel even for plain `http`: the request asks to
    /// switch protocols (a WebSocket), which a forwarding proxy would not carry.
    pub(crate) tunnel: bool,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) proxy: Option<&'a Proxy>,
}

impl Target<'_> {
    /// The identity of a connection to the target for `req` (its own TLS configuration, if
    /// any): the blocking client and the one-thread interface share pooled connections by it.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    pub(crate) fn pool_key(&self, req: &Request) -> PoolKey {
        PoolKey {
            https: self.https,
            tunnel: self.tunnel,
            host: self.host.to_owned(),
            port: self.port,
            proxy: self.proxy.map(Proxy::pool_id),
            #[cfg(feature = "tls")]
            tls: req.tls_config().map(|c| TlsId(c.clone())),
        }
    }
}

/// A failure, and whether it may be retried on a fresh connection.
struct Failure {
    error: Error,
    /// Nothing of a response arrived, and the connection had been used before.
    retryable: bool,
}

/// Sends `req` (whose head bytes are `head`) and reads the final response head.
/// The request body is taken from `req` and left in place when it is replayable.
pub(crate) fn exchange(
    s: &Settings<'_>,
    target: &Target<'_>,
    req: &mut Request,
    head: &[u8],
) -> Result<(ResponseHead, RawBody)> {
    let key = target.pool_key(req);
    let replayable = !matches!(req.body(), Body::Stream { .. }) && may_replay(req);
    let mut fresh_only = false;
    loop {
        let pooled = if fresh_only { None } else { s.pool.take(&key) };
        let mut conn = match pooled {
            Some(c) => c,
            None => open(s, target, key.clone(), req)?,
        };
        conn.set_timing(Timing { read: s.read_timeout, write: s.write_timeout, deadline: s.deadline });
        match round_trip(&mut conn, req, head, s) {
            Ok((resp_head, all_sent)) => {
                if resp_head.status == 101 && asked_to_switch(req) {
                    // The connection now speaks the new protocol: it goes to the caller.
                    return Ok((resp_head, RawBody::upgraded(conn, s.limits)));
                }
                let framing = response_framing(req.method(), &resp_head)?;
                conn.server_idle_limit = keep_alive_timeout(&resp_head);
                let keep = may_keep(req, &resp_head, all_sent, conn.server_idle_limit);
                let pool = keep.then(|| s.pool.clone());
                if s.body_deadline != s.deadline {
                    // The try is over once the head is in: the body has the overall deadline.
                    conn.set_timing(Timing {
                        read: s.read_timeout,
                        write: s.write_timeout,
                        deadline: s.body_deadline,
                    });
                }
                let body = RawBody::new(conn, framing, s.limits, pool);
                return Ok((resp_head, body));
            }
            Err(f) => {
                if f.retryable && conn.reused && replayable && !fresh_only {
                    log::debug!("retrying on a fresh connection after: {}", f.error);
                    fresh_only = true;
                    continue;
                }
                return Err(f.error);
            }
        }
    }
}

/// True when the request asked to switch protocols (`Connection: upgrade` and `Upgrade`).
pub(crate) fn asked_to_switch(req: &Request) -> bool {
    req.headers().connection_has("upgrade") && req.headers().contains("upgrade")
}

/// Whether the connection may carry another request once this answer's body is read: the
/// whole request went out, neither side asked to close, the protocol did not switch (after
/// 101 the connection no longer speaks HTTP/1.1), and the server's idle limit (`idle`, from
/// [`keep_alive_timeout`]) is not zero.
pub(crate) fn may_keep(req: &Request, head: &ResponseHead, all_sent: bool, idle: Option<Duration>) -> bool {
    all_sent
        && head.keeps_alive()
        && !req.headers().connection_has("close")
        && head.status != 101
        && idle != Some(Duration::ZERO)
}

/// How long a connection may idle in the pool by the server's `Keep-Alive: timeout=N`, with a
/// second of margin for the time the answer took to arrive (zero: do not keep it).
pub(crate) fn keep_alive_timeout(head: &ResponseHead) -> Option<Duration> {
    let value = head.headers.get("keep-alive")?;
    let secs: u64 = value.split(',').find_map(|param| {
        let (name, v) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("timeout").then(|| v.trim().trim_matches('"').parse().ok())?
    })?;
    Some(Duration::from_secs(secs.saturating_sub(1)))
}

/// Opens a new connection: TCP (to the proxy when there is one), then the tunnel and TLS for
/// https.
fn open(s: &Settings<'_>, target: &Target<'_>, key: PoolKey, req: &Request) -> Result<Conn> {
    let (dial_host, dial_port) = match target.proxy {
        Some(p) => (p.host(), p.port()),
        None => (target.host, target.port),
    };
    let dialing = Dialing { overrides: s.resolve, local: s.local };
    let tcp =
        connect_tcp(dial_host, dial_port, &dialing, s.connect_timeout, s.deadline).map_err(|e| match e {
            Error::Connect { addr, source, .. } if target.proxy.is_some() => {
                Error::Connect { addr, proxy: true, source }
            }
            Error::Resolve { host, source, .. } if target.proxy.is_some() => {
                Error::Resolve { host, proxy: true, source }
            }
            other => other,
        })?;
    let carrier = match target.proxy {
        Some(p) if p.is_socks() => Carrier::Tcp(socks_tunnel(s, tcp, p, target)?),
        // TLS with an HTTPS proxy itself, by the client's TLS settings.
        #[cfg(feature = "tls")]
        Some(p) if p.is_tls() => {
            let to_proxy =
                handshake(Carrier::Tcp(tcp), p.host(), s.tls.clone(), s.connect_timeout, s.deadline)?;
            to_proxy.into_carrier().ok_or_else(|| Error::TlsConfig("TLS to the proxy failed".to_owned()))?
        }
        #[cfg(not(feature = "tls"))]
        Some(p) if p.is_tls() => {
            return Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// proxy" });
        }
        _ => Carrier::Tcp(tcp),
    };
    // A tunnel through an HTTP proxy: for `https`, and for a request that asks to switch
    // protocols (a proxy forwarding requests would not pass the switched connection on).
    let carrier = match target.proxy {
        Some(p) if target.tunnel && !p.is_socks() => tunnel(s, carrier, p, target, key.clone())?,
        _ => carrier,
    };
    if !target.https {
        return Ok(Conn::new(carrier.into_stream(), key));
    }
    #[cfg(feature = "tls")]
    {
        let tls = req.tls_config().unwrap_or(s.tls).clone();
        let stream = handshake(carrier, target.host, tls, s.connect_timeout, s.deadline)?;
        Ok(Conn::new(stream, key))
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = req;
        Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// URL" })
    }
}

/// Asks a SOCKS proxy for a tunnel to the target.
fn socks_tunnel(
    s: &Settings<'_>,
    mut tcp: std::net::TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
) -> Result<std::net::TcpStream> {
    let Some(kind) = proxy.socks() else { return Ok(tcp) };
    let handshake = Handshake {
        kind,
        proxy: &proxy.addr(),
        credentials: proxy.login(),
        host: target.host,
        port: target.port,
        connect_timeout: s.connect_timeout,
        deadline: s.deadline,
        resolve: s.resolve,
    };
    socks::connect(&mut tcp, &handshake)?;
    Ok(tcp)
}

/// Asks the proxy for a tunnel to the target (`CONNECT host:port`).
fn tunnel(
    s: &Settings<'_>,
    carrier: Carrier,
    proxy: &Proxy,
    target: &Target<'_>,
    key: PoolKey,
) -> Result<Carrier> {
    let mut conn = Conn::new(carrier.into_stream(), key);
    conn.set_timing(Timing { read: s.connect_timeout, write: s.connect_timeout, deadline: s.deadline });
    let out = proxy.connect_head(target.host, target.port)?;
    let as_connect = |e: Error| match e {
        Error::Timeout(TimeoutKind::Read | TimeoutKind::Write) => Error::Timeout(TimeoutKind::Connect),
        other => other,
    };
    conn.write_all(&out).and_then(|()| conn.flush()).map_err(|e| as_connect(Error::from(e)))?;
    let head = read_final_head(&mut conn, s.limits).map_err(|(e, _)| as_connect(e))?;
    match head.status {
        200..=299 => conn.into_carrier().ok_or_else(|| {
            Error::Protocol(http_utils::Error::protocol(http_utils::ErrorKind::InvalidStatusLine, 0))
        }),
        407 => {
            let framing = response_framing(&Method::Connect, &head)?;
            let body = http_utils::io::BodyReader::new(&mut conn, framing, s.limits);
            Err(proxy_refusal(proxy, head.headers, body))
        }
        status => Err(Error::ProxyConnect { proxy: proxy.addr(), status }),
    }
}

/// Writes the request and reads the final response head; says whether the whole request
/// went out (else the connection cannot carry another).
fn round_trip(
    conn: &mut Conn,
    req: &mut Request,
    head: &[u8],
    s: &Settings<'_>,
) -> std::result::Result<(ResponseHead, bool), Failure> {
    match send_request(conn, req, head, s.limits) {
        Ok(Sent::All) => {}
        Ok(Sent::Answered(head)) => return Ok((head, false)),
        Err(e) => {
            let error = Error::from_io(e, TimeoutKind::Write);
            if is_reset(&error) {
                // The server may have answered before it reset or closed the connection.
                if let Ok(head) = read_final_head(conn, s.limits) {
                    return Ok((head, false));
                }
            }
            // A malformed early answer did come from the server: not a stale connection.
            let retryable = !error.is_timeout()
                && !matches!(
                    error,
                    Error::RequestBodyLength { .. } | Error::Protocol(_) | Error::ResponseHeadTooLarge { .. }
                );
            return Err(Failure { error, retryable });
        }
    }
    let ahead = s.waiting.fetch_add(1, Ordering::Relaxed);
    let _waiting = Waiting(s.waiting);
    if ahead < s.spin_slots {
        conn.spin_wait(s.spin);
    }
    read_final_head(conn, s.limits).map(|head| (head, true)).map_err(|(error, got_bytes)| {
        let retryable = !got_bytes && (matches!(error, Error::ConnectionClosed) || is_reset(&error));
        Failure { error, retryable }
    })
}

/// True for the errors of a connection the peer closed or reset.
fn is_reset(error: &Error) -> bool {
    matches!(error, Error::Io(e) if matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
    ))
}
