//! Property tests over a model of Erlang terms:
//! - the live-term walker and the ETF walker agree on every term;
//! - alternative encodings of one term (strings as STRING_EXT or LIST_EXT,
//!   atoms in four encodings, compressed or not) give the same size;
//! - per-kind words add up to the total, per-field words to the fields' share;
//! - arbitrary bytes never panic;
//! - `etf::build` gives back the term from any of its encodings, and builds
//!   nothing that `etf::validate` rejects.

use std::collections::HashMap;
use std::io::Write;

use memacct_core::etf::build::{build, TermBuilder};
use memacct_core::hash::internal_hash;
use memacct_core::vm::OTP25_64;
use memacct_core::{live_term_size, term_size, LiveTerm, Result, Shape, SizeOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum T {
    Int(i64),
    Big(bool, Vec<u8>),
    Float(f64),
    Atom(String),
    Nil,
    Tuple(Vec<T>),
    List(Vec<T>, Box<T>),
    Bin(Vec<u8>),
    Bits(Vec<u8>, u8),
    Map(Vec<(T, T)>),
}

/// How to encode the parts that have several encodings.
#[derive(Debug, Clone, Copy)]
struct Style {
    strings: bool,
    atom_tag: u8,
}

fn atom_bytes(out: &mut Vec<u8>, name: &str, tag: u8) {
    let b = name.as_bytes();
    let latin1 = name.chars().all(|c| (c as u32) < 256);
    match tag {
        100 if latin1 => {
            out.push(100);
            out.extend_from_slice(&(name.chars().count() as u16).to_be_bytes());
            out.extend(name.chars().map(|c| c as u8));
        }
        115 if latin1 => {
            out.push(115);
            out.push(name.chars().count() as u8);
            out.extend(name.chars().map(|c| c as u8));
        }
        118 => {
            out.push(118);
            out.extend_from_slice(&(b.len() as u16).to_be_bytes());
            out.extend_from_slice(b);
        }
        _ => {
            out.push(119);
            out.push(b.len() as u8);
            out.extend_from_slice(b);
        }
    }
}

fn encode(t: &T, s: Style, out: &mut Vec<u8>) {
    match t {
        T::Int(v) if (0..256).contains(v) => out.extend_from_slice(&[97, *v as u8]),
        T::Int(v) if i32::try_from(*v).is_ok() => {
            out.push(98);
            out.extend_from_slice(&(*v as i32).to_be_bytes());
        }
        T::Int(v) => {
            let m = v.unsigned_abs().to_le_bytes();
            let n = 8 - m.iter().rev().take_while(|&&b| b == 0).count();
            out.extend_from_slice(&[110, n as u8, u8::from(*v < 0)]);
            out.extend_from_slice(&m[..n]);
        }
        T::Big(neg, mag) => {
            out.extend_from_slice(&[110, mag.len() as u8, u8::from(*neg)]);
            out.extend_from_slice(mag);
        }
        T::Float(f) => {
            out.push(70);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        T::Atom(a) => atom_bytes(out, a, s.atom_tag),
        T::Nil => out.push(106),
        T::Tuple(es) => {
            if es.len() < 256 {
                out.extend_from_slice(&[104, es.len() as u8]);
            } else {
                out.push(105);
                out.extend_from_slice(&(es.len() as u32).to_be_bytes());
            }
            for e in es {
                encode(e, s, out);
            }
        }
        T::List(es, tail) if es.is_empty() => encode(tail, s, out),
        T::List(es, tail) => {
            let bytes: Option<Vec<u8>> = es
                .iter()
                .map(|e| {
                    if let T::Int(v @ 0..=255) = e {
                        Some(*v as u8)
                    } else {
                        None
                    }
                })
                .collect();
            match (bytes, tail.as_ref()) {
                (Some(b), T::Nil) if s.strings && b.len() < 65536 => {
                    out.extend_from_slice(&[107]);
                    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
                    out.extend_from_slice(&b);
                }
                _ => {
                    out.push(108);
                    out.extend_from_slice(&(es.len() as u32).to_be_bytes());
                    for e in es {
                        encode(e, s, out);
                    }
                    encode(tail, s, out);
                }
            }
        }
        T::Bin(b) => {
            out.push(109);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
        T::Bits(b, bits) => {
            out.push(77);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.push(*bits);
            out.extend_from_slice(b);
        }
        T::Map(kvs) => {
            out.push(116);
            out.extend_from_slice(&(kvs.len() as u32).to_be_bytes());
            // term_to_binary writes a flat map's keys in the VM's key order.
            let mut kvs: Vec<&(T, T)> = kvs.iter().collect();
            if kvs.len() <= 32 {
                kvs.sort_by(|a, b| key_cmp(&a.0, &b.0));
            }
            for (k, v) in kvs {
                encode(k, s, out);
                encode(v, s, out);
            }
        }
    }
}

/// The VM's map-key order (exact term order: integers before floats) on the model.
fn key_cmp(a: &T, b: &T) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(t: &T) -> u8 {
        match t {
            T::Int(_) | T::Big(..) => 1,
            T::Float(_) => 2,
            T::Atom(_) => 3,
            T::Tuple(_) => 8,
            T::Map(_) => 9,
            T::Nil => 10,
            T::List(es, tail) if es.is_empty() => rank(tail),
            T::List(..) => 11,
            T::Bin(_) | T::Bits(..) => 12,
        }
    }
    /// (negative, magnitude bytes most significant first, no leading zeros).
    fn int(t: &T) -> (bool, Vec<u8>) {
        let (neg, mut m) = match t {
            T::Int(v) => (*v < 0, v.unsigned_abs().to_be_bytes().to_vec()),
            T::Big(neg, le) => (*neg, le.iter().rev().copied().collect()),
            _ => unreachable!(),
        };
        while m.first() == Some(&0) {
            m.remove(0);
        }
        (neg && !m.is_empty(), m)
    }
    fn int_cmp(a: (bool, Vec<u8>), b: (bool, Vec<u8>)) -> Ordering {
        let mag = |x: &Vec<u8>, y: &Vec<u8>| x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        match (a.0, b.0) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => mag(&a.1, &b.1),
            (true, true) => mag(&b.1, &a.1),
        }
    }
    fn bits(t: &T) -> Vec<bool> {
        let (bytes, last) = match t {
            T::Bin(b) => (b.as_slice(), 8),
            T::Bits(b, n) => (b.as_slice(), *n),
            _ => unreachable!(),
        };
        let mut out = Vec::new();
        for (i, byte) in bytes.iter().enumerate() {
            let n = if i + 1 == bytes.len() { last } else { 8 };
            out.extend((0..n).map(|j| byte & (0x80 >> j) != 0));
        }
        out
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (T::Float(x), T::Float(y)) => x.partial_cmp(y).unwrap(),
        (T::Atom(x), T::Atom(y)) => x.as_bytes().cmp(y.as_bytes()),
        (T::Tuple(x), T::Tuple(y)) => x.len().cmp(&y.len()).then_with(|| {
            x.iter()
                .zip(y)
                .map(|(p, q)| key_cmp(p, q))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }),
        (T::Map(x), T::Map(y)) => x.len().cmp(&y.len()),
        (T::Nil, T::Nil) => Ordering::Equal,
        (T::List(xs, xt), T::List(ys, yt)) => {
            // Element by element, then the rest (a shorter list's tail against the other's remainder).
            for (p, q) in xs.iter().zip(ys) {
                let o = key_cmp(p, q);
                if o.is_ne() {
                    return o;
                }
            }
            let n = xs.len().min(ys.len());
            let rest = |es: &[T], tail: &T| {
                if es.is_empty() {
                    tail.clone()
                } else {
                    T::List(es.to_vec(), Box::new(tail.clone()))
                }
            };
            key_cmp(&rest(&xs[n..], xt), &rest(&ys[n..], yt))
        }
        (T::List(es, tail), other) | (other, T::List(es, tail)) if es.is_empty() => {
            let o = key_cmp(tail, other);
            if matches!(a, T::List(..)) {
                o
            } else {
                o.reverse()
            }
        }
        (T::Bin(_) | T::Bits(..), T::Bin(_) | T::Bits(..)) => bits(a).cmp(&bits(b)),
        _ => int_cmp(int(a), int(b)),
    }
}

fn nil() -> T {
    T::Nil
}

fn etf(t: &T, s: Style) -> Vec<u8> {
    let mut out = vec![131];
    encode(t, s, &mut out);
    out
}

const PLAIN: Style = Style {
    strings: true,
    atom_tag: 119,
};

fn opts_for(t: &T) -> SizeOptions {
    let mut atoms = HashMap::new();
    collect_atoms(t, &mut atoms);
    SizeOptions {
        atom_words: atoms,
        ..SizeOptions::default()
    }
}

fn collect_atoms(t: &T, atoms: &mut HashMap<String, u64>) {
    match t {
        T::Atom(a) => {
            let n = atoms.len() as u64;
            atoms.entry(a.clone()).or_insert(((n + 500) << 6) | 0xB);
        }
        T::Tuple(es) => es.iter().for_each(|e| collect_atoms(e, atoms)),
        T::List(es, tail) => {
            es.iter().for_each(|e| collect_atoms(e, atoms));
            collect_atoms(tail, atoms);
        }
        T::Map(kvs) => kvs.iter().for_each(|(k, v)| {
            collect_atoms(k, atoms);
            collect_atoms(v, atoms);
        }),
        _ => {}
    }
}

/// A live view of a model term, as a binding would expose a VM term.
#[derive(Clone, Copy)]
struct Live<'a> {
    t: &'a T,
    opts: &'a SizeOptions,
}

impl LiveTerm for Live<'_> {
    fn expand(&self, children: &mut Vec<Self>) -> Result<Shape> {
        let opts = self.opts;
        Ok(match self.t {
            T::Int(v) if OTP25_64.is_small(i128::from(*v)) => Shape::Immediate,
            T::Nil => Shape::Nil,
            T::Atom(_) => Shape::Immediate,
            T::Float(_) => Shape::Float,
            T::Tuple(es) => {
                children.extend(es.iter().map(|t| Live { t, opts }));
                Shape::Tuple(es.len())
            }
            T::List(es, tail) if es.is_empty() => return Live { t: tail, opts }.expand(children),
            T::List(es, tail) => {
                // A cons cell: head and the rest of the list.
                children.push(Live { t: &es[0], opts });
                let rest: &'static T = Box::leak(Box::new(T::List(es[1..].to_vec(), tail.clone())));
                children.push(Live { t: rest, opts });
                Shape::Cons
            }
            T::Bin(b) => Shape::Binary(b.len()),
            T::Map(kvs) => {
                // The VM iterates a flat map in its key order.
                let mut kvs: Vec<&(T, T)> = kvs.iter().collect();
                if kvs.len() <= 32 {
                    kvs.sort_by(|a, b| key_cmp(&a.0, &b.0));
                }
                for (k, v) in &kvs {
                    children.push(Live { t: k, opts });
                    children.push(Live { t: v, opts });
                }
                Shape::Map(kvs.len())
            }
            other => Shape::Etf(etf(other, PLAIN)),
        })
    }

    fn internal_hash(&self, salt: u32) -> u32 {
        let body = etf(self.t, PLAIN);
        internal_hash(&body[1..], salt, self.opts, &OTP25_64).expect("hashable")
    }

    fn label(&self) -> String {
        match self.t {
            T::Atom(a) => a.clone(),
            _ => "?".into(),
        }
    }
}

fn leaf() -> impl Strategy<Value = T> {
    prop_oneof![
        any::<i64>().prop_map(T::Int),
        (0i64..300).prop_map(T::Int),
        (any::<bool>(), prop::collection::vec(any::<u8>(), 9..30)).prop_map(|(n, mut m)| {
            *m.last_mut().unwrap() |= 1;
            T::Big(n, m)
        }),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(T::Float),
        prop::sample::select(vec!["ok", "error", "k1", "héllo", "日本", "a b"])
            .prop_map(|a| T::Atom(a.into())),
        Just(T::Nil),
        prop::collection::vec(any::<u8>(), 0..100).prop_map(T::Bin),
        (prop::collection::vec(any::<u8>(), 1..80), 1u8..8).prop_map(|(b, n)| T::Bits(b, n)),
    ]
}

fn term() -> impl Strategy<Value = T> {
    leaf().prop_recursive(4, 200, 40, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(T::Tuple),
            prop::collection::vec(inner.clone(), 0..6).prop_map(|es| T::List(es, Box::new(nil()))),
            (prop::collection::vec(inner.clone(), 1..4), inner.clone())
                .prop_map(|(es, t)| T::List(es, Box::new(t))),
            prop::collection::vec(0i64..256, 1..20)
                .prop_map(|b| T::List(b.into_iter().map(T::Int).collect(), Box::new(nil()))),
            (
                prop::collection::vec((inner.clone(), inner.clone()), 0..8),
                0usize..60
            )
                .prop_map(|(kvs, extra)| {
                    // Distinct keys: small maps from the generated pairs, larger ones padded with int/binary keys.
                    let mut seen = std::collections::HashSet::new();
                    let mut out: Vec<(T, T)> = kvs
                        .into_iter()
                        .filter(|(k, _)| seen.insert(etf(&norm(k), PLAIN)))
                        .collect();
                    for i in 0..extra {
                        let k = if i % 2 == 0 {
                            T::Int(i as i64 * 7919)
                        } else {
                            T::Bin(i.to_be_bytes().to_vec())
                        };
                        if seen.insert(etf(&norm(&k), PLAIN)) {
                            out.push((k, T::Atom("ok".into())));
                        }
                    }
                    T::Map(out)
                }),
        ]
    })
}

/// The form in which equal terms are identical: map entries sorted, -0.0 as 0.0
/// (the VM's `=:=` on OTP 25), so generated map keys can be made distinct.
fn norm(t: &T) -> T {
    match t {
        T::Float(f) if *f == 0.0 => T::Float(0.0),
        T::Tuple(es) => T::Tuple(es.iter().map(norm).collect()),
        T::List(es, tail) => T::List(es.iter().map(norm).collect(), Box::new(norm(tail))),
        T::Map(kvs) => {
            let mut kvs: Vec<(T, T)> = kvs.iter().map(|(k, v)| (norm(k), norm(v))).collect();
            kvs.sort_by_key(|(k, _)| etf(k, PLAIN));
            T::Map(kvs)
        }
        other => other.clone(),
    }
}

fn compressed(etf: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&etf[1..]).unwrap();
    let mut out = vec![131, 80];
    out.extend_from_slice(&((etf.len() - 1) as u32).to_be_bytes());
    out.extend(z.finish().unwrap());
    out
}

/// Builds the model back from ETF (terms are arena indices).
#[derive(Default)]
struct Model {
    arena: Vec<T>,
}

impl Model {
    fn push(&mut self, t: T) -> Result<usize> {
        self.arena.push(t);
        Ok(self.arena.len() - 1)
    }

    fn get(&self, i: &usize) -> T {
        self.arena[*i].clone()
    }
}

impl TermBuilder for Model {
    type Term = usize;
    fn int(&mut self, v: i64) -> Result<usize> {
        self.push(T::Int(v))
    }
    fn big(&mut self, negative: bool, magnitude: &[u8]) -> Option<usize> {
        let t = if magnitude.len() <= 8 {
            let mut le = [0u8; 8];
            le[..magnitude.len()].copy_from_slice(magnitude);
            let m = u64::from_le_bytes(le);
            match (negative, i64::try_from(m)) {
                (false, Ok(v)) => T::Int(v),
                (true, _) if m <= 1 << 63 => T::Int((m as i64).wrapping_neg()),
                _ => T::Big(negative, magnitude.to_vec()),
            }
        } else {
            T::Big(negative, magnitude.to_vec())
        };
        self.push(t).ok()
    }
    fn float(&mut self, v: f64) -> Result<usize> {
        self.push(T::Float(v))
    }
    fn atom(&mut self, name: &[u8], utf8: bool) -> Result<usize> {
        let name = if utf8 {
            String::from_utf8(name.to_vec()).expect("the reader checks UTF-8")
        } else {
            name.iter().map(|&c| char::from(c)).collect()
        };
        self.push(T::Atom(name))
    }
    fn nil(&mut self) -> Result<usize> {
        self.push(T::Nil)
    }
    fn tuple(&mut self, es: &[usize]) -> Result<usize> {
        let es = es.iter().map(|e| self.get(e)).collect();
        self.push(T::Tuple(es))
    }
    fn list(&mut self, es: &[usize], tail: usize) -> Result<usize> {
        if es.is_empty() {
            return Ok(tail);
        }
        let es = es.iter().map(|e| self.get(e)).collect();
        let tail = Box::new(self.get(&tail));
        self.push(T::List(es, tail))
    }
    fn string(&mut self, bytes: &[u8]) -> Result<usize> {
        if bytes.is_empty() {
            return self.push(T::Nil);
        }
        let es = bytes.iter().map(|&b| T::Int(i64::from(b))).collect();
        self.push(T::List(es, Box::new(T::Nil)))
    }
    fn binary(&mut self, bytes: &[u8]) -> Result<usize> {
        self.push(T::Bin(bytes.to_vec()))
    }
    fn map(&mut self, keys: &[usize], values: &[usize]) -> Result<usize> {
        let mut seen = std::collections::HashSet::new();
        let mut kvs = Vec::new();
        for (k, v) in keys.iter().zip(values) {
            let k = self.get(k);
            if !seen.insert(etf(&norm(&k), PLAIN)) {
                return Err(memacct_core::Error::DuplicateMapKey { offset: 0 });
            }
            kvs.push((k, self.get(v)));
        }
        self.push(T::Map(kvs))
    }
    fn opaque(&mut self, bytes: &[u8]) -> Result<usize> {
        // The model's only opaque kind: BIT_BINARY_EXT.
        match bytes {
            [77, _, _, _, _, bits, data @ ..] => self.push(T::Bits(data.to_vec(), *bits)),
            _ => self.push(T::Bin(bytes.to_vec())),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn build_gives_the_term_back(t in term(), tag in prop::sample::select(vec![100u8, 115, 118, 119]), strings: bool) {
        let mut m = Model::default();
        let built = build(&etf(&t, Style { strings, atom_tag: tag }), &mut m).unwrap();
        prop_assert_eq!(etf(&m.arena[built], PLAIN), etf(&t, PLAIN));
        let z = build(&compressed(&etf(&t, PLAIN)), &mut Model::default());
        let unsupported = matches!(z, Err(memacct_core::Error::Unsupported { .. }));
        prop_assert!(unsupported, "compressed input: {:?}", z);
    }

    #[test]
    fn build_never_panics_nor_builds_invalid_bytes(
        t in term(),
        mut bytes in prop::collection::vec(any::<u8>(), 0..400),
        flips in prop::collection::vec(any::<usize>(), 1..4),
    ) {
        bytes.insert(0, 131);
        if build(&bytes, &mut Model::default()).is_ok() {
            prop_assert!(memacct_core::etf::validate(&bytes[1..]).is_ok());
        }
        // Bytes of a real term, with a few of them changed.
        let mut e = etf(&t, PLAIN);
        for f in flips {
            let i = 1 + f % (e.len() - 1);
            e[i] = e[i].wrapping_add(1 + (f >> 8) as u8 % 255);
        }
        if build(&e, &mut Model::default()).is_ok() {
            prop_assert!(memacct_core::etf::validate(&e[1..]).is_ok());
        }
    }

    #[test]
    fn live_and_etf_walkers_agree(t in term()) {
        let opts = opts_for(&t);
        let from_etf = term_size(&etf(&t, PLAIN), &opts).unwrap();
        let live = live_term_size(Live { t: &t, opts: &opts }, &opts, &opts).unwrap();
        prop_assert_eq!(live.words, from_etf.words);
        prop_assert_eq!(live.by_kind, from_etf.by_kind);
        prop_assert_eq!(live.off_heap_bytes, from_etf.off_heap_bytes);
        prop_assert_eq!(live.nodes, from_etf.nodes);
        prop_assert_eq!(live.max_depth, from_etf.max_depth);
        let words = |v: &[memacct_core::FieldSize]| v.iter().map(|f| (f.key_words, f.value_words)).collect::<Vec<_>>();
        prop_assert_eq!(words(&live.fields), words(&from_etf.fields));
    }

    #[test]
    fn encodings_of_one_term_size_alike(t in term(), tag in prop::sample::select(vec![100u8, 115, 118, 119])) {
        let opts = opts_for(&t);
        let base = term_size(&etf(&t, PLAIN), &opts).unwrap();
        let other = term_size(&etf(&t, Style { strings: false, atom_tag: tag }), &opts).unwrap();
        prop_assert_eq!(base.words, other.words);
        let z = term_size(&compressed(&etf(&t, PLAIN)), &opts).unwrap();
        prop_assert_eq!(base.words, z.words);
    }

    #[test]
    fn breakdowns_add_up(t in term()) {
        let opts = opts_for(&t);
        let s = term_size(&etf(&t, PLAIN), &opts).unwrap();
        prop_assert_eq!(s.by_kind.total(), s.words);
        let field_words: u64 = s.fields.iter().map(|f| f.key_words + f.value_words).sum();
        prop_assert!(field_words <= s.words);
        if let T::Tuple(es) = &t {
            prop_assert_eq!(s.fields.len(), es.len());
            prop_assert_eq!(field_words + OTP25_64.tuple(es.len() as u64), s.words);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        bytes.insert(0, 131);
        let _ = term_size(&bytes, &SizeOptions::default());
    }
}
