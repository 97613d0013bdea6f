//! Terms built from ETF inside the NIF ([`memacct_core::etf::build`] over
//! the enif API), so that `memacct:decompress/1,2` and `memacct_pool:get/2`
//! need no `binary_to_term/1`.
//!
//! `binary_to_term/1` looks every atom occurrence up in the VM's atom table
//! (about 80 ns each on OTP 25 with two schedulers); this builder keeps a per-thread cache of
//! atom bytes to atoms ([`AtomCache`]), so a repeated atom costs a hash
//! lookup. Atoms are immediates that the VM never frees and that are valid
//! in every environment, so a cached atom stays right forever.
//!
//! Whatever the builder does not make itself — pids, ports, references,
//! bitstrings, funs, export funs, FLOAT_EXT floats, bignums beyond 64 bits,
//! atoms with characters above 255 (which OTP 25's `enif_make_atom_len`
//! cannot make) — it decodes with `enif_binary_to_term` from the sub-term's
//! own bytes, which decode alone exactly as they do inside the whole term.
//! When the builder fails for any reason (input the VM rejects, or one of
//! its own limits), callers fall back to `binary_to_term`, which then decides:
//! the answer is always the VM's own.

use std::cell::RefCell;

use memacct_core::etf::build::{build_in, Scratch, TermBuilder};
use memacct_core::Error;
use rustc_hash::FxHashMap;
use rustler::sys::{self, c_char, c_uint, ErlNifCharEncoding, ErlNifEnv, ErlNifTerm};
use rustler::{Binary, Encoder, Env, NewBinary, Term};

use crate::{dirty, error_term, ok};

rustler::atoms! {
    etf,
}

/// Work units (0.3-1.4 ns each on the 2-core build machine, OTP 25, release
/// build) a build may spend on a normal scheduler; beyond it the caller
/// decodes with `binary_to_term/1`, which yields. Measured, best of 11: a
/// build that spends the whole budget runs for 0.02-0.3 ms whatever it
/// holds (most: atoms with characters above 255 that miss the cache, and
/// funs); `memacct_build_SUITE:normal_path_is_short` prints the figures.
pub const BUILD_NORMAL_BUDGET: u64 = 200_000;

/// Most atoms cached per scheduler thread; a full cache is left as it is.
pub const ATOM_CACHE_MAX: usize = 8192;

/// Largest tuple arity the VM makes (`MAX_ARITYVAL`, 2^24 - 1).
const MAX_TUPLE_ARITY: usize = (1 << 24) - 1;

/// Work units charged per term and per element (see [`BUILD_NORMAL_BUDGET`]),
/// measured as the largest list of each kind that fits the budget.
mod cost {
    /// An integer.
    pub const INT: u64 = 6;
    /// A float (one heap object).
    pub const FLOAT: u64 = 20;
    /// `[]`.
    pub const NIL: u64 = 1;
    /// An atom found in the cache.
    pub const ATOM_HIT: u64 = 12;
    /// An atom made with `enif_make_atom_len` (atom-table lookup under a lock).
    pub const ATOM_MISS: u64 = 150;
    /// A container or string, besides its elements.
    pub const CONTAINER: u64 = 10;
    /// Each element of a tuple or list.
    pub const ELEMENT: u64 = 2;
    /// Each pair of a map of up to 32 keys (sorted).
    pub const FLAT_PAIR: u64 = 25;
    /// Each pair of a map of more than 32 keys (hashed into a HAMT).
    pub const HASH_PAIR: u64 = 80;
    /// Each character of a STRING_EXT.
    pub const CHAR: u64 = 8;
    /// A binary, plus one unit per 10 bytes copied.
    pub const BINARY: u64 = 18;
    /// A sub-term decoded by `enif_binary_to_term`, plus 2 units per byte.
    pub const OPAQUE: u64 = 100;
}

/// Atoms by the bytes of their name, Latin-1 and UTF-8 names apart (the same
/// bytes name different atoms in the two encodings).
#[derive(Default)]
struct AtomCache {
    latin1: FxHashMap<Box<[u8]>, ErlNifTerm>,
    wide: FxHashMap<Box<[u8]>, ErlNifTerm>,
}

impl AtomCache {
    fn names(&mut self, wide: bool) -> &mut FxHashMap<Box<[u8]>, ErlNifTerm> {
        if wide {
            &mut self.wide
        } else {
            &mut self.latin1
        }
    }

    fn get(&mut self, name: &[u8], wide: bool) -> Option<ErlNifTerm> {
        self.names(wide).get(name).copied()
    }

    /// Caches `atom` unless the cache is full.
    fn insert(&mut self, name: &[u8], wide: bool, atom: ErlNifTerm) {
        if self.latin1.len() + self.wide.len() < ATOM_CACHE_MAX {
            self.names(wide).insert(name.into(), atom);
        }
    }
}

/// What each scheduler thread keeps between builds.
#[derive(Default)]
struct PerThread {
    atoms: AtomCache,
    stacks: Scratch<ErlNifTerm>,
}

/// Most stack entries kept between builds (8 bytes each); a larger build's
/// stacks are freed after it.
const STACKS_KEPT: usize = 64 * 1024;

thread_local! {
    static PER_THREAD: RefCell<PerThread> = RefCell::new(PerThread::default());
}

/// How a build ended.
pub(crate) enum Built<'a> {
    /// The term, `=:=` to `binary_to_term/1` of the input.
    Term(Term<'a>),
    /// The work budget ran out: decode it elsewhere.
    OverBudget,
    /// The builder could not make the term (see the error); `binary_to_term`
    /// decides whether the input is valid.
    Declined(Error),
}

/// Builds the term in `etf` (uncompressed, with its version byte) within
/// `budget` work units (`u64::MAX`: no limit).
pub(crate) fn build<'a>(env: Env<'a>, etf: &[u8], budget: u64) -> Built<'a> {
    PER_THREAD.with(|cell| match cell.try_borrow_mut() {
        Ok(mut state) => {
            let PerThread { atoms, stacks } = &mut *state;
            let built = build_with(env, etf, budget, atoms, stacks);
            stacks.shrink_to(STACKS_KEPT);
            built
        }
        // Not reentrant, so never taken; build without the cache all the same.
        Err(_) => build_with(
            env,
            etf,
            budget,
            &mut AtomCache::default(),
            &mut Scratch::default(),
        ),
    })
}

fn build_with<'a>(
    env: Env<'a>,
    etf: &[u8],
    budget: u64,
    cache: &mut AtomCache,
    stacks: &mut Scratch<ErlNifTerm>,
) -> Built<'a> {
    let mut b = NifBuilder {
        env: env.as_c_arg(),
        nil: Term::list_new_empty(env).as_c_arg(),
        cache,
        scratch: Vec::new(),
        left: budget,
        over_budget: false,
    };
    match build_in(etf, &mut b, stacks) {
        // SAFETY: made in `env` during this call.
        Ok(t) => Built::Term(unsafe { Term::new(env, t) }),
        Err(_) if b.over_budget => Built::OverBudget,
        Err(e) => Built::Declined(e),
    }
}

/// A decompress NIF's answer for its ETF: `{ok, Term}`, or `{etf, Etf}`
/// when the builder declines or runs out of `budget` (the caller then runs
/// `binary_to_term/1`, which yields and reports invalid input).
pub(crate) fn term_answer<'a>(env: Env<'a>, etf: &[u8], budget: u64) -> Term<'a> {
    match build(env, etf, budget) {
        Built::Term(t) => (ok(), t).encode(env),
        Built::OverBudget | Built::Declined(_) => {
            let bin: Term<'a> = NewBinary::from_slice(env, etf).into();
            (self::etf(), bin).encode(env)
        }
    }
}

/// `build_term(Etf)` on a normal scheduler: `{ok, Term}` built by this
/// module (no fallback), `{error, {Code, Msg}}` when the builder declines
/// (input `binary_to_term/1` rejects, or something it cannot make), or
/// `dirty` beyond [`BUILD_NORMAL_BUDGET`]. For tests and measurements.
#[rustler::nif]
fn build_term<'a>(env: Env<'a>, etf: Binary) -> Term<'a> {
    match build(env, etf.as_slice(), BUILD_NORMAL_BUDGET) {
        Built::Term(t) => (ok(), t).encode(env),
        Built::OverBudget => dirty().encode(env),
        Built::Declined(e) => error_term(env, &e),
    }
}

/// `{Budget, AtomCacheMax}`: the builder's normal-scheduler budget in work
/// units and the most atoms it caches per thread.
#[rustler::nif]
fn build_limits() -> (u64, u64) {
    (BUILD_NORMAL_BUDGET, ATOM_CACHE_MAX as u64)
}

/// [`TermBuilder`] over the enif API; terms are raw `ERL_NIF_TERM`s of `env`.
struct NifBuilder<'c> {
    env: *mut ErlNifEnv,
    nil: ErlNifTerm,
    cache: &'c mut AtomCache,
    /// Version byte plus a sub-term, for `enif_binary_to_term`.
    scratch: Vec<u8>,
    left: u64,
    over_budget: bool,
}

impl NifBuilder<'_> {
    /// Spends `units`, failing once the budget is gone.
    fn charge(&mut self, units: u64) -> memacct_core::Result<()> {
        match self.left.checked_sub(units) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                self.over_budget = true;
                Err(Error::Unsupported {
                    what: "term build beyond its work budget",
                })
            }
        }
    }

    /// `etf` (a sub-term, no version byte) decoded by the VM.
    fn vm_decode(&mut self, etf: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        self.scratch.clear();
        self.scratch.push(131);
        self.scratch.extend_from_slice(etf);
        let mut out = ErlNifTerm::default();
        // SAFETY: valid env; `scratch` is readable for its length and `out`
        // writable. Options 0 (not safe mode, as `binary_to_term/1`): the
        // VM still checks every byte and returns 0 for invalid input.
        let used = unsafe {
            sys::enif_binary_to_term(
                self.env,
                self.scratch.as_ptr(),
                self.scratch.len(),
                &mut out,
                0,
            )
        };
        if used != self.scratch.len() {
            return Err(Error::InvalidValue {
                what: "sub-term (binary_to_term/1 rejects it)",
                offset: 0,
            });
        }
        Ok(out)
    }

    fn cache_latin1(&mut self, name: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        if let Some(a) = self.cache.get(name, false) {
            self.charge(cost::ATOM_HIT)?;
            return Ok(a);
        }
        self.charge(cost::ATOM_MISS)?;
        if name.len() > 255 {
            return Err(Error::InvalidValue {
                what: "atom (over 255 characters)",
                offset: 0,
            });
        }
        // SAFETY: valid env; `name` is readable for its length (at most 255
        // bytes, so the VM makes the atom rather than an exception).
        let a = unsafe {
            sys::enif_make_atom_len(self.env, name.as_ptr().cast::<c_char>(), name.len())
        };
        self.cache.insert(name, false, a);
        Ok(a)
    }

    fn cache_wide(&mut self, utf8: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        if let Some(a) = self.cache.get(utf8, true) {
            self.charge(cost::ATOM_HIT)?;
            return Ok(a);
        }
        self.charge(cost::OPAQUE + 2 * utf8.len() as u64)?;
        let len = u16::try_from(utf8.len()).map_err(|_| Error::InvalidValue {
            what: "atom (over 255 characters)",
            offset: 0,
        })?;
        let mut etf = Vec::with_capacity(3 + utf8.len());
        etf.push(memacct_core::etf::tag::ATOM_UTF8);
        etf.extend_from_slice(&len.to_be_bytes());
        etf.extend_from_slice(utf8);
        let a = self.vm_decode(&etf)?;
        self.cache.insert(utf8, true, a);
        Ok(a)
    }
}

/// The Latin-1 bytes of UTF-8 `text` (written into `buf`), or `None` when a
/// character is above 255 (or the text is longer than an atom).
fn latin1<'b>(text: &[u8], buf: &'b mut [u8; 255]) -> Option<&'b [u8]> {
    let text = std::str::from_utf8(text).ok()?;
    let mut n = 0;
    for c in text.chars() {
        let c = u8::try_from(u32::from(c)).ok()?;
        *buf.get_mut(n)? = c;
        n += 1;
    }
    Some(&buf[..n])
}

impl TermBuilder for NifBuilder<'_> {
    type Term = ErlNifTerm;

    fn int(&mut self, value: i64) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::INT)?;
        // SAFETY: valid env.
        Ok(unsafe { sys::enif_make_int64(self.env, value) })
    }

    fn big(&mut self, negative: bool, magnitude: &[u8]) -> Option<ErlNifTerm> {
        // Declined (also when over budget: `opaque` then reports it).
        if magnitude.len() > 8 || self.charge(cost::INT).is_err() {
            return None;
        }
        let mut le = [0u8; 8];
        le[..magnitude.len()].copy_from_slice(magnitude);
        let m = u64::from_le_bytes(le);
        if !negative {
            // SAFETY: valid env.
            return Some(unsafe { sys::enif_make_uint64(self.env, m) });
        }
        // -m fits i64 down to -2^63 (whose `m as i64` is i64::MIN already).
        (m <= 1 << 63).then(|| {
            // SAFETY: valid env.
            unsafe { sys::enif_make_int64(self.env, (m as i64).wrapping_neg()) }
        })
    }

    fn float(&mut self, value: f64) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::FLOAT)?;
        // SAFETY: valid env; the reader only yields finite floats.
        Ok(unsafe { sys::enif_make_double(self.env, value) })
    }

    fn atom(&mut self, name: &[u8], utf8: bool) -> memacct_core::Result<ErlNifTerm> {
        if !utf8 || name.is_ascii() {
            return self.cache_latin1(name);
        }
        let mut buf = [0u8; 255];
        match latin1(name, &mut buf) {
            Some(l) => self.cache_latin1(l),
            None => self.cache_wide(name),
        }
    }

    fn nil(&mut self) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::NIL)?;
        Ok(self.nil)
    }

    fn tuple(&mut self, elements: &[ErlNifTerm]) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::CONTAINER + cost::ELEMENT * elements.len() as u64)?;
        if elements.len() > MAX_TUPLE_ARITY {
            return Err(Error::Unsupported {
                what: "tuple larger than the VM's largest",
            });
        }
        // SAFETY: valid env; `elements` are terms of it, readable for their
        // count (which fits c_uint, see MAX_TUPLE_ARITY).
        Ok(unsafe {
            sys::enif_make_tuple_from_array(self.env, elements.as_ptr(), elements.len() as c_uint)
        })
    }

    fn list(
        &mut self,
        elements: &[ErlNifTerm],
        tail: ErlNifTerm,
    ) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::CONTAINER + cost::ELEMENT * elements.len() as u64)?;
        // `[]` is one immediate word: comparing words is comparing terms.
        if tail == self.nil {
            let n = c_uint::try_from(elements.len()).map_err(|_| Error::Unsupported {
                what: "list longer than 2^32 elements",
            })?;
            // SAFETY: valid env; `elements` are terms of it, readable for `n`.
            return Ok(unsafe { sys::enif_make_list_from_array(self.env, elements.as_ptr(), n) });
        }
        let mut list = tail;
        for &e in elements.iter().rev() {
            // SAFETY: valid env; both are terms of it.
            list = unsafe { sys::enif_make_list_cell(self.env, e, list) };
        }
        Ok(list)
    }

    fn string(&mut self, bytes: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::CONTAINER + cost::CHAR * bytes.len() as u64)?;
        // SAFETY: valid env; `bytes` readable for its length; Latin-1 makes
        // one integer 0..255 per byte, as STRING_EXT means.
        Ok(unsafe {
            sys::enif_make_string_len(
                self.env,
                bytes.as_ptr().cast::<c_char>(),
                bytes.len(),
                ErlNifCharEncoding::ERL_NIF_LATIN1,
            )
        })
    }

    fn binary(&mut self, bytes: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::BINARY + bytes.len() as u64 / 10)?;
        let mut out = ErlNifTerm::default();
        // SAFETY: valid env; the VM returns a writable buffer of `len` bytes
        // (or aborts when out of memory), filled before the term is used.
        unsafe {
            let buf = sys::enif_make_new_binary(self.env, bytes.len(), &mut out);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        }
        Ok(out)
    }

    fn map(
        &mut self,
        keys: &[ErlNifTerm],
        values: &[ErlNifTerm],
    ) -> memacct_core::Result<ErlNifTerm> {
        let per_pair = if keys.len() > 32 {
            cost::HASH_PAIR
        } else {
            cost::FLAT_PAIR
        };
        self.charge(cost::CONTAINER + per_pair * keys.len() as u64)?;
        if keys.len() != values.len() {
            return Err(Error::InvalidValue {
                what: "map (keys and values differ in number)",
                offset: 0,
            });
        }
        let mut out = ErlNifTerm::default();
        // SAFETY: valid env; both arrays hold `len` terms of it; `out` writable.
        let made = unsafe {
            sys::enif_make_map_from_arrays(
                self.env,
                keys.as_ptr(),
                values.as_ptr(),
                keys.len(),
                &mut out,
            )
        };
        if made == 0 {
            return Err(Error::DuplicateMapKey { offset: 0 });
        }
        // A flat map (up to 32 keys) refuses a duplicate key; a HAMT keeps
        // one of them, so count its keys.
        if keys.len() > 32 {
            let mut size: usize = 0;
            // SAFETY: valid env; `out` is a term of it; `size` writable.
            if unsafe { sys::enif_get_map_size(self.env, out, &mut size) } == 0
                || size != keys.len()
            {
                return Err(Error::DuplicateMapKey { offset: 0 });
            }
        }
        Ok(out)
    }

    fn opaque(&mut self, etf: &[u8]) -> memacct_core::Result<ErlNifTerm> {
        self.charge(cost::OPAQUE + 2 * etf.len() as u64)?;
        self.vm_decode(etf)
    }
}
