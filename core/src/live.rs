//! Sizing a live term that a binding can inspect (the NIF walks terms in the
//! VM). The binding only answers what a term *is*; the algorithm — costs,
//! HAMT layout, per-kind and per-field accounting — stays here.

use crate::error::Result;
use crate::hamt::hamt_words;
use crate::hash::map_salt;
use crate::options::{SizeOptions, VmContext};
use crate::size::{term_size_with, FieldSize, Kind, TermSize};
use crate::vm::OTP25_64;

/// What a live term is, as far as its size goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Small integer, atom, local pid or local port: no heap words.
    Immediate,
    /// `[]`.
    Nil,
    /// A float.
    Float,
    /// A tuple; its elements were pushed in order.
    Tuple(usize),
    /// A cons cell; its head and tail were pushed.
    Cons,
    /// A map; its keys and values were pushed as `k1, v1, k2, v2, ...`.
    Map(usize),
    /// A byte-aligned binary of this many bytes (heap or refc by size, as
    /// `binary_to_term` builds it).
    Binary(usize),
    /// A binary the VM holds as a refc binary (its ProcBin handle, over this
    /// many off-heap bytes), whatever its size: the VM makes small ones too,
    /// e.g. by appending to a binary.
    RefcBinary(usize),
    /// A sub-binary the VM counts as one: at a bit offset, or a bitstring
    /// (bits beyond whole bytes). `size_object` counts the 5-word
    /// sub-binary, then its original's handle (`refc`) or a heap binary of
    /// `len + extra_bytes` bytes (the bytes it spans, partial ones included:
    /// its off-heap bytes when the original is refc).
    SubBinary {
        /// Its whole bytes.
        len: usize,
        /// Whether its original is a refc binary.
        refc: bool,
        /// 1, or 2 when its bit offset and trailing bits add up to more than 8.
        extra_bytes: u8,
    },
    /// A bignum taking this many heap words (header included), as the VM's
    /// own header for it says.
    Bignum(usize),
    /// A local reference taking this many heap words (header included), as
    /// the VM's own header for it says (ordinary, alias and magic references
    /// differ).
    LocalRef(usize),
    /// A term the binding cannot see into (bignum, bitstring, fun, reference,
    /// external pid or port): its ETF encoding, sized by the ETF walker.
    Etf(Vec<u8>),
}

/// A live term, as a binding exposes it.
pub trait LiveTerm: Copy {
    /// Classifies the term, pushing its sub-terms (see [`Shape`]) onto `children`.
    fn expand(&self, children: &mut Vec<Self>) -> Result<Shape>;
    /// The VM's `make_internal_hash(Term, Salt)` of this term.
    fn internal_hash(&self, salt: u32) -> u32;
    /// A short label of this term, used when it is a key of a root map.
    fn label(&self) -> String;
}

/// Where a pending term sits: its depth, whether it continues a list, and
/// the root field it is accounted to. Kept apart from the terms themselves so
/// that `expand` pushes children straight onto the term stack.
#[derive(Clone, Copy)]
struct Meta {
    depth: u32,
    /// Whether this term is the tail of a cons cell.
    tail: bool,
    /// Whether this term is its root field's key (else its value).
    is_key: bool,
    /// Root field this term belongs to ([`NO_FIELD`]: none).
    field: u32,
}

const NO_FIELD: u32 = u32::MAX;

/// The size report of a live term. `opts` and `vm` serve the parts sized from
/// their encoding ([`Shape::Etf`]).
pub fn live_term_size<T: LiveTerm>(
    root: T,
    opts: &SizeOptions,
    vm: &dyn VmContext,
) -> Result<TermSize> {
    Ok(live_term_size_within(root, opts, vm, u64::MAX)?.expect("unbounded budget"))
}

/// Like [`live_term_size`], but gives up (returning `Ok(None)`) after
/// expanding `budget` terms, so a binding can size small terms on a normal
/// scheduler and move large ones to a dirty scheduler.
pub fn live_term_size_within<T: LiveTerm>(
    root: T,
    opts: &SizeOptions,
    vm: &dyn VmContext,
    budget: u64,
) -> Result<Option<TermSize>> {
    let costs = &OTP25_64;
    let mut expanded = 0u64;
    let mut out = TermSize::default();
    // Pending terms and their metadata, popped together; a term's children are
    // pushed by `expand` right onto `terms`, then put in popping order.
    let mut terms: Vec<T> = vec![root];
    let mut metas: Vec<Meta> = vec![Meta {
        depth: 1,
        tail: false,
        is_key: false,
        field: NO_FIELD,
    }];
    let mut is_root = true;
    let sub_opts = SizeOptions {
        fields: false,
        ..opts.clone()
    };
    while let Some(term) = terms.pop() {
        let mut meta = metas.pop().expect("one meta per term");
        expanded += 1;
        if expanded > budget {
            return Ok(None);
        }
        let first_child = terms.len();
        let shape = term.expand(&mut terms)?;
        let children = &terms[first_child..];
        // A list's cells and its [] count as one term, at one depth.
        let continues_list = meta.tail && matches!(shape, Shape::Cons | Shape::Nil);
        if continues_list {
            meta.depth -= 1;
        } else {
            out.nodes += 1;
            out.max_depth = out.max_depth.max(meta.depth);
        }
        let (kind, own) = match &shape {
            Shape::Immediate | Shape::Nil => (Kind::Tuple, 0),
            Shape::Float => (Kind::Float, costs.float),
            Shape::Tuple(n) => (Kind::Tuple, costs.tuple(*n as u64)),
            Shape::Cons => (Kind::List, costs.cons),
            Shape::Bignum(words) => (Kind::Bignum, *words as u64),
            Shape::LocalRef(words) => (Kind::LocalRef, *words as u64),
            Shape::Map(n) => {
                let n = *n;
                let words = if n <= costs.flatmap_limit {
                    costs.flatmap(n as u64)
                } else {
                    hamt_words(n, costs, |i, depth| {
                        Ok(children[2 * i].internal_hash(map_salt(depth)))
                    })?
                };
                (Kind::Map, words)
            }
            Shape::Binary(len) => {
                let len = *len as u64;
                if len <= costs.heap_binary_limit {
                    (Kind::HeapBinary, costs.heap_binary(len))
                } else {
                    out.off_heap_bytes += len;
                    out.refc_binaries += 1;
                    (Kind::RefcBinary, costs.proc_bin)
                }
            }
            Shape::RefcBinary(len) => {
                out.off_heap_bytes += *len as u64;
                out.refc_binaries += 1;
                (Kind::RefcBinary, costs.proc_bin)
            }
            Shape::SubBinary {
                len,
                refc,
                extra_bytes,
            } => {
                // Two kinds: added here, not below.
                out.by_kind.add(Kind::SubBinary, costs.sub_bin);
                let (kind, words) = if *refc {
                    // The bytes it spans, partial ones included.
                    out.off_heap_bytes += *len as u64 + u64::from(*extra_bytes);
                    out.refc_binaries += 1;
                    (Kind::RefcBinary, costs.proc_bin)
                } else {
                    (
                        Kind::HeapBinary,
                        costs.heap_binary(*len as u64 + u64::from(*extra_bytes)),
                    )
                };
                out.by_kind.add(kind, words);
                (kind, words + costs.sub_bin)
            }
            Shape::Etf(bytes) => {
                let sub = term_size_with(bytes, &sub_opts, vm)?;
                for (kind, words) in sub.by_kind.iter() {
                    out.by_kind.add(kind, words);
                }
                out.off_heap_bytes += sub.off_heap_bytes;
                out.refc_binaries += sub.refc_binaries;
                out.nodes += sub.nodes - 1;
                out.max_depth = out.max_depth.max(meta.depth + sub.max_depth - 1);
                (Kind::Tuple, sub.words)
            }
        };
        if !matches!(shape, Shape::Etf(_) | Shape::SubBinary { .. }) {
            out.by_kind.add(kind, own);
        }
        if meta.field != NO_FIELD {
            let field = &mut out.fields[meta.field as usize];
            if meta.is_key {
                field.key_words += own;
            } else {
                field.value_words += own;
            }
        }
        let root_fields =
            is_root && opts.fields && matches!(shape, Shape::Tuple(_) | Shape::Map(_));
        if root_fields {
            out.fields = match &shape {
                Shape::Tuple(n) => (1..=*n)
                    .map(|i| FieldSize {
                        label: i.to_string(),
                        key_words: 0,
                        value_words: 0,
                    })
                    .collect(),
                Shape::Map(n) => (0..*n)
                    .map(|i| FieldSize {
                        label: children[2 * i].label(),
                        key_words: 0,
                        value_words: 0,
                    })
                    .collect(),
                _ => unreachable!("root_fields implies a tuple or a map"),
            };
        }
        let is_map = matches!(shape, Shape::Map(_));
        let is_cons = matches!(shape, Shape::Cons);
        let count = terms.len() - first_child;
        // Pop order is first child first: reverse the children in place and
        // push their metadata in the same (reversed) order.
        terms[first_child..].reverse();
        metas.extend((0..count).rev().map(|i| {
            let (field, is_key) = if root_fields {
                if is_map {
                    ((i / 2) as u32, i % 2 == 0)
                } else {
                    (i as u32, false)
                }
            } else {
                (meta.field, meta.is_key)
            };
            Meta {
                depth: meta.depth + 1,
                tail: is_cons && i == 1,
                is_key,
                field,
            }
        }));
        is_root = false;
    }
    out.words = out.by_kind.total();
    out.bytes = out.words * costs.word_bytes;
    Ok(Some(out))
}
