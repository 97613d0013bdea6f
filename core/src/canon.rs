//! A canonical byte form of a term, so that two encodings of the same term
//! (an atom in Latin-1 or UTF-8, `5` as SMALL_INTEGER or SMALL_BIG, a list as
//! STRING_EXT or LIST_EXT, a map's entries in any order) compare equal. Used
//! to find duplicate map keys, which `binary_to_term` rejects. Forms are
//! compared within one process only (maps are reduced to keyed digests).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::etf::{Reader, Token};

enum Frame {
    Plain(u64),
    List {
        left: u64,
        cells: bool,
    },
    /// A map: when complete, its pairs sorted in place if short, else
    /// reduced to one digest (see [`SORT_MAX`]).
    Map {
        left: u64,
        /// Where each pair's canonical form starts in `out`.
        pairs: Vec<usize>,
        /// Offset of the map's tag in the reader's bytes (its memo key).
        at: usize,
        /// Where the map's canonical form (its header) starts in `out`.
        out_start: usize,
    },
}

/// Canonical digests of the long maps already met (see [`SORT_MAX`]), by
/// the offset of their tag in the bytes read: `(offset just past the map,
/// digest)`. Shared by the calls over one buffer, so a map nested in the
/// keys of many enclosing maps is reduced once, not once per level.
pub type MapMemo = FxHashMap<usize, (usize, u128)>;

/// Largest canonical content (bytes of a map's pairs) sorted in place; a
/// longer map is reduced to a digest. Sorting copies a map's pairs again at
/// every level above it, which stays linear because every map's form is
/// then short (at most this plus its header, or 17 bytes); digests cost
/// more than sorting for the small maps common in keys (measured on the
/// random-term corpus's 1000-key maps: two SipHashes per pair were 18% of
/// the time).
const SORT_MAX: usize = 64;

/// Bytes of a map's header in its canonical form (`m` and the pair count).
const MAP_HEADER: usize = 5;

/// Sorts the canonical pairs of a complete map in place (they follow
/// `pairs[0]` in `out`), so entry order does not matter.
fn sort_pairs(out: &mut Vec<u8>, pairs: &[usize]) {
    let Some(&first) = pairs.first() else { return };
    let end = out.len();
    let ends = pairs.iter().skip(1).copied().chain(std::iter::once(end));
    let mut spans: Vec<(usize, usize)> = pairs.iter().copied().zip(ends).collect();
    spans.sort_by(|a, b| out[a.0..a.1].cmp(&out[b.0..b.1]));
    let sorted: Vec<u8> = spans
        .iter()
        .flat_map(|&(a, b)| out[a..b].iter().copied())
        .collect();
    out.truncate(first);
    out.extend(sorted);
}

/// The keyed hasher (SipHash with process-random keys) behind every digest,
/// the same for the whole process (digests of one map's keys must compare).
fn hasher() -> &'static RandomState {
    static HASHER: OnceLock<RandomState> = OnceLock::new();
    HASHER.get_or_init(RandomState::new)
}

/// A 128-bit digest of `bytes`: the keyed hash of two domain-separated
/// copies of them.
fn digest(bytes: &[u8]) -> u128 {
    let h = hasher();
    (u128::from(h.hash_one((0u8, bytes))) << 64) | u128::from(h.hash_one((1u8, bytes)))
}

/// The digest of a complete non-empty map with `n` pairs, whose canonical
/// pairs follow `pairs[0]` in `out` (the caller removes them): the digest of its
/// pair count and its pairs' digests, sorted, so entry order does not
/// matter. A long map then costs 17 bytes to the maps and keys around it,
/// where sorting its pairs' bytes would copy them again at every level
/// above (cubic in the nesting of maps in map keys). Maps with the same
/// pairs have the same digest; others only if 128-bit digests collide, with
/// keys an input cannot know.
fn digest_map(out: &[u8], n: usize, pairs: &[usize]) -> u128 {
    let end = out.len();
    let ends = pairs.iter().skip(1).copied().chain(std::iter::once(end));
    let mut digests: Vec<u128> = pairs
        .iter()
        .zip(ends)
        .map(|(&s, e)| digest(&out[s..e]))
        .collect();
    digests.sort_unstable();
    let mut whole = Vec::with_capacity(8 + 16 * digests.len());
    whole.extend_from_slice(&(n as u64).to_be_bytes());
    for d in digests {
        whole.extend_from_slice(&d.to_be_bytes());
    }
    digest(&whole)
}

fn int(out: &mut Vec<u8>, v: i128) {
    out.push(b'i');
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the canonical form of the term at the reader's cursor to `out`,
/// in time linear in the bytes not yet reduced in `memo` (which it extends).
pub fn canonical(r: &mut Reader<'_>, out: &mut Vec<u8>, memo: &mut MapMemo) -> Result<()> {
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let at = r.pos();
        let tok = r.next()?;
        match stack.last_mut() {
            Some(Frame::List { left: 0, cells }) => match tok {
                Token::List(n) => {
                    if let Some(Frame::List { left, .. }) = stack.last_mut() {
                        *left = u64::from(n);
                    }
                    continue;
                }
                _ => {
                    if *cells {
                        out.push(b'T');
                    }
                    stack.pop();
                }
            },
            Some(Frame::List { left, cells }) => {
                *left -= 1;
                *cells = true;
                out.push(b'c');
            }
            Some(Frame::Plain(left)) => *left -= 1,
            Some(Frame::Map { left, pairs, .. }) => {
                if *left % 2 == 0 {
                    pairs.push(out.len());
                }
                *left -= 1;
            }
            None => {}
        }
        match tok {
            Token::Int(v) => int(out, i128::from(v)),
            Token::Big {
                negative,
                magnitude,
            } if magnitude.len() <= 15 => {
                let mut v: i128 = 0;
                for &b in magnitude.iter().rev() {
                    v = (v << 8) | i128::from(b);
                }
                int(out, if negative { -v } else { v });
            }
            Token::Big {
                negative,
                magnitude,
            } => {
                out.push(b'b');
                out.push(u8::from(negative));
                out.extend_from_slice(&(magnitude.len() as u64).to_be_bytes());
                out.extend_from_slice(magnitude);
            }
            Token::Float(f) => {
                out.push(b'f');
                let bits = if f == 0.0 { 0 } else { f.to_bits() };
                out.extend_from_slice(&bits.to_be_bytes());
            }
            Token::Atom(a) => {
                let name = a.name();
                out.push(b'a');
                out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                out.extend_from_slice(name.as_bytes());
            }
            Token::Nil => out.push(b'n'),
            Token::String(s) => {
                for &b in s {
                    out.push(b'c');
                    int(out, i128::from(b));
                }
                if !s.is_empty() {
                    out.push(b'T');
                }
                out.push(b'n');
            }
            Token::Tuple(n) => {
                out.push(b't');
                out.extend_from_slice(&n.to_be_bytes());
                if n > 0 {
                    stack.push(Frame::Plain(u64::from(n)));
                }
            }
            Token::Map(n) => match memo.get(&at) {
                Some(&(end, d)) => {
                    out.push(b'M');
                    out.extend_from_slice(&d.to_be_bytes());
                    r.seek(end);
                }
                None => {
                    let out_start = out.len();
                    out.push(b'm');
                    out.extend_from_slice(&n.to_be_bytes());
                    if n > 0 {
                        stack.push(Frame::Map {
                            left: 2 * u64::from(n),
                            pairs: Vec::new(),
                            at,
                            out_start,
                        });
                    }
                }
            },
            Token::List(n) => stack.push(Frame::List {
                left: u64::from(n),
                cells: false,
            }),
            Token::Binary(b) => {
                out.push(b'B');
                out.extend_from_slice(&(b.len() as u64).to_be_bytes());
                out.extend_from_slice(b);
            }
            Token::BitBinary { bytes, bits } => {
                if bits == 8 {
                    out.push(b'B');
                } else {
                    out.push(b'S');
                    out.push(bits);
                }
                out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
                let (last, full) = bytes.split_last().map_or((0, bytes), |(l, f)| (*l, f));
                out.extend_from_slice(full);
                if !bytes.is_empty() {
                    out.push(last & !(0xFFu8.checked_shr(u32::from(bits)).unwrap_or(0)));
                }
            }
            Token::Pid {
                node,
                id,
                serial,
                creation,
            } => {
                out.push(b'p');
                out.extend_from_slice(node.name().as_bytes());
                out.push(0);
                for v in [id, serial, creation] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            Token::Port { node, id, creation } => {
                out.push(b'o');
                out.extend_from_slice(node.name().as_bytes());
                out.push(0);
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&creation.to_be_bytes());
            }
            Token::Ref {
                node,
                creation,
                ids,
            } => {
                out.push(b'r');
                out.extend_from_slice(node.name().as_bytes());
                out.push(0);
                out.extend_from_slice(&creation.to_be_bytes());
                out.extend_from_slice(&(ids.len() as u32).to_be_bytes());
                out.extend_from_slice(ids);
            }
            Token::Fun {
                arity,
                index,
                num_free,
                module,
                old_index,
                old_uniq,
            } => {
                out.push(b'F');
                out.extend_from_slice(module.name().as_bytes());
                out.push(0);
                out.push(arity);
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(&num_free.to_be_bytes());
                out.extend_from_slice(&old_index.to_be_bytes());
                out.extend_from_slice(&old_uniq.to_be_bytes());
                stack.push(Frame::Plain(1 + u64::from(num_free)));
            }
            Token::Export {
                module,
                function,
                arity,
            } => {
                out.push(b'E');
                out.extend_from_slice(module.name().as_bytes());
                out.push(0);
                out.extend_from_slice(function.name().as_bytes());
                out.push(0);
                out.push(arity);
            }
        }
        loop {
            match stack.last() {
                Some(Frame::Plain(0)) => {
                    stack.pop();
                }
                Some(Frame::Map { left: 0, .. }) => {
                    if let Some(Frame::Map {
                        pairs,
                        at,
                        out_start,
                        ..
                    }) = stack.pop()
                    {
                        // Equal maps have contents of equal length, so
                        // they always take the same branch.
                        if out.len() - out_start <= SORT_MAX + MAP_HEADER {
                            sort_pairs(out, &pairs);
                        } else {
                            let d = digest_map(out, pairs.len(), &pairs);
                            out.truncate(out_start);
                            out.push(b'M');
                            out.extend_from_slice(&d.to_be_bytes());
                            memo.insert(at, (r.pos(), d));
                        }
                    }
                }
                _ => break,
            }
        }
        if stack.is_empty() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        canonical(&mut Reader::new(b, 0), &mut out, &mut MapMemo::default()).unwrap();
        out
    }

    #[test]
    fn encodings_of_one_term_agree() {
        assert_eq!(c(&[100, 0, 1, b'a']), c(&[119, 1, b'a']));
        assert_eq!(c(&[97, 5]), c(&[110, 1, 0, 5]));
        assert_eq!(
            c(&[107, 0, 2, 1, 2]),
            c(&[108, 0, 0, 0, 2, 97, 1, 97, 2, 106])
        );
        assert_eq!(c(&[108, 0, 0, 0, 0, 106]), c(&[106]));
    }

    #[test]
    fn map_entry_order_does_not_matter() {
        let ab = [116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3, 97, 4];
        let ba = [116, 0, 0, 0, 2, 97, 3, 97, 4, 97, 1, 97, 2];
        assert_eq!(c(&ab), c(&ba));
        assert_ne!(c(&ab), c(&[116, 0, 0, 0, 2, 97, 1, 97, 4, 97, 3, 97, 2]));
    }

    #[test]
    fn different_terms_differ() {
        assert_ne!(c(&[97, 1]), c(&[97, 2]));
        assert_ne!(c(&[104, 1, 97, 1]), c(&[108, 0, 0, 0, 1, 97, 1, 106]));
        assert_ne!(
            c(&[108, 0, 0, 0, 1, 97, 1, 97, 2]),
            c(&[108, 0, 0, 0, 2, 97, 1, 97, 2, 106])
        );
    }
}
