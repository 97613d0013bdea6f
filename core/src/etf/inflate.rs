//! Version check and bounded inflation of compressed ETF.

use std::borrow::Cow;
use std::io::Read;

use super::tag;
use crate::error::{Error, Result};

/// The term bytes that follow the version byte, inflated if the input was compressed.
#[derive(Debug, Clone)]
pub struct Body<'a> {
    /// The term encoding (starting at its first tag byte).
    pub bytes: Cow<'a, [u8]>,
    /// Offset of `bytes[0]` in the caller's input (1 when not compressed, so error
    /// offsets point into the input; 6 for compressed input, offsets then point into
    /// the inflated data).
    pub base: usize,
    /// Whether the input was compressed.
    pub compressed: bool,
}

/// Checks the version byte and, for `term_to_binary(T, [compressed])` output,
/// inflates the body, refusing to produce more than `inflate_limit` bytes.
///
/// The declared uncompressed size is never trusted for allocation: the buffer
/// grows with the data actually inflated, and a mismatch is an error.
pub fn open(etf: &[u8], inflate_limit: u64) -> Result<Body<'_>> {
    let (&version, rest) = etf.split_first().ok_or(Error::Empty)?;
    if version != tag::VERSION {
        return Err(Error::BadVersion { found: version });
    }
    if rest.is_empty() {
        return Err(Error::Truncated {
            offset: 1,
            needed: 1,
        });
    }
    if rest[0] != tag::COMPRESSED {
        return Ok(Body {
            bytes: Cow::Borrowed(rest),
            base: 1,
            compressed: false,
        });
    }
    if rest.len() < 5 {
        return Err(Error::Truncated {
            offset: etf.len(),
            needed: 5 - rest.len(),
        });
    }
    let declared = u64::from(u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]));
    if declared > inflate_limit {
        return Err(Error::InflateLimit {
            limit: inflate_limit,
        });
    }
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(&rest[5..]).take(declared + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| Error::BadCompression {
            reason: e.to_string(),
        })?;
    if out.len() as u64 != declared {
        return Err(Error::BadCompression {
            reason: format!(
                "inflated to {} bytes, header declares {declared}",
                out.len()
            ),
        });
    }
    Ok(Body {
        bytes: Cow::Owned(out),
        base: 6,
        compressed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(body: &[u8], declared: u32) -> Vec<u8> {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(body).unwrap();
        let z = enc.finish().unwrap();
        let mut out = vec![131, 80];
        out.extend_from_slice(&declared.to_be_bytes());
        out.extend_from_slice(&z);
        out
    }

    #[test]
    fn plain_input_is_borrowed() {
        let b = open(&[131, 106], 10).unwrap();
        assert!(matches!(b.bytes, Cow::Borrowed(&[106])));
    }

    #[test]
    fn compressed_round_trip() {
        let body = vec![107, 0, 3, b'a', b'b', b'c'];
        let blob = compress(&body, 6);
        let b = open(&blob, 100).unwrap();
        assert_eq!(&*b.bytes, &body[..]);
        assert!(b.compressed);
    }

    #[test]
    fn bomb_is_refused() {
        let body = vec![0u8; 1 << 20];
        assert_eq!(
            open(&compress(&body, 1 << 20), 1000).unwrap_err(),
            Error::InflateLimit { limit: 1000 }
        );
        // A lying header cannot make it inflate past what it declares.
        assert!(matches!(
            open(&compress(&body, 10), 1 << 30),
            Err(Error::BadCompression { .. })
        ));
    }

    #[test]
    fn errors() {
        assert_eq!(open(&[], 1).unwrap_err(), Error::Empty);
        assert_eq!(
            open(&[130, 106], 1).unwrap_err(),
            Error::BadVersion { found: 130 }
        );
        assert!(matches!(open(&[131], 1), Err(Error::Truncated { .. })));
        assert!(matches!(
            open(&[131, 80, 0, 0], 1),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            open(&[131, 80, 0, 0, 0, 3, 1, 2, 3], 10),
            Err(Error::BadCompression { .. })
        ));
    }
}
