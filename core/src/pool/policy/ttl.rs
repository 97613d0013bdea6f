//! TTL: evict the entry soonest to expire (to the wheel's resolution; ties
//! in insertion order), entries without a TTL last, oldest first. A timing
//! wheel (see `wheel.rs`) plus one list.

use super::{PolNode, Policy};
use crate::pool::list::List;
use crate::pool::rng::SplitMix64;
use crate::pool::wheel::{Wheel, NEVER};

/// Soonest to expire first.
#[derive(Debug, Clone)]
pub(crate) struct Ttl {
    wheel: Wheel,
    never: List,
}

impl Ttl {
    /// A policy whose buckets are `res_ms` wide.
    pub(crate) fn new(res_ms: u64) -> Self {
        Ttl {
            wheel: Wheel::new(res_ms),
            never: List::EMPTY,
        }
    }
}

impl Policy for Ttl {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, now_ms: u64) {
        if nodes[i as usize].expires == NEVER {
            self.never.push_back(nodes, i);
        } else {
            self.wheel.insert(nodes, i, now_ms);
        }
    }
    fn touch(&mut self, _nodes: &mut [PolNode], _i: u32) {}
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        if nodes[i as usize].expires == NEVER {
            self.never.remove(nodes, i);
        } else {
            self.wheel.remove(nodes, i);
        }
    }
    fn victim(&mut self, _nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        self.wheel.first().or_else(|| self.never.front())
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        let n = &nodes[i as usize];
        (u128::from(n.expires) << 64) | u128::from(n.born)
    }
    fn len(&self) -> usize {
        self.wheel.len() + self.never.len()
    }
    fn heap_bytes(&self) -> usize {
        self.wheel.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Bench;
    use super::*;

    #[test]
    fn soonest_expiry_first_then_no_ttl_in_order() {
        let mut b = Bench::new(Ttl::new(1), 6);
        b.insert(0);
        b.insert_exp(1, 500, 0);
        b.insert_exp(2, 100, 0);
        b.insert(3);
        b.insert_exp(4, 300, 0);
        b.insert_exp(5, 100, 0);
        b.touch(0);
        assert_eq!(b.drain(), [2, 5, 4, 1, 0, 3]);
    }
}
