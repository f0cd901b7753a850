//! A transfer's way to a connection: the lookup, connecting to each address in turn, a
//! proxy's `CONNECT` tunnel and the TLS handshake.

use super::*;

impl Transfer {
    /// Looks up the server's (or proxy's) addresses and starts connecting.
    pub(super) fn dial(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let client = cx.client;
        let inner = &*client.inner;
        let t = self.target.as_ref().expect("a hop has its target");
        let (host, port, proxy) = match t.proxy.as_deref() {
            Some(p) => (p.host(), p.port(), true),
            None => (t.host.as_str(), t.port, false),
        };
        let found = cx.lookups.get(host, port, &inner.resolve, inner.local_address, inner.timeouts.connect);
        self.arm(inner.timeouts.connect, TimeoutKind::Connect);
        self.addrs = found.map_err(|e| match e {
            Error::Resolve { host, source, .. } => Error::Resolve { host, proxy, source },
            Error::Connect { addr, source, .. } => Error::Connect { addr, proxy, source },
            other => other,
        })?;
        self.next_addr = 0;
        self.last_connect_error = None;
        self.connect_next(cx)
    }

    /// Starts a connect to the next address (one after another; see the module docs of
    /// `multi`): those that fail at once are skipped.
    fn connect_next(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let local = cx.client.inner.local_address;
        // Bounded by the addresses.
        while let Some(&addr) = self.addrs.get(self.next_addr) {
            self.next_addr += 1;
            let attempt = match local {
                None => mio::net::TcpStream::connect(addr),
                Some(ip) => crate::eyeballs::connect_from(ip, addr, false).map(mio::net::TcpStream::from_std),
            };
            let mut tcp = match attempt {
                Ok(s) => s,
                Err(e) => {
                    self.last_connect_error = Some(e);
                    continue;
                }
            };
            cx.registry.register(&mut tcp, cx.token, Interest::READABLE | Interest::WRITABLE)?;
            self.link = Some(Link { socket: Socket::Tcp(tcp), reused: false, server_idle_limit: None });
            self.phase = Phase::Connecting;
            return Ok(Step::Next);
        }
        let t = self.target.as_ref().expect("a hop has its target");
        let (addr, proxy) = match t.proxy.as_deref() {
            Some(p) => (p.addr(), true),
            None => (format!("{}:{}", t.host, t.port), false),
        };
        let source = self
            .last_connect_error
            .take()
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"));
        Err(Error::Connect { addr, proxy, source }.into())
    }

    /// Waits for a connect to finish (mio's recipe: the socket's error, then its peer).
    pub(super) fn connecting(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let link = self.link.as_mut().expect("connecting has a socket");
        let tcp = link.socket.tcp();
        // A socket with a peer is connected; one without is still connecting unless it has
        // an error (one system call in the common case, two otherwise).
        let failed = match tcp.peer_addr() {
            Ok(_) => None,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => match tcp.take_error() {
                Ok(Some(e)) | Err(e) => Some(e),
                Ok(None) => return Ok(Step::Wait),
            },
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            self.close(cx);
            self.last_connect_error = Some(e);
            return self.connect_next(cx);
        }
        let _ = tcp.set_nodelay(true);
        let client = cx.client;
        let inner = &*client.inner;
        let t = self.target.as_ref().expect("a hop has its target");
        match (t.https, t.proxy.clone()) {
            (true, Some(p)) => {
                self.out_connect(&p)?;
                self.arm(inner.timeouts.connect, TimeoutKind::Connect);
                self.phase = Phase::Tunnel;
            }
            (true, None) => self.begin_tls(cx)?,
            (false, _) => {
                self.arm(inner.timeouts.write, TimeoutKind::Write);
                self.phase = Phase::Sending;
            }
        }
        Ok(Step::Next)
    }

    /// Puts a `CONNECT` head for the target in front of the bytes to send.
    fn out_connect(&mut self, proxy: &Proxy) -> Result<()> {
        let t = self.target.as_ref().expect("a hop has its target");
        let head = proxy.connect_head(&t.host, t.port)?;
        self.tunnel_len = head.len();
        let request = std::mem::replace(&mut self.out, head);
        self.out.extend_from_slice(&request);
        self.sent = 0;
        Ok(())
    }

    /// Sends `CONNECT` and reads the proxy's answer; a 2xx opens the tunnel.
    pub(super) fn tunnel(&mut self, cx: &mut Cx<'_>) -> Outcome {
        let end = self.tunnel_len;
        let link = self.link.as_mut().expect("a tunnel has a socket");
        // Bounded: each round sends bytes or returns.
        while self.sent < end {
            match link
                .socket
                .write(&self.out[self.sent..end])
                .map_err(|e| Error::from_io(e, TimeoutKind::Connect))?
            {
                Io::Done(n) => self.sent += n,
                Io::Blocked | Io::Closed => return Ok(Step::Wait),
            }
        }
        let Some(head) = self.read_final_head(cx)? else { return Ok(Step::Wait) };
        let proxy = self.target.as_ref().and_then(|t| t.proxy.clone()).expect("a tunnel has a proxy");
        match head.status {
            200..=299 if self.inbuf.is_empty() => {
                self.out.drain(..end);
                self.sent = 0;
                self.answered = false;
                self.begin_tls(cx)?;
                Ok(Step::Next)
            }
            200..=299 => {
                Err(Error::Protocol(http_utils::Error::protocol(ErrorKind::InvalidStatusLine, 0)).into())
            }
            407 => {
                // The refusal page as far as it came with the head, its framing undone as the
                // blocking client's `tunnel` does.
                let framing = response_framing(&http_utils::Method::Connect, &head).map_err(Error::from)?;
                let early = io::Cursor::new(std::mem::take(&mut self.inbuf));
                let body = http_utils::io::BodyReader::new(early, framing, &cx.client.inner.limits);
                Err(proxy_refusal(&proxy, head.headers, body).into())
            }
            status => Err(Error::ProxyConnect { proxy: proxy.addr(), status }.into()),
        }
    }

    /// Without the `tls` feature there is no TLS to begin (`start` refuses such a target
    /// first).
    #[cfg(not(feature = "tls"))]
    fn begin_tls(&mut self, _: &mut Cx<'_>) -> Result<()> {
        Err(Error::FeatureOff { feature: "tls", needed_for: "an https:// URL" })
    }

    /// Wraps the connected socket in TLS and goes on to the handshake.
    #[cfg(feature = "tls")]
    fn begin_tls(&mut self, cx: &mut Cx<'_>) -> Result<()> {
        let t = self.target.as_ref().expect("a hop has its target");
        let mut link = self.link.take().expect("TLS over a connected socket");
        let Socket::Tcp(tcp) = link.socket else {
            return Err(Error::Unsupported("TLS inside TLS".to_owned()));
        };
        link.socket = Socket::start_tls(tcp, t.tls.clone(), &t.host)?;
        self.link = Some(link);
        self.arm(cx.client.inner.timeouts.connect, TimeoutKind::Connect);
        self.phase = Phase::Handshake;
        Ok(())
    }

    pub(super) fn handshake(&mut self) -> Outcome {
        let link = self.link.as_mut().expect("a handshake has a socket");
        if !link.socket.handshake()? {
            return Ok(Step::Wait);
        }
        self.phase = Phase::Sending;
        self.phase_until = None;
        Ok(Step::Next)
    }
}
