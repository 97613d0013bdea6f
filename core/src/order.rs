//! The VM's map-key order over ETF bytes, as far as the bytes tell it.
//!
//! `binary_to_term/1` stores the keys of a flat map (at most 32 keys) sorted
//! in map-key order (term order, compared exactly: every integer before every
//! float), and the VM's internal hash of such a map visits them in that
//! order. [`key_order`] compares two encoded terms in that order without
//! decoding them, for the kinds whose order is plain from their bytes
//! (numbers, atoms, binaries, tuples, lists of equal shape, `[]`). For the
//! rest (pids, ports, references, funs, maps inside keys, lists of different
//! encodings) it says `None`, and the caller asks the VM or declines.

use std::cmp::Ordering;

use crate::etf::{Reader, Token};

/// Term-order class of a token: number < atom < reference < fun < port < pid
/// < tuple < map < nil < list < bitstring (integers before floats).
fn rank(tok: &Token<'_>) -> u8 {
    match tok {
        Token::Int(_) | Token::Big { .. } => 1,
        Token::Float(_) => 2,
        Token::Atom(_) => 3,
        Token::Ref { .. } => 4,
        Token::Fun { .. } | Token::Export { .. } => 5,
        Token::Port { .. } => 6,
        Token::Pid { .. } => 7,
        Token::Tuple(_) => 8,
        Token::Map(_) => 9,
        Token::Nil | Token::String([]) => 10,
        Token::List(_) | Token::String(_) => 11,
        Token::Binary(_) | Token::BitBinary { .. } => 12,
    }
}

/// An integer as (negative, little-endian magnitude without high zero bytes).
fn integer(tok: &Token<'_>) -> Option<(bool, Vec<u8>)> {
    let (negative, mut mag) = match *tok {
        Token::Int(v) => {
            let m = v.unsigned_abs().to_le_bytes().to_vec();
            (v < 0, m)
        }
        Token::Big {
            negative,
            magnitude,
        } => (negative, magnitude.to_vec()),
        _ => return None,
    };
    while mag.last() == Some(&0) {
        mag.pop();
    }
    Some((negative && !mag.is_empty(), mag))
}

fn compare_integers(a: &(bool, Vec<u8>), b: &(bool, Vec<u8>)) -> Ordering {
    let magnitude = |x: &Vec<u8>, y: &Vec<u8>| {
        x.len()
            .cmp(&y.len())
            .then_with(|| x.iter().rev().cmp(y.iter().rev()))
    };
    match (a.0, b.0) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude(&a.1, &b.1),
        (true, true) => magnitude(&b.1, &a.1),
    }
}

/// One step of a term in pre-order with lists spelled as cons cells, so that
/// `STRING_EXT`, `LIST_EXT` and split list tails of one list read alike.
enum Item<'a> {
    /// A token that is not a list header.
    Token(Token<'a>),
    /// A cons cell: its head follows, then its tail.
    Cons,
    /// An element of a `STRING_EXT` (a small integer).
    Byte(u8),
}

/// Up to `budget` items of the term at `at`; `None` if the bytes do not hold
/// a term or it is longer than the budget.
fn items(bytes: &[u8], at: usize, budget: usize) -> Option<Vec<Item<'_>>> {
    let mut r = Reader::new(bytes, 0);
    r.seek(at);
    let mut out = Vec::new();
    // Per open container: how many more sub-terms it holds (lists count
    // their elements and their tail, each element preceded by a cons cell).
    let mut open: Vec<(u64, bool)> = vec![(1, false)];
    while let Some(top) = open.last_mut() {
        if top.0 == 0 {
            open.pop();
            continue;
        }
        top.0 -= 1;
        // In a list, every element but the tail is one cons cell.
        if top.1 && top.0 > 0 {
            out.push(Item::Cons);
        }
        if out.len() > budget {
            return None;
        }
        match r.next().ok()? {
            Token::List(n) => open.push((u64::from(n) + 1, true)),
            Token::String(s) => {
                for &b in s {
                    out.push(Item::Cons);
                    out.push(Item::Byte(b));
                }
                out.push(Item::Token(Token::Nil));
            }
            tok => {
                let children = tok.children();
                out.push(Item::Token(tok));
                if children > 0 {
                    open.push((children, false));
                }
            }
        }
    }
    Some(out)
}

fn item_rank(item: &Item<'_>) -> u8 {
    match item {
        Item::Token(t) => rank(t),
        Item::Cons => 11,
        Item::Byte(_) => 1,
    }
}

/// Compares one pair of items at the same place in both terms: `Some(order)`
/// when they decide it, `Some(Equal)` when the comparison goes on, `None`
/// when the bytes cannot tell.
fn compare_items(a: &Item<'_>, b: &Item<'_>) -> Option<Ordering> {
    let by_rank = item_rank(a).cmp(&item_rank(b));
    if by_rank != Ordering::Equal {
        return Some(by_rank);
    }
    let int = |i: &Item<'_>| match i {
        Item::Byte(v) => integer(&Token::Int(i64::from(*v))),
        Item::Token(t) => integer(t),
        Item::Cons => None,
    };
    match (a, b) {
        (Item::Cons, Item::Cons) => Some(Ordering::Equal),
        (Item::Token(Token::Float(x)), Item::Token(Token::Float(y))) => x.partial_cmp(y),
        (Item::Token(Token::Atom(x)), Item::Token(Token::Atom(y))) => Some(x.name().cmp(&y.name())),
        (Item::Token(Token::Nil), Item::Token(Token::Nil)) => Some(Ordering::Equal),
        (Item::Token(Token::Tuple(n)), Item::Token(Token::Tuple(m))) => Some(n.cmp(m)),
        (Item::Token(Token::Map(n)), Item::Token(Token::Map(m))) if n != m => Some(n.cmp(m)),
        (Item::Token(x), Item::Token(y)) if rank(x) == 12 => bits(x)?.cmp_bits(&bits(y)?),
        _ => Some(compare_integers(&int(a)?, &int(b)?)),
    }
}

/// A bitstring's bytes and bit length.
struct Bits<'a> {
    bytes: &'a [u8],
    len: u64,
}

fn bits<'a>(t: &Token<'a>) -> Option<Bits<'a>> {
    match *t {
        Token::Binary(b) => Some(Bits {
            bytes: b,
            len: 8 * b.len() as u64,
        }),
        Token::BitBinary { bytes, bits } if !bytes.is_empty() => Some(Bits {
            bytes,
            len: 8 * (bytes.len() as u64 - 1) + u64::from(bits),
        }),
        Token::BitBinary { bytes, .. } => Some(Bits { bytes, len: 0 }),
        _ => None,
    }
}

impl Bits<'_> {
    fn bit(&self, i: u64) -> bool {
        self.bytes[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
    }

    /// Bitstrings compare bit by bit; a prefix comes first.
    fn cmp_bits(&self, other: &Bits<'_>) -> Option<Ordering> {
        let common = self.len.min(other.len);
        let whole = (common / 8) as usize;
        let by_bytes = self.bytes[..whole].cmp(&other.bytes[..whole]);
        if by_bytes != Ordering::Equal {
            return Some(by_bytes);
        }
        for i in 8 * whole as u64..common {
            match self.bit(i).cmp(&other.bit(i)) {
                Ordering::Equal => {}
                decided => return Some(decided),
            }
        }
        Some(self.len.cmp(&other.len))
    }
}

/// Compares the terms encoded at offsets `a` and `b` of `bytes` in map-key
/// order, looking at most `budget` items (tokens and cons cells) into each;
/// `None` when the bytes alone cannot tell (see the module docs) or a term
/// is longer than the budget before the order is decided.
pub(crate) fn key_order(bytes: &[u8], a: usize, b: usize, budget: u32) -> Option<Ordering> {
    let (xs, ys) = (
        items(bytes, a, budget as usize)?,
        items(bytes, b, budget as usize)?,
    );
    for (x, y) in xs.iter().zip(&ys) {
        match compare_items(x, y)? {
            Ordering::Equal => {}
            decided => return Some(decided),
        }
    }
    // Equal items all along two whole terms: equal terms.
    (xs.len() == ys.len()).then_some(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(a: &[u8], b: &[u8]) -> Option<Ordering> {
        let mut bytes = a.to_vec();
        bytes.extend_from_slice(b);
        key_order(&bytes, 0, a.len(), 1000)
    }

    #[test]
    fn numbers_atoms_and_classes() {
        use Ordering::*;
        assert_eq!(two(&[97, 1], &[97, 2]), Some(Less));
        assert_eq!(two(&[98, 255, 255, 255, 255], &[97, 0]), Some(Less)); // -1 < 0
        assert_eq!(two(&[110, 1, 0, 5], &[97, 5]), Some(Equal)); // small big == small
        assert_eq!(
            two(&[110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], &[97, 5]),
            Some(Greater)
        );
        assert_eq!(
            two(&[110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1], &[97, 5]),
            Some(Less)
        );
        assert_eq!(two(&[119, 1, b'b'], &[119, 2, b'a', b'b']), Some(Greater));
        assert_eq!(two(&[97, 200], &[119, 1, b'a']), Some(Less)); // number < atom
        assert_eq!(
            two(&[70, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0], &[97, 1]),
            Some(Greater)
        ); // 1.0 after 1
        assert_eq!(two(&[106], &[107, 0, 1, 7]), Some(Less)); // [] < [7]
    }

    #[test]
    fn tuples_and_lists_compare_elementwise() {
        use Ordering::*;
        // {1,2} < {1,3}; {9} < {0,0} (arity first).
        assert_eq!(
            two(&[104, 2, 97, 1, 97, 2], &[104, 2, 97, 1, 97, 3]),
            Some(Less)
        );
        assert_eq!(two(&[104, 1, 97, 9], &[104, 2, 97, 0, 97, 0]), Some(Less));
        // "ab" < "abc"; a string and the same list as LIST_EXT are equal;
        // [1|2] < [1,2] (a number tail before a list tail).
        assert_eq!(two(&[107, 0, 2, 1, 2], &[107, 0, 3, 1, 2, 3]), Some(Less));
        assert_eq!(
            two(&[107, 0, 1, 1], &[108, 0, 0, 0, 1, 97, 1, 106]),
            Some(Equal)
        );
        assert_eq!(
            two(&[108, 0, 0, 0, 1, 97, 1, 97, 2], &[107, 0, 2, 1, 2]),
            Some(Less)
        );
        // <<1:1>> < <<128>> (prefix), <<0:3>> < <<1>>.
        assert_eq!(
            two(&[77, 0, 0, 0, 1, 1, 0x80], &[109, 0, 0, 0, 1, 0x80]),
            Some(Less)
        );
        assert_eq!(
            two(&[77, 0, 0, 0, 1, 3, 0], &[109, 0, 0, 0, 1, 1]),
            Some(Less)
        );
        // Maps of one size are left to the VM.
        assert_eq!(two(&[116, 0, 0, 0, 0], &[116, 0, 0, 0, 0]), None);
        // Equal terms.
        assert_eq!(
            two(&[104, 1, 119, 1, b'x'], &[104, 1, 119, 1, b'x']),
            Some(Equal)
        );
    }

    #[test]
    fn budget_and_garbage_give_none() {
        let t = [104, 3, 97, 1, 97, 1, 97, 1];
        assert_eq!(
            key_order(&[&t[..], &t[..]].concat(), 0, t.len(), 8),
            Some(Ordering::Equal)
        );
        assert_eq!(key_order(&[&t[..], &t[..]].concat(), 0, t.len(), 2), None);
        assert_eq!(two(&[255], &[97, 1]), None);
    }
}
