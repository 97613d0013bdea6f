//! Random: evict a uniformly random entry. A dense array of members with
//! swap-remove (each node knows its position): O(1) everything.

use super::{PolNode, Policy};
use crate::pool::rng::SplitMix64;

/// Uniformly random eviction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Random {
    dense: Vec<u32>,
}

impl Random {
    /// The member at dense position `pos` (< len).
    pub(crate) fn at(&self, pos: usize) -> u32 {
        self.dense[pos]
    }
}

impl Policy for Random {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        nodes[i as usize].aux = self.dense.len() as u32;
        self.dense.push(i);
    }
    fn touch(&mut self, _nodes: &mut [PolNode], _i: u32) {}
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        let pos = nodes[i as usize].aux as usize;
        self.dense.swap_remove(pos);
        if let Some(&moved) = self.dense.get(pos) {
            nodes[moved as usize].aux = pos as u32;
        }
    }
    fn victim(&mut self, _nodes: &mut [PolNode], rng: &mut SplitMix64) -> Option<u32> {
        (!self.dense.is_empty()).then(|| self.dense[rng.below(self.dense.len())])
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        u128::from(nodes[i as usize].born)
    }
    fn len(&self) -> usize {
        self.dense.len()
    }
    fn heap_bytes(&self) -> usize {
        self.dense.capacity() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Bench;
    use super::*;

    #[test]
    fn evicts_every_member_once_and_roughly_uniformly() {
        let mut b = Bench::new(Random::default(), 8);
        (0..8).for_each(|i| b.insert(i));
        let mut d = b.drain();
        d.sort_unstable();
        assert_eq!(d, (0..8).collect::<Vec<_>>());

        // First victims of 8 members over many seeds: each about 1/8.
        let mut hits = [0u32; 8];
        for seed in 0..8000 {
            let mut b = Bench::new(Random::default(), 8);
            b.rng = SplitMix64::new(seed);
            (0..8).for_each(|i| b.insert(i));
            hits[b.evict().unwrap() as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
    }
}
