//! Sizing from ETF bytes: one pass over the tokens with an explicit stack.

use crate::canon::{canonical, MapMemo};
use crate::error::{Error, Result};
use crate::etf::{self, Reader, Token};
use crate::hamt::hamt_words;
use crate::hash::{internal_hash, map_salt};
use crate::label::key_label;
use crate::options::{SizeOptions, VmContext};
use crate::size::report::{FieldSize, Kind, TermSize};
use crate::vm::{CostTable, OTP25_64};
use crate::work::etf_cost;

/// `erts_debug:flat_size(binary_to_term(Etf))` with default options (no node
/// is local, no atom table).
pub fn flat_size(etf: &[u8]) -> Result<u64> {
    let opts = SizeOptions {
        fields: false,
        ..SizeOptions::default()
    };
    Ok(term_size(etf, &opts)?.words)
}

/// The full size report of the term in `etf`.
pub fn term_size(etf: &[u8], opts: &SizeOptions) -> Result<TermSize> {
    term_size_with(etf, opts, opts)
}

/// The full size report, with VM knowledge from `vm` (the NIF passes the live VM).
pub fn term_size_with(etf: &[u8], opts: &SizeOptions, vm: &dyn VmContext) -> Result<TermSize> {
    Ok(term_size_within(etf, opts, vm, u64::MAX)?.expect("unbounded budget"))
}

/// Like [`term_size_with`], but gives up (returning `Ok(None)`) once the job
/// has cost more than `budget` work units, so a binding can size small terms
/// on a normal scheduler and move the rest to a dirty one.
///
/// A unit is about one byte handled: every byte of the ETF (for
/// `term_to_binary(T, [compressed])` output, also every byte its header says
/// it inflates to, counted before inflating), plus, for every map, the bytes
/// of its keys once for the duplicate-key check and once more per hash round
/// of a map above 32 keys, so the units bound the time whatever the shape
/// (no separate pre-scan; keys holding maps are charged again at every
/// level, more than their checks cost). An error found before the walk
/// stops is returned as an error.
///
/// ```
/// use memacct_core::{size::term_size_within, SizeOptions};
/// let etf = [131, 104, 2, 97, 1, 106]; // {1, []}
/// let o = SizeOptions::default();
/// assert_eq!(term_size_within(&etf, &o, &o, 100).unwrap().unwrap().words, 3);
/// assert!(term_size_within(&etf, &o, &o, 5).unwrap().is_none());
/// ```
pub fn term_size_within(
    etf: &[u8],
    opts: &SizeOptions,
    vm: &dyn VmContext,
    budget: u64,
) -> Result<Option<TermSize>> {
    let Some(left) = budget.checked_sub(etf_cost(etf)) else {
        return Ok(None);
    };
    let body = etf::open(etf, opts.inflate_limit)?;
    let walker = Walker {
        costs: &OTP25_64,
        opts,
        vm,
        bytes: &body.bytes,
        out: TermSize::default(),
        canon_buf: Vec::new(),
        canon_spans: Vec::new(),
        canon_memo: MapMemo::default(),
        left,
    };
    match walker.run(body.base) {
        Ok(size) => Ok(Some(size)),
        Err(Stop::Budget) => Ok(None),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// Why a walk stopped early.
enum Stop {
    /// The input is bad (or beyond a limit).
    Error(Error),
    /// The caller's work budget ran out.
    Budget,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Error(e)
    }
}

struct Frame {
    left: u64,
    /// Whether this is a list (its last child is the tail).
    list: bool,
    /// For maps: where the map tag was, and where in the shared start list its
    /// children's start positions begin (nested maps finish first, so the list
    /// works as a stack).
    map: Option<(usize, usize)>,
}

struct Walker<'a> {
    costs: &'a CostTable,
    opts: &'a SizeOptions,
    vm: &'a dyn VmContext,
    bytes: &'a [u8],
    out: TermSize,
    /// Scratch space reused by every map's duplicate-key check.
    canon_buf: Vec<u8>,
    canon_spans: Vec<(usize, usize)>,
    /// Canonical forms of the maps met in keys, for the checks of the maps
    /// around them.
    canon_memo: MapMemo,
    /// Work units left (see [`term_size_within`]).
    left: u64,
}

impl Walker<'_> {
    fn run(mut self, base: usize) -> std::result::Result<TermSize, Stop> {
        let mut r = Reader::new(self.bytes, base);
        let mut stack: Vec<Frame> = Vec::with_capacity(16);
        // (start position, words so far) of each root child, for per-field sizes.
        let mut root_marks: Vec<(usize, u64)> = Vec::new();
        // Start positions of the children of every open map.
        let mut map_starts: Vec<usize> = Vec::with_capacity(64);
        let fields = self.opts.fields;
        if self.opts.max_depth == 0 {
            return Err(Error::TooDeep { limit: 0 }.into());
        }
        let root = r.next()?;
        self.out.nodes = 1;
        self.out.max_depth = 1;
        self.account(&root, r.offset())?;
        self.open(&root, base, &mut stack, &map_starts)?;
        while let Some(top) = stack.last_mut() {
            let pos = r.pos();
            top.left -= 1;
            // The last child of a list is its tail.
            let is_tail = top.list && top.left == 0;
            if top.map.is_some() {
                map_starts.push(pos);
            }
            if fields && stack.len() == 1 {
                root_marks.push((pos, self.out.by_kind.total()));
            }
            if let Some((end, leaf)) = fast_leaf(self.bytes, pos) {
                match leaf {
                    FastLeaf::Immediate => self.out.nodes += 1,
                    // A list's [] is part of the list, not a term of its own.
                    FastLeaf::Nil => self.out.nodes += u64::from(!is_tail),
                    FastLeaf::Float => {
                        self.out.nodes += 1;
                        self.out.by_kind.add(Kind::Float, self.costs.float);
                    }
                    FastLeaf::Binary(len) => {
                        self.out.nodes += 1;
                        self.binary(len);
                    }
                }
                r.seek(end);
            } else {
                let tok = r.next()?;
                // A list's cells and its [] count as one term.
                if !(is_tail && matches!(tok, Token::Nil | Token::List(_) | Token::String(_))) {
                    self.out.nodes += 1;
                }
                self.account(&tok, r.offset())?;
                // A list continued by a list in its tail (valid ETF, though
                // term_to_binary never writes it) is one list to the VM: the
                // finished list frame gives way, so the continuation's
                // elements sit at the same depth as the first part's.
                if is_tail && matches!(tok, Token::List(_) | Token::String(_)) {
                    stack.pop();
                }
                self.open(&tok, base + pos, &mut stack, &map_starts)?;
            }
            if stack.last().is_some_and(|f| f.left == 0) {
                self.pop_finished(&mut stack, &mut map_starts, &mut root_marks)?;
            }
        }
        // Bytes after the term are ignored, as binary_to_term/1 ignores them.
        if fields && matches!(root, Token::Tuple(_)) {
            root_marks.push((r.pos(), self.out.by_kind.total()));
            self.out.fields = root_marks
                .windows(2)
                .enumerate()
                .map(|(i, w)| FieldSize {
                    label: (i + 1).to_string(),
                    key_words: 0,
                    value_words: w[1].1 - w[0].1,
                })
                .collect();
        }
        self.out.words = self.out.by_kind.total();
        self.out.bytes = self.out.words * self.costs.word_bytes;
        Ok(self.out)
    }

    /// Opens a container (its children come next), checking the nesting limit.
    #[inline]
    fn open(
        &mut self,
        tok: &Token<'_>,
        at: usize,
        stack: &mut Vec<Frame>,
        map_starts: &[usize],
    ) -> Result<()> {
        let children = tok.children();
        if children == 0 {
            match tok {
                Token::Map(0) => self.out.by_kind.add(Kind::Map, self.costs.flatmap(0)),
                // A STRING_EXT's bytes are list elements one level down, as
                // they would be had the same list been sent as LIST_EXT.
                Token::String(s) if !s.is_empty() => self.enter_level(stack.len())?,
                _ => {}
            }
            return Ok(());
        }
        self.enter_level(stack.len())?;
        stack.push(Frame {
            left: children,
            list: matches!(tok, Token::List(_)),
            map: matches!(tok, Token::Map(_)).then_some((at, map_starts.len())),
        });
        Ok(())
    }

    /// Records that the children of a container read with `open` containers
    /// above it sit one level deeper, checking the nesting limit.
    #[inline]
    fn enter_level(&mut self, open: usize) -> Result<()> {
        let child_depth = open as u32 + 2;
        if child_depth > self.opts.max_depth {
            return Err(Error::TooDeep {
                limit: self.opts.max_depth,
            });
        }
        self.out.max_depth = self.out.max_depth.max(child_depth);
        Ok(())
    }

    /// Closes every container whose last child was just read.
    #[inline(never)]
    fn pop_finished(
        &mut self,
        stack: &mut Vec<Frame>,
        map_starts: &mut Vec<usize>,
        root_marks: &mut Vec<(usize, u64)>,
    ) -> std::result::Result<(), Stop> {
        while stack.last().is_some_and(|f| f.left == 0) {
            let frame = stack.pop().expect("non-empty");
            if let Some((at, from)) = frame.map {
                let fields = stack.is_empty() && self.opts.fields;
                self.finish_map(at, &map_starts[from..], fields.then_some(root_marks))?;
                map_starts.truncate(from);
            }
        }
        Ok(())
    }

    fn binary(&mut self, len: u64) {
        if len <= self.costs.heap_binary_limit {
            self.out
                .by_kind
                .add(Kind::HeapBinary, self.costs.heap_binary(len));
        } else {
            self.out.by_kind.add(Kind::RefcBinary, self.costs.proc_bin);
            self.out.off_heap_bytes += len;
            self.out.refc_binaries += 1;
        }
    }

    /// Adds the words of one token's own object (maps are added when complete).
    fn account(&mut self, tok: &Token<'_>, offset: usize) -> Result<()> {
        let c = self.costs;
        let k = &mut self.out.by_kind;
        match *tok {
            Token::Int(_) | Token::Atom(_) | Token::Nil | Token::Map(_) => {}
            Token::Big {
                negative,
                magnitude,
            } => {
                if !is_small_big(negative, magnitude, c) {
                    k.add(Kind::Bignum, c.bignum(magnitude.len() as u64));
                }
            }
            Token::Float(_) => k.add(Kind::Float, c.float),
            Token::Tuple(n) => k.add(Kind::Tuple, c.tuple(u64::from(n))),
            Token::List(n) => k.add(Kind::List, c.cons * u64::from(n)),
            Token::String(s) => {
                k.add(Kind::List, c.cons * s.len() as u64);
                // Its elements count as terms; its [] does not.
                self.out.nodes += s.len() as u64;
            }
            Token::Binary(b) => self.binary(b.len() as u64),
            Token::BitBinary { bytes, bits } => {
                if bits != 8 && !bytes.is_empty() {
                    k.add(Kind::SubBinary, c.sub_bin);
                }
                self.binary(bytes.len() as u64);
            }
            Token::Pid {
                node,
                id,
                serial,
                creation,
            } => {
                if self.vm.is_local(&node, creation) {
                    if id > 0x7FFF || serial > 0x1FFF {
                        return Err(Error::InvalidValue {
                            what: "local pid number",
                            offset,
                        });
                    }
                } else {
                    k.add(Kind::ExternalPid, c.external_pid);
                }
            }
            Token::Port { node, id, creation } => {
                if self.vm.is_local(&node, creation) {
                    if id > (1 << 28) - 1 {
                        return Err(Error::InvalidValue {
                            what: "local port number",
                            offset,
                        });
                    }
                } else {
                    k.add(Kind::ExternalPort, c.external_port);
                }
            }
            Token::Ref {
                node,
                creation,
                ids,
            } => {
                let words = (ids.len() / 4) as u64;
                if self.vm.is_local(&node, creation) {
                    let id = |i: usize| {
                        u32::from_be_bytes([
                            ids[4 * i],
                            ids[4 * i + 1],
                            ids[4 * i + 2],
                            ids[4 * i + 3],
                        ])
                    };
                    if words > 3 || id(0) >= 1 << 18 {
                        return Err(Error::InvalidValue {
                            what: "local reference",
                            offset,
                        });
                    }
                    // Pid-reference marker (bit 16 of the second word): an alias.
                    let pid_ref = words > 1 && id(1) & (1 << 16) != 0;
                    k.add(
                        Kind::LocalRef,
                        if pid_ref {
                            c.local_pid_ref
                        } else {
                            c.local_ref
                        },
                    );
                } else {
                    k.add(Kind::ExternalRef, c.external_ref(words));
                }
            }
            Token::Fun { num_free, .. } => k.add(Kind::Fun, c.fun + u64::from(num_free)),
            Token::Export { .. } => k.add(Kind::Fun, c.fun),
        }
        Ok(())
    }

    /// Takes `units` from the budget.
    #[inline]
    fn charge(&mut self, units: u64) -> std::result::Result<(), Stop> {
        match self.left.checked_sub(units) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Stop::Budget),
        }
    }

    /// Checks a complete map for duplicate keys and adds its structure's words.
    fn finish_map(
        &mut self,
        at: usize,
        starts: &[usize],
        root_marks: Option<&mut Vec<(usize, u64)>>,
    ) -> std::result::Result<(), Stop> {
        let n = starts.len() / 2;
        let bytes = self.bytes;
        let key = |i: usize| &bytes[starts[2 * i]..starts[2 * i + 1]];
        let key_bytes: u64 = (0..n).map(|i| key(i).len() as u64).sum();
        self.charge(key_bytes)?;
        self.check_distinct(starts, at)?;
        let own = if n <= self.costs.flatmap_limit {
            self.costs.flatmap(n as u64)
        } else {
            // One hash round of every key is charged first; the rare
            // further rounds (keys whose hashes collide) after.
            self.charge(key_bytes)?;
            let (vm, costs) = (self.vm, self.costs);
            let mut rehashed = 0u64;
            let words = hamt_words(n, costs, |i, depth| {
                if depth > 0 {
                    rehashed += key(i).len() as u64;
                }
                internal_hash(key(i), map_salt(depth), vm, costs)
            })?;
            self.charge(rehashed)?;
            words
        };
        if let Some(marks) = root_marks {
            // marks[j] = (start, words before child j); the last value ends at the current total.
            let end_words = self.out.by_kind.total();
            let before = |j: usize| marks.get(j).map_or(end_words, |m| m.1);
            self.out.fields = (0..n)
                .map(|i| {
                    let mut r = Reader::new(self.bytes, 0);
                    r.seek(starts[2 * i]);
                    FieldSize {
                        label: key_label(&mut r),
                        key_words: before(2 * i + 1) - before(2 * i),
                        value_words: before(2 * i + 2) - before(2 * i + 1),
                    }
                })
                .collect();
        }
        self.out.by_kind.add(Kind::Map, own);
        Ok(())
    }

    /// Rejects maps with two equal keys (as `binary_to_term` does). Keys
    /// are the spans `starts[2i]..starts[2i + 1]` of the bytes.
    fn check_distinct(&mut self, starts: &[usize], at: usize) -> Result<()> {
        let n = starts.len() / 2;
        let bytes = self.bytes;
        let key = |i: usize| &bytes[starts[2 * i]..starts[2 * i + 1]];
        if n < 2 {
            return Ok(());
        }
        let spans = &mut self.canon_spans;
        spans.clear();
        let first_tag = if n > 0 { key(0)[0] } else { 0 };
        if canonical_tag(first_tag) && (0..n).all(|i| same_class(key(i), first_tag)) {
            // Fast path: one leaf encoding for every key, so bytes compare as terms.
            if n <= 16 {
                let mut keys: [&[u8]; 16] = [&[]; 16];
                for (i, k) in keys.iter_mut().enumerate().take(n) {
                    *k = key(i);
                }
                for i in 1..n {
                    if keys[..i].contains(&keys[i]) {
                        return Err(Error::DuplicateMapKey { offset: at });
                    }
                }
                return Ok(());
            }
            let mut keys: Vec<&[u8]> = (0..n).map(&key).collect();
            keys.sort_unstable();
            return match keys.windows(2).any(|w| w[0] == w[1]) {
                true => Err(Error::DuplicateMapKey { offset: at }),
                false => Ok(()),
            };
        }
        let buf = &mut self.canon_buf;
        buf.clear();
        for i in 0..n {
            let s = buf.len();
            let mut r = Reader::new(bytes, 0);
            r.seek(starts[2 * i]);
            canonical(&mut r, buf, &mut self.canon_memo)?;
            spans.push((s, buf.len()));
        }
        spans.sort_unstable_by(|a, b| buf[a.0..a.1].cmp(&buf[b.0..b.1]));
        if spans
            .windows(2)
            .any(|w| buf[w[0].0..w[0].1] == buf[w[1].0..w[1].1])
        {
            return Err(Error::DuplicateMapKey { offset: at });
        }
        Ok(())
    }
}

/// A common leaf decoded straight from the bytes (the hot path).
enum FastLeaf {
    Immediate,
    Nil,
    Float,
    Binary(u64),
}

/// Decodes the most common leaf encodings without building a token; `None`
/// sends anything else (or anything doubtful) through the full reader, which
/// also reports the errors.
#[inline]
fn fast_leaf(b: &[u8], pos: usize) -> Option<(usize, FastLeaf)> {
    let be32 = |at: usize| -> Option<usize> {
        let x = b.get(at..at + 4)?;
        Some(u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as usize)
    };
    match *b.get(pos)? {
        97 => (pos + 2 <= b.len()).then_some((pos + 2, FastLeaf::Immediate)),
        98 => (pos + 5 <= b.len()).then_some((pos + 5, FastLeaf::Immediate)),
        106 => Some((pos + 1, FastLeaf::Nil)),
        // ATOM_EXT: what OTP 25's term_to_binary/1 writes for every atom.
        100 => {
            let n = usize::from(u16::from_be_bytes([*b.get(pos + 1)?, *b.get(pos + 2)?]));
            let end = pos + 3 + n;
            (n <= 255 && end <= b.len()).then_some((end, FastLeaf::Immediate))
        }
        119 => {
            let end = pos + 2 + usize::from(*b.get(pos + 1)?);
            b.get(pos + 2..end)?
                .is_ascii()
                .then_some((end, FastLeaf::Immediate))
        }
        109 => {
            let len = be32(pos + 1)?;
            let end = (pos + 5).checked_add(len)?;
            (end <= b.len()).then_some((end, FastLeaf::Binary(len as u64)))
        }
        70 => {
            let x = b.get(pos + 1..pos + 9)?;
            let v = f64::from_bits(u64::from_be_bytes(x.try_into().ok()?));
            v.is_finite().then_some((pos + 9, FastLeaf::Float))
        }
        _ => None,
    }
}

/// Whether `key` is encoded like keys with `tag`, so equal bytes mean equal terms.
/// Integers are one class when they use their shortest encoding (what
/// term_to_binary/1 writes): SMALL_INTEGER below 256, INTEGER otherwise.
#[inline]
fn same_class(key: &[u8], tag: u8) -> bool {
    match (key[0], tag) {
        (97, 97 | 98) => true,
        (98, 97 | 98) => {
            key.len() >= 5
                && !(0..256).contains(&i32::from_be_bytes([key[1], key[2], key[3], key[4]]))
        }
        (k, t) => k == t,
    }
}

/// Tags whose encodings are equal exactly when the terms are (given the same tag).
fn canonical_tag(tag: u8) -> bool {
    matches!(tag, 97 | 98 | 100 | 107 | 109 | 115 | 118 | 119)
}

/// Whether a bignum encoding holds a value that the VM stores as a small integer.
fn is_small_big(negative: bool, magnitude: &[u8], c: &CostTable) -> bool {
    if magnitude.len() > 8 {
        return false;
    }
    let v = magnitude
        .iter()
        .rev()
        .fold(0i128, |v, &b| (v << 8) | i128::from(b));
    c.is_small(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::tests::int_map;

    /// The least budget that sizes `etf`, found by bisection (the answer is
    /// monotone in the budget), with the size it gives.
    fn least_budget(etf: &[u8]) -> (u64, TermSize) {
        let o = SizeOptions::default();
        let full = term_size(etf, &o).unwrap();
        let (mut lo, mut hi) = (0u64, 1 << 30);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match term_size_within(etf, &o, &o, mid).unwrap() {
                Some(s) => {
                    assert_eq!(s, full);
                    hi = mid;
                }
                None => lo = mid + 1,
            }
        }
        (lo, full)
    }

    #[test]
    fn a_flatmap_costs_its_bytes_and_its_keys_once() {
        let m = int_map(32);
        // 102 bytes of ETF, 32 keys of 2 bytes checked for duplicates.
        assert_eq!(least_budget(&m).0, m.len() as u64 + 64);
    }

    #[test]
    fn a_hamt_costs_its_keys_again_for_hashing() {
        let m = int_map(33);
        let (units, size) = least_budget(&m);
        assert_eq!(units, m.len() as u64 + 2 * 66);
        assert_eq!(size.words, 127);
    }

    #[test]
    fn a_map_in_a_key_is_charged_at_each_level() {
        // #{#{a => 1} => 1, b => 1}: the inner map's key (3 bytes), then the
        // outer map's keys: the inner map (10 bytes) and `b` (3).
        let m = [
            131, 116, 0, 0, 0, 2, 116, 0, 0, 0, 1, 119, 1, b'a', 97, 1, 97, 1, 119, 1, b'b', 97, 1,
        ];
        assert_eq!(least_budget(&m).0, m.len() as u64 + 3 + 13);
        // Maps nested d deep in two-key maps' keys: about d^2 units.
        let nested = |d: usize| {
            let mut v = vec![131];
            for _ in 0..d {
                v.extend_from_slice(&[116, 0, 0, 0, 2, 119, 1, b'z', 97, 0]);
            }
            v.extend_from_slice(&[116, 0, 0, 0, 0]);
            for _ in 0..d {
                v.extend_from_slice(&[97, 1]);
            }
            v
        };
        let (small, big) = (least_budget(&nested(10)).0, least_budget(&nested(100)).0);
        assert!(big > 50 * small, "{small} -> {big}");
    }

    #[test]
    fn maps_nested_in_keys_are_checked_once_each() {
        // 20,000 levels of #{z => 0, Inner => 1} (200 KB): each level's
        // duplicate check reuses the inner map's canonical digest, so this
        // is linear (it was cubic: minutes for 35 KB).
        let d = 20_000;
        let mut v = vec![131];
        for _ in 0..d {
            v.extend_from_slice(&[116, 0, 0, 0, 2, 119, 1, b'z', 97, 0]);
        }
        v.extend_from_slice(&[116, 0, 0, 0, 0]);
        v.extend(std::iter::repeat_n([97, 1], d).flatten());
        let o = SizeOptions {
            max_depth: 100_000,
            ..SizeOptions::default()
        };
        let size = term_size(&v, &o).unwrap();
        assert_eq!(
            size.words,
            d as u64 * OTP25_64.flatmap(2) + OTP25_64.flatmap(0)
        );
    }

    #[test]
    fn duplicate_keys_are_found_through_nested_maps_in_any_order() {
        let o = SizeOptions::default();
        // #{#{a => 1, b => 2} => 1, #{b => 2, a => 1} => 2}: equal keys.
        let inner_ab = [116, 0, 0, 0, 2, 119, 1, b'a', 97, 1, 119, 1, b'b', 97, 2];
        let inner_ba = [116, 0, 0, 0, 2, 119, 1, b'b', 97, 2, 119, 1, b'a', 97, 1];
        let pair = |first: &[u8], second: &[u8]| {
            let mut v = vec![131, 116, 0, 0, 0, 2];
            v.extend_from_slice(first);
            v.extend_from_slice(&[97, 1]);
            v.extend_from_slice(second);
            v.extend_from_slice(&[97, 2]);
            v
        };
        assert_eq!(
            term_size(&pair(&inner_ab, &inner_ba), &o)
                .unwrap_err()
                .code(),
            "duplicate_map_key"
        );
        // #{a => 1, b => 3} differs from #{a => 1, b => 2}.
        let inner_ab3 = [116, 0, 0, 0, 2, 119, 1, b'a', 97, 1, 119, 1, b'b', 97, 3];
        assert!(term_size(&pair(&inner_ab, &inner_ab3), &o).is_ok());
        // Maps long enough to be reduced to digests (12 pairs), in two orders.
        let long = |order: &mut dyn Iterator<Item = u8>| {
            let mut v = vec![116, 0, 0, 0, 12];
            for i in order {
                v.extend_from_slice(&[119, 2, b'k', b'a' + i, 97, i]);
            }
            v
        };
        let (up, down) = (long(&mut (0..12)), long(&mut (0..12).rev()));
        assert_eq!(
            term_size(&pair(&up, &down), &o).unwrap_err().code(),
            "duplicate_map_key"
        );
        let mut other = up.clone();
        *other.last_mut().unwrap() = 99;
        assert!(term_size(&pair(&up, &other), &o).is_ok());
        // One level down: #{K => 1, {K2} => 2} where K, K2 are those maps.
        let wrap = |m: &[u8]| [&[104, 1][..], m].concat();
        assert_eq!(
            term_size(&pair(&wrap(&inner_ab), &wrap(&inner_ba)), &o)
                .unwrap_err()
                .code(),
            "duplicate_map_key"
        );
    }

    #[test]
    fn compressed_input_is_charged_its_inflated_size_before_inflating() {
        let o = SizeOptions::default();
        // Declares 256 inflated bytes; never inflated under a budget below that.
        let zipped = [131, 80, 0, 0, 1, 0, 9];
        assert!(term_size_within(&zipped, &o, &o, 262).unwrap().is_none());
        assert!(term_size_within(&zipped, &o, &o, 263).is_err());
    }

    #[test]
    fn errors_found_within_the_budget_are_errors() {
        let o = SizeOptions::default();
        assert!(term_size_within(&[131, 104, 3, 97], &o, &o, 1 << 20).is_err());
        let dup = [131, 116, 0, 0, 0, 2, 97, 1, 106, 97, 1, 106];
        assert_eq!(
            term_size_within(&dup, &o, &o, 1 << 20).unwrap_err().code(),
            "duplicate_map_key"
        );
        // The same input under a budget too small to reach the check.
        assert!(term_size_within(&dup, &o, &o, 12).unwrap().is_none());
    }
}
