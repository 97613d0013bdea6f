//! The status enum, the one mapping from [`memacct_core::Error`], the
//! thread-local last-error message and the panic guard every entry point uses.

use std::cell::RefCell;
use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use memacct_core::Error;

/// What a libmemacct call returned. `MEMACCT_OK` (0) is success; every other
/// value is a failure, and the failing call has set the thread's last-error
/// message (`memacct_last_error_message`).
///
/// Values 1-99 name one `memacct_core::Error` variant each (the
/// `memacct_status_name` of such a status is the variant's stable code, the same
/// word the Erlang and Python surfaces use); values from 100 are this C layer's
/// own conditions. The numbers are stable.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum memacct_status {
    /// Success.
    MEMACCT_OK = 0,
    /// `truncated`: the input ended before the term did.
    MEMACCT_TRUNCATED = 1,
    /// `bad_version`: the first byte is not the ETF version byte 131.
    MEMACCT_BAD_VERSION = 2,
    /// `empty`: the input is empty (`len` is 0).
    MEMACCT_EMPTY = 3,
    /// `unknown_tag`: a tag byte that no term encoding uses.
    MEMACCT_UNKNOWN_TAG = 4,
    /// `length_too_large`: a declared length exceeds what the input can hold.
    MEMACCT_LENGTH_TOO_LARGE = 5,
    /// `too_deep`: nesting deeper than the options' `max_depth`.
    MEMACCT_TOO_DEEP = 6,
    /// `inflate_limit`: a compressed term inflates beyond the options' `inflate_limit`.
    MEMACCT_INFLATE_LIMIT = 7,
    /// `bad_compression`: the zlib stream of a compressed term is corrupt.
    MEMACCT_BAD_COMPRESSION = 8,
    /// `atom_cache_ref`: ATOM_CACHE_REF outside a distribution header.
    MEMACCT_ATOM_CACHE_REF = 9,
    /// `invalid_value`: a field holds a value the VM rejects.
    MEMACCT_INVALID_VALUE = 10,
    /// `duplicate_map_key`: a map holds the same key twice.
    MEMACCT_DUPLICATE_MAP_KEY = 11,
    /// `needs_vm`: a map with more than 32 keys needs VM state the options lack
    /// (typically an atom word: see `memacct_size_options_add_atom_word`).
    MEMACCT_NEEDS_VM = 12,
    /// `unsupported`: a valid term shape this version cannot size exactly.
    MEMACCT_UNSUPPORTED = 13,
    /// `bad_blob`: a compact-state blob is malformed.
    MEMACCT_BAD_BLOB = 14,
    /// `blob_version`: a blob of an unsupported format version.
    MEMACCT_BLOB_VERSION = 15,
    /// `dictionary_required`: the blob needs a dictionary and none was given.
    MEMACCT_DICTIONARY_REQUIRED = 16,
    /// `dictionary_mismatch`: the blob was made with another dictionary.
    MEMACCT_DICTIONARY_MISMATCH = 17,
    /// `checksum_mismatch`: the decoded term does not match the blob's checksum.
    MEMACCT_CHECKSUM_MISMATCH = 18,
    /// `codec`: the entropy stage (zstd) failed.
    MEMACCT_CODEC = 19,
    /// `bad_dictionary`: a serialized dictionary is malformed.
    MEMACCT_BAD_DICTIONARY = 20,
    /// `invalid_option`: an option is out of its range (a compression level
    /// outside 1..=22, a dictionary size outside
    /// `MEMACCT_DICTIONARY_MIN_BYTES..=MEMACCT_DICTIONARY_MAX_BYTES`).
    MEMACCT_INVALID_OPTION = 21,
    /// `pool_exhausted`: a state pool is full and rejects the write (backpressure).
    MEMACCT_POOL_EXHAUSTED = 22,
    /// `stale_handle`: a pool handle that no longer names a live entry
    /// (released, evicted, expired, reclaimed, or from another pool).
    MEMACCT_STALE_HANDLE = 23,
    /// `bad_checkpoint`: a pool checkpoint file is malformed, truncated or corrupt.
    MEMACCT_BAD_CHECKPOINT = 24,
    /// `io`: an operating-system I/O call failed (the last-error message has the OS message).
    MEMACCT_IO = 25,
    /// `bad_snapshot`: a memory snapshot (docs/SNAPSHOT.md) is not valid v1
    /// JSON: a missing required field, a negative or fractional size, another
    /// format or version, an impossible combination (the message says which).
    MEMACCT_BAD_SNAPSHOT = 26,
    /// `null_pointer`: a required pointer argument is NULL (a NULL data
    /// pointer is accepted only together with a length of 0).
    MEMACCT_NULL_POINTER = 100,
    /// `invalid_argument`: an argument is out of range (a length above
    /// `PTRDIFF_MAX`, text that is not UTF-8, an empty node name, a malformed atom word).
    MEMACCT_INVALID_ARGUMENT = 101,
    /// `panic`: an internal bug was caught at the boundary; the call had no effect.
    MEMACCT_PANIC = 102,
    /// `unknown_error`: a core error this build of the C layer has no status for
    /// (the last-error message names it).
    MEMACCT_UNKNOWN_ERROR = 103,
}

/// A `memacct_status` passed *by the caller* as a plain integer, so that a
/// value outside the enum is defined behaviour in Rust. The header names it
/// `memacct_status` (see `ffi-c/cbindgen.toml`).
///
/// cbindgen:ignore
#[allow(non_camel_case_types)]
pub type memacct_status_arg = u32;

impl memacct_status {
    /// Every status, in numeric order.
    pub(crate) const fn all() -> [memacct_status; 31] {
        [
            memacct_status::MEMACCT_OK,
            memacct_status::MEMACCT_TRUNCATED,
            memacct_status::MEMACCT_BAD_VERSION,
            memacct_status::MEMACCT_EMPTY,
            memacct_status::MEMACCT_UNKNOWN_TAG,
            memacct_status::MEMACCT_LENGTH_TOO_LARGE,
            memacct_status::MEMACCT_TOO_DEEP,
            memacct_status::MEMACCT_INFLATE_LIMIT,
            memacct_status::MEMACCT_BAD_COMPRESSION,
            memacct_status::MEMACCT_ATOM_CACHE_REF,
            memacct_status::MEMACCT_INVALID_VALUE,
            memacct_status::MEMACCT_DUPLICATE_MAP_KEY,
            memacct_status::MEMACCT_NEEDS_VM,
            memacct_status::MEMACCT_UNSUPPORTED,
            memacct_status::MEMACCT_BAD_BLOB,
            memacct_status::MEMACCT_BLOB_VERSION,
            memacct_status::MEMACCT_DICTIONARY_REQUIRED,
            memacct_status::MEMACCT_DICTIONARY_MISMATCH,
            memacct_status::MEMACCT_CHECKSUM_MISMATCH,
            memacct_status::MEMACCT_CODEC,
            memacct_status::MEMACCT_BAD_DICTIONARY,
            memacct_status::MEMACCT_INVALID_OPTION,
            memacct_status::MEMACCT_POOL_EXHAUSTED,
            memacct_status::MEMACCT_STALE_HANDLE,
            memacct_status::MEMACCT_BAD_CHECKPOINT,
            memacct_status::MEMACCT_IO,
            memacct_status::MEMACCT_BAD_SNAPSHOT,
            memacct_status::MEMACCT_NULL_POINTER,
            memacct_status::MEMACCT_INVALID_ARGUMENT,
            memacct_status::MEMACCT_PANIC,
            memacct_status::MEMACCT_UNKNOWN_ERROR,
        ]
    }

    /// The status whose numeric value is `raw`, if any.
    pub fn from_raw(raw: u32) -> Option<memacct_status> {
        Self::all().into_iter().find(|&s| s as u32 == raw)
    }

    /// Stable snake_case name: `"ok"`, the core's `Error::code()` for core
    /// errors, or this layer's own name.
    pub fn name(self) -> &'static CStr {
        use memacct_status::*;
        match self {
            MEMACCT_OK => c"ok",
            MEMACCT_TRUNCATED => c"truncated",
            MEMACCT_BAD_VERSION => c"bad_version",
            MEMACCT_EMPTY => c"empty",
            MEMACCT_UNKNOWN_TAG => c"unknown_tag",
            MEMACCT_LENGTH_TOO_LARGE => c"length_too_large",
            MEMACCT_TOO_DEEP => c"too_deep",
            MEMACCT_INFLATE_LIMIT => c"inflate_limit",
            MEMACCT_BAD_COMPRESSION => c"bad_compression",
            MEMACCT_ATOM_CACHE_REF => c"atom_cache_ref",
            MEMACCT_INVALID_VALUE => c"invalid_value",
            MEMACCT_DUPLICATE_MAP_KEY => c"duplicate_map_key",
            MEMACCT_NEEDS_VM => c"needs_vm",
            MEMACCT_UNSUPPORTED => c"unsupported",
            MEMACCT_BAD_BLOB => c"bad_blob",
            MEMACCT_BLOB_VERSION => c"blob_version",
            MEMACCT_DICTIONARY_REQUIRED => c"dictionary_required",
            MEMACCT_DICTIONARY_MISMATCH => c"dictionary_mismatch",
            MEMACCT_CHECKSUM_MISMATCH => c"checksum_mismatch",
            MEMACCT_CODEC => c"codec",
            MEMACCT_BAD_DICTIONARY => c"bad_dictionary",
            MEMACCT_INVALID_OPTION => c"invalid_option",
            MEMACCT_POOL_EXHAUSTED => c"pool_exhausted",
            MEMACCT_STALE_HANDLE => c"stale_handle",
            MEMACCT_BAD_CHECKPOINT => c"bad_checkpoint",
            MEMACCT_IO => c"io",
            MEMACCT_BAD_SNAPSHOT => c"bad_snapshot",
            MEMACCT_NULL_POINTER => c"null_pointer",
            MEMACCT_INVALID_ARGUMENT => c"invalid_argument",
            MEMACCT_PANIC => c"panic",
            MEMACCT_UNKNOWN_ERROR => c"unknown_error",
        }
    }
}

/// The one mapping from core errors to statuses.
pub(crate) fn status_of(error: &Error) -> memacct_status {
    use memacct_status::*;
    match error {
        Error::Truncated { .. } => MEMACCT_TRUNCATED,
        Error::BadVersion { .. } => MEMACCT_BAD_VERSION,
        Error::Empty => MEMACCT_EMPTY,
        Error::UnknownTag { .. } => MEMACCT_UNKNOWN_TAG,
        Error::LengthTooLarge { .. } => MEMACCT_LENGTH_TOO_LARGE,
        Error::TooDeep { .. } => MEMACCT_TOO_DEEP,
        Error::InflateLimit { .. } => MEMACCT_INFLATE_LIMIT,
        Error::BadCompression { .. } => MEMACCT_BAD_COMPRESSION,
        Error::AtomCacheRef { .. } => MEMACCT_ATOM_CACHE_REF,
        Error::InvalidValue { .. } => MEMACCT_INVALID_VALUE,
        Error::DuplicateMapKey { .. } => MEMACCT_DUPLICATE_MAP_KEY,
        Error::NeedsVm { .. } => MEMACCT_NEEDS_VM,
        Error::Unsupported { .. } => MEMACCT_UNSUPPORTED,
        Error::BadBlob { .. } => MEMACCT_BAD_BLOB,
        Error::BlobVersion { .. } => MEMACCT_BLOB_VERSION,
        Error::DictionaryRequired { .. } => MEMACCT_DICTIONARY_REQUIRED,
        Error::DictionaryMismatch { .. } => MEMACCT_DICTIONARY_MISMATCH,
        Error::ChecksumMismatch => MEMACCT_CHECKSUM_MISMATCH,
        Error::Codec { .. } => MEMACCT_CODEC,
        Error::BadDictionary { .. } => MEMACCT_BAD_DICTIONARY,
        Error::InvalidOption { .. } => MEMACCT_INVALID_OPTION,
        Error::PoolExhausted { .. } => MEMACCT_POOL_EXHAUSTED,
        Error::StaleHandle { .. } => MEMACCT_STALE_HANDLE,
        Error::BadCheckpoint { .. } => MEMACCT_BAD_CHECKPOINT,
        Error::Io { .. } => MEMACCT_IO,
        Error::BadSnapshot { .. } => MEMACCT_BAD_SNAPSHOT,
        // `Error` is #[non_exhaustive]: a variant added to the core later.
        _ => MEMACCT_UNKNOWN_ERROR,
    }
}

/// A failed call: its status and the message stored as the last error.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: memacct_status,
    pub(crate) message: String,
}

impl Failure {
    /// A required pointer argument is NULL.
    pub(crate) fn null(what: &str) -> Failure {
        Failure {
            status: memacct_status::MEMACCT_NULL_POINTER,
            message: format!("null_pointer: `{what}` is NULL"),
        }
    }

    /// An argument is out of range.
    pub(crate) fn invalid(message: impl std::fmt::Display) -> Failure {
        Failure {
            status: memacct_status::MEMACCT_INVALID_ARGUMENT,
            message: format!("invalid_argument: {message}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            status: status_of(&error),
            message: format!("{}: {error}", error.code()),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Stores `message` as this thread's last error (NUL bytes made visible as `\0`).
fn set_last_error(message: &str) {
    // `try_with` fails only while the thread is being torn down; then there is
    // nobody left to read the message.
    let _ = LAST_ERROR.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        slot.clear();
        slot.push_str(&message.replace('\0', "\\0"));
    });
}

/// Runs an entry point's body: catches panics, stores the last error on
/// failure and returns the status. Every status-returning entry point goes
/// through here.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> memacct_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => memacct_status::MEMACCT_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            set_last_error(&format!("panic: internal error in libmemacct: {what}"));
            memacct_status::MEMACCT_PANIC
        }
    }
}

/// Copies this thread's last error message into `buf`; see the header docs.
///
/// # Safety
/// `buf` is NULL or valid for `buf_len` writable bytes.
pub(crate) unsafe fn copy_last_error(buf: *mut c_char, buf_len: usize) -> usize {
    LAST_ERROR
        .try_with(|slot| {
            let message = slot.borrow();
            if !buf.is_null() && buf_len > 0 {
                let mut n = message.len().min(buf_len - 1);
                while !message.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: the caller guarantees `buf_len` writable bytes at
                // `buf`; `n < buf_len`, and the source is a distinct allocation.
                unsafe {
                    std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            message.len()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_own_status_named_by_its_code() {
        let errors = Error::one_of_each();
        let mut seen = std::collections::HashSet::new();
        for e in &errors {
            let s = status_of(e);
            assert_eq!(s.name().to_str().unwrap(), e.code(), "{e:?}");
            assert!((1..100).contains(&(s as u32)), "{e:?}");
            assert!(seen.insert(s), "two errors map to {s:?}");
        }
        // Every core-error status (1..100) is reached by some error.
        let core_statuses = memacct_status::all()
            .iter()
            .filter(|&&s| (1..100).contains(&(s as u32)))
            .count();
        assert_eq!(core_statuses, errors.len());
    }

    #[test]
    fn status_table_is_consistent() {
        let mut names = std::collections::HashSet::new();
        for (i, s) in memacct_status::all().into_iter().enumerate() {
            assert_eq!(memacct_status::from_raw(s as u32), Some(s));
            let name = s.name().to_str().unwrap();
            assert!(names.insert(name));
            // The C constant is MEMACCT_ + the upper-cased name.
            assert_eq!(format!("{s:?}"), format!("MEMACCT_{}", name.to_uppercase()));
            if i > 0 {
                assert!((memacct_status::all()[i - 1] as u32) < s as u32);
            }
        }
        assert_eq!(memacct_status::from_raw(27), None);
        assert_eq!(memacct_status::from_raw(99), None);
        assert_eq!(memacct_status::from_raw(u32::MAX), None);
    }

    #[test]
    fn failure_messages_start_with_the_status_name() {
        let f = Failure::from(Error::TooDeep { limit: 3 });
        assert_eq!(f.status, memacct_status::MEMACCT_TOO_DEEP);
        assert_eq!(
            f.message,
            "too_deep: term nesting exceeds the limit of 3 levels"
        );
        assert!(Failure::null("etf").message.starts_with("null_pointer: "));
        assert!(Failure::invalid("x")
            .message
            .starts_with("invalid_argument: "));
    }

    #[test]
    fn guard_catches_panics_and_records_them() {
        let s = guard(|| panic!("boom"));
        assert_eq!(s, memacct_status::MEMACCT_PANIC);
        let mut buf = [0 as c_char; 128];
        let n = unsafe { copy_last_error(buf.as_mut_ptr(), buf.len()) };
        let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(n, msg.len());
        assert!(msg.starts_with("panic: ") && msg.ends_with("boom"), "{msg}");
        assert_eq!(guard(|| Ok(())), memacct_status::MEMACCT_OK);
    }

    #[test]
    fn copy_truncates_on_char_boundaries_and_reports_full_length() {
        set_last_error("ab\u{e9}cd\0"); // 'é' is two bytes; NUL is escaped
        let full = "ab\u{e9}cd\\0".len();
        let mut buf = [0x55 as c_char; 8];
        unsafe {
            assert_eq!(copy_last_error(std::ptr::null_mut(), 100), full);
            assert_eq!(copy_last_error(buf.as_mut_ptr(), 0), full);
            assert_eq!(buf[0], 0x55, "buf_len 0 writes nothing");
            assert_eq!(copy_last_error(buf.as_mut_ptr(), 1), full);
            assert_eq!(buf[0], 0);
            // 4 bytes would cut 'é' in half: only "ab" fits.
            assert_eq!(copy_last_error(buf.as_mut_ptr(), 4), full);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_bytes(), b"ab");
            assert_eq!(copy_last_error(buf.as_mut_ptr(), 5), full);
            assert_eq!(
                CStr::from_ptr(buf.as_ptr()).to_bytes(),
                "ab\u{e9}".as_bytes()
            );
        }
    }

    #[test]
    fn last_error_is_per_thread() {
        set_last_error("main thread");
        std::thread::spawn(|| {
            assert_eq!(unsafe { copy_last_error(std::ptr::null_mut(), 0) }, 0);
            set_last_error("other thread, longer");
        })
        .join()
        .unwrap();
        assert_eq!(
            unsafe { copy_last_error(std::ptr::null_mut(), 0) },
            "main thread".len()
        );
    }
}
