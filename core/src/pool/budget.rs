//! Pool-wide limits across shards: one atomic counter per configured limit
//! (pool entries, pool bytes, each domain's entries and bytes), reserved by
//! compare-and-swap *before* an entry is stored and given back when it
//! leaves. A reservation that would pass a limit fails without effect, so
//! the limits hold exactly at every instant, whatever the shard. Counters
//! for limits that are not configured are not kept (no shared cache line on
//! the hot path of an unlimited pool).

use std::sync::atomic::{AtomicU64, Ordering};

use super::config::{Domain, PoolConfig};

/// A limit that a reservation would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    /// Which limit (`max_entries`, `max_bytes`, `domain max_entries`, `domain max_bytes`).
    pub(crate) limit: &'static str,
    /// Whether it is the domain's own limit (so only that domain's entries help).
    pub(crate) domain_only: bool,
}

#[derive(Debug)]
struct Counter {
    /// The limit; changeable while the pool runs ([`Budget::set_pool_limits`]).
    limit: AtomicU64,
    used: AtomicU64,
    name: &'static str,
    domain_only: bool,
}

impl Counter {
    fn new(limit: Option<u64>, name: &'static str, domain_only: bool) -> Option<Counter> {
        limit.map(|limit| Counter {
            limit: AtomicU64::new(limit),
            used: AtomicU64::new(0),
            name,
            domain_only,
        })
    }

    fn try_add(&self, n: u64) -> bool {
        n == 0
            || self
                .used
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                    u.checked_add(n)
                        .filter(|&v| v <= self.limit.load(Ordering::Relaxed))
                })
                .is_ok()
    }

    fn sub(&self, n: u64) {
        if n != 0 {
            self.used.fetch_sub(n, Ordering::AcqRel);
        }
    }

    fn exceeded(&self) -> Exceeded {
        Exceeded {
            limit: self.name,
            domain_only: self.domain_only,
        }
    }
}

/// The pool-wide reservations.
#[derive(Debug)]
pub(crate) struct Budget {
    entries: Option<Counter>,
    bytes: Option<Counter>,
    dom_entries: [Option<Counter>; Domain::COUNT],
    dom_bytes: [Option<Counter>; Domain::COUNT],
}

impl Budget {
    /// Counters for the limits `cfg` configures.
    pub(crate) fn new(cfg: &PoolConfig) -> Budget {
        Budget {
            entries: Counter::new(cfg.max_entries, "max_entries", false),
            bytes: Counter::new(cfg.max_bytes, "max_bytes", false),
            dom_entries: std::array::from_fn(|d| {
                Counter::new(cfg.domains[d].max_entries, "domain max_entries", true)
            }),
            dom_bytes: std::array::from_fn(|d| {
                Counter::new(cfg.domains[d].max_bytes, "domain max_bytes", true)
            }),
        }
    }

    fn counters(&self, d: Domain) -> [(Option<&Counter>, bool); 4] {
        [
            (self.dom_entries[d.idx()].as_ref(), true),
            (self.dom_bytes[d.idx()].as_ref(), false),
            (self.entries.as_ref(), true),
            (self.bytes.as_ref(), false),
        ]
    }

    /// A limit that one payload of `bytes` can never fit in, even in an empty pool.
    pub(crate) fn never_fits(&self, d: Domain, bytes: u64) -> Option<Exceeded> {
        self.counters(d)
            .into_iter()
            .find_map(|(c, is_count)| {
                c.filter(|c| !is_count && bytes > c.limit.load(Ordering::Relaxed))
            })
            .map(Counter::exceeded)
    }

    /// Reserves `n` entries and `bytes` bytes of domain `d`, all or nothing.
    pub(crate) fn try_reserve(&self, d: Domain, n: u64, bytes: u64) -> Result<(), Exceeded> {
        let cs = self.counters(d);
        for (k, (c, is_count)) in cs.iter().enumerate() {
            let Some(c) = c else { continue };
            if !c.try_add(if *is_count { n } else { bytes }) {
                for (c2, is_count2) in &cs[..k] {
                    if let Some(c2) = c2 {
                        c2.sub(if *is_count2 { n } else { bytes });
                    }
                }
                return Err(c.exceeded());
            }
        }
        Ok(())
    }

    /// The `(max_entries, max_bytes)` now, pool-wide (`None`) or of a domain.
    pub(crate) fn limits(&self, scope: Option<Domain>) -> (Option<u64>, Option<u64>) {
        let get = |c: &Option<Counter>| c.as_ref().map(|c| c.limit.load(Ordering::Relaxed));
        match scope {
            None => (get(&self.entries), get(&self.bytes)),
            Some(d) => (
                get(&self.dom_entries[d.idx()]),
                get(&self.dom_bytes[d.idx()]),
            ),
        }
    }

    /// Changes the limits given (`Some`), pool-wide (`scope` `None`) or of a
    /// domain; a limit can only be changed if the pool was created with one
    /// (its usage is counted only then). Entries already stored stay; a lower
    /// limit applies from the next write on. Returns the name of a limit that
    /// cannot be changed and why (not counted, or asked to be 0), changing
    /// nothing then.
    pub(crate) fn set_limits(
        &self,
        scope: Option<Domain>,
        max_entries: Option<u64>,
        max_bytes: Option<u64>,
    ) -> Result<(), (&'static str, &'static str)> {
        let (entries, bytes) = match scope {
            None => (&self.entries, &self.bytes),
            Some(d) => (&self.dom_entries[d.idx()], &self.dom_bytes[d.idx()]),
        };
        let pairs = [
            (max_entries, entries, "max_entries"),
            (max_bytes, bytes, "max_bytes"),
        ];
        if let Some((_, _, name)) = pairs.iter().find(|(v, c, _)| v.is_some() && c.is_none()) {
            return Err((
                name,
                "the pool was created without this limit, so its usage is not counted",
            ));
        }
        if let Some((_, _, name)) = pairs.iter().find(|(v, _, _)| *v == Some(0)) {
            return Err((name, "a limit is at least 1"));
        }
        for (v, c, _) in pairs {
            if let (Some(v), Some(c)) = (v, c) {
                c.limit.store(v, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Gives back `n` entries and `bytes` bytes of domain `d`.
    pub(crate) fn release(&self, d: Domain, n: u64, bytes: u64) {
        for (c, is_count) in self.counters(d).into_iter() {
            if let Some(c) = c {
                c.sub(if is_count { n } else { bytes });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_or_nothing() {
        let mut cfg = PoolConfig {
            max_entries: Some(2),
            max_bytes: Some(100),
            ..PoolConfig::default()
        };
        cfg.domains[Domain::Cache.idx()].max_bytes = Some(10);
        let b = Budget::new(&cfg);
        assert_eq!(
            b.try_reserve(Domain::Cache, 1, 11).unwrap_err().limit,
            "domain max_bytes"
        );
        assert!(b.try_reserve(Domain::Session, 1, 60).is_ok());
        assert_eq!(
            b.try_reserve(Domain::Shared, 1, 41).unwrap_err().limit,
            "max_bytes"
        );
        assert!(b.try_reserve(Domain::Cache, 1, 10).is_ok());
        assert_eq!(
            b.try_reserve(Domain::Shared, 1, 0).unwrap_err().limit,
            "max_entries"
        );
        b.release(Domain::Cache, 1, 10);
        assert!(b.try_reserve(Domain::Shared, 1, 40).is_ok());
        assert_eq!(
            b.never_fits(Domain::Cache, 11).unwrap().limit,
            "domain max_bytes"
        );
        assert_eq!(
            b.never_fits(Domain::Session, 101).unwrap().limit,
            "max_bytes"
        );
        assert!(b.never_fits(Domain::Session, 100).is_none());
    }
}
