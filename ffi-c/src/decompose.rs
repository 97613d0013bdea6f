//! Memory decomposition (docs/SNAPSHOT.md): load a node or cluster snapshot,
//! read its main figures, validate it, render the text report and the JSON.

use std::mem::MaybeUninit;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use memacct_core::decompose::{
    cluster_report_text, decompose, decompose_cluster, report_text, ClusterDecomposition,
    Decomposition, Options, SnapshotDocument, ValidationOptions, Violation,
};
use memacct_core::Error;

use crate::args;
use crate::buffer::{memacct_buffer, out_buffer};
use crate::status::{guard, memacct_status, Failure};

/// Bytes of `memacct_violation.rule` (NUL included).
pub const MEMACCT_VIOLATION_RULE_LEN: usize = 48;
/// Bytes of `memacct_violation.message` (NUL included); longer messages are
/// cut on a UTF-8 character boundary.
pub const MEMACCT_VIOLATION_MESSAGE_LEN: usize = 512;
/// Bytes of `memacct_missing_node.node` (NUL included): any Erlang node name
/// (an atom: at most 255 characters of at most 4 UTF-8 bytes) fits.
pub const MEMACCT_NODE_NAME_LEN: usize = 1024;
/// Bytes of `memacct_missing_node.reason` (NUL included); longer reasons are
/// cut on a UTF-8 character boundary.
pub const MEMACCT_MISSING_REASON_LEN: usize = 256;
/// The default residual tolerance: 5% of RSS.
pub const MEMACCT_DEFAULT_RESIDUAL_TOLERANCE: f64 = 0.05;

/// A decomposed node snapshot (opaque). Made by `memacct_snapshot_load`,
/// released by `memacct_decomposition_free`; immutable, so it may be read
/// from several threads at once.
#[allow(non_camel_case_types)]
pub struct memacct_decomposition_handle {
    inner: Decomposition,
}

/// The main figures of a decomposition, in bytes unless named otherwise
/// (docs/ARCHITECTURE.md and `memacct_core::decompose::model` give the
/// identities: `heap + state = process`, `total = process + off_heap +
/// native`, `rss = base_overhead + connections + residual`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default)]
pub struct memacct_decomposition {
    /// Snapshot time, Unix milliseconds.
    pub timestamp_ms: u64,
    /// Connection pids given.
    pub connections: u64,
    /// Alive connections (the per-connection means divide by this).
    pub alive: u64,
    /// `erlang:system_info(process_count)`.
    pub process_count: u64,
    /// States sampled (0: state not measured).
    pub state_samples: u64,
    /// Whether a state sample was given.
    pub state_measured: bool,
    /// Whether the state figure is a census (every state measured).
    pub state_exact: bool,
    /// Whether `per_conn_state_ci95_low/high` are defined (false with one sample).
    pub state_ci_defined: bool,
    /// Whether the allocator overhead was measured.
    pub allocator_overhead_measured: bool,
    /// Whether the OS-mapped pages were measured (the snapshot splits the RSS).
    pub os_mapped_measured: bool,
    /// Mean process memory per connection.
    pub per_conn_process: f64,
    /// Mean state per connection (an estimate; 0 when not measured). Inside `per_conn_process`.
    pub per_conn_state: f64,
    /// Lower bound of the state's 95% interval (0 when undefined).
    pub per_conn_state_ci95_low: f64,
    /// Upper bound of the state's 95% interval (0 when undefined).
    pub per_conn_state_ci95_high: f64,
    /// `per_conn_process − per_conn_state`.
    pub per_conn_heap: f64,
    /// Share of the off-heap binaries referenced.
    pub per_conn_off_heap: f64,
    /// Native pool slot bytes.
    pub per_conn_native: f64,
    /// `per_conn_process + per_conn_off_heap + per_conn_native`.
    pub per_conn_total: f64,
    /// The node's resident set.
    pub rss: f64,
    /// `erlang:memory(total)`.
    pub beam_total: f64,
    /// Allocator carriers − blocks (0 when not measured).
    pub allocator_overhead: f64,
    /// Native memory outside the BEAM allocators (pools + other).
    pub native: f64,
    /// Resident pages no allocator hands out: `RssFile + RssShmem / views`
    /// (views = 2 under the JIT); 0 when not measured.
    pub os_mapped: f64,
    /// Allocated but possibly never written, so possibly not resident:
    /// carrier free space + the connections' heap reserve. How far below
    /// `-tolerance × rss` the residual may go before validation flags it.
    pub unwritten_bound: f64,
    /// `beam_total + allocator_overhead + native + os_mapped`.
    pub accounted: f64,
    /// `rss − accounted` (signed).
    pub residual: f64,
    /// `100 × residual / rss`.
    pub residual_pct_of_rss: f64,
    /// `alive × per_conn_total`.
    pub connections_total: f64,
    /// `accounted − connections_total`.
    pub base_overhead: f64,
}

/// One violated validation rule, copied into fixed-size arrays owned by the
/// caller (nothing to free).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct memacct_violation {
    /// The rule's stable code (e.g. `residual_within_tolerance`), NUL-terminated.
    pub rule: [c_char; MEMACCT_VIOLATION_RULE_LEN],
    /// The human message with the figures, NUL-terminated, cut to fit.
    pub message: [c_char; MEMACCT_VIOLATION_MESSAGE_LEN],
}

/// How many bytes of `text` fit in `cap` bytes with a NUL after them, cut on
/// a char boundary (0 when `cap` is 0).
fn fit(text: &str, cap: usize) -> usize {
    let mut n = text.len().min(cap.saturating_sub(1));
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Copies `text` into `dst` NUL-terminated, cut on a char boundary; returns
/// the number of bytes copied (without the NUL).
fn copy_str(text: &str, dst: &mut [c_char]) -> usize {
    if dst.is_empty() {
        return 0;
    }
    let n = fit(text, dst.len());
    for (d, &b) in dst.iter_mut().zip(&text.as_bytes()[..n]) {
        *d = b as c_char;
    }
    dst[n] = 0;
    n
}

/// [`copy_str`] into a caller's (possibly uninitialized) buffer.
fn copy_str_out(text: &str, dst: &mut [MaybeUninit<c_char>]) -> usize {
    if dst.is_empty() {
        return 0;
    }
    let n = fit(text, dst.len());
    for (d, &b) in dst.iter_mut().zip(&text.as_bytes()[..n]) {
        d.write(b as c_char);
    }
    dst[n].write(0);
    n
}

/// The snprintf-like text output of `memacct_decomposition_report` and
/// `memacct_decomposition_node_name`: as much of `text` as fits in `cap`
/// bytes at `buf` (NUL-terminated when `cap` is not 0), `*needed` = its full
/// size with the NUL.
///
/// # Safety
/// `buf` is NULL or valid for `cap` writes; `needed` is NULL or writable.
unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> Result<(), Failure> {
    if needed.is_null() {
        return Err(Failure::null("needed"));
    }
    // SAFETY: per this function's contract.
    let dst = unsafe { args::out_array(buf, cap, "buf") }?;
    copy_str_out(text, dst);
    // SAFETY: non-NULL and writable per the contract.
    unsafe { needed.write(text.len() + 1) };
    Ok(())
}

/// Writes `violations` like `memacct_decomposition_validate_with`: the first
/// `min(len, cap)` to `out`, the number to `*count`.
///
/// # Safety
/// `out` is NULL or valid for `cap` writes; `count` is NULL or writable.
unsafe fn write_violations(
    violations: impl FnOnce() -> Vec<Violation>,
    out: *mut memacct_violation,
    cap: usize,
    count: *mut usize,
) -> Result<(), Failure> {
    if count.is_null() {
        return Err(Failure::null("count"));
    }
    // SAFETY: per this function's contract.
    let dst = unsafe { args::out_array(out, cap, "out") }?;
    let violations = violations();
    for (slot, v) in dst.iter_mut().zip(&violations) {
        let mut item = memacct_violation {
            rule: [0; MEMACCT_VIOLATION_RULE_LEN],
            message: [0; MEMACCT_VIOLATION_MESSAGE_LEN],
        };
        copy_str(v.rule, &mut item.rule);
        copy_str(&v.message, &mut item.message);
        slot.write(item);
    }
    // SAFETY: non-NULL and writable per the contract.
    unsafe { count.write(violations.len()) };
    Ok(())
}

/// The validation options of a residual tolerance given by the caller.
fn tolerance(residual_tolerance: f64) -> Result<ValidationOptions, Failure> {
    if !(residual_tolerance.is_finite() && residual_tolerance >= 0.0) {
        return Err(Failure::invalid(format!(
            "residual_tolerance {residual_tolerance} is not a finite value >= 0"
        )));
    }
    Ok(ValidationOptions {
        residual_tolerance,
        ..ValidationOptions::default()
    })
}

/// The snapshot document in the `len` bytes at `json`.
///
/// # Safety
/// `json` is NULL or valid for `len` readable bytes.
unsafe fn document(json: *const c_char, len: usize) -> Result<SnapshotDocument, Failure> {
    // SAFETY: per this function's contract.
    let raw = unsafe { args::bytes(json.cast::<u8>(), len, "json") }?;
    Ok(SnapshotDocument::from_json_bytes(raw)?)
}

/// `MEMACCT_BAD_SNAPSHOT` for a document of the other kind.
fn wrong_kind(reason: &str) -> Failure {
    Failure::from(Error::BadSnapshot {
        reason: reason.to_owned(),
    })
}

/// Parses the snapshot document at `json`, turns it into a handle with
/// `make` (which refuses the other kind), and stores the new handle in
/// `*out` (set to NULL first).
///
/// # Safety
/// `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
unsafe fn load<H>(
    json: *const c_char,
    len: usize,
    out: *mut *mut H,
    make: impl FnOnce(SnapshotDocument) -> Result<H, Failure>,
) -> memacct_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: per this function's contract.
        let h = Box::into_raw(Box::new(make(unsafe { document(json, len) }?)?));
        // SAFETY: as above.
        unsafe { out.write(h) };
        Ok(())
    })
}

/// # Safety
/// `h` is NULL or a live handle.
unsafe fn handle<'a>(h: *const memacct_decomposition_handle) -> Result<&'a Decomposition, Failure> {
    if h.is_null() {
        return Err(Failure::null("decomposition"));
    }
    // SAFETY: per the contract, a live handle from `memacct_snapshot_load`.
    Ok(unsafe { &(*h).inner })
}

/// Parses the `len` bytes of snapshot JSON at `json` (docs/SNAPSHOT.md, v1;
/// UTF-8, no NUL needed), decomposes it and stores a new handle in `*out`
/// (set to NULL first). `MEMACCT_BAD_SNAPSHOT` for anything that is not a
/// valid v1 node snapshot (the last-error message says what; a cluster
/// snapshot is loaded by `memacct_cluster_snapshot_load`).
///
/// # Safety
/// `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_snapshot_load(
    json: *const c_char,
    len: usize,
    out: *mut *mut memacct_decomposition_handle,
) -> memacct_status {
    // SAFETY: per this function's contract.
    unsafe {
        load(json, len, out, |doc| match doc {
            SnapshotDocument::Node(s) => Ok(memacct_decomposition_handle {
                inner: decompose(&s, &Options::default()),
            }),
            SnapshotDocument::Cluster(_) => Err(wrong_kind(
                "a cluster snapshot (format \"memacct-cluster\"): \
                 load it with memacct_cluster_snapshot_load",
            )),
        })
    }
}

/// Releases a handle from `memacct_snapshot_load`. NULL is a no-op.
///
/// # Safety
/// `h` is NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_free(h: *mut memacct_decomposition_handle) {
    if h.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract, `h` came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(h) });
    }));
}

/// Fills `*out` with the main figures of the decomposition.
///
/// # Safety
/// `h` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_get(
    h: *const memacct_decomposition_handle,
    out: *mut memacct_decomposition,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let d = unsafe { handle(h) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let pc = &d.per_connection;
        let pn = &d.per_node;
        let e = pc.state.as_ref();
        let ci = e.and_then(|e| e.ci_low.zip(e.ci_high));
        let figures = memacct_decomposition {
            timestamp_ms: d.timestamp_ms,
            connections: d.counts.connections,
            alive: d.counts.alive,
            process_count: d.counts.process_count,
            state_samples: d.counts.state_samples,
            state_measured: e.is_some(),
            state_exact: e.is_some_and(|e| e.exact),
            state_ci_defined: ci.is_some(),
            allocator_overhead_measured: pn.allocator_overhead_bytes.is_some(),
            os_mapped_measured: pn.os_mapped_bytes.is_some(),
            per_conn_process: pc.process_bytes,
            per_conn_state: pc.state_bytes(),
            per_conn_state_ci95_low: ci.map_or(0.0, |c| c.0),
            per_conn_state_ci95_high: ci.map_or(0.0, |c| c.1),
            per_conn_heap: pc.heap_bytes,
            per_conn_off_heap: pc.off_heap_share_bytes,
            per_conn_native: pc.native_bytes,
            per_conn_total: pc.total_bytes,
            rss: pn.rss_bytes,
            beam_total: pn.beam.total,
            allocator_overhead: pn.allocator_overhead_bytes.unwrap_or(0.0),
            native: pn.native_pool_bytes + pn.native_other_bytes,
            os_mapped: pn.os_mapped_bytes.unwrap_or(0.0),
            unwritten_bound: pn.unwritten_bound_bytes,
            accounted: pn.accounted_bytes,
            residual: pn.residual_bytes,
            residual_pct_of_rss: pn.residual_pct_of_rss,
            connections_total: pn.connections_bytes,
            base_overhead: pn.base_overhead_bytes,
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(figures) };
        Ok(())
    })
}

/// `memacct_decomposition_validate_with` at the default residual tolerance
/// (`MEMACCT_DEFAULT_RESIDUAL_TOLERANCE`, 5% of RSS).
///
/// # Safety
/// As `memacct_decomposition_validate_with`.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_validate(
    h: *const memacct_decomposition_handle,
    out: *mut memacct_violation,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    // SAFETY: same contract.
    unsafe {
        memacct_decomposition_validate_with(h, MEMACCT_DEFAULT_RESIDUAL_TOLERANCE, out, cap, count)
    }
}

/// Validates the decomposition: `*count` is set to the number of violated
/// rules (0: consistent), and the first `min(*count, cap)` are written to
/// `out[0..]` (so call with `cap` 0 to size, or with a generous array — there
/// are at most 17 rules; a `cap` whose array would exceed `PTRDIFF_MAX` bytes
/// is `MEMACCT_INVALID_ARGUMENT`). `residual_tolerance` is the largest accepted
/// `|residual| / rss` (a finite value ≥ 0, else `MEMACCT_INVALID_ARGUMENT`).
///
/// # Safety
/// `h` is NULL or a live handle; `out` is valid for `cap` writes (NULL only
/// with `cap` 0); `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_validate_with(
    h: *const memacct_decomposition_handle,
    residual_tolerance: f64,
    out: *mut memacct_violation,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let d = unsafe { handle(h) }?;
        let options = tolerance(residual_tolerance)?;
        // SAFETY: per this function's contract.
        unsafe { write_violations(|| d.validate(&options), out, cap, count) }
    })
}

/// Writes the human text report into `buf` like `snprintf`: as much as fits
/// in `cap` bytes (cut on a UTF-8 boundary), NUL-terminated whenever `cap` is
/// not 0, and sets `*needed` to the full size including the NUL. So the report
/// is complete when `*needed <= cap`; call with `buf` NULL and `cap` 0 to size.
///
/// # Safety
/// `h` is NULL or a live handle; `buf` is valid for `cap` writes (NULL only
/// with `cap` 0; a `cap` above `PTRDIFF_MAX` is `MEMACCT_INVALID_ARGUMENT`);
/// `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_report(
    h: *const memacct_decomposition_handle,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let d = unsafe { handle(h) }?;
        // SAFETY: per this function's contract.
        unsafe { write_text(&report_text(d), buf, cap, needed) }
    })
}

/// Writes the node's name (e.g. `"app@host"`) into `buf` like
/// `memacct_decomposition_report` (snprintf-like; `*needed` = its size with
/// the NUL).
///
/// # Safety
/// As `memacct_decomposition_report`.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_node_name(
    h: *const memacct_decomposition_handle,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let d = unsafe { handle(h) }?;
        // SAFETY: per this function's contract.
        unsafe { write_text(&d.node, buf, cap, needed) }
    })
}

/// The decomposition as JSON (UTF-8, not NUL-terminated) in a library-owned
/// buffer: release it with `memacct_buffer_free`.
///
/// # Safety
/// `h` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_decomposition_to_json(
    h: *const memacct_decomposition_handle,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let d = unsafe { handle(h) }?;
        *out = memacct_buffer::from_vec(d.to_json().into_bytes());
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Cluster snapshots.
// ---------------------------------------------------------------------------

/// A decomposed cluster snapshot (opaque): one decomposition per node that
/// answered, their sums, and the nodes that did not answer (never counted as
/// zero). Made by `memacct_cluster_snapshot_load`, released by
/// `memacct_cluster_decomposition_free`; immutable, so it may be read from
/// several threads at once.
#[allow(non_camel_case_types)]
pub struct memacct_cluster_decomposition_handle {
    inner: ClusterDecomposition,
}

/// The figures of a cluster decomposition (sums over the nodes that answered),
/// in bytes unless named otherwise.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default)]
pub struct memacct_cluster_decomposition {
    /// Nodes that answered (each has a decomposition:
    /// `memacct_cluster_decomposition_node`).
    pub node_count: u64,
    /// Nodes that did not answer (`memacct_cluster_decomposition_missing`).
    pub missing_count: u64,
    /// Σ RSS.
    pub total_rss: f64,
    /// Σ accounted.
    pub total_accounted: f64,
    /// Σ residuals (signed).
    pub total_residual: f64,
    /// Σ alive connections.
    pub total_connections: u64,
    /// Σ bytes attributed to connections.
    pub total_connections_bytes: f64,
    /// `total_connections_bytes / total_connections` (0 without connections).
    pub per_conn_total: f64,
}

/// A node that did not answer the cluster collection, copied into fixed-size
/// arrays owned by the caller (nothing to free).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
pub struct memacct_missing_node {
    /// The node's name, NUL-terminated (cut to fit only if longer than any
    /// Erlang node name).
    pub node: [c_char; MEMACCT_NODE_NAME_LEN],
    /// Why (e.g. `timeout`, `nodedown`; empty when not given), NUL-terminated,
    /// cut to fit.
    pub reason: [c_char; MEMACCT_MISSING_REASON_LEN],
}

/// # Safety
/// `h` is NULL or a live cluster handle.
unsafe fn cluster<'a>(
    h: *const memacct_cluster_decomposition_handle,
) -> Result<&'a ClusterDecomposition, Failure> {
    if h.is_null() {
        return Err(Failure::null("cluster"));
    }
    // SAFETY: per the contract, a live handle from `memacct_cluster_snapshot_load`.
    Ok(unsafe { &(*h).inner })
}

/// Parses the `len` bytes of cluster snapshot JSON at `json`
/// (`"format": "memacct-cluster"`, docs/SNAPSHOT.md, v1; UTF-8, no NUL
/// needed), decomposes every node and sums them, and stores a new handle in
/// `*out` (set to NULL first). `MEMACCT_BAD_SNAPSHOT` for anything that is not
/// a valid v1 cluster snapshot (the last-error message says what; a node
/// snapshot is loaded by `memacct_snapshot_load`).
///
/// # Safety
/// `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_snapshot_load(
    json: *const c_char,
    len: usize,
    out: *mut *mut memacct_cluster_decomposition_handle,
) -> memacct_status {
    // SAFETY: per this function's contract.
    unsafe {
        load(json, len, out, |doc| match doc {
            SnapshotDocument::Cluster(c) => Ok(memacct_cluster_decomposition_handle {
                inner: decompose_cluster(&c, &Options::default()),
            }),
            SnapshotDocument::Node(_) => Err(wrong_kind(
                "a node snapshot (format \"memacct-snapshot\"): \
                 load it with memacct_snapshot_load",
            )),
        })
    }
}

/// Releases a handle from `memacct_cluster_snapshot_load`. NULL is a no-op.
///
/// # Safety
/// `h` is NULL or a live cluster handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_free(
    h: *mut memacct_cluster_decomposition_handle,
) {
    if h.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract, `h` came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(h) });
    }));
}

/// Fills `*out` with the cluster's figures.
///
/// # Safety
/// `h` is NULL or a live cluster handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_get(
    h: *const memacct_cluster_decomposition_handle,
    out: *mut memacct_cluster_decomposition,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let c = unsafe { cluster(h) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let figures = memacct_cluster_decomposition {
            node_count: c.node_count,
            missing_count: c.missing.len() as u64,
            total_rss: c.total_rss_bytes,
            total_accounted: c.total_accounted_bytes,
            total_residual: c.total_residual_bytes,
            total_connections: c.total_connections,
            total_connections_bytes: c.total_connections_bytes,
            per_conn_total: c.per_connection_total_bytes,
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(figures) };
        Ok(())
    })
}

/// Stores in `*out` (set to NULL first) a new handle holding the
/// decomposition of node `index` (0 ≤ `index` < `node_count`, in the
/// snapshot's order; else `MEMACCT_INVALID_ARGUMENT`): a copy, owned by the
/// caller, that every `memacct_decomposition_*` function reads (figures,
/// node name, validation, report, JSON). Release it with
/// `memacct_decomposition_free`; it outlives the cluster handle.
///
/// # Safety
/// `h` is NULL or a live cluster handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_node(
    h: *const memacct_cluster_decomposition_handle,
    index: usize,
    out: *mut *mut memacct_decomposition_handle,
) -> memacct_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: per this function's contract.
        let c = unsafe { cluster(h) }?;
        let d = c.nodes.get(index).ok_or_else(|| {
            Failure::invalid(format_args!(
                "node index {index} is out of range (the cluster has {} nodes)",
                c.nodes.len()
            ))
        })?;
        let node = Box::into_raw(Box::new(memacct_decomposition_handle { inner: d.clone() }));
        // SAFETY: as above.
        unsafe { out.write(node) };
        Ok(())
    })
}

/// The nodes that did not answer: `*count` is set to their number
/// (`missing_count`), and the first `min(*count, cap)` are written to
/// `out[0..]` (call with `cap` 0 to size; a `cap` whose array would exceed
/// `PTRDIFF_MAX` bytes is `MEMACCT_INVALID_ARGUMENT`).
///
/// # Safety
/// `h` is NULL or a live cluster handle; `out` is valid for `cap` writes
/// (NULL only with `cap` 0); `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_missing(
    h: *const memacct_cluster_decomposition_handle,
    out: *mut memacct_missing_node,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let c = unsafe { cluster(h) }?;
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        // SAFETY: per this function's contract.
        let dst = unsafe { args::out_array(out, cap, "out") }?;
        for (slot, m) in dst.iter_mut().zip(&c.missing) {
            let mut item = memacct_missing_node {
                node: [0; MEMACCT_NODE_NAME_LEN],
                reason: [0; MEMACCT_MISSING_REASON_LEN],
            };
            copy_str(&m.node, &mut item.node);
            copy_str(&m.reason, &mut item.reason);
            slot.write(item);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { count.write(c.missing.len()) };
        Ok(())
    })
}

/// `memacct_cluster_decomposition_validate_with` at the default residual
/// tolerance (`MEMACCT_DEFAULT_RESIDUAL_TOLERANCE`, 5% of RSS).
///
/// # Safety
/// As `memacct_cluster_decomposition_validate_with`.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_validate(
    h: *const memacct_cluster_decomposition_handle,
    out: *mut memacct_violation,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    // SAFETY: same contract.
    unsafe {
        memacct_cluster_decomposition_validate_with(
            h,
            MEMACCT_DEFAULT_RESIDUAL_TOLERANCE,
            out,
            cap,
            count,
        )
    }
}

/// Validates the cluster like `memacct_decomposition_validate_with`: every
/// node's violated rules (messages prefixed with the node's name, e.g.
/// `"b@host: ..."`), then the cluster's own rules (`cluster_node_count`,
/// `cluster_total_ge_nodes`). Same `out` / `cap` / `*count` convention;
/// there are at most 17 rules per node plus 2.
///
/// # Safety
/// `h` is NULL or a live cluster handle; `out` is valid for `cap` writes
/// (NULL only with `cap` 0); `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_validate_with(
    h: *const memacct_cluster_decomposition_handle,
    residual_tolerance: f64,
    out: *mut memacct_violation,
    cap: usize,
    count: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let c = unsafe { cluster(h) }?;
        let options = tolerance(residual_tolerance)?;
        // SAFETY: per this function's contract.
        unsafe { write_violations(|| c.validate(&options), out, cap, count) }
    })
}

/// Writes the cluster's text report into `buf` like
/// `memacct_decomposition_report` (snprintf-like; `*needed` = its size with
/// the NUL): each answering node's report, then the cluster's totals and
/// every node that did not answer, with its reason.
///
/// # Safety
/// `h` is NULL or a live cluster handle; `buf` is valid for `cap` writes
/// (NULL only with `cap` 0); `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_report(
    h: *const memacct_cluster_decomposition_handle,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let c = unsafe { cluster(h) }?;
        // SAFETY: per this function's contract.
        unsafe { write_text(&cluster_report_text(c), buf, cap, needed) }
    })
}

/// The cluster decomposition as JSON (`nodes`: one node decomposition each,
/// `missing`, and the sums; UTF-8, not NUL-terminated) in a library-owned
/// buffer: release it with `memacct_buffer_free`.
///
/// # Safety
/// `h` is NULL or a live cluster handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_cluster_decomposition_to_json(
    h: *const memacct_cluster_decomposition_handle,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let c = unsafe { cluster(h) }?;
        *out = memacct_buffer::from_vec(c.to_json().into_bytes());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_str_cuts_on_boundaries() {
        let mut dst = [0x55 as c_char; 4];
        assert_eq!(copy_str("ab\u{e9}", &mut dst), 2);
        assert_eq!(dst[2], 0);
        assert_eq!(copy_str("abc", &mut dst), 3);
        assert_eq!(copy_str("x", &mut []), 0);
        let mut out = [MaybeUninit::<c_char>::uninit(); 3];
        assert_eq!(copy_str_out("\u{e9}\u{e9}", &mut out), 2);
        assert_eq!(fit("abc", 0), 0);
    }

    #[test]
    fn report_refuses_impossible_capacities() {
        let json = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/snapshots/node_small.json"
        ))
        .unwrap();
        let mut h = std::ptr::null_mut();
        let mut buf = [0 as c_char; 8];
        let mut needed = 0;
        unsafe {
            let s = memacct_snapshot_load(json.as_ptr().cast(), json.len(), &mut h);
            assert_eq!(s, memacct_status::MEMACCT_OK);
            for cap in [usize::MAX, isize::MAX as usize + 1] {
                let s = memacct_decomposition_report(h, buf.as_mut_ptr(), cap, &mut needed);
                assert_eq!(s, memacct_status::MEMACCT_INVALID_ARGUMENT);
                let mut v = std::mem::MaybeUninit::<memacct_violation>::uninit();
                let s = memacct_decomposition_validate(h, v.as_mut_ptr(), cap, &mut needed);
                assert_eq!(s, memacct_status::MEMACCT_INVALID_ARGUMENT);
            }
            assert_eq!(needed, 0, "needed untouched on failure");
            memacct_decomposition_free(h);
        }
    }
}
