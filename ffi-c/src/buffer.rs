//! Library-owned byte buffers: how blobs and serialized dictionaries leave the
//! library.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::Failure;

/// Bytes allocated by libmemacct and owned by the caller until released with
/// `memacct_buffer_free` (never with `free()`: the allocation belongs to the
/// library's allocator).
///
/// Functions that produce bytes (`memacct_compress`, `memacct_decompress`,
/// `memacct_dictionary_to_bytes`) take a `memacct_buffer *out`. They overwrite
/// `*out` on entry with `{NULL, 0}` *without* reading or freeing what it held,
/// so a buffer still holding bytes must be freed before it is reused, or those
/// bytes leak. On success `*out` holds the result (`data` is non-NULL when `len`
/// is non-zero); on failure it stays `{NULL, 0}`. Either way it is safe to pass
/// to `memacct_buffer_free`, so a caller can release it unconditionally:
///
/// ```c
/// memacct_buffer blob = {0};
/// if (memacct_compress(etf, etf_len, NULL, &blob) == MEMACCT_OK) { use(blob.data, blob.len); }
/// memacct_buffer_free(&blob);
/// ```
///
/// The caller may modify the bytes in place, but must not change `data` or
/// `len` before freeing. A buffer is a plain value: any thread may read or
/// free it, once.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct memacct_buffer {
    /// The bytes; NULL when `len` is 0.
    pub data: *mut u8,
    /// Number of bytes at `data`.
    pub len: usize,
}

impl memacct_buffer {
    /// `{NULL, 0}`. (A function, not an associated const, which cbindgen would
    /// try to export.)
    pub(crate) const fn empty() -> memacct_buffer {
        memacct_buffer {
            data: std::ptr::null_mut(),
            len: 0,
        }
    }

    /// Hands `bytes` over to the caller (released by `memacct_buffer_free`,
    /// which rebuilds the same `Box<[u8]>`). Empty output allocates nothing.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> memacct_buffer {
        if bytes.is_empty() {
            return memacct_buffer::empty();
        }
        let boxed: Box<[u8]> = bytes.into_boxed_slice();
        let len = boxed.len();
        memacct_buffer {
            data: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }
}

/// Resets the caller's out-buffer to `{NULL, 0}` and borrows it for the
/// result; a NULL `out` is `MEMACCT_NULL_POINTER`. Every function producing a
/// buffer calls this first, so the buffer is empty whatever fails later.
///
/// # Safety
/// `out` is NULL or valid for one `memacct_buffer` write, and does not overlap
/// any input of the call.
pub(crate) unsafe fn out_buffer<'a>(
    out: *mut memacct_buffer,
) -> Result<&'a mut memacct_buffer, Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    // SAFETY: non-NULL and writable per the contract; the old value is not
    // read (it may be uninitialized).
    unsafe {
        out.write(memacct_buffer::empty());
        Ok(&mut *out)
    }
}

/// Releases the bytes of a buffer filled by libmemacct and resets it to
/// `{NULL, 0}`. NULL, a zeroed buffer and an already-freed buffer are no-ops,
/// so calling it twice on the same buffer is safe.
///
/// # Safety
/// `buf` is NULL or points to a `memacct_buffer` that is `{NULL, 0}` or was
/// filled by a libmemacct function, with `data` and `len` as returned, and that
/// no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn memacct_buffer_free(buf: *mut memacct_buffer) {
    if buf.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: non-NULL and valid per the contract.
        let buf = unsafe { &mut *buf };
        let taken = std::mem::replace(buf, memacct_buffer::empty());
        if !taken.data.is_null() {
            let raw = std::ptr::slice_from_raw_parts_mut(taken.data, taken.len);
            // SAFETY: per the contract, `data`/`len` came from `from_vec`'s
            // `Box::into_raw` of a `Box<[u8]>` of exactly `len` bytes.
            drop(unsafe { Box::from_raw(raw) });
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::memacct_status::*;

    #[test]
    fn from_vec_and_free_pair() {
        let mut b = memacct_buffer::from_vec(vec![1, 2, 3]);
        assert!(!b.data.is_null());
        assert_eq!(
            unsafe { std::slice::from_raw_parts(b.data, b.len) },
            [1, 2, 3]
        );
        unsafe {
            memacct_buffer_free(&mut b);
            assert!(b.data.is_null() && b.len == 0);
            memacct_buffer_free(&mut b); // idempotent
            memacct_buffer_free(std::ptr::null_mut());
        }
        let mut e = memacct_buffer::from_vec(Vec::new());
        assert!(e.data.is_null() && e.len == 0);
        unsafe { memacct_buffer_free(&mut e) };
    }

    #[test]
    fn out_buffer_resets_and_rejects_null() {
        let mut junk = memacct_buffer {
            data: 0x1234 as *mut u8,
            len: 99,
        };
        let b = unsafe { out_buffer(&mut junk) }.unwrap();
        assert!(b.data.is_null() && b.len == 0);
        let e = unsafe { out_buffer(std::ptr::null_mut()) }.unwrap_err();
        assert_eq!(e.status, MEMACCT_NULL_POINTER);
        assert_eq!(e.message, "null_pointer: `out` is NULL");
    }
}
