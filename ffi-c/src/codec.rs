//! Compact state: compress, decompress and inspect blobs, and the opaque
//! codec-options handle.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use memacct_core::codec::{self, CompressOptions, DecompressOptions};

use crate::args::bytes;
use crate::buffer::{memacct_buffer, out_buffer};
use crate::dictionary::{self, memacct_dictionary};
use crate::status::{guard, memacct_status, Failure};

/// Options for `memacct_compress` and `memacct_decompress`: the dictionary,
/// the compression level and the size limits. Opaque; create it with
/// `memacct_codec_options_new` and release it with `memacct_codec_options_free`.
/// Passing NULL instead of a handle means the defaults.
///
/// Defaults: no dictionary, level 3, `max_output` 256 MiB, `inflate_limit`
/// 1 GiB.
///
/// A handle may be read by several threads at once (passed to compress or
/// decompress), but must not be mutated (setters, free) while any other thread
/// uses it.
#[allow(non_camel_case_types)]
pub struct memacct_codec_options {
    /// The options' own reference to the dictionary, if any.
    dictionary: Option<Arc<memacct_dictionary>>,
    level: i32,
    max_output: usize,
    inflate_limit: u64,
    format: u8,
}

impl Default for memacct_codec_options {
    fn default() -> Self {
        let c = CompressOptions::default();
        let d = DecompressOptions::default();
        memacct_codec_options {
            dictionary: None,
            level: c.level,
            max_output: d.max_output,
            inflate_limit: c.inflate_limit,
            format: c.format,
        }
    }
}

impl memacct_codec_options {
    fn compress(&self) -> CompressOptions<'_> {
        CompressOptions {
            dictionary: self.dictionary.as_deref().map(|d| &d.inner),
            level: self.level,
            inflate_limit: self.inflate_limit,
            format: self.format,
            ..CompressOptions::default()
        }
    }

    fn decompress(&self) -> DecompressOptions<'_> {
        DecompressOptions {
            dictionary: self.dictionary.as_deref().map(|d| &d.inner),
            max_output: self.max_output,
        }
    }
}

/// What a blob's header says (the out-struct of `memacct_blob_info`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct memacct_blob_header {
    /// Id of the dictionary the blob was made with (`memacct_dictionary_id`);
    /// 0 when it was made without one.
    pub dictionary_id: u32,
    /// Blob format version (1 or 2).
    pub version: u8,
    /// Whether the input given to `memacct_compress` was zlib-compressed ETF
    /// (`term_to_binary(T, [compressed])`); the blob decodes to the inflated form.
    pub input_was_compressed: bool,
    /// Length of the ETF the blob decodes to, as the header claims it
    /// (checked when decoding).
    pub etf_len: u64,
    /// Length of the whole blob (the `len` passed in).
    pub blob_len: usize,
}

/// Borrows the handle behind `opts` mutably, or fails with `MEMACCT_NULL_POINTER`.
///
/// # Safety
/// `opts` is NULL or a live handle from `memacct_codec_options_new` used by no other thread.
unsafe fn handle<'a>(
    opts: *mut memacct_codec_options,
) -> Result<&'a mut memacct_codec_options, Failure> {
    // SAFETY: per this function's contract.
    unsafe { opts.as_mut() }.ok_or_else(|| Failure::null("opts"))
}

/// Creates a codec options handle with the defaults. The caller owns it and
/// must release it with `memacct_codec_options_free`. Returns NULL only if an
/// internal error occurred (allocation failure aborts the process, as in Rust).
#[no_mangle]
pub extern "C" fn memacct_codec_options_new() -> *mut memacct_codec_options {
    catch_unwind(|| Box::into_raw(Box::<memacct_codec_options>::default()))
        .unwrap_or(std::ptr::null_mut())
}

/// Releases a handle from `memacct_codec_options_new`, and with it the
/// handle's reference to its dictionary. NULL is a no-op. The handle must not
/// be used afterwards, nor freed twice.
///
/// # Safety
/// `opts` is NULL or a handle from `memacct_codec_options_new` that has not
/// been freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_free(opts: *mut memacct_codec_options) {
    if opts.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per this function's contract, `opts` came from Box::into_raw.
        drop(unsafe { Box::from_raw(opts) });
    }));
}

/// Sets the dictionary to compress with (its id is written in every blob) and
/// to decompress with (a blob made with a dictionary needs the same one:
/// otherwise `MEMACCT_DICTIONARY_REQUIRED` or `MEMACCT_DICTIONARY_MISMATCH`).
/// NULL removes the dictionary. The options take their own reference: the
/// caller may free `dict` at any time afterwards; it lives until these options
/// are freed or given another dictionary.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread; `dict` is NULL
/// or a live dictionary handle.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_set_dictionary(
    opts: *mut memacct_codec_options,
    dict: *const memacct_dictionary,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let opts = unsafe { handle(opts) }?;
        opts.dictionary = (!dict.is_null()).then(|| unsafe { dictionary::share(dict) });
        Ok(())
    })
}

/// Sets the zstd compression level `memacct_compress` uses: 1 (fastest) to 22
/// (smallest). Default 3. The value is checked by `memacct_compress`, which
/// rejects a level outside that range with `MEMACCT_INVALID_OPTION`. Decoding
/// does not depend on the level.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_set_level(
    opts: *mut memacct_codec_options,
    level: i32,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.level = level;
        Ok(())
    })
}

/// Sets the blob format `memacct_compress` writes: 2 (the default, the
/// newest) or 1, for readers built before format 2 (memacct 0.1 before
/// 2026-11-23; slower and no smaller). Checked by `memacct_compress`, which
/// rejects any other value with `MEMACCT_INVALID_OPTION`. Decoding reads both.
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_set_format(
    opts: *mut memacct_codec_options,
    format: u8,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.format = format;
        Ok(())
    })
}

/// Sets the most bytes `memacct_decompress` may produce (the decoded ETF and
/// format 1's intermediate structural stage) before `MEMACCT_INFLATE_LIMIT`. The
/// limit is checked against the blob's header before anything is allocated.
/// Default 256 MiB (268435456).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_set_max_output(
    opts: *mut memacct_codec_options,
    max_output: usize,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.max_output = max_output;
        Ok(())
    })
}

/// Sets the most bytes a zlib-compressed ETF input of `memacct_compress`
/// (`term_to_binary(T, [compressed])`) may inflate to before
/// `MEMACCT_INFLATE_LIMIT`. Default 1 GiB (1073741824).
///
/// # Safety
/// `opts` is NULL or a live handle not used by another thread.
#[no_mangle]
pub unsafe extern "C" fn memacct_codec_options_set_inflate_limit(
    opts: *mut memacct_codec_options,
    inflate_limit: u64,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        unsafe { handle(opts) }?.inflate_limit = inflate_limit;
        Ok(())
    })
}

/// Compresses the term in `etf` into a compact-state blob: lossless,
/// versioned, checksummed, and far smaller than `term_to_binary(T,
/// [compressed])` (much smaller still with a dictionary trained on similar
/// terms). `memacct_decompress` gives back the ETF byte for byte (for a
/// zlib-compressed input: its inflated form).
///
/// `etf` points to `etf_len` bytes of ETF (starting with the version byte 131;
/// compressed terms accepted), only read during the call. It must hold
/// exactly one well-formed term: a defect in its structure (a cut-short
/// length, an unknown tag) gives the status `memacct_term_size` gives, and
/// bytes after the term `MEMACCT_INVALID_VALUE` (`memacct_term_size` ignores
/// them, as `binary_to_term/1` does). The codec keeps bytes, not terms: it
/// does not compare map keys (ETF with a duplicate key, which
/// `binary_to_term/1` refuses, is kept and given back as it was) and has no
/// nesting limit (its check keeps no stack). `opts` NULL means the defaults.
/// `*out` is reset to `{NULL, 0}` on entry and receives the blob on success:
/// release it with `memacct_buffer_free` (see `memacct_buffer`).
///
/// ```c
/// memacct_buffer blob = {0}, back = {0};
/// memacct_status st = memacct_compress(etf, etf_len, NULL, &blob);
/// if (st == MEMACCT_OK) st = memacct_decompress(blob.data, blob.len, NULL, &back);
/// // back.len == etf_len && memcmp(back.data, etf, etf_len) == 0
/// memacct_buffer_free(&back);
/// memacct_buffer_free(&blob);
/// ```
///
/// # Safety
/// `etf` is NULL or valid for `etf_len` readable bytes; `opts` is NULL or a
/// live handle that no thread mutates during the call; `out` is NULL or valid
/// for one `memacct_buffer` write and does not overlap the input.
#[no_mangle]
pub unsafe extern "C" fn memacct_compress(
    etf: *const u8,
    etf_len: usize,
    opts: *const memacct_codec_options,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let etf = unsafe { bytes(etf, etf_len, "etf") }?;
        let defaults;
        // SAFETY: per this function's contract.
        let opts = match unsafe { opts.as_ref() } {
            Some(o) => o,
            None => {
                defaults = memacct_codec_options::default();
                &defaults
            }
        };
        let blob = codec::compress(etf, &opts.compress())?;
        *out = memacct_buffer::from_vec(blob);
        Ok(())
    })
}

/// Decodes a blob made by `memacct_compress` (by any memacct surface, of this
/// or an earlier version) back to uncompressed ETF, verified against the
/// blob's checksum. A blob made with a dictionary needs the same dictionary in
/// `opts` (`MEMACCT_DICTIONARY_REQUIRED`, `MEMACCT_DICTIONARY_MISMATCH`);
/// malformed or corrupt blobs are `MEMACCT_BAD_BLOB`, `MEMACCT_BLOB_VERSION`,
/// `MEMACCT_CODEC` or `MEMACCT_CHECKSUM_MISMATCH`, and output beyond the
/// options' `max_output` is `MEMACCT_INFLATE_LIMIT` — never a crash, and never
/// an allocation sized by what the blob claims beyond that limit.
///
/// `blob` points to `blob_len` bytes, only read during the call. `opts` NULL
/// means the defaults (no dictionary). `*out` is reset to `{NULL, 0}` on entry
/// and receives the ETF on success: release it with `memacct_buffer_free`.
///
/// # Safety
/// `blob` is NULL or valid for `blob_len` readable bytes; `opts` is NULL or a
/// live handle that no thread mutates during the call; `out` is NULL or valid
/// for one `memacct_buffer` write and does not overlap the input.
#[no_mangle]
pub unsafe extern "C" fn memacct_decompress(
    blob: *const u8,
    blob_len: usize,
    opts: *const memacct_codec_options,
    out: *mut memacct_buffer,
) -> memacct_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let out = unsafe { out_buffer(out) }?;
        let blob = unsafe { bytes(blob, blob_len, "blob") }?;
        let defaults;
        // SAFETY: per this function's contract.
        let opts = match unsafe { opts.as_ref() } {
            Some(o) => o,
            None => {
                defaults = memacct_codec_options::default();
                &defaults
            }
        };
        let etf = codec::decompress(blob, &opts.decompress())?;
        *out = memacct_buffer::from_vec(etf);
        Ok(())
    })
}

/// Reads a blob's header without decoding it: its format version, dictionary
/// id (to pick the dictionary to decompress with) and decoded length. Only the
/// header is checked (`MEMACCT_BAD_BLOB`, `MEMACCT_BLOB_VERSION`); a corrupt
/// payload shows only when decompressing.
///
/// `blob` points to `blob_len` bytes, only read during the call. On success
/// fills `*out` and returns `MEMACCT_OK`; on failure leaves `*out` untouched.
///
/// # Safety
/// `blob` is NULL or valid for `blob_len` readable bytes; `out` is NULL or
/// valid for one `memacct_blob_header` write.
#[no_mangle]
pub unsafe extern "C" fn memacct_blob_info(
    blob: *const u8,
    blob_len: usize,
    out: *mut memacct_blob_header,
) -> memacct_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: per this function's contract.
        let blob = unsafe { bytes(blob, blob_len, "blob") }?;
        let info = codec::blob_info(blob)?;
        let header = memacct_blob_header {
            dictionary_id: info.dictionary_id,
            version: info.version,
            input_was_compressed: info.input_was_compressed,
            etf_len: info.etf_len,
            blob_len: info.blob_len,
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(header) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::memacct_buffer_free;
    use crate::dictionary::tests::{sample, trained};
    use crate::dictionary::{memacct_dictionary_free, memacct_dictionary_id};
    use crate::status::memacct_status::*;

    fn slice(b: &memacct_buffer) -> &[u8] {
        assert!(!b.data.is_null());
        unsafe { std::slice::from_raw_parts(b.data, b.len) }
    }

    /// Sentinel contents for an out-buffer: must be overwritten, never freed.
    fn junk() -> memacct_buffer {
        memacct_buffer {
            data: std::ptr::dangling_mut::<u8>(),
            len: 7,
        }
    }

    fn is_empty(b: &memacct_buffer) -> bool {
        b.data.is_null() && b.len == 0
    }

    #[test]
    fn round_trip_with_defaults() {
        let etf = sample(4);
        let (mut blob, mut back) = (junk(), junk());
        let mut info = memacct_blob_header::default();
        unsafe {
            let null = std::ptr::null();
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), null, &mut blob),
                MEMACCT_OK
            );
            assert_eq!(&slice(&blob)[..5], b"MAcs\x02");
            assert_eq!(
                memacct_decompress(blob.data, blob.len, null, &mut back),
                MEMACCT_OK
            );
            assert_eq!(slice(&back), etf);
            assert_eq!(
                memacct_blob_info(blob.data, blob.len, &mut info),
                MEMACCT_OK
            );
            assert_eq!(
                info,
                memacct_blob_header {
                    dictionary_id: 0,
                    version: 2,
                    input_was_compressed: false,
                    etf_len: etf.len() as u64,
                    blob_len: blob.len,
                }
            );
            memacct_buffer_free(&mut back);
            memacct_buffer_free(&mut blob);
        }
    }

    #[test]
    fn dictionary_and_options() {
        let d = trained();
        let id = unsafe { memacct_dictionary_id(d) };
        let o = memacct_codec_options_new();
        assert!(!o.is_null());
        let etf = sample(7);
        let (mut blob, mut back, mut plain) = (junk(), junk(), junk());
        let mut info = memacct_blob_header::default();
        unsafe {
            assert_eq!(memacct_codec_options_set_dictionary(o, d), MEMACCT_OK);
            // The options hold their own reference: freeing the handle is fine.
            memacct_dictionary_free(d);
            assert_eq!(memacct_codec_options_set_level(o, 19), MEMACCT_OK);
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), o, &mut blob),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_blob_info(blob.data, blob.len, &mut info),
                MEMACCT_OK
            );
            assert_eq!(info.dictionary_id, id);
            assert_eq!(
                memacct_decompress(blob.data, blob.len, o, &mut back),
                MEMACCT_OK
            );
            assert_eq!(slice(&back), etf);
            memacct_buffer_free(&mut back);

            // Without the dictionary: required; smaller with it.
            assert_eq!(
                memacct_decompress(blob.data, blob.len, std::ptr::null(), &mut back),
                MEMACCT_DICTIONARY_REQUIRED
            );
            assert!(is_empty(&back));
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), std::ptr::null(), &mut plain),
                MEMACCT_OK
            );
            assert!(blob.len < plain.len, "{} vs {}", blob.len, plain.len);

            // max_output below the ETF length.
            assert_eq!(
                memacct_codec_options_set_max_output(o, etf.len() - 1),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_decompress(blob.data, blob.len, o, &mut back),
                MEMACCT_INFLATE_LIMIT
            );
            assert!(is_empty(&back));

            // Invalid levels are reported by compress, as invalid_option.
            for level in [0, -1, 23, i32::MIN, i32::MAX] {
                assert_eq!(memacct_codec_options_set_level(o, level), MEMACCT_OK);
                let mut b = junk();
                assert_eq!(
                    memacct_compress(etf.as_ptr(), etf.len(), o, &mut b),
                    MEMACCT_INVALID_OPTION,
                    "level {level}"
                );
                assert!(is_empty(&b));
            }
            assert_eq!(memacct_codec_options_set_level(o, 22), MEMACCT_OK);
            let mut b = junk();
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), o, &mut b),
                MEMACCT_OK
            );
            memacct_buffer_free(&mut b);

            // Removing the dictionary drops the last reference.
            assert_eq!(
                memacct_codec_options_set_dictionary(o, std::ptr::null()),
                MEMACCT_OK
            );
            assert!((*o).dictionary.is_none());
            memacct_buffer_free(&mut plain);
            memacct_buffer_free(&mut blob);
            memacct_codec_options_free(o);
            memacct_codec_options_free(std::ptr::null_mut());
        }
    }

    #[test]
    fn inflate_limit_applies_to_compressed_input() {
        // term_to_binary(<<0:800>>, [compressed]): inflates to 105 bytes.
        let z: [u8; 22] = [
            0x83, 0x50, 0x00, 0x00, 0x00, 0x69, 0x78, 0x9C, 0xCB, 0x65, 0x60, 0x60, 0x48, 0x61,
            0xA0, 0x03, 0x00, 0x00, 0x54, 0x92, 0x00, 0xD2,
        ];
        let o = memacct_codec_options_new();
        let mut blob = junk();
        let mut info = memacct_blob_header::default();
        unsafe {
            assert_eq!(memacct_codec_options_set_inflate_limit(o, 50), MEMACCT_OK);
            assert_eq!(
                memacct_compress(z.as_ptr(), z.len(), o, &mut blob),
                MEMACCT_INFLATE_LIMIT
            );
            assert!(is_empty(&blob));
            assert_eq!(memacct_codec_options_set_inflate_limit(o, 105), MEMACCT_OK);
            assert_eq!(
                memacct_compress(z.as_ptr(), z.len(), o, &mut blob),
                MEMACCT_OK
            );
            assert_eq!(
                memacct_blob_info(blob.data, blob.len, &mut info),
                MEMACCT_OK
            );
            assert!(info.input_was_compressed);
            assert_eq!(info.etf_len, 106);
            memacct_buffer_free(&mut blob);
            memacct_codec_options_free(o);
        }
    }

    #[test]
    fn bad_arguments_and_hostile_blobs() {
        let etf = sample(2);
        let (nb, null): (*const u8, *const memacct_codec_options) =
            (std::ptr::null(), std::ptr::null());
        let mut b = junk();
        let mut info = memacct_blob_header {
            version: 9,
            ..Default::default()
        };
        unsafe {
            assert_eq!(memacct_compress(nb, 4, null, &mut b), MEMACCT_NULL_POINTER);
            assert!(is_empty(&b));
            assert_eq!(memacct_compress(nb, 0, null, &mut b), MEMACCT_EMPTY);
            assert_eq!(
                memacct_compress(etf.as_ptr(), usize::MAX, null, &mut b),
                MEMACCT_INVALID_ARGUMENT
            );
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), null, std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(
                memacct_decompress(nb, 4, null, &mut b),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(memacct_decompress(nb, 0, null, &mut b), MEMACCT_BAD_BLOB);
            assert_eq!(memacct_blob_info(nb, 0, &mut info), MEMACCT_BAD_BLOB);
            assert_eq!(
                memacct_blob_info(etf.as_ptr(), etf.len(), std::ptr::null_mut()),
                MEMACCT_NULL_POINTER
            );
            assert_eq!(info.version, 9, "out untouched on error");
            for f in [
                memacct_codec_options_set_level(std::ptr::null_mut(), 3),
                memacct_codec_options_set_max_output(std::ptr::null_mut(), 3),
                memacct_codec_options_set_inflate_limit(std::ptr::null_mut(), 3),
                memacct_codec_options_set_dictionary(std::ptr::null_mut(), std::ptr::null()),
            ] {
                assert_eq!(f, MEMACCT_NULL_POINTER);
            }

            // Every truncation of a blob is an error, never a crash.
            let mut blob = junk();
            assert_eq!(
                memacct_compress(etf.as_ptr(), etf.len(), null, &mut blob),
                MEMACCT_OK
            );
            for n in 0..blob.len {
                let s = memacct_decompress(blob.data, n, null, &mut b);
                assert_ne!(s, MEMACCT_OK, "truncated at {n}");
                assert!(is_empty(&b));
            }
            memacct_buffer_free(&mut blob);
        }
    }
}
