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

struct Item<T> {
    term: T,
    depth: u32,
    /// Whether this term is the tail of a cons cell.
    tail: bool,
    /// Root field this term belongs to, and whether it is that field's key.
    field: Option<(usize, bool)>,
}

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
    let mut stack = vec![Item {
        term: root,
        depth: 1,
        tail: false,
        field: None,
    }];
    let mut children: Vec<T> = Vec::new();
    let mut is_root = true;
    let sub_opts = SizeOptions {
        fields: false,
        ..opts.clone()
    };
    while let Some(mut item) = stack.pop() {
        expanded += 1;
        if expanded > budget {
            return Ok(None);
        }
        children.clear();
        let shape = item.term.expand(&mut children)?;
        // A list's cells and its [] count as one term, at one depth.
        let continues_list = item.tail && matches!(shape, Shape::Cons | Shape::Nil);
        if continues_list {
            item.depth -= 1;
        } else {
            out.nodes += 1;
            out.max_depth = out.max_depth.max(item.depth);
        }
        let before = out.by_kind.total();
        match &shape {
            Shape::Immediate | Shape::Nil => {}
            Shape::Float => out.by_kind.add(Kind::Float, costs.float),
            Shape::Tuple(n) => out.by_kind.add(Kind::Tuple, costs.tuple(*n as u64)),
            Shape::Cons => out.by_kind.add(Kind::List, costs.cons),
            Shape::Map(n) => {
                let n = *n;
                let words = if n <= costs.flatmap_limit {
                    costs.flatmap(n as u64)
                } else {
                    let keys = &children;
                    hamt_words(n, costs, |i, depth| {
                        Ok(keys[2 * i].internal_hash(map_salt(depth)))
                    })?
                };
                out.by_kind.add(Kind::Map, words);
            }
            Shape::Binary(len) => {
                let len = *len as u64;
                if len <= costs.heap_binary_limit {
                    out.by_kind.add(Kind::HeapBinary, costs.heap_binary(len));
                } else {
                    out.by_kind.add(Kind::RefcBinary, costs.proc_bin);
                    out.off_heap_bytes += len;
                    out.refc_binaries += 1;
                }
            }
            Shape::Etf(bytes) => {
                let sub = term_size_with(bytes, &sub_opts, vm)?;
                for (kind, words) in sub.by_kind.iter() {
                    out.by_kind.add(kind, words);
                }
                out.off_heap_bytes += sub.off_heap_bytes;
                out.refc_binaries += sub.refc_binaries;
                out.nodes += sub.nodes - 1;
                out.max_depth = out.max_depth.max(item.depth + sub.max_depth - 1);
            }
        }
        let own = out.by_kind.total() - before;
        if let Some((f, is_key)) = item.field {
            let field = &mut out.fields[f];
            if is_key {
                field.key_words += own;
            } else {
                field.value_words += own;
            }
        }
        if is_root && opts.fields {
            match &shape {
                Shape::Tuple(n) => {
                    out.fields = (1..=*n)
                        .map(|i| FieldSize {
                            label: i.to_string(),
                            key_words: 0,
                            value_words: 0,
                        })
                        .collect();
                }
                Shape::Map(n) => {
                    out.fields = (0..*n)
                        .map(|i| FieldSize {
                            label: children[2 * i].label(),
                            key_words: 0,
                            value_words: 0,
                        })
                        .collect();
                }
                _ => {}
            }
        }
        let root_fields =
            is_root && opts.fields && matches!(shape, Shape::Tuple(_) | Shape::Map(_));
        let is_map = matches!(shape, Shape::Map(_));
        let is_cons = matches!(shape, Shape::Cons);
        for (i, &child) in children.iter().enumerate().rev() {
            let field = if root_fields {
                if is_map {
                    Some((i / 2, i % 2 == 0))
                } else {
                    Some((i, false))
                }
            } else {
                item.field
            };
            stack.push(Item {
                term: child,
                depth: item.depth + 1,
                tail: is_cons && i == 1,
                field,
            });
        }
        is_root = false;
    }
    out.words = out.by_kind.total();
    out.bytes = out.words * costs.word_bytes;
    Ok(Some(out))
}
