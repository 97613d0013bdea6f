//! Checked conversions of C arguments (pointer + length) into Rust slices.

use std::mem::MaybeUninit;
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

/// The `count` elements of type `T` at `ptr` (an array argument such as the
/// sample pointers of `memacct_dictionary_train`), under the rules of
/// [`bytes`]: `(NULL, 0)` is the empty slice, NULL with a non-zero count is
/// `MEMACCT_NULL_POINTER`, and an array larger than `PTRDIFF_MAX` bytes or a
/// misaligned pointer is `MEMACCT_INVALID_ARGUMENT`.
///
/// # Safety
/// `ptr` is NULL or valid for `count` reads of `T` that stay unchanged for `'a`.
pub(crate) unsafe fn array<'a, T>(
    ptr: *const T,
    count: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    let size = std::mem::size_of::<T>().max(1);
    if count > isize::MAX as usize / size {
        return Err(Failure::invalid(format_args!(
            "`{what}` count {count} exceeds PTRDIFF_MAX bytes"
        )));
    }
    if ptr.is_null() {
        return if count == 0 {
            Ok(&[])
        } else {
            Err(Failure {
                message: format!("null_pointer: `{what}` is NULL but its count is {count}"),
                ..Failure::null(what)
            })
        };
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format_args!(
            "`{what}` is not aligned for its element type"
        )));
    }
    // SAFETY: non-NULL, aligned, at most `isize::MAX` bytes, and readable per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// The caller's output array of `cap` elements of type `T` at `ptr`, to be
/// written (never read: it may hold uninitialized memory), under the rules of
/// [`array`]: `(NULL, 0)` is the empty slice, NULL with a non-zero `cap` is
/// `MEMACCT_NULL_POINTER`, and an array larger than `PTRDIFF_MAX` bytes or a
/// misaligned pointer is `MEMACCT_INVALID_ARGUMENT`, checked before anything
/// is written. Every out-buffer (`out`, `cap`) argument goes through here.
///
/// # Safety
/// `ptr` is NULL or valid for `cap` writes of `T`, not aliased for `'a`.
pub(crate) unsafe fn out_array<'a, T>(
    ptr: *mut T,
    cap: usize,
    what: &str,
) -> Result<&'a mut [MaybeUninit<T>], Failure> {
    let size = std::mem::size_of::<T>().max(1);
    if cap > isize::MAX as usize / size {
        return Err(Failure::invalid(format_args!(
            "`{what}` capacity {cap} exceeds PTRDIFF_MAX bytes"
        )));
    }
    if ptr.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(Failure {
                message: format!("null_pointer: `{what}` is NULL but its capacity is {cap}"),
                ..Failure::null(what)
            })
        };
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format_args!(
            "`{what}` is not aligned for its element type"
        )));
    }
    // SAFETY: non-NULL, aligned, at most `isize::MAX` bytes, writable and
    // unaliased per the contract; `MaybeUninit` makes no claim on the contents.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<T>>(), cap) })
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

    #[test]
    fn array_rules() {
        let xs = [1usize, 2, 3];
        unsafe {
            assert_eq!(array(xs.as_ptr(), 3, "a").unwrap(), &xs);
            assert!(array::<usize>(std::ptr::null(), 0, "a").unwrap().is_empty());
            let e = array::<usize>(std::ptr::null(), 2, "a").unwrap_err();
            assert_eq!(e.status, MEMACCT_NULL_POINTER);
            assert_eq!(e.message, "null_pointer: `a` is NULL but its count is 2");
            let e = array(xs.as_ptr(), isize::MAX as usize / 8 + 1, "a").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            let odd = xs.as_ptr().cast::<u8>().add(1).cast::<usize>();
            let e = array(odd, 1, "a").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            assert!(e.message.contains("aligned"), "{}", e.message);
        }
    }

    #[test]
    fn out_array_rules() {
        let mut xs = [0u64; 3];
        unsafe {
            assert_eq!(out_array(xs.as_mut_ptr(), 3, "o").unwrap().len(), 3);
            assert!(out_array::<u64>(std::ptr::null_mut(), 0, "o")
                .unwrap()
                .is_empty());
            let e = out_array::<u64>(std::ptr::null_mut(), 2, "o").unwrap_err();
            assert_eq!(e.status, MEMACCT_NULL_POINTER);
            for cap in [usize::MAX, isize::MAX as usize / 8 + 1] {
                let e = out_array(xs.as_mut_ptr(), cap, "o").unwrap_err();
                assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
                assert!(e.message.contains("PTRDIFF_MAX"), "{}", e.message);
            }
            let mut b = [0u8; 2];
            let e = out_array(b.as_mut_ptr(), usize::MAX, "b").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
            assert_eq!(out_array(b.as_mut_ptr(), 2, "b").unwrap().len(), 2);
            let odd = xs.as_mut_ptr().cast::<u8>().add(1).cast::<u64>();
            let e = out_array(odd, 1, "o").unwrap_err();
            assert_eq!(e.status, MEMACCT_INVALID_ARGUMENT);
        }
    }
}
