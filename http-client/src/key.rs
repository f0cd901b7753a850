//! The identity of a connection: what it is connected to and how. Connections carry it, and
//! the pool keeps idle connections by it.

#[cfg(feature = "tls")]
use std::hash::{Hash, Hasher};
#[cfg(feature = "tls")]
use std::sync::Arc;

#[cfg(feature = "tls")]
use rustls::ClientConfig;

/// The identity of a connection: what it is connected to and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub(crate) https: bool,
    /// Through a `CONNECT` tunnel of an HTTP proxy (always so for `https` through one).
    pub(crate) tunnel: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The proxy `host:port` with its credentials, if any.
    pub(crate) proxy: Option<String>,
    /// A per-request TLS configuration (`None` for the client's own).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsId>,
}

/// A TLS configuration compared by identity. Holding it keeps it alive, so its address is
/// never reused by another configuration while a connection made with it is pooled.
#[cfg(feature = "tls")]
#[derive(Debug, Clone)]
pub(crate) struct TlsId(pub(crate) Arc<ClientConfig>);

#[cfg(feature = "tls")]
impl PartialEq for TlsId {
    fn eq(&self, other: &TlsId) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(feature = "tls")]
impl Eq for TlsId {}

#[cfg(feature = "tls")]
impl Hash for TlsId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as usize).hash(state);
    }
}
