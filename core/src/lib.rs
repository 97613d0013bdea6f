//! # memacct-core
//!
//! Every algorithm of memacct, in pure Rust with no FFI: the bindings
//! (`memacct-ffi` for C, `memacct-nif` for Erlang, `memacct-py` for Python)
//! only convert types and map [`Error`].
//!
//! The first capability is **exact BEAM term sizing**: the number of heap
//! words `erts_debug:flat_size/1` reports for a term on the target VM
//! (Erlang/OTP 25, 64-bit; see [`vm::OTP25_64`]), computed from ETF bytes
//! ([`term_size`]) or from a live term a binding can inspect
//! ([`live::live_term_size`]), with a per-kind breakdown, off-heap binary
//! bytes and per-field sizes.
//!
//! ```
//! // term_to_binary({ok, <<"abc">>}) on OTP 26+ (OTP 25 writes the atom as
//! // ATOM_EXT: 100, 0, 2; the size is the same)
//! let etf = [131, 104, 2, 119, 2, b'o', b'k', 109, 0, 0, 0, 3, b'a', b'b', b'c'];
//! assert_eq!(memacct_core::flat_size(&etf).unwrap(), 3 + 3);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod canon;
pub mod codec;
pub mod decompose;
pub mod error;
pub mod etf;
pub mod fsio;
pub mod hamt;
pub mod hash;
mod label;
pub mod live;
pub mod options;
mod order;
pub mod pool;
pub mod size;
pub mod vm;
pub mod work;

pub use error::{Error, Result};
pub use live::{live_term_size, live_term_size_within, LiveTerm, Shape};
pub use options::{check_atom_word, LocalNode, SizeOptions, VmContext};
pub use size::{
    flat_size, term_size, term_size_with, term_size_within, FieldSize, Kind, KindWords, TermSize,
};
