//! Work estimates: how much a job will cost, found before doing it, so that a
//! binding can choose where to run it (the Erlang NIF keeps jobs that stay
//! well under a millisecond on the calling normal scheduler and moves the
//! rest to a dirty CPU scheduler).
//!
//! Every estimate here is cheap: a few header bytes. Input that the real
//! job would reject is cheap to reject, so malformed input always "fits" —
//! the job fails fast wherever it runs. The budgets themselves are the
//! binding's: they depend on the machine and on what "short" means to its
//! runtime. ETF sizing needs no estimate: it counts its own work as it goes
//! and stops at the caller's budget ([`crate::term_size_within`]), starting
//! from [`etf_cost`].
//!
//! Units: bytes for ETF ([`etf_cost`]); for the codec, *work units* of about
//! one nanosecond each on the reference machine (2 cores, release build,
//! measured inside the BEAM), so that a budget reads as time there. The
//! codec's rates round the measurements up.

use crate::codec;

/// Bytes the core reads to size (or encode) `etf`: its length, plus, for
/// `term_to_binary(T, [compressed])` output, the inflated size its header
/// declares (the inflation is bounded by that figure).
///
/// ```
/// use memacct_core::work::etf_cost;
/// assert_eq!(etf_cost(&[131, 106]), 2);
/// assert_eq!(etf_cost(&[131, 80, 0, 0, 1, 0, 9]), 7 + 256);
/// ```
pub fn etf_cost(etf: &[u8]) -> u64 {
    let len = etf.len() as u64;
    match etf {
        [131, 80, a, b, c, d, ..] => len + u64::from(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => len,
    }
}

/// `(fixed, per ETF byte, per dictionary byte)` work of a compress at zstd
/// `level`.
///
/// Measured inside the BEAM (best of 21) on the largest inputs of each kind
/// that a normal scheduler took under an earlier, looser table — lists of
/// realistic MCP connection states (`memacct_sim`), small integers, floats,
/// atoms, random binaries and references: a call costs about 25-30 µs of
/// zstd set-up, then per ETF byte 1.5-5 ns at levels 1-3 for connection
/// states and up to 8.3 ns for floats and atoms, up to 27 ns at levels 4-10
/// and up to 104 ns at levels 11-14; one 4 KiB state alone takes 0.2-0.8 ms
/// at level 15 and above. Preparing a dictionary costs 0.8-1.2 ns per byte
/// at levels 1-3, up to 7.6 ns at 4-10 and 30-55 ns above. The table rounds
/// the worst case up by about 1.2-1.5x.
pub fn compress_rates(level: i32) -> (u64, u64, u64) {
    match level {
        i32::MIN..=3 => (30_000, 10, 2),
        4..=10 => (40_000, 40, 8),
        11..=14 => (80_000, 150, 60),
        _ => (1_000_000, 250, 60),
    }
}

/// Estimated work of [`codec::compress`]`(etf, opts)`, in work units: the
/// level's fixed cost, [`etf_cost`] bytes at its per-byte rate, and loading
/// the dictionary. (Contexts are pooled per dictionary, so most calls find it
/// loaded already; a call may still get a fresh context, and the estimate is
/// for the worst case.)
///
/// ```
/// use memacct_core::codec::CompressOptions;
/// use memacct_core::work::compress_cost;
/// let fast = compress_cost(&[131, 106], &CompressOptions::default());
/// let slow = compress_cost(&[131, 106], &CompressOptions { level: 19, ..Default::default() });
/// assert!(fast < slow);
/// ```
pub fn compress_cost(etf: &[u8], opts: &codec::CompressOptions<'_>) -> u64 {
    let (fixed, per_byte, per_dict_byte) = compress_rates(opts.level);
    let dict = opts.dictionary.map_or(0, |d| d.zstd_bytes().len()) as u64;
    fixed
        .saturating_add(etf_cost(etf).saturating_mul(per_byte))
        .saturating_add(dict.saturating_mul(per_dict_byte))
}

/// `(fixed, per byte of blob and decoded ETF, per dictionary byte)` work of
/// a decompress. Measured as for [`compress_rates`]: 48-94 KiB of ETF decode
/// in 0.3-1.8 ns per output byte (states about 1 ns, small integers the
/// most) plus about 10 µs, and preparing a dictionary costs well under 1 ns
/// per byte.
pub const DECOMPRESS_RATES: (u64, u64, u64) = (10_000, 3, 1);

/// Estimated work of [`codec::decompress`]`(blob, opts)`, in work units: the
/// blob plus the ETF its header says it decodes to (decoding writes that
/// many bytes and the checksum reads them) and the dictionary. A blob whose
/// header cannot be read costs the fixed part (it is rejected at once).
///
/// The header may lie about its sizes; [`codec::decompress`] never produces
/// more than its `max_output`, so a caller that must bound the work also
/// passes `max_output` = [`decompress_output_within`]`(budget)` and retries
/// elsewhere on `inflate_limit` when its own limit is larger.
pub fn decompress_cost(blob: &[u8], opts: &codec::DecompressOptions<'_>) -> u64 {
    let (fixed, per_byte, per_dict_byte) = DECOMPRESS_RATES;
    let Ok(info) = codec::blob_info(blob) else {
        return fixed;
    };
    let dict = opts.dictionary.map_or(0, |d| d.zstd_bytes().len()) as u64;
    fixed
        .saturating_add(
            (blob.len() as u64)
                .saturating_add(info.etf_len)
                .saturating_mul(per_byte),
        )
        .saturating_add(dict.saturating_mul(per_dict_byte))
}

/// The most output bytes a decompress within `budget` work units can write.
pub fn decompress_output_within(budget: u64) -> u64 {
    budget / DECOMPRESS_RATES.1
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::{compress, CompressOptions};

    #[test]
    fn compressed_input_costs_its_inflated_size() {
        assert_eq!(etf_cost(&[131, 106]), 2);
        assert_eq!(etf_cost(&[131, 80, 0, 0, 1, 0, 9]), 7 + 256);
        assert_eq!(etf_cost(&[131, 80, 0]), 3);
    }

    /// `#{K => [], ...}` with `n` small-integer keys (also used by the
    /// sizing walker's tests).
    pub(crate) fn int_map(n: u32) -> Vec<u8> {
        let mut v = vec![131, 116];
        v.extend_from_slice(&n.to_be_bytes());
        for i in 0..n {
            v.extend_from_slice(&[97, i as u8, 106]);
        }
        v
    }

    #[test]
    fn codec_costs() {
        use crate::codec::{DecompressOptions, Dictionary};
        let etf = int_map(20);
        let at = |level| CompressOptions {
            level,
            ..Default::default()
        };
        let base = compress_cost(&etf, &at(3));
        assert_eq!(base, 30_000 + 10 * etf.len() as u64);
        assert!(compress_cost(&etf, &at(19)) > 10 * base);
        assert!((1..=22).all(|l| compress_cost(&etf, &at(l)) <= compress_cost(&etf, &at(l + 1))));
        let samples: Vec<Vec<u8>> = (0..20).map(int_map).collect();
        let refs: Vec<&[u8]> = samples.iter().map(|s| s.as_slice()).collect();
        let dict = Dictionary::train(&refs, 1024).unwrap();
        let with = CompressOptions {
            dictionary: Some(&dict),
            ..Default::default()
        };
        assert_eq!(
            compress_cost(&etf, &with),
            base + 2 * dict.zstd_bytes().len() as u64
        );
        let blob = compress(&etf, &CompressOptions::default()).unwrap();
        let plain = DecompressOptions::default();
        assert_eq!(
            decompress_cost(&blob, &plain),
            10_000 + 3 * (blob.len() + etf.len()) as u64,
            "blob plus the ETF it decodes to"
        );
        assert_eq!(decompress_cost(b"junk", &plain), 10_000);
        assert_eq!(decompress_output_within(300_000), 100_000);
    }
}
