//! A small, fast hasher for integer keys (the multiply-rotate of rustc's FxHash): the index's
//! tables of pairs of names, alert ids and blocking keys, and a search's caches, are looked up
//! millions of times a second and need no protection against adversarial keys (they are our
//! own numbers).

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        }
        for byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(SEED);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(value)).wrapping_mul(SEED);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(SEED);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub type FxSet<T> = std::collections::HashSet<T, BuildHasherDefault<FxHasher>>;

/// Empties `map`, keeping room for about `needed` entries: a table more than four times that
/// size is dropped. A table grown by one large search would otherwise spread every later
/// search's few entries over all its memory, a cache miss each.
pub fn clear_to_size<K, V>(map: &mut FxMap<K, V>, needed: usize) {
    if map.capacity() > 4 * needed {
        *map = FxMap::default();
    } else {
        map.clear();
    }
}
