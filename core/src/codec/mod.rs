//! Compact state: a lossless, versioned, checksummed codec for terms. With a
//! dictionary trained on similar states it is several times smaller than
//! `term_to_binary(T, [compressed])`; without one it is about as small
//! (measured figures: BENCHMARKS.md).
//!
//! `compress` takes ETF bytes and returns a blob; `decompress` gives back the
//! ETF. **Round-trip rule:** the output is the uncompressed ETF of the input —
//! byte-identical to the input when the input is uncompressed (whatever tags it
//! used), and equal to the inflated body when the input was
//! `term_to_binary(T, [compressed])`; either way `binary_to_term/1` of the
//! output is `=:=` the original term.
//!
//! The entropy stage is zstd — chosen over zlib for its speed at equal or
//! better ratio and, above all, for trained dictionaries, which is where
//! small, similar connection states gain most. Two formats:
//!
//! - **format 2** (written by default): zstd straight over the term's ETF
//!   bytes, with the dictionary trained on ETF;
//! - **format 1**: a structural stage (`shape.rs`) first splits the term into
//!   tag, number, atom-reference and byte streams (repeated atoms become
//!   one-byte references, small integers one-byte varints), then zstd.
//!
//! Format 1 was the first design. Measured on 500 realistic MCP connection
//! states (4.2 KB of ETF each), the structural stage made blobs no smaller
//! without a dictionary (1,030 vs 1,031 bytes) and *larger* with one (296 vs
//! 266 bytes), while doubling the time (compress 9.8 vs 3.1 µs, decompress
//! 4.7 vs 1.1 µs with a dictionary): zstd's own matcher already finds the
//! repeated keys and atoms, and its dictionary holds them better than an
//! atom table. Format 2 drops it; format 1 is still read, and still written
//! on request ([`CompressOptions::format`]) for readers that only know it.
//! A [`Dictionary`] carries a zstd dictionary and a seed atom table (used by
//! format 1), under one id written in every blob.
//!
//! Blob layout (all integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `MAcs` |
//! | 1 | format version (1 or 2) |
//! | 1 | flags: bit 0 zstd stage, bit 1 input was zlib-compressed ETF |
//! | 4 | dictionary id (0: none) |
//! | 4 | CRC-32 of the decoded ETF |
//! | varint | decoded ETF length |
//! | varint | length of what zstd decodes to (format 1: the structural streams; format 2: the term bytes) |
//! | rest | payload: one zstd frame |

mod contexts;
mod dict;
mod shape;

pub use dict::{Dictionary, DEFAULT_DICTIONARY_BYTES, DICTIONARY_BYTES_RANGE};

use crate::error::{Error, Result};
use crate::etf::{self, tag};

/// First bytes of every blob.
pub const MAGIC: [u8; 4] = *b"MAcs";
/// The format version this build writes by default (and the newest it reads).
pub const VERSION: u8 = 2;
/// The oldest format version this build reads and can write.
pub const OLDEST_VERSION: u8 = 1;
const FLAG_ZSTD: u8 = 1;
const FLAG_WAS_COMPRESSED: u8 = 2;
const FIXED_HEADER: usize = 14;

/// How to compress.
#[derive(Debug, Clone, Copy)]
pub struct CompressOptions<'a> {
    /// Trained dictionary to use (its id is written in the blob).
    pub dictionary: Option<&'a Dictionary>,
    /// zstd level (1 fastest … 22 smallest). Default 3.
    pub level: i32,
    /// Most bytes a zlib-compressed ETF input may inflate to. Default 1 GiB.
    pub inflate_limit: u64,
    /// Blob format to write ([`OLDEST_VERSION`]..=[`VERSION`]). Default
    /// [`VERSION`]; 1 only for readers that know nothing newer.
    pub format: u8,
    /// Whether to check that the input is exactly one well-formed term
    /// (default `true`; about 0.7 ns per byte). `false` is for input the
    /// caller itself just made with `term_to_binary/1`: other bytes are then
    /// stored as they are and come back as they went in (format 2), so the
    /// error only shows when they are turned into a term. Format 1 always
    /// parses its input.
    pub check_term: bool,
}

impl Default for CompressOptions<'_> {
    fn default() -> Self {
        CompressOptions {
            dictionary: None,
            level: 3,
            inflate_limit: 1 << 30,
            format: VERSION,
            check_term: true,
        }
    }
}

/// How to decompress.
#[derive(Debug, Clone, Copy)]
pub struct DecompressOptions<'a> {
    /// The dictionary the blob was made with, if any.
    pub dictionary: Option<&'a Dictionary>,
    /// Most bytes the decoded ETF (and the structural stage) may take. Default 256 MiB.
    pub max_output: usize,
}

impl Default for DecompressOptions<'_> {
    fn default() -> Self {
        DecompressOptions {
            dictionary: None,
            max_output: 256 << 20,
        }
    }
}

/// What a blob's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    /// Format version.
    pub version: u8,
    /// Dictionary id (0: none).
    pub dictionary_id: u32,
    /// Length of the decoded ETF.
    pub etf_len: u64,
    /// Whether the original input was zlib-compressed ETF. Informational
    /// only: decoding gives the inflated ETF either way, and this flag is
    /// not covered by the checksum (which covers the decoded ETF).
    pub input_was_compressed: bool,
    /// Total blob length.
    pub blob_len: usize,
}

fn bad(reason: &'static str) -> Error {
    Error::BadBlob { reason }
}

fn put_var(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_var(s: &mut &[u8]) -> Result<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = s.split_first().ok_or(bad("header ends early"))?;
        *s = rest;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(bad("header number too long"))
}

/// Compresses the term in `etf` (ETF, optionally zlib-compressed) into a blob.
///
/// A blob of a term whose ETF is above 256 MiB (the default
/// [`DecompressOptions::max_output`], a bound against decompression bombs)
/// decompresses only with `max_output` raised to at least its size
/// ([`BlobInfo`]'s `etf_len` tells it).
pub fn compress(etf: &[u8], opts: &CompressOptions<'_>) -> Result<Vec<u8>> {
    let levels = zstd::compression_level_range();
    if opts.level < 1 || !levels.contains(&opts.level) {
        return Err(Error::InvalidOption {
            name: "level",
            reason: format!("{} is not a level in 1..={}", opts.level, levels.end()),
        });
    }
    if !(OLDEST_VERSION..=VERSION).contains(&opts.format) {
        return Err(Error::InvalidOption {
            name: "format",
            reason: format!(
                "{} is not a format in {OLDEST_VERSION}..={VERSION}",
                opts.format
            ),
        });
    }
    let body = etf::open(etf, opts.inflate_limit)?;
    let streams: std::borrow::Cow<'_, [u8]> = if opts.format == 1 {
        // The structural stage works on exact bytes: version byte + term.
        let seed = opts.dictionary.map_or(&[][..], |d| d.atoms());
        shape::encode(&body.bytes, seed)?.to_bytes().into()
    } else {
        // A term the reader cannot parse would only fail once decoded.
        if opts.check_term {
            etf::validate(&body.bytes)?;
        }
        std::borrow::Cow::Borrowed(&body.bytes[..])
    };
    let payload = match opts.dictionary {
        Some(d) => d.contexts().compress(opts.level, &streams)?,
        None => plain_contexts().compress(opts.level, &streams)?,
    };
    let mut etf_plain = Vec::new();
    let etf_ref: &[u8] = if body.compressed {
        etf_plain.reserve(body.bytes.len() + 1);
        etf_plain.push(tag::VERSION);
        etf_plain.extend_from_slice(&body.bytes);
        &etf_plain
    } else {
        etf
    };
    let mut out = Vec::with_capacity(payload.len() + 24);
    out.extend_from_slice(&MAGIC);
    out.push(opts.format);
    out.push(
        FLAG_ZSTD
            | if body.compressed {
                FLAG_WAS_COMPRESSED
            } else {
                0
            },
    );
    out.extend_from_slice(&opts.dictionary.map_or(0, Dictionary::id).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(etf_ref).to_le_bytes());
    put_var(&mut out, etf_ref.len() as u64);
    put_var(&mut out, streams.len() as u64);
    out.extend_from_slice(&payload);
    Ok(out)
}

struct Header<'a> {
    info: BlobInfo,
    flags: u8,
    crc: u32,
    /// What zstd decodes to: format 1's streams, format 2's term bytes.
    stage_len: u64,
    payload: &'a [u8],
}

fn header(blob: &[u8]) -> Result<Header<'_>> {
    if blob.len() < 4 || blob[..4] != MAGIC {
        return Err(bad("not a memacct blob (magic)"));
    }
    if blob.len() < FIXED_HEADER {
        return Err(bad("header ends early"));
    }
    let version = blob[4];
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(Error::BlobVersion { found: version });
    }
    let flags = blob[5];
    if flags & !(FLAG_ZSTD | FLAG_WAS_COMPRESSED) != 0 {
        return Err(bad("unknown flags"));
    }
    let dictionary_id = u32::from_le_bytes(blob[6..10].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(blob[10..14].try_into().expect("4 bytes"));
    let mut rest = &blob[FIXED_HEADER..];
    let etf_len = get_var(&mut rest)?;
    let stage_len = get_var(&mut rest)?;
    Ok(Header {
        info: BlobInfo {
            version,
            dictionary_id,
            etf_len,
            input_was_compressed: flags & FLAG_WAS_COMPRESSED != 0,
            blob_len: blob.len(),
        },
        flags,
        crc,
        stage_len,
        payload: rest,
    })
}

/// Reads a blob's header without decoding it.
pub fn blob_info(blob: &[u8]) -> Result<BlobInfo> {
    Ok(header(blob)?.info)
}

/// The dictionary a blob needing dictionary `want` (0: none) decodes with,
/// given `given`.
fn pick_dictionary(want: u32, given: Option<&Dictionary>) -> Result<Option<&Dictionary>> {
    match (want, given) {
        (0, _) => Ok(None),
        (id, None) => Err(Error::DictionaryRequired { id }),
        (id, Some(d)) if d.id() != id => Err(Error::DictionaryMismatch {
            blob: id,
            given: d.id(),
        }),
        (_, Some(d)) => Ok(Some(d)),
    }
}

/// Whether `blob` can be decoded with `dictionary` as far as its header
/// tells, without decoding it: [`Error::DictionaryRequired`] or
/// [`Error::DictionaryMismatch`] as [`decompress`] would answer, or the
/// header's own error.
///
/// ```
/// use memacct_core::codec::{self, CompressOptions};
/// let blob = codec::compress(&[131, 106], &CompressOptions::default()).unwrap();
/// assert!(codec::check_dictionary(&blob, None).is_ok());
/// ```
pub fn check_dictionary(blob: &[u8], dictionary: Option<&Dictionary>) -> Result<()> {
    pick_dictionary(header(blob)?.info.dictionary_id, dictionary).map(|_| ())
}

/// Decodes a blob back to uncompressed ETF (see the round-trip rule above).
pub fn decompress(blob: &[u8], opts: &DecompressOptions<'_>) -> Result<Vec<u8>> {
    let h = header(blob)?;
    let dict = pick_dictionary(h.info.dictionary_id, opts.dictionary)?;
    let limit = opts.max_output;
    if h.info.etf_len > limit as u64 || h.stage_len > limit as u64 {
        return Err(Error::InflateLimit {
            limit: limit as u64,
        });
    }
    if h.flags & FLAG_ZSTD == 0 {
        return Err(bad("blob without its entropy stage"));
    }
    let contexts = match dict {
        Some(d) => d.contexts(),
        None => plain_contexts(),
    };
    let out = if h.info.version == 1 {
        let streams = contexts.decompress(h.payload, h.stage_len)?;
        if streams.len() as u64 != h.stage_len {
            return Err(bad("entropy stage length differs from the header"));
        }
        let seed = dict.map_or(&[][..], |d| d.atoms());
        // The checksum covers the decoded ETF, so a corrupt structural stage
        // shows first as streams that do not decode: the blob is corrupt.
        let term = shape::decode(&streams, seed, limit).map_err(|e| match e {
            Error::InflateLimit { .. } => e,
            _ => bad("format 1 structural stage does not decode"),
        })?;
        let mut out = Vec::with_capacity(term.len() + 1);
        out.push(tag::VERSION);
        out.extend_from_slice(&term);
        out
    } else {
        // Format 2: zstd gives the term bytes; decode them after the version byte.
        let mut out = vec![tag::VERSION];
        contexts.decompress_into(h.payload, h.stage_len, &mut out)?;
        if out.len() as u64 != h.stage_len + 1 {
            return Err(bad("entropy stage length differs from the header"));
        }
        out
    };
    if out.len() as u64 != h.info.etf_len || crc32fast::hash(&out) != h.crc {
        return Err(Error::ChecksumMismatch);
    }
    Ok(out)
}

/// The context pool of blobs made without a dictionary.
fn plain_contexts() -> &'static contexts::Contexts {
    static PLAIN: std::sync::OnceLock<contexts::Contexts> = std::sync::OnceLock::new();
    PLAIN.get_or_init(|| contexts::Contexts::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // term_to_binary(#{id => <<"sess-1">>, n => [1,2,3], pid => self()}) shape, hand-built.
    fn sample(i: u8) -> Vec<u8> {
        let mut v = vec![131, 116, 0, 0, 0, 3];
        v.extend_from_slice(&[
            100,
            0,
            2,
            b'i',
            b'd',
            109,
            0,
            0,
            0,
            6,
            b's',
            b'e',
            b's',
            b's',
            b'-',
            b'0' + i % 10,
        ]);
        v.extend_from_slice(&[100, 0, 1, b'n', 107, 0, 3, 1, 2, i]);
        v.extend_from_slice(&[100, 0, 3, b'p', b'i', b'd', 88, 100, 0, 13]);
        v.extend_from_slice(b"nonode@nohost");
        v.extend_from_slice(&[0, 0, 0, i, 0, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn round_trip_is_byte_identical() {
        let etf = sample(7);
        let blob = compress(&etf, &CompressOptions::default()).unwrap();
        assert_eq!(
            decompress(&blob, &DecompressOptions::default()).unwrap(),
            etf
        );
        let info = blob_info(&blob).unwrap();
        assert_eq!(info.etf_len, etf.len() as u64);
        assert_eq!(info.dictionary_id, 0);
    }

    #[test]
    fn dictionary_round_trip_and_mismatch() {
        let samples: Vec<Vec<u8>> = (0..40).map(sample).collect();
        let refs: Vec<&[u8]> = samples.iter().map(|s| s.as_slice()).collect();
        let d = Dictionary::train(&refs, 4096).unwrap();
        let blob = compress(
            &samples[3],
            &CompressOptions {
                dictionary: Some(&d),
                ..Default::default()
            },
        )
        .unwrap();
        let plain = compress(&samples[3], &CompressOptions::default()).unwrap();
        assert!(
            blob.len() < plain.len(),
            "{} vs {}",
            blob.len(),
            plain.len()
        );
        let back = decompress(
            &blob,
            &DecompressOptions {
                dictionary: Some(&d),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(back, samples[3]);
        assert_eq!(
            decompress(&blob, &DecompressOptions::default()).unwrap_err(),
            Error::DictionaryRequired { id: d.id() }
        );
        let other = Dictionary::train(&refs[..20], 2048).unwrap();
        assert!(matches!(
            decompress(
                &blob,
                &DecompressOptions {
                    dictionary: Some(&other),
                    ..Default::default()
                }
            ),
            Err(Error::DictionaryMismatch { .. })
        ));
        // The header alone tells the same, without decoding.
        assert_eq!(
            check_dictionary(&blob, None).unwrap_err(),
            Error::DictionaryRequired { id: d.id() }
        );
        assert!(matches!(
            check_dictionary(&blob, Some(&other)),
            Err(Error::DictionaryMismatch { .. })
        ));
        assert!(check_dictionary(&blob, Some(&d)).is_ok());
        assert!(check_dictionary(&plain, Some(&other)).is_ok());
        assert_eq!(
            check_dictionary(b"MAcs", None).unwrap_err().code(),
            "bad_blob"
        );
        let reloaded = Dictionary::from_bytes(&d.to_bytes()).unwrap();
        assert_eq!(reloaded.id(), d.id());
    }

    #[test]
    fn both_formats_round_trip_and_others_are_refused() {
        let etf = sample(4);
        for format in [1, 2] {
            let opts = CompressOptions {
                format,
                ..Default::default()
            };
            let blob = compress(&etf, &opts).unwrap();
            assert_eq!(blob_info(&blob).unwrap().version, format);
            assert_eq!(
                decompress(&blob, &DecompressOptions::default()).unwrap(),
                etf
            );
        }
        for format in [0, 3] {
            let opts = CompressOptions {
                format,
                ..Default::default()
            };
            assert!(matches!(
                compress(&etf, &opts),
                Err(Error::InvalidOption { name: "format", .. })
            ));
        }
        // Format 2 still refuses what is not exactly one term, unless told
        // the input is trusted: then it keeps the bytes as they are.
        let mut trailing = etf.clone();
        trailing.push(106);
        assert!(compress(&trailing, &CompressOptions::default()).is_err());
        let trusted = CompressOptions {
            check_term: false,
            ..Default::default()
        };
        let blob = compress(&trailing, &trusted).unwrap();
        assert_eq!(
            decompress(&blob, &DecompressOptions::default()).unwrap(),
            trailing
        );
    }

    #[test]
    fn corruption_is_detected() {
        // What a corrupt blob may be reported as: the blob's own errors, or
        // its header asking for a dictionary or more output than allowed.
        const BLOB_ERRORS: [&str; 7] = [
            "bad_blob",
            "blob_version",
            "codec",
            "checksum_mismatch",
            "dictionary_required",
            "dictionary_mismatch",
            "inflate_limit",
        ];
        let etf = sample(1);
        for format in OLDEST_VERSION..=VERSION {
            let opts = CompressOptions {
                format,
                ..Default::default()
            };
            let blob = compress(&etf, &opts).unwrap();
            for i in 0..blob.len() {
                for bit in 0..8 {
                    let mut bad = blob.clone();
                    bad[i] ^= 1 << bit;
                    // Either a blob error, or a flip in a bit that does not matter
                    // (a zstd frame flag, the informational flag): never different bytes.
                    match decompress(&bad, &DecompressOptions::default()) {
                        Ok(out) => assert_eq!(out, etf, "format {format}, flip at {i}.{bit}"),
                        Err(e) => assert!(
                            BLOB_ERRORS.contains(&e.code()),
                            "format {format}, flip at {i}.{bit}: {e}"
                        ),
                    }
                }
            }
            for n in 0..blob.len() {
                let e = decompress(&blob[..n], &DecompressOptions::default()).unwrap_err();
                assert!(
                    BLOB_ERRORS.contains(&e.code()),
                    "format {format}, {n} bytes: {e}"
                );
            }
        }
    }

    #[test]
    fn version_and_limits() {
        let mut blob = compress(&sample(2), &CompressOptions::default()).unwrap();
        let small = DecompressOptions {
            max_output: 8,
            ..Default::default()
        };
        assert!(matches!(
            decompress(&blob, &small),
            Err(Error::InflateLimit { .. })
        ));
        blob[4] = 9;
        let err = decompress(&blob, &DecompressOptions::default()).unwrap_err();
        assert_eq!(err, Error::BlobVersion { found: 9 });
        let reads = format!("this build reads {OLDEST_VERSION}..={VERSION}");
        assert!(err.to_string().contains(&reads), "{err}");
    }
}
