//! FIFO: evict the oldest insertion; accesses change nothing. One list.

use super::{PolNode, Policy};
use crate::pool::list::List;
use crate::pool::rng::SplitMix64;

/// First in, first out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fifo {
    queue: List,
}

impl Policy for Fifo {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        self.queue.push_back(nodes, i);
    }
    fn touch(&mut self, _nodes: &mut [PolNode], _i: u32) {}
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        self.queue.remove(nodes, i);
    }
    fn victim(&mut self, _nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        self.queue.front()
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        u128::from(nodes[i as usize].born)
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
    fn insertion_order_whatever_the_accesses() {
        let mut b = Bench::new(Fifo::default(), 4);
        (0..4).for_each(|i| b.insert(i));
        b.touch(0);
        b.touch(0);
        assert_eq!(b.drain(), [0, 1, 2, 3]);
    }
}
