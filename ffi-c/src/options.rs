//! The opaque sizing-options handle.

use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use memacct_core::{LocalNode, SizeOptions};

use crate::args::text;
use crate::status::{guard, memacct_status, Failure};

/// Options for `memacct_term_size`: which node counts as local, the atom
/// words of the sizing VM, and the input limits. Opaque; create it with
/// `memacct_size_options_new` and release it with `memacct_size_options_free`.
///
/// Defaults: no local node (every pid, port and reference is sized as external,
/// as `binary_to_term` builds it on any other node), no atom words, `max_depth`
/// 100000, `inflate_limit` 1 GiB.
///
/// A handle may be read by several threads at once (passed to
/// `memacct_term_size`), but must not be mutated (setters, free) while any other
/// thread uses it.
#[allow(non_camel_case_types)]
pub struct memacct_size_options {
    pub(crate) inner: SizeOptions,
}

impl memacct_size_options {
    /// Defaults for the C surface (no per-field report: the C out-struct has no room for it).
    pub(crate) fn defaults() -> SizeOptions {
        SizeOptions {
            fields: false,
            ..SizeOptions::default()
        }
    }
}

/// Borrows the handle behind `opts` mutably, or fails with `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `opts` is NULL or a live handle from `memacct_size_options_new` used by no other thread.
unsafe fn handle<'a>(opts: *mut memacct_size_options) -> Result<&'a mut SizeOptions, Failure> {
    // SAFETY: per this function's contract.
    unsafe { opts.as_mut() }
        .map(|o| &mut o.inner)
        .ok_or_else(|| Failure::null("opts"))
}

/// Creates an options handle with the defaults. The caller owns it and must
/// release it with `memacct_size_options_free`. Returns NULL only if an
/// internal error occurred (allocation failure aborts the process, as in Rust).
#[no_mangle]
pub extern "C" fn memacct_size_options_new() -> *mut memacct_size_options {
    catch_unwind(|| {
        Box::into_raw(Box::new(memacct_size_options {
            inner: memacct_size_options::defaults(),
        }))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Releases a handle from `memacct_size_options_new`. NULL is a no-op. The
/// handle must not be used afterwards, nor freed twice.
///
/// # Safety
/// `opts` is NULL or a handle from `memacct_size_options_new` that has not been
/// freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn memacct_size_options_free(opts: *mut memacct_size_options) {
    if opts.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `opts` came from Box::into_raw.
        drop(unsafe { Box::from_raw(opts) });
    }));
}

/// Sets the node that counts as local (the node `binary_to_term` would run
/// on): pids, ports and references with this node name and creation are sized
/// as local. `name_utf8` points to `name_len` bytes of UTF-8, not necessarily
/// NUL-terminated (e.g. `"app@host"`); the bytes are copied. An empty name is
/// `MEMACCT_INVALID_ARGUMENT`. On failure the handle is unchanged.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread; `name_utf8` is
/// NULL or valid for `name_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn memacct_size_options_set_local_node(
    opts: *mut memacct_size_options,
    name_utf8: *const c_char,
    name_len: usize,
    creation: u32,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { handle(opts) }?;
        let name = unsafe { text(name_utf8, name_len, "name_utf8") }?;
        if name.is_empty() {
            return Err(Failure::invalid("the local node name is empty"));
        }
        opts.local_node = Some(LocalNode {
            name: name.to_owned(),
            creation,
        });
        Ok(())
    })
}

/// Records the sizing VM's word for one atom (`index << 6 | 0x0B`, as
/// `memacct:atom_words/1` reports it). Needed only for atoms inside keys of
/// maps with more than 32 keys; without it such maps are `MEMACCT_NEEDS_VM`.
/// `name_utf8` points to `name_len` bytes of UTF-8 (the atom's text, which may
/// be empty: NULL with length 0 is the atom `''`); the bytes are copied. A
/// second call for the same atom replaces the word. A word whose low six bits
/// are not `0x0B` is `MEMACCT_INVALID_ARGUMENT`. On failure the handle is unchanged.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread; `name_utf8` is
/// NULL or valid for `name_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn memacct_size_options_add_atom_word(
    opts: *mut memacct_size_options,
    name_utf8: *const c_char,
    name_len: usize,
    word: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { handle(opts) }?;
        let name = unsafe { text(name_utf8, name_len, "name_utf8") }?;
        // Core's rule and message; the status stays an argument error.
        memacct_core::check_atom_word(name, word)
            .map_err(|e| Failure::invalid(format_args!("{e}")))?;
        opts.atom_words.insert(name.to_owned(), word);
        Ok(())
    })
}

/// Sets the deepest nesting accepted before `MEMACCT_TOO_DEEP` (a lone atom is
/// depth 1, `{a}` depth 2). Default 100000.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_size_options_set_max_depth(
    opts: *mut memacct_size_options,
    max_depth: u32,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.max_depth = max_depth;
        Ok(())
    })
}

/// Sets the most bytes a compressed term (`term_to_binary(T, [compressed])`)
/// may inflate to before `MEMACCT_INFLATE_LIMIT`. Default 1 GiB (1073741824).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_size_options_set_inflate_limit(
    opts: *mut memacct_size_options,
    inflate_limit: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.inflate_limit = inflate_limit;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use memacct_status::*;

    #[test]
    fn lifecycle_and_setters() {
        let o = memacct_size_options_new();
        assert!(!o.is_null());
        unsafe {
            let name = "app@host";
            assert_eq!(
                memacct_size_options_set_local_node(o, name.as_ptr().cast(), name.len(), 7),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_size_options_add_atom_word(o, "k1".as_ptr().cast(), 2, 864779),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_size_options_add_atom_word(o, std::ptr::null(), 0, 331),
                MEMACCT_OK
            );
            assert_eq!(memacct_size_options_set_max_depth(o, 5), MEMACCT_OK);
            assert_eq!(memacct_size_options_set_inflate_limit(o, 99), MEMACCT_OK);
            let inner = &(*o).inner;
            assert_eq!(
                inner.local_node,
                Some(LocalNode {
                    name: name.into(),
                    creation: 7
                })
            );
            assert_eq!(inner.atom_words.get("k1"), Some(&864779));
            assert_eq!(inner.atom_words.get(""), Some(&331));
            assert_eq!((inner.max_depth, inner.inflate_limit), (5, 99));
            assert!(!inner.fields);
            memacct_size_options_free(o);
            memacct_size_options_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn bad_arguments_leave_the_handle_unchanged() {
        let o = memacct_size_options_new();
        unsafe {
            let null = std::ptr::null_mut();
            assert_eq!(
                memacct_size_options_set_max_depth(null, 5),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_size_options_set_inflate_limit(null, 5),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_size_options_set_local_node(null, "a@b".as_ptr().cast(), 3, 0),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_size_options_add_atom_word(null, "a".as_ptr().cast(), 1, 11),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_size_options_set_local_node(o, std::ptr::null(), 3, 0),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_size_options_set_local_node(o, "x".as_ptr().cast(), 0, 0),
                MEMACCT_INVALID_ARGUMENT
            );
            let bad_utf8 = [0xC3u8, 0x28];
            assert_eq!(
                memacct_size_options_set_local_node(o, bad_utf8.as_ptr().cast(), 2, 0),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_size_options_add_atom_word(o, bad_utf8.as_ptr().cast(), 2, 11),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_size_options_add_atom_word(o, "a".as_ptr().cast(), 1, 12),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_size_options_add_atom_word(o, "a".as_ptr().cast(), usize::MAX, 11),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!((*o).inner, memacct_size_options::defaults());
            memacct_size_options_free(o);
        }
    }
}
