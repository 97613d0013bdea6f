//! Checking that bytes hold exactly one well-formed term, without building
//! or sizing anything.

use super::{Reader, Token};
use crate::error::{Error, Result};

/// Checks that `term` (ETF without its version byte) is exactly one
/// well-formed term: every header readable, every length present, nothing
/// after the term. Iterative (a pending-term counter), so hostile nesting
/// costs no stack.
///
/// ```
/// // {ok, 7}
/// memacct_core::etf::validate(&[104, 2, 119, 2, b'o', b'k', 97, 7]).unwrap();
/// assert!(memacct_core::etf::validate(&[104, 2, 119, 2, b'o', b'k']).is_err());
/// ```
pub fn validate(term: &[u8]) -> Result<()> {
    let mut r = Reader::new(term, 1);
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let t: Token<'_> = r.next()?;
        pending += t.children();
    }
    if r.remaining() != 0 {
        return Err(Error::InvalidValue {
            what: "bytes after the term (the codec keeps exact ETF only)",
            offset: r.offset(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_term_and_rejects_the_rest() {
        // [1 | 2]: a list of one element and an improper tail.
        validate(&[108, 0, 0, 0, 1, 97, 1, 97, 2]).unwrap();
        assert!(validate(&[]).is_err());
        assert!(validate(&[97, 1, 0]).is_err(), "trailing byte");
        assert!(
            validate(&[108, 0, 0, 0, 2, 97, 1, 106]).is_err(),
            "missing element"
        );
        assert!(validate(&[200]).is_err(), "unknown tag");
    }

    #[test]
    fn deep_nesting_uses_no_stack() {
        let depth = 1_000_000;
        let mut t = Vec::with_capacity(depth * 6 + 1);
        for _ in 0..depth {
            t.extend_from_slice(&[108, 0, 0, 0, 1]);
        }
        t.push(106);
        t.extend(std::iter::repeat_n(106, depth));
        validate(&t).unwrap();
    }
}
