//! memacct's own memory, outside the BEAM's allocators: the NIF allocates
//! through jemalloc (its global allocator), whose statistics say exactly how
//! much memacct holds — pools, dictionaries, codec contexts, scratch.

use rustler::{Encoder, Env, NifResult, Term};
use tikv_jemalloc_ctl::{epoch, stats};

/// Every Rust allocation of the NIF goes to jemalloc (prefixed symbols, so
/// the BEAM's and libc's `malloc` are untouched).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod atoms {
    rustler::atoms! {
        allocated,
        active,
        resident,
        mapped,
        metadata,
        retained,
    }
}

/// `native_memory()`: jemalloc's statistics of the NIF's allocator, in bytes:
/// `allocated` (live allocations), `active` (pages holding them), `resident`
/// (physically resident, what RSS sees), `mapped`, `metadata`, `retained`.
#[rustler::nif]
fn native_memory(env: Env<'_>) -> NifResult<Term<'_>> {
    let fail = |e: tikv_jemalloc_ctl::Error| rustler::Error::Term(Box::new(e.to_string()));
    // Statistics are cached by jemalloc until the epoch advances.
    epoch::advance().map_err(fail)?;
    let pairs = [
        (atoms::allocated(), stats::allocated::read().map_err(fail)?),
        (atoms::active(), stats::active::read().map_err(fail)?),
        (atoms::resident(), stats::resident::read().map_err(fail)?),
        (atoms::mapped(), stats::mapped::read().map_err(fail)?),
        (atoms::metadata(), stats::metadata::read().map_err(fail)?),
        (atoms::retained(), stats::retained::read().map_err(fail)?),
    ];
    let keys: Vec<Term> = pairs.iter().map(|(k, _)| k.encode(env)).collect();
    let values: Vec<Term> = pairs.iter().map(|(_, v)| (*v as u64).encode(env)).collect();
    Term::map_from_term_arrays(env, &keys, &values)
}
