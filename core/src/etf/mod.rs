//! A zero-copy, non-recursive reader of the External Term Format.
//!
//! [`open`] checks the version byte and inflates `term_to_binary(T, [compressed])`
//! output; [`Reader`] then yields one [`Token`] per term header. Containers
//! (tuples, lists, maps, funs) only announce how many sub-terms follow, so
//! walking a term never recurses on input depth. Every length is checked
//! against the bytes actually present before anything is trusted.

pub mod build;
mod inflate;
mod token;
mod validate;

pub use inflate::{open, Body};
pub use token::{Atom, Reader, Token};
pub use validate::validate;

/// ETF tag bytes (see the Erlang `erl_ext_dist` documentation).
pub mod tag {
    /// Version byte that starts every ETF blob.
    pub const VERSION: u8 = 131;
    /// zlib-compressed term.
    pub const COMPRESSED: u8 = 80;
    /// IEEE float, 8 bytes big-endian.
    pub const NEW_FLOAT: u8 = 70;
    /// Bitstring: length, bits in last byte, data.
    pub const BIT_BINARY: u8 = 77;
    /// Atom cache reference (distribution only).
    pub const ATOM_CACHE_REF: u8 = 82;
    /// Pid with 32-bit creation.
    pub const NEW_PID: u8 = 88;
    /// Port with 32-bit creation.
    pub const NEW_PORT: u8 = 89;
    /// Reference with 32-bit creation.
    pub const NEWER_REFERENCE: u8 = 90;
    /// Unsigned 8-bit integer.
    pub const SMALL_INTEGER: u8 = 97;
    /// Signed 32-bit integer.
    pub const INTEGER: u8 = 98;
    /// Float as a 31-byte string.
    pub const FLOAT: u8 = 99;
    /// Latin-1 atom, 16-bit length (deprecated).
    pub const ATOM: u8 = 100;
    /// Old reference with 8-bit creation.
    pub const REFERENCE: u8 = 101;
    /// Old port with 8-bit creation.
    pub const PORT: u8 = 102;
    /// Old pid with 8-bit creation.
    pub const PID: u8 = 103;
    /// Tuple, 8-bit arity.
    pub const SMALL_TUPLE: u8 = 104;
    /// Tuple, 32-bit arity.
    pub const LARGE_TUPLE: u8 = 105;
    /// The empty list.
    pub const NIL: u8 = 106;
    /// List of bytes.
    pub const STRING: u8 = 107;
    /// List: length, elements, tail.
    pub const LIST: u8 = 108;
    /// Binary.
    pub const BINARY: u8 = 109;
    /// Bignum, 8-bit length.
    pub const SMALL_BIG: u8 = 110;
    /// Bignum, 32-bit length.
    pub const LARGE_BIG: u8 = 111;
    /// Closure.
    pub const NEW_FUN: u8 = 112;
    /// `fun M:F/A`.
    pub const EXPORT: u8 = 113;
    /// Reference with 8-bit creation.
    pub const NEW_REFERENCE: u8 = 114;
    /// Latin-1 atom, 8-bit length (deprecated).
    pub const SMALL_ATOM: u8 = 115;
    /// Map.
    pub const MAP: u8 = 116;
    /// Pre-R13 fun encoding, rejected by OTP 23 and later.
    pub const FUN: u8 = 117;
    /// UTF-8 atom, 16-bit length.
    pub const ATOM_UTF8: u8 = 118;
    /// UTF-8 atom, 8-bit length.
    pub const SMALL_ATOM_UTF8: u8 = 119;
    /// Port with 64-bit id.
    pub const V4_PORT: u8 = 120;
}
