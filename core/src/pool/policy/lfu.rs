//! LFU in O(1) (Shah, Mitra, Matani 2010): frequency buckets in a list
//! ordered by frequency, each bucket a list of its nodes in order of their
//! last access. An access moves a node to the next bucket (created if the
//! next one is not frequency + 1); the victim is the front of the first
//! bucket: least frequently used, ties to the least recently used.

use super::{PolNode, Policy};
use crate::pool::list::{List, NIL};
use crate::pool::rng::SplitMix64;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    freq: u64,
    nodes: List,
    prev: u32,
    next: u32,
}

/// Least frequently used.
#[derive(Debug, Clone)]
pub(crate) struct Lfu {
    buckets: Vec<Bucket>,
    free: Vec<u32>,
    head: u32,
    len: usize,
}

impl Default for Lfu {
    fn default() -> Self {
        Lfu {
            buckets: Vec::new(),
            free: Vec::new(),
            head: NIL,
            len: 0,
        }
    }
}

impl Lfu {
    /// A new bucket of `freq` linked between `prev` and `next`.
    fn new_bucket(&mut self, freq: u64, prev: u32, next: u32) -> u32 {
        let b = Bucket {
            freq,
            nodes: List::EMPTY,
            prev,
            next,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.buckets[id as usize] = b;
                id
            }
            None => {
                self.buckets.push(b);
                (self.buckets.len() - 1) as u32
            }
        };
        if prev == NIL {
            self.head = id;
        } else {
            self.buckets[prev as usize].next = id;
        }
        if next != NIL {
            self.buckets[next as usize].prev = id;
        }
        id
    }

    fn unlink_bucket(&mut self, id: u32) {
        let Bucket { prev, next, .. } = self.buckets[id as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.buckets[prev as usize].next = next;
        }
        if next != NIL {
            self.buckets[next as usize].prev = prev;
        }
        self.free.push(id);
    }
}

impl Policy for Lfu {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        let b = if self.head != NIL && self.buckets[self.head as usize].freq == 1 {
            self.head
        } else {
            self.new_bucket(1, NIL, self.head)
        };
        self.buckets[b as usize].nodes.push_back(nodes, i);
        nodes[i as usize].freq = 1;
        nodes[i as usize].aux = b;
        self.len += 1;
    }

    fn touch(&mut self, nodes: &mut [PolNode], i: u32) {
        let b = nodes[i as usize].aux;
        let Bucket { freq, next, .. } = self.buckets[b as usize];
        let f = freq.saturating_add(1);
        let nb = if next != NIL && self.buckets[next as usize].freq == f {
            next
        } else {
            self.new_bucket(f, b, next)
        };
        self.buckets[b as usize].nodes.remove(nodes, i);
        self.buckets[nb as usize].nodes.push_back(nodes, i);
        nodes[i as usize].freq = f;
        nodes[i as usize].aux = nb;
        if self.buckets[b as usize].nodes.is_empty() {
            self.unlink_bucket(b);
        }
    }

    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        let b = nodes[i as usize].aux;
        self.buckets[b as usize].nodes.remove(nodes, i);
        if self.buckets[b as usize].nodes.is_empty() {
            self.unlink_bucket(b);
        }
        self.len -= 1;
    }

    fn victim(&mut self, _nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        (self.head != NIL)
            .then(|| self.buckets[self.head as usize].nodes.front())
            .flatten()
    }

    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        let n = &nodes[i as usize];
        (u128::from(n.freq) << 64) | u128::from(n.last)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
            + self.free.capacity() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Bench;
    use super::*;

    #[test]
    fn least_frequent_first_ties_least_recent() {
        let mut b = Bench::new(Lfu::default(), 5);
        (0..5).for_each(|i| b.insert(i));
        b.touch(3);
        b.touch(3);
        b.touch(1);
        b.touch(0);
        // freq: 0:2 1:2 2:1 3:3 4:1; among freq 2, 1 was used before 0.
        assert_eq!(b.drain(), [2, 4, 1, 0, 3]);
        assert_eq!(b.p.head, NIL);
    }

    #[test]
    fn buckets_are_recycled() {
        let mut b = Bench::new(Lfu::default(), 2);
        for _ in 0..100 {
            b.insert(0);
            b.insert(1);
            (0..10).for_each(|_| b.touch(0));
            assert_eq!(b.drain(), [1, 0]);
        }
        assert!(b.p.buckets.len() <= 3, "{}", b.p.buckets.len());
    }
}
