//! The state pool: a concurrent store of byte payloads (compact states or
//! anything else) addressed by generation-checked [`Handle`]s, with limits by
//! entries and bytes (pool-wide and per [`Domain`]), a full-pool action
//! (reject or evict), six O(1) eviction policies (S3-FIFO amortized), TTLs with an injectable
//! [`Clock`], per-owner reclaim and crash-safe checkpoints.
//!
//! ```
//! use memacct_core::pool::{Domain, Pool, PoolConfig};
//! let pool = Pool::new(PoolConfig { max_entries: Some(1000), ..PoolConfig::default() }).unwrap();
//! let h = pool.put(Domain::Session, Some(42), b"state").unwrap();
//! assert_eq!(pool.get(h).unwrap(), b"state");
//! assert_eq!(pool.release_owner(42), 1);
//! assert_eq!(pool.get(h).unwrap_err().code(), "stale_handle");
//! ```
//!
//! Concurrency: the pool is split into shards, each behind its own mutex;
//! an operation on a handle locks only the handle's shard. A put goes to the
//! calling thread's home shard, owner or not, so threads do not share a
//! shard on the hot path (placing an owner's entries by its id made two
//! owners on different threads meet in one shard by chance: measured, two
//! threads then scaled 1.6–1.96× from run to run instead of ~1.9×).
//! `release_owner` and `owner_usage` visit every shard, one lock at a time;
//! each shard indexes its entries by owner. Pool-wide limits are atomic reservations made before storing (see
//! `budget.rs`), exact across shards; eviction starts in the writer's shard
//! and moves on to the others one lock at a time (never two locks held).

mod budget;
mod checkpoint;
mod clock;
mod config;
mod handle;
mod list;
mod policy;
mod rng;
mod shard;
mod stats;
mod wheel;

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use clock::{Clock, ManualClock, MonotonicClock};
pub use config::{Domain, DomainConfig, FullAction, PolicyKind, PoolConfig};
pub use handle::{Handle, MAX_SHARDS};
pub use stats::{DomainStats, PoolStats, Pressure};

use budget::{Budget, Exceeded};
use shard::{Cause, Shard};
use wheel::NEVER;

use crate::{Error, Result};

/// A concurrent pool of byte payloads. `Send + Sync`: share it with an `Arc`.
#[derive(Debug)]
pub struct Pool {
    config: PoolConfig,
    shards: Box<[Padded]>,
    budget: Arc<Budget>,
    clock: Arc<dyn Clock>,
}

/// A shard's lock on cache lines of its own (no false sharing between shards).
#[derive(Debug)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// Generations of a new pool's slots start at a random value in 1..=2^26:
/// handles of different pools differ (a handle used on the wrong pool is
/// stale, with odds 2^-26 of naming an entry), and stay below 2^59 (an
/// Erlang small integer) while a slot's generation is below 2^27: its first
/// 2^26 (67 million) reuses at least; beyond, handles are bignums in Erlang,
/// which work the same.
fn random_first_generation() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    1 + (r % (1 << 26)) as u32
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Pool {
    /// An empty pool on the real clock. [`Error::InvalidOption`] for a bad configuration.
    pub fn new(config: PoolConfig) -> Result<Pool> {
        Pool::with_clock(config, Arc::new(MonotonicClock::new()))
    }

    /// An empty pool whose TTLs follow `clock` (a [`ManualClock`] in tests).
    pub fn with_clock(config: PoolConfig, clock: Arc<dyn Clock>) -> Result<Pool> {
        let config = config.validated()?;
        let budget = Arc::new(Budget::new(&config));
        let first_generation = random_first_generation();
        let shards = (0..config.shards)
            .map(|i| {
                Padded(Mutex::new(Shard::new(
                    i,
                    &config,
                    Arc::clone(&budget),
                    first_generation,
                )))
            })
            .collect();
        Ok(Pool {
            config,
            shards,
            budget,
            clock,
        })
    }

    /// The configuration (with `shards` resolved).
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        // A panic under the lock can only come from a caller's `with`
        // closure, which runs after every mutation is complete: the shard is
        // consistent, so a poisoned lock is still good.
        self.shards[i]
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The calling thread's home shard: each thread keeps to its own, so
    /// threads do not share cache lines on the hot path, and consecutive
    /// threads get different shards.
    fn home_shard(&self) -> usize {
        thread_local! {
            static HOME: Cell<usize> = const { Cell::new(usize::MAX) };
        }
        static THREADS: AtomicUsize = AtomicUsize::new(0);
        HOME.with(|c| {
            if c.get() == usize::MAX {
                c.set(THREADS.fetch_add(1, Ordering::Relaxed));
            }
            c.get() % self.shards.len()
        })
    }

    /// Stores `bytes` in `domain` for `owner` (if any), with the domain's (or
    /// the pool's) default TTL. When a limit would be passed:
    /// [`Error::PoolExhausted`] under [`FullAction::Reject`], else entries
    /// are evicted until it fits (`PoolExhausted` if nothing can be).
    pub fn put(&self, domain: Domain, owner: Option<u64>, bytes: &[u8]) -> Result<Handle> {
        self.put_vec(domain, owner, self.config.ttl_for(domain), bytes.to_vec())
    }

    /// [`Pool::put`] with an explicit TTL.
    pub fn put_with_ttl(
        &self,
        domain: Domain,
        owner: Option<u64>,
        ttl: Duration,
        bytes: &[u8],
    ) -> Result<Handle> {
        self.put_vec(domain, owner, Some(ttl), bytes.to_vec())
    }

    /// [`Pool::put`] taking the payload by value (no copy) and the TTL
    /// explicitly (`None`: no TTL).
    pub fn put_vec(
        &self,
        domain: Domain,
        owner: Option<u64>,
        ttl: Option<Duration>,
        data: Vec<u8>,
    ) -> Result<Handle> {
        let put = self.put_vec_within(domain, owner, ttl, data, u64::MAX)?;
        Ok(put.expect("an unbounded put never stops for its eviction budget"))
    }

    /// [`Pool::put_vec`] that evicts at most `max_evictions` entries to make
    /// room: `Ok(None)` (nothing stored; the entries evicted so far stay
    /// evicted) when that is not enough. What a caller with a time bound (a
    /// NIF on a normal scheduler) uses before retrying without one.
    pub fn put_vec_within(
        &self,
        domain: Domain,
        owner: Option<u64>,
        ttl: Option<Duration>,
        data: Vec<u8>,
        max_evictions: u64,
    ) -> Result<Option<Handle>> {
        let len = data.len() as u64;
        let si = self.home_shard();
        let mut shard = self.lock(si);
        if let Some(ex) = self.budget.never_fits(domain, len) {
            shard.c.rejected += 1;
            return Err(Error::PoolExhausted { limit: ex.limit });
        }
        let now = if ttl.is_some() || shard.has_expiring() {
            self.clock.now_ms()
        } else {
            0
        };
        if shard.has_expiring() {
            shard.sweep(now, None);
        }
        let mut evictions_left = max_evictions;
        shard = match self.reserve(si, shard, domain, 1, len, &mut evictions_left)? {
            Some(s) => s,
            None => return Ok(None),
        };
        let expires = ttl.map_or(NEVER, |t| now.saturating_add(millis(t)));
        if !shard.has_room() {
            // The home shard has all 2^24 slots in use: any other shard will do.
            drop(shard);
            shard = match (1..self.shards.len())
                .map(|k| self.lock((si + k) % self.shards.len()))
                .find(|s| s.has_room())
            {
                Some(s) => s,
                None => self.lock(si),
            };
        }
        shard
            .insert(domain, owner, data, expires, now)
            .inspect_err(|_| self.budget.release(domain, 1, len))
            .map(Some)
    }

    /// Reserves budget for `n` entries and `bytes` bytes of `domain`,
    /// evicting (starting in shard `si`, whose guard is `shard`) if the
    /// configuration says so, at most `evictions_left` entries (counted
    /// down). Returns the guard of shard `si`, or `None` when the eviction
    /// budget ran out first.
    fn reserve<'a>(
        &'a self,
        si: usize,
        mut shard: MutexGuard<'a, Shard>,
        domain: Domain,
        n: u64,
        bytes: u64,
        evictions_left: &mut u64,
    ) -> Result<Option<MutexGuard<'a, Shard>>> {
        loop {
            let Err(Exceeded { limit, domain_only }) = self.budget.try_reserve(domain, n, bytes)
            else {
                return Ok(Some(shard));
            };
            let only = domain_only.then_some(domain);
            if self.config.on_full == FullAction::Evict {
                if *evictions_left == 0 {
                    return Ok(None);
                }
                *evictions_left -= 1;
                if shard.evict_one(only) {
                    continue;
                }
                drop(shard);
                let evicted = self.evict_elsewhere(si, only);
                shard = self.lock(si);
                if evicted {
                    continue;
                }
            }
            shard.c.rejected += 1;
            return Err(Error::PoolExhausted { limit });
        }
    }

    /// Evicts one entry (of `only`, if given) from a shard other than `si`.
    fn evict_elsewhere(&self, si: usize, only: Option<Domain>) -> bool {
        let n = self.shards.len();
        (1..n).any(|k| self.lock((si + k) % n).evict_one(only))
    }

    /// A copy of the payload `h` names. [`Error::StaleHandle`] if the entry
    /// is gone (released, evicted, expired, reclaimed) or was never issued.
    pub fn get(&self, h: Handle) -> Result<Vec<u8>> {
        self.with(h, <[u8]>::to_vec)
    }

    /// Runs `f` on the payload `h` names, under its shard's lock (keep `f`
    /// short; do not call the pool from it). Counts as an access, like `get`.
    pub fn with<R>(&self, h: Handle, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        let mut shard = self
            .shard_of(h)
            .inspect_err(|_| self.lock(0).c.misses += 1)?;
        let i = shard.access(h, &*self.clock, true)?;
        Ok(f(shard.data(i)))
    }

    /// Whether `h` names a live, unexpired entry (not an access: no policy
    /// or hit/miss effect).
    pub fn contains(&self, h: Handle) -> bool {
        let Ok(shard) = self.shard_of(h) else {
            return false;
        };
        shard.check(h).is_some_and(|i| {
            let e = shard.expires(i);
            e == NEVER || e > self.clock.now_ms()
        })
    }

    fn shard_of(&self, h: Handle) -> Result<MutexGuard<'_, Shard>> {
        if h.shard() >= self.shards.len() {
            return Err(Error::StaleHandle { handle: h.to_raw() });
        }
        Ok(self.lock(h.shard()))
    }

    /// Replaces the payload of `h` (an access; the TTL is unchanged). A
    /// payload that grows past a limit is rejected or makes room like a put;
    /// in the latter case the entry re-enters its policy as a new entry.
    ///
    /// Concurrent updates of one handle are safe: each reads the entry's
    /// size under its shard's lock and reserves the difference then, and the
    /// entry never leaves its policy while the lock is dropped to evict from
    /// other shards (the update then starts over from the entry as it is).
    pub fn update(&self, h: Handle, bytes: &[u8]) -> Result<()> {
        let done = self.update_within(h, bytes, u64::MAX)?;
        debug_assert!(
            done,
            "an unbounded update never stops for its eviction budget"
        );
        Ok(())
    }

    /// [`Pool::update`] that evicts at most `max_evictions` entries to make
    /// room: `Ok(false)` (the entry unchanged; the entries evicted so far
    /// stay evicted) when that is not enough.
    pub fn update_within(&self, h: Handle, bytes: &[u8], max_evictions: u64) -> Result<bool> {
        let data = bytes.to_vec();
        let new = data.len() as u64;
        let mut evictions_left = max_evictions;
        let si = h.shard();
        let mut shard = self.shard_of(h)?;
        loop {
            let i = shard.access(h, &*self.clock, false)?;
            let domain = shard.domain(i);
            let old = shard.data(i).len() as u64;
            if new <= old {
                self.budget.release(domain, 0, old - new);
                shard.set_data(i, data);
                return Ok(true);
            }
            if let Some(ex) = self.budget.never_fits(domain, new) {
                shard.c.rejected += 1;
                return Err(Error::PoolExhausted { limit: ex.limit });
            }
            let Err(ex) = self.budget.try_reserve(domain, 0, new - old) else {
                shard.set_data(i, data);
                return Ok(true);
            };
            if self.config.on_full == FullAction::Reject {
                shard.c.rejected += 1;
                return Err(Error::PoolExhausted { limit: ex.limit });
            }
            if evictions_left == 0 {
                return Ok(false);
            }
            evictions_left -= 1;
            // Make room without evicting the entry itself: first in its own
            // shard (the entry out of its policy meanwhile, back in as new).
            let only = ex.domain_only.then_some(domain);
            let expires = shard.expires(i);
            shard.detach(i);
            let evicted = shard.evict_one(only);
            let now = if expires != NEVER {
                self.clock.now_ms()
            } else {
                0
            };
            shard.attach(i, expires, now);
            if evicted {
                continue;
            }
            drop(shard);
            let evicted = self.evict_elsewhere(si, only);
            shard = self.lock(si);
            if !evicted {
                shard.c.rejected += 1;
                return Err(Error::PoolExhausted { limit: ex.limit });
            }
        }
    }

    /// Releases the entry `h` names. A second release (or any stale
    /// handle) is [`Error::StaleHandle`] and touches nothing.
    pub fn release(&self, h: Handle) -> Result<()> {
        let mut shard = self.shard_of(h)?;
        match shard.check(h) {
            Some(i) => {
                shard.remove(i, Cause::Released);
                shard.maybe_shrink();
                Ok(())
            }
            None => Err(Error::StaleHandle { handle: h.to_raw() }),
        }
    }

    /// Releases every entry of `owner` (O(shards + entries of the owner),
    /// one shard locked at a time); returns how many there were. An entry
    /// put for `owner` while this runs may survive it: call it once the
    /// owner is gone.
    pub fn release_owner(&self, owner: u64) -> usize {
        self.release_owner_upto(owner, usize::MAX).0
    }

    /// [`Pool::release_owner`] that stops after `max` entries: how many it
    /// released, and whether `owner` has more (then call it again, or
    /// [`Pool::release_owner`]: what a caller with a time bound does, handing
    /// the rest to a thread of its own).
    pub fn release_owner_upto(&self, owner: u64, max: usize) -> (usize, bool) {
        let mut released = 0;
        for i in 0..self.shards.len() {
            let (n, more) = self.lock(i).release_owner(owner, max - released);
            released += n;
            if more {
                return (released, true);
            }
            if released == max {
                let rest = (i + 1..self.shards.len()).any(|j| self.lock(j).owns(owner));
                return (released, rest);
            }
        }
        (released, false)
    }

    /// `(entries, payload bytes)` that `owner` holds now, in O(shards +
    /// its entries). What a decomposition charges to a connection as its
    /// native bytes.
    pub fn owner_usage(&self, owner: u64) -> (usize, u64) {
        (0..self.shards.len())
            .map(|i| self.lock(i).owner_usage(owner))
            .fold((0, 0), |(n, b), (n2, b2)| (n + n2, b + b2))
    }

    /// Removes every expired entry now; returns how many.
    pub fn expire_now(&self) -> usize {
        let now = self.clock.now_ms();
        (0..self.shards.len())
            .map(|i| self.lock(i).sweep(now, Some(usize::MAX)))
            .sum()
    }

    /// Live entries (including expired ones not yet swept). Shards are
    /// counted one at a time: under concurrent writes this is not a snapshot
    /// (it can be off by those writes, even above a limit the pool keeps).
    pub fn len(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.lock(i).c.in_use as usize)
            .sum()
    }

    /// The handles of every live entry (expired ones not yet swept
    /// included), shard by shard: what a caller uses to find the entries of
    /// a restored pool. Entries stored or released meanwhile may or may not
    /// be listed. O(slots).
    pub fn handles(&self) -> Vec<Handle> {
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.shards.len() {
            out.extend(self.lock(i).handles());
        }
        out
    }

    /// Whether the pool holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Releases every entry; returns how many.
    pub fn clear(&self) -> usize {
        (0..self.shards.len()).map(|i| self.lock(i).clear()).sum()
    }

    /// The pool's figures (see [`PoolStats`]), summed shard by shard: under
    /// concurrent writes not a snapshot (exact once they stop).
    pub fn stats(&self) -> PoolStats {
        let mut st = PoolStats::empty(self.config.policy, self.shards.len());
        for i in 0..self.shards.len() {
            let shard = self.lock(i);
            st.add(&shard.c, shard.available(), shard.structure_bytes());
        }
        st.bytes_allocated += (self.shards.len() * std::mem::size_of::<Padded>()) as u64;
        let (max_entries, max_bytes) = self.budget.limits(None);
        st.finish(max_entries, max_bytes);
        st
    }

    /// Changes the pool-wide entry and byte limits while the pool runs (`None`
    /// leaves a limit as it is). Only a limit the pool was created with can
    /// be changed ([`Error::InvalidOption`] otherwise): its usage is counted
    /// only then. Entries already stored stay; a lower limit applies from the
    /// next write, which is rejected or evicts (per `on_full`) until the pool
    /// is under it. [`Pool::stats`] reports the new limits and pressure.
    pub fn set_limits(&self, max_entries: Option<u64>, max_bytes: Option<u64>) -> Result<()> {
        self.set_scoped_limits(None, max_entries, max_bytes)
    }

    /// [`Pool::set_limits`] for one domain's own limits.
    pub fn set_domain_limits(
        &self,
        domain: Domain,
        max_entries: Option<u64>,
        max_bytes: Option<u64>,
    ) -> Result<()> {
        self.set_scoped_limits(Some(domain), max_entries, max_bytes)
    }

    fn set_scoped_limits(
        &self,
        scope: Option<Domain>,
        max_entries: Option<u64>,
        max_bytes: Option<u64>,
    ) -> Result<()> {
        self.budget
            .set_limits(scope, max_entries, max_bytes)
            .map_err(|(name, reason)| Error::InvalidOption {
                name,
                reason: reason.into(),
            })
    }

    /// The pool-wide `(max_entries, max_bytes)` limits in force.
    pub fn limits(&self) -> (Option<u64>, Option<u64>) {
        self.budget.limits(None)
    }

    /// A domain's own `(max_entries, max_bytes)` limits in force.
    pub fn domain_limits(&self, domain: Domain) -> (Option<u64>, Option<u64>) {
        self.budget.limits(Some(domain))
    }

    /// Writes the live entries (domain, owner, TTL left, payload) to `path`
    /// crash-safely: a temporary file in the same directory (created
    /// exclusively under a random name, readable by its owner only), fsync,
    /// rename over `path`, fsync of the directory. Returns how many entries.
    /// Shards are read one at a time: entries written concurrently may or may
    /// not be in.
    pub fn checkpoint(&self, path: impl AsRef<Path>) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut entries = Vec::new();
        for i in 0..self.shards.len() {
            self.lock(i).snapshot(now, &mut entries);
        }
        checkpoint::write(path.as_ref(), &entries)?;
        Ok(entries.len())
    }

    /// A pool configured by `config` holding the entries of the checkpoint
    /// at `path` (new handles; TTLs resume from what was left).
    /// [`Error::BadCheckpoint`] for a corrupt file, [`Error::Io`] if it cannot
    /// be read, `PoolExhausted` if the entries do not fit under `Reject`.
    pub fn restore(path: impl AsRef<Path>, config: PoolConfig) -> Result<Pool> {
        Pool::restore_with_clock(path, config, Arc::new(MonotonicClock::new()))
    }

    /// [`Pool::restore`] on the clock `clock`.
    pub fn restore_with_clock(
        path: impl AsRef<Path>,
        config: PoolConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Pool> {
        Ok(Pool::restore_entries(path, config, clock)?.0)
    }

    /// Like [`Pool::restore_with_clock`], also telling the new handle, domain
    /// and owner of every restored entry, in checkpoint order — what a caller
    /// needs to hand restored entries back to their users.
    pub fn restore_entries(
        path: impl AsRef<Path>,
        config: PoolConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<(Pool, Vec<Restored>)> {
        Pool::restore_checked(path, config, clock, |_| Ok(()))
    }

    /// [`Pool::restore_entries`] that first passes every payload of the
    /// checkpoint to `check`: its first error is the answer, and no pool is
    /// made. What a caller that stores encoded payloads uses to refuse a
    /// checkpoint it could not read back (e.g. blobs of another dictionary).
    pub fn restore_checked(
        path: impl AsRef<Path>,
        config: PoolConfig,
        clock: Arc<dyn Clock>,
        check: impl Fn(&[u8]) -> Result<()>,
    ) -> Result<(Pool, Vec<Restored>)> {
        let entries = checkpoint::read(path.as_ref())?;
        for e in &entries {
            check(&e.data)?;
        }
        let pool = Pool::with_clock(config, clock)?;
        let mut restored = Vec::with_capacity(entries.len());
        for e in entries {
            let handle = pool.put_vec(
                e.domain,
                e.owner,
                e.ttl_ms.map(Duration::from_millis),
                e.data,
            )?;
            restored.push(Restored {
                handle,
                domain: e.domain,
                owner: e.owner,
            });
        }
        Ok((pool, restored))
    }
}

/// An entry restored from a checkpoint ([`Pool::restore_entries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// Its handle in the restored pool.
    pub handle: Handle,
    /// The domain it was stored in.
    pub domain: Domain,
    /// The owner it was stored with (an id of the VM that wrote the checkpoint).
    pub owner: Option<u64>,
}

#[cfg(test)]
mod tests;
