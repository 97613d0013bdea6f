//! Eviction policies. Each is one file behind the [`Policy`] trait; all
//! keep their order in intrusive structures over slab indices, so insert,
//! access, removal and victim choice are O(1) (S3-FIFO's victim choice is
//! amortized O(1)).
//!
//! A shard runs one policy instance per domain (so a domain over its own
//! limit evicts from itself); [`PolicySet`] picks among the domains' victims
//! by the policy's own order ([`Policy::rank`]), so within a shard the
//! order is exactly the policy's whatever the domains.

mod lfu;
mod queue;
mod random;
mod s3fifo;
mod ttl;

use super::config::{Domain, PolicyKind};
use super::list::{Linked, Links};
use super::rng::SplitMix64;
use super::wheel::WheelItem;

pub(crate) use lfu::Lfu;
pub(crate) use queue::{Fifo, Lru};
pub(crate) use random::Random;
pub(crate) use s3fifo::S3Fifo;
pub(crate) use ttl::Ttl;

/// Per-slot policy state (one per slab slot, used by the slot's domain's
/// policy instance).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolNode {
    pub(crate) links: Links,
    /// Shard tick at insertion.
    pub(crate) born: u64,
    /// Shard tick at the last access.
    pub(crate) last: u64,
    /// Expiry (clock ms, `NEVER` if none).
    pub(crate) expires: u64,
    /// LFU: access count; S3-FIFO: the 0..=3 counter.
    pub(crate) freq: u64,
    /// LFU: bucket id; TTL: wheel slot; Random: dense position; S3-FIFO: queue.
    pub(crate) aux: u32,
}

impl Default for PolNode {
    fn default() -> Self {
        PolNode {
            links: Links::default(),
            born: 0,
            last: 0,
            expires: super::wheel::NEVER,
            freq: 0,
            aux: 0,
        }
    }
}

impl Linked for PolNode {
    fn links(&self) -> &Links {
        &self.links
    }
    fn links_mut(&mut self) -> &mut Links {
        &mut self.links
    }
}

impl WheelItem for PolNode {
    fn expires(&self) -> u64 {
        self.expires
    }
    fn slot(&self) -> u32 {
        self.aux
    }
    fn set_slot(&mut self, slot: u32) {
        self.aux = slot;
    }
}

/// One eviction policy over the entries of one domain of one shard. The
/// shard sets `born`, `last` and `expires` of a node before calling in.
pub(crate) trait Policy {
    /// Node `i` joins. `now_ms` is the clock (used by TTL).
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, now_ms: u64);
    /// Node `i` was accessed (get, update); `nodes[i].last` is already the new tick.
    fn touch(&mut self, nodes: &mut [PolNode], i: u32);
    /// Node `i` leaves (released, expired, evicted, reclaimed).
    fn remove(&mut self, nodes: &mut [PolNode], i: u32);
    /// The node the policy would evict next (not removed; may reorder, as
    /// S3-FIFO's second chances do).
    fn victim(&mut self, nodes: &mut [PolNode], rng: &mut SplitMix64) -> Option<u32>;
    /// Eviction order across instances: the lower rank goes first.
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128;
    /// Number of nodes.
    fn len(&self) -> usize;
    /// Heap bytes the instance holds (beyond the per-slot nodes).
    fn heap_bytes(&self) -> usize;
}

/// One policy instance, by kind (static dispatch).
#[derive(Debug, Clone)]
pub(crate) enum AnyPolicy {
    Lru(Lru),
    Lfu(Lfu),
    Fifo(Fifo),
    Ttl(Ttl),
    Random(Random),
    S3Fifo(S3Fifo),
}

macro_rules! dispatch {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            AnyPolicy::Lru($p) => $e,
            AnyPolicy::Lfu($p) => $e,
            AnyPolicy::Fifo($p) => $e,
            AnyPolicy::Ttl($p) => $e,
            AnyPolicy::Random($p) => $e,
            AnyPolicy::S3Fifo($p) => $e,
        }
    };
}

impl AnyPolicy {
    fn new(kind: PolicyKind, ttl_resolution_ms: u64) -> Self {
        match kind {
            PolicyKind::Lru => AnyPolicy::Lru(Lru::default()),
            PolicyKind::Lfu => AnyPolicy::Lfu(Lfu::default()),
            PolicyKind::Fifo => AnyPolicy::Fifo(Fifo::default()),
            PolicyKind::Ttl => AnyPolicy::Ttl(Ttl::new(ttl_resolution_ms)),
            PolicyKind::Random => AnyPolicy::Random(Random::default()),
            PolicyKind::S3Fifo => AnyPolicy::S3Fifo(S3Fifo::default()),
        }
    }
}

impl Policy for AnyPolicy {
    fn insert(&mut self, nodes: &mut [PolNode], i: u32, now_ms: u64) {
        dispatch!(self, p => p.insert(nodes, i, now_ms))
    }
    fn touch(&mut self, nodes: &mut [PolNode], i: u32) {
        dispatch!(self, p => p.touch(nodes, i))
    }
    fn remove(&mut self, nodes: &mut [PolNode], i: u32) {
        dispatch!(self, p => p.remove(nodes, i))
    }
    fn victim(&mut self, nodes: &mut [PolNode], rng: &mut SplitMix64) -> Option<u32> {
        dispatch!(self, p => p.victim(nodes, rng))
    }
    fn rank(&self, nodes: &[PolNode], i: u32) -> u128 {
        dispatch!(self, p => p.rank(nodes, i))
    }
    fn len(&self) -> usize {
        dispatch!(self, p => p.len())
    }
    fn heap_bytes(&self) -> usize {
        dispatch!(self, p => p.heap_bytes())
    }
}

/// The policy instances of one shard, one per domain.
#[derive(Debug, Clone)]
pub(crate) struct PolicySet {
    kind: PolicyKind,
    per_domain: [AnyPolicy; Domain::COUNT],
    rng: SplitMix64,
}

impl PolicySet {
    /// Instances of `kind`; `seed` drives the Random policy.
    pub(crate) fn new(kind: PolicyKind, ttl_resolution_ms: u64, seed: u64) -> Self {
        PolicySet {
            kind,
            per_domain: std::array::from_fn(|_| AnyPolicy::new(kind, ttl_resolution_ms)),
            rng: SplitMix64::new(seed),
        }
    }

    /// Node `i` of domain `d` joins.
    pub(crate) fn insert(&mut self, nodes: &mut [PolNode], d: Domain, i: u32, now_ms: u64) {
        self.per_domain[d.idx()].insert(nodes, i, now_ms);
    }

    /// Node `i` of domain `d` was accessed.
    pub(crate) fn touch(&mut self, nodes: &mut [PolNode], d: Domain, i: u32) {
        self.per_domain[d.idx()].touch(nodes, i);
    }

    /// Node `i` of domain `d` leaves.
    pub(crate) fn remove(&mut self, nodes: &mut [PolNode], d: Domain, i: u32) {
        self.per_domain[d.idx()].remove(nodes, i);
    }

    /// The next victim: of domain `only` if given, else of any domain (the
    /// lowest-ranked domain victim; for Random, uniform over all entries).
    pub(crate) fn victim(&mut self, nodes: &mut [PolNode], only: Option<Domain>) -> Option<u32> {
        if let Some(d) = only {
            return self.per_domain[d.idx()].victim(nodes, &mut self.rng);
        }
        if self.kind == PolicyKind::Random {
            let total: usize = self.per_domain.iter().map(Policy::len).sum();
            if total == 0 {
                return None;
            }
            let mut r = self.rng.below(total);
            for p in &self.per_domain {
                if r < p.len() {
                    let AnyPolicy::Random(p) = p else {
                        unreachable!("a Random set holds Random instances")
                    };
                    return Some(p.at(r));
                }
                r -= p.len();
            }
            return None;
        }
        let mut best: Option<(u128, u32)> = None;
        for p in &mut self.per_domain {
            if let Some(i) = p.victim(nodes, &mut self.rng) {
                let r = p.rank(nodes, i);
                if best.is_none_or(|(br, _)| r < br) {
                    best = Some((r, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// Heap bytes held by the instances.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.per_domain.iter().map(Policy::heap_bytes).sum()
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Drives one policy instance directly for the unit tests.
    use super::*;

    /// A policy over `n` nodes, with a shard-like tick.
    pub(crate) struct Bench<P: Policy> {
        pub(crate) p: P,
        pub(crate) nodes: Vec<PolNode>,
        pub(crate) tick: u64,
        pub(crate) rng: SplitMix64,
    }

    impl<P: Policy> Bench<P> {
        pub(crate) fn new(p: P, n: usize) -> Self {
            Bench {
                p,
                nodes: vec![PolNode::default(); n],
                tick: 0,
                rng: SplitMix64::new(1),
            }
        }
        pub(crate) fn insert_exp(&mut self, i: u32, expires: u64, now: u64) {
            self.tick += 1;
            let n = &mut self.nodes[i as usize];
            *n = PolNode {
                born: self.tick,
                last: self.tick,
                expires,
                ..PolNode::default()
            };
            self.p.insert(&mut self.nodes, i, now);
        }
        pub(crate) fn insert(&mut self, i: u32) {
            self.insert_exp(i, super::super::wheel::NEVER, 0);
        }
        pub(crate) fn touch(&mut self, i: u32) {
            self.tick += 1;
            self.nodes[i as usize].last = self.tick;
            self.p.touch(&mut self.nodes, i);
        }
        pub(crate) fn evict(&mut self) -> Option<u32> {
            let v = self.p.victim(&mut self.nodes, &mut self.rng)?;
            self.p.remove(&mut self.nodes, v);
            Some(v)
        }
        pub(crate) fn drain(&mut self) -> Vec<u32> {
            std::iter::from_fn(|| self.evict()).collect()
        }
    }
}
