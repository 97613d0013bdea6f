//! Heap words of a HAMT map (more than 32 keys), from its keys' hashes.
//!
//! A HAMT is canonical for its key set: the head node and every inner node
//! use four bits of the key hash per level (lowest bits first), a slot holding
//! one key is a leaf (a cons cell `[K|V]`), and every eight levels the hash is
//! recomputed with a new salt (`hashmap_shift_hash` in `erl_map.h`).

use crate::error::{Error, Result};
use crate::vm::CostTable;

/// A node still to lay out: its keys with their current hash chunk, its level, whether it is the head.
type Pending = (Vec<(usize, u32)>, u32, bool);

/// Deepest level followed before giving up (32 salted rehashes of one key pair).
const MAX_LEVEL: u32 = 256;

/// Words of the map structure (nodes and leaves, not keys or values) of a HAMT
/// with `n` keys, where `hash(i, depth)` is `make_map_hash(Key_i, depth)`.
///
/// Keys must be distinct (check first): equal keys never separate.
pub fn hamt_words(
    n: usize,
    costs: &CostTable,
    mut hash: impl FnMut(usize, u32) -> Result<u32>,
) -> Result<u64> {
    let mut words = 0u64;
    let mut first = Vec::with_capacity(n);
    for i in 0..n {
        first.push((i, hash(i, 0)?));
    }
    let mut work: Vec<Pending> = vec![(first, 0, true)];
    while let Some((keys, level, head)) = work.pop() {
        let mut buckets: [Vec<(usize, u32)>; 16] = Default::default();
        for (i, hx) in keys {
            buckets[(hx & 0xF) as usize].push((i, hx));
        }
        let slots = buckets.iter().filter(|b| !b.is_empty()).count() as u64;
        words += slots
            + if head {
                costs.hamt_head_header
            } else {
                costs.hamt_node_header
            };
        for bucket in buckets {
            match bucket.len() {
                0 => {}
                1 => words += costs.hamt_leaf,
                _ => {
                    let next = level + 1;
                    if next > MAX_LEVEL {
                        return Err(Error::Unsupported {
                            what: "map keys whose hashes collide at every salt",
                        });
                    }
                    let mut moved = Vec::with_capacity(bucket.len());
                    for (i, hx) in bucket {
                        let hx = if next & 7 != 0 {
                            hx >> 4
                        } else {
                            hash(i, next >> 3)?
                        };
                        moved.push((i, hx));
                    }
                    work.push((moved, next, false));
                }
            }
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::OTP25_64;

    #[test]
    fn sixteen_distinct_slots_make_a_full_head() {
        let w = hamt_words(16, &OTP25_64, |i, _| Ok(i as u32)).unwrap();
        assert_eq!(w, 2 + 16 + 16 * 2);
    }

    #[test]
    fn shared_slot_makes_a_node() {
        // Keys 0 and 16 share slot 0 at level 0 and split at level 1.
        let w = hamt_words(2, &OTP25_64, |i, _| Ok(if i == 0 { 0 } else { 16 })).unwrap();
        assert_eq!(w, (2 + 1) + (1 + 2) + 2 * 2);
    }

    #[test]
    fn rehash_after_eight_levels() {
        // Equal 32-bit hashes at depth 0, different at depth 1.
        let w = hamt_words(2, &OTP25_64, |i, d| Ok(if d == 0 { 7 } else { i as u32 })).unwrap();
        // head(1 slot) + 7 single-slot nodes + node at level 8 with 2 leaves.
        assert_eq!(w, 3 + 7 * 2 + 3 + 4);
    }
}
