//! The state pool (`memacct_core::pool`) as NIFs: a pool resource, payloads
//! stored as ETF (small terms) or memacct codec blobs (the rest), and owner
//! reclaim through NIF process monitors.
//!
//! **Owners.** `pool_put(.., true)` stores an entry owned by the calling
//! process. The resource keeps a map pid -> (owner id, monitor), split into
//! [`OWNER_SHARDS`] mutexes by the pid's hash; the first owned put of a
//! process takes a new owner id and monitors the process
//! (`enif_monitor_process`). When it exits, [`Resource::down`] releases all
//! of its entries at once (`Pool::release_owner`, O(entries of the owner)).
//! Owner ids come from one VM-wide counter that starts at a random 64-bit
//! value, so ids never repeat within a VM and ids kept in a checkpoint (the
//! core writes them) do not collide with the ids of a later VM: restored
//! entries have no owner process.
//!
//! Race-free reclaim: an owned put holds its pid's owner-map lock while it
//! stores the entry, and `down` holds it while it releases; a process killed
//! during a dirty put either has its entry released by `down` or fails to be
//! monitored (then nothing is stored).
//!
//! **Payloads.** `memacct_pool.erl` passes `term_to_binary(Value)`. ETF below
//! the pool's `compress_min` bytes is stored as is (a compact term is
//! already small; zstd would not shrink it); larger ETF is stored as a
//! memacct blob (with the pool's dictionary, if any). A payload starting with
//! byte 131 is ETF, one starting with `MAcs` a blob.
//!
//! **Scheduling.** Every plain NIF here is O(1) in the number of entries (a
//! few shard locks; `pool_stats` and `pool_size` visit each shard once) and
//! bounded in payload work: a put or update answers `dirty` when its codec
//! estimate exceeds [`crate::codec::CODEC_NORMAL_BUDGET`] or its raw payload
//! exceeds [`POOL_COPY_NORMAL_MAX`]; a get copies at most
//! [`POOL_COPY_NORMAL_MAX`] bytes and decodes at most [`POOL_DECODE_NORMAL_MAX`]
//! bytes of ETF on the normal scheduler, handing larger work to a dirty twin
//! or to `binary_to_term/1` (which yields). Checkpoint, restore, clear,
//! expire and handles run on dirty schedulers. Two costs are not O(1) and
//! are bounded: a put or update on a normal scheduler evicts at most
//! [`POOL_EVICT_NORMAL_MAX`] entries and answers `dirty` if it needs more;
//! `down` (an owner's exit, in the VM's monitor callback) releases at most
//! `DOWN_RELEASE_MAX` entries and hands the rest to a thread.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use memacct_core::codec::{self, CompressOptions, DecompressOptions};
use memacct_core::pool::{
    Domain, DomainConfig, FullAction, Handle, MonotonicClock, PolicyKind, Pool, PoolConfig,
    PoolStats,
};
use memacct_core::{work, Error};
use rustler::{
    Atom, Binary, Encoder, Env, Error as NifError, LocalPid, Monitor, NewBinary, NifResult,
    OwnedBinary, Resource, ResourceArc, Term,
};

use crate::codec::{DictRes, CODEC_NORMAL_BUDGET};
use crate::{dirty, error_term, none, ok};

rustler::atoms! {
        pool_atom = "pool",
    etf,
    dirty_blob,
    default_ttl = "default",
    lru,
    lfu,
    fifo,
    ttl,
    random,
    s3fifo,
    s3_fifo,
    reject,
    evict,
    session,
    shared,
    registry,
    cache,
    ephemeral,
    // stats keys
    policy,
    shards,
    in_use,
    available,
    created,
    reused,
    released,
    evicted,
    expired,
    rejected,
    hits,
    misses,
    bytes_stored,
    bytes_allocated,
    reuse_ratio,
    pressure,
    domains,
    entries,
    bytes,
    owners,
    reclaimed,
    max_entries,
    max_bytes,
    low,
    medium,
    high,
    critical,
}

/// Largest raw payload (bytes) copied into or out of the pool on a normal
/// scheduler: a memcpy of 1 MiB takes about 0.1 ms.
pub const POOL_COPY_NORMAL_MAX: usize = 1024 * 1024;

/// Largest ETF (bytes) turned into a term inside a normal-scheduler get;
/// larger ETF is returned as a binary for `binary_to_term/1`, which yields.
/// `binary_to_term` of 64 KiB of connection states takes about 0.1-0.2 ms.
pub const POOL_DECODE_NORMAL_MAX: usize = 64 * 1024;

/// Most entries a put or update on a normal scheduler evicts to make room
/// (~0.1 ms: a dirty put measured 9,363 evictions in 3.1 ms, 2026-11-24);
/// one that needs more answers `dirty` and its twin finishes the job.
pub const POOL_EVICT_NORMAL_MAX: u64 = 256;

/// Shards of the pid -> owner map.
const OWNER_SHARDS: usize = 64;

/// First byte of ETF.
const ETF_VERSION: u8 = 131;

/// Whether a stored payload is plain ETF (else it is a codec blob): the one
/// rule `get` and `restore` read payloads by.
fn is_etf(payload: &[u8]) -> bool {
    payload.first() == Some(&ETF_VERSION)
}

/// `LocalPid`'s `Hash` writes the VM's own hash of the pid: use it as is.
#[derive(Default)]
struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PidMap = HashMap<LocalPid, (u64, Monitor), BuildHasherDefault<PidHasher>>;

/// The next owner id (VM-wide, starting at a random value).
fn next_owner() -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    NEXT.get_or_init(|| AtomicU64::new(RandomState::new().hash_one(0x6f776e6572u64)))
        .fetch_add(1, Ordering::Relaxed)
}

/// A pool as an Erlang term (a reference).
pub struct PoolRes {
    /// Shared with the thread that finishes a large owner reclaim.
    pool: Arc<Pool>,
    dict: Option<ResourceArc<DictRes>>,
    level: i32,
    /// ETF of at least this many bytes is compressed.
    compress_min: usize,
    owners: Box<[Mutex<PidMap>]>,
    reclaimed: Arc<AtomicU64>,
    /// This resource's own pointer (`enif_alloc_resource`'s), set once made:
    /// a reclaim thread keeps the resource, hence the NIF library, alive.
    raw: OnceLock<usize>,
}

/// Entries of an exited owner released inside the monitor callback, before
/// its `'DOWN'` reaches anyone (about a millisecond: the core released
/// 32,768 entries in 1.0-1.2 ms, measured 2026-11-24); an owner with more has
/// the rest released by a thread, right after.
const DOWN_RELEASE_MAX: usize = 32_768;

/// Reclaim threads running at most at once; beyond, `down` finishes inline.
const RECLAIM_THREADS_MAX: usize = 4;

static RECLAIM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// A reference to a pool resource held by a reclaim thread: while it lives
/// the VM neither frees the resource nor unloads the library whose code the
/// thread runs.
struct KeptResource(usize);

impl KeptResource {
    fn keep(raw: usize) -> KeptResource {
        // SAFETY: `raw` is the pointer enif_alloc_resource returned for a
        // resource that is alive (its `down` callback is running).
        unsafe { rustler::sys::enif_keep_resource(raw as *const std::ffi::c_void) };
        KeptResource(raw)
    }
}

impl Drop for KeptResource {
    fn drop(&mut self) {
        RECLAIM_THREADS.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: balances the keep in `KeptResource::keep`.
        unsafe { rustler::sys::enif_release_resource(self.0 as *const std::ffi::c_void) };
    }
}

#[rustler::resource_impl]
impl Resource for PoolRes {
    fn down<'a>(&'a self, _env: Env<'a>, pid: LocalPid, monitor: Monitor) {
        let mut map = self.owner_shard(&pid);
        if let Some(&(owner, m)) = map.get(&pid) {
            if m == monitor {
                map.remove(&pid);
                let (n, more) = self.pool.release_owner_upto(owner, DOWN_RELEASE_MAX);
                self.reclaimed.fetch_add(n as u64, Ordering::Relaxed);
                if more {
                    self.reclaim_rest(owner);
                }
            }
        }
    }
}

impl PoolRes {
    /// Releases the rest of `owner`'s entries on a thread of its own (the
    /// resource kept alive meanwhile), or here when threads are at their
    /// limit or none can be had.
    fn reclaim_rest(&self, owner: u64) {
        let (pool, reclaimed) = (Arc::clone(&self.pool), Arc::clone(&self.reclaimed));
        let rest = move || {
            let n = pool.release_owner(owner);
            reclaimed.fetch_add(n as u64, Ordering::Relaxed);
        };
        let slot = RECLAIM_THREADS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < RECLAIM_THREADS_MAX).then_some(n + 1)
            })
            .is_ok();
        match self.raw.get() {
            Some(&raw) if slot => {
                let kept = KeptResource::keep(raw);
                let job = rest.clone();
                let spawned = std::thread::Builder::new()
                    .name("memacct-reclaim".into())
                    .spawn(move || {
                        job();
                        drop(kept);
                    });
                if spawned.is_err() {
                    // The closure (and `kept`, freeing the slot) is dropped.
                    rest();
                }
            }
            _ => {
                if slot {
                    RECLAIM_THREADS.fetch_sub(1, Ordering::AcqRel);
                }
                rest();
            }
        }
    }

    fn owner_shard(&self, pid: &LocalPid) -> MutexGuard<'_, PidMap> {
        let h = BuildHasherDefault::<PidHasher>::default().hash_one(pid);
        self.owners[(h >> 58) as usize % OWNER_SHARDS]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn compress_options(&self) -> CompressOptions<'_> {
        CompressOptions {
            dictionary: self.dict.as_ref().map(|d| d.dict()),
            level: self.level,
            // Values come from `term_to_binary/1` in memacct_pool.erl, never
            // zlib-compressed: compressed ETF is refused (`inflate_limit`)
            // rather than inflated on a scheduler. A payload that is not ETF
            // is reported when read back.
            inflate_limit: 0,
            check_term: false,
            ..CompressOptions::default()
        }
    }

    fn decompress_options(&self, max_output: usize) -> DecompressOptions<'_> {
        DecompressOptions {
            dictionary: self.dict.as_ref().map(|d| d.dict()),
            max_output,
        }
    }

    /// Whether encoding `etf` fits a normal scheduler.
    fn encode_fits(&self, etf: &[u8]) -> bool {
        if etf.len() < self.compress_min {
            etf.len() <= POOL_COPY_NORMAL_MAX
        } else {
            work::compress_cost(etf, &self.compress_options()) <= CODEC_NORMAL_BUDGET
        }
    }

    /// The payload stored for `etf`.
    fn encode_payload(&self, etf: &[u8]) -> memacct_core::Result<Vec<u8>> {
        if etf.len() < self.compress_min {
            Ok(etf.to_vec())
        } else {
            codec::compress(etf, &self.compress_options())
        }
    }

    fn domain_ttl(&self, d: Domain) -> Option<Duration> {
        let c = self.pool.config();
        c.domains[d as usize].default_ttl.or(c.default_ttl)
    }
}

fn domain(a: Atom) -> NifResult<Domain> {
    let d = if a == session() {
        Domain::Session
    } else if a == shared() {
        Domain::Shared
    } else if a == registry() {
        Domain::Registry
    } else if a == cache() {
        Domain::Cache
    } else if a == ephemeral() {
        Domain::Ephemeral
    } else {
        return Err(NifError::BadArg);
    };
    Ok(d)
}

fn domain_atom(d: Domain) -> Atom {
    match d {
        Domain::Session => session(),
        Domain::Shared => shared(),
        Domain::Registry => registry(),
        Domain::Cache => cache(),
        Domain::Ephemeral => ephemeral(),
    }
}

fn policy_atom(p: PolicyKind) -> Atom {
    match p {
        PolicyKind::Lru => lru(),
        PolicyKind::Lfu => lfu(),
        PolicyKind::Fifo => fifo(),
        PolicyKind::Ttl => ttl(),
        PolicyKind::Random => random(),
        PolicyKind::S3Fifo => s3fifo(),
    }
}

fn is_atom(t: Term, a: Atom) -> bool {
    t.is_atom() && t.decode::<Atom>().is_ok_and(|x| x == a)
}

/// `none` or a non-negative integer.
fn opt_u64(t: Term) -> NifResult<Option<u64>> {
    if is_atom(t, none()) {
        Ok(None)
    } else {
        Ok(Some(t.decode()?))
    }
}

fn opt_ms(t: Term) -> NifResult<Option<Duration>> {
    Ok(opt_u64(t)?.map(Duration::from_millis))
}

/// The options tuple `memacct_pool.erl` builds:
/// `{{Shards, MaxEntries, MaxBytes, Policy, OnFull, DefaultTtlMs,
///   TtlResolutionMs}, {Seed, [{Domain, MaxEntries, MaxBytes, TtlMs}],
///   Dict | none, Level, CompressMin}}` (limits and TTLs: `none` or integers).
type ConfigTuple<'a> = (
    (u64, Term<'a>, Term<'a>, Atom, Atom, Term<'a>, u64),
    (
        u64,
        Term<'a>, // [{Domain, MaxEntries, MaxBytes, TtlMs}]
        Term<'a>,
        i64,
        u64,
    ),
);

struct Settings {
    config: PoolConfig,
    dict: Option<ResourceArc<DictRes>>,
    level: i32,
    compress_min: usize,
}

fn settings(t: Term) -> NifResult<Settings> {
    let ((shards, max_e, max_b, pol, full, ttl_ms, res_ms), (seed, doms, dict, level, cmin)): ConfigTuple =
        t.decode()?;
    let policy = if pol == lru() {
        PolicyKind::Lru
    } else if pol == lfu() {
        PolicyKind::Lfu
    } else if pol == fifo() {
        PolicyKind::Fifo
    } else if pol == ttl() {
        PolicyKind::Ttl
    } else if pol == random() {
        PolicyKind::Random
    } else if pol == s3fifo() || pol == s3_fifo() {
        PolicyKind::S3Fifo
    } else {
        return Err(NifError::BadArg);
    };
    let on_full = if full == reject() {
        FullAction::Reject
    } else if full == evict() {
        FullAction::Evict
    } else {
        return Err(NifError::BadArg);
    };
    let mut domains = [DomainConfig::default(); Domain::COUNT];
    for dom in crate::proper_list(doms)? {
        let (d, e, b, tl): (Atom, Term, Term, Term) = dom.decode()?;
        domains[domain(d)? as usize] = DomainConfig {
            max_entries: opt_u64(e)?,
            max_bytes: opt_u64(b)?,
            default_ttl: opt_ms(tl)?,
        };
    }
    let dict = if is_atom(dict, none()) {
        None
    } else {
        Some(dict.decode::<ResourceArc<DictRes>>()?)
    };
    let config = PoolConfig {
        shards: usize::try_from(shards).unwrap_or(usize::MAX),
        max_entries: opt_u64(max_e)?,
        max_bytes: opt_u64(max_b)?,
        domains,
        on_full,
        policy,
        default_ttl: opt_ms(ttl_ms)?,
        ttl_resolution: Duration::from_millis(res_ms),
        seed,
        ..PoolConfig::default()
    };
    Ok(Settings {
        config,
        dict,
        level: level.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
        compress_min: usize::try_from(cmin).unwrap_or(usize::MAX),
    })
}

fn wrap(pool: Pool, s: Settings) -> ResourceArc<PoolRes> {
    let res = ResourceArc::new(PoolRes {
        pool: Arc::new(pool),
        dict: s.dict,
        level: s.level,
        compress_min: s.compress_min,
        owners: (0..OWNER_SHARDS)
            .map(|_| Mutex::new(PidMap::default()))
            .collect(),
        reclaimed: Arc::new(AtomicU64::new(0)),
        raw: OnceLock::new(),
    });
    let _ = res.raw.set(res.as_c_arg() as usize);
    res
}

/// Checks the level the way a compress would (`invalid_option` outside 1..=22).
fn check_level(s: &Settings) -> memacct_core::Result<()> {
    let opts = CompressOptions {
        dictionary: None,
        level: s.level,
        inflate_limit: 0,
        ..CompressOptions::default()
    };
    codec::compress(&[ETF_VERSION, 106], &opts).map(|_| ())
}

/// `pool_new(Config)`: `{ok, Pool}` or `{error, {invalid_option, Msg}}`.
#[rustler::nif]
fn pool_new<'a>(env: Env<'a>, config: Term<'a>) -> NifResult<Term<'a>> {
    let s = settings(config)?;
    if let Err(e) = check_level(&s) {
        return Ok(error_term(env, &e));
    }
    match Pool::new(s.config.clone()) {
        Ok(pool) => Ok((ok(), wrap(pool, s)).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

fn path(bin: Binary) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bin.as_slice()))
}

/// `pool_restore(Path, Config)` on a dirty I/O scheduler.
#[rustler::nif(schedule = "DirtyIo")]
fn pool_restore<'a>(env: Env<'a>, file: Binary<'a>, config: Term<'a>) -> NifResult<Term<'a>> {
    let s = settings(config)?;
    if let Err(e) = check_level(&s) {
        return Ok(error_term(env, &e));
    }
    // A payload this pool could not read back (a blob of another
    // dictionary or of one it lacks, or neither ETF nor a blob) refuses the
    // whole checkpoint now rather than failing on every `get`.
    let dict = s.dict.as_ref().map(|d| d.dict());
    let readable = |payload: &[u8]| {
        if is_etf(payload) {
            Ok(())
        } else {
            codec::check_dictionary(payload, dict)
        }
    };
    let restored = Pool::restore_checked(
        path(file),
        s.config.clone(),
        Arc::new(MonotonicClock::new()),
        readable,
    );
    match restored {
        Ok((pool, _)) => Ok((ok(), wrap(pool, s)).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// `pool_checkpoint(Pool, Path)` on a dirty I/O scheduler: `{ok, N}` or an error.
#[rustler::nif(schedule = "DirtyIo")]
fn pool_checkpoint<'a>(env: Env<'a>, res: &PoolRes, file: Binary<'a>) -> Term<'a> {
    match res.pool.checkpoint(path(file)) {
        Ok(n) => (ok(), n as u64).encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// The TTL argument: `default` (the domain's), `none`, or milliseconds.
fn ttl_arg(res: &PoolRes, d: Domain, t: Term) -> NifResult<Option<Duration>> {
    if is_atom(t, default_ttl()) {
        Ok(res.domain_ttl(d))
    } else {
        opt_ms(t)
    }
}

/// What a put stores and how: the domain, whether the caller owns the
/// entry, its TTL, and the most entries it may evict to make room.
struct PutArgs {
    domain: Domain,
    owned: bool,
    ttl: Option<Duration>,
    max_evictions: u64,
}

/// Stores `etf` for `pool` (whose resource is `res`). The pool term is
/// turned into a counted reference only to monitor a new owner: the hot path
/// touches no reference count shared by every caller.
fn put_impl<'a>(
    env: Env<'a>,
    pool: Term<'a>,
    res: &PoolRes,
    etf: &[u8],
    args: PutArgs,
) -> NifResult<Term<'a>> {
    let PutArgs {
        domain: d,
        owned,
        ttl,
        max_evictions,
    } = args;
    let data = match res.encode_payload(etf) {
        Ok(v) => v,
        Err(e) => return Ok(error_term(env, &e)),
    };
    let exiting = || {
        // The caller is exiting: it will never see an answer.
        error_term(
            env,
            &Error::InvalidOption {
                name: "owner",
                reason: "the calling process is exiting".into(),
            },
        )
    };
    let r = if owned {
        let pid = env.pid();
        let mut map = res.owner_shard(&pid);
        let (owner, mon) = match map.get(&pid) {
            Some(&om) => om,
            None => {
                let arc: ResourceArc<PoolRes> = pool.decode()?;
                let Some(mon) = env.monitor(&arc, &pid) else {
                    return Ok(exiting());
                };
                let o = next_owner();
                map.insert(pid, (o, mon));
                (o, mon)
            }
        };
        if max_evictions != u64::MAX {
            // Bounded work: store under the owner map's lock, so `down`
            // (which takes it) releases this entry or finds the owner gone.
            res.pool
                .put_vec_within(d, Some(owner), ttl, data, max_evictions)
        } else {
            // Unbounded evictions must not hold a lock that normal-scheduler
            // puts and `down` callbacks wait on: store unlocked, then check
            // the owner is still there; if `down` ran meanwhile, nobody will
            // release the entry, so release it here.
            drop(map);
            let r = res
                .pool
                .put_vec_within(d, Some(owner), ttl, data, max_evictions);
            let still_owned = res.owner_shard(&pid).get(&pid) == Some(&(owner, mon));
            match r {
                Ok(Some(h)) if !still_owned => {
                    let _ = res.pool.release(h);
                    return Ok(exiting());
                }
                r => r,
            }
        }
    } else {
        res.pool.put_vec_within(d, None, ttl, data, max_evictions)
    };
    Ok(match r {
        Ok(Some(h)) => (ok(), h.to_raw()).encode(env),
        // More to evict than a normal scheduler may: the dirty twin goes on.
        Ok(None) => dirty().encode(env),
        Err(e) => error_term(env, &e),
    })
}

/// `pool_put(Pool, Domain, Etf, Owned, Ttl)` on a normal scheduler:
/// `{ok, Handle}`, `{error, {Code, Msg}}`, or `dirty` for a large payload.
#[rustler::nif]
fn pool_put<'a>(
    env: Env<'a>,
    pool: Term<'a>,
    d: Atom,
    etf: Binary<'a>,
    owned: bool,
    ttl: Term<'a>,
) -> NifResult<Term<'a>> {
    let res: &PoolRes = pool.decode()?;
    let d = domain(d)?;
    let ttl = ttl_arg(res, d, ttl)?;
    if !res.encode_fits(etf.as_slice()) {
        return Ok(dirty().encode(env));
    }
    let args = PutArgs {
        domain: d,
        owned,
        ttl,
        max_evictions: POOL_EVICT_NORMAL_MAX,
    };
    put_impl(env, pool, res, etf.as_slice(), args)
}

/// The dirty-scheduler twin of `pool_put/5`.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_put_dirty<'a>(
    env: Env<'a>,
    pool: Term<'a>,
    d: Atom,
    etf: Binary<'a>,
    owned: bool,
    ttl: Term<'a>,
) -> NifResult<Term<'a>> {
    let res: &PoolRes = pool.decode()?;
    let d = domain(d)?;
    let ttl = ttl_arg(res, d, ttl)?;
    let args = PutArgs {
        domain: d,
        owned,
        ttl,
        max_evictions: u64::MAX,
    };
    put_impl(env, pool, res, etf.as_slice(), args)
}

fn update_impl<'a>(
    env: Env<'a>,
    res: &PoolRes,
    h: u64,
    etf: &[u8],
    max_evictions: u64,
) -> Term<'a> {
    let r = res.encode_payload(etf).and_then(|data| {
        res.pool
            .update_within(Handle::from_raw(h), &data, max_evictions)
    });
    match r {
        Ok(true) => ok().encode(env),
        // More to evict than a normal scheduler may: the dirty twin goes on.
        Ok(false) => dirty().encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// `pool_update(Pool, Handle, Etf)` on a normal scheduler: `ok`, an error,
/// or `dirty` for a large payload.
#[rustler::nif]
fn pool_update<'a>(env: Env<'a>, res: &PoolRes, h: u64, etf: Binary<'a>) -> Term<'a> {
    if !res.encode_fits(etf.as_slice()) {
        return dirty().encode(env);
    }
    update_impl(env, res, h, etf.as_slice(), POOL_EVICT_NORMAL_MAX)
}

/// The dirty-scheduler twin of `pool_update/3`.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_update_dirty<'a>(env: Env<'a>, res: &PoolRes, h: u64, etf: Binary<'a>) -> Term<'a> {
    update_impl(env, res, h, etf.as_slice(), u64::MAX)
}

/// A copy of a payload, or `None` when it is too large for a normal scheduler.
fn copy_payload(res: &PoolRes, h: u64, limit: usize) -> memacct_core::Result<Option<OwnedBinary>> {
    res.pool.with(Handle::from_raw(h), |p| {
        (p.len() <= limit).then(|| OwnedBinary::from_slice(p))
    })
}

/// How much a get may do where it runs.
#[derive(Clone, Copy)]
struct GetLimits {
    /// Work units a decompress may be estimated at ([`work::decompress_cost`]).
    codec_budget: u64,
    /// Largest ETF turned into a term here.
    decode_max: usize,
    /// Work units the term builder may spend ([`crate::build`]).
    build_budget: u64,
}

/// A get on a normal scheduler.
const NORMAL: GetLimits = GetLimits {
    codec_budget: CODEC_NORMAL_BUDGET,
    decode_max: POOL_DECODE_NORMAL_MAX,
    build_budget: crate::build::BUILD_NORMAL_BUDGET,
};

/// A get on a dirty scheduler: no limit.
const DIRTY: GetLimits = GetLimits {
    codec_budget: u64::MAX,
    decode_max: usize::MAX,
    build_budget: u64::MAX,
};

/// ETF as an answer: `{ok, Term}` when it is built here (within `limits`),
/// `{etf, Binary}` otherwise and when the builder declines it
/// (`binary_to_term/1` in `memacct_pool.erl`, which yields, then decodes it or
/// reports it).
fn etf_answer<'a>(env: Env<'a>, etf: &[u8], limits: GetLimits) -> Term<'a> {
    if etf.len() <= limits.decode_max {
        return crate::build::term_answer(env, etf, limits.build_budget);
    }
    let bin: Term<'a> = NewBinary::from_slice(env, etf).into();
    (self::etf(), bin).encode(env)
}

fn get_answer<'a>(env: Env<'a>, res: &PoolRes, payload: &[u8], limits: GetLimits) -> Term<'a> {
    if is_etf(payload) {
        return etf_answer(env, payload, limits);
    }
    let opts = res.decompress_options(usize::MAX);
    if work::decompress_cost(payload, &opts) > limits.codec_budget {
        let bin: Term<'a> = NewBinary::from_slice(env, payload).into();
        return (dirty_blob(), bin).encode(env);
    }
    match codec::decompress(payload, &opts) {
        Ok(etf) => etf_answer(env, &etf, limits),
        Err(e) => error_term(env, &e),
    }
}

/// `pool_get(Pool, Handle)` on a normal scheduler: `{ok, Term}`,
/// `{etf, Etf}` (decode with `binary_to_term/1`), `{dirty_blob, Blob}`
/// (decode with `pool_decode_dirty/2`), `dirty` (payload above
/// [`POOL_COPY_NORMAL_MAX`]: call `pool_get_dirty/2`; the access is then
/// counted twice), or `{error, {stale_handle, Msg}}`.
#[rustler::nif]
fn pool_get<'a>(env: Env<'a>, res: &PoolRes, h: u64) -> Term<'a> {
    match copy_payload(res, h, POOL_COPY_NORMAL_MAX) {
        Ok(Some(p)) => get_answer(env, res, p.as_slice(), NORMAL),
        Ok(None) => dirty().encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// The dirty-scheduler twin of `pool_get/2`: `{ok, Term}`, `{etf, Etf}` or an error.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_get_dirty<'a>(env: Env<'a>, res: &PoolRes, h: u64) -> Term<'a> {
    match copy_payload(res, h, usize::MAX) {
        Ok(Some(p)) => get_answer(env, res, p.as_slice(), DIRTY),
        Ok(None) => dirty().encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// `pool_decode_dirty(Pool, Blob)` on a dirty CPU scheduler: `{ok, Term}`,
/// `{etf, Etf}` or an error.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_decode_dirty<'a>(env: Env<'a>, res: &PoolRes, blob: Binary<'a>) -> Term<'a> {
    get_answer(env, res, blob.as_slice(), DIRTY)
}

/// `pool_release(Pool, Handle)`: `ok` or `{error, {stale_handle, Msg}}`.
#[rustler::nif]
fn pool_release<'a>(env: Env<'a>, res: &PoolRes, h: u64) -> Term<'a> {
    match res.pool.release(Handle::from_raw(h)) {
        Ok(()) => ok().encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// `pool_contains(Pool, Handle)`: whether the handle names a live entry (not an access).
#[rustler::nif]
fn pool_contains(res: &PoolRes, h: u64) -> bool {
    res.pool.contains(Handle::from_raw(h))
}

/// `pool_set_limits(Pool, pool | Domain, MaxEntries | keep, MaxBytes | keep)`:
/// `ok`, or `{error, {invalid_option, Msg}}` for a limit the pool was created
/// without.
#[rustler::nif]
fn pool_set_limits<'a>(
    env: Env<'a>,
    res: &PoolRes,
    scope: Atom,
    max_entries: Term<'a>,
    max_bytes: Term<'a>,
) -> NifResult<Term<'a>> {
    let limit = |t: Term<'a>| -> NifResult<Option<u64>> {
        if t.is_atom() {
            Ok(None)
        } else {
            t.decode::<u64>().map(Some)
        }
    };
    let (e, b) = (limit(max_entries)?, limit(max_bytes)?);
    let r = if scope == pool_atom() {
        res.pool.set_limits(e, b)
    } else {
        res.pool.set_domain_limits(domain(scope)?, e, b)
    };
    match r {
        Ok(()) => Ok(ok().encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// `pool_owned_bytes(Pool, Pids)` on a dirty CPU scheduler (the list may be
/// long): `{Entries, PayloadBytes}` that the processes `Pids` own in the pool,
/// each counted in O(its entries). Pids that own nothing count 0.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_owned_bytes(res: &PoolRes, pids: Term) -> NifResult<(u64, u64)> {
    let pids = crate::proper_list(pids)?
        .into_iter()
        .map(|p| p.decode::<LocalPid>())
        .collect::<NifResult<Vec<_>>>()?;
    Ok(pids.iter().fold((0, 0), |(n, b), pid| {
        let owner = res.owner_shard(pid).get(pid).map(|&(owner, _)| owner);
        match owner {
            Some(o) => {
                let (entries, bytes) = res.pool.owner_usage(o);
                (n + entries as u64, b + bytes)
            }
            None => (n, b),
        }
    }))
}

/// `pool_handles(Pool)` on a dirty CPU scheduler (O(entries)): the handles
/// of the live entries (expired ones not yet swept included), shard by shard
/// in slot order. The way to find the entries of a restored pool.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_handles(res: &PoolRes) -> Vec<u64> {
    res.pool.handles().into_iter().map(Handle::to_raw).collect()
}

/// `pool_size(Pool)`: live entries.
#[rustler::nif]
fn pool_size(res: &PoolRes) -> u64 {
    res.pool.len() as u64
}

/// `pool_expire(Pool)` on a dirty CPU scheduler: entries removed.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_expire(res: &PoolRes) -> u64 {
    res.pool.expire_now() as u64
}

/// `pool_clear(Pool)` on a dirty CPU scheduler: entries released.
#[rustler::nif(schedule = "DirtyCpu")]
fn pool_clear(res: &PoolRes) -> u64 {
    res.pool.clear() as u64
}

fn pressure_atom(s: &PoolStats) -> Atom {
    match s.pressure.as_str() {
        "low" => low(),
        "medium" => medium(),
        "high" => high(),
        _ => critical(),
    }
}

fn limit_term<'a>(env: Env<'a>, v: Option<u64>) -> Term<'a> {
    match v {
        Some(n) => n.encode(env),
        None => none().encode(env),
    }
}

/// `pool_stats(Pool)`: every `PoolStats` figure as a map, plus `owners`
/// (processes monitored), `reclaimed` (entries released when their owner
/// exited) and the limits in force.
#[rustler::nif]
fn pool_stats<'a>(env: Env<'a>, res: &PoolRes) -> NifResult<Term<'a>> {
    let s = res.pool.stats();
    let mut doms = Term::map_new(env);
    for d in Domain::ALL {
        let ds = &s.domains[d as usize];
        let (dom_max_entries, dom_max_bytes) = res.pool.domain_limits(d);
        let keys = [
            entries().encode(env),
            bytes().encode(env),
            hits().encode(env),
            evicted().encode(env),
            expired().encode(env),
            max_entries().encode(env),
            max_bytes().encode(env),
        ];
        let values = [
            ds.entries.encode(env),
            ds.bytes.encode(env),
            ds.hits.encode(env),
            ds.evicted.encode(env),
            ds.expired.encode(env),
            limit_term(env, dom_max_entries),
            limit_term(env, dom_max_bytes),
        ];
        doms = doms.map_put(
            domain_atom(d),
            Term::map_from_term_arrays(env, &keys, &values)?,
        )?;
    }
    let n_owners: usize = res
        .owners
        .iter()
        .map(|m| {
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .len()
        })
        .sum();
    let keys = [
        policy(),
        shards(),
        in_use(),
        available(),
        created(),
        reused(),
        released(),
        evicted(),
        expired(),
        rejected(),
        hits(),
        misses(),
        bytes_stored(),
        bytes_allocated(),
        reuse_ratio(),
        pressure(),
        domains(),
        owners(),
        reclaimed(),
        max_entries(),
        max_bytes(),
    ]
    .map(|k| k.encode(env));
    let values = [
        policy_atom(s.policy).encode(env),
        (s.shards as u64).encode(env),
        s.in_use.encode(env),
        s.available.encode(env),
        s.created.encode(env),
        s.reused.encode(env),
        s.released.encode(env),
        s.evicted.encode(env),
        s.expired.encode(env),
        s.rejected.encode(env),
        s.hits.encode(env),
        s.misses.encode(env),
        s.bytes_stored.encode(env),
        s.bytes_allocated.encode(env),
        s.reuse_ratio.encode(env),
        pressure_atom(&s).encode(env),
        doms,
        (n_owners as u64).encode(env),
        res.reclaimed.load(Ordering::Relaxed).encode(env),
        limit_term(env, res.pool.limits().0),
        limit_term(env, res.pool.limits().1),
    ];
    Term::map_from_term_arrays(env, &keys, &values)
}

/// `{CopyNormalMax, DecodeNormalMax}`: the pool's scheduling thresholds in bytes.
#[rustler::nif]
fn pool_limits() -> (u64, u64) {
    (POOL_COPY_NORMAL_MAX as u64, POOL_DECODE_NORMAL_MAX as u64)
}
