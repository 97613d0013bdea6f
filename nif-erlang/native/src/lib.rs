//! Erlang NIF of memacct (`memacct_nif`, loaded by the OTP application
//! `memacct`). It converts types and answers the VM questions the core asks;
//! every sizing algorithm lives in `memacct-core`.
//!
//! Scheduling: the BEAM must never be held for more than about a millisecond.
//! Each sizing comes as a pair of NIFs: one on a normal scheduler that does
//! small jobs and answers `dirty` for large ones, and a `*_dirty` twin on a
//! dirty CPU scheduler; `memacct.erl` calls the twin on `dirty`.

use memacct_core::{Error, LocalNode, SizeOptions, TermSize};
use rustler::{Atom, Binary, Encoder, Env, Error as NifError, NifResult, Term};

mod build;
mod codec;
mod decompose;
mod live;
mod native_memory;
mod pool;
mod vm;

use live::{live_options, Live, Walk};
use vm::NifVm;

rustler::atoms! {
    ok,
    error,
    dirty,
    flat,
    full,
    none,
    default,
    words,
    bytes,
    off_heap_bytes,
    refc_binaries,
    by_kind,
    nodes,
    max_depth,
    fields,
    // A dirty walk whose caller exited (no core error: nobody reads it).
    cancelled,
    // Error codes, one per `memacct_core::Error::code()`.
    truncated,
    bad_version,
    empty,
    unknown_tag,
    length_too_large,
    too_deep,
    inflate_limit,
    bad_compression,
    atom_cache_ref,
    invalid_value,
    duplicate_map_key,
    needs_vm,
    unsupported,
    bad_blob,
    blob_version,
    dictionary_required,
    dictionary_mismatch,
    checksum_mismatch,
    codec,
    bad_dictionary,
    invalid_option,
    pool_exhausted,
    stale_handle,
    bad_checkpoint,
    io,
    bad_snapshot,
}

/// Work units ETF sizing may spend on a normal scheduler before it gives up
/// and the job moves to a dirty one (see
/// [`memacct_core::term_size_within`]: about one unit per byte of ETF, of
/// inflated ETF, and of map keys checked or hashed). Input whose bytes alone
/// pass it goes dirty without being read.
///
/// Measured on the 2-core build machine (OTP 25, release build), normal
/// path, best of 21 (`memacct_SUITE:normal_path_is_short`, each shape grown
/// to the largest the budget takes): deep tuples 0.17 ms, HAMTs of integer
/// keys 0.16 ms, of tuple keys 0.14 ms, flatmaps of tuple keys 0.10-0.17 ms;
/// maps nested in map keys (charged again at every level) 0.02 ms; lists
/// of connection states 13-22 µs.
pub const ETF_NORMAL_BUDGET: u64 = 16 * 1024;

/// Work units a live walk may spend on a normal scheduler before it gives up
/// and the term is sized on a dirty scheduler. A unit is about one term
/// visited (containers also pay their width, HAMT maps their key hashing,
/// encoded leaves 8 units plus 1 per 64 bytes).
///
/// Measured as above: 30-55 ns per unit (lists of small integers 31 ns,
/// 500-key maps 52-54 ns), so a walk that spends the whole budget holds the
/// scheduler for about 0.25-0.45 ms before moving to a dirty one.
pub const LIVE_NORMAL_BUDGET: u64 = 8_000;

/// Report kind asked for: words only, or the full map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Report {
    Flat,
    Full,
}

fn report(a: Atom) -> NifResult<Report> {
    if a == flat() {
        Ok(Report::Flat)
    } else if a == full() {
        Ok(Report::Full)
    } else {
        Err(NifError::BadArg)
    }
}

/// The elements of a proper list; `badarg` for anything else (rustler's own
/// list decoding panics on an improper list).
pub(crate) fn proper_list(mut t: Term<'_>) -> NifResult<Vec<Term<'_>>> {
    let mut out = Vec::new();
    while !t.is_empty_list() {
        let (head, tail) = t.list_get_cell().map_err(|_| NifError::BadArg)?;
        out.push(head);
        t = tail;
    }
    Ok(out)
}

/// The binaries of a proper list of binaries; `badarg` for anything else.
pub(crate) fn binaries(t: Term<'_>) -> NifResult<Vec<Binary<'_>>> {
    proper_list(t)?.into_iter().map(|b| b.decode()).collect()
}

/// `{error, {Code, Message}}` for a core error: the one mapping of [`Error`].
pub(crate) fn error_term<'a>(env: Env<'a>, e: &Error) -> Term<'a> {
    let code = match e.code() {
        "truncated" => truncated(),
        "bad_version" => bad_version(),
        "empty" => empty(),
        "unknown_tag" => unknown_tag(),
        "length_too_large" => length_too_large(),
        "too_deep" => too_deep(),
        "inflate_limit" => inflate_limit(),
        "bad_compression" => bad_compression(),
        "atom_cache_ref" => atom_cache_ref(),
        "invalid_value" => invalid_value(),
        "duplicate_map_key" => duplicate_map_key(),
        "needs_vm" => needs_vm(),
        "unsupported" => unsupported(),
        "bad_blob" => bad_blob(),
        "blob_version" => blob_version(),
        "dictionary_required" => dictionary_required(),
        "dictionary_mismatch" => dictionary_mismatch(),
        "checksum_mismatch" => checksum_mismatch(),
        "codec" => codec(),
        "bad_dictionary" => bad_dictionary(),
        "invalid_option" => invalid_option(),
        "pool_exhausted" => pool_exhausted(),
        "stale_handle" => stale_handle(),
        "bad_checkpoint" => bad_checkpoint(),
        "io" => io(),
        "bad_snapshot" => bad_snapshot(),
        // A code added to the core later: still an atom, made on demand.
        other => Atom::from_str(env, other).unwrap_or_else(|_| unsupported()),
    };
    (error(), (code, e.to_string())).encode(env)
}

/// The report as an Erlang term: words, or the full map.
fn report_term<'a>(env: Env<'a>, s: &TermSize, what: Report) -> NifResult<Term<'a>> {
    if what == Report::Flat {
        return Ok(s.words.encode(env));
    }
    let mut kinds = Term::map_new(env);
    for (kind, w) in s.by_kind.iter() {
        kinds = kinds.map_put(Atom::from_str(env, kind.name())?, w)?;
    }
    let fields_list: Vec<Term<'a>> = s
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.key_words, f.value_words).encode(env))
        .collect();
    let keys = [
        words().encode(env),
        bytes().encode(env),
        off_heap_bytes().encode(env),
        refc_binaries().encode(env),
        by_kind().encode(env),
        nodes().encode(env),
        max_depth().encode(env),
        fields().encode(env),
    ];
    let values = [
        s.words.encode(env),
        s.bytes.encode(env),
        s.off_heap_bytes.encode(env),
        s.refc_binaries.encode(env),
        kinds,
        s.nodes.encode(env),
        s.max_depth.encode(env),
        fields_list.encode(env),
    ];
    Term::map_from_term_arrays(env, &keys, &values)
}

fn result_term<'a>(
    env: Env<'a>,
    r: memacct_core::Result<TermSize>,
    what: Report,
) -> NifResult<Term<'a>> {
    match r {
        Ok(s) => Ok((ok(), report_term(env, &s, what)?).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// An atom's text. OTP 25's NIF API reads atoms as Latin-1 only, which
/// covers node names; other atoms give `badarg`.
fn atom_text(atom: Term) -> NifResult<String> {
    let mut buf = [0u8; 256];
    // SAFETY: valid env and term; `buf` has room for the longest atom (255
    // Latin-1 characters) plus the NUL that enif_get_atom writes.
    let n = unsafe {
        rustler::sys::enif_get_atom(
            atom.get_env().as_c_arg(),
            atom.as_c_arg(),
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
            rustler::sys::ErlNifCharEncoding::ERL_NIF_LATIN1,
        )
    };
    if n < 1 {
        return Err(NifError::BadArg);
    }
    Ok(buf[..n as usize - 1]
        .iter()
        .map(|&b| char::from(b))
        .collect())
}

/// A node name given as an atom or a UTF-8 binary.
fn local_node(name: Term, creation: u32) -> NifResult<LocalNode> {
    let name = if name.is_atom() {
        atom_text(name)?
    } else {
        let bin: Binary = name.decode()?;
        std::str::from_utf8(bin.as_slice())
            .map_err(|_| NifError::BadArg)?
            .to_string()
    };
    Ok(LocalNode { name, creation })
}

// ---------------------------------------------------------------------------
// Live terms

fn live_size_impl<'a>(
    env: Env<'a>,
    term: Term<'a>,
    what: Atom,
    node: Term<'a>,
    creation: u32,
    walk: &Walk,
    budget: u64,
) -> NifResult<Term<'a>> {
    let what = report(what)?;
    let opts = live_options(Some(local_node(node, creation)?), what == Report::Full);
    let vm = NifVm::new(opts.local_node.clone(), false);
    let r = memacct_core::live_term_size_within(Live::new(term, walk), &opts, &vm, budget);
    if walk.cancelled() {
        return Ok((error(), (cancelled(), "the caller exited during the walk")).encode(env));
    }
    if walk.bailed() {
        return Ok(dirty().encode(env));
    }
    match r {
        Ok(Some(s)) => result_term(env, Ok(s), what),
        Ok(None) => Ok(dirty().encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// `live_size(Term, flat | full, NodeName, Creation, Budget)` on a normal
/// scheduler: `{ok, Words | Map}`, `{error, {Code, Msg}}`, or `dirty` when
/// the term needs more than `Budget` work units (`default`:
/// [`LIVE_NORMAL_BUDGET`]) or holds a fun, a bitstring or a large bignum.
#[rustler::nif]
fn live_size<'a>(
    env: Env<'a>,
    term: Term<'a>,
    what: Atom,
    node: Term<'a>,
    creation: u32,
    budget: Term<'a>,
) -> NifResult<Term<'a>> {
    let budget = if budget.is_atom() && budget.decode::<Atom>()? == default() {
        LIVE_NORMAL_BUDGET
    } else {
        budget.decode::<u64>()?
    };
    let walk = Walk::bounded(budget);
    live_size_impl(env, term, what, node, creation, &walk, budget)
}

/// The dirty-scheduler twin of `live_size/5`, without a budget.
#[rustler::nif(schedule = "DirtyCpu")]
fn live_size_dirty<'a>(
    env: Env<'a>,
    term: Term<'a>,
    what: Atom,
    node: Term<'a>,
    creation: u32,
) -> NifResult<Term<'a>> {
    let walk = Walk::unbounded(env.pid());
    live_size_impl(env, term, what, node, creation, &walk, u64::MAX)
}

// ---------------------------------------------------------------------------
// ETF input

/// Options as `memacct.erl` normalises them:
/// `{LocalNode :: none | {Name :: binary(), Creation}, MaxDepth, InflateLimit,
///   Fields :: boolean(), AtomWords :: none | [{Name :: binary(), Word}]}`.
type OptsTuple<'a> = (Term<'a>, u32, u64, bool, Term<'a>, bool);

/// Decoded options; `snapshot` when an atom table was given (then the core
/// answers from the options alone, as the C and Python surfaces do); `safe`
/// when no atom may be created.
fn decode_opts(t: Term) -> NifResult<(SizeOptions, bool, bool)> {
    let (local, max_depth, inflate_limit, fields, atom_words, safe): OptsTuple = t.decode()?;
    let local_node = if local.is_atom() && local.decode::<Atom>()? == none() {
        None
    } else {
        let (name, creation): (Term, u32) = local.decode()?;
        Some(self::local_node(name, creation)?)
    };
    let mut opts = SizeOptions {
        local_node,
        max_depth,
        inflate_limit,
        fields,
        ..SizeOptions::default()
    };
    let snapshot = !(atom_words.is_atom() && atom_words.decode::<Atom>()? == none());
    if snapshot {
        for pair in proper_list(atom_words)? {
            let (name, word): (Binary, u64) = pair.decode()?;
            let name = std::str::from_utf8(name.as_slice()).map_err(|_| NifError::BadArg)?;
            opts.atom_words.insert(name.to_string(), word);
        }
    }
    Ok((opts, snapshot, safe))
}

fn etf_size_impl<'a>(
    env: Env<'a>,
    etf: Binary,
    what: Atom,
    opts: Term,
    budget: u64,
) -> NifResult<Term<'a>> {
    let what = report(what)?;
    let (mut opts, snapshot, safe) = decode_opts(opts)?;
    // An atom table of anything but atom words is `invalid_option`, saying which.
    let bad_word = opts
        .atom_words
        .iter()
        .find_map(|(name, &word)| memacct_core::check_atom_word(name, word).err());
    if let Some(e) = bad_word {
        return Ok(error_term(env, &e));
    }
    opts.fields = opts.fields && what == Report::Full;
    let r = if snapshot {
        memacct_core::term_size_within(etf.as_slice(), &opts, &opts, budget)
    } else {
        let vm = NifVm::new(opts.local_node.clone(), safe);
        memacct_core::term_size_within(etf.as_slice(), &opts, &vm, budget).map_err(|e| match e {
            Error::NeedsVm { needs } if safe => Error::NeedsVm {
                needs: format!("{needs} (safe: it does not exist here and is not created)"),
            },
            e => e,
        })
    };
    match r {
        Ok(Some(size)) => result_term(env, Ok(size), what),
        Ok(None) => Ok(dirty().encode(env)),
        Err(e) => result_term(env, Err(e), what),
    }
}

/// `etf_size(Etf, flat | full, Opts)` on a normal scheduler; `dirty` when the
/// job passes [`ETF_NORMAL_BUDGET`].
#[rustler::nif]
fn etf_size<'a>(env: Env<'a>, etf: Binary, what: Atom, opts: Term) -> NifResult<Term<'a>> {
    etf_size_impl(env, etf, what, opts, ETF_NORMAL_BUDGET)
}

/// The dirty-scheduler twin of `etf_size/3`.
#[rustler::nif(schedule = "DirtyCpu")]
fn etf_size_dirty<'a>(env: Env<'a>, etf: Binary, what: Atom, opts: Term) -> NifResult<Term<'a>> {
    etf_size_impl(env, etf, what, opts, u64::MAX)
}

// ---------------------------------------------------------------------------
// Misc

/// `[{Atom, Word}]`: each atom's VM word (`index << 6 | 0xB`), for sizing
/// outside the VM (the C and Python surfaces take such a table).
#[rustler::nif]
fn atom_words<'a>(env: Env<'a>, atoms: Term<'a>) -> NifResult<Term<'a>> {
    let mut out = Vec::new();
    for a in proper_list(atoms)? {
        if !a.is_atom() {
            return Err(NifError::BadArg);
        }
        out.push((a, live::raw_word(a.as_c_arg())).encode(env));
    }
    Ok(out.encode(env))
}

/// `{EtfNormalMaxBytes, LiveNormalBudget}`: the scheduling thresholds.
#[rustler::nif]
fn limits() -> (u64, u64) {
    (ETF_NORMAL_BUDGET, LIVE_NORMAL_BUDGET)
}

rustler::init!("memacct_nif");
