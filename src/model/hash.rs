//! A fast hasher for the model's indexes: keys are directive names, paths and small
//! integers from configuration files, and SipHash's protection against crafted collisions
//! costs more than the lookups themselves.
//!
//! The mixing step is the one of rustc's `FxHasher` (a rotate, an xor and a multiply per
//! word), fed eight bytes at a time, so a 20-byte directive name costs three steps instead
//! of twenty.

use std::hash::{BuildHasherDefault, Hasher};

/// The multiplier of rustc's FxHasher (<https://github.com/rust-lang/rustc-hash>).
pub(crate) const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A word-at-a-time multiplicative hasher.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
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
}

/// A `HashMap` with the [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A `HashSet` with the [`FastHasher`].
pub type FastSet<T> = std::collections::HashSet<T, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash + ?Sized>(v: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(v)
    }

    #[test]
    fn equal_keys_hash_equal_and_near_keys_differ() {
        assert_eq!(hash("proxy_pass"), hash(&String::from("proxy_pass")));
        assert_ne!(hash("proxy_pass"), hash("proxy_pas"));
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash(&(1u32, 2u32)), hash(&(2u32, 1u32)));
        // Every one-byte change of a name moves the hash.
        let base = hash("fastcgi_read_timeout");
        for i in 0.."fastcgi_read_timeout".len() {
            let mut b = b"fastcgi_read_timeout".to_vec();
            b[i] ^= 1;
            assert_ne!(hash(std::str::from_utf8(&b).unwrap()), base, "byte {i}");
        }
    }

    #[test]
    fn works_as_a_map() {
        let mut m: FastMap<&str, u32> = FastMap::default();
        m.insert("proxy_pass", 1);
        assert_eq!(m.get("proxy_pass"), Some(&1));
        assert_eq!(m.get("proxy_pas"), None);
    }
}
