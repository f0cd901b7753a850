//! Where the client's WebSocket keys come from: the handshake's `Sec-WebSocket-Key` nonce and
//! the masking key of every frame (RFC 6455 §5.3: fresh and unpredictable).
//!
//! With the `tls` feature they come from the TLS configuration's secure random source
//! (rustls' `ring` provider: the operating system's generator). Without it, from SipHash
//! keyed by std's `RandomState` (a key drawn from the operating system's generator) over a
//! counter: unpredictable to anyone who does not know the key, which never leaves the
//! process.

use std::io;

#[cfg(not(feature = "tls"))]
use std::hash::{BuildHasher, Hasher, RandomState};

#[cfg(feature = "tls")]
use rustls::crypto::SecureRandom;

/// A source of unpredictable bytes for keys.
pub(crate) struct Random {
    #[cfg(feature = "tls")]
    source: &'static dyn SecureRandom,
    #[cfg(not(feature = "tls"))]
    key: RandomState,
    #[cfg(not(feature = "tls"))]
    counter: u64,
}

impl Random {
    /// The TLS configuration's secure random source.
    #[cfg(feature = "tls")]
    pub(crate) fn new(source: &'static dyn SecureRandom) -> Random {
        Random { source }
    }

    /// SipHash under a key from the operating system's generator.
    #[cfg(not(feature = "tls"))]
    pub(crate) fn new() -> Random {
        Random { key: RandomState::new(), counter: 0 }
    }

    /// Fills `buf` with fresh bytes.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> io::Result<()> {
        #[cfg(feature = "tls")]
        return self.source.fill(buf).map_err(|_| io::Error::other("no random bytes for a key"));
        #[cfg(not(feature = "tls"))]
        {
            for chunk in buf.chunks_mut(8) {
                let mut h = self.key.build_hasher();
                h.write_u64(self.counter);
                self.counter = self.counter.wrapping_add(1);
                chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_from_one_draw_to_the_next() {
        #[cfg(feature = "tls")]
        let mut random = Random::new(rustls::crypto::ring::default_provider().secure_random);
        #[cfg(not(feature = "tls"))]
        let mut random = Random::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let mut key = [0u8; 12];
            random.fill(&mut key).unwrap();
            assert!(seen.insert(key), "a key came twice");
        }
    }
}
