//! A bucketed timing wheel: entries filed by expiry time, to the resolution,
//! in `WHEEL_SLOTS` lists; a two-level bitmap finds the first non-empty
//! bucket in O(1).
//!
//! Bucket `b` holds entries expiring in `((b-1)·res, b·res]`, so once the
//! clock reaches `b·res` every entry in it is due. Buckets cover
//! `[cursor, cursor + WHEEL_SLOTS)`; an expiry beyond that horizon is filed in
//! the last bucket and refiled when the sweep reaches it (each entry is
//! refiled once per horizon of time it has left: amortized O(1)).

use super::list::{Linked, List, NIL};

/// Buckets per wheel (the horizon is this many resolutions).
pub(crate) const WHEEL_SLOTS: usize = 1024;
const WORDS: usize = WHEEL_SLOTS / 64;

/// "Never expires".
pub(crate) const NEVER: u64 = u64::MAX;

/// A node a wheel can file: its links, expiry, and the bucket it is in.
pub(crate) trait WheelItem: Linked {
    /// Expiry in clock milliseconds.
    fn expires(&self) -> u64;
    /// The wheel slot the node is filed in.
    fn slot(&self) -> u32;
    /// Records the wheel slot.
    fn set_slot(&mut self, slot: u32);
}

/// The wheel. Its slot array is allocated at the first insert.
#[derive(Debug, Clone)]
pub(crate) struct Wheel {
    res: u64,
    cursor: u64,
    slots: Vec<List>,
    bits: [u64; WORDS],
    summary: u64,
    len: usize,
}

impl Wheel {
    /// An empty wheel of resolution `res_ms` (≥ 1).
    pub(crate) fn new(res_ms: u64) -> Self {
        Wheel {
            res: res_ms.max(1),
            cursor: 0,
            slots: Vec::new(),
            bits: [0; WORDS],
            summary: 0,
            len: 0,
        }
    }

    /// Number of entries filed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the slot array.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<List>()
    }

    fn bucket_of(&self, expires: u64) -> u64 {
        expires.div_ceil(self.res)
    }

    /// Files node `i` by its expiry (`now_ms` moves the cursor over empty buckets first).
    pub(crate) fn insert<T: WheelItem>(&mut self, nodes: &mut [T], i: u32, now_ms: u64) {
        if self.slots.is_empty() {
            self.slots = vec![List::EMPTY; WHEEL_SLOTS];
            self.cursor = now_ms / self.res;
        }
        self.advance(now_ms);
        self.file(nodes, i);
    }

    fn file<T: WheelItem>(&mut self, nodes: &mut [T], i: u32) {
        let b = self
            .bucket_of(nodes[i as usize].expires())
            .clamp(self.cursor, self.cursor + WHEEL_SLOTS as u64 - 1);
        let s = (b % WHEEL_SLOTS as u64) as usize;
        self.slots[s].push_back(nodes, i);
        nodes[i as usize].set_slot(s as u32);
        self.bits[s / 64] |= 1 << (s % 64);
        self.summary |= 1 << (s / 64);
        self.len += 1;
    }

    /// Unfiles node `i`.
    pub(crate) fn remove<T: WheelItem>(&mut self, nodes: &mut [T], i: u32) {
        let s = nodes[i as usize].slot() as usize;
        self.slots[s].remove(nodes, i);
        nodes[i as usize].set_slot(NIL);
        if self.slots[s].is_empty() {
            self.bits[s / 64] &= !(1 << (s % 64));
            if self.bits[s / 64] == 0 {
                self.summary &= !(1 << (s / 64));
            }
        }
        self.len -= 1;
    }

    /// The first non-empty slot at or after slot `start`, circularly.
    fn find_from(&self, start: usize) -> Option<usize> {
        let (w, b) = (start / 64, start % 64);
        let here = self.bits[w] & (!0u64 << b);
        if here != 0 {
            return Some(w * 64 + here.trailing_zeros() as usize);
        }
        let later = if w + 1 < 64 {
            self.summary & (!0u64 << (w + 1))
        } else {
            0
        };
        let word = if later != 0 { later } else { self.summary };
        if word == 0 {
            return None;
        }
        let w2 = word.trailing_zeros() as usize;
        Some(w2 * 64 + self.bits[w2].trailing_zeros() as usize)
    }

    /// The first non-empty bucket: (absolute bucket number, slot).
    fn first_bucket(&self) -> Option<(u64, usize)> {
        if self.len == 0 {
            return None;
        }
        let start = (self.cursor % WHEEL_SLOTS as u64) as usize;
        let s = self.find_from(start)?;
        let dist = (s + WHEEL_SLOTS - start) % WHEEL_SLOTS;
        Some((self.cursor + dist as u64, s))
    }

    /// Moves the cursor towards `now_ms`'s bucket, over empty buckets only.
    fn advance(&mut self, now_ms: u64) {
        let now_b = now_ms / self.res;
        if now_b <= self.cursor {
            return;
        }
        self.cursor = match self.first_bucket() {
            Some((b, _)) => b.min(now_b),
            None => now_b,
        };
    }

    /// The entry filed first in the earliest bucket (the soonest to expire,
    /// to the resolution; ties in filing order).
    pub(crate) fn first(&self) -> Option<u32> {
        self.first_bucket().and_then(|(_, s)| self.slots[s].front())
    }

    /// Unfiles and returns one entry due at `now_ms`, spending one of `steps`
    /// per bucket entry looked at (refiling entries beyond the horizon).
    /// `None` when nothing more is due or the steps ran out.
    pub(crate) fn pop_due<T: WheelItem>(
        &mut self,
        nodes: &mut [T],
        now_ms: u64,
        steps: &mut usize,
    ) -> Option<u32> {
        let now_b = now_ms / self.res;
        while *steps > 0 {
            let Some((b, s)) = self.first_bucket() else {
                self.cursor = self.cursor.max(now_b);
                return None;
            };
            if b > now_b {
                self.cursor = self.cursor.max(now_b);
                return None;
            }
            self.cursor = b;
            *steps -= 1;
            let i = self.slots[s].front()?;
            self.remove(nodes, i);
            if nodes[i as usize].expires() <= now_ms {
                return Some(i);
            }
            // Filed beyond the horizon: refile relative to the cursor.
            self.file(nodes, i);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::list::Links;

    #[derive(Default, Clone)]
    struct N {
        l: Links,
        e: u64,
        s: u32,
    }
    impl Linked for N {
        fn links(&self) -> &Links {
            &self.l
        }
        fn links_mut(&mut self) -> &mut Links {
            &mut self.l
        }
    }
    impl WheelItem for N {
        fn expires(&self) -> u64 {
            self.e
        }
        fn slot(&self) -> u32 {
            self.s
        }
        fn set_slot(&mut self, s: u32) {
            self.s = s
        }
    }

    fn nodes(exp: &[u64]) -> Vec<N> {
        exp.iter().map(|&e| N { e, ..N::default() }).collect()
    }

    #[test]
    fn first_is_soonest_and_pop_due_respects_time() {
        let mut n = nodes(&[50, 10, 30, 5000, 20]);
        let mut w = Wheel::new(10);
        for i in 0..5 {
            w.insert(&mut n, i, 0);
        }
        assert_eq!(w.first(), Some(1));
        let mut steps = 100;
        assert_eq!(w.pop_due(&mut n, 9, &mut steps), None);
        assert_eq!(w.pop_due(&mut n, 25, &mut steps), Some(1));
        assert_eq!(w.pop_due(&mut n, 25, &mut steps), Some(4));
        assert_eq!(w.pop_due(&mut n, 25, &mut steps), None);
        assert_eq!(w.first(), Some(2));
        let mut got = vec![];
        while let Some(i) = w.pop_due(&mut n, 100_000, &mut steps) {
            got.push(i);
        }
        assert_eq!(got, [2, 0, 3]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn beyond_the_horizon_is_refiled_not_expired_early() {
        let far = 10 * WHEEL_SLOTS as u64; // res 1: ten horizons away
        let mut n = nodes(&[far, 3]);
        let mut w = Wheel::new(1);
        w.insert(&mut n, 0, 0);
        w.insert(&mut n, 1, 0);
        let mut steps = usize::MAX;
        for t in (0..far).step_by(97) {
            if let Some(i) = w.pop_due(&mut n, t, &mut steps) {
                assert_eq!((i, t >= 3), (1, true));
            }
        }
        assert_eq!(w.first(), Some(0));
        assert_eq!(w.pop_due(&mut n, far, &mut steps), Some(0));
    }
}
