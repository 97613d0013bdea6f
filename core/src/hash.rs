//! The VM's internal term hash (`make_internal_hash` in OTP 25's `utils.c`),
//! computed from ETF bytes. Maps with more than 32 keys lay their keys out by
//! this hash, so exact sizing of such maps needs it bit for bit.
//!
//! The C function walks a term with an explicit stack, pre-order and left to
//! right, which is exactly ETF's byte order; this port therefore streams over
//! the tokens once, keeping only per-container state. It recurses only for a
//! map of more than 32 keys nested in the keys of another such map (its keys'
//! hashes are needed first), at most 16 levels deep (`MAX_NESTED_HAMT`); deeper
//! is `unsupported`.

use crate::error::{Error, Result};
use crate::etf::{tag, Atom, Reader, Token};
use crate::options::VmContext;
use crate::order::key_order;
use crate::vm::CostTable;
use std::cmp::Ordering;

const HCONST: u32 = 0x9e37_79b9;
const HCONST_4: u32 = 0x78dd_e6e4;
const HCONST_7: u32 = 0x5384_540f;
const HCONST_8: u32 = 0xf1bb_cdc8;
const HCONST_9: u32 = 0x8ff3_4781;
const HCONST_10: u32 = 0x2e2a_c13a;
const HCONST_11: u32 = 0xcc62_3af3;
const HCONST_12: u32 = 0x6a99_b4ac;
const HCONST_13: u32 = 0x08d1_2e65;
const HCONST_15: u32 = 0x4540_21d7;
const HCONST_16: u32 = 0xe377_9b90;
const HCONST_17: u32 = 0x81af_1549;
const HCONST_18: u32 = 0x1fe6_8f02;
const HCONST_20: u32 = 0x5c55_8274;
const HCONST_21: u32 = 0xfa8c_fc2d;
const HCONST_22: u32 = 0x98c4_75e6;
/// `INTERNAL_HASH_SALT`: the internal hash starts from `salt ^ this`.
pub const INTERNAL_HASH_SALT: u32 = 3_432_918_353;
/// Word of `[]`.
const NIL_WORD: u64 = 0x3B;

/// Bob Jenkins' mix, as the `MIX` macro.
#[inline]
fn mix(mut a: u32, mut b: u32, mut c: u32) -> (u32, u32, u32) {
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 13);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 8);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 13);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 12);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 16);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 5);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 3);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 10);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 15);
    (a, b, c)
}

/// `UINT32_HASH_2(x, y, k)` applied to `hash`.
#[inline]
fn hash2(hash: u32, x: u32, y: u32, k: u32) -> u32 {
    mix(k.wrapping_add(x), k.wrapping_add(y), hash).2
}

/// `CONST_HASH(k)`.
#[inline]
fn const_hash(hash: u32, k: u32) -> u32 {
    (hash ^ k).rotate_left(17)
}

/// Hash of an immediate term's word.
#[inline]
fn immediate(hash: u32, word: u64) -> u32 {
    hash2(hash, word as u32, (word >> 32) as u32, HCONST)
}

/// `block_hash(bytes, len, initval)`.
fn block_hash(k: &[u8], initval: u32) -> u32 {
    let (mut a, mut b, mut c) = (HCONST, HCONST, initval);
    let mut chunks = k.chunks_exact(12);
    for ch in &mut chunks {
        let w = |i: usize| u32::from_le_bytes([ch[i], ch[i + 1], ch[i + 2], ch[i + 3]]);
        a = a.wrapping_add(w(0));
        b = b.wrapping_add(w(4));
        c = c.wrapping_add(w(8));
        (a, b, c) = mix(a, b, c);
    }
    let rest = chunks.remainder();
    c = c.wrapping_add(k.len() as u32);
    let at = |i: usize| u32::from(rest[i]);
    for i in (0..rest.len()).rev() {
        match i {
            10 => c = c.wrapping_add(at(10) << 24),
            9 => c = c.wrapping_add(at(9) << 16),
            8 => c = c.wrapping_add(at(8) << 8),
            7 => b = b.wrapping_add(at(7) << 24),
            6 => b = b.wrapping_add(at(6) << 16),
            5 => b = b.wrapping_add(at(5) << 8),
            4 => b = b.wrapping_add(at(4)),
            3 => a = a.wrapping_add(at(3) << 24),
            2 => a = a.wrapping_add(at(2) << 16),
            1 => a = a.wrapping_add(at(1) << 8),
            _ => a = a.wrapping_add(at(0)),
        }
    }
    mix(a, b, c).2
}

/// Word of a small integer.
#[inline]
pub fn small_word(v: i64) -> u64 {
    ((v as u64) << 4) | 0xF
}

/// The salt that `make_map_hash(Key, depth)` passes to the internal hash.
pub fn map_salt(depth: u32) -> u32 {
    if depth == 0 {
        0
    } else {
        hash2(0, depth, 1, HCONST_22)
    }
}

/// Per-container state of the streaming hash.
enum Frame {
    /// Children hashed in order with no markers (tuples, one-key maps, fun environments).
    Plain { left: u64 },
    /// A flat map of two or more keys. The VM hashes its entries in its key
    /// order (`binary_to_term` sorts them), which is encoding order for every
    /// `term_to_binary` output; each key is checked to follow the previous
    /// one, and a map whose order cannot be confirmed is hashed again, whole,
    /// by the VM (`VmContext::opaque_hash`) from `h_before`.
    Map {
        left: u64,
        start: usize,
        h_before: u32,
        /// Where the previous key starts, once one was read.
        prev_key: Option<usize>,
    },
    /// A list: `left` cells of the current segment remain, then its tail.
    List {
        left: u64,
        run: u32,
        sh: u32,
        last_nonbyte: bool,
    },
}

/// Advances `r` past one complete term without hashing it.
pub(crate) fn skip_term(r: &mut Reader<'_>) -> Result<()> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending = pending - 1 + r.next()?.children();
    }
    Ok(())
}

/// Hashes the single term in `bytes` (no version byte) with `salt`:
/// `make_internal_hash(binary_to_term(Bytes), Salt)` on the VM.
pub fn internal_hash(
    bytes: &[u8],
    salt: u32,
    vm: &dyn VmContext,
    costs: &CostTable,
) -> Result<u32> {
    hash_nested(bytes, salt, vm, costs, 0, &mut HamtOrders::default())
}

/// The hashing order of every HAMT met in one [`internal_hash`] call, by
/// the address of its first entry: the `(key, value, end)` addresses of its
/// entries in the order `make_internal_hash` visits them, and where the map
/// ends. A HAMT nested in a
/// key is hashed twice by each enclosing HAMT (once to order the keys, once
/// in sequence); without this its key order would be worked out again each
/// time, 2^depth times in all.
/// `(key, value, end)` addresses of one map entry.
type Entry = (usize, usize, usize);

#[derive(Default)]
struct HamtOrders {
    by_first_entry: rustc_hash::FxHashMap<usize, (Vec<Entry>, usize)>,
    /// How many orders were worked out (each HAMT once).
    worked_out: usize,
}

/// Tokens of two keys compared before their order is left to the VM: keeps
/// the check linear in the input whatever the keys hold.
const KEY_ORDER_BUDGET: u32 = 4096;

/// Most levels of large maps nested inside keys of large maps that are hashed;
/// each level costs a native stack frame.
const MAX_NESTED_HAMT: u32 = 16;

/// Hashes `bytes` starting from `salt`; `nesting` counts enclosing large maps.
fn hash_nested(
    bytes: &[u8],
    salt: u32,
    vm: &dyn VmContext,
    costs: &CostTable,
    nesting: u32,
    orders: &mut HamtOrders,
) -> Result<u32> {
    let mut h = salt ^ INTERNAL_HASH_SALT;
    let mut r = Reader::new(bytes, 0);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let start = r.pos();
        let tok = r.next()?;
        match stack.last_mut() {
            Some(Frame::List {
                left: 0,
                run,
                sh,
                last_nonbyte,
            }) => match tok {
                // A list tail continues the same run of cells.
                Token::List(n) => {
                    if let Some(Frame::List { left, .. }) = stack.last_mut() {
                        *left = u64::from(n);
                    }
                    continue;
                }
                Token::String(s) if !s.is_empty() => {
                    for &b in s {
                        byte_cell(&mut h, run, sh, b);
                    }
                    finish_run(&mut h, run, sh);
                    h = immediate(h, NIL_WORD);
                    stack.pop();
                    if pop_done(&mut stack) {
                        return Ok(h);
                    }
                    continue;
                }
                _ => {
                    if *last_nonbyte {
                        h = const_hash(h, HCONST_18);
                    } else {
                        finish_run(&mut h, run, sh);
                    }
                    stack.pop();
                }
            },
            Some(Frame::List {
                left,
                run,
                sh,
                last_nonbyte,
            }) => {
                *left -= 1;
                if let Token::Int(v @ 0..=255) = tok {
                    byte_cell(&mut h, run, sh, v as u8);
                    *last_nonbyte = false;
                    continue;
                }
                finish_run(&mut h, run, sh);
                h = const_hash(h, HCONST_17);
                *last_nonbyte = true;
            }
            Some(Frame::Plain { left }) => *left -= 1,
            Some(Frame::Map { left, prev_key, .. }) => {
                let is_key = *left % 2 == 0;
                *left -= 1;
                if is_key {
                    let in_order = prev_key.is_none_or(|p| {
                        key_order(r.bytes(), p, start, KEY_ORDER_BUDGET) == Some(Ordering::Less)
                    });
                    if in_order {
                        *prev_key = Some(start);
                    } else {
                        h = rehash_map_whole(&mut r, &mut stack, vm)?;
                        if pop_done(&mut stack) {
                            return Ok(h);
                        }
                        continue;
                    }
                }
            }
            None => {}
        }
        let h_before = h;
        h = hash_token(h, &tok, start, &r, vm, costs)?;
        match tok {
            Token::Tuple(n) if n > 0 => stack.push(Frame::Plain { left: u64::from(n) }),
            Token::Map(n) if n as usize > costs.flatmap_limit => {
                // A HAMT hashes its entries in node order, not encoding order.
                h = hash_hamt_entries(&mut r, n as usize, h, vm, costs, nesting, orders)?;
            }
            Token::Map(1) => stack.push(Frame::Plain { left: 2 }),
            Token::Map(n) if n > 0 => stack.push(Frame::Map {
                left: 2 * u64::from(n),
                start,
                h_before,
                prev_key: None,
            }),
            Token::List(n) => stack.push(Frame::List {
                left: u64::from(n),
                run: 0,
                sh: 0,
                last_nonbyte: false,
            }),
            Token::String(s) if !s.is_empty() => {
                let (mut run, mut sh) = (0, 0);
                for &b in s {
                    byte_cell(&mut h, &mut run, &mut sh, b);
                }
                finish_run(&mut h, &mut run, &mut sh);
                h = immediate(h, NIL_WORD);
            }
            Token::Fun { num_free, .. } => {
                // The creator pid comes first in ETF and is not hashed.
                skip_term(&mut r)?;
                if num_free > 0 {
                    stack.push(Frame::Plain {
                        left: u64::from(num_free),
                    });
                }
            }
            _ => {}
        }
        if pop_done(&mut stack) {
            return Ok(h);
        }
    }
}

/// The open flat map on top of `stack` has keys out of (or of unconfirmable)
/// order: drops it and everything opened inside it, and hashes the whole map
/// again through the VM from the state before its header. Leaves the reader
/// after the map. Outside a VM this is `Error::NeedsVm`, never a guess.
fn rehash_map_whole(r: &mut Reader<'_>, stack: &mut Vec<Frame>, vm: &dyn VmContext) -> Result<u32> {
    let Some(Frame::Map {
        start, h_before, ..
    }) = stack.pop()
    else {
        unreachable!("called with a map frame on top");
    };
    r.seek(start);
    skip_term(r)?;
    let mut etf = Vec::with_capacity(1 + r.pos() - start);
    etf.push(tag::VERSION);
    etf.extend_from_slice(&r.bytes()[start..r.pos()]);
    vm.opaque_hash(&etf, h_before).ok_or_else(|| {
        needs("key order of a map (inside a key) whose keys are not encoded in order".into())
    })
}

/// Hashes the entries of a HAMT map (the reader is just past its header) in
/// the order `make_internal_hash` visits them: slots in descending order at
/// every level, each leaf's key before its value. Leaves the reader after the map.
fn hash_hamt_entries(
    r: &mut Reader<'_>,
    n: usize,
    mut h: u32,
    vm: &dyn VmContext,
    costs: &CostTable,
    nesting: u32,
    orders: &mut HamtOrders,
) -> Result<u32> {
    if nesting >= MAX_NESTED_HAMT {
        return Err(Error::Unsupported {
            what: "maps with more than 32 keys nested as keys more than 16 deep",
        });
    }
    let bytes = r.bytes();
    let base = bytes.as_ptr() as usize;
    let first = base + r.pos();
    let order = match orders.by_first_entry.get(&first) {
        Some((order, end)) => {
            r.seek(end - base);
            order.clone()
        }
        None => {
            let order = hamt_order(r, n, vm, costs, nesting, orders)?;
            orders.worked_out += 1;
            orders
                .by_first_entry
                .insert(first, (order.clone(), base + r.pos()));
            order
        }
    };
    for &(k, v, end) in &order {
        // The key, then the value, each chained on the hash so far.
        for (from, to) in [(k, v), (v, end)] {
            let part = &bytes[from - base..to - base];
            h = hash_nested(part, h ^ INTERNAL_HASH_SALT, vm, costs, nesting + 1, orders)?;
        }
    }
    Ok(h)
}

/// The entries of a HAMT (the reader just past its header; left after the
/// map) as `(key, value, end)` addresses, in the order the VM hashes them.
fn hamt_order(
    r: &mut Reader<'_>,
    n: usize,
    vm: &dyn VmContext,
    costs: &CostTable,
    nesting: u32,
    orders: &mut HamtOrders,
) -> Result<Vec<Entry>> {
    let bytes = r.bytes();
    let base = bytes.as_ptr() as usize;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let k = r.pos();
        skip_term(r)?;
        let v = r.pos();
        skip_term(r)?;
        entries.push((k, v, r.pos()));
    }
    let mut key_hash = |e: &(usize, usize, usize), depth: u32| {
        hash_nested(
            &bytes[e.0..e.1],
            map_salt(depth),
            vm,
            costs,
            nesting + 1,
            orders,
        )
    };
    let mut keyed = Vec::with_capacity(n);
    for e in entries {
        keyed.push((nibble_reversed(key_hash(&e, 0)?), e));
    }
    keyed.sort_by_key(|x| std::cmp::Reverse(x.0));
    // Keys whose whole 32-bit hash ties are ordered by the next salted hash.
    let mut i = 0;
    while i < keyed.len() {
        let j = i + keyed[i..].iter().take_while(|x| x.0 == keyed[i].0).count();
        if j - i > 1 {
            let mut run = Vec::with_capacity(j - i);
            for x in &keyed[i..j] {
                run.push((nibble_reversed(key_hash(&x.1, 1)?), x.1));
            }
            run.sort_by_key(|x| std::cmp::Reverse(x.0));
            if run.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(Error::Unsupported {
                    what: "map keys whose hashes collide at two salts",
                });
            }
            keyed.splice(i..j, run);
        }
        i = j;
    }
    Ok(keyed
        .into_iter()
        .map(|(_, (k, v, end))| (base + k, base + v, base + end))
        .collect())
}

/// A hash with its nibbles reversed: HAMT slot order, level 0 most significant.
fn nibble_reversed(h: u32) -> u32 {
    (0..8).fold(0, |r, i| (r << 4) | ((h >> (4 * i)) & 0xF))
}

/// Pops finished frames; true when the whole term is done.
fn pop_done(stack: &mut Vec<Frame>) -> bool {
    while let Some(Frame::Plain { left: 0 } | Frame::Map { left: 0, .. }) = stack.last() {
        stack.pop();
    }
    stack.is_empty()
}

#[inline]
fn byte_cell(h: &mut u32, run: &mut u32, sh: &mut u32, b: u8) {
    *sh = (*sh << 8).wrapping_add(u32::from(b));
    if *run == 3 {
        *h = hash2(*h, *sh, 0, HCONST_4);
        *run = 0;
        *sh = 0;
    } else {
        *run += 1;
    }
}

#[inline]
fn finish_run(h: &mut u32, run: &mut u32, sh: &mut u32) {
    if *run > 0 {
        *h = hash2(*h, *sh, *run, HCONST_22);
    }
    *run = 0;
    *sh = 0;
}

fn needs(what: String) -> Error {
    Error::NeedsVm { needs: what }
}

fn atom_word(vm: &dyn VmContext, a: &Atom<'_>) -> Result<u64> {
    vm.atom_word(a)
        .ok_or_else(|| needs(format!("index of atom '{}'", a.name())))
}

/// Hashes one token's own contribution (container headers included).
fn hash_token(
    h: u32,
    tok: &Token<'_>,
    start: usize,
    r: &Reader<'_>,
    vm: &dyn VmContext,
    costs: &CostTable,
) -> Result<u32> {
    let opaque = |what: &str| -> Result<u32> {
        let mut etf = Vec::with_capacity(1 + r.pos() - start);
        etf.push(tag::VERSION);
        etf.extend_from_slice(&r.bytes()[start..r.pos()]);
        vm.opaque_hash(&etf, h)
            .ok_or_else(|| needs(format!("internal identity of {what}")))
    };
    Ok(match *tok {
        Token::Int(v) => immediate(h, small_word(v)),
        Token::Big {
            negative,
            magnitude,
        } => {
            let mut v: i128 = 0;
            if magnitude.len() <= 8 {
                for &b in magnitude.iter().rev() {
                    v = (v << 8) | i128::from(b);
                }
                if negative {
                    v = -v;
                }
            }
            if magnitude.len() <= 8 && costs.is_small(v) {
                immediate(h, small_word(v as i64))
            } else {
                let con = if negative { HCONST_10 } else { HCONST_11 };
                let mut h = h;
                for digit in magnitude.chunks(8) {
                    let mut d = [0u8; 8];
                    d[..digit.len()].copy_from_slice(digit);
                    let t = u64::from_le_bytes(d);
                    h = hash2(h, t as u32, (t >> 32) as u32, con);
                }
                h
            }
        }
        Token::Float(f) => {
            let bits = if f == 0.0 { 0u64 } else { f.to_bits() };
            hash2(h, bits as u32, (bits >> 32) as u32, HCONST_12)
        }
        Token::Atom(a) => immediate(h, atom_word(vm, &a)?),
        Token::Nil => immediate(h, NIL_WORD),
        Token::Tuple(n) => hash2(h, n, 0, HCONST_9),
        Token::Map(n) => hash2(h, n, 0, HCONST_16),
        Token::List(_) => h,
        Token::String([]) => immediate(h, NIL_WORD),
        Token::String(_) => h,
        Token::Binary(b) => {
            let con = HCONST_13.wrapping_add(h);
            if b.is_empty() {
                con
            } else {
                block_hash(b, con)
            }
        }
        Token::BitBinary { bytes, bits } => {
            let con = HCONST_13.wrapping_add(h);
            if bits == 8 {
                block_hash(bytes, con)
            } else {
                let (full, last) = bytes.split_at(bytes.len() - 1);
                let h = block_hash(full, con);
                hash2(
                    h,
                    u32::from(bits),
                    u32::from(last[0] >> (8 - bits)),
                    HCONST_15,
                )
            }
        }
        Token::Ref {
            node,
            creation,
            ids,
        } => {
            if vm.is_local(&node, creation) {
                let id = |i: usize| {
                    if 4 * i + 4 <= ids.len() {
                        u32::from_be_bytes([
                            ids[4 * i],
                            ids[4 * i + 1],
                            ids[4 * i + 2],
                            ids[4 * i + 3],
                        ])
                    } else {
                        0
                    }
                };
                let h = hash2(h, id(0), 0, HCONST_7);
                hash2(h, id(1), id(2), HCONST_8)
            } else {
                opaque("an external reference")?
            }
        }
        Token::Pid { .. } => opaque("a pid")?,
        Token::Port { .. } => opaque("a port")?,
        Token::Export { .. } => opaque("an external fun")?,
        Token::Fun {
            num_free,
            index,
            module,
            old_uniq,
            ..
        } => {
            let m = atom_word(vm, &module)?;
            let h = hash2(h, num_free, m as u32, HCONST_20);
            hash2(h, index, old_uniq as u32, HCONST_21)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::SizeOptions;
    use crate::vm::OTP25_64;

    fn h(bytes: &[u8]) -> u32 {
        internal_hash(bytes, 0, &SizeOptions::default(), &OTP25_64).unwrap()
    }

    /// A map of 33 keys: `key` and 32 small binaries.
    fn big_map_around(key: &[u8]) -> Vec<u8> {
        let mut m = vec![tag::MAP, 0, 0, 0, 33];
        m.extend_from_slice(key);
        m.extend_from_slice(&[97, 0]);
        for i in 0..32u32 {
            m.extend_from_slice(&[109, 0, 0, 0, 5, b'b']);
            m.extend_from_slice(&(1000 + i).to_be_bytes());
            m.extend_from_slice(&[97, 1]);
        }
        m
    }

    #[test]
    fn hamts_nested_in_keys_hash_in_linear_time() {
        // 16 levels of big maps, each the key of the next: hashing the
        // outermost used to work out each inner map's key order 2^depth
        // times (30 of them took ~15 s). Now each map's order once.
        let mut key = vec![109, 0, 0, 0, 5, b'b', 0, 0, 0, 5];
        for _ in 0..MAX_NESTED_HAMT {
            key = big_map_around(&key);
        }
        let mut list = vec![tag::LIST, 0, 0, 0, 30];
        for _ in 0..30 {
            list.extend_from_slice(&key);
        }
        list.push(tag::NIL);
        let mut orders = HamtOrders::default();
        let opts = SizeOptions::default();
        let a = hash_nested(&list, 0, &opts, &OTP25_64, 0, &mut orders).unwrap();
        assert_eq!(orders.worked_out, 30 * MAX_NESTED_HAMT as usize);
        assert_eq!(a, h(&list));
        // One level more is refused, not hashed.
        let deeper = big_map_around(&key);
        assert!(matches!(
            internal_hash(&deeper, 0, &SizeOptions::default(), &OTP25_64),
            Err(Error::Unsupported { .. })
        ));
    }

    #[test]
    fn string_and_list_of_bytes_hash_alike() {
        // "abc" as STRING_EXT and as LIST_EXT of small ints.
        let s = [107, 0, 3, b'a', b'b', b'c'];
        let l = [108, 0, 0, 0, 3, 97, b'a', 97, b'b', 97, b'c', 106];
        assert_eq!(h(&s), h(&l));
    }

    #[test]
    fn split_list_tail_is_the_same_list() {
        // [1,2|[3]] encoded with a list tail equals [1,2,3].
        let flat = [108, 0, 0, 0, 3, 97, 1, 97, 2, 97, 3, 106];
        let split = [108, 0, 0, 0, 2, 97, 1, 97, 2, 108, 0, 0, 0, 1, 97, 3, 106];
        assert_eq!(h(&flat), h(&split));
    }

    #[test]
    fn small_bignum_hashes_as_small() {
        assert_eq!(h(&[97, 5]), h(&[110, 1, 0, 5]));
    }

    #[test]
    fn flat_map_keys_out_of_order_are_never_guessed() {
        // #{1 => 2, 3 => 4}: in order it hashes from the bytes alone; the same
        // map with its keys swapped is valid ETF (binary_to_term sorts it) but
        // only the VM can say where its hash goes, so without one: needs_vm.
        let sorted = [116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3, 97, 4];
        let swapped = [116, 0, 0, 0, 2, 97, 3, 97, 4, 97, 1, 97, 2];
        assert!(internal_hash(&sorted, 0, &SizeOptions::default(), &OTP25_64).is_ok());
        let e = internal_hash(&swapped, 0, &SizeOptions::default(), &OTP25_64).unwrap_err();
        assert_eq!(e.code(), "needs_vm");
        // Keys of different type classes are ordered by class: 1 < a.
        let mixed = [116, 0, 0, 0, 2, 97, 1, 97, 2, 119, 1, b'a', 97, 4];
        let e = internal_hash(&mixed, 0, &SizeOptions::default(), &OTP25_64).unwrap_err();
        assert!(e.to_string().contains("atom"), "{e}");
    }

    #[test]
    fn atoms_need_the_vm() {
        let e = internal_hash(&[119, 1, b'a'], 0, &SizeOptions::default(), &OTP25_64).unwrap_err();
        assert_eq!(e.code(), "needs_vm");
    }

    #[test]
    fn block_hash_tail_lengths_differ() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..30usize {
            let mut b = vec![109, 0, 0, 0, n as u8];
            b.extend(std::iter::repeat_n(7u8, n));
            assert!(seen.insert(h(&b)));
        }
    }
}
