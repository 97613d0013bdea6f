//! What a pool reports: counts, bytes, pressure, per-domain figures.

use super::config::{Domain, PolicyKind};

/// How close the pool is to its tighter limit (entries or bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pressure {
    /// Below 60% (or no limit).
    Low,
    /// 60% to below 80%.
    Medium,
    /// 80% to below 90%.
    High,
    /// 90% or more.
    Critical,
}

impl Pressure {
    /// Every level, lowest first.
    pub const ALL: [Pressure; 4] = [
        Pressure::Low,
        Pressure::Medium,
        Pressure::High,
        Pressure::Critical,
    ];

    /// The level named `name` (see [`Pressure::as_str`]).
    pub fn from_name(name: &str) -> Option<Pressure> {
        Pressure::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The level of `used` out of `limit`.
    pub fn of(used: u64, limit: u64) -> Pressure {
        // Integer comparison: used/limit >= p/10  <=>  10·used >= p·limit.
        let (u, l) = (u128::from(used) * 10, u128::from(limit));
        if u >= 9 * l {
            Pressure::Critical
        } else if u >= 8 * l {
            Pressure::High
        } else if u >= 6 * l {
            Pressure::Medium
        } else {
            Pressure::Low
        }
    }

    /// The stable snake_case name (`"low"`, `"medium"`, `"high"`, `"critical"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Pressure::Low => "low",
            Pressure::Medium => "medium",
            Pressure::High => "high",
            Pressure::Critical => "critical",
        }
    }
}

/// Figures of one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DomainStats {
    /// Live entries.
    pub entries: u64,
    /// Payload bytes of the live entries.
    pub bytes: u64,
    /// Gets that found their entry.
    pub hits: u64,
    /// Entries of the domain evicted to make room.
    pub evicted: u64,
    /// Entries of the domain that expired.
    pub expired: u64,
}

/// A pool's figures. Shards are read one after the other, so under
/// concurrent writes the figures are each exact for some moment of the call,
/// not one snapshot; with no concurrent writer they reconcile exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolStats {
    /// The eviction policy.
    pub policy: PolicyKind,
    /// Number of shards.
    pub shards: usize,
    /// Live entries (including expired ones not yet swept; gets never return those).
    pub in_use: u64,
    /// Free slots kept for reuse (once half of a shard's slab is free, its
    /// free tail is given back to the allocator).
    pub available: u64,
    /// Puts that took a new slot.
    pub created: u64,
    /// Puts that reused a freed slot.
    pub reused: u64,
    /// Entries released (`release`, `release_owner`, `clear`).
    pub released: u64,
    /// Entries evicted to make room.
    pub evicted: u64,
    /// Entries removed because their TTL passed.
    pub expired: u64,
    /// Puts and updates refused with `PoolExhausted`.
    pub rejected: u64,
    /// Gets (and `with`) that found their entry.
    pub hits: u64,
    /// Gets on a stale handle (released, evicted, expired, unknown).
    pub misses: u64,
    /// Payload bytes of the live entries.
    pub bytes_stored: u64,
    /// Bytes the pool's storage holds: the capacities of the payload buffers
    /// plus the slab, policy, expiry and owner structures (the pool's own
    /// accounting of what it allocated, not the allocator's overhead).
    /// Released payloads are freed at once; the slab shrinks once half of a
    /// shard's slots are free, down to its highest live entry.
    pub bytes_allocated: u64,
    /// `reused / (reused + created)`, 0 before the first put; never above 1.
    pub reuse_ratio: f64,
    /// Pressure against the tighter of `max_entries` and `max_bytes`.
    pub pressure: Pressure,
    /// Per-domain figures, indexed by `Domain as usize`.
    pub domains: [DomainStats; Domain::COUNT],
}

/// The counters one shard keeps (under its lock).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub(crate) created: u64,
    pub(crate) reused: u64,
    pub(crate) released: u64,
    pub(crate) evicted: u64,
    pub(crate) expired: u64,
    pub(crate) rejected: u64,
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) in_use: u64,
    pub(crate) bytes_stored: u64,
    pub(crate) payload_capacity: u64,
    pub(crate) domains: [DomainStats; Domain::COUNT],
}

impl PoolStats {
    pub(crate) fn empty(policy: PolicyKind, shards: usize) -> PoolStats {
        PoolStats {
            policy,
            shards,
            in_use: 0,
            available: 0,
            created: 0,
            reused: 0,
            released: 0,
            evicted: 0,
            expired: 0,
            rejected: 0,
            hits: 0,
            misses: 0,
            bytes_stored: 0,
            bytes_allocated: 0,
            reuse_ratio: 0.0,
            pressure: Pressure::Low,
            domains: [DomainStats::default(); Domain::COUNT],
        }
    }

    /// Adds one shard's counters (and its structures' bytes).
    pub(crate) fn add(&mut self, c: &Counters, available: u64, structure_bytes: u64) {
        self.in_use += c.in_use;
        self.available += available;
        self.created += c.created;
        self.reused += c.reused;
        self.released += c.released;
        self.evicted += c.evicted;
        self.expired += c.expired;
        self.rejected += c.rejected;
        self.hits += c.hits;
        self.misses += c.misses;
        self.bytes_stored += c.bytes_stored;
        self.bytes_allocated += c.payload_capacity + structure_bytes;
        for (a, b) in self.domains.iter_mut().zip(&c.domains) {
            a.entries += b.entries;
            a.bytes += b.bytes;
            a.hits += b.hits;
            a.evicted += b.evicted;
            a.expired += b.expired;
        }
    }

    /// `reused / (reused + created)`, 0 before any put: what
    /// [`PoolStats::reuse_ratio`] holds.
    pub fn reuse_ratio_of(reused: u64, created: u64) -> f64 {
        let puts = reused + created;
        if puts == 0 {
            0.0
        } else {
            reused as f64 / puts as f64
        }
    }

    /// Fills the derived figures once every shard is added.
    pub(crate) fn finish(&mut self, max_entries: Option<u64>, max_bytes: Option<u64>) {
        self.reuse_ratio = PoolStats::reuse_ratio_of(self.reused, self.created);
        let by_entries = max_entries.map_or(Pressure::Low, |l| Pressure::of(self.in_use, l));
        let by_bytes = max_bytes.map_or(Pressure::Low, |l| Pressure::of(self.bytes_stored, l));
        self.pressure = by_entries.max(by_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_thresholds() {
        let p = |u| Pressure::of(u, 100);
        assert_eq!(
            [p(0), p(59), p(60), p(79), p(80), p(89), p(90), p(100)],
            [
                Pressure::Low,
                Pressure::Low,
                Pressure::Medium,
                Pressure::Medium,
                Pressure::High,
                Pressure::High,
                Pressure::Critical,
                Pressure::Critical
            ]
        );
        assert_eq!(Pressure::of(u64::MAX, u64::MAX), Pressure::Critical);
    }
}
