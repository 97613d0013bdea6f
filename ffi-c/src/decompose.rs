//! Memory decomposition (docs/SNAPSHOT.md): load a snapshot, read its main
//! figures, validate it, render the text report and the JSON.

use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use memacct_core::decompose::{
    decompose, report_text, Decomposition, Options, Snapshot, ValidationOptions,
};

use crate::args;
use crate::buffer::{memacct_buffer, out_buffer};
use crate::status::{guard, memacct_status, Failure};

/// Bytes of `memacct_violation.rule` (NUL included).
pub const MEMACCT_VIOLATION_RULE_LEN: usize = 48;
/// Bytes of `memacct_violation.message` (NUL included); longer messages are
/// cut on a UTF-8 character boundary.
pub const MEMACCT_VIOLATION_MESSAGE_LEN: usize = 512;
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

/// Copies `text` into `dst` NUL-terminated, cut on a char boundary; returns
/// the number of bytes copied (without the NUL).
fn copy_str(text: &str, dst: &mut [c_char]) -> usize {
    if dst.is_empty() {
        return 0;
    }
    let mut n = text.len().min(dst.len() - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    for (d, &b) in dst.iter_mut().zip(&text.as_bytes()[..n]) {
        *d = b as c_char;
    }
    dst[n] = 0;
    n
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
/// valid v1 node snapshot (the last-error message says what).
///
/// # Safety
/// `json` is valid for `len` bytes (or NULL with `len` 0); `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn memacct_snapshot_load(
    json: *const c_char,
    len: usize,
    out: *mut *mut memacct_decomposition_handle,
) -> memacct_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: per this function's contract.
        let raw = unsafe { args::bytes(json.cast::<u8>(), len, "json") }?;
        let snapshot = Snapshot::from_json_bytes(raw)?;
        let d = decompose(&snapshot, &Options::default());
        let h = Box::into_raw(Box::new(memacct_decomposition_handle { inner: d }));
        // SAFETY: as above.
        unsafe { out.write(h) };
        Ok(())
    })
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
/// are at most 17 rules). `residual_tolerance` is the largest accepted
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
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        if out.is_null() && cap > 0 {
            return Err(Failure::null("out"));
        }
        if !(residual_tolerance.is_finite() && residual_tolerance >= 0.0) {
            return Err(Failure::invalid(format!(
                "residual_tolerance {residual_tolerance} is not a finite value >= 0"
            )));
        }
        let violations = d.validate(&ValidationOptions {
            residual_tolerance,
            ..ValidationOptions::default()
        });
        for (i, v) in violations.iter().take(cap).enumerate() {
            let mut slot = memacct_violation {
                rule: [0; MEMACCT_VIOLATION_RULE_LEN],
                message: [0; MEMACCT_VIOLATION_MESSAGE_LEN],
            };
            copy_str(v.rule, &mut slot.rule);
            copy_str(&v.message, &mut slot.message);
            // SAFETY: `out` is valid for `cap` writes and `i < cap`.
            unsafe { out.add(i).write(slot) };
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { count.write(violations.len()) };
        Ok(())
    })
}

/// Writes the human text report into `buf` like `snprintf`: as much as fits
/// in `cap` bytes (cut on a UTF-8 boundary), NUL-terminated whenever `cap` is
/// not 0, and sets `*needed` to the full size including the NUL. So the report
/// is complete when `*needed <= cap`; call with `buf` NULL and `cap` 0 to size.
///
/// # Safety
/// `h` is NULL or a live handle; `buf` is valid for `cap` writes (NULL only
/// with `cap` 0); `needed` is NULL or writable.
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
        if needed.is_null() {
            return Err(Failure::null("needed"));
        }
        if buf.is_null() && cap > 0 {
            return Err(Failure::null("buf"));
        }
        let text = report_text(d);
        if cap > 0 {
            // SAFETY: `buf` is valid for `cap` writes per the contract.
            let dst = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
            copy_str(&text, dst);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { needed.write(text.len() + 1) };
        Ok(())
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
    }
}
