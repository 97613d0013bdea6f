//! One shard: a slab of slots with generations, the shard's policy
//! instances, its expiry wheel, its owner index and its counters. Every
//! method runs under the shard's lock; pool-wide limits are reserved by the
//! caller (see `budget.rs`) and given back here when an entry leaves.

use rustc_hash::FxHashMap;
use std::sync::Arc;

use super::budget::Budget;
use super::clock::Clock;
use super::config::{Domain, PoolConfig};
use super::handle::{Handle, MAX_SLOTS_PER_SHARD};
use super::list::{Linked, Links, List, NIL};
use super::policy::{PolNode, PolicySet};
use super::stats::Counters;
use super::wheel::{Wheel, WheelItem, NEVER};
use crate::{Error, Result};

/// Fewest free slots at which a shard looks at giving its slab back
/// ([`Shard::maybe_shrink`]).
const SHRINK_MIN_FREE: usize = 4096;

/// Why an entry leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    Released,
    Evicted,
    Expired,
}

/// A slot of the slab.
#[derive(Debug)]
struct Slot {
    generation: u32,
    live: bool,
    in_policy: bool,
    domain: Domain,
    owner: Option<u64>,
    data: Vec<u8>,
}

/// A slot's node in the expiry wheel.
#[derive(Debug, Clone, Copy)]
struct ExpNode {
    links: Links,
    expires: u64,
    slot: u32,
}

impl Linked for ExpNode {
    fn links(&self) -> &Links {
        &self.links
    }
    fn links_mut(&mut self) -> &mut Links {
        &mut self.links
    }
}

impl WheelItem for ExpNode {
    fn expires(&self) -> u64 {
        self.expires
    }
    fn slot(&self) -> u32 {
        self.slot
    }
    fn set_slot(&mut self, slot: u32) {
        self.slot = slot;
    }
}

/// A live entry as a checkpoint records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) domain: Domain,
    pub(crate) owner: Option<u64>,
    pub(crate) ttl_ms: Option<u64>,
    pub(crate) data: Vec<u8>,
}

/// One shard.
#[derive(Debug)]
pub(crate) struct Shard {
    id: usize,
    slots: Vec<Slot>,
    pol: Vec<PolNode>,
    exp: Vec<ExpNode>,
    own: Vec<Links>,
    free: Vec<u32>,
    policy: PolicySet,
    expiry: Wheel,
    /// Owner -> its entries. FxHash: owners are ids the embedding program
    /// picks (not remote input), and this map is on every owned put/release.
    owners: FxHashMap<u64, List>,
    tick: u64,
    /// The generation of a new slot: random per pool, so a handle of another
    /// pool (or of this pool's predecessor) is stale here, not another entry.
    first_generation: u32,
    sweep_budget: usize,
    /// Free slots at which [`Shard::maybe_shrink`] next looks at the slab.
    next_shrink: usize,
    budget: Arc<Budget>,
    pub(crate) c: Counters,
}

impl Shard {
    /// Shard number `id` of a pool configured by `cfg` (validated).
    pub(crate) fn new(
        id: usize,
        cfg: &PoolConfig,
        budget: Arc<Budget>,
        first_generation: u32,
    ) -> Shard {
        let res = u64::try_from(cfg.ttl_resolution.as_millis()).unwrap_or(u64::MAX);
        Shard {
            id,
            slots: Vec::new(),
            pol: Vec::new(),
            exp: Vec::new(),
            own: Vec::new(),
            free: Vec::new(),
            policy: PolicySet::new(cfg.policy, res, cfg.seed.wrapping_add(id as u64)),
            expiry: Wheel::new(res),
            owners: FxHashMap::default(),
            tick: 0,
            first_generation,
            sweep_budget: cfg.sweep_budget,
            next_shrink: SHRINK_MIN_FREE,
            budget,
            c: Counters::default(),
        }
    }

    /// Whether any entry has a TTL (then operations need the clock).
    pub(crate) fn has_expiring(&self) -> bool {
        self.expiry.len() > 0
    }

    /// Whether an entry can be inserted (a free slot, or room for one).
    pub(crate) fn has_room(&self) -> bool {
        !self.free.is_empty() || self.slots.len() < MAX_SLOTS_PER_SHARD
    }

    /// The handles of the live entries.
    pub(crate) fn handles(&self) -> impl Iterator<Item = Handle> + '_ {
        (0..self.slots.len() as u32)
            .filter(|&i| self.slots[i as usize].live)
            .map(|i| self.handle(i))
    }

    /// The slot `h` names, if it is live with `h`'s generation.
    pub(crate) fn check(&self, h: Handle) -> Option<u32> {
        let i = h.index();
        let s = self.slots.get(i as usize)?;
        (s.live && s.generation == h.generation()).then_some(i)
    }

    fn handle(&self, i: u32) -> Handle {
        Handle::new(self.id, i, self.slots[i as usize].generation)
    }

    /// Stores an entry whose budget the caller has reserved.
    pub(crate) fn insert(
        &mut self,
        domain: Domain,
        owner: Option<u64>,
        data: Vec<u8>,
        expires: u64,
        now: u64,
    ) -> Result<Handle> {
        let i = match self.free.pop() {
            Some(i) => {
                self.c.reused += 1;
                i
            }
            None => {
                if self.slots.len() >= MAX_SLOTS_PER_SHARD {
                    return Err(Error::PoolExhausted {
                        limit: "slots per shard (2^24)",
                    });
                }
                self.slots.push(Slot {
                    generation: self.first_generation,
                    live: false,
                    in_policy: false,
                    domain,
                    owner: None,
                    data: Vec::new(),
                });
                self.pol.push(PolNode::default());
                self.exp.push(ExpNode {
                    links: Links::default(),
                    expires: NEVER,
                    slot: NIL,
                });
                self.own.push(Links::default());
                self.c.created += 1;
                (self.slots.len() - 1) as u32
            }
        };
        let len = data.len() as u64;
        self.c.in_use += 1;
        self.c.bytes_stored += len;
        self.c.payload_capacity += data.capacity() as u64;
        let ds = &mut self.c.domains[domain.idx()];
        ds.entries += 1;
        ds.bytes += len;
        let s = &mut self.slots[i as usize];
        s.live = true;
        s.domain = domain;
        s.owner = owner;
        s.data = data;
        if let Some(o) = owner {
            self.owners
                .entry(o)
                .or_default()
                .push_back(&mut self.own, i);
        }
        if expires != NEVER {
            self.exp[i as usize].expires = expires;
            self.expiry.insert(&mut self.exp, i, now);
        }
        self.attach(i, expires, now);
        Ok(self.handle(i))
    }

    /// Puts slot `i` (live, not in its policy) into its policy as a new entry.
    pub(crate) fn attach(&mut self, i: u32, expires: u64, now: u64) {
        self.tick += 1;
        self.pol[i as usize] = PolNode {
            born: self.tick,
            last: self.tick,
            expires,
            ..PolNode::default()
        };
        let s = &mut self.slots[i as usize];
        s.in_policy = true;
        self.policy.insert(&mut self.pol, s.domain, i, now);
    }

    /// Takes slot `i` out of its policy (it cannot be evicted meanwhile).
    pub(crate) fn detach(&mut self, i: u32) {
        let s = &mut self.slots[i as usize];
        if s.in_policy {
            s.in_policy = false;
            self.policy.remove(&mut self.pol, s.domain, i);
        }
    }

    /// The expiry of slot `i`.
    pub(crate) fn expires(&self, i: u32) -> u64 {
        self.pol[i as usize].expires
    }

    /// Removes live slot `i`, gives its budget back, frees its payload, and
    /// bumps its generation (retiring the slot if the generation would wrap).
    pub(crate) fn remove(&mut self, i: u32, cause: Cause) {
        self.detach(i);
        let s = &mut self.slots[i as usize];
        let (domain, owner) = (s.domain, s.owner.take());
        let data = std::mem::take(&mut s.data);
        s.live = false;
        let retired = s.generation == u32::MAX;
        s.generation = s.generation.wrapping_add(1);
        if let Some(o) = owner {
            if let Some(list) = self.owners.get_mut(&o) {
                list.remove(&mut self.own, i);
                if list.is_empty() {
                    self.owners.remove(&o);
                }
            }
        }
        if self.exp[i as usize].expires != NEVER {
            self.expiry.remove(&mut self.exp, i);
            self.exp[i as usize].expires = NEVER;
        }
        let len = data.len() as u64;
        self.budget.release(domain, 1, len);
        self.c.in_use -= 1;
        self.c.bytes_stored -= len;
        self.c.payload_capacity -= data.capacity() as u64;
        let ds = &mut self.c.domains[domain.idx()];
        ds.entries -= 1;
        ds.bytes -= len;
        match cause {
            Cause::Released => self.c.released += 1,
            Cause::Evicted => {
                self.c.evicted += 1;
                ds.evicted += 1;
            }
            Cause::Expired => {
                self.c.expired += 1;
                ds.expired += 1;
            }
        }
        if !retired {
            self.free.push(i);
        }
    }

    /// The live, unexpired slot `h` names, as an access: a hit touches the
    /// policy; a stale or expired handle is a miss (an expired entry is
    /// removed on the spot).
    pub(crate) fn access(&mut self, h: Handle, clock: &dyn Clock, count: bool) -> Result<u32> {
        let stale = Error::StaleHandle { handle: h.to_raw() };
        let Some(i) = self.check(h) else {
            self.c.misses += u64::from(count);
            return Err(stale);
        };
        if self.expires(i) != NEVER && self.expires(i) <= clock.now_ms() {
            self.remove(i, Cause::Expired);
            self.maybe_shrink();
            self.c.misses += u64::from(count);
            return Err(stale);
        }
        if count {
            self.c.hits += 1;
            self.c.domains[self.slots[i as usize].domain.idx()].hits += 1;
        }
        self.touch(i);
        Ok(i)
    }

    fn touch(&mut self, i: u32) {
        let s = &self.slots[i as usize];
        if s.in_policy {
            self.tick += 1;
            self.pol[i as usize].last = self.tick;
            self.policy.touch(&mut self.pol, s.domain, i);
        }
    }

    /// The payload of live slot `i`.
    pub(crate) fn data(&self, i: u32) -> &[u8] {
        &self.slots[i as usize].data
    }

    /// The domain of live slot `i`.
    pub(crate) fn domain(&self, i: u32) -> Domain {
        self.slots[i as usize].domain
    }

    /// Replaces the payload of live slot `i` (the budget is the caller's).
    pub(crate) fn set_data(&mut self, i: u32, data: Vec<u8>) {
        let s = &mut self.slots[i as usize];
        let old = std::mem::replace(&mut s.data, data);
        let (new_len, new_cap) = (s.data.len() as u64, s.data.capacity() as u64);
        let ds = &mut self.c.domains[s.domain.idx()];
        ds.bytes = ds.bytes - old.len() as u64 + new_len;
        self.c.bytes_stored = self.c.bytes_stored - old.len() as u64 + new_len;
        self.c.payload_capacity = self.c.payload_capacity - old.capacity() as u64 + new_cap;
    }

    /// Removes up to `sweep_budget` (or `steps`, if given) bucket entries'
    /// worth of expired entries; returns how many expired.
    pub(crate) fn sweep(&mut self, now: u64, steps: Option<usize>) -> usize {
        let mut steps = steps.unwrap_or(self.sweep_budget);
        let mut n = 0;
        while let Some(i) = self.expiry.pop_due(&mut self.exp, now, &mut steps) {
            // pop_due unfiled it already.
            self.exp[i as usize].expires = NEVER;
            self.remove(i, Cause::Expired);
            n += 1;
        }
        if n > 0 {
            self.maybe_shrink();
        }
        n
    }

    /// Evicts the policy's next victim (of domain `only`, if given).
    pub(crate) fn evict_one(&mut self, only: Option<Domain>) -> bool {
        match self.policy.victim(&mut self.pol, only) {
            Some(i) => {
                self.remove(i, Cause::Evicted);
                true
            }
            None => false,
        }
    }

    /// Releases up to `max` entries of `owner`; returns how many, and
    /// whether it has more here.
    pub(crate) fn release_owner(&mut self, owner: u64, max: usize) -> (usize, bool) {
        let Some(list) = self.owners.get(&owner) else {
            return (0, false);
        };
        let slots: Vec<u32> = list.iter(&self.own).take(max.saturating_add(1)).collect();
        let n = slots.len().min(max);
        for &i in &slots[..n] {
            self.remove(i, Cause::Released);
        }
        self.maybe_shrink();
        (n, slots.len() > max)
    }

    /// Whether `owner` has entries here.
    pub(crate) fn owns(&self, owner: u64) -> bool {
        self.owners.contains_key(&owner)
    }

    /// `(entries, payload bytes)` of `owner`.
    pub(crate) fn owner_usage(&self, owner: u64) -> (usize, u64) {
        self.owners.get(&owner).map_or((0, 0), |list| {
            list.iter(&self.own).fold((0, 0), |(n, b), i| {
                (n + 1, b + self.slots[i as usize].data.len() as u64)
            })
        })
    }

    /// Releases every entry; returns how many.
    pub(crate) fn clear(&mut self) -> usize {
        let live: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&i| self.slots[i as usize].live)
            .collect();
        for &i in &live {
            self.remove(i, Cause::Released);
        }
        self.maybe_shrink();
        live.len()
    }

    /// Gives the slab's free tail back to the allocator once at least half
    /// of the slab, and at least [`SHRINK_MIN_FREE`] slots, are free; called
    /// after entries leave. A live entry keeps the slots below it (handles
    /// name slots by index). Amortized O(1): after a look, the next waits
    /// until the free slots have doubled, or the whole slab is free.
    pub(crate) fn maybe_shrink(&mut self) {
        let free = self.free.len();
        if free < self.next_shrink || free * 2 < self.slots.len() {
            return;
        }
        self.shrink();
        // Never above the slab itself: a fully free slab always shrinks.
        let whole = self.slots.len().max(SHRINK_MIN_FREE);
        self.next_shrink = SHRINK_MIN_FREE.max(self.free.len() * 2).min(whole);
    }

    /// Truncates the trailing run of free slots. A slot created later at
    /// one of those indices starts above every generation they reached, so
    /// a handle issued before the shrink stays stale.
    fn shrink(&mut self) {
        let mut is_free = vec![false; self.slots.len()];
        for &i in &self.free {
            is_free[i as usize] = true;
        }
        let mut keep = self.slots.len();
        let mut floor = self.first_generation;
        while keep > 0 && is_free[keep - 1] {
            keep -= 1;
            floor = floor.max(self.slots[keep].generation);
        }
        if keep == self.slots.len() {
            return;
        }
        self.first_generation = floor;
        self.slots.truncate(keep);
        self.pol.truncate(keep);
        self.exp.truncate(keep);
        self.own.truncate(keep);
        self.free.retain(|&i| (i as usize) < keep);
        self.slots.shrink_to_fit();
        self.pol.shrink_to_fit();
        self.exp.shrink_to_fit();
        self.own.shrink_to_fit();
        self.free.shrink_to_fit();
        self.owners.shrink_to_fit();
    }

    /// The live, unexpired entries, for a checkpoint.
    pub(crate) fn snapshot(&self, now: u64, out: &mut Vec<Snapshot>) {
        for (i, s) in self.slots.iter().enumerate() {
            if !s.live {
                continue;
            }
            let e = self.pol[i].expires;
            if e != NEVER && e <= now {
                continue;
            }
            out.push(Snapshot {
                domain: s.domain,
                owner: s.owner,
                ttl_ms: (e != NEVER).then(|| e - now),
                data: s.data.clone(),
            });
        }
    }

    /// Free slots.
    pub(crate) fn available(&self) -> u64 {
        self.free.len() as u64
    }

    /// Bytes of the shard's structures (everything but the payloads).
    pub(crate) fn structure_bytes(&self) -> u64 {
        use std::mem::size_of;
        let per_owner = size_of::<u64>() + size_of::<List>() + 8; // key, value, control/padding
        (self.slots.capacity() * size_of::<Slot>()
            + self.pol.capacity() * size_of::<PolNode>()
            + self.exp.capacity() * size_of::<ExpNode>()
            + self.own.capacity() * size_of::<Links>()
            + self.free.capacity() * size_of::<u32>()
            + self.owners.capacity() * per_owner
            + self.policy.heap_bytes()
            + self.expiry.heap_bytes()) as u64
    }
}

#[cfg(test)]
impl Shard {
    /// Sets free slot `i`'s generation (tests of generation wrap).
    pub(crate) fn debug_set_generation(&mut self, i: u32, generation: u32) {
        self.slots[i as usize].generation = generation;
    }
}
