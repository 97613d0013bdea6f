//! Sizing options and the VM knowledge that a few cases need.

use std::collections::HashMap;

use crate::etf::Atom;

/// The node that `binary_to_term` would run on: its pids, ports and
/// references decode to local (immediate or smaller) objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// Node name, e.g. `"nonode@nohost"` or `"app@host"`.
    pub name: String,
    /// The node's creation (`erlang:system_info(creation)`).
    pub creation: u32,
}

/// Knowledge of one running VM that ETF bytes alone do not carry.
///
/// Only maps with more than 32 keys need it (their layout follows the VM's
/// internal hash of each key, and that hash mixes atom-table indexes and
/// process-table slots), plus the local/external decision for identifiers.
/// Inside the VM (the NIF) every question has an answer; outside it,
/// [`SizeOptions`] answers from a snapshot and anything unknown is an error.
pub trait VmContext {
    /// Whether identifiers of `node` with `creation` are local to the sizing VM.
    fn is_local(&self, node: &Atom<'_>, creation: u32) -> bool;
    /// The VM's word for an atom (`index << 6 | 0x0B`), if known.
    fn atom_word(&self, atom: &Atom<'_>) -> Option<u64>;
    /// The VM's internal hash state after hashing the term in `etf` (a complete
    /// ETF blob) starting from `state`, for terms whose hash mixes VM-private
    /// values (pids, ports, external references, `fun M:F/A`).
    fn opaque_hash(&self, _etf: &[u8], _state: u32) -> Option<u32> {
        None
    }
}

/// Options for sizing ETF input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeOptions {
    /// Which node counts as local. Default `None`: every pid, port and reference
    /// is sized as external (what `binary_to_term` builds on any other node).
    pub local_node: Option<LocalNode>,
    /// Atom words of the sizing VM (from `memacct:atom_words/1`), needed only for
    /// atoms inside keys of maps with more than 32 keys.
    pub atom_words: HashMap<String, u64>,
    /// Deepest nesting accepted before [`crate::Error::TooDeep`]. Default 100 000.
    pub max_depth: u32,
    /// Most bytes a compressed term may inflate to. Default 1 GiB.
    pub inflate_limit: u64,
    /// Whether to report per-field sizes of a root map or tuple. Default true.
    pub fields: bool,
}

impl Default for SizeOptions {
    fn default() -> Self {
        SizeOptions {
            local_node: None,
            atom_words: HashMap::new(),
            max_depth: 100_000,
            inflate_limit: 1 << 30,
            fields: true,
        }
    }
}

/// Checks that `word` can be an atom word of a 64-bit VM (`index << 6 |
/// 0b001011`, what `memacct:atom_words/1` reports): a table of anything else
/// (bare atom indices, say) would size maps wrongly instead of failing.
pub fn check_atom_word(name: &str, word: u64) -> crate::Result<()> {
    const ATOM_TAG_MASK: u64 = 0x3F;
    const ATOM_TAG: u64 = 0x0B;
    if word & ATOM_TAG_MASK == ATOM_TAG {
        Ok(())
    } else {
        Err(crate::Error::InvalidOption {
            name: "atom_words",
            reason: format!(
                "{word:#x} for atom {name:?} is not an atom word (index << 6 | 0x0B, \
                 as memacct:atom_words/1 reports)"
            ),
        })
    }
}

impl VmContext for SizeOptions {
    fn is_local(&self, node: &Atom<'_>, creation: u32) -> bool {
        self.local_node
            .as_ref()
            .is_some_and(|l| l.creation == creation && node.is(&l.name))
    }

    fn atom_word(&self, atom: &Atom<'_>) -> Option<u64> {
        self.atom_words.get(&atom.name()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_words_are_checked() {
        assert!(check_atom_word("ok", (1234 << 6) | 0x0B).is_ok());
        let err = check_atom_word("ok", 1234).unwrap_err();
        assert_eq!(err.code(), "invalid_option");
        assert!(err.to_string().contains("\"ok\""), "{err}");
    }
}
