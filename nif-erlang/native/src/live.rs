//! Live terms as the core's [`LiveTerm`]: this module only answers what a term
//! *is* (through the `enif_*` API, and for immediates, bignums and local
//! references through the term's own words — see [`word`]); every size rule
//! stays in `memacct-core`.
//!
//! A walk on a normal scheduler is *bounded*: [`Walk`] counts work units and,
//! when the budget runs out or a term would be expensive to look at (a fun or
//! a bitstring, which the NIF API can only see through `term_to_binary`, or a
//! large key to hash), it *bails*: every further `expand` answers
//! `Shape::Immediate` without children so the core finishes at once, and the
//! caller discards the result and retries on a dirty scheduler.

use std::cell::Cell;
use std::mem::MaybeUninit;

use memacct_core::{Error, LiveTerm, Result, Shape, SizeOptions};
use rustler::sys::{
    enif_get_int64, enif_get_list_cell, enif_get_local_pid, enif_get_local_port, enif_get_map_size,
    enif_get_tuple, enif_get_uint64, enif_hash, enif_inspect_binary, enif_is_binary,
    enif_is_empty_list, enif_map_iterator_create, enif_map_iterator_destroy,
    enif_map_iterator_get_pair, enif_map_iterator_next, enif_release_binary, enif_term_to_binary,
    enif_term_type, ErlNifBinary, ErlNifEnv, ErlNifHash, ErlNifMapIterator, ErlNifMapIteratorEntry,
    ErlNifPid, ErlNifPort, ErlNifTerm, ErlNifTermType,
};
use rustler::{Env, LocalPid, Term};

/// Smallest and largest immediate (small) integers on 64-bit OTP 25.
const SMALL_MIN: i64 = -(1 << 59);
const SMALL_MAX: i64 = (1 << 59) - 1;

/// Term words as OTP 25 (64-bit) lays them out (erts/emulator/beam/erl_term.h).
/// The walk reads them only to skip NIF API calls that would give the same
/// answer: a word whose two low bits are `11` is an immediate (small integer,
/// atom, local pid or port, `[]`) and takes no heap words; a boxed term's
/// header word gives its size for the "thing" kinds that `size_object` counts
/// as `arity + 1` (local references, bignums).
mod word {
    /// Low two bits of an immediate.
    pub const IMMEDIATE: u64 = 0b11;
    /// Low two bits of a boxed term (a pointer to its header).
    pub const BOXED: u64 = 0b10;
    /// `[]`.
    pub const NIL: u64 = 0x3B;
    /// Header bits that name the kind of a boxed object.
    pub const HEADER_KIND_MASK: u64 = 0x3F;
    /// `_TAG_HEADER_REF`: a local reference (ordinary, alias or magic).
    pub const HEADER_REF: u64 = 0x4 << 2;
    /// `_TAG_HEADER_POS_BIG` and `_TAG_HEADER_NEG_BIG`.
    pub const HEADER_POS_BIG: u64 = 0x2 << 2;
    pub const HEADER_NEG_BIG: u64 = 0x3 << 2;
    /// The arity of a header word sits above its 6 kind bits.
    pub const HEADER_ARITY_SHIFT: u32 = 6;
    /// `REFC_BINARY_SUBTAG`: a ProcBin (`thing_word, size, next, val, bytes,
    /// flags`).
    pub const HEADER_REFC_BINARY: u64 = 0x8 << 2;
    /// `HEAP_BINARY_SUBTAG`: `thing_word, size, data...`.
    pub const HEADER_HEAP_BINARY: u64 = 0x9 << 2;
    /// `SUB_BINARY_SUBTAG`: an `ErlSubBin` (`thing_word, size, offs,
    /// {bitsize, bitoffs, is_writable} bytes, orig`).
    pub const HEADER_SUB_BINARY: u64 = 0xA << 2;
}

/// Maps with more keys than this are HAMTs whose layout needs key hashes.
const FLATMAP_LIMIT: usize = 32;

/// Work units per encoded byte of an opaque leaf are charged per this many bytes.
const BYTES_PER_UNIT: u64 = 64;

/// Work units of one opaque leaf besides its bytes: encoding it and sizing
/// the encoding cost about as much as visiting eight terms (measured: ~400 ns
/// per reference against ~50 ns per unit).
const OPAQUE_UNITS: u64 = 8;

/// Largest key (in work units) labelled through its encoding when unbounded
/// walks meet it is unlimited; bounded walks charge the key's cost instead.
const LABEL_KEY_UNITS: u64 = 1 << 16;

/// Work units between two checks, in an unbounded walk, that its caller is
/// still alive (a term of few words can share sub-terms so much that it
/// takes forever to walk, as `erts_debug:flat_size/1` would).
const CALLER_CHECK_UNITS: u64 = 1 << 16;

/// Shared state of one walk: its work budget and whether it bailed out.
pub struct Walk {
    /// Work units left, or `None` for an unbounded (dirty scheduler) walk.
    left: Cell<Option<u64>>,
    bailed: Cell<bool>,
    /// An unbounded walk's caller, looked at every [`CALLER_CHECK_UNITS`].
    caller: Option<LocalPid>,
    spent: Cell<u64>,
    cancelled: Cell<bool>,
}

impl Walk {
    /// A walk that bails after `units` work units (normal schedulers).
    pub fn bounded(units: u64) -> Walk {
        Walk {
            left: Cell::new(Some(units)),
            bailed: Cell::new(false),
            caller: None,
            spent: Cell::new(0),
            cancelled: Cell::new(false),
        }
    }

    /// A walk without a budget (dirty schedulers) that stops if `caller`
    /// exits meanwhile: nobody waits for its answer then.
    pub fn unbounded(caller: LocalPid) -> Walk {
        Walk {
            left: Cell::new(None),
            bailed: Cell::new(false),
            caller: Some(caller),
            spent: Cell::new(0),
            cancelled: Cell::new(false),
        }
    }

    /// Whether the walk gave up and must be redone on a dirty scheduler.
    pub fn bailed(&self) -> bool {
        self.bailed.get() && !self.cancelled.get()
    }

    /// Whether an unbounded walk stopped because its caller exited.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// In an unbounded walk, every [`CALLER_CHECK_UNITS`]: stops the walk
    /// if its caller has exited. True when the walk goes on.
    fn caller_alive(&self, env: Env<'_>) -> bool {
        let Some(caller) = self.caller else {
            return true;
        };
        let spent = self.spent.get() + 1;
        self.spent.set(spent);
        if spent % CALLER_CHECK_UNITS != 0 || env.is_process_alive(caller) {
            return true;
        }
        self.cancelled.set(true);
        self.bail();
        false
    }

    fn is_bounded(&self) -> bool {
        self.left.get().is_some()
    }

    /// Work units left (`u64::MAX` when unbounded).
    fn remaining(&self) -> u64 {
        self.left.get().unwrap_or(u64::MAX)
    }

    /// Charges `units`; false (and bails) when the budget cannot pay them.
    fn charge(&self, units: u64) -> bool {
        match self.left.get() {
            None => true,
            Some(left) if left >= units => {
                self.left.set(Some(left - units));
                true
            }
            Some(_) => {
                self.bail();
                false
            }
        }
    }

    fn bail(&self) {
        self.bailed.set(true);
    }
}

/// Options for the parts of a live term that the core sizes from their
/// encoding: nothing that exists in the VM is rejected for its depth.
pub fn live_options(local: Option<memacct_core::LocalNode>, fields: bool) -> SizeOptions {
    SizeOptions {
        local_node: local,
        max_depth: u32::MAX,
        fields,
        ..SizeOptions::default()
    }
}

/// A live term of the calling NIF's environment.
#[derive(Clone, Copy)]
pub struct Live<'a, 'w> {
    term: Term<'a>,
    walk: &'w Walk,
}

impl<'a, 'w> Live<'a, 'w> {
    /// Wraps `term` for a walk sharing `walk`.
    pub fn new(term: Term<'a>, walk: &'w Walk) -> Self {
        Live { term, walk }
    }

    fn env(&self) -> *mut ErlNifEnv {
        self.term.get_env().as_c_arg()
    }

    fn child(&self, raw: ErlNifTerm) -> Self {
        // SAFETY: `raw` was read out of `self.term` (an element, cell or map
        // entry), so it is a valid term of the same environment and lifetime.
        let term = unsafe { Term::new(self.term.get_env(), raw) };
        Live {
            term,
            walk: self.walk,
        }
    }

    /// An integer: immediate when it fits the small range, else a bignum
    /// sized from its encoding.
    fn integer(&self) -> Result<Shape> {
        let (env, t) = (self.env(), self.term.as_c_arg());
        let mut v = 0i64;
        // SAFETY: `env`/`t` are the calling NIF's environment and one of its
        // terms; `v` is a valid out-pointer.
        if unsafe { enif_get_int64(env, t, &mut v) } != 0 {
            if (SMALL_MIN..=SMALL_MAX).contains(&v) {
                return Ok(Shape::Immediate);
            }
            if let Some(words) = thing_words(t, &[word::HEADER_POS_BIG, word::HEADER_NEG_BIG]) {
                return Ok(Shape::Bignum(words));
            }
            return self.opaque();
        }
        let mut u = 0u64;
        // SAFETY: as above.
        if unsafe { enif_get_uint64(env, t, &mut u) } != 0 || !self.walk.is_bounded() {
            return self.opaque();
        }
        if let Some(words) = thing_words(t, &[word::HEADER_POS_BIG, word::HEADER_NEG_BIG]) {
            return Ok(Shape::Bignum(words));
        }
        // Not a bignum the header tells: its encoding costs its size; go dirty.
        Ok(self.bail())
    }

    /// Sized from its encoding (`term_to_binary`), as the core asks for terms
    /// the NIF API cannot see into.
    fn opaque(&self) -> Result<Shape> {
        let etf = encode(self.env(), self.term.as_c_arg()).ok_or(Error::Unsupported {
            what: "a term that term_to_binary cannot encode",
        })?;
        if !self
            .walk
            .charge(OPAQUE_UNITS + etf.len() as u64 / BYTES_PER_UNIT)
        {
            return Ok(Shape::Immediate);
        }
        Ok(Shape::Etf(etf))
    }

    /// Gives up a bounded walk (the caller retries on a dirty scheduler).
    fn bail(&self) -> Shape {
        self.walk.bail();
        Shape::Immediate
    }

    fn list(&self, children: &mut Vec<Self>) -> Result<Shape> {
        let (env, t) = (self.env(), self.term.as_c_arg());
        // SAFETY: valid env and term.
        if unsafe { enif_is_empty_list(env, t) } != 0 {
            return Ok(Shape::Nil);
        }
        let (mut head, mut tail) = (ErlNifTerm::default(), ErlNifTerm::default());
        // SAFETY: valid env and term; out-pointers to locals.
        if unsafe { enif_get_list_cell(env, t, &mut head, &mut tail) } == 0 {
            return Err(Error::Unsupported {
                what: "a list the NIF API cannot split",
            });
        }
        children.push(self.child(head));
        children.push(self.child(tail));
        Ok(Shape::Cons)
    }

    fn tuple(&self, children: &mut Vec<Self>) -> Result<Shape> {
        let (env, t) = (self.env(), self.term.as_c_arg());
        let mut arity = 0;
        let mut elems: *const ErlNifTerm = std::ptr::null();
        // SAFETY: valid env and term; out-pointers to locals. On success
        // `elems` points at `arity` terms inside the tuple, which lives as
        // long as the environment.
        if unsafe { enif_get_tuple(env, t, &mut arity, &mut elems) } == 0 {
            return Err(Error::Unsupported {
                what: "a tuple the NIF API cannot read",
            });
        }
        let n = arity as usize;
        if !self.walk.charge(n as u64) {
            return Ok(Shape::Immediate);
        }
        if n > 0 {
            // SAFETY: see above; `n > 0` so `elems` is non-null.
            let elems = unsafe { std::slice::from_raw_parts(elems, n) };
            children.extend(elems.iter().map(|&e| self.child(e)));
        }
        Ok(Shape::Tuple(n))
    }

    fn map(&self, children: &mut Vec<Self>) -> Result<Shape> {
        let (env, t) = (self.env(), self.term.as_c_arg());
        let mut size = 0usize;
        // SAFETY: valid env and term; out-pointer to a local.
        if unsafe { enif_get_map_size(env, t, &mut size) } == 0 {
            return Err(Error::Unsupported {
                what: "a map the NIF API cannot read",
            });
        }
        if !self.walk.charge(2 * size as u64) {
            return Ok(Shape::Immediate);
        }
        let mut iter = MaybeUninit::<ErlNifMapIterator>::uninit();
        // SAFETY: valid env and map term; `iter` is written by the call and
        // destroyed below on success.
        let created = unsafe {
            enif_map_iterator_create(
                env,
                t,
                iter.as_mut_ptr(),
                ErlNifMapIteratorEntry::ERL_NIF_MAP_ITERATOR_HEAD,
            )
        };
        if created == 0 {
            return Err(Error::Unsupported {
                what: "a map the NIF API cannot iterate",
            });
        }
        let start = children.len();
        let (mut k, mut v) = (ErlNifTerm::default(), ErlNifTerm::default());
        // SAFETY: `iter` was initialised by a successful create; get_pair
        // returns 0 at the tail; destroy is called exactly once.
        unsafe {
            while enif_map_iterator_get_pair(env, iter.as_mut_ptr(), &mut k, &mut v) != 0 {
                children.push(self.child(k));
                children.push(self.child(v));
                enif_map_iterator_next(env, iter.as_mut_ptr());
            }
            enif_map_iterator_destroy(env, iter.as_mut_ptr());
        }
        let n = (children.len() - start) / 2;
        if n > FLATMAP_LIMIT && self.walk.is_bounded() {
            // The core hashes every key of a HAMT now, before walking them:
            // pay for that hashing up front (twice, for salted rehashes).
            let mut units = 0u64;
            for i in 0..n {
                let left = self.walk.remaining().saturating_sub(units) / 2;
                match key_cost(env, children[start + 2 * i].term.as_c_arg(), left) {
                    Some(c) => units += c,
                    None => return Ok(self.bail()),
                }
            }
            if !self.walk.charge(2 * units) {
                return Ok(Shape::Immediate);
            }
        }
        Ok(Shape::Map(n))
    }

    fn bitstring(&self) -> Result<Shape> {
        let (env, t) = (self.env(), self.term.as_c_arg());
        if let Some(shape) = binary_shape(t) {
            return Ok(shape);
        }
        // SAFETY: valid env and term.
        if unsafe { enif_is_binary(env, t) } != 0 {
            let mut bin = MaybeUninit::<ErlNifBinary>::uninit();
            // SAFETY: valid env and binary term; an inspected binary is not
            // owned by us and needs no release. (A byte-sized sub-binary at a
            // bit offset is copied by the VM into a temporary buffer.)
            if unsafe { enif_inspect_binary(env, t, bin.as_mut_ptr()) } != 0 {
                // SAFETY: written by the successful inspect.
                let size = unsafe { bin.assume_init() }.size;
                return Ok(Shape::Binary(size));
            }
        }
        // A bitstring: only its encoding (a copy of its bytes) tells its size.
        if self.walk.is_bounded() {
            return Ok(self.bail());
        }
        self.opaque()
    }
}

impl LiveTerm for Live<'_, '_> {
    fn expand(&self, children: &mut Vec<Self>) -> Result<Shape> {
        if self.walk.bailed.get()
            || !self.walk.charge(1)
            || !self.walk.caller_alive(self.term.get_env())
        {
            return Ok(Shape::Immediate);
        }
        let (env, t) = (self.env(), self.term.as_c_arg());
        let w = raw_word(t);
        if w & 0b11 == word::IMMEDIATE {
            return Ok(if w == word::NIL {
                Shape::Nil
            } else {
                Shape::Immediate
            });
        }
        // SAFETY: valid env and term.
        let ty = unsafe { enif_term_type(env, t) };
        match ty {
            ErlNifTermType::ERL_NIF_TERM_TYPE_ATOM => Ok(Shape::Immediate),
            ErlNifTermType::ERL_NIF_TERM_TYPE_INTEGER => self.integer(),
            ErlNifTermType::ERL_NIF_TERM_TYPE_FLOAT => Ok(Shape::Float),
            ErlNifTermType::ERL_NIF_TERM_TYPE_LIST => self.list(children),
            ErlNifTermType::ERL_NIF_TERM_TYPE_TUPLE => self.tuple(children),
            ErlNifTermType::ERL_NIF_TERM_TYPE_MAP => self.map(children),
            ErlNifTermType::ERL_NIF_TERM_TYPE_BITSTRING => self.bitstring(),
            ErlNifTermType::ERL_NIF_TERM_TYPE_PID => {
                let mut pid = MaybeUninit::<ErlNifPid>::uninit();
                // SAFETY: valid env and term; out-pointer to a local.
                if unsafe { enif_get_local_pid(env, t, pid.as_mut_ptr()) } != 0 {
                    Ok(Shape::Immediate)
                } else {
                    self.opaque()
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_PORT => {
                let mut port = MaybeUninit::<ErlNifPort>::uninit();
                // SAFETY: valid env and term; out-pointer to a local.
                if unsafe { enif_get_local_port(env, t, port.as_mut_ptr()) } != 0 {
                    Ok(Shape::Immediate)
                } else {
                    self.opaque()
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_REFERENCE => {
                match thing_words(t, &[word::HEADER_REF]) {
                    Some(words) => Ok(Shape::LocalRef(words)),
                    None => self.opaque(), // an external reference
                }
            }
            // A closure's environment can be any size: only dirty walks encode it.
            ErlNifTermType::ERL_NIF_TERM_TYPE_FUN if self.walk.is_bounded() => Ok(self.bail()),
            ErlNifTermType::ERL_NIF_TERM_TYPE_FUN => self.opaque(),
            _ => Err(Error::Unsupported {
                what: "a term type that OTP 25's NIF API does not name",
            }),
        }
    }

    fn internal_hash(&self, salt: u32) -> u32 {
        // SAFETY: a valid term; enif_hash only reads it. ERL_NIF_INTERNAL_HASH
        // is the VM's make_internal_hash(Term, (Uint32) Salt) on OTP 25.
        let h = unsafe {
            enif_hash(
                ErlNifHash::ERL_NIF_INTERNAL_HASH,
                self.term.as_c_arg(),
                u64::from(salt),
            )
        };
        h as u32
    }

    fn label(&self) -> String {
        let (env, t) = (self.env(), self.term.as_c_arg());
        // SAFETY: valid env and term.
        let ty = unsafe { enif_term_type(env, t) };
        if matches!(ty, ErlNifTermType::ERL_NIF_TERM_TYPE_FUN) {
            return "<fun>".to_string();
        }
        if self.walk.bailed() {
            return String::new();
        }
        let limit = if self.walk.is_bounded() {
            self.walk.remaining()
        } else {
            LABEL_KEY_UNITS
        };
        // Labelling encodes the key and has the core render it: charge it
        // like an opaque leaf (measured ~0.5 us per small key).
        match key_cost(env, t, limit) {
            Some(units) if self.walk.charge(OPAQUE_UNITS + units) => {}
            _ if self.walk.is_bounded() => {
                self.walk.bail();
                return String::new();
            }
            _ => {}
        }
        encode(env, t)
            .and_then(|etf| label_from_etf(&etf))
            .unwrap_or_else(|| "<key>".to_string())
    }
}

/// The key's label in the core's format: the core labels the keys of a root
/// map, so a one-key map around the key's encoding yields exactly it.
fn label_from_etf(key: &[u8]) -> Option<String> {
    let body = key.get(1..)?;
    let mut map = Vec::with_capacity(body.len() + 8);
    map.extend_from_slice(&[131, 116, 0, 0, 0, 1]);
    map.extend_from_slice(body);
    map.push(106);
    let opts = SizeOptions {
        max_depth: u32::MAX,
        ..SizeOptions::default()
    };
    memacct_core::term_size(&map, &opts)
        .ok()
        .and_then(|s| s.fields.into_iter().next())
        .map(|f| f.label)
}

/// The raw word of a term (for an atom, `index << 6 | 0xB`).
pub fn raw_word(t: ErlNifTerm) -> u64 {
    // SAFETY: `ErlNifTerm` is `#[repr(transparent)]` over `usize` (the
    // C `ERL_NIF_TERM`), so reading it as a `usize` is a plain copy.
    let w: usize = unsafe { std::mem::transmute::<ErlNifTerm, usize>(t) };
    w as u64
}

/// The header word of a boxed term, `None` for other terms.
fn boxed_header(t: ErlNifTerm) -> Option<u64> {
    let w = raw_word(t);
    if w & 0b11 != word::BOXED {
        return None;
    }
    // SAFETY: a boxed term word is a tagged pointer to the object's first
    // word (its header) on the heap of the environment the term belongs to,
    // which stays alive for the whole NIF call; the walk never keeps it longer.
    Some(unsafe { std::ptr::read((w & !0b11) as *const u64) })
}

/// Word `i` (0: the header) of the boxed object `t` points to.
///
/// # Safety
/// `t` must be a boxed term of the calling NIF's environment whose object
/// has more than `i` words (its header says so).
unsafe fn boxed_word(t: ErlNifTerm, i: usize) -> u64 {
    let w = raw_word(t);
    // SAFETY: per the contract, the object is live for the NIF call and has
    // a word `i`.
    unsafe { std::ptr::read(((w & !0b11) as *const u64).add(i)) }
}

/// What the VM holds for a binary or bitstring term, read from its header
/// words (without `enif_inspect_binary`, which copies a sub-binary at a bit
/// offset whole, whatever the walk's budget). `None` for anything else.
fn binary_shape(t: ErlNifTerm) -> Option<Shape> {
    if cfg!(target_endian = "big") {
        return None; // ErlSubBin's byte fields are read little-endian below.
    }
    let h = boxed_header(t)?;
    // SAFETY (every `boxed_word` below): `t` is boxed (its header was read)
    // and the header kind tells the object's layout: size at word 1 for
    // every binary kind; an ErlSubBin has 5 words, its `orig` a boxed term.
    let size = || unsafe { boxed_word(t, 1) } as usize;
    match h & word::HEADER_KIND_MASK {
        word::HEADER_HEAP_BINARY => Some(Shape::Binary(size())),
        word::HEADER_REFC_BINARY => Some(Shape::RefcBinary(size())),
        word::HEADER_SUB_BINARY => {
            let bits = unsafe { boxed_word(t, 3) };
            let (bitsize, bitoffs) = (bits & 0xFF, (bits >> 8) & 0xFF);
            // SAFETY: `orig` (word 4) is the boxed original binary.
            let orig =
                unsafe { std::mem::transmute::<usize, ErlNifTerm>(boxed_word(t, 4) as usize) };
            let refc = boxed_header(orig)? & word::HEADER_KIND_MASK == word::HEADER_REFC_BINARY;
            Some(match (bitsize + bitoffs, refc) {
                (0, true) => Shape::RefcBinary(size()),
                (0, false) => Shape::Binary(size()),
                (bits, refc) => Shape::SubBinary {
                    len: size(),
                    refc,
                    extra_bytes: if bits > 8 { 2 } else { 1 },
                },
            })
        }
        _ => None,
    }
}

/// `arity + 1`: the heap words of a thing whose header kind is `kind`, read
/// straight from its header (what the VM's `size_object` counts for it).
fn thing_words(t: ErlNifTerm, kinds: &[u64]) -> Option<usize> {
    let h = boxed_header(t)?;
    kinds
        .contains(&(h & word::HEADER_KIND_MASK))
        .then(|| (h >> word::HEADER_ARITY_SHIFT) as usize + 1)
}

/// `term_to_binary(Term)` as bytes.
pub fn encode(env: *mut ErlNifEnv, t: ErlNifTerm) -> Option<Vec<u8>> {
    let mut bin = MaybeUninit::<ErlNifBinary>::uninit();
    // SAFETY: valid env and term; on success the binary is ours and is
    // released right after copying.
    unsafe {
        if enif_term_to_binary(env, t, bin.as_mut_ptr()) == 0 {
            return None;
        }
        let mut bin = bin.assume_init();
        let bytes = if bin.size == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(bin.data, bin.size).to_vec()
        };
        enif_release_binary(&mut bin);
        Some(bytes)
    }
}

/// Work units to hash (or encode) `t`, or `None` when above `limit` or of a
/// kind whose cost the NIF API cannot tell (funs, bitstrings, bignums beyond
/// 64 bits). An iterative walk: never recurses on input depth.
fn key_cost(env: *mut ErlNifEnv, t: ErlNifTerm, limit: u64) -> Option<u64> {
    let mut units = 0u64;
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        units += 1;
        if units > limit {
            return None;
        }
        // SAFETY (whole match): `env` is the calling NIF's environment and
        // every `t` is a term of it or a sub-term read out of one.
        let ty = unsafe { enif_term_type(env, t) };
        match ty {
            ErlNifTermType::ERL_NIF_TERM_TYPE_ATOM
            | ErlNifTermType::ERL_NIF_TERM_TYPE_FLOAT
            | ErlNifTermType::ERL_NIF_TERM_TYPE_PID
            | ErlNifTermType::ERL_NIF_TERM_TYPE_PORT
            | ErlNifTermType::ERL_NIF_TERM_TYPE_REFERENCE => {}
            ErlNifTermType::ERL_NIF_TERM_TYPE_INTEGER => {
                let (mut i, mut u) = (0i64, 0u64);
                if unsafe { enif_get_int64(env, t, &mut i) } == 0
                    && unsafe { enif_get_uint64(env, t, &mut u) } == 0
                {
                    return None;
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_LIST => {
                let (mut h, mut tl) = (ErlNifTerm::default(), ErlNifTerm::default());
                if unsafe { enif_get_list_cell(env, t, &mut h, &mut tl) } != 0 {
                    stack.push(tl);
                    stack.push(h);
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_TUPLE => {
                let mut arity = 0;
                let mut elems: *const ErlNifTerm = std::ptr::null();
                if unsafe { enif_get_tuple(env, t, &mut arity, &mut elems) } == 0 {
                    return None;
                }
                if arity > 0 {
                    let elems = unsafe { std::slice::from_raw_parts(elems, arity as usize) };
                    stack.extend_from_slice(elems);
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_MAP => {
                let mut size = 0usize;
                if unsafe { enif_get_map_size(env, t, &mut size) } == 0
                    || units.saturating_add(2 * size as u64) > limit
                {
                    return None;
                }
                let mut iter = MaybeUninit::<ErlNifMapIterator>::uninit();
                let head = ErlNifMapIteratorEntry::ERL_NIF_MAP_ITERATOR_HEAD;
                if unsafe { enif_map_iterator_create(env, t, iter.as_mut_ptr(), head) } == 0 {
                    return None;
                }
                let (mut k, mut v) = (ErlNifTerm::default(), ErlNifTerm::default());
                unsafe {
                    while enif_map_iterator_get_pair(env, iter.as_mut_ptr(), &mut k, &mut v) != 0 {
                        stack.push(k);
                        stack.push(v);
                        enif_map_iterator_next(env, iter.as_mut_ptr());
                    }
                    enif_map_iterator_destroy(env, iter.as_mut_ptr());
                }
            }
            ErlNifTermType::ERL_NIF_TERM_TYPE_BITSTRING => {
                let size = match binary_shape(t)? {
                    Shape::Binary(n) | Shape::RefcBinary(n) => n,
                    Shape::SubBinary { len, .. } => len,
                    _ => return None,
                };
                units = units.saturating_add(size as u64 / BYTES_PER_UNIT);
            }
            _ => return None,
        }
    }
    Some(units)
}
