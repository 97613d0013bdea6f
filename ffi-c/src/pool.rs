//! The state pool: the opaque `memacct_pool` handle (a [`Pool`]), its
//! options builder and the out-struct of its statistics.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

use memacct_core::pool::{
    Domain, FullAction, Handle, PolicyKind, Pool, PoolConfig, PoolStats, Pressure,
};

use crate::args::{bytes, out_array};
use crate::buffer::{memacct_buffer, out_buffer};
use crate::status::{guard, memacct_status, Failure};

/// Number of `memacct_pool_domain` values: the length of `memacct_pool_stats.domains`.
pub const MEMACCT_POOL_DOMAIN_COUNT: usize = 5;

/// The `ttl_ms` of `memacct_pool_put` that means "no TTL", even in a domain
/// (or pool) with a default TTL. (`ttl_ms` 0 means "the default".)
pub const MEMACCT_POOL_NO_TTL: u64 = u64::MAX;

/// The kind of state an entry holds. Each domain has its own optional limits
/// and default TTL (`memacct_pool_options_set_domain_limits`) and its own
/// figures in `memacct_pool_stats.domains`, which it indexes. The numbers are
/// stable (the checkpoint format stores them).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum memacct_pool_domain {
    /// `session`: per-session context (connection state).
    MEMACCT_DOMAIN_SESSION = 0,
    /// `shared`: data shared across sessions.
    MEMACCT_DOMAIN_SHARED = 1,
    /// `registry`: service discovery / registry entries.
    MEMACCT_DOMAIN_REGISTRY = 2,
    /// `cache`: computed results that can be recomputed.
    MEMACCT_DOMAIN_CACHE = 3,
    /// `ephemeral`: temporary data.
    MEMACCT_DOMAIN_EPHEMERAL = 4,
}

/// The eviction policy of a pool: which entry goes when room is needed
/// (under `MEMACCT_POOL_EVICT`). The numbers are stable.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum memacct_pool_policy {
    /// `lru`: least recently used (put, get and update count as uses).
    MEMACCT_POLICY_LRU = 0,
    /// `lfu`: least frequently used; ties go to the least recently used.
    MEMACCT_POLICY_LFU = 1,
    /// `fifo`: first in, first out (accesses do not matter).
    MEMACCT_POLICY_FIFO = 2,
    /// `ttl`: soonest to expire (to the TTL resolution); entries without TTL
    /// last, oldest first.
    MEMACCT_POLICY_TTL = 3,
    /// `random`: uniformly random, from a generator seeded by
    /// `memacct_pool_options_set_seed` (deterministic).
    MEMACCT_POLICY_RANDOM = 4,
    /// `s3_fifo`: S3-FIFO (SOSP '23), scan-resistant: one-hit entries leave
    /// from a small probationary queue.
    MEMACCT_POLICY_S3_FIFO = 5,
}

/// What a put (or a growing update) does when a limit would be exceeded.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum memacct_pool_full_action {
    /// Fail with `MEMACCT_POOL_EXHAUSTED` (backpressure). The default.
    MEMACCT_POOL_REJECT = 0,
    /// Evict the policy's victims until the new entry fits
    /// (`MEMACCT_POOL_EXHAUSTED` only if nothing can be evicted).
    MEMACCT_POOL_EVICT = 1,
}

/// How close a pool is to its tighter limit (entries or bytes).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum memacct_pool_pressure {
    /// Below 60% (or no limit).
    MEMACCT_PRESSURE_LOW = 0,
    /// 60% to below 80%.
    MEMACCT_PRESSURE_MEDIUM = 1,
    /// 80% to below 90%.
    MEMACCT_PRESSURE_HIGH = 2,
    /// 90% or more.
    MEMACCT_PRESSURE_CRITICAL = 3,
}

/// A `memacct_pool_domain` passed by the caller as a plain integer (a value
/// outside the enum is `MEMACCT_INVALID_ARGUMENT`, not undefined behaviour).
/// The header names it `memacct_pool_domain`.
///
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type memacct_pool_domain_arg = u32;

/// A `memacct_pool_policy` passed by the caller as a plain integer. The
/// header names it `memacct_pool_policy`.
///
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type memacct_pool_policy_arg = u32;

/// A `memacct_pool_full_action` passed by the caller as a plain integer. The
/// header names it `memacct_pool_full_action`.
///
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type memacct_pool_full_action_arg = u32;

/// Figures of one domain (`memacct_pool_stats.domains[d]`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct memacct_pool_domain_stats {
    /// Live entries.
    pub entries: u64,
    /// Payload bytes of the live entries.
    pub bytes: u64,
    /// Gets that found their entry.
    pub hits: u64,
    /// Entries evicted to make room.
    pub evicted: u64,
    /// Entries that expired.
    pub expired: u64,
}

/// A pool's figures (the out-struct of `memacct_pool_get_stats`). Shards are read
/// one after the other: with no concurrent writer the figures reconcile
/// exactly (`created + reused == in_use + released + evicted + expired`);
/// under concurrent writes each is exact for some moment of the call.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct memacct_pool_stats {
    /// The eviction policy.
    pub policy: memacct_pool_policy,
    /// How close the pool is to the tighter of its pool-wide limits.
    pub pressure: memacct_pool_pressure,
    /// Number of shards.
    pub shards: u64,
    /// Live entries (including expired ones not yet swept; gets never return those).
    pub in_use: u64,
    /// Free slots kept for reuse (once half of a shard's slab is free, its
    /// free tail is given back to the allocator).
    pub available: u64,
    /// Puts that took a new slot.
    pub created: u64,
    /// Puts that reused a freed slot.
    pub reused: u64,
    /// Entries released (`memacct_pool_release`, `_release_owner`, `_clear`).
    pub released: u64,
    /// Entries evicted to make room.
    pub evicted: u64,
    /// Entries removed because their TTL passed.
    pub expired: u64,
    /// Puts and updates refused with `MEMACCT_POOL_EXHAUSTED`.
    pub rejected: u64,
    /// Gets that found their entry.
    pub hits: u64,
    /// Gets on a stale handle (released, evicted, expired, unknown).
    pub misses: u64,
    /// Payload bytes of the live entries.
    pub bytes_stored: u64,
    /// Bytes the pool's storage holds: payload buffer capacities plus the
    /// pool's own structures (its accounting, not the allocator's overhead).
    pub bytes_allocated: u64,
    /// `reused / (reused + created)`; 0 before the first put.
    pub reuse_ratio: f64,
    /// Per-domain figures, indexed by `memacct_pool_domain`.
    pub domains: [memacct_pool_domain_stats; MEMACCT_POOL_DOMAIN_COUNT],
}

impl memacct_pool_stats {
    fn from_core(s: &PoolStats) -> memacct_pool_stats {
        let mut domains = [memacct_pool_domain_stats::default(); MEMACCT_POOL_DOMAIN_COUNT];
        for (out, d) in domains.iter_mut().zip(&s.domains) {
            *out = memacct_pool_domain_stats {
                entries: d.entries,
                bytes: d.bytes,
                hits: d.hits,
                evicted: d.evicted,
                expired: d.expired,
            };
        }
        memacct_pool_stats {
            policy: policy_to_c(s.policy),
            pressure: match s.pressure {
                Pressure::Low => memacct_pool_pressure::MEMACCT_PRESSURE_LOW,
                Pressure::Medium => memacct_pool_pressure::MEMACCT_PRESSURE_MEDIUM,
                Pressure::High => memacct_pool_pressure::MEMACCT_PRESSURE_HIGH,
                Pressure::Critical => memacct_pool_pressure::MEMACCT_PRESSURE_CRITICAL,
            },
            shards: s.shards as u64,
            in_use: s.in_use,
            available: s.available,
            created: s.created,
            reused: s.reused,
            released: s.released,
            evicted: s.evicted,
            expired: s.expired,
            rejected: s.rejected,
            hits: s.hits,
            misses: s.misses,
            bytes_stored: s.bytes_stored,
            bytes_allocated: s.bytes_allocated,
            reuse_ratio: s.reuse_ratio,
            domains,
        }
    }
}

fn policy_to_c(p: PolicyKind) -> memacct_pool_policy {
    use memacct_pool_policy::*;
    match p {
        PolicyKind::Lru => MEMACCT_POLICY_LRU,
        PolicyKind::Lfu => MEMACCT_POLICY_LFU,
        PolicyKind::Fifo => MEMACCT_POLICY_FIFO,
        PolicyKind::Ttl => MEMACCT_POLICY_TTL,
        PolicyKind::Random => MEMACCT_POLICY_RANDOM,
        PolicyKind::S3Fifo => MEMACCT_POLICY_S3_FIFO,
    }
}

fn policy_from_raw(raw: u32) -> Option<PolicyKind> {
    PolicyKind::ALL.into_iter().find(|&p| p as u32 == raw)
}

fn domain_from_raw(raw: u32) -> Result<Domain, Failure> {
    u8::try_from(raw)
        .ok()
        .and_then(Domain::from_u8)
        .ok_or_else(|| Failure::invalid(format_args!("{raw} is not a memacct_pool_domain")))
}

/// `None` for 0 (no limit / no TTL), else `Some(v)`.
fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

/// A state pool: a concurrent store of byte payloads addressed by `uint64_t`
/// handles, with limits by entries and bytes (pool-wide and per domain), a
/// full-pool action (reject or evict), six eviction policies, TTLs, per-owner
/// reclaim and crash-safe checkpoints. Opaque; made by `memacct_pool_new` or
/// `memacct_pool_restore`, released with `memacct_pool_free`.
///
/// Thread safety: every pool function may be called concurrently on one
/// pool from any number of threads (the pool is sharded, each shard behind
/// its own lock); only `memacct_pool_free` must wait until no other thread
/// uses the pool.
///
/// Handles: a handle is valid from the put that returned it until its entry
/// is released, evicted, expired or reclaimed (`memacct_pool_release_owner`,
/// `memacct_pool_clear`). Afterwards every call with it returns
/// `MEMACCT_STALE_HANDLE` and touches nothing: a stale handle never reaches
/// the entry that later occupies its slot. No handle is 0; handles are
/// only meaningful in the pool that issued them (slot generations start at
/// a random value per pool, so in another pool a handle is
/// `MEMACCT_STALE_HANDLE`). `memacct_pool_handles` lists the live ones (how
/// the entries of a restored pool are found).
#[allow(non_camel_case_types)]
pub struct memacct_pool {
    inner: Pool,
}

/// Options of `memacct_pool_new` and `memacct_pool_restore`. Opaque; create it
/// with `memacct_pool_options_new` and release it with
/// `memacct_pool_options_free`. Passing NULL instead of a handle means the
/// defaults.
///
/// Defaults: no limits, `MEMACCT_POLICY_LRU`, `MEMACCT_POOL_REJECT`,
/// automatic sharding (8 x CPUs, rounded to a power of two, at most 64), no
/// default TTL, TTL resolution 1000 ms, a fixed seed. Setters only record
/// values; the whole configuration is checked by `memacct_pool_new` /
/// `memacct_pool_restore` (`MEMACCT_INVALID_OPTION` names the bad option).
///
/// A handle may be read by several threads at once, but must not be mutated
/// (setters, free) while any other thread uses it. A pool keeps its own copy:
/// the options may be freed right after `memacct_pool_new`.
#[allow(non_camel_case_types)]
pub struct memacct_pool_options {
    config: PoolConfig,
}

impl memacct_pool_options {
    fn defaults() -> PoolConfig {
        PoolConfig {
            on_full: FullAction::Reject,
            ..PoolConfig::default()
        }
    }
}

/// Borrows the options behind `opts` mutably, or fails with `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `opts` is NULL or a live handle from `memacct_pool_options_new` used by no other thread.
unsafe fn options<'a>(opts: *mut memacct_pool_options) -> Result<&'a mut PoolConfig, Failure> {
    // SAFETY: per this function's contract.
    unsafe { opts.as_mut() }
        .map(|o| &mut o.config)
        .ok_or_else(|| Failure::null("opts"))
}

/// The configuration `opts` names (the defaults for NULL).
///
/// # Safety
/// `opts` is NULL or a live handle that no thread mutates during the call.
unsafe fn config_of(opts: *const memacct_pool_options) -> PoolConfig {
    // SAFETY: per this function's contract.
    match unsafe { opts.as_ref() } {
        Some(o) => o.config.clone(),
        None => memacct_pool_options::defaults(),
    }
}

/// Borrows the pool behind `pool`, or fails with `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `pool` is NULL or a live handle (not being freed).
unsafe fn pool_ref<'a>(pool: *const memacct_pool) -> Result<&'a Pool, Failure> {
    // SAFETY: per this function's contract.
    unsafe { pool.as_ref() }
        .map(|p| &p.inner)
        .ok_or_else(|| Failure::null("pool"))
}

/// Resets `*out` to NULL and returns it; NULL `out` is `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn out_pool<'a>(out: *mut *mut memacct_pool) -> Result<&'a mut *mut memacct_pool, Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    // SAFETY: non-NULL and writable per the contract; the old value is not read.
    unsafe {
        out.write(std::ptr::null_mut());
        Ok(&mut *out)
    }
}

/// The NUL-terminated path at `path` (bytes as they are on Unix; UTF-8 elsewhere).
///
/// # Safety
/// `path` is NULL or a valid NUL-terminated string.
unsafe fn path_arg(path: *const c_char) -> Result<PathBuf, Failure> {
    if path.is_null() {
        return Err(Failure::null("path"));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let raw = unsafe { CStr::from_ptr(path) };
    if raw.is_empty() {
        return Err(Failure::invalid("`path` is empty"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(raw.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        raw.to_str()
            .map(PathBuf::from)
            .map_err(|_| Failure::invalid("`path` is not UTF-8"))
    }
}

/// Writes `v` to `out` if it is not NULL (an optional count).
///
/// # Safety
/// `out` is NULL or valid for one `size_t` write.
unsafe fn put_count(out: *mut usize, v: usize) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(v) };
    }
}

// ---------------------------------------------------------------------------
// Options.
// ---------------------------------------------------------------------------

/// Creates a pool options handle with the defaults (see
/// `memacct_pool_options`). The caller owns it and must release it with
/// `memacct_pool_options_free`. Returns NULL only if an internal error
/// occurred (allocation failure aborts the process, as in Rust).
#[no_mangle]
pub extern "C" fn memacct_pool_options_new() -> *mut memacct_pool_options {
    catch_unwind(|| {
        Box::into_raw(Box::new(memacct_pool_options {
            config: memacct_pool_options::defaults(),
        }))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Releases a handle from `memacct_pool_options_new`. NULL is a no-op. The
/// handle must not be used afterwards, nor freed twice.
///
/// # Safety
/// `opts` is NULL or a handle from `memacct_pool_options_new` that has not
/// been freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_free(opts: *mut memacct_pool_options) {
    if opts.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `opts` came from Box::into_raw.
        drop(unsafe { Box::from_raw(opts) });
    }));
}

/// Sets the most live entries the pool holds; 0 means no limit (the default).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_max_entries(
    opts: *mut memacct_pool_options,
    max_entries: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.max_entries = nonzero(max_entries);
        Ok(())
    })
}

/// Sets the most payload bytes the pool holds; 0 means no limit (the default).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_max_bytes(
    opts: *mut memacct_pool_options,
    max_bytes: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.max_bytes = nonzero(max_bytes);
        Ok(())
    })
}

/// Sets the eviction policy (default `MEMACCT_POLICY_LRU`). A value that is
/// not a `memacct_pool_policy` is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_policy(
    opts: *mut memacct_pool_options,
    policy: memacct_pool_policy_arg,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { options(opts) }?;
        opts.policy = policy_from_raw(policy).ok_or_else(|| {
            Failure::invalid(format_args!("{policy} is not a memacct_pool_policy"))
        })?;
        Ok(())
    })
}

/// Sets what a put does when a limit would be exceeded (default
/// `MEMACCT_POOL_REJECT`). A value that is not a `memacct_pool_full_action`
/// is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_on_full(
    opts: *mut memacct_pool_options,
    on_full: memacct_pool_full_action_arg,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { options(opts) }?;
        opts.on_full = match on_full {
            0 => FullAction::Reject,
            1 => FullAction::Evict,
            _ => {
                return Err(Failure::invalid(format_args!(
                    "{on_full} is not a memacct_pool_full_action"
                )))
            }
        };
        Ok(())
    })
}

/// Sets the number of shards, 1..=256 (checked by `memacct_pool_new`); 0
/// picks one from the machine's parallelism (the default). With 1 shard,
/// eviction follows the policy's order exactly; with more, exactly within a
/// shard.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_shards(
    opts: *mut memacct_pool_options,
    shards: usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.shards = shards;
        Ok(())
    })
}

/// Sets the TTL, in milliseconds, of entries put without one in domains
/// without a default of their own; 0 means none (the default).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_default_ttl_ms(
    opts: *mut memacct_pool_options,
    ttl_ms: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.default_ttl = nonzero(ttl_ms).map(Duration::from_millis);
        Ok(())
    })
}

/// Sets the granularity, in milliseconds, of the expiry buckets (default
/// 1000; 0 is `MEMACCT_INVALID_OPTION` at `memacct_pool_new`). An expired
/// entry is never returned whatever the resolution; `memacct_pool_expire`
/// and the sweeps of writes remove it at most one resolution late.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_ttl_resolution_ms(
    opts: *mut memacct_pool_options,
    resolution_ms: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.ttl_resolution = Duration::from_millis(resolution_ms);
        Ok(())
    })
}

/// Sets the limits and default TTL of one domain: at most `max_entries`
/// entries and `max_bytes` payload bytes of the domain (0: no limit of its
/// own), and `default_ttl_ms` for its entries put without a TTL (0: the
/// pool's default). Replaces what an earlier call set for the domain. A
/// `domain` that is not a `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_domain_limits(
    opts: *mut memacct_pool_options,
    domain: memacct_pool_domain_arg,
    max_entries: u64,
    max_bytes: u64,
    default_ttl_ms: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { options(opts) }?;
        let d = domain_from_raw(domain)?;
        let slot = &mut opts.domains[d as usize];
        slot.max_entries = nonzero(max_entries);
        slot.max_bytes = nonzero(max_bytes);
        slot.default_ttl = nonzero(default_ttl_ms).map(Duration::from_millis);
        Ok(())
    })
}

/// Sets the seed of the `MEMACCT_POLICY_RANDOM` generator (each shard uses
/// seed + shard number): the same seed and operations give the same victims.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_options_set_seed(
    opts: *mut memacct_pool_options,
    seed: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { options(opts) }?.seed = seed;
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Pool.
// ---------------------------------------------------------------------------

/// Creates an empty pool configured by `opts` (NULL: the defaults; the pool
/// copies what it needs, so `opts` may be freed right after). `*out` is set to
/// NULL on entry; on success it receives a new pool owned by the caller
/// (release it with `memacct_pool_free`). A bad configuration (shards above
/// 256, a TTL resolution of 0) is `MEMACCT_INVALID_OPTION`. (A limit cannot
/// be bad: the options setters take 0 as "no limit".)
///
/// # Safety
/// `opts` is NULL or a live handle that no thread mutates during the call;
/// `out` is NULL or valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_new(
    opts: *const memacct_pool_options,
    out: *mut *mut memacct_pool,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_pool(out) }?;
        let config = unsafe { config_of(opts) };
        let pool = Pool::new(config)?;
        *out = Box::into_raw(Box::new(memacct_pool { inner: pool }));
        Ok(())
    })
}

/// Releases a pool and every entry in it. NULL is a no-op. The pool must not
/// be used afterwards (by any thread), nor freed twice; its handles die with it.
///
/// # Safety
/// `pool` is NULL or a pool from `memacct_pool_new` / `memacct_pool_restore`
/// that has not been freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_free(pool: *mut memacct_pool) {
    if pool.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `pool` came from Box::into_raw.
        drop(unsafe { Box::from_raw(pool) });
    }));
}

/// Stores a copy of the `len` bytes at `data` (`(NULL, 0)` is an empty
/// payload) in `domain` (a `memacct_pool_domain`), for `owner` (0: no owner;
/// `memacct_pool_release_owner` releases all entries of an owner at once),
/// expiring after `ttl_ms` milliseconds (0: the domain's or the pool's
/// default TTL, if any; `MEMACCT_POOL_NO_TTL`: never). On success writes the
/// new entry's handle (never 0) to `*out_handle`.
///
/// When a limit would be passed: `MEMACCT_POOL_EXHAUSTED` under
/// `MEMACCT_POOL_REJECT` (nothing stored); under `MEMACCT_POOL_EVICT` the
/// policy's victims are evicted (their handles go stale) until it fits, and
/// `MEMACCT_POOL_EXHAUSTED` only if nothing more can be evicted or the
/// payload alone exceeds a limit.
///
/// # Safety
/// `pool` is NULL or a live pool; `data` is NULL or valid for `len` readable
/// bytes; `out_handle` is NULL or valid for one `uint64_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_put(
    pool: *const memacct_pool,
    domain: memacct_pool_domain_arg,
    owner: u64,
    data: *const u8,
    len: usize,
    ttl_ms: u64,
    out_handle: *mut u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        let data = unsafe { bytes(data, len, "data") }?;
        if out_handle.is_null() {
            return Err(Failure::null("out_handle"));
        }
        let domain = domain_from_raw(domain)?;
        let owner = nonzero(owner);
        let h = match ttl_ms {
            0 => pool.put(domain, owner, data)?,
            MEMACCT_POOL_NO_TTL => pool.put_vec(domain, owner, None, data.to_vec())?,
            ms => pool.put_with_ttl(domain, owner, Duration::from_millis(ms), data)?,
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out_handle.write(h.to_raw()) };
        Ok(())
    })
}

/// Copies the payload `handle` names into `*out`, a library-owned buffer:
/// see `memacct_buffer` (reset to `{NULL, 0}` on entry; release it with
/// `memacct_buffer_free`; an empty payload is `{NULL, 0}`). Counts as an
/// access for the policy and as a hit. A stale handle is
/// `MEMACCT_STALE_HANDLE` (a miss).
///
/// # Safety
/// `pool` is NULL or a live pool; `out` is NULL or valid for one
/// `memacct_buffer` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_get(
    pool: *const memacct_pool,
    handle: u64,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let pool = unsafe { pool_ref(pool) }?;
        *out = memacct_buffer::from_vec(pool.get(Handle::from_raw(handle))?);
        Ok(())
    })
}

/// Replaces the payload `handle` names with a copy of the `len` bytes at
/// `data` (an access; the TTL is unchanged). A payload that grows past a
/// limit is `MEMACCT_POOL_EXHAUSTED` under `MEMACCT_POOL_REJECT` (the old
/// payload stays) or makes room like a put under `MEMACCT_POOL_EVICT`.
///
/// # Safety
/// `pool` is NULL or a live pool; `data` is NULL or valid for `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_update(
    pool: *const memacct_pool,
    handle: u64,
    data: *const u8,
    len: usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        let data = unsafe { bytes(data, len, "data") }?;
        pool.update(Handle::from_raw(handle), data)?;
        Ok(())
    })
}

/// Releases the entry `handle` names; the handle goes stale. A second
/// release (or any stale handle) is `MEMACCT_STALE_HANDLE` and touches nothing.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_release(
    pool: *const memacct_pool,
    handle: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { pool_ref(pool) }?.release(Handle::from_raw(handle))?;
        Ok(())
    })
}

/// Changes the pool-wide limits while the pool runs: `max_entries` and
/// `max_bytes`, where 0 leaves a limit as it is. Only a limit the pool was
/// created with can change (`MEMACCT_INVALID_OPTION` otherwise: its usage is
/// not counted). Entries already stored stay; a lower limit applies from the
/// next put, rejected or evicting (per the pool's full action) until the pool
/// is under it. Thread-safe like every pool function.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_set_limits(
    pool: *const memacct_pool,
    max_entries: u64,
    max_bytes: u64,
) -> memacct_status {
    guard(|| {
        let some = |v: u64| (v != 0).then_some(v);
        // SAFETY: per this function's contract.
        unsafe { pool_ref(pool) }?.set_limits(some(max_entries), some(max_bytes))?;
        Ok(())
    })
}

/// Changes one domain's own limits while the pool runs, like
/// `memacct_pool_set_limits`: 0 leaves a limit as it is, and only a limit
/// the domain was created with (`memacct_pool_options_set_domain_limits`)
/// can change (`MEMACCT_INVALID_OPTION` otherwise). A `domain` that is not a
/// `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_set_domain_limits(
    pool: *const memacct_pool,
    domain: memacct_pool_domain_arg,
    max_entries: u64,
    max_bytes: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        let domain = domain_from_raw(domain)?;
        pool.set_domain_limits(domain, nonzero(max_entries), nonzero(max_bytes))?;
        Ok(())
    })
}

/// Writes `(max_entries, max_bytes)` to the out-pointers.
///
/// # Safety
/// Each is NULL or valid for one `uint64_t` write.
unsafe fn write_limits(
    limits: (Option<u64>, Option<u64>),
    out_max_entries: *mut u64,
    out_max_bytes: *mut u64,
) -> Result<(), Failure> {
    if out_max_entries.is_null() {
        return Err(Failure::null("out_max_entries"));
    }
    if out_max_bytes.is_null() {
        return Err(Failure::null("out_max_bytes"));
    }
    // SAFETY: non-NULL and writable per the contract.
    unsafe {
        out_max_entries.write(limits.0.unwrap_or(0));
        out_max_bytes.write(limits.1.unwrap_or(0));
    }
    Ok(())
}

/// The pool-wide limits in force (as created, or as last changed by
/// `memacct_pool_set_limits`): writes them to `*out_max_entries` and
/// `*out_max_bytes`, 0 meaning no limit (as in the options setters).
///
/// # Safety
/// `pool` is NULL or a live pool; the out-pointers are NULL or valid for one
/// `uint64_t` write each.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_limits(
    pool: *const memacct_pool,
    out_max_entries: *mut u64,
    out_max_bytes: *mut u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        // SAFETY: per this function's contract.
        unsafe { write_limits(pool.limits(), out_max_entries, out_max_bytes) }
    })
}

/// One domain's own limits in force (as created, or as last changed by
/// `memacct_pool_set_domain_limits`), like `memacct_pool_limits`: 0 means
/// no limit of its own (the pool-wide limits still apply). A `domain` that is
/// not a `memacct_pool_domain` is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// As `memacct_pool_limits`.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_domain_limits(
    pool: *const memacct_pool,
    domain: memacct_pool_domain_arg,
    out_max_entries: *mut u64,
    out_max_bytes: *mut u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        let domain = domain_from_raw(domain)?;
        // SAFETY: per this function's contract.
        unsafe { write_limits(pool.domain_limits(domain), out_max_entries, out_max_bytes) }
    })
}

/// How much `owner` holds now: writes its number of live entries to
/// `*out_entries` and their payload bytes to `*out_bytes` (0 and 0 for an
/// owner without entries; owner 0 names no owner, as in
/// `memacct_pool_release_owner`, so entries put without one are not counted). What a
/// memory decomposition charges to a connection as its native bytes.
/// O(shards + entries of the owner).
///
/// # Safety
/// `pool` is NULL or a live pool; `out_entries` is NULL or valid for one
/// `size_t` write, `out_bytes` for one `uint64_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_owner_usage(
    pool: *const memacct_pool,
    owner: u64,
    out_entries: *mut usize,
    out_bytes: *mut u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        if out_entries.is_null() {
            return Err(Failure::null("out_entries"));
        }
        if out_bytes.is_null() {
            return Err(Failure::null("out_bytes"));
        }
        let (entries, bytes) = pool.owner_usage(owner);
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out_entries.write(entries);
            out_bytes.write(bytes);
        }
        Ok(())
    })
}

/// Lists the handles of the live entries (expired ones not yet swept
/// included), shard by shard: how the entries of a restored pool
/// (`memacct_pool_restore`) are found. `*count` is set to the number of live
/// entries, and the first `min(*count, cap)` handles are written to
/// `out[0..]` (the convention of `memacct_decomposition_validate`): call with
/// `out` NULL and `cap` 0 to size, then with a larger array; the list is
/// complete when `*count <= cap`. Under concurrent puts or releases the
/// count may change between two calls, and entries stored or released during
/// the call may or may not be listed. O(slots). A `cap` whose array would
/// exceed `PTRDIFF_MAX` bytes is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `pool` is NULL or a live pool; `out` is valid for `cap` `uint64_t` writes
/// (NULL only with `cap` 0); `count` is NULL or valid for one `size_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_handles(
    pool: *const memacct_pool,
    out: *mut u64,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        // SAFETY: per this function's contract.
        let dst = unsafe { out_array(out, cap, "out") }?;
        let handles = pool.handles();
        for (slot, h) in dst.iter_mut().zip(&handles) {
            slot.write(h.to_raw());
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { count.write(handles.len()) };
        Ok(())
    })
}

/// Releases every entry of `owner` at once (e.g. when a connection ends),
/// in O(shards + entries of the owner); their handles go stale. Writes how many there
/// were to `*out_count` unless `out_count` is NULL. Owner 0 names no owner:
/// it releases nothing put through this API.
///
/// # Safety
/// `pool` is NULL or a live pool; `out_count` is NULL or valid for one
/// `size_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_release_owner(
    pool: *const memacct_pool,
    owner: u64,
    out_count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let n = unsafe { pool_ref(pool) }?.release_owner(owner);
        unsafe { put_count(out_count, n) };
        Ok(())
    })
}

/// Removes every entry whose TTL has passed (to the TTL resolution) now;
/// writes how many to `*out_count` unless `out_count` is NULL. (Expired
/// entries are never returned even before they are removed; writes also
/// sweep a few on the way.)
///
/// # Safety
/// `pool` is NULL or a live pool; `out_count` is NULL or valid for one
/// `size_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_expire(
    pool: *const memacct_pool,
    out_count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let n = unsafe { pool_ref(pool) }?.expire_now();
        unsafe { put_count(out_count, n) };
        Ok(())
    })
}

/// Releases every entry; writes how many to `*out_count` unless `out_count`
/// is NULL. Every handle of the pool goes stale.
///
/// # Safety
/// `pool` is NULL or a live pool; `out_count` is NULL or valid for one
/// `size_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_clear(
    pool: *const memacct_pool,
    out_count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let n = unsafe { pool_ref(pool) }?.clear();
        unsafe { put_count(out_count, n) };
        Ok(())
    })
}

/// Whether `handle` names a live, unexpired entry of `pool` (not an access:
/// no policy, hit or miss effect). False for a NULL pool.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_contains(pool: *const memacct_pool, handle: u64) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract.
        unsafe { pool.as_ref() }.is_some_and(|p| p.inner.contains(Handle::from_raw(handle)))
    }))
    .unwrap_or(false)
}

/// Number of live entries (including expired ones not yet swept); 0 for a
/// NULL pool.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_len(pool: *const memacct_pool) -> usize {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract.
        unsafe { pool.as_ref() }.map_or(0, |p| p.inner.len())
    }))
    .unwrap_or(0)
}

/// Fills `*out` with the pool's figures (see `memacct_pool_stats`; the
/// function cannot share the struct's name in C).
///
/// # Safety
/// `pool` is NULL or a live pool; `out` is NULL or valid for one
/// `memacct_pool_stats` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_get_stats(
    pool: *const memacct_pool,
    out: *mut memacct_pool_stats,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let stats = memacct_pool_stats::from_core(&pool.stats());
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(stats) };
        Ok(())
    })
}

/// Writes the live entries (domain, owner, TTL left, payload) to the file at
/// `path` (NUL-terminated) crash-safely: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. Writes how
/// many entries to `*out_count` unless `out_count` is NULL. Entries put
/// concurrently may or may not be in. An OS failure is `MEMACCT_IO` (the
/// last-error message has the OS message).
///
/// # Safety
/// `pool` is NULL or a live pool; `path` is NULL or a NUL-terminated string;
/// `out_count` is NULL or valid for one `size_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_checkpoint(
    pool: *const memacct_pool,
    path: *const c_char,
    out_count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let pool = unsafe { pool_ref(pool) }?;
        let path = unsafe { path_arg(path) }?;
        let n = pool.checkpoint(&path)?;
        unsafe { put_count(out_count, n) };
        Ok(())
    })
}

/// Creates a pool configured by `opts` (NULL: the defaults) holding the
/// entries of the checkpoint at `path` (NUL-terminated), with new handles
/// and TTLs resuming from what was left. The entries come back with new
/// handles: list them with `memacct_pool_handles`, read each with
/// `memacct_pool_get`; their owners are kept (`memacct_pool_owner_usage`,
/// `memacct_pool_release_owner`). `*out` is set to NULL on entry; on
/// success it receives a new pool owned by the caller. A corrupt or truncated
/// file is `MEMACCT_BAD_CHECKPOINT`, an unreadable one `MEMACCT_IO`, entries
/// that do not fit under `MEMACCT_POOL_REJECT` `MEMACCT_POOL_EXHAUSTED`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `opts` is NULL or a live handle
/// that no thread mutates during the call; `out` is NULL or valid for one
/// pointer write.
#[no_mangle]
pub unsafe extern "C" fn memacct_pool_restore(
    path: *const c_char,
    opts: *const memacct_pool_options,
    out: *mut *mut memacct_pool,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_pool(out) }?;
        let path = unsafe { path_arg(path) }?;
        let config = unsafe { config_of(opts) };
        let pool = Pool::restore(&path, config)?;
        *out = Box::into_raw(Box::new(memacct_pool { inner: pool }));
        Ok(())
    })
}

/// The stable snake_case name of a domain (`"session"`, `"shared"`, ...; the
/// name the Erlang and Python surfaces use). Static: do not free it. NULL for
/// a value that is not a `memacct_pool_domain`.
#[no_mangle]
pub extern "C" fn memacct_pool_domain_name(domain: memacct_pool_domain_arg) -> *const c_char {
    const NAMES: [&CStr; MEMACCT_POOL_DOMAIN_COUNT] =
        [c"session", c"shared", c"registry", c"cache", c"ephemeral"];
    usize::try_from(domain)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or(std::ptr::null(), |n| n.as_ptr())
}

/// The stable snake_case name of a policy (`"lru"`, `"s3_fifo"`, ...).
/// Static: do not free it. NULL for a value that is not a `memacct_pool_policy`.
#[no_mangle]
pub extern "C" fn memacct_pool_policy_name(policy: memacct_pool_policy_arg) -> *const c_char {
    const NAMES: [&CStr; 6] = [c"lru", c"lfu", c"fifo", c"ttl", c"random", c"s3_fifo"];
    usize::try_from(policy)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or(std::ptr::null(), |n| n.as_ptr())
}

// The C enums are the core's, number for number.
const _: () = {
    assert!(MEMACCT_POOL_DOMAIN_COUNT == Domain::COUNT);
    assert!(memacct_pool_domain::MEMACCT_DOMAIN_EPHEMERAL as u8 == Domain::Ephemeral as u8);
    assert!(memacct_pool_policy::MEMACCT_POLICY_S3_FIFO as u8 == PolicyKind::S3Fifo as u8);
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::memacct_buffer_free;
    use memacct_status::*;

    fn new_pool(f: impl FnOnce(*mut memacct_pool_options)) -> *mut memacct_pool {
        let o = memacct_pool_options_new();
        f(o);
        let mut p = std::ptr::null_mut();
        assert_eq!(unsafe { memacct_pool_new(o, &mut p) }, MEMACCT_OK);
        unsafe { memacct_pool_options_free(o) };
        assert!(!p.is_null());
        p
    }

    fn put(p: *const memacct_pool, owner: u64, data: &[u8]) -> Result<u64, memacct_status> {
        let mut h = 0;
        match unsafe { memacct_pool_put(p, 0, owner, data.as_ptr(), data.len(), 0, &mut h) } {
            MEMACCT_OK => Ok(h),
            s => Err(s),
        }
    }

    fn get(p: *const memacct_pool, h: u64) -> Result<Vec<u8>, memacct_status> {
        let mut b = memacct_buffer::empty();
        let s = unsafe { memacct_pool_get(p, h, &mut b) };
        let v = (s == MEMACCT_OK).then(|| {
            if b.data.is_null() {
                Vec::new()
            } else {
                unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec()
            }
        });
        unsafe { memacct_buffer_free(&mut b) };
        v.ok_or(s)
    }

    fn stats(p: *const memacct_pool) -> memacct_pool_stats {
        let mut st = std::mem::MaybeUninit::uninit();
        assert_eq!(
            unsafe { memacct_pool_get_stats(p, st.as_mut_ptr()) },
            MEMACCT_OK
        );
        unsafe { st.assume_init() }
    }

    #[test]
    fn put_get_update_release_and_stale_handles() {
        let p = new_pool(|_| {});
        let h = put(p, 0, b"abc").unwrap();
        assert_ne!(h, 0);
        assert_eq!(get(p, h).unwrap(), b"abc");
        unsafe {
            assert_eq!(memacct_pool_update(p, h, b"xyzw".as_ptr(), 4), MEMACCT_OK);
            assert_eq!(get(p, h).unwrap(), b"xyzw");
            assert!(memacct_pool_contains(p, h));
            assert_eq!(memacct_pool_len(p), 1);
            assert_eq!(memacct_pool_release(p, h), MEMACCT_OK);
            assert_eq!(memacct_pool_release(p, h), MEMACCT_STALE_HANDLE);
            assert_eq!(
                memacct_pool_update(p, h, b"q".as_ptr(), 1),
                MEMACCT_STALE_HANDLE
            );
            assert!(!memacct_pool_contains(p, h));
        }
        assert_eq!(get(p, h), Err(MEMACCT_STALE_HANDLE));
        assert_eq!(get(p, 0), Err(MEMACCT_STALE_HANDLE));
        let empty = put(p, 0, b"").unwrap();
        assert_eq!(get(p, empty).unwrap(), b"");
        let st = stats(p);
        assert_eq!(
            (
                st.created + st.reused,
                st.in_use,
                st.released,
                st.hits,
                st.misses
            ),
            (2, 1, 1, 3, 2)
        );
        assert_eq!(st.policy, memacct_pool_policy::MEMACCT_POLICY_LRU);
        assert_eq!(st.pressure, memacct_pool_pressure::MEMACCT_PRESSURE_LOW);
        assert_eq!(st.domains[0].entries, 1);
        unsafe { memacct_pool_free(p) };
    }

    #[test]
    fn reject_is_the_default_and_evict_follows_the_policy() {
        let p = new_pool(|o| unsafe {
            assert_eq!(memacct_pool_options_set_max_entries(o, 2), MEMACCT_OK);
            assert_eq!(memacct_pool_options_set_shards(o, 1), MEMACCT_OK);
        });
        put(p, 0, b"a").unwrap();
        put(p, 0, b"b").unwrap();
        assert_eq!(put(p, 0, b"c"), Err(MEMACCT_POOL_EXHAUSTED));
        assert_eq!(stats(p).rejected, 1);
        assert_eq!(
            stats(p).pressure,
            memacct_pool_pressure::MEMACCT_PRESSURE_CRITICAL
        );
        unsafe { memacct_pool_free(p) };

        let p = new_pool(|o| unsafe {
            memacct_pool_options_set_max_entries(o, 2);
            memacct_pool_options_set_shards(o, 1);
            memacct_pool_options_set_on_full(o, 1);
            memacct_pool_options_set_policy(o, memacct_pool_policy::MEMACCT_POLICY_FIFO as u32);
        });
        let a = put(p, 0, b"a").unwrap();
        let b = put(p, 0, b"b").unwrap();
        get(p, a).unwrap();
        let c = put(p, 0, b"c").unwrap();
        assert_eq!(
            get(p, a),
            Err(MEMACCT_STALE_HANDLE),
            "FIFO evicts the oldest"
        );
        assert_eq!(get(p, b).unwrap(), b"b");
        assert_eq!(get(p, c).unwrap(), b"c");
        assert_eq!(stats(p).evicted, 1);
        assert_eq!(stats(p).policy, memacct_pool_policy::MEMACCT_POLICY_FIFO);
        unsafe { memacct_pool_free(p) };
    }

    #[test]
    fn owners_ttls_and_domains() {
        let p = new_pool(|o| unsafe {
            assert_eq!(
                memacct_pool_options_set_domain_limits(o, 3, 1, 0, 0),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_pool_options_set_domain_limits(o, 5, 1, 0, 0),
                MEMACCT_INVALID_ARGUMENT
            );
            memacct_pool_options_set_ttl_resolution_ms(o, 1);
        });
        let mut n = 99;
        let hs: Vec<u64> = (0..3).map(|i| put(p, 7, &[i]).unwrap()).collect();
        unsafe {
            assert_eq!(memacct_pool_release_owner(p, 7, &mut n), MEMACCT_OK);
            assert_eq!(n, 3);
            assert_eq!(
                memacct_pool_release_owner(p, 7, std::ptr::null_mut()),
                MEMACCT_OK
            );
            for h in hs {
                assert!(!memacct_pool_contains(p, h));
            }
            let mut h = 0;
            let cache = memacct_pool_domain::MEMACCT_DOMAIN_CACHE as u32;
            assert_eq!(
                memacct_pool_put(p, cache, 0, b"x".as_ptr(), 1, 0, &mut h),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_pool_put(p, cache, 0, b"y".as_ptr(), 1, 0, &mut h),
                MEMACCT_POOL_EXHAUSTED
            );
            assert_eq!(
                memacct_pool_put(p, 9, 0, b"y".as_ptr(), 1, 0, &mut h),
                MEMACCT_INVALID_ARGUMENT
            );
            let mut t = 0;
            assert_eq!(
                memacct_pool_put(p, 1, 0, b"t".as_ptr(), 1, 1, &mut t),
                MEMACCT_OK
            );
            let mut forever = 0;
            let s = memacct_pool_put(p, 1, 0, b"f".as_ptr(), 1, MEMACCT_POOL_NO_TTL, &mut forever);
            assert_eq!(s, MEMACCT_OK);
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(memacct_pool_expire(p, &mut n), MEMACCT_OK);
            // The second put may have swept it already, if 1 ms passed.
            assert!(n <= 1);
            assert_eq!(stats(p).expired, 1);
            assert!(!memacct_pool_contains(p, t) && memacct_pool_contains(p, forever));
            assert_eq!(stats(p).domains[1].expired, 1);
            assert_eq!(memacct_pool_clear(p, &mut n), MEMACCT_OK);
            assert_eq!((n, memacct_pool_len(p)), (2, 0));
            memacct_pool_free(p);
        }
    }

    #[test]
    fn bad_options_and_null_arguments() {
        let o = memacct_pool_options_new();
        let mut p = 0x10 as *mut memacct_pool;
        let null_opts = std::ptr::null_mut();
        unsafe {
            assert_eq!(
                memacct_pool_options_set_policy(o, 6),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_pool_options_set_on_full(o, 2),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_pool_options_set_seed(null_opts, 1),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(memacct_pool_options_set_shards(o, 257), MEMACCT_OK);
            assert_eq!(memacct_pool_new(o, &mut p), MEMACCT_INVALID_OPTION);
            assert!(p.is_null(), "out reset on entry");
            memacct_pool_options_set_shards(o, 2);
            memacct_pool_options_set_ttl_resolution_ms(o, 0);
            assert_eq!(memacct_pool_new(o, &mut p), MEMACCT_INVALID_OPTION);
            memacct_pool_options_set_ttl_resolution_ms(o, 5);
            assert_eq!(
                memacct_pool_new(o, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(memacct_pool_new(o, &mut p), MEMACCT_OK);
            memacct_pool_options_free(o);

            let mut h = 5u64;
            let none = std::ptr::null();
            assert_eq!(
                memacct_pool_put(none, 0, 0, b"a".as_ptr(), 1, 0, &mut h),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_pool_put(p, 0, 0, std::ptr::null(), 1, 0, &mut h),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_pool_put(p, 0, 0, b"a".as_ptr(), 1, 0, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(h, 5, "out untouched on failure");
            let mut b = memacct_buffer::empty();
            assert_eq!(memacct_pool_get(none, 1, &mut b), MEMACCT_NULL_POINTER);
            assert_eq!(
                memacct_pool_get(p, 1, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(memacct_pool_release(none, 1), MEMACCT_NULL_POINTER);
            assert_eq!(
                memacct_pool_expire(none, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_pool_get_stats(p, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_pool_checkpoint(p, std::ptr::null(), std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_pool_checkpoint(p, c"".as_ptr(), std::ptr::null_mut()),
                MEMACCT_INVALID_ARGUMENT
            );
            assert!(!memacct_pool_contains(none, 1));
            assert_eq!(memacct_pool_len(none), 0);
            memacct_pool_free(p);
            memacct_pool_free(std::ptr::null_mut());
            memacct_pool_options_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn checkpoint_and_restore() {
        let dir = std::env::temp_dir().join(format!("memacct-ffi-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pool.ckpt");
        let path = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
        let p = new_pool(|_| {});
        put(p, 3, b"one").unwrap();
        put(p, 0, b"two").unwrap();
        let mut n = 0;
        unsafe {
            assert_eq!(
                memacct_pool_checkpoint(p, path.as_ptr(), &mut n),
                MEMACCT_OK
            );
            assert_eq!(n, 2);
            let mut q = std::ptr::null_mut();
            assert_eq!(
                memacct_pool_restore(path.as_ptr(), std::ptr::null(), &mut q),
                MEMACCT_OK
            );
            assert_eq!(memacct_pool_len(q), 2);
            let mut m = 0;
            assert_eq!(memacct_pool_release_owner(q, 3, &mut m), MEMACCT_OK);
            assert_eq!(m, 1);
            memacct_pool_free(q);

            let mut raw = std::fs::read(&file).unwrap();
            let mid = raw.len() / 2;
            raw[mid] ^= 1;
            std::fs::write(&file, &raw).unwrap();
            let mut q = 0x10 as *mut memacct_pool;
            assert_eq!(
                memacct_pool_restore(path.as_ptr(), std::ptr::null(), &mut q),
                MEMACCT_BAD_CHECKPOINT
            );
            assert!(q.is_null());
            let missing = std::ffi::CString::new(dir.join("nope").to_str().unwrap()).unwrap();
            assert_eq!(
                memacct_pool_restore(missing.as_ptr(), std::ptr::null(), &mut q),
                MEMACCT_IO
            );
            memacct_pool_free(p);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names() {
        let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap();
        for d in Domain::ALL {
            assert_eq!(s(memacct_pool_domain_name(d as u32)), d.as_str());
        }
        for k in PolicyKind::ALL {
            assert_eq!(s(memacct_pool_policy_name(k as u32)), k.as_str());
            assert_eq!(policy_to_c(k) as u32, k as u32);
        }
        assert!(memacct_pool_domain_name(5).is_null());
        assert!(memacct_pool_policy_name(6).is_null());
    }

    #[test]
    fn threads_share_one_pool() {
        let p = new_pool(|_| {}) as usize;
        let total: usize = std::thread::scope(|s| {
            (0..4u64)
                .map(|t| {
                    s.spawn(move || {
                        let p = p as *const memacct_pool;
                        let mut kept = 0;
                        for i in 0..2000u32 {
                            let h = put(p, t % 2 + 1, &i.to_le_bytes()).unwrap();
                            assert_eq!(get(p, h).unwrap(), i.to_le_bytes());
                            if i % 2 == 0 {
                                assert_eq!(unsafe { memacct_pool_release(p, h) }, MEMACCT_OK);
                            } else {
                                kept += 1;
                            }
                        }
                        kept
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|j| j.join().unwrap())
                .sum()
        });
        let p = p as *mut memacct_pool;
        let st = stats(p);
        assert_eq!(st.in_use as usize, total);
        assert_eq!(st.created + st.reused, 8000);
        assert_eq!(st.released, 4000);
        unsafe { memacct_pool_free(p) };
    }
}
