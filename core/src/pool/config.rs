//! What a pool is configured with: limits, domains, policy, TTLs, sharding.

use std::time::Duration;

use super::handle::MAX_SHARDS;
use crate::{Error, Result};

/// The kinds of state a pool holds (the seed's memory domains). Each has its
/// own optional limits and default TTL, and its own counts in the stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Domain {
    /// Per-session context (connection state).
    Session = 0,
    /// Data shared across sessions.
    Shared = 1,
    /// Service discovery / registry entries.
    Registry = 2,
    /// Computed results that can be recomputed.
    Cache = 3,
    /// Temporary data.
    Ephemeral = 4,
}

impl Domain {
    /// Every domain, in numeric order.
    pub const ALL: [Domain; 5] = [
        Domain::Session,
        Domain::Shared,
        Domain::Registry,
        Domain::Cache,
        Domain::Ephemeral,
    ];
    /// Number of domains.
    pub const COUNT: usize = 5;

    /// The stable snake_case name (`"session"`, ...), as the bindings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Session => "session",
            Domain::Shared => "shared",
            Domain::Registry => "registry",
            Domain::Cache => "cache",
            Domain::Ephemeral => "ephemeral",
        }
    }

    /// The domain named `name` (see [`Domain::as_str`]).
    pub fn from_name(name: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// The domain numbered `n` (its `u8` value).
    pub fn from_u8(n: u8) -> Option<Domain> {
        Domain::ALL.get(usize::from(n)).copied()
    }

    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

/// Which entry goes when room is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PolicyKind {
    /// Least recently used (put, get and update count as uses).
    Lru = 0,
    /// Least frequently used; ties go to the least recently used.
    Lfu = 1,
    /// First in, first out (accesses do not matter).
    Fifo = 2,
    /// Soonest to expire (to the TTL resolution); entries without TTL last, oldest first.
    Ttl = 3,
    /// Uniformly random, from a seeded generator.
    Random = 4,
    /// S3-FIFO (Yang et al., SOSP 2023): scan-resistant; one-hit entries
    /// leave from a small probationary queue.
    S3Fifo = 5,
}

impl PolicyKind {
    /// Every policy.
    pub const ALL: [PolicyKind; 6] = [
        PolicyKind::Lru,
        PolicyKind::Lfu,
        PolicyKind::Fifo,
        PolicyKind::Ttl,
        PolicyKind::Random,
        PolicyKind::S3Fifo,
    ];

    /// The stable snake_case name (`"lru"`, `"s3_fifo"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Lru => "lru",
            PolicyKind::Lfu => "lfu",
            PolicyKind::Fifo => "fifo",
            PolicyKind::Ttl => "ttl",
            PolicyKind::Random => "random",
            PolicyKind::S3Fifo => "s3_fifo",
        }
    }

    /// The policy named `name` (see [`PolicyKind::as_str`]).
    pub fn from_name(name: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// What a put (or a growing update) does when a limit would be exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FullAction {
    /// Fail with [`Error::PoolExhausted`] (backpressure).
    Reject,
    /// Evict entries chosen by the policy until the new one fits.
    Evict,
}

/// Limits and default TTL of one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DomainConfig {
    /// At most this many entries of the domain (`None`: no own limit).
    pub max_entries: Option<u64>,
    /// At most this many payload bytes in the domain (`None`: no own limit).
    pub max_bytes: Option<u64>,
    /// TTL of entries put without an explicit one (`None`: the pool's default).
    pub default_ttl: Option<Duration>,
}

/// A pool's configuration. `PoolConfig::default()` is an unlimited LRU pool
/// with automatic sharding and no TTLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Number of shards, 1..=256; 0 picks one from the machine's parallelism.
    pub shards: usize,
    /// At most this many live entries in the pool.
    pub max_entries: Option<u64>,
    /// At most this many payload bytes in the pool.
    pub max_bytes: Option<u64>,
    /// Per-domain limits and TTLs, indexed by `Domain as usize`.
    pub domains: [DomainConfig; Domain::COUNT],
    /// What happens when a limit would be exceeded.
    pub on_full: FullAction,
    /// The eviction policy.
    pub policy: PolicyKind,
    /// TTL of entries put without one, in domains without their own default.
    pub default_ttl: Option<Duration>,
    /// Granularity of the expiry buckets (≥ 1 ms). An expired entry is never
    /// returned; sweeps remove it at most one resolution late.
    pub ttl_resolution: Duration,
    /// Expiry-bucket visits a write may spend on the amortized sweep.
    pub sweep_budget: usize,
    /// Seed of the Random policy's generator (per shard: seed + shard).
    pub seed: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            shards: 0,
            max_entries: None,
            max_bytes: None,
            domains: [DomainConfig::default(); Domain::COUNT],
            on_full: FullAction::Evict,
            policy: PolicyKind::Lru,
            default_ttl: None,
            ttl_resolution: Duration::from_secs(1),
            sweep_budget: 16,
            seed: 0x6d65_6d61_6363_7421,
        }
    }
}

impl PoolConfig {
    /// The configuration with `shards` resolved and every field checked:
    /// [`Error::InvalidOption`] names the first bad one.
    pub(crate) fn validated(&self) -> Result<PoolConfig> {
        let mut c = self.clone();
        if c.shards == 0 {
            let cpus = std::thread::available_parallelism().map_or(4, |n| n.get());
            // Every thread that puts has a home shard: normal and dirty
            // schedulers (2 × CPUs on a BEAM) and a few more callers still
            // get shards of their own.
            c.shards = (cpus * 8).next_power_of_two().clamp(1, 64);
        }
        if c.shards > MAX_SHARDS {
            return Err(invalid(
                "shards",
                format!("1..={MAX_SHARDS} (0 = automatic)"),
            ));
        }
        if c.ttl_resolution.as_millis() == 0 {
            return Err(invalid("ttl_resolution", "at least 1 ms".into()));
        }
        if c.sweep_budget == 0 {
            return Err(invalid("sweep_budget", "at least 1".into()));
        }
        const AT_LEAST_1: &str = "a limit is at least 1 (None: no limit)";
        for (name, limit) in [("max_entries", c.max_entries), ("max_bytes", c.max_bytes)] {
            if limit == Some(0) {
                return Err(invalid(name, AT_LEAST_1.into()));
            }
        }
        for (domain, limits) in Domain::ALL.into_iter().zip(&c.domains) {
            for (name, limit) in [
                ("max_entries", limits.max_entries),
                ("max_bytes", limits.max_bytes),
            ] {
                if limit == Some(0) {
                    return Err(invalid(
                        "domains",
                        format!("{}'s {name} is 0; {AT_LEAST_1}", domain.as_str()),
                    ));
                }
            }
        }
        Ok(c)
    }

    /// The TTL an entry of `domain` gets when put without one.
    pub(crate) fn ttl_for(&self, domain: Domain) -> Option<Duration> {
        self.domains[domain.idx()].default_ttl.or(self.default_ttl)
    }
}

fn invalid(name: &'static str, reason: String) -> Error {
    Error::InvalidOption { name, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Domain::ALL {
            assert_eq!(Domain::from_name(d.as_str()), Some(d));
            assert_eq!(Domain::from_u8(d as u8), Some(d));
        }
        assert_eq!(Domain::from_u8(5), None);
        for p in PolicyKind::ALL {
            assert_eq!(PolicyKind::from_name(p.as_str()), Some(p));
        }
    }

    #[test]
    fn validation() {
        let c = PoolConfig::default().validated().unwrap();
        assert!((1..=64).contains(&c.shards));
        let bad = |c: PoolConfig| c.validated().unwrap_err().code();
        assert_eq!(
            bad(PoolConfig {
                shards: 257,
                ..Default::default()
            }),
            "invalid_option"
        );
        assert_eq!(
            bad(PoolConfig {
                ttl_resolution: Duration::ZERO,
                ..Default::default()
            }),
            "invalid_option"
        );
        assert_eq!(
            bad(PoolConfig {
                max_entries: Some(0),
                ..Default::default()
            }),
            "invalid_option"
        );
    }

    #[test]
    fn a_zero_limit_is_named() {
        let named = |c: PoolConfig| match c.validated().unwrap_err() {
            Error::InvalidOption { name, reason } => (name, reason),
            e => panic!("{e}"),
        };
        let (name, _) = named(PoolConfig {
            max_bytes: Some(0),
            ..Default::default()
        });
        assert_eq!(name, "max_bytes");
        let mut c = PoolConfig::default();
        c.domains[Domain::Cache.idx()].max_bytes = Some(0);
        let (name, reason) = named(c);
        assert_eq!(name, "domains");
        assert!(reason.starts_with("cache's max_bytes is 0"), "{reason}");
    }
}
