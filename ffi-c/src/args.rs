//! Checked conversions of C arguments (pointer + length) into Rust slices.

use std::os::raw::c_char;

use crate::status::Failure;

/// The `len` bytes at `ptr`. `(NULL, 0)` is the empty slice; NULL with a
/// non-zero length is `MEMACCT_NULL_POINTER`; a length above `isize::MAX`
/// (no object can be that large) is `MEMACCT_INVALID_ARGUMENT`, checked before
/// anything is read.
///
/// # Safety
/// `ptr` is NULL or valid for `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format_args!(
            "`{what}` length {len} exceeds PTRDIFF_MAX"
        )));
    }
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure {
                message: format!("null_pointer: `{what}` is NULL but its length is {len}"),
                ..Failure::null(what)
            })
        };
    }
    // SAFETY: non-NULL, `len <= isize::MAX`, and readable per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The `len` bytes at `ptr` as UTF-8 text; as [`bytes`], and text that is not
/// UTF-8 is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: per this function's contract.
    let raw = unsafe { bytes(ptr.cast(), len, what) }?;
    std::str::from_utf8(raw).map_err(|e| {
        Failure::invalid(format_args!(
            "`{what}` is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::memacct_status::*;

    #[test]
    fn pointer_and_length_rules() {
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0, "p").unwrap(), b"");
            let e = bytes(std::ptr::null(), 3, "p").unwrap_err();
            assert_eq!(e.status, MEMACCT_NULL_POINTER);
            assert_eq!(e.message, "null_pointer: `p` is NULL but its length is 3");
            let x = 1u8;
            let e = bytes(&x, usize::MAX, "p").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            let e = bytes(std::ptr::null(), isize::MAX as usize + 1, "p").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            assert_eq!(bytes(&x, 1, "p").unwrap(), &[1]);
            assert_eq!(text("h\u{e9}".as_ptr().cast(), 3, "t").unwrap(), "h\u{e9}");
            let e = text(b"a\xff".as_ptr().cast(), 2, "t").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            assert!(e.message.contains("offset 1"), "{}", e.message);
        }
    }
}
