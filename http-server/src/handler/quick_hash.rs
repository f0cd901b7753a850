//! A fast hash for the server's own tables (resources by path, method handlers, status
//! handlers, content parsers), looked up once or more per request.
//!
//! The keys are the server's: a client only chooses what is looked up, never what is
//! stored, so it cannot make entries collide (the flooding a keyed hash protects against
//! needs colliding entries); a lookup costs a hash of the key and a comparison with the few
//! entries of one bucket, whatever the client sends. A word at a time, rotate, xor and
//! multiply, as rustc's own hasher does.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed with [`QuickHasher`].
pub(crate) type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// See the module.
#[derive(Default, Clone, Copy)]
pub(crate) struct QuickHasher(u64);

impl QuickHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for QuickHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            let (word, rest) = bytes.split_at(8);
            self.add(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
            bytes = rest;
        }
        if bytes.len() >= 4 {
            let (word, rest) = bytes.split_at(4);
            self.add(u64::from(u32::from_le_bytes(word.try_into().unwrap_or([0; 4]))));
            bytes = rest;
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_that_works() {
        let mut m: QuickMap<String, usize> = QuickMap::default();
        for i in 0..1000 {
            m.insert(format!("/path/{i}"), i);
        }
        for i in 0..1000 {
            assert_eq!(m.get(&format!("/path/{i}")), Some(&i));
        }
        assert_eq!(m.get("/path/1000"), None);
        assert_eq!(m.get(""), None);
    }
}
