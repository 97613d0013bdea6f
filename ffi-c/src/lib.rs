//! # libmemacct: the C ABI of memacct
//!
//! Exact BEAM (Erlang/OTP 25, 64-bit) heap sizes of terms given as External
//! Term Format bytes (`term_to_binary/1,2` output), and compact state: a
//! lossless, checksummed codec for such terms (`memacct_compress`,
//! `memacct_decompress`) with optional trained dictionaries
//! (`memacct_dictionary`). Every algorithm lives in
//! `memacct-core`; this crate only converts C arguments, maps
//! [`memacct_core::Error`] to [`memacct_status`] (in one function) and keeps a
//! thread-local last-error message.
//!
//! Conventions (those of rustls-ffi): every function is prefixed `memacct_`;
//! fallible functions return a [`memacct_status`] and write results through
//! out-pointers, which are left untouched on failure; NULL pointers and
//! impossible lengths are statuses, never crashes; no panic crosses the
//! boundary (each entry point runs under `catch_unwind` and reports
//! `MEMACCT_PANIC`). The C header `include/memacct.h` is generated from this
//! crate by cbindgen (`ffi-c/cbindgen.toml`).
//!
//! Bytes the library produces come back in a [`memacct_buffer`], allocated and
//! freed inside the library (`memacct_buffer_free`). Compressing with a
//! dictionary trained on similar states:
//!
//! ```c
//! memacct_dictionary *dict = NULL;
//! memacct_codec_options *opts = memacct_codec_options_new();
//! memacct_buffer blob = {0};
//! if (memacct_dictionary_train(samples, lens, n, 0, &dict) == MEMACCT_OK &&
//!     memacct_codec_options_set_dictionary(opts, dict) == MEMACCT_OK &&
//!     memacct_compress(etf, etf_len, opts, &blob) == MEMACCT_OK) {
//!     store(blob.data, blob.len); // memacct_decompress(..., opts, &etf_again)
//! }
//! memacct_buffer_free(&blob);
//! memacct_codec_options_free(opts);
//! memacct_dictionary_free(dict);
//! ```
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod args;
mod buffer;
mod codec;
mod decompose;
mod dictionary;
mod options;
mod pool;
mod status;

use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::catch_unwind;

use memacct_core::Kind;

pub use buffer::{memacct_buffer, memacct_buffer_free};
pub use codec::{
    memacct_blob_header, memacct_blob_info, memacct_codec_options, memacct_codec_options_free,
    memacct_codec_options_new, memacct_codec_options_set_dictionary,
    memacct_codec_options_set_inflate_limit, memacct_codec_options_set_level,
    memacct_codec_options_set_max_output, memacct_compress, memacct_decompress,
};
pub use decompose::{
    memacct_cluster_decomposition, memacct_cluster_decomposition_free,
    memacct_cluster_decomposition_get, memacct_cluster_decomposition_handle,
    memacct_cluster_decomposition_missing, memacct_cluster_decomposition_node,
    memacct_cluster_decomposition_to_json, memacct_cluster_decomposition_validate,
    memacct_cluster_decomposition_validate_with, memacct_cluster_snapshot_load,
    memacct_decomposition, memacct_decomposition_free, memacct_decomposition_get,
    memacct_decomposition_handle, memacct_decomposition_node_name, memacct_decomposition_report,
    memacct_decomposition_to_json, memacct_decomposition_validate,
    memacct_decomposition_validate_with, memacct_missing_node, memacct_snapshot_load,
    memacct_violation, MEMACCT_DEFAULT_RESIDUAL_TOLERANCE, MEMACCT_MISSING_REASON_LEN,
    MEMACCT_NODE_NAME_LEN, MEMACCT_VIOLATION_MESSAGE_LEN, MEMACCT_VIOLATION_RULE_LEN,
};
pub use dictionary::{
    memacct_dictionary, memacct_dictionary_free, memacct_dictionary_id, memacct_dictionary_load,
    memacct_dictionary_to_bytes, memacct_dictionary_train, MEMACCT_DICTIONARY_DEFAULT_BYTES,
    MEMACCT_DICTIONARY_MAX_BYTES, MEMACCT_DICTIONARY_MIN_BYTES,
};
pub use options::{
    memacct_size_options, memacct_size_options_add_atom_word, memacct_size_options_free,
    memacct_size_options_new, memacct_size_options_set_inflate_limit,
    memacct_size_options_set_local_node, memacct_size_options_set_max_depth,
};
pub use pool::{
    memacct_pool, memacct_pool_checkpoint, memacct_pool_clear, memacct_pool_contains,
    memacct_pool_domain, memacct_pool_domain_arg, memacct_pool_domain_limits,
    memacct_pool_domain_name, memacct_pool_domain_stats, memacct_pool_expire, memacct_pool_free,
    memacct_pool_full_action, memacct_pool_full_action_arg, memacct_pool_get,
    memacct_pool_get_stats, memacct_pool_handles, memacct_pool_len, memacct_pool_limits,
    memacct_pool_new, memacct_pool_options, memacct_pool_options_free, memacct_pool_options_new,
    memacct_pool_options_set_default_ttl_ms, memacct_pool_options_set_domain_limits,
    memacct_pool_options_set_max_bytes, memacct_pool_options_set_max_entries,
    memacct_pool_options_set_on_full, memacct_pool_options_set_policy,
    memacct_pool_options_set_seed, memacct_pool_options_set_shards,
    memacct_pool_options_set_ttl_resolution_ms, memacct_pool_owner_usage, memacct_pool_policy,
    memacct_pool_policy_arg, memacct_pool_policy_name, memacct_pool_pressure, memacct_pool_put,
    memacct_pool_release, memacct_pool_release_owner, memacct_pool_restore,
    memacct_pool_set_domain_limits, memacct_pool_set_limits, memacct_pool_stats,
    memacct_pool_update, MEMACCT_POOL_DOMAIN_COUNT, MEMACCT_POOL_NO_TTL,
};
pub use status::{memacct_status, memacct_status_arg};

use args::bytes;
use status::{guard, Failure};

/// Number of `memacct_kind` values: the length of `memacct_size_report.by_kind`.
pub const MEMACCT_KIND_COUNT: usize = 13;

/// A kind of heap object; indexes `memacct_size_report.by_kind`. The order is
/// the core's report order and is stable; new kinds are only ever appended.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum memacct_kind {
    /// `tuple`: tuples (header + elements).
    MEMACCT_KIND_TUPLE = 0,
    /// `list`: cons cells (two words each), strings included.
    MEMACCT_KIND_LIST = 1,
    /// `map`: flat maps with their keys tuple, HAMT nodes and leaves.
    MEMACCT_KIND_MAP = 2,
    /// `heap_binary`: binaries of at most 64 bytes, stored on the heap.
    MEMACCT_KIND_HEAP_BINARY = 3,
    /// `refc_binary`: on-heap handles (ProcBin) of refc binaries; payloads are off-heap.
    MEMACCT_KIND_REFC_BINARY = 4,
    /// `sub_binary`: sub-binaries (bitstrings).
    MEMACCT_KIND_SUB_BINARY = 5,
    /// `bignum`: integers too large to be immediate.
    MEMACCT_KIND_BIGNUM = 6,
    /// `float`: floats.
    MEMACCT_KIND_FLOAT = 7,
    /// `fun`: funs (closures and `fun M:F/A`), environment slots included.
    MEMACCT_KIND_FUN = 8,
    /// `external_pid`: pids of other nodes.
    MEMACCT_KIND_EXTERNAL_PID = 9,
    /// `external_port`: ports of other nodes.
    MEMACCT_KIND_EXTERNAL_PORT = 10,
    /// `external_ref`: references of other nodes.
    MEMACCT_KIND_EXTERNAL_REF = 11,
    /// `local_ref`: references of the local node.
    MEMACCT_KIND_LOCAL_REF = 12,
}

/// A `memacct_kind` passed by the caller as a plain integer, so that a value
/// outside the enum is defined behaviour in Rust. The header names it
/// `memacct_kind` (see `ffi-c/cbindgen.toml`).
///
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type memacct_kind_arg = u32;

/// The size report of one term (the out-struct of `memacct_term_size`).
///
/// Per-field sizes of a root tuple or map are not part of the C surface; the
/// Erlang (`memacct:etf_term_size/1`) and Python (`memacct.term_size`)
/// surfaces report them.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct memacct_size_report {
    /// Heap words: exactly what `erts_debug:flat_size/1` reports for the term on
    /// the target VM (the same value `memacct_flat_size` returns).
    pub words: u64,
    /// Heap bytes (`words` times the word size, 8).
    pub bytes: u64,
    /// Bytes of refc-binary payloads the term references (off the process heap).
    pub off_heap_bytes: u64,
    /// Number of refc binaries referenced.
    pub refc_binaries: u64,
    /// Number of terms, every list element and nested term included.
    pub nodes: u64,
    /// Deepest nesting (a lone atom is 1, `{a}` is 2).
    pub max_depth: u64,
    /// Heap words per kind of object, indexed by `memacct_kind`; they sum to `words`.
    pub by_kind: [u64; MEMACCT_KIND_COUNT],
}

/// Computes the heap words of the term in `etf`, with the default options:
/// exactly what `erts_debug:flat_size(binary_to_term(Etf))` reports on the
/// target VM (Erlang/OTP 25, 64-bit), where every pid, port and reference is
/// sized as external. Maps with more than 32 keys whose keys contain atoms need
/// an atom table: use `memacct_term_size` with options for those.
///
/// `etf` points to `len` bytes of ETF (starting with the version byte 131;
/// compressed terms accepted); it is only read during the call. `(NULL, 0)` is
/// empty input (`MEMACCT_EMPTY`). On success writes `*out_words` and returns
/// `MEMACCT_OK`; on failure returns the status, sets the last error and leaves
/// `*out_words` untouched.
///
/// # Safety
/// `etf` is NULL or valid for `len` readable bytes; `out_words` is NULL or
/// valid for one `uint64_t` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_flat_size(
    etf: *const u8,
    len: usize,
    out_words: *mut u64,
) -> memacct_status {
    guard(|| {
        if out_words.is_null() {
            return Err(Failure::null("out_words"));
        }
        // SAFETY: per this function's contract.
        let etf = unsafe { bytes(etf, len, "etf") }?;
        let words = memacct_core::flat_size(etf)?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out_words.write(words) };
        Ok(())
    })
}

/// Computes the full size report of the term in `etf` with `opts` (NULL means
/// the defaults, as in `memacct_flat_size`).
///
/// `etf` points to `len` bytes of ETF, only read during the call; `opts` is
/// only read (several threads may share one handle). On success fills `*out`
/// and returns `MEMACCT_OK`; on failure returns the status, sets the last error
/// and leaves `*out` untouched.
///
/// # Safety
/// `etf` is NULL or valid for `len` readable bytes; `opts` is NULL or a live
/// handle that no thread mutates during the call; `out` is NULL or valid for
/// one `memacct_size_report` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_term_size(
    etf: *const u8,
    len: usize,
    opts: *const memacct_size_options,
    out: *mut memacct_size_report,
) -> memacct_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: per this function's contract.
        let etf = unsafe { bytes(etf, len, "etf") }?;
        let defaults;
        // SAFETY: per this function's contract.
        let opts = match unsafe { opts.as_ref() } {
            Some(o) => &o.inner,
            None => {
                defaults = memacct_size_options::defaults();
                &defaults
            }
        };
        let size = memacct_core::term_size(etf, opts)?;
        let mut report = memacct_size_report {
            words: size.words,
            bytes: size.bytes,
            off_heap_bytes: size.off_heap_bytes,
            refc_binaries: size.refc_binaries,
            nodes: size.nodes,
            max_depth: u64::from(size.max_depth),
            by_kind: [0; MEMACCT_KIND_COUNT],
        };
        for (slot, (_, words)) in report.by_kind.iter_mut().zip(size.by_kind.iter()) {
            *slot = words;
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(report) };
        Ok(())
    })
}

/// The stable snake_case name of a kind (`"tuple"`, `"heap_binary"`, ...),
/// the key the Erlang and Python surfaces use. The string is static: do not
/// free it. Returns NULL for a value that is not a `memacct_kind`.
#[no_mangle]
pub extern "C" fn memacct_kind_name(kind: memacct_kind_arg) -> *const c_char {
    const _: () = assert!(MEMACCT_KIND_COUNT == Kind::ALL.len());
    /// Names of the kinds, NUL-terminated, indexed by `memacct_kind`.
    const KIND_NAMES: [&CStr; MEMACCT_KIND_COUNT] = [
        c"tuple",
        c"list",
        c"map",
        c"heap_binary",
        c"refc_binary",
        c"sub_binary",
        c"bignum",
        c"float",
        c"fun",
        c"external_pid",
        c"external_port",
        c"external_ref",
        c"local_ref",
    ];
    usize::try_from(kind)
        .ok()
        .and_then(|i| KIND_NAMES.get(i))
        .map_or(std::ptr::null(), |name| name.as_ptr())
}

/// The stable snake_case name of a status: `"ok"`, a core error code
/// (`"truncated"`, `"needs_vm"`, ...; the code the Erlang and Python surfaces
/// use) or `"null_pointer"`, `"invalid_argument"`, `"panic"`,
/// `"unknown_error"`. The string is static: do not free it. Returns NULL for a
/// value that is not a `memacct_status`.
#[no_mangle]
pub extern "C" fn memacct_status_name(status: memacct_status_arg) -> *const c_char {
    memacct_status::from_raw(status).map_or(std::ptr::null(), |s| s.name().as_ptr())
}

/// Copies the message of the most recent failing call *on this thread* into
/// `buf` as a NUL-terminated UTF-8 string, truncated (on a character boundary)
/// to fit `buf_len` bytes including the NUL, and returns the full message
/// length in bytes, NUL excluded (like `snprintf`: a result `>= buf_len` means
/// it was truncated). With `buf` NULL or `buf_len` 0 nothing is written.
///
/// The message starts with the status name, e.g. `"truncated: truncated ETF:
/// needed 1 more byte(s) at offset 1"`. Successful calls leave it unchanged
/// (like `errno`); before any failure on this thread it is empty (returns 0).
///
/// # Safety
/// `buf` is NULL or valid for `buf_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn memacct_last_error_message(buf: *mut c_char, buf_len: usize) -> usize {
    // SAFETY: per this function's contract.
    catch_unwind(|| unsafe { status::copy_last_error(buf, buf_len) }).unwrap_or(0)
}

/// The library version, e.g. `"0.1.0"`. The string is static: do not free it.
#[no_mangle]
pub extern "C" fn memacct_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the crate version contains a NUL"),
        };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use memacct_status::*;

    /// term_to_binary({ok, <<"abc">>})
    const OK_ABC: [u8; 15] = [
        131, 104, 2, 119, 2, b'o', b'k', 109, 0, 0, 0, 3, b'a', b'b', b'c',
    ];

    fn last_error() -> String {
        let mut buf = [0 as c_char; 512];
        unsafe {
            memacct_last_error_message(buf.as_mut_ptr(), buf.len());
            CStr::from_ptr(buf.as_ptr()).to_str().unwrap().to_owned()
        }
    }

    fn cstr(p: *const c_char) -> &'static str {
        assert!(!p.is_null());
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn flat_size_ok_and_errors() {
        let mut words = 77u64;
        unsafe {
            assert_eq!(
                memacct_flat_size(OK_ABC.as_ptr(), OK_ABC.len(), &mut words),
                MEMACCT_OK
            );
            assert_eq!(words, 6);
            words = 77;
            assert_eq!(
                memacct_flat_size(OK_ABC.as_ptr(), 2, &mut words),
                MEMACCT_TRUNCATED
            );
            assert_eq!(words, 77, "out untouched on error");
            assert!(last_error().starts_with("truncated: "), "{}", last_error());
            assert_eq!(
                memacct_flat_size(std::ptr::null(), 0, &mut words),
                MEMACCT_EMPTY
            );
            assert_eq!(
                memacct_flat_size(OK_ABC.as_ptr(), 0, &mut words),
                MEMACCT_EMPTY
            );
            assert_eq!(
                memacct_flat_size(std::ptr::null(), 4, &mut words),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                last_error(),
                "null_pointer: `etf` is NULL but its length is 4"
            );
            assert_eq!(
                memacct_flat_size(OK_ABC.as_ptr(), OK_ABC.len(), std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(last_error(), "null_pointer: `out_words` is NULL");
            assert_eq!(
                memacct_flat_size(OK_ABC.as_ptr(), usize::MAX, &mut words),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_flat_size([131u8, 1].as_ptr(), 2, &mut words),
                MEMACCT_UNKNOWN_TAG
            );
            assert_eq!(
                memacct_flat_size([7u8, 97, 1].as_ptr(), 3, &mut words),
                MEMACCT_BAD_VERSION
            );
            assert_eq!(words, 77);
        }
    }

    #[test]
    fn term_size_report() {
        let mut r = memacct_size_report::default();
        unsafe {
            assert_eq!(
                memacct_term_size(OK_ABC.as_ptr(), OK_ABC.len(), std::ptr::null(), &mut r),
                MEMACCT_OK
            );
        }
        assert_eq!(
            (r.words, r.bytes, r.off_heap_bytes, r.refc_binaries),
            (6, 48, 0, 0)
        );
        assert_eq!((r.nodes, r.max_depth), (3, 2));
        assert_eq!(r.by_kind[memacct_kind::MEMACCT_KIND_TUPLE as usize], 3);
        assert_eq!(
            r.by_kind[memacct_kind::MEMACCT_KIND_HEAP_BINARY as usize],
            3
        );
        assert_eq!(r.by_kind.iter().sum::<u64>(), r.words);

        // A refc binary: {<<0:65/unit:8>>}
        let mut etf = vec![131, 104, 1, 109, 0, 0, 0, 65];
        etf.extend([0u8; 65]);
        unsafe {
            assert_eq!(
                memacct_term_size(etf.as_ptr(), etf.len(), std::ptr::null(), &mut r),
                MEMACCT_OK
            );
        }
        assert_eq!((r.words, r.off_heap_bytes, r.refc_binaries), (2 + 6, 65, 1));
        assert_eq!(
            r.by_kind[memacct_kind::MEMACCT_KIND_REFC_BINARY as usize],
            6
        );

        let before = r;
        unsafe {
            assert_eq!(
                memacct_term_size(etf.as_ptr(), 2, std::ptr::null(), &mut r),
                MEMACCT_TRUNCATED
            );
            assert_eq!(r, before, "out untouched on error");
            assert_eq!(
                memacct_term_size(
                    etf.as_ptr(),
                    etf.len(),
                    std::ptr::null(),
                    std::ptr::null_mut()
                ),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_term_size(std::ptr::null(), 1, std::ptr::null(), &mut r),
                MEMACCT_NULL_POINTER
            );
        }
    }

    #[test]
    fn term_size_uses_the_options() {
        let o = memacct_size_options_new();
        let mut r = memacct_size_report::default();
        unsafe {
            // {{{a}}} is 3 levels deep.
            let etf = [131u8, 104, 1, 104, 1, 104, 1, 119, 1, b'a'];
            assert_eq!(memacct_size_options_set_max_depth(o, 2), MEMACCT_OK);
            assert_eq!(
                memacct_term_size(etf.as_ptr(), etf.len(), o, &mut r),
                MEMACCT_TOO_DEEP
            );
            assert_eq!(memacct_size_options_set_max_depth(o, 4), MEMACCT_OK);
            assert_eq!(
                memacct_term_size(etf.as_ptr(), etf.len(), o, &mut r),
                MEMACCT_OK
            );
            assert_eq!((r.words, r.max_depth), (6, 4));

            // A pid of node 'a@b' creation 1: external (4 words) unless a@b/1 is local.
            let mut pid = vec![131u8, 88, 119, 3, b'a', b'@', b'b'];
            pid.extend([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
            assert_eq!(
                memacct_term_size(pid.as_ptr(), pid.len(), o, &mut r),
                MEMACCT_OK
            );
            assert_eq!(r.words, 4);
            assert_eq!(
                r.by_kind[memacct_kind::MEMACCT_KIND_EXTERNAL_PID as usize],
                4
            );
            assert_eq!(
                memacct_size_options_set_local_node(o, c"a@b".as_ptr(), 3, 1),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_term_size(pid.as_ptr(), pid.len(), o, &mut r),
                MEMACCT_OK
            );
            assert_eq!(r.words, 0);
            memacct_size_options_free(o);
        }
    }

    #[test]
    fn kind_names_follow_the_core() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(cstr(memacct_kind_name(i as u32)), k.name());
        }
        assert!(memacct_kind_name(MEMACCT_KIND_COUNT as u32).is_null());
        assert!(memacct_kind_name(u32::MAX).is_null());
        let all = [
            memacct_kind::MEMACCT_KIND_TUPLE,
            memacct_kind::MEMACCT_KIND_LIST,
            memacct_kind::MEMACCT_KIND_MAP,
            memacct_kind::MEMACCT_KIND_HEAP_BINARY,
            memacct_kind::MEMACCT_KIND_REFC_BINARY,
            memacct_kind::MEMACCT_KIND_SUB_BINARY,
            memacct_kind::MEMACCT_KIND_BIGNUM,
            memacct_kind::MEMACCT_KIND_FLOAT,
            memacct_kind::MEMACCT_KIND_FUN,
            memacct_kind::MEMACCT_KIND_EXTERNAL_PID,
            memacct_kind::MEMACCT_KIND_EXTERNAL_PORT,
            memacct_kind::MEMACCT_KIND_EXTERNAL_REF,
            memacct_kind::MEMACCT_KIND_LOCAL_REF,
        ];
        for (i, k) in all.into_iter().enumerate() {
            assert_eq!(k as usize, i);
            let name = cstr(memacct_kind_name(k as u32));
            assert_eq!(
                format!("{k:?}"),
                format!("MEMACCT_KIND_{}", name.to_uppercase())
            );
        }
    }

    #[test]
    fn status_names_and_version() {
        assert_eq!(cstr(memacct_status_name(0)), "ok");
        assert_eq!(
            cstr(memacct_status_name(MEMACCT_NEEDS_VM as u32)),
            "needs_vm"
        );
        assert_eq!(cstr(memacct_status_name(MEMACCT_PANIC as u32)), "panic");
        assert_eq!(
            cstr(memacct_status_name(MEMACCT_INVALID_OPTION as u32)),
            "invalid_option"
        );
        assert_eq!(MEMACCT_INVALID_OPTION as u32, 21);
        assert_eq!(cstr(memacct_status_name(MEMACCT_IO as u32)), "io");
        assert_eq!(MEMACCT_IO as u32, 25);
        assert_eq!(
            cstr(memacct_status_name(MEMACCT_BAD_SNAPSHOT as u32)),
            "bad_snapshot"
        );
        assert_eq!(MEMACCT_BAD_SNAPSHOT as u32, 26);
        assert!(memacct_status_name(27).is_null());
        assert!(memacct_status_name(99).is_null());
        assert!(memacct_status_name(u32::MAX).is_null());
        assert_eq!(cstr(memacct_version()), env!("CARGO_PKG_VERSION"));
    }
}
