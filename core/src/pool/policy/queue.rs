//! FIFO and LRU: one list of entries, the front evicted first. FIFO keeps
//! insertion order whatever the accesses; LRU moves an accessed entry to the
//! back, so the front is the least recently used.

use super::{PolNode, Policy};
use crate::pool::list::List;
use crate::pool::rng::SplitMix64;

/// One eviction queue; `RECENCY` says whether an access moves the entry to
/// the back (LRU) or changes nothing (FIFO).
#[derive(Debug, Clone, Default)]
pub(crate) struct Queue<const RECENCY: bool> {
    queue: List,
}

/// First in, first out.
pub(crate) type Fifo = Queue<false>;
/// Least recently used.
pub(crate) type Lru = Queue<true>;

impl<const RECENCY: bool> Policy for Queue<RECENCY> {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        self.queue.push_back(nodes, i);
    }
    fn touch(&mut self, nodes: &mut [PolNode], i: u32) {
        if RECENCY {
            self.queue.move_to_back(nodes, i);
        }
    }
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        self.queue.remove(nodes, i);
    }
    fn victim(&mut self, _nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        self.queue.front()
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        let n = &nodes[i as usize];
        u128::from(if RECENCY { n.last } else { n.born })
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
    fn fifo_keeps_insertion_order_whatever_the_accesses() {
        let mut b = Bench::new(Fifo::default(), 4);
        (0..4).for_each(|i| b.insert(i));
        b.touch(0);
        b.touch(0);
        assert_eq!(b.drain(), [0, 1, 2, 3]);
    }

    #[test]
    fn lru_evicts_the_least_recently_used_first() {
        let mut b = Bench::new(Lru::default(), 4);
        (0..4).for_each(|i| b.insert(i));
        b.touch(0);
        b.touch(2);
        assert_eq!(b.drain(), [1, 3, 0, 2]);
    }
}
