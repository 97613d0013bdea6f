//! S3-FIFO (Yang, Zhang, Qiu, Yue, Rashmi: "FIFO queues are all you need
//! for cache eviction", SOSP 2023): a small FIFO `S` (10% of the entries)
//! where new entries wait, and a main FIFO `M` with second chances.
//!
//! - an access raises the entry's counter, capped at 3;
//! - when `S` holds ≥ 10% of the entries (or `M` is empty), its oldest
//!   entry is examined: accessed since insertion (counter ≥ 1) → moved to
//!   `M` (keeping its counter), else it is the victim — one-hit entries
//!   (a scan) never displace the working set in `M`;
//! - otherwise `M`'s oldest is examined: counter > 0 → decremented and
//!   reinserted at `M`'s tail, else it is the victim.
//!
//! Each insertion and access pays for at most one move or reinsertion, so a
//! victim costs amortized O(1). The paper's ghost queue `G` recognises a
//! returning *key*; pool entries have no key (a new put is a new entry), so
//! `G` is left out.

use super::{PolNode, Policy};
use crate::pool::list::List;
use crate::pool::rng::SplitMix64;

const SMALL: u32 = 0;
const MAIN: u32 = 1;
const MAX_FREQ: u64 = 3;

/// S3-FIFO without the ghost queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct S3Fifo {
    small: List,
    main: List,
}

impl Policy for S3Fifo {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, _now_ms: u64) {
        self.small.push_back(nodes, i);
        nodes[i as usize].aux = SMALL;
        nodes[i as usize].freq = 0;
    }

    fn touch(&mut self, nodes: &mut [PolNode], i: u32) {
        let n = &mut nodes[i as usize];
        n.freq = (n.freq + 1).min(MAX_FREQ);
    }

    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        if nodes[i as usize].aux == SMALL {
            self.small.remove(nodes, i);
        } else {
            self.main.remove(nodes, i);
        }
    }

    fn victim(&mut self, nodes: &mut [PolNode], _rng: &mut SplitMix64) -> Option<u32> {
        loop {
            let total = self.small.len() + self.main.len();
            if total == 0 {
                return None;
            }
            if !self.small.is_empty() && (self.small.len() * 10 >= total || self.main.is_empty()) {
                let t = self.small.front()?;
                if nodes[t as usize].freq == 0 {
                    return Some(t);
                }
                self.small.remove(nodes, t);
                self.main.push_back(nodes, t);
                nodes[t as usize].aux = MAIN;
            } else {
                let t = self.main.front()?;
                if nodes[t as usize].freq == 0 {
                    return Some(t);
                }
                nodes[t as usize].freq -= 1;
                self.main.move_to_back(nodes, t);
            }
        }
    }

    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        u128::from(nodes[i as usize].born)
    }

    fn len(&self) -> usize {
        self.small.len() + self.main.len()
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
    fn a_scan_does_not_flush_the_working_set() {
        // 10 hot entries, used twice; then a scan of 100 one-hit entries with
        // the pool capped at 20: the hot ones survive.
        let mut b = Bench::new(S3Fifo::default(), 200);
        for i in 0..10 {
            b.insert(i);
            b.touch(i);
            b.touch(i);
        }
        for i in 10..110 {
            if b.p.len() == 20 {
                let v = b.evict().unwrap();
                assert!(v >= 10, "evicted hot entry {v}");
            }
            b.insert(i);
        }
        for i in 0..10 {
            assert_eq!(b.nodes[i].aux, MAIN);
        }
    }

    #[test]
    fn unaccessed_small_entries_go_first_in_order() {
        let mut b = Bench::new(S3Fifo::default(), 4);
        (0..4).for_each(|i| b.insert(i));
        b.touch(1);
        assert_eq!(b.drain(), [0, 2, 3, 1]);
    }
}
