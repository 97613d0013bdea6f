//! The opaque, reference-counted dictionary handle.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use memacct_core::codec::{Dictionary, DEFAULT_DICTIONARY_BYTES, DICTIONARY_BYTES_RANGE};

use crate::args::{self, array};
use crate::buffer::{memacct_buffer, out_buffer};
use crate::status::{guard, memacct_status, Failure};

/// The dictionary size `memacct_dictionary_train` uses when `max_bytes` is 0
/// (32 KiB): where the measured gain on MCP connection states levels off.
pub const MEMACCT_DICTIONARY_DEFAULT_BYTES: usize = 32768;
/// The smallest `max_bytes` `memacct_dictionary_train` accepts (other than 0).
pub const MEMACCT_DICTIONARY_MIN_BYTES: usize = 256;
/// The largest `max_bytes` `memacct_dictionary_train` accepts (16 MiB).
pub const MEMACCT_DICTIONARY_MAX_BYTES: usize = 16777216;

/// A trained compact-state dictionary: a seed atom table plus a zstd
/// dictionary, under one id written in every blob made with it. Opaque; made by
/// `memacct_dictionary_train` or `memacct_dictionary_load`, released with
/// `memacct_dictionary_free`.
///
/// A dictionary is immutable: any number of threads may use one handle at
/// once (compress, decompress, `memacct_dictionary_to_bytes`,
/// `memacct_dictionary_id`). It is reference-counted: a codec options handle
/// that names it (`memacct_codec_options_set_dictionary`) keeps its own
/// reference, so the caller may free the dictionary handle while options still
/// use it; the memory goes when the last user releases it.
#[allow(non_camel_case_types)]
pub struct memacct_dictionary {
    pub(crate) inner: Dictionary,
}

/// A new handle (strong count 1) for `dictionary`.
fn into_handle(dictionary: Dictionary) -> *mut memacct_dictionary {
    Arc::into_raw(Arc::new(memacct_dictionary { inner: dictionary })).cast_mut()
}

/// A new strong reference to the dictionary behind a handle.
///
/// # Safety
/// `dict` is a live handle from `memacct_dictionary_train` or `memacct_dictionary_load`.
pub(crate) unsafe fn share(dict: *const memacct_dictionary) -> Arc<memacct_dictionary> {
    // SAFETY: per this function's contract, `dict` came from `Arc::into_raw`
    // and its count is at least 1; the new count is owned by the returned Arc.
    unsafe {
        Arc::increment_strong_count(dict);
        Arc::from_raw(dict)
    }
}

/// Resets `*out` to NULL and returns it; NULL `out` is `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn out_handle<'a>(
    out: *mut *mut memacct_dictionary,
) -> Result<&'a mut *mut memacct_dictionary, Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    // SAFETY: non-NULL and writable per the contract; the old value is not read.
    unsafe {
        out.write(std::ptr::null_mut());
        Ok(&mut *out)
    }
}

/// Trains a dictionary from `count` sample terms: sample `i` is the
/// `lens[i]` bytes of ETF at `samples[i]` (typically `term_to_binary/1` of
/// connection states like those it will compress; compressed ETF accepted).
/// `max_bytes` bounds the dictionary's zstd part: 0 selects
/// `MEMACCT_DICTIONARY_DEFAULT_BYTES`; otherwise it must lie in
/// `MEMACCT_DICTIONARY_MIN_BYTES..=MEMACCT_DICTIONARY_MAX_BYTES`
/// (`MEMACCT_INVALID_OPTION`). Training is deterministic: the same samples and
/// `max_bytes` give the same dictionary, with the same id, on every platform
/// with the same library version.
///
/// The samples are only read during the call. `*out` is set to NULL on entry;
/// on success it receives a new handle owned by the caller (release it with
/// `memacct_dictionary_free`). No samples is `MEMACCT_BAD_DICTIONARY`; a sample
/// that is not valid ETF gives that sample's error (`MEMACCT_TRUNCATED`, ...);
/// a NULL `samples`/`lens` array with `count > 0`, or a NULL sample with a
/// non-zero length, is `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `samples` and `lens` are NULL or valid for `count` reads each; every
/// `samples[i]` is NULL or valid for `lens[i]` readable bytes; `out` is NULL or
/// valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn memacct_dictionary_train(
    samples: *const *const u8,
    lens: *const usize,
    count: usize,
    max_bytes: usize,
    out: *mut *mut memacct_dictionary,
) -> memacct_status {
    // The header's constants are the core's.
    const _: () = {
        assert!(MEMACCT_DICTIONARY_DEFAULT_BYTES == DEFAULT_DICTIONARY_BYTES);
        assert!(MEMACCT_DICTIONARY_MIN_BYTES == *DICTIONARY_BYTES_RANGE.start());
        assert!(MEMACCT_DICTIONARY_MAX_BYTES == *DICTIONARY_BYTES_RANGE.end());
    };
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_handle(out) }?;
        let ptrs = unsafe { array(samples, count, "samples") }?;
        let lens = unsafe { array(lens, count, "lens") }?;
        let mut refs = Vec::with_capacity(count);
        for (i, (&p, &n)) in ptrs.iter().zip(lens).enumerate() {
            // SAFETY: per this function's contract.
            refs.push(unsafe { args::bytes(p, n, &format!("samples[{i}]")) }?);
        }
        let max_bytes = if max_bytes == 0 {
            MEMACCT_DICTIONARY_DEFAULT_BYTES
        } else {
            max_bytes
        };
        *out = into_handle(Dictionary::train(&refs, max_bytes)?);
        Ok(())
    })
}

/// Loads a dictionary serialized by `memacct_dictionary_to_bytes` (or any
/// other memacct surface: the format is shared), checking it whole: malformed
/// or corrupt bytes are `MEMACCT_BAD_DICTIONARY`. The bytes are only read
/// during the call (the handle holds its own copy).
///
/// `*out` is set to NULL on entry; on success it receives a new handle owned by
/// the caller (release it with `memacct_dictionary_free`).
///
/// # Safety
/// `bytes` is NULL or valid for `len` readable bytes; `out` is NULL or valid
/// for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn memacct_dictionary_load(
    bytes: *const u8,
    len: usize,
    out: *mut *mut memacct_dictionary,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_handle(out) }?;
        let raw = unsafe { args::bytes(bytes, len, "bytes") }?;
        *out = into_handle(Dictionary::from_bytes(raw)?);
        Ok(())
    })
}

/// Serializes a dictionary (to store it, or to load it in another process or
/// surface with the same id) into `*out`, a library-owned buffer: see
/// `memacct_buffer` (reset to `{NULL, 0}` on entry; release it with
/// `memacct_buffer_free`).
///
/// # Safety
/// `dict` is NULL or a live handle; `out` is NULL or valid for one
/// `memacct_buffer` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_dictionary_to_bytes(
    dict: *const memacct_dictionary,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let dict = unsafe { dict.as_ref() }.ok_or_else(|| Failure::null("dict"))?;
        *out = memacct_buffer::from_vec(dict.inner.to_bytes());
        Ok(())
    })
}

/// The dictionary's id: a non-zero content hash, written in every blob made
/// with it (`memacct_blob_header.dictionary_id`). Returns 0 for NULL.
///
/// # Safety
/// `dict` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn memacct_dictionary_id(dict: *const memacct_dictionary) -> u32 {
    // SAFETY: per this function's contract.
    unsafe { dict.as_ref() }.map_or(0, |d| d.inner.id())
}

/// Releases the caller's reference to a dictionary. NULL is a no-op. The handle
/// must not be used afterwards, nor freed twice; codec options that hold the
/// dictionary keep it alive until they drop it.
///
/// # Safety
/// `dict` is NULL or a handle from `memacct_dictionary_train` or
/// `memacct_dictionary_load` that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn memacct_dictionary_free(dict: *mut memacct_dictionary) {
    if dict.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `dict` came from `Arc::into_raw`
        // and this releases the caller's one reference.
        drop(unsafe { Arc::from_raw(dict.cast_const()) });
    }));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::buffer::memacct_buffer_free;
    use crate::status::memacct_status::*;

    /// `term_to_binary(#{id => <<"sess-N">>, n => [1, 2, N]})`, hand-built.
    pub(crate) fn sample(i: u8) -> Vec<u8> {
        let mut v = vec![131, 116, 0, 0, 0, 2, 100, 0, 2, b'i', b'd', 109, 0, 0, 0, 6];
        v.extend_from_slice(b"sess-");
        v.push(b'0' + i % 10);
        v.extend_from_slice(&[100, 0, 1, b'n', 107, 0, 3, 1, 2, i]);
        v
    }

    /// A dictionary trained on 30 samples through the C entry point.
    pub(crate) fn trained() -> *mut memacct_dictionary {
        let samples: Vec<Vec<u8>> = (0..30).map(sample).collect();
        let ptrs: Vec<*const u8> = samples.iter().map(|s| s.as_ptr()).collect();
        let lens: Vec<usize> = samples.iter().map(Vec::len).collect();
        let mut d = std::ptr::null_mut();
        let s = unsafe { memacct_dictionary_train(ptrs.as_ptr(), lens.as_ptr(), 30, 1024, &mut d) };
        assert_eq!(s, MEMACCT_OK);
        assert!(!d.is_null());
        d
    }

    #[test]
    fn train_serialize_load_keeps_the_id() {
        let d = trained();
        unsafe {
            let id = memacct_dictionary_id(d);
            assert_ne!(id, 0);
            let mut buf = memacct_buffer::empty();
            assert_eq!(memacct_dictionary_to_bytes(d, &mut buf), MEMACCT_OK);
            assert!(!buf.data.is_null() && buf.len > 13);
            let mut again = std::ptr::null_mut();
            assert_eq!(
                memacct_dictionary_load(buf.data, buf.len, &mut again),
                MEMACCT_OK
            );
            assert_eq!(memacct_dictionary_id(again), id);
            assert_eq!((*again).inner, (*d).inner);

            // One flipped byte: a checked error, and *out stays NULL.
            *buf.data.add(buf.len / 2) ^= 0x40;
            let mut bad = 0x10 as *mut memacct_dictionary;
            assert_eq!(
                memacct_dictionary_load(buf.data, buf.len, &mut bad),
                MEMACCT_BAD_DICTIONARY
            );
            assert!(bad.is_null());
            memacct_buffer_free(&mut buf);
            memacct_dictionary_free(again);
            memacct_dictionary_free(d);
            memacct_dictionary_free(std::ptr::null_mut());
            assert_eq!(memacct_dictionary_id(std::ptr::null()), 0);
        }
    }

    #[test]
    fn train_arguments() {
        let a = sample(1);
        let ptrs = [a.as_ptr(), std::ptr::null()];
        let lens = [a.len(), 5];
        let mut d = 0x10 as *mut memacct_dictionary;
        let (no_samples, no_lens) = (std::ptr::null(), std::ptr::null());
        unsafe {
            assert_eq!(
                memacct_dictionary_train(no_samples, lens.as_ptr(), 1, 0, &mut d),
                MEMACCT_NULL_POINTER
            );
            assert!(d.is_null(), "out reset on entry");
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), no_lens, 1, 0, &mut d),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), lens.as_ptr(), 2, 0, &mut d),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), lens.as_ptr(), 1, 0, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_dictionary_train(no_samples, no_lens, 0, 0, &mut d),
                MEMACCT_BAD_DICTIONARY
            );
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), lens.as_ptr(), 1, 255, &mut d),
                MEMACCT_INVALID_OPTION
            );
            assert_eq!(
                memacct_dictionary_train(
                    ptrs.as_ptr(),
                    lens.as_ptr(),
                    1,
                    MEMACCT_DICTIONARY_MAX_BYTES + 1,
                    &mut d
                ),
                MEMACCT_INVALID_OPTION
            );
            let short = [a.len() - 3];
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), short.as_ptr(), 1, 0, &mut d),
                MEMACCT_TRUNCATED
            );
            assert!(d.is_null());
            assert_eq!(
                memacct_dictionary_train(ptrs.as_ptr(), lens.as_ptr(), 1, 0, &mut d),
                MEMACCT_OK
            );
            memacct_dictionary_free(d);
        }
    }

    #[test]
    fn load_arguments() {
        let mut d = 0x10 as *mut memacct_dictionary;
        let mut buf = memacct_buffer::empty();
        unsafe {
            assert_eq!(
                memacct_dictionary_load(std::ptr::null(), 3, &mut d),
                MEMACCT_NULL_POINTER
            );
            assert!(d.is_null());
            assert_eq!(
                memacct_dictionary_load(std::ptr::null(), 0, &mut d),
                MEMACCT_BAD_DICTIONARY
            );
            assert_eq!(
                memacct_dictionary_load(b"MAcd".as_ptr(), 4, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_dictionary_to_bytes(std::ptr::null(), &mut buf),
                MEMACCT_NULL_POINTER
            );
            assert!(buf.data.is_null() && buf.len == 0);
        }
    }
}
