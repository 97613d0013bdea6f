//! LRU: evict the least recently used; an access moves the node to the back
//! of one list.

use super::{PolNode, Policy};
use crate::pool::list::List;
use crate::pool::rng::SplitMix64;

/// Least recently used.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lru {
    queue: List,
}

impl Policy for Lru {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        self.queue.push_back(nodes, i);
    }
    fn touch(&mut self, nodes: &mut [PolNode], i: u32) {
        self.queue.move_to_back(nodes, i);
    }
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        self.queue.remove(nodes, i);
    }
    fn victim(&mut self, _nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        self.queue.front()
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        u128::from(nodes[i as usize].last)
    }
    fn len(&self) -> usize {
        self.queue.len()
    }
    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Bench;
    use super::*;

    #[test]
    fn least_recently_used_first() {
        let mut b = Bench::new(Lru::default(), 4);
        (0..4).for_each(|i| b.insert(i));
        b.touch(0);
        b.touch(2);
        assert_eq!(b.drain(), [1, 3, 0, 2]);
    }
}
