//! A canonical byte form of a term, so that two encodings of the same term
//! (an atom in Latin-1 or UTF-8, `5` as SMALL_INTEGER or SMALL_BIG, a list as
//! STRING_EXT or LIST_EXT) compare equal. Used to find duplicate map keys,
//! which `binary_to_term` rejects.

use crate::error::Result;
use crate::etf::{Reader, Token};

enum Frame {
    Plain(u64),
    List {
        left: u64,
        cells: bool,
    },
    /// A map: its pairs are sorted when complete, so entry order does not matter.
    Map {
        left: u64,
        pairs: Vec<usize>,
    },
}

/// Sorts the canonical pairs of a complete map (they follow `pairs[0]` in `out`).
fn sort_pairs(out: &mut Vec<u8>, pairs: &[usize]) {
    let Some(&first) = pairs.first() else { return };
    let mut spans: Vec<(usize, usize)> = pairs
        .iter()
        .zip(pairs.iter().skip(1).chain(std::iter::once(&out.len())))
        .map(|(&a, &b)| (a, b))
        .collect();
    spans.sort_by(|a, b| out[a.0..a.1].cmp(&out[b.0..b.1]));
    let sorted: Vec<u8> = spans
        .iter()
        .flat_map(|&(a, b)| out[a..b].iter().copied())
        .collect();
    out.truncate(first);
    out.extend(sorted);
}

fn int(out: &mut Vec<u8>, v: i128) {
    out.push(b'i');
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the canonical form of the term at the reader's cursor to `out`;
/// returns whether the term holds a non-empty map (whose canonical form
/// costs far more than its bytes: every nested map's pairs are sorted and
/// copied again at each level above it).
pub fn canonical(r: &mut Reader<'_>, out: &mut Vec<u8>) -> Result<bool> {
    let mut holds_map = false;
    let mut stack: Vec<Frame> = Vec::new();
    loop {
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
            Some(Frame::Map { left, pairs }) => {
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
            Token::Map(n) => {
                out.push(b'm');
                out.extend_from_slice(&n.to_be_bytes());
                if n > 0 {
                    holds_map = true;
                    stack.push(Frame::Map {
                        left: 2 * u64::from(n),
                        pairs: Vec::new(),
                    });
                }
            }
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
                    if let Some(Frame::Map { pairs, .. }) = stack.pop() {
                        sort_pairs(out, &pairs);
                    }
                }
                _ => break,
            }
        }
        if stack.is_empty() {
            return Ok(holds_map);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        canonical(&mut Reader::new(b, 0), &mut out).unwrap();
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
