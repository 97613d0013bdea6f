//! The compact-state codec (`memacct_core::codec`) as NIFs: compress,
//! decompress, blob headers, and trained dictionaries as a NIF resource.
//!
//! Scheduling follows the crate's rule: `codec_compress/6` and
//! `codec_decompress/3` run on the calling normal scheduler when the core's
//! work estimate ([`memacct_core::work`]) is within the budgets below and
//! answer `dirty` otherwise; `memacct.erl` then calls the `_dirty` twin.
//! Training a dictionary always runs on a dirty CPU scheduler.

use memacct_core::codec::{self, CompressOptions, DecompressOptions, Dictionary};
use memacct_core::{work, Error};
use rustler::{Atom, Binary, Encoder, Env, NifResult, OwnedBinary, ResourceArc, Term};

use crate::{dirty, error_term, none, ok};

rustler::atoms! {
    version,
    dictionary_id,
    etf_bytes,
    input_was_compressed,
    blob_bytes,
}

/// Most work units (about 1 ns each on the build machine, see
/// [`memacct_core::work`]) a compress or decompress may be estimated at and
/// still run on a normal scheduler. Also bounds the output the normal path
/// decodes ([`work::decompress_output_within`]: 100 000 bytes), so a header
/// that understates its output cannot keep a normal scheduler busy.
///
/// Measured on the 2-core build machine (OTP 25.2.3, release build, best of
/// 21; `memacct_codec_SUITE:normal_path_is_short` prints the figures) with
/// the largest inputs that still fit — lists of realistic MCP connection
/// states from `memacct_sim` (up to about 27 KiB of ETF at levels 1-3, 20 KiB
/// with a 32 KiB dictionary, 6.5 KiB at levels 4-10, 1.5 KiB at 11-14; levels
/// 15-22 never fit, one 4 KiB state alone takes 0.2-0.8 ms there), and lists
/// of integers, floats, atoms, binaries and references: see the figures in
/// the suite's log (0.05-0.3 ms). Blobs of up to about 95 KiB of ETF decode in
/// 0.02-0.17 ms. The estimates are about 1.2-1.5 times the worst measured
/// kind (and 2-4 times connection states), so a slower machine still stays
/// under 1 ms.
pub const CODEC_NORMAL_BUDGET: u64 = 300_000;

/// Largest serialized dictionary loaded on a normal scheduler (the load
/// checks a CRC-32 over it and copies it: about 1 ns per byte).
pub const DICTIONARY_LOAD_NORMAL_MAX: usize = 256 * 1024;

/// A dictionary as an Erlang term (a reference): the parsed dictionary and
/// its serialized form, kept so that `dictionary_to_binary/1` hands out the
/// bytes without copying them.
pub struct DictRes {
    dict: Dictionary,
    bytes: Vec<u8>,
}

#[rustler::resource_impl]
impl rustler::Resource for DictRes {}

impl DictRes {
    /// The parsed dictionary (the state pool compresses with it).
    pub(crate) fn dict(&self) -> &Dictionary {
        &self.dict
    }

    fn new(dict: Dictionary) -> ResourceArc<DictRes> {
        let bytes = dict.to_bytes();
        ResourceArc::new(DictRes { dict, bytes })
    }
}

/// `none` or a dictionary resource; anything else is `badarg`.
fn dictionary<'a>(t: Term<'a>) -> NifResult<Option<&'a DictRes>> {
    if t.is_atom() && t.decode::<Atom>()? == none() {
        return Ok(None);
    }
    Ok(Some(t.decode()?))
}

fn binary<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    let mut out = OwnedBinary::new(bytes.len());
    out.as_mut_slice().copy_from_slice(bytes);
    out.release(env).encode(env)
}

fn bytes_result<'a>(env: Env<'a>, r: memacct_core::Result<Vec<u8>>) -> Term<'a> {
    match r {
        Ok(v) => (ok(), binary(env, &v)).encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// What a compress NIF is asked: the Erlang arguments after `Etf`.
struct CompressArgs<'a> {
    dict: Option<&'a DictRes>,
    level: i64,
    format: i64,
    inflate_limit: u64,
    check_term: bool,
}

impl<'a> CompressArgs<'a> {
    fn decode(
        dict: Term<'a>,
        level: i64,
        format: i64,
        inflate_limit: u64,
        check_term: bool,
    ) -> NifResult<Self> {
        Ok(CompressArgs {
            dict: dictionary(dict)?,
            level,
            format,
            inflate_limit,
            check_term,
        })
    }

    /// The core's options. Erlang integers are clamped into range types
    /// (values out of range stay out of range, and the core reports them
    /// as `invalid_option`).
    fn options(&self) -> CompressOptions<'_> {
        CompressOptions {
            dictionary: self.dict.map(|d| &d.dict),
            level: self.level.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            inflate_limit: self.inflate_limit,
            format: u8::try_from(self.format).unwrap_or(u8::MAX),
            check_term: self.check_term,
        }
    }
}

/// `codec_compress(Etf, Dict | none, Level, Format, InflateLimit, CheckTerm)`
/// on a normal scheduler: `{ok, Blob}`, `{error, {Code, Msg}}`, or `dirty`
/// when the work is estimated above [`CODEC_NORMAL_BUDGET`]
/// ([`work::compress_cost`]: the level, the ETF bytes and the dictionary,
/// which zstd loads for every call).
#[rustler::nif]
fn codec_compress<'a>(
    env: Env<'a>,
    etf: Binary,
    dict: Term<'a>,
    level: i64,
    format: i64,
    inflate_limit: u64,
    check_term: bool,
) -> NifResult<Term<'a>> {
    let args = CompressArgs::decode(dict, level, format, inflate_limit, check_term)?;
    let opts = args.options();
    if work::compress_cost(etf.as_slice(), &opts) > CODEC_NORMAL_BUDGET {
        return Ok(dirty().encode(env));
    }
    Ok(bytes_result(env, codec::compress(etf.as_slice(), &opts)))
}

/// The dirty-scheduler twin of `codec_compress/6`.
#[rustler::nif(schedule = "DirtyCpu")]
fn codec_compress_dirty<'a>(
    env: Env<'a>,
    etf: Binary,
    dict: Term<'a>,
    level: i64,
    format: i64,
    inflate_limit: u64,
    check_term: bool,
) -> NifResult<Term<'a>> {
    let args = CompressArgs::decode(dict, level, format, inflate_limit, check_term)?;
    Ok(bytes_result(
        env,
        codec::compress(etf.as_slice(), &args.options()),
    ))
}

fn decompress_options(dict: Option<&DictRes>, max_output: u64) -> DecompressOptions<'_> {
    DecompressOptions {
        dictionary: dict.map(|d| &d.dict),
        max_output: usize::try_from(max_output).unwrap_or(usize::MAX),
    }
}

/// What a decompress NIF answers with.
#[derive(Clone, Copy)]
enum Output {
    /// `{ok, Etf}`.
    Etf,
    /// `{ok, Term}` built by [`crate::build`] within this many work units,
    /// or `{etf, Etf}` for `binary_to_term/1` (over budget, or declined).
    Term(u64),
}

fn decompressed<'a>(env: Env<'a>, r: memacct_core::Result<Vec<u8>>, out: Output) -> Term<'a> {
    match (r, out) {
        (Ok(etf), Output::Term(budget)) => crate::build::term_answer(env, &etf, budget),
        (r, _) => bytes_result(env, r),
    }
}

fn decompress_normal<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
    out: Output,
) -> NifResult<Term<'a>> {
    let dict = dictionary(dict)?;
    let opts = decompress_options(dict, max_output);
    if work::decompress_cost(blob.as_slice(), &opts) > CODEC_NORMAL_BUDGET {
        return Ok(dirty().encode(env));
    }
    let bounded = max_output.min(work::decompress_output_within(CODEC_NORMAL_BUDGET));
    let opts = decompress_options(dict, bounded);
    match codec::decompress(blob.as_slice(), &opts) {
        Err(Error::InflateLimit { .. }) if max_output > bounded => Ok(dirty().encode(env)),
        r => Ok(decompressed(env, r, out)),
    }
}

fn decompress_dirty<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
    out: Output,
) -> NifResult<Term<'a>> {
    let dict = dictionary(dict)?;
    let opts = decompress_options(dict, max_output);
    Ok(decompressed(
        env,
        codec::decompress(blob.as_slice(), &opts),
        out,
    ))
}

/// `codec_decompress(Blob, Dict | none, MaxOutput)` on a normal scheduler:
/// `{ok, Etf}`, `{error, {Code, Msg}}`, or `dirty` when the blob's header
/// declares more work than [`CODEC_NORMAL_BUDGET`]
/// ([`work::decompress_cost`]), or when decoding needs more output than the
/// budget allows while `MaxOutput` allows more.
#[rustler::nif]
fn codec_decompress<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
) -> NifResult<Term<'a>> {
    decompress_normal(env, blob, dict, max_output, Output::Etf)
}

/// The dirty-scheduler twin of `codec_decompress/3`.
#[rustler::nif(schedule = "DirtyCpu")]
fn codec_decompress_dirty<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
) -> NifResult<Term<'a>> {
    decompress_dirty(env, blob, dict, max_output, Output::Etf)
}

/// `codec_decompress_term(Blob, Dict | none, MaxOutput)`: as
/// `codec_decompress/3`, but the ETF comes back as `{ok, Term}`, built by
/// [`crate::build`] within [`crate::build::BUILD_NORMAL_BUDGET`], or as
/// `{etf, Etf}` when that budget runs out or the builder declines (the
/// caller then runs `binary_to_term/1`).
#[rustler::nif]
fn codec_decompress_term<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
) -> NifResult<Term<'a>> {
    let budget = crate::build::BUILD_NORMAL_BUDGET;
    decompress_normal(env, blob, dict, max_output, Output::Term(budget))
}

/// The dirty-scheduler twin of `codec_decompress_term/3` (no build budget).
#[rustler::nif(schedule = "DirtyCpu")]
fn codec_decompress_term_dirty<'a>(
    env: Env<'a>,
    blob: Binary,
    dict: Term<'a>,
    max_output: u64,
) -> NifResult<Term<'a>> {
    decompress_dirty(env, blob, dict, max_output, Output::Term(u64::MAX))
}

/// `codec_blob_info(Blob)`: `{ok, #{version, dictionary_id, etf_bytes,
/// input_was_compressed, blob_bytes}}` from the header alone.
#[rustler::nif]
fn codec_blob_info<'a>(env: Env<'a>, blob: Binary) -> NifResult<Term<'a>> {
    match codec::blob_info(blob.as_slice()) {
        Ok(i) => {
            let keys = [
                version().encode(env),
                dictionary_id().encode(env),
                etf_bytes().encode(env),
                input_was_compressed().encode(env),
                blob_bytes().encode(env),
            ];
            let values = [
                i.version.encode(env),
                i.dictionary_id.encode(env),
                i.etf_len.encode(env),
                i.input_was_compressed.encode(env),
                (i.blob_len as u64).encode(env),
            ];
            let map = Term::map_from_term_arrays(env, &keys, &values)?;
            Ok((ok(), map).encode(env))
        }
        Err(e) => Ok(error_term(env, &e)),
    }
}

/// `dictionary_train(Samples :: [binary()], MaxBytes)` on a dirty CPU
/// scheduler: `{ok, Dict}` or `{error, {Code, Msg}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn dictionary_train<'a>(env: Env<'a>, samples: Term<'a>, max_bytes: u64) -> NifResult<Term<'a>> {
    let samples = crate::binaries(samples)?;
    let refs: Vec<&[u8]> = samples.iter().map(|b| b.as_slice()).collect();
    let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    match Dictionary::train(&refs, max_bytes) {
        Ok(d) => Ok((ok(), DictRes::new(d)).encode(env)),
        Err(e) => Ok(error_term(env, &e)),
    }
}

fn load<'a>(env: Env<'a>, bytes: &[u8]) -> Term<'a> {
    match Dictionary::from_bytes(bytes) {
        Ok(d) => (ok(), DictRes::new(d)).encode(env),
        Err(e) => error_term(env, &e),
    }
}

/// `dictionary_load(Binary)` on a normal scheduler: `{ok, Dict}`,
/// `{error, {Code, Msg}}`, or `dirty` above [`DICTIONARY_LOAD_NORMAL_MAX`].
#[rustler::nif]
fn dictionary_load<'a>(env: Env<'a>, bytes: Binary) -> Term<'a> {
    if bytes.len() > DICTIONARY_LOAD_NORMAL_MAX {
        return dirty().encode(env);
    }
    load(env, bytes.as_slice())
}

/// The dirty-scheduler twin of `dictionary_load/1`.
#[rustler::nif(schedule = "DirtyCpu")]
fn dictionary_load_dirty<'a>(env: Env<'a>, bytes: Binary) -> Term<'a> {
    load(env, bytes.as_slice())
}

/// The serialized dictionary (a binary over the resource's own bytes: no copy).
#[rustler::nif]
fn dictionary_to_binary<'a>(env: Env<'a>, dict: ResourceArc<DictRes>) -> Binary<'a> {
    dict.make_binary(env, |d| &d.bytes)
}

/// The dictionary's id (the one written in its blobs).
#[rustler::nif]
fn dictionary_id(dict: ResourceArc<DictRes>) -> u32 {
    dict.dict.id()
}

/// `{Budget, NormalMaxOutput}`: the codec's normal-scheduler budget in work
/// units and the most ETF bytes a decompress writes there.
#[rustler::nif]
fn codec_limits() -> (u64, u64) {
    (
        CODEC_NORMAL_BUDGET,
        work::decompress_output_within(CODEC_NORMAL_BUDGET),
    )
}
