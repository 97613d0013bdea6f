//! Building a term from ETF through a caller-supplied [`TermBuilder`].
//!
//! [`build`] walks the input once, iteratively: containers push a frame on
//! an explicit stack and their finished sub-terms wait on a value stack, so
//! hostile nesting costs heap (bounded by the input's length, since every
//! term takes at least one byte), never call stack. There is no depth limit:
//! like `binary_to_term/1`, any nesting the input can hold is built.
//!
//! The builder makes the leaves and the containers; sub-terms it cannot (or
//! does not want to) make itself — pids, ports, references, bitstrings, funs,
//! export funs, FLOAT_EXT text floats and bignums it declines — reach
//! [`TermBuilder::opaque`] as the exact bytes of that sub-term, ready to be
//! decoded on their own (e.g. by `enif_binary_to_term` after a version byte).

use super::{tag, Reader, Token};
use crate::error::{Error, Result};

/// What [`build`] asks of a term representation. Every method gets the
/// decoded header of one term (and, for containers, its finished sub-terms).
///
/// An error from any method stops the walk and is returned by [`build`]; a
/// builder may therefore also stop a walk for its own reasons (a work budget
/// charged term by term, a limit of its target), e.g. with
/// [`Error::Unsupported`].
pub trait TermBuilder {
    /// A built term; copied freely while its container is pending.
    type Term: Copy;

    /// An integer (SMALL_INTEGER_EXT, INTEGER_EXT: always within 32 bits).
    fn int(&mut self, value: i64) -> Result<Self::Term>;

    /// A bignum (SMALL_BIG_EXT, LARGE_BIG_EXT): its sign and little-endian
    /// magnitude without high zero bytes (empty for zero). The value may fit
    /// a machine word, as `binary_to_term/1` normalises it. `None` when the
    /// builder cannot make it: the walker then hands its bytes to
    /// [`TermBuilder::opaque`].
    fn big(&mut self, negative: bool, magnitude: &[u8]) -> Option<Self::Term>;

    /// A finite float (NEW_FLOAT_EXT; the textual FLOAT_EXT goes to
    /// [`TermBuilder::opaque`] so that the target parses its text itself).
    fn float(&mut self, value: f64) -> Result<Self::Term>;

    /// An atom: its encoded name, UTF-8 (`utf8`) or Latin-1, checked by the
    /// reader (valid UTF-8, at most 255 characters).
    fn atom(&mut self, name: &[u8], utf8: bool) -> Result<Self::Term>;

    /// `[]`.
    fn nil(&mut self) -> Result<Self::Term>;

    /// A tuple of `elements` (possibly none).
    fn tuple(&mut self, elements: &[Self::Term]) -> Result<Self::Term>;

    /// The list `[E1, ..., En | tail]`: proper when `tail` is `[]`. When
    /// `elements` is empty the term is `tail` itself (LIST_EXT of length 0,
    /// which `binary_to_term/1` accepts).
    fn list(&mut self, elements: &[Self::Term], tail: Self::Term) -> Result<Self::Term>;

    /// A STRING_EXT: the list of these bytes as integers (`[]` when empty).
    fn string(&mut self, bytes: &[u8]) -> Result<Self::Term>;

    /// A binary holding `bytes`.
    fn binary(&mut self, bytes: &[u8]) -> Result<Self::Term>;

    /// A map of `keys[i] => values[i]` (equal lengths). Two equal keys must
    /// be [`Error::DuplicateMapKey`] (any offset: the walker sets the map's),
    /// as `binary_to_term/1` rejects such input.
    fn map(&mut self, keys: &[Self::Term], values: &[Self::Term]) -> Result<Self::Term>;

    /// A sub-term the walker does not decompose, as its exact ETF bytes
    /// (from its tag byte to its last byte, without the version byte): a pid,
    /// port, reference, bitstring, fun (with its creator and free
    /// variables), export fun, FLOAT_EXT float, or a bignum that
    /// [`TermBuilder::big`] declined.
    fn opaque(&mut self, etf: &[u8]) -> Result<Self::Term>;
}

/// What a pending container is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The whole input: one term, then nothing.
    Root,
    Tuple,
    /// Its elements, then its tail.
    List,
    /// Its keys and values, interleaved.
    Map,
}

/// A container whose sub-terms are still being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: Kind,
    /// Where its sub-terms start on the value stack.
    start: usize,
    /// Sub-terms still to read.
    left: u64,
    /// Offset of its tag (reported with a duplicate map key).
    offset: usize,
}

/// Builds the term encoded in `etf` (`term_to_binary/1` output, starting with
/// the version byte 131) with `b`, and returns it.
///
/// The input must be exactly one term: bytes after it are
/// [`Error::InvalidValue`]. Compressed ETF (`term_to_binary(T,
/// [compressed])`) is [`Error::Unsupported`]: inflate it first with
/// [`super::open`] and prepend the version byte to its body. The pre-R13
/// FUN_EXT and ATOM_CACHE_REF are the reader's errors, as they are
/// `binary_to_term/1`'s.
///
/// Every count is checked against the bytes present before anything is
/// pushed (the [`Reader`]'s checks), and the stacks grow only with terms
/// actually read, so no allocation is sized by an untrusted length.
///
/// ```
/// use memacct_core::etf::build::{build, TermBuilder};
/// use memacct_core::Result;
///
/// /// Sums integers; every other term is 0.
/// struct Sum;
/// impl TermBuilder for Sum {
///     type Term = i64;
///     fn int(&mut self, v: i64) -> Result<i64> { Ok(v) }
///     fn big(&mut self, _: bool, _: &[u8]) -> Option<i64> { Some(0) }
///     fn float(&mut self, _: f64) -> Result<i64> { Ok(0) }
///     fn atom(&mut self, _: &[u8], _: bool) -> Result<i64> { Ok(0) }
///     fn nil(&mut self) -> Result<i64> { Ok(0) }
///     fn tuple(&mut self, es: &[i64]) -> Result<i64> { Ok(es.iter().sum()) }
///     fn list(&mut self, es: &[i64], t: i64) -> Result<i64> { Ok(es.iter().sum::<i64>() + t) }
///     fn string(&mut self, _: &[u8]) -> Result<i64> { Ok(0) }
///     fn binary(&mut self, _: &[u8]) -> Result<i64> { Ok(0) }
///     fn map(&mut self, k: &[i64], v: &[i64]) -> Result<i64> {
///         Ok(k.iter().chain(v).sum())
///     }
///     fn opaque(&mut self, _: &[u8]) -> Result<i64> { Ok(0) }
/// }
///
/// // term_to_binary({7, [300]})
/// let etf = [131, 104, 2, 97, 7, 108, 0, 0, 0, 1, 98, 0, 0, 1, 44, 106];
/// assert_eq!(build(&etf, &mut Sum).unwrap(), 307);
/// ```
pub fn build<B: TermBuilder>(etf: &[u8], b: &mut B) -> Result<B::Term> {
    build_in(etf, b, &mut Scratch::default())
}

/// The stacks [`build_in`] works in, kept between builds so that a caller
/// that builds many terms allocates them once.
#[derive(Debug, Clone)]
pub struct Scratch<T> {
    frames: Vec<Frame>,
    values: Vec<T>,
    keys: Vec<T>,
    vals: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            frames: Vec::new(),
            values: Vec::new(),
            keys: Vec::new(),
            vals: Vec::new(),
        }
    }
}

impl<T> Scratch<T> {
    /// Entries the stacks can hold without allocating (all four together).
    pub fn capacity(&self) -> usize {
        self.frames.capacity()
            + self.values.capacity()
            + self.keys.capacity()
            + self.vals.capacity()
    }

    /// Frees the stacks if they hold room for more than `entries` entries
    /// (after a build of an unusually large term).
    pub fn shrink_to(&mut self, entries: usize) {
        if self.capacity() > entries {
            *self = Scratch::default();
        }
    }
}

/// [`build`] in `scratch`'s stacks (emptied first; their capacity is kept).
pub fn build_in<B: TermBuilder>(
    etf: &[u8],
    b: &mut B,
    scratch: &mut Scratch<B::Term>,
) -> Result<B::Term> {
    let Scratch {
        frames,
        values,
        keys,
        vals,
    } = scratch;
    frames.clear();
    values.clear();
    let (&version, body) = etf.split_first().ok_or(Error::Empty)?;
    if version != tag::VERSION {
        return Err(Error::BadVersion { found: version });
    }
    if body.first() == Some(&tag::COMPRESSED) {
        return Err(Error::Unsupported {
            what: "compressed ETF (inflate it with etf::open first)",
        });
    }
    // The general reader, for the tags the loop below does not read itself.
    let mut r = Reader::new(body, 1);
    // Position in `body`; the innermost pending container (kept out of
    // `frames`, so that the hot loop updates locals, not memory).
    let mut pos = 0usize;
    let mut cur = Frame {
        kind: Kind::Root,
        start: 0,
        left: 1,
        offset: 1,
    };
    // `keys` and `vals` hold the map being made (maps finish one at a time).
    loop {
        // One term header. The common tags are read here, with the reader's
        // own checks; anything else, or anything that does not check out
        // (the reader then reports it), goes through the reader. Measured:
        // without this path a 3.6 KB connection state builds in the NIF in
        // 8.7 µs instead of 6.3 µs (`Reader::next` makes a `Token` per
        // header; inlining it did not help).
        let rest = body.get(pos + 1..).unwrap_or(&[]);
        let be32 = |i: usize| -> Option<u64> {
            let w = rest.get(i..i + 4)?;
            Some(u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
        };
        // The `n` bytes after a `skip`-byte length field, if present.
        let bytes = |skip: usize, n: u64| -> Option<&[u8]> {
            let n = usize::try_from(n).ok()?;
            rest.get(skip..skip.checked_add(n)?)
        };
        let mut open = None;
        let fast = match body.get(pos).copied() {
            Some(tag::SMALL_INTEGER) => match rest.first() {
                Some(&v) => Some((b.int(i64::from(v))?, 1)),
                None => None,
            },
            Some(tag::INTEGER) => match be32(0) {
                Some(v) => Some((b.int(i64::from(v as u32 as i32))?, 4)),
                None => None,
            },
            Some(t @ (tag::SMALL_ATOM_UTF8 | tag::SMALL_ATOM)) => {
                match rest.first().and_then(|&n| bytes(1, u64::from(n))) {
                    // ASCII is valid UTF-8, Latin-1 is any byte; at most 255 either way.
                    Some(name) if t == tag::SMALL_ATOM || name.is_ascii() => {
                        Some((b.atom(name, t == tag::SMALL_ATOM_UTF8)?, 1 + name.len()))
                    }
                    _ => None,
                }
            }
            Some(t @ (tag::ATOM | tag::ATOM_UTF8)) => {
                let n = rest
                    .get(..2)
                    .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])));
                match n.and_then(|n| bytes(2, n)) {
                    // As above, and then at most 255 bytes.
                    Some(name) if name.len() <= 255 && (t == tag::ATOM || name.is_ascii()) => {
                        Some((b.atom(name, t == tag::ATOM_UTF8)?, 2 + name.len()))
                    }
                    _ => None,
                }
            }
            Some(tag::SMALL_BIG) => {
                // Any non-zero sign byte means negative, as the VM reads it.
                match (rest.first(), rest.get(1)) {
                    (Some(&n), Some(&sign)) => match bytes(2, u64::from(n)) {
                        Some(digits) => {
                            let significant =
                                digits.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
                            let t = match b.big(sign != 0, &digits[..significant]) {
                                Some(t) => t,
                                None => b.opaque(&body[pos..pos + 3 + digits.len()])?,
                            };
                            Some((t, 2 + digits.len()))
                        }
                        None => None,
                    },
                    _ => None,
                }
            }
            Some(tag::STRING) => {
                let n = rest
                    .get(..2)
                    .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])));
                match n.and_then(|n| bytes(2, n)) {
                    Some(chars) => Some((b.string(chars)?, 2 + chars.len())),
                    None => None,
                }
            }
            Some(tag::NIL) => Some((b.nil()?, 0)),
            Some(tag::BINARY) => match be32(0).and_then(|n| bytes(4, n)) {
                Some(data) => Some((b.binary(data)?, 4 + data.len())),
                None => None,
            },
            Some(tag::SMALL_TUPLE) => match rest.first() {
                Some(0) => Some((b.tuple(&[])?, 1)),
                Some(&n) if usize::from(n) < rest.len() => {
                    open = Some((Kind::Tuple, u64::from(n), 1));
                    None
                }
                _ => None,
            },
            // Elements and a tail, one byte each at least.
            Some(tag::LIST) => match be32(0) {
                Some(n) if n < (rest.len() - 4) as u64 => {
                    open = Some((Kind::List, n + 1, 4));
                    None
                }
                _ => None,
            },
            Some(tag::MAP) => match be32(0) {
                Some(0) => Some((b.map(&[], &[])?, 4)),
                Some(n) if 2 * n <= (rest.len() - 4) as u64 => {
                    open = Some((Kind::Map, 2 * n, 4));
                    None
                }
                _ => None,
            },
            Some(tag::NEW_FLOAT) => match rest.get(..8) {
                Some(w) => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(w);
                    let v = f64::from_bits(u64::from_be_bytes(a));
                    match v.is_finite() {
                        true => Some((b.float(v)?, 8)),
                        false => None,
                    }
                }
                None => None,
            },
            _ => None,
        };
        let mut done = match (fast, open) {
            (Some((t, len)), _) => {
                pos += 1 + len;
                t
            }
            (None, Some((kind, left, len))) => {
                frames.push(cur);
                cur = Frame {
                    kind,
                    start: values.len(),
                    left,
                    offset: pos + 1,
                };
                pos += 1 + len;
                continue;
            }
            (None, None) => {
                let offset = pos + 1;
                r.seek(pos);
                let step = general(body, &mut r, b)?;
                pos = r.pos();
                match step {
                    Step::Done(t) => t,
                    Step::Open(kind, left) => {
                        frames.push(cur);
                        cur = Frame {
                            kind,
                            start: values.len(),
                            left,
                            offset,
                        };
                        continue;
                    }
                }
            }
        };
        // Hand the finished term to its container, finishing every container
        // it completes.
        loop {
            cur.left -= 1;
            if cur.kind == Kind::Root {
                if pos != body.len() {
                    return Err(Error::InvalidValue {
                        what: "bytes after the term",
                        offset: pos + 1,
                    });
                }
                return Ok(done);
            }
            values.push(done);
            if cur.left > 0 {
                break;
            }
            let items = &values[cur.start..];
            done = match cur.kind {
                Kind::Tuple => b.tuple(items)?,
                Kind::List => match items.split_last() {
                    Some((&tail, elements)) => b.list(elements, tail)?,
                    // A list frame always holds its tail.
                    None => b.nil()?,
                },
                // Kind::Root returned above.
                Kind::Map | Kind::Root => {
                    keys.clear();
                    vals.clear();
                    keys.extend(items.iter().step_by(2));
                    vals.extend(items.iter().skip(1).step_by(2));
                    b.map(keys, vals).map_err(|e| match e {
                        Error::DuplicateMapKey { .. } => {
                            Error::DuplicateMapKey { offset: cur.offset }
                        }
                        e => e,
                    })?
                }
            };
            values.truncate(cur.start);
            match frames.pop() {
                Some(parent) => cur = parent,
                // The root frame is never popped: it returns above.
                None => return Ok(done),
            }
        }
    }
}

/// One term read: finished, or a container whose `u64` sub-terms follow.
enum Step<T> {
    Done(T),
    Open(Kind, u64),
}

/// The header at the reader's position through the general [`Reader`].
fn general<B: TermBuilder>(body: &[u8], r: &mut Reader<'_>, b: &mut B) -> Result<Step<B::Term>> {
    let start = r.pos();
    let token = r.next()?;
    Ok(Step::Done(match token {
        Token::Int(v) => b.int(v)?,
        Token::Big {
            negative,
            magnitude,
        } => match b.big(negative, magnitude) {
            Some(t) => t,
            None => b.opaque(&body[start..r.pos()])?,
        },
        Token::Float(v) if body[start] == tag::NEW_FLOAT => b.float(v)?,
        Token::Atom(a) => b.atom(a.bytes, a.utf8)?,
        Token::Nil => b.nil()?,
        Token::String(bytes) => b.string(bytes)?,
        Token::Binary(bytes) => b.binary(bytes)?,
        Token::Tuple(0) => b.tuple(&[])?,
        Token::Map(0) => b.map(&[], &[])?,
        Token::Tuple(_) => return Ok(Step::Open(Kind::Tuple, token.children())),
        Token::List(_) => return Ok(Step::Open(Kind::List, token.children())),
        Token::Map(_) => return Ok(Step::Open(Kind::Map, token.children())),
        Token::Fun { .. } => {
            // Its creator and free variables belong to it: skip them
            // (checking each header) and hand over the whole fun.
            skip(r, token.children())?;
            b.opaque(&body[start..r.pos()])?
        }
        Token::Float(_)
        | Token::BitBinary { .. }
        | Token::Pid { .. }
        | Token::Port { .. }
        | Token::Ref { .. }
        | Token::Export { .. } => b.opaque(&body[start..r.pos()])?,
    }))
}

/// Reads past `pending` whole terms (headers checked, nothing built).
fn skip(r: &mut Reader<'_>, mut pending: u64) -> Result<()> {
    while pending > 0 {
        pending -= 1;
        pending += r.next()?.children();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A term as a tree of arena indices (so that deep terms drop without recursion).
    #[derive(Debug, Clone, PartialEq)]
    enum Node {
        Int(i64),
        Big(bool, Vec<u8>),
        Float(f64),
        Atom(String),
        Nil,
        Tuple(Vec<usize>),
        List(Vec<usize>, usize),
        Str(Vec<u8>),
        Bin(Vec<u8>),
        Map(Vec<(usize, usize)>),
        Opaque(Vec<u8>),
    }

    /// Builds [`Node`]s into an arena; bignums of more than 8 bytes are declined.
    #[derive(Default)]
    struct Tree {
        arena: Vec<Node>,
    }

    impl Tree {
        fn push(&mut self, n: Node) -> usize {
            self.arena.push(n);
            self.arena.len() - 1
        }

        /// Erlang-like text of the term at `i` (recursive: small terms only).
        fn show(&self, i: usize) -> String {
            let all = |v: &[usize]| v.iter().map(|&e| self.show(e)).collect::<Vec<_>>();
            match &self.arena[i] {
                Node::Int(v) => v.to_string(),
                Node::Big(neg, m) => format!("big({}{:?})", if *neg { "-" } else { "" }, m),
                Node::Float(f) => format!("{f:?}"),
                Node::Atom(a) => format!("'{a}'"),
                Node::Nil => "[]".into(),
                Node::Tuple(es) => format!("{{{}}}", all(es).join(",")),
                Node::List(es, t) if self.arena[*t] == Node::Nil => {
                    format!("[{}]", all(es).join(","))
                }
                Node::List(es, t) => format!("[{}|{}]", all(es).join(","), self.show(*t)),
                Node::Str(s) => format!("{s:?}"),
                Node::Bin(b) => format!("<<{b:?}>>"),
                Node::Map(kv) => format!(
                    "#{{{}}}",
                    kv.iter()
                        .map(|&(k, v)| format!("{}=>{}", self.show(k), self.show(v)))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Node::Opaque(b) => format!("opaque{b:?}"),
            }
        }
    }

    impl TermBuilder for Tree {
        type Term = usize;
        fn int(&mut self, v: i64) -> Result<usize> {
            Ok(self.push(Node::Int(v)))
        }
        fn big(&mut self, negative: bool, magnitude: &[u8]) -> Option<usize> {
            (magnitude.len() <= 8).then(|| self.push(Node::Big(negative, magnitude.to_vec())))
        }
        fn float(&mut self, v: f64) -> Result<usize> {
            Ok(self.push(Node::Float(v)))
        }
        fn atom(&mut self, name: &[u8], utf8: bool) -> Result<usize> {
            let s = if utf8 {
                String::from_utf8(name.to_vec()).unwrap()
            } else {
                name.iter().map(|&c| c as char).collect()
            };
            Ok(self.push(Node::Atom(s)))
        }
        fn nil(&mut self) -> Result<usize> {
            Ok(self.push(Node::Nil))
        }
        fn tuple(&mut self, es: &[usize]) -> Result<usize> {
            Ok(self.push(Node::Tuple(es.to_vec())))
        }
        fn list(&mut self, es: &[usize], tail: usize) -> Result<usize> {
            if es.is_empty() {
                return Ok(tail);
            }
            Ok(self.push(Node::List(es.to_vec(), tail)))
        }
        fn string(&mut self, bytes: &[u8]) -> Result<usize> {
            Ok(self.push(Node::Str(bytes.to_vec())))
        }
        fn binary(&mut self, bytes: &[u8]) -> Result<usize> {
            Ok(self.push(Node::Bin(bytes.to_vec())))
        }
        fn map(&mut self, keys: &[usize], values: &[usize]) -> Result<usize> {
            assert_eq!(keys.len(), values.len());
            let shown: Vec<String> = keys.iter().map(|&k| self.show(k)).collect();
            for (i, k) in shown.iter().enumerate() {
                if shown[..i].contains(k) {
                    return Err(Error::DuplicateMapKey { offset: 0 });
                }
            }
            let kv = keys.iter().copied().zip(values.iter().copied()).collect();
            Ok(self.push(Node::Map(kv)))
        }
        fn opaque(&mut self, etf: &[u8]) -> Result<usize> {
            Ok(self.push(Node::Opaque(etf.to_vec())))
        }
    }

    fn show(etf: &[u8]) -> Result<String> {
        let mut t = Tree::default();
        let root = build(etf, &mut t)?;
        Ok(t.show(root))
    }

    fn etf(body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag::VERSION];
        v.extend_from_slice(body);
        v
    }

    const NODE: &[u8] = &[119, 3, b'a', b'@', b'b'];

    /// NEW_PID_EXT of node `a@b`.
    fn pid() -> Vec<u8> {
        let mut v = vec![tag::NEW_PID];
        v.extend_from_slice(NODE);
        v.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1]);
        v
    }

    /// NEW_FUN_EXT with `free` free variables (each already encoded).
    fn fun(free: &[&[u8]]) -> Vec<u8> {
        let mut rest = vec![1u8]; // arity
        rest.extend_from_slice(&[7; 16]); // uniq
        rest.extend_from_slice(&3u32.to_be_bytes()); // index
        rest.extend_from_slice(&(free.len() as u32).to_be_bytes());
        rest.extend_from_slice(&[119, 1, b'm']); // module
        rest.extend_from_slice(&[97, 0]); // old index
        rest.extend_from_slice(&[98, 0, 0, 0, 9]); // old uniq
        rest.extend_from_slice(&pid());
        for f in free {
            rest.extend_from_slice(f);
        }
        let mut v = vec![tag::NEW_FUN];
        v.extend_from_slice(&(rest.len() as u32 + 4).to_be_bytes());
        v.extend_from_slice(&rest);
        v
    }

    #[test]
    fn scalars() {
        assert_eq!(show(&etf(&[97, 200])).unwrap(), "200");
        assert_eq!(show(&etf(&[98, 255, 255, 255, 254])).unwrap(), "-2");
        assert_eq!(show(&etf(&[110, 2, 1, 5, 0])).unwrap(), "big(-[5])");
        assert_eq!(show(&etf(&[111, 0, 0, 0, 1, 0, 9])).unwrap(), "big([9])");
        assert_eq!(show(&etf(&[110, 0, 0])).unwrap(), "big([])");
        let mut f = vec![70];
        f.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        assert_eq!(show(&etf(&f)).unwrap(), "1.5");
        assert_eq!(show(&etf(&[106])).unwrap(), "[]");
        assert_eq!(show(&etf(&[107, 0, 2, 1, 200])).unwrap(), "[1, 200]");
        assert_eq!(show(&etf(&[109, 0, 0, 0, 2, 1, 2])).unwrap(), "<<[1, 2]>>");
    }

    #[test]
    fn atoms_of_every_encoding() {
        assert_eq!(show(&etf(&[100, 0, 2, b'o', b'k'])).unwrap(), "'ok'");
        assert_eq!(show(&etf(&[115, 1, 0xE9])).unwrap(), "'é'");
        assert_eq!(show(&etf(&[118, 0, 2, 0xC3, 0xA9])).unwrap(), "'é'");
        assert_eq!(
            show(&etf(&[119, 3, 0xE6, 0x97, 0xA5])).unwrap(),
            "'日'",
            "a character above 255"
        );
    }

    #[test]
    fn opaque_sub_terms_are_their_exact_bytes() {
        // A bignum the builder declines (9 bytes).
        let big = [110, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        // A bitstring, FLOAT_EXT, pid, ports, references, export.
        let bits = [77, 0, 0, 0, 1, 3, 0xE0];
        let mut float_ext = vec![99];
        float_ext.extend_from_slice(b"1.50000000000000000000e+00");
        float_ext.resize(32, 0);
        let pid = pid();
        let mut old_pid = vec![tag::PID];
        old_pid.extend_from_slice(NODE);
        old_pid.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 0, 1]);
        let mut ports = Vec::new();
        for (t, id, cre) in [
            (tag::PORT, &[0u8, 0, 0, 1][..], &[2u8][..]),
            (tag::NEW_PORT, &[0, 0, 0, 1], &[0, 0, 0, 2]),
            (tag::V4_PORT, &[0, 0, 0, 0, 0, 0, 0, 1], &[0, 0, 0, 2]),
        ] {
            let mut p = vec![t];
            p.extend_from_slice(NODE);
            p.extend_from_slice(id);
            p.extend_from_slice(cre);
            ports.push(p);
        }
        let mut refs = Vec::new();
        let mut r = vec![tag::REFERENCE];
        r.extend_from_slice(NODE);
        r.extend_from_slice(&[0, 0, 0, 1, 2]);
        refs.push(r);
        let mut r = vec![tag::NEW_REFERENCE, 0, 2];
        r.extend_from_slice(NODE);
        r.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 2]);
        refs.push(r);
        let mut r = vec![tag::NEWER_REFERENCE, 0, 1];
        r.extend_from_slice(NODE);
        r.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 1]);
        refs.push(r);
        let export = [113, 119, 1, b'l', 119, 1, b'm', 97, 2];
        let fun = fun(&[&[97, 1], &[104, 1, 106]]);
        let mut parts: Vec<Vec<u8>> = vec![
            big.to_vec(),
            bits.to_vec(),
            float_ext,
            pid,
            old_pid,
            export.to_vec(),
            fun,
        ];
        parts.extend(ports);
        parts.extend(refs);
        // All of them inside a tuple, with an integer between each.
        let mut body = vec![104, (2 * parts.len()) as u8];
        for p in &parts {
            body.extend_from_slice(p);
            body.extend_from_slice(&[97, 42]);
        }
        let mut t = Tree::default();
        let root = build(&etf(&body), &mut t).unwrap();
        let Node::Tuple(es) = &t.arena[root] else {
            panic!("not a tuple: {:?}", t.arena[root])
        };
        assert_eq!(es.len(), 2 * parts.len());
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(t.arena[es[2 * i]], Node::Opaque(p.clone()), "part {i}");
            assert_eq!(t.arena[es[2 * i + 1]], Node::Int(42));
        }
    }

    #[test]
    fn containers() {
        // {a, [1, 2 | 3], #{1 => []}, {}, #{}}
        let body = [
            104, 5, 119, 1, b'a', 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3, 116, 0, 0, 0, 1, 97, 1,
            106, 104, 0, 116, 0, 0, 0, 0,
        ];
        assert_eq!(show(&etf(&body)).unwrap(), "{'a',[1,2|3],#{1=>[]},{},#{}}");
        // LARGE_TUPLE and a proper LIST_EXT.
        let body = [105, 0, 0, 0, 2, 108, 0, 0, 0, 1, 97, 1, 106, 106];
        assert_eq!(show(&etf(&body)).unwrap(), "{[1],[]}");
        // A LIST_EXT of no elements is its tail.
        assert_eq!(show(&etf(&[108, 0, 0, 0, 0, 97, 5])).unwrap(), "5");
    }

    #[test]
    fn duplicate_map_keys_are_an_error_at_the_map() {
        // {x, #{1 => a, 1 => b}}
        let body = [
            104, 2, 119, 1, b'x', 116, 0, 0, 0, 2, 97, 1, 119, 1, b'a', 97, 1, 119, 1, b'b',
        ];
        assert_eq!(
            show(&etf(&body)).unwrap_err(),
            Error::DuplicateMapKey { offset: 6 }
        );
    }

    #[test]
    fn input_errors() {
        assert_eq!(show(&[]).unwrap_err(), Error::Empty);
        assert_eq!(
            show(&[130, 106]).unwrap_err(),
            Error::BadVersion { found: 130 }
        );
        assert!(matches!(show(&[131]), Err(Error::Truncated { .. })));
        assert!(matches!(
            show(&[131, 80, 0, 0, 0, 1, 0]),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(show(&etf(&[117])), Err(Error::Unsupported { .. })));
        assert_eq!(
            show(&etf(&[82, 1])).unwrap_err(),
            Error::AtomCacheRef { offset: 1 }
        );
        assert_eq!(
            show(&etf(&[200])).unwrap_err(),
            Error::UnknownTag {
                tag: 200,
                offset: 1
            }
        );
        assert!(matches!(
            show(&etf(&[97, 1, 106])),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            show(&etf(&[108, 255, 255, 255, 255, 106])),
            Err(Error::LengthTooLarge { .. })
        ));
        assert!(matches!(
            show(&etf(&[119, 2, 0xC3, 0x28])),
            Err(Error::InvalidValue { .. })
        ));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let free: &[u8] = &[109, 0, 0, 0, 1, 9];
        let mut body = vec![104, 3, 116, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 106, 97, 2];
        body.extend_from_slice(&pid());
        body.extend_from_slice(&fun(&[free]));
        let full = etf(&body);
        show(&full).unwrap();
        for n in 0..full.len() {
            assert!(show(&full[..n]).is_err(), "prefix of {n} bytes");
        }
    }

    #[test]
    fn deep_nesting_uses_no_stack() {
        let depth = 1_000_000;
        // [[[...[]...]]]: a million list heads, then the tails.
        let mut body = Vec::with_capacity(depth * 6 + 1);
        for _ in 0..depth {
            body.extend_from_slice(&[108, 0, 0, 0, 1]);
        }
        body.push(106);
        body.extend(std::iter::repeat_n(106, depth));
        let mut t = Tree::default();
        let root = build(&etf(&body), &mut t).unwrap();
        assert!(matches!(t.arena[root], Node::List(_, _)));
        // {#{0 => {#{0 => ... []}}}}: tuples and maps.
        let mut body = Vec::new();
        for _ in 0..depth {
            body.extend_from_slice(&[104, 1, 116, 0, 0, 0, 1, 97, 0]);
        }
        body.push(106);
        let root = build(&etf(&body), &mut Tree::default()).unwrap();
        assert!(root > 0);
        // Truncated deep input is an error, not a crash.
        assert!(build(&etf(&body[..body.len() - 1]), &mut Tree::default()).is_err());
    }

    /// A builder that refuses everything after `left` calls.
    struct Quota(u32);

    impl Quota {
        fn spend(&mut self) -> Result<()> {
            if self.0 == 0 {
                return Err(Error::Unsupported { what: "quota" });
            }
            self.0 -= 1;
            Ok(())
        }
    }

    impl TermBuilder for Quota {
        type Term = ();
        fn int(&mut self, _: i64) -> Result<()> {
            self.spend()
        }
        fn big(&mut self, _: bool, _: &[u8]) -> Option<()> {
            None
        }
        fn float(&mut self, _: f64) -> Result<()> {
            self.spend()
        }
        fn atom(&mut self, _: &[u8], _: bool) -> Result<()> {
            self.spend()
        }
        fn nil(&mut self) -> Result<()> {
            self.spend()
        }
        fn tuple(&mut self, _: &[()]) -> Result<()> {
            self.spend()
        }
        fn list(&mut self, _: &[()], _: ()) -> Result<()> {
            self.spend()
        }
        fn string(&mut self, _: &[u8]) -> Result<()> {
            self.spend()
        }
        fn binary(&mut self, _: &[u8]) -> Result<()> {
            self.spend()
        }
        fn map(&mut self, _: &[()], _: &[()]) -> Result<()> {
            self.spend()
        }
        fn opaque(&mut self, _: &[u8]) -> Result<()> {
            self.spend()
        }
    }

    #[test]
    fn a_builder_error_stops_the_walk() {
        // [a, b, c]
        let body = [
            108, 0, 0, 0, 3, 119, 1, b'a', 119, 1, b'b', 119, 1, b'c', 106,
        ];
        build(&etf(&body), &mut Quota(5)).unwrap();
        assert_eq!(
            build(&etf(&body), &mut Quota(4)).unwrap_err(),
            Error::Unsupported { what: "quota" }
        );
        // A declined bignum goes to opaque, which may refuse too.
        assert!(build(&etf(&[110, 1, 0, 1]), &mut Quota(0)).is_err());
        build(&etf(&[110, 1, 0, 1]), &mut Quota(1)).unwrap();
    }
}
