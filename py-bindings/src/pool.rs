//! The state pool: `Pool`, `PoolStats`, `DomainStats` and the `Pool.slot`
//! context manager (bindings of [`memacct_core::pool`]; the pool itself
//! lives in the core).

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use memacct_core::pool::{
    Domain, DomainConfig, DomainStats, FullAction, Handle, PolicyKind, Pool, PoolConfig, PoolStats,
    Pressure,
};
use memacct_core::Error;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyList, PyTuple};

use crate::{buffer_bytes, coded_err, mapping_items, option_args, to_py_err, to_py_err_at};

option_args! {
    max_entries_arg: opt u64 = "max_entries";
    max_bytes_arg: opt u64 = "max_bytes";
    shards_arg: opt usize = "shards";
    seed_arg: opt u64 = "seed";
    owner_arg: opt u64 = "owner";
    release_owner_arg: int u64 = "owner";
    default_ttl_arg: opt_float f64 = "default_ttl";
    ttl_resolution_arg: opt_float f64 = "ttl_resolution";
    ttl_arg: opt_float f64 = "ttl";
}

fn invalid(py: Python<'_>, name: &'static str, reason: String) -> PyErr {
    to_py_err(py, &Error::InvalidOption { name, reason })
}

/// A duration in seconds (a positive, finite float, at least 1 ms, that a
/// `Duration` holds: below about 1.8e19 s).
fn seconds(py: Python<'_>, name: &'static str, secs: f64) -> PyResult<Duration> {
    let bad = |what: &str| invalid(py, name, format!("{secs} s: {what}"));
    if !secs.is_finite() || secs < 0.001 {
        return Err(bad(
            "a duration is a finite number of seconds, at least 0.001",
        ));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| bad("too long a duration (at most about 1.8e19 seconds)"))
}

fn domain_arg(py: Python<'_>, name: &str) -> PyResult<Domain> {
    Domain::from_name(name).ok_or_else(|| {
        invalid(
            py,
            "domain",
            format!(
                "unknown domain {name:?} (one of {})",
                names(Domain::ALL.map(Domain::as_str))
            ),
        )
    })
}

fn names<const N: usize>(all: [&str; N]) -> String {
    all.join(", ")
}

/// The options of `Pool(...)` and `Pool.restore(...)`, converted once.
#[allow(clippy::too_many_arguments)]
fn config(
    py: Python<'_>,
    max_entries: Option<u64>,
    max_bytes: Option<u64>,
    policy: &str,
    on_full: &str,
    shards: Option<usize>,
    default_ttl: Option<f64>,
    domains: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
    ttl_resolution: Option<f64>,
) -> PyResult<PoolConfig> {
    let mut c = PoolConfig {
        on_full: FullAction::Reject,
        ..PoolConfig::default()
    };
    c.max_entries = max_entries;
    c.max_bytes = max_bytes;
    c.policy = PolicyKind::from_name(policy).ok_or_else(|| {
        invalid(
            py,
            "policy",
            format!(
                "unknown policy {policy:?} (one of {})",
                names(PolicyKind::ALL.map(PolicyKind::as_str))
            ),
        )
    })?;
    c.on_full = match on_full {
        "reject" => FullAction::Reject,
        "evict" => FullAction::Evict,
        _ => {
            return Err(invalid(
                py,
                "on_full",
                format!("{on_full:?} is neither \"reject\" nor \"evict\""),
            ))
        }
    };
    if let Some(0) = shards {
        return Err(invalid(py, "shards", "at least 1 (None: automatic)".into()));
    }
    c.shards = shards.unwrap_or(0);
    c.default_ttl = default_ttl
        .map(|s| seconds(py, "default_ttl", s))
        .transpose()?;
    if let Some(s) = ttl_resolution {
        c.ttl_resolution = seconds(py, "ttl_resolution", s)?;
    }
    if let Some(seed) = seed {
        c.seed = seed;
    }
    if let Some(domains) = domains {
        for (name, spec) in mapping_items::<String, Bound<'_, PyAny>>(domains, "domains")? {
            let d = domain_arg(py, &name)?;
            c.domains[d as usize] = domain_config(py, &name, &spec)?;
        }
    }
    Ok(c)
}

/// One domain's `dict(max_entries=..., max_bytes=..., default_ttl=...)`.
fn domain_config(py: Python<'_>, name: &str, spec: &Bound<'_, PyAny>) -> PyResult<DomainConfig> {
    let mut d = DomainConfig::default();
    for (key, value) in mapping_items::<String, Bound<'_, PyAny>>(spec, "each domain's limits")? {
        match key.as_str() {
            "max_entries" => d.max_entries = max_entries_arg(&value)?,
            "max_bytes" => d.max_bytes = max_bytes_arg(&value)?,
            "default_ttl" => {
                d.default_ttl = default_ttl_arg(&value)?
                    .map(|s| seconds(py, "default_ttl", s))
                    .transpose()?
            }
            _ => {
                return Err(invalid(
                    py,
                    "domains",
                    format!(
                        "unknown key {key:?} for domain {name:?} \
                         (max_entries, max_bytes, default_ttl)"
                    ),
                ))
            }
        }
    }
    Ok(d)
}

/// `ttl` of `put`: None is the default, `math.inf` no TTL, else seconds.
fn ttl_duration(
    py: Python<'_>,
    ttl: Option<f64>,
    pool: &Pool,
    domain: Domain,
) -> PyResult<Option<Duration>> {
    match ttl {
        None => Ok(pool.config().domains[domain as usize]
            .default_ttl
            .or(pool.config().default_ttl)),
        Some(s) if s == f64::INFINITY => Ok(None),
        Some(s) => seconds(py, "ttl", s).map(Some),
    }
}

/// A handle argument: any int (one the pool did not issue is stale when used;
/// one outside 0..2**64 cannot have been issued, so it is stale too).
fn handle_arg(obj: &Bound<'_, PyAny>) -> PyResult<Handle> {
    match crate::wide_int(obj)?.try_into() {
        Ok(raw) => Ok(Handle::from_raw(raw)),
        Err(_) => Err(coded_err(
            obj.py(),
            "stale_handle",
            format!("stale pool handle {obj}: no handle is outside 0..2**64"),
        )),
    }
}

// ---------------------------------------------------------------------------
// Pool.
// ---------------------------------------------------------------------------

/// A concurrent, bounded store of byte payloads (compact states or anything
/// else), addressed by integer handles. Thread-safe: share one pool between
/// threads freely; large payloads, checkpoints and restores release the GIL.
///
/// ``max_entries`` / ``max_bytes`` bound the live entries and their payload
/// bytes (None: no limit). When a put would pass a limit, ``on_full="reject"``
/// (the default) raises ``PoolExhaustedError`` (backpressure) and
/// ``on_full="evict"`` evicts the ``policy``'s victims until it fits:
/// ``"lru"``, ``"lfu"``, ``"fifo"``, ``"ttl"`` (soonest to expire),
/// ``"random"`` (seeded by ``seed``) or ``"s3_fifo"`` (scan-resistant).
/// ``shards`` (1..256; None: from the CPU count) splits the pool for
/// concurrency; eviction order is the policy's exactly within a shard, so use
/// ``shards=1`` when it must be exact pool-wide.
///
/// Each entry belongs to a domain (``"session"``, ``"shared"``,
/// ``"registry"``, ``"cache"``, ``"ephemeral"``; ``memacct.POOL_DOMAINS``);
/// ``domains`` maps domain names to their own
/// ``dict(max_entries=..., max_bytes=..., default_ttl=...)``. TTLs are in
/// seconds (at least 0.001): ``default_ttl`` applies to puts without one in
/// domains without their own; ``ttl_resolution`` (default 1.0) is the
/// granularity of expiry sweeps (an expired entry is never returned, but
/// ``expire()`` removes it only once its bucket is due).
///
/// A handle is valid until its entry is released, evicted, expired or
/// reclaimed (``release_owner``, ``clear``); afterwards every use raises
/// ``StaleHandleError`` and never touches another entry.
///
/// >>> with memacct.Pool(max_entries=1000) as pool:
/// ...     h = pool.put(b"state", owner=42)
/// ...     pool.get(h)
/// ...     pool.release_owner(42)
/// b'state'
/// 1
#[pyclass(module = "memacct", name = "Pool", frozen)]
pub(crate) struct PyPool(Pool);

impl PyPool {
    fn put_impl(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        domain: &str,
        owner: Option<u64>,
        ttl: Option<f64>,
    ) -> PyResult<u64> {
        let domain = domain_arg(py, domain)?;
        let ttl = ttl_duration(py, ttl, &self.0, domain)?;
        let bytes = buffer_bytes(data, "data")?;
        let data = bytes.as_bytes();
        let pool = &self.0;
        // Detached whatever the size: the put takes shard locks, which a
        // detached checkpoint (or any other detached call) may hold.
        py.detach(|| pool.put_vec(domain, owner, ttl, data.to_vec()))
            .map(Handle::to_raw)
            .map_err(|e| to_py_err(py, &e))
    }
}

#[pymethods]
impl PyPool {
    #[new]
    #[pyo3(signature = (max_entries=None, max_bytes=None, *, policy="lru", on_full="reject", shards=None, default_ttl=None, domains=None, seed=None, ttl_resolution=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        #[pyo3(from_py_with = max_entries_arg)] max_entries: Option<u64>,
        #[pyo3(from_py_with = max_bytes_arg)] max_bytes: Option<u64>,
        policy: &str,
        on_full: &str,
        #[pyo3(from_py_with = shards_arg)] shards: Option<usize>,
        #[pyo3(from_py_with = default_ttl_arg)] default_ttl: Option<f64>,
        domains: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = seed_arg)] seed: Option<u64>,
        #[pyo3(from_py_with = ttl_resolution_arg)] ttl_resolution: Option<f64>,
    ) -> PyResult<Self> {
        let c = config(
            py,
            max_entries,
            max_bytes,
            policy,
            on_full,
            shards,
            default_ttl,
            domains,
            seed,
            ttl_resolution,
        )?;
        Pool::new(c).map(PyPool).map_err(|e| to_py_err(py, &e))
    }

    /// A new pool holding the entries of the checkpoint at ``path`` (written
    /// by ``checkpoint``), configured by the same options as ``Pool(...)``.
    /// Entries get new handles; TTLs resume from what was left. Raises
    /// ``BadCheckpointError`` for a corrupt or truncated file,
    /// ``MemacctIoError`` if it cannot be read (also the ``OSError`` subclass
    /// of its ``errno``, e.g. ``FileNotFoundError``), ``PoolExhaustedError`` if the
    /// entries do not fit under ``on_full="reject"``. The GIL is released.
    /// ``handles()`` lists the restored entries' handles.
    #[staticmethod]
    #[pyo3(signature = (path, max_entries=None, max_bytes=None, *, policy="lru", on_full="reject", shards=None, default_ttl=None, domains=None, seed=None, ttl_resolution=None))]
    #[allow(clippy::too_many_arguments)]
    fn restore(
        py: Python<'_>,
        path: PathBuf,
        #[pyo3(from_py_with = max_entries_arg)] max_entries: Option<u64>,
        #[pyo3(from_py_with = max_bytes_arg)] max_bytes: Option<u64>,
        policy: &str,
        on_full: &str,
        #[pyo3(from_py_with = shards_arg)] shards: Option<usize>,
        #[pyo3(from_py_with = default_ttl_arg)] default_ttl: Option<f64>,
        domains: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = seed_arg)] seed: Option<u64>,
        #[pyo3(from_py_with = ttl_resolution_arg)] ttl_resolution: Option<f64>,
    ) -> PyResult<Self> {
        let c = config(
            py,
            max_entries,
            max_bytes,
            policy,
            on_full,
            shards,
            default_ttl,
            domains,
            seed,
            ttl_resolution,
        )?;
        py.detach(|| Pool::restore(&path, c))
            .map(PyPool)
            .map_err(|e| to_py_err_at(py, &e, &path))
    }

    /// Stores a copy of ``data`` (any bytes-like object) and returns its
    /// handle (a positive int). ``domain`` names its domain, ``owner`` (an
    /// int, e.g. a connection id) lets ``release_owner`` release it with the
    /// owner's other entries, ``ttl`` is its lifetime in seconds (None: the
    /// domain's or the pool's default; ``math.inf``: none). Raises
    /// ``PoolExhaustedError`` when full (see the class), ``InvalidOptionError``
    /// for an unknown domain or a bad ``ttl``.
    #[pyo3(signature = (data, *, domain="session", owner=None, ttl=None))]
    fn put(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        domain: &str,
        #[pyo3(from_py_with = owner_arg)] owner: Option<u64>,
        #[pyo3(from_py_with = ttl_arg)] ttl: Option<f64>,
    ) -> PyResult<u64> {
        self.put_impl(py, data, domain, owner, ttl)
    }

    /// A copy of the payload ``handle`` names (an access: it counts for the
    /// policy and as a hit). ``StaleHandleError`` if the entry is gone. The
    /// GIL is released while copying.
    #[pyo3(signature = (handle))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = handle_arg)] handle: Handle,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pool = &self.0;
        let data = py
            .detach(|| pool.get(handle))
            .map_err(|e| to_py_err(py, &e))?;
        Ok(PyBytes::new(py, &data))
    }

    /// Replaces the payload ``handle`` names with a copy of ``data`` (an
    /// access; the TTL is unchanged). A payload that grows past a limit is
    /// rejected (``PoolExhaustedError``, the old payload stays) or makes room
    /// like a put, per ``on_full``. ``StaleHandleError`` if the entry is gone.
    #[pyo3(signature = (handle, data))]
    fn update(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = handle_arg)] handle: Handle,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let bytes = buffer_bytes(data, "data")?;
        let data = bytes.as_bytes();
        let pool = &self.0;
        py.detach(|| pool.update(handle, data))
            .map_err(|e| to_py_err(py, &e))
    }

    /// Releases the entry ``handle`` names; the handle goes stale. A second
    /// release (or any stale handle) raises ``StaleHandleError`` and touches
    /// nothing.
    #[pyo3(signature = (handle))]
    fn release(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = handle_arg)] handle: Handle,
    ) -> PyResult<()> {
        let pool = &self.0;
        py.detach(|| pool.release(handle))
            .map_err(|e| to_py_err(py, &e))
    }

    /// Releases every entry of ``owner`` (an int in 0..2**64, else
    /// ``InvalidOptionError``) at once (e.g. when its connection ends);
    /// returns how many there were.
    #[pyo3(signature = (owner))]
    fn release_owner(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = release_owner_arg)] owner: u64,
    ) -> usize {
        let pool = &self.0;
        py.detach(|| pool.release_owner(owner))
    }

    /// Removes every entry whose TTL has passed (to ``ttl_resolution``);
    /// returns how many. Expired entries are never returned even before.
    fn expire(&self, py: Python<'_>) -> usize {
        let pool = &self.0;
        py.detach(|| pool.expire_now())
    }

    /// Releases every entry; returns how many. Every handle goes stale.
    fn clear(&self, py: Python<'_>) -> usize {
        let pool = &self.0;
        py.detach(|| pool.clear())
    }

    /// The handles of the live entries (a new list; expired entries not yet
    /// swept included), e.g. to find the entries of a pool made by
    /// ``restore``, whose handles are new. Entries stored or released during
    /// the call may or may not be listed. The GIL is released.
    fn handles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pool = &self.0;
        let handles = py.detach(|| pool.handles());
        PyList::new(py, handles.into_iter().map(Handle::to_raw))
    }

    /// The pool's figures (a ``PoolStats``). With no concurrent writer they
    /// reconcile exactly: ``created + reused == in_use + released + evicted +
    /// expired``.
    fn stats(&self, py: Python<'_>) -> PyPoolStats {
        let pool = &self.0;
        PyPoolStats(py.detach(|| pool.stats()))
    }

    /// Writes the live entries (domain, owner, TTL left, payload) to ``path``
    /// crash-safely (temporary file, fsync, rename, directory fsync); returns
    /// how many. ``MemacctIoError`` if the OS refuses (also the ``OSError``
    /// subclass of its ``errno``). The GIL is released.
    #[pyo3(signature = (path))]
    fn checkpoint(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        let pool = &self.0;
        py.detach(|| pool.checkpoint(&path))
            .map_err(|e| to_py_err_at(py, &e, &path))
    }

    /// A context manager that puts ``data`` on entry (same arguments as
    /// ``put``), gives its handle to the ``with`` block, and releases the
    /// entry on exit (unless it is already gone: evicted, expired, released).
    /// A slot is single use: entering it again, during its block or after,
    /// raises ``ValueError`` (make a new one with ``pool.slot``).
    ///
    /// >>> with pool.slot(b"scratch", domain="ephemeral") as h:  # doctest: +SKIP
    /// ...     pool.get(h)
    #[pyo3(signature = (data, *, domain="session", owner=None, ttl=None))]
    fn slot(
        slf: &Bound<'_, Self>,
        data: &Bound<'_, PyAny>,
        domain: &str,
        #[pyo3(from_py_with = owner_arg)] owner: Option<u64>,
        #[pyo3(from_py_with = ttl_arg)] ttl: Option<f64>,
    ) -> PyResult<PyPoolSlot> {
        let py = slf.py();
        // Check the arguments now, not only when the block is entered.
        let d = domain_arg(py, domain)?;
        ttl_duration(py, ttl, &slf.get().0, d)?;
        Ok(PyPoolSlot {
            pool: slf.clone().unbind(),
            data: buffer_bytes(data, "data")?.unbind(),
            domain: domain.to_owned(),
            owner,
            ttl,
            state: Mutex::new(SlotState::Fresh),
        })
    }

    /// The eviction policy's name.
    #[getter]
    fn policy(&self) -> &'static str {
        self.0.config().policy.as_str()
    }

    /// ``"reject"`` or ``"evict"``.
    #[getter]
    fn on_full(&self) -> &'static str {
        match self.0.config().on_full {
            FullAction::Reject => "reject",
            FullAction::Evict => "evict",
        }
    }

    /// Number of shards.
    #[getter]
    fn shards(&self) -> usize {
        self.0.config().shards
    }

    /// The pool-wide entry limit in force (None: none).
    #[getter]
    fn max_entries(&self) -> Option<u64> {
        self.0.limits().0
    }

    /// The pool-wide payload byte limit in force (None: none).
    #[getter]
    fn max_bytes(&self) -> Option<u64> {
        self.0.limits().1
    }

    /// Changes the pool-wide limits while the pool runs (``None`` leaves one
    /// as it is). Only a limit the pool was created with can change
    /// (``InvalidOptionError`` otherwise). Entries already stored stay; a lower
    /// limit applies from the next ``put``, rejected or evicting (per
    /// ``on_full``) until the pool is under it.
    #[pyo3(signature = (max_entries=None, max_bytes=None))]
    fn set_limits(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = max_entries_arg)] max_entries: Option<u64>,
        #[pyo3(from_py_with = max_bytes_arg)] max_bytes: Option<u64>,
    ) -> PyResult<()> {
        self.0
            .set_limits(max_entries, max_bytes)
            .map_err(|e| to_py_err(py, &e))
    }

    /// Live entries. Shards are counted one at a time: while other threads
    /// put or release, the figure is not a snapshot (it can be off by their
    /// writes, even above a limit the pool keeps).
    fn __len__(&self, py: Python<'_>) -> usize {
        let pool = &self.0;
        py.detach(|| pool.len())
    }

    /// Whether ``handle`` names a live, unexpired entry (not an access).
    fn __contains__(&self, py: Python<'_>, handle: &Bound<'_, PyAny>) -> bool {
        let Ok(h) = handle.extract::<u64>() else {
            return false;
        };
        let pool = &self.0;
        py.detach(|| pool.contains(Handle::from_raw(h)))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Clears the pool (every entry released) and lets exceptions propagate
    /// (returns None).
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) {
        self.clear(py);
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = self.0.config();
        let (max_entries, max_bytes) = self.0.limits();
        let limit = |v: Option<u64>| v.map_or_else(|| "None".to_owned(), |n| n.to_string());
        format!(
            "Pool(max_entries={}, max_bytes={}, policy='{}', on_full='{}', shards={}, len={})",
            limit(max_entries),
            limit(max_bytes),
            c.policy.as_str(),
            self.on_full(),
            c.shards,
            self.__len__(py)
        )
    }
}

/// The context manager of ``Pool.slot``: puts on ``__enter__`` (returning
/// the handle), releases on ``__exit__``. Single use: a second ``__enter__``,
/// during the block or after it, raises ``ValueError``.
#[pyclass(module = "memacct", name = "PoolSlot", frozen)]
pub(crate) struct PyPoolSlot {
    pool: Py<PyPool>,
    data: Py<PyBytes>,
    domain: String,
    owner: Option<u64>,
    ttl: Option<f64>,
    /// Where the slot is in its single use. The lock is held only to read or
    /// switch the state, never across the pool call (which detaches).
    state: Mutex<SlotState>,
}

/// The life of a `PoolSlot`: each state is left only forward (but a failed
/// put goes back to `Fresh`, so that the `with` can be retried).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotState {
    /// Never entered.
    Fresh,
    /// `__enter__` is putting.
    Entering,
    /// Entered: the entry's handle.
    Entered(u64),
    /// Exited (or entered again meanwhile): used up.
    Used,
}

impl PyPoolSlot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        // The state is a plain value, consistent even after a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl PyPoolSlot {
    fn __enter__(&self, py: Python<'_>) -> PyResult<u64> {
        {
            let mut state = self.state();
            if *state != SlotState::Fresh {
                return Err(PyValueError::new_err(
                    "a pool slot can be entered only once (make a new one with Pool.slot)",
                ));
            }
            *state = SlotState::Entering;
        }
        let put = self.pool.get().put_impl(
            py,
            self.data.bind(py).as_any(),
            &self.domain,
            self.owner,
            self.ttl,
        );
        *self.state() = match put {
            Ok(h) => SlotState::Entered(h),
            Err(_) => SlotState::Fresh,
        };
        put
    }

    /// The handle while entered, else None.
    #[getter]
    fn handle(&self) -> Option<u64> {
        match *self.state() {
            SlotState::Entered(h) => Some(h),
            _ => None,
        }
    }

    /// Releases the entry (unless already gone) and lets exceptions propagate
    /// (returns None).
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) {
        let entered = {
            let mut state = self.state();
            match *state {
                SlotState::Entered(h) => {
                    *state = SlotState::Used;
                    Some(h)
                }
                _ => None,
            }
        };
        if let Some(h) = entered {
            // Already gone (evicted, expired, released in the block): fine.
            let pool = &self.pool.get().0;
            let _ = py.detach(|| pool.release(Handle::from_raw(h)));
        }
    }
}

// ---------------------------------------------------------------------------
// Stats.
// ---------------------------------------------------------------------------

/// Figures of one domain of a pool (immutable).
#[pyclass(module = "memacct", name = "DomainStats", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyDomainStats(DomainStats);

#[pymethods]
impl PyDomainStats {
    /// Builds figures from their parts (used by pickle; ``PoolStats.domains``
    /// is the usual way to get them).
    #[new]
    #[pyo3(signature = (entries, bytes, hits, evicted, expired))]
    fn new(entries: u64, bytes: u64, hits: u64, evicted: u64, expired: u64) -> Self {
        PyDomainStats(DomainStats {
            entries,
            bytes,
            hits,
            evicted,
            expired,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let d = &slf.get().0;
        let args = (d.entries, d.bytes, d.hits, d.evicted, d.expired);
        (slf.get_type(), args).into_pyobject(slf.py())
    }

    /// Live entries.
    #[getter]
    fn entries(&self) -> u64 {
        self.0.entries
    }

    /// Payload bytes of the live entries.
    #[getter]
    fn bytes(&self) -> u64 {
        self.0.bytes
    }

    /// Gets that found their entry.
    #[getter]
    fn hits(&self) -> u64 {
        self.0.hits
    }

    /// Entries evicted to make room.
    #[getter]
    fn evicted(&self) -> u64 {
        self.0.evicted
    }

    /// Entries that expired.
    #[getter]
    fn expired(&self) -> u64 {
        self.0.expired
    }

    /// A plain dict of every attribute.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        domain_dict(py, &self.0)
    }

    fn __repr__(&self) -> String {
        let d = &self.0;
        format!(
            "DomainStats(entries={}, bytes={}, hits={}, evicted={}, expired={})",
            d.entries, d.bytes, d.hits, d.evicted, d.expired
        )
    }
}

fn domain_dict<'py>(py: Python<'py>, d: &DomainStats) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item(intern!(py, "entries"), d.entries)?;
    out.set_item(intern!(py, "bytes"), d.bytes)?;
    out.set_item(intern!(py, "hits"), d.hits)?;
    out.set_item(intern!(py, "evicted"), d.evicted)?;
    out.set_item(intern!(py, "expired"), d.expired)?;
    Ok(out)
}

/// A pool's figures (immutable; from ``Pool.stats()``).
///
/// Shards are read one after the other: with no concurrent writer the
/// figures reconcile exactly (``created + reused == in_use + released +
/// evicted + expired``); under concurrent writes each is exact for some
/// moment of the call. ``pressure`` is ``"low"`` (< 60% of the tighter of
/// ``max_entries`` / ``max_bytes``, or no limit), ``"medium"`` (< 80%),
/// ``"high"`` (< 90%) or ``"critical"``.
#[pyclass(module = "memacct", name = "PoolStats", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyPoolStats(PoolStats);

/// The integer fields of `PoolStats`, by name, in report order.
fn counters(s: &PoolStats) -> [(&'static str, u64); 13] {
    [
        ("shards", s.shards as u64),
        ("in_use", s.in_use),
        ("available", s.available),
        ("created", s.created),
        ("reused", s.reused),
        ("released", s.released),
        ("evicted", s.evicted),
        ("expired", s.expired),
        ("rejected", s.rejected),
        ("hits", s.hits),
        ("misses", s.misses),
        ("bytes_stored", s.bytes_stored),
        ("bytes_allocated", s.bytes_allocated),
    ]
}

/// `Pressure` by its name.
fn pressure_arg(name: &str) -> PyResult<Pressure> {
    Pressure::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown pressure {name:?} (one of low, medium, high, critical)"
        ))
    })
}

#[pymethods]
impl PyPoolStats {
    /// Builds figures from their parts (used by pickle; ``Pool.stats()`` is
    /// the usual way to get them). ``domains`` maps domain names to
    /// ``DomainStats`` (domains left out are all zero); ``reuse_ratio`` is
    /// derived from ``reused`` and ``created``.
    #[new]
    #[pyo3(signature = (policy, shards, in_use, available, created, reused, released, evicted, expired, rejected, hits, misses, bytes_stored, bytes_allocated, pressure, domains))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        policy: &str,
        shards: usize,
        in_use: u64,
        available: u64,
        created: u64,
        reused: u64,
        released: u64,
        evicted: u64,
        expired: u64,
        rejected: u64,
        hits: u64,
        misses: u64,
        bytes_stored: u64,
        bytes_allocated: u64,
        pressure: &str,
        domains: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let policy = PolicyKind::from_name(policy)
            .ok_or_else(|| PyValueError::new_err(format!("unknown policy {policy:?}")))?;
        let mut per_domain = [DomainStats::default(); Domain::COUNT];
        for (name, ds) in mapping_items::<String, Bound<'_, PyAny>>(domains, "domains")? {
            per_domain[domain_arg(py, &name)? as usize] = ds.cast::<PyDomainStats>()?.get().0;
        }
        Ok(PyPoolStats(PoolStats {
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
            reuse_ratio: PoolStats::reuse_ratio_of(reused, created),
            pressure: pressure_arg(pressure)?,
            domains: per_domain,
        }))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let s = &slf.get().0;
        let args = PyList::empty(py);
        args.append(s.policy.as_str())?;
        for (_, v) in counters(s) {
            args.append(v)?;
        }
        args.append(s.pressure.as_str())?;
        args.append(slf.get().domains(py)?)?;
        (slf.get_type(), args.to_tuple()).into_pyobject(py)
    }

    /// The eviction policy's name.
    #[getter]
    fn policy(&self) -> &'static str {
        self.0.policy.as_str()
    }

    /// Number of shards.
    #[getter]
    fn shards(&self) -> usize {
        self.0.shards
    }

    /// Live entries (including expired ones not yet swept; gets never return those).
    #[getter]
    fn in_use(&self) -> u64 {
        self.0.in_use
    }

    /// Free slots kept for reuse.
    #[getter]
    fn available(&self) -> u64 {
        self.0.available
    }

    /// Puts that took a new slot.
    #[getter]
    fn created(&self) -> u64 {
        self.0.created
    }

    /// Puts that reused a freed slot.
    #[getter]
    fn reused(&self) -> u64 {
        self.0.reused
    }

    /// Entries released (``release``, ``release_owner``, ``clear``).
    #[getter]
    fn released(&self) -> u64 {
        self.0.released
    }

    /// Entries evicted to make room.
    #[getter]
    fn evicted(&self) -> u64 {
        self.0.evicted
    }

    /// Entries removed because their TTL passed.
    #[getter]
    fn expired(&self) -> u64 {
        self.0.expired
    }

    /// Puts and updates refused with ``PoolExhaustedError``.
    #[getter]
    fn rejected(&self) -> u64 {
        self.0.rejected
    }

    /// Gets that found their entry.
    #[getter]
    fn hits(&self) -> u64 {
        self.0.hits
    }

    /// Gets on a stale handle (released, evicted, expired, unknown).
    #[getter]
    fn misses(&self) -> u64 {
        self.0.misses
    }

    /// Payload bytes of the live entries.
    #[getter]
    fn bytes_stored(&self) -> u64 {
        self.0.bytes_stored
    }

    /// Bytes the pool's storage holds: payload buffer capacities plus the
    /// pool's own structures (its accounting, not the allocator's overhead).
    #[getter]
    fn bytes_allocated(&self) -> u64 {
        self.0.bytes_allocated
    }

    /// ``reused / (reused + created)``; 0.0 before the first put.
    #[getter]
    fn reuse_ratio(&self) -> f64 {
        self.0.reuse_ratio
    }

    /// ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``.
    #[getter]
    fn pressure(&self) -> &'static str {
        self.0.pressure.as_str()
    }

    /// Per-domain figures: a new dict from every name of
    /// ``memacct.POOL_DOMAINS`` to its ``DomainStats``.
    #[getter]
    fn domains<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (d, s) in Domain::ALL.iter().zip(&self.0.domains) {
            out.set_item(d.as_str(), PyDomainStats(*s))?;
        }
        Ok(out)
    }

    /// A plain dict of every attribute (``domains`` a dict of dicts), ready
    /// for ``json.dumps``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.0;
        let d = PyDict::new(py);
        d.set_item(intern!(py, "policy"), s.policy.as_str())?;
        for (name, v) in counters(s) {
            d.set_item(name, v)?;
        }
        d.set_item(intern!(py, "reuse_ratio"), s.reuse_ratio)?;
        d.set_item(intern!(py, "pressure"), s.pressure.as_str())?;
        let domains = PyDict::new(py);
        for (dom, ds) in Domain::ALL.iter().zip(&s.domains) {
            domains.set_item(dom.as_str(), domain_dict(py, ds)?)?;
        }
        d.set_item(intern!(py, "domains"), domains)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = &self.0;
        let fields: Vec<String> = counters(s)
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        // The float as Python writes it (0.0, 0.5, 1e-05), not as Rust does.
        let ratio = PyFloat::new(py, s.reuse_ratio).repr()?;
        Ok(format!(
            "PoolStats(policy='{}', {}, reuse_ratio={ratio}, pressure='{}')",
            s.policy.as_str(),
            fields.join(", "),
            s.pressure.as_str()
        ))
    }
}

/// Adds the pool's classes and constants to the module.
pub(crate) fn add_pool(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyPool>()?;
    m.add_class::<PyPoolSlot>()?;
    m.add_class::<PyPoolStats>()?;
    m.add_class::<PyDomainStats>()?;
    m.add(
        "POOL_DOMAINS",
        PyTuple::new(py, Domain::ALL.map(Domain::as_str))?,
    )?;
    m.add(
        "POOL_POLICIES",
        PyTuple::new(py, PolicyKind::ALL.map(PolicyKind::as_str))?,
    )?;
    Ok(())
}
