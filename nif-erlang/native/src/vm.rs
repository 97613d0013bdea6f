//! The running VM as the core's [`VmContext`]: inside the VM every question
//! the core may ask (which node is local, an atom's word, the internal hash
//! of a pid, port, reference or `fun M:F/A`) has an exact answer.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;

use memacct_core::etf::Atom;
use memacct_core::hash::INTERNAL_HASH_SALT;
use memacct_core::{LocalNode, VmContext};

use crate::live::raw_word;
use rustler::sys::{
    enif_alloc_env, enif_binary_to_term, enif_clear_env, enif_free_env, enif_hash,
    enif_make_atom_len, enif_make_existing_atom_len, ErlNifCharEncoding, ErlNifEnv, ErlNifHash,
    ErlNifTerm, ERL_NIF_BIN2TERM_SAFE,
};

/// Terms decoded into the scratch environment before it is cleared.
const SCRATCH_TERMS: u32 = 4096;

/// A process-independent environment for terms that are only hashed.
struct Scratch {
    env: *mut ErlNifEnv,
    used: Cell<u32>,
}

impl Scratch {
    fn new() -> Scratch {
        // SAFETY: enif_alloc_env may be called from any NIF; the environment
        // is freed exactly once, in Drop.
        Scratch {
            env: unsafe { enif_alloc_env() },
            used: Cell::new(0),
        }
    }

    /// `binary_to_term(Etf)` into the scratch environment. Creates atoms that
    /// do not exist yet, exactly as `binary_to_term/1` would.
    fn decode(&self, etf: &[u8], safe: bool) -> Option<ErlNifTerm> {
        if self.used.get() >= SCRATCH_TERMS {
            // SAFETY: no term of this environment outlives one hash (the
            // callers below only hash the term or read its atom word, and
            // atoms are global).
            unsafe { enif_clear_env(self.env) };
            self.used.set(0);
        }
        self.used.set(self.used.get() + 1);
        let mut t = ErlNifTerm::default();
        // SAFETY: `etf` is a readable slice; options 0 (not SAFE) lets the
        // decoder create atoms, SAFE refuses new atoms; malformed input
        // makes it return 0, never UB.
        let flags = if safe { ERL_NIF_BIN2TERM_SAFE } else { 0 };
        let read = unsafe { enif_binary_to_term(self.env, etf.as_ptr(), etf.len(), &mut t, flags) };
        (read != 0).then_some(t)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: allocated by enif_alloc_env in `new`, freed once.
        unsafe { enif_free_env(self.env) };
    }
}

/// This VM, seen from inside one NIF call.
pub struct NifVm {
    local: Option<LocalNode>,
    /// Whether atoms that do not exist stay unknown (`safe`) instead of
    /// being created, as `binary_to_term(Etf, [safe])` refuses them.
    safe: bool,
    /// Allocated on first use: most sizings never need it.
    scratch: OnceCell<Scratch>,
    atoms: RefCell<HashMap<String, u64>>,
}

impl NifVm {
    /// The VM, with `local` as the node whose identifiers are local;
    /// `safe`: never create an atom (one that does not exist is unknown).
    pub fn new(local: Option<LocalNode>, safe: bool) -> NifVm {
        NifVm {
            local,
            safe,
            scratch: OnceCell::new(),
            atoms: RefCell::new(HashMap::new()),
        }
    }

    fn scratch(&self) -> &Scratch {
        self.scratch.get_or_init(Scratch::new)
    }

    /// The atom's word (`index << 6 | 0xB`), found or (unless `safe`) created.
    fn lookup_atom(&self, name: &str) -> Option<u64> {
        let latin1: Option<Vec<u8>> = name.chars().map(|c| u8::try_from(c).ok()).collect();
        match latin1 {
            Some(bytes) => {
                let mut atom = ErlNifTerm::default();
                // SAFETY: `bytes` is readable; the scratch env is valid. OTP 25
                // takes only ERL_NIF_LATIN1 here, and every name of this arm
                // is Latin-1.
                let found = unsafe {
                    enif_make_existing_atom_len(
                        self.scratch().env,
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        &mut atom,
                        ErlNifCharEncoding::ERL_NIF_LATIN1,
                    )
                };
                if found != 0 {
                    return Some(raw_word(atom));
                }
                if self.safe {
                    return None;
                }
                // Not an atom yet: binary_to_term would create it, so do so.
                // SAFETY: as above; names are at most 255 characters (the
                // ETF reader rejects longer ones).
                let atom = unsafe {
                    enif_make_atom_len(self.scratch().env, bytes.as_ptr().cast(), bytes.len())
                };
                Some(raw_word(atom))
            }
            None => {
                // Beyond Latin-1: OTP 25's NIF API has no UTF-8 atom calls,
                // but decoding ATOM_UTF8_EXT finds or creates it.
                let utf8 = name.as_bytes();
                let len = u16::try_from(utf8.len()).ok()?;
                let mut etf = Vec::with_capacity(utf8.len() + 4);
                etf.extend_from_slice(&[131, 118]);
                etf.extend_from_slice(&len.to_be_bytes());
                etf.extend_from_slice(utf8);
                self.scratch().decode(&etf, self.safe).map(raw_word)
            }
        }
    }
}

impl VmContext for NifVm {
    fn is_local(&self, node: &Atom<'_>, creation: u32) -> bool {
        self.local
            .as_ref()
            .is_some_and(|l| l.creation == creation && node.is(&l.name))
    }

    fn atom_word(&self, atom: &Atom<'_>) -> Option<u64> {
        let name = atom.name();
        if let Some(&w) = self.atoms.borrow().get(&name) {
            return Some(w);
        }
        let w = self.lookup_atom(&name)?;
        self.atoms.borrow_mut().insert(name, w);
        Some(w)
    }

    fn opaque_hash(&self, etf: &[u8], state: u32) -> Option<u32> {
        let t = self.scratch().decode(etf, self.safe)?;
        // make_internal_hash(T, Salt) starts from `Salt ^ INTERNAL_HASH_SALT`,
        // so this salt makes it start from `state`.
        let salt = u64::from(state ^ INTERNAL_HASH_SALT);
        // SAFETY: `t` is a valid term of the scratch env; enif_hash only reads it.
        let h = unsafe { enif_hash(ErlNifHash::ERL_NIF_INTERNAL_HASH, t, salt) };
        Some(h as u32)
    }
}
