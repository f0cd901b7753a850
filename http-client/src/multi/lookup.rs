//! Name lookups for the one-thread interface, kept for a short while: the system resolver
//! blocks, so a name is looked up once (on the caller's thread, within the connect timeout)
//! and its addresses serve every request to it for [`KEEP`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::dial::{lookup, Overrides};
use crate::error::{Error, Result};
use crate::eyeballs::interleave;

/// How long the addresses of a name are used before it is looked up again.
const KEEP: Duration = Duration::from_secs(30);

/// Most names kept; past it the oldest answers are dropped.
const MAX_NAMES: usize = 256;

/// Addresses of names looked up lately, by host and port.
#[derive(Default)]
pub(crate) struct Lookups {
    found: HashMap<(String, u16), (Instant, Vec<SocketAddr>)>,
}

impl Lookups {
    /// The addresses to try for `host:port`, in the order to try them (the families
    /// alternating, as Happy Eyeballs orders them), of the local address's family when one is
    /// set.
    pub(crate) fn get(
        &mut self,
        host: &str,
        port: u16,
        overrides: &Overrides,
        local: Option<IpAddr>,
        wait: Option<Duration>,
    ) -> Result<Vec<SocketAddr>> {
        let key = (host.to_owned(), port);
        if let Some((at, addrs)) = self.found.get(&key) {
            if at.elapsed() < KEEP {
                return Ok(addrs.clone());
            }
        }
        let mut addrs = lookup(host, port, overrides, wait)?;
        if let Some(local) = local {
            // A socket bound to an address of one family reaches only addresses of that family.
            addrs.retain(|a| a.is_ipv6() == local.is_ipv6());
        }
        if addrs.is_empty() {
            let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no address of a usable family");
            return Err(Error::Connect { addr: format!("{host}:{port}"), proxy: false, source });
        }
        let addrs = interleave(&addrs);
        if self.found.len() >= MAX_NAMES {
            self.found.retain(|_, (at, _)| at.elapsed() < KEEP);
            if self.found.len() >= MAX_NAMES {
                self.found.clear();
            }
        }
        self.found.insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}
