//! The VM-version-dependent costs, in one table.
//!
//! Every number here is the heap size, in words, of one object as the
//! emulator lays it out; `size_object()` in `erts/emulator/beam/copy.c` is what
//! `erts_debug:flat_size/1` runs. A later OTP release is one new [`CostTable`]
//! constant, not scattered edits.

/// Heap-object sizes (in machine words) of one VM build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostTable {
    /// Human name of the VM build, e.g. `"OTP 25, 64-bit"`.
    pub name: &'static str,
    /// Bytes per word.
    pub word_bytes: u64,
    /// Words of one cons cell.
    pub cons: u64,
    /// Words of a boxed float.
    pub float: u64,
    /// Header words of a bignum (digits come on top, one word per 64 bits).
    pub bignum_header: u64,
    /// Largest binary stored on the process heap; larger ones are refc (off-heap).
    pub heap_binary_limit: u64,
    /// Header words of a heap binary (payload comes on top, rounded up to words).
    pub heap_binary_header: u64,
    /// Words of the on-heap handle (ProcBin) of a refc binary.
    pub proc_bin: u64,
    /// Words of a sub-binary (created by `binary_to_term` for bitstrings).
    pub sub_bin: u64,
    /// Words of a fun object without its environment (`ERL_FUN_SIZE`); each
    /// free variable adds one word.
    pub fun: u64,
    /// Words of an external pid (another node's).
    pub external_pid: u64,
    /// Words of an external port.
    pub external_port: u64,
    /// Header words of an external reference; data words come on top.
    pub external_ref_head: u64,
    /// Words of an ordinary local reference.
    pub local_ref: u64,
    /// Words of a local pid-reference (alias); `binary_to_term` makes one when
    /// the reference numbers carry the pid marker and the owner is alive.
    pub local_pid_ref: u64,
    /// Words of a local magic reference (NIF resource, ets table, atomics...).
    pub local_magic_ref: u64,
    /// Header words of a flat map (header, size, keys pointer); values add one word each.
    pub flatmap_header: u64,
    /// Maps with at most this many keys are flat; larger ones are HAMTs.
    pub flatmap_limit: usize,
    /// Header words of a HAMT head node (header, size); children add one word each.
    pub hamt_head_header: u64,
    /// Header words of an inner HAMT node; children add one word each.
    pub hamt_node_header: u64,
    /// Words of a HAMT leaf (a cons cell holding key and value).
    pub hamt_leaf: u64,
    /// Largest value of an immediate (small) integer.
    pub small_max: i128,
    /// Smallest value of an immediate (small) integer.
    pub small_min: i128,
}

impl CostTable {
    /// Words of a heap binary of `n` bytes.
    pub fn heap_binary(&self, n: u64) -> u64 {
        self.heap_binary_header + n.div_ceil(self.word_bytes)
    }

    /// Words of a bignum whose magnitude has `n` significant bytes.
    pub fn bignum(&self, magnitude_bytes: u64) -> u64 {
        self.bignum_header + magnitude_bytes.div_ceil(self.word_bytes)
    }

    /// Words of a tuple of `arity` elements (the empty tuple is a shared literal: 0).
    pub fn tuple(&self, arity: u64) -> u64 {
        if arity == 0 {
            0
        } else {
            arity + 1
        }
    }

    /// Words of an external reference with `ref_words` 32-bit id words.
    pub fn external_ref(&self, ref_words: u64) -> u64 {
        // 64-bit: the data holds a 32-bit count plus the ids, packed in words.
        self.external_ref_head + ref_words / 2 + 1
    }

    /// Words of a flat map with `n` keys, including its keys tuple.
    pub fn flatmap(&self, n: u64) -> u64 {
        self.flatmap_header + n + self.tuple(n)
    }

    /// Whether `v` is an immediate (small) integer on this VM.
    pub fn is_small(&self, v: i128) -> bool {
        v >= self.small_min && v <= self.small_max
    }
}

/// Erlang/OTP 25 on a 64-bit machine (the target VM; measured and read off
/// the 25.2.3 sources).
pub const OTP25_64: CostTable = CostTable {
    name: "OTP 25, 64-bit",
    word_bytes: 8,
    cons: 2,
    float: 2,
    bignum_header: 1,
    heap_binary_limit: 64,
    heap_binary_header: 2,
    proc_bin: 6,
    sub_bin: 5,
    fun: 5,
    external_pid: 4,
    external_port: 4,
    external_ref_head: 3,
    local_ref: 3,
    local_pid_ref: 4,
    local_magic_ref: 3,
    flatmap_header: 3,
    flatmap_limit: 32,
    hamt_head_header: 2,
    hamt_node_header: 1,
    hamt_leaf: 2,
    small_max: (1i128 << 59) - 1,
    small_min: -(1i128 << 59),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_note_figures() {
        let t = OTP25_64;
        assert_eq!(t.heap_binary(0), 2);
        assert_eq!(t.heap_binary(3), 3);
        assert_eq!(t.heap_binary(64), 10);
        assert_eq!(t.flatmap(0), 3);
        assert_eq!(t.flatmap(1), 6);
        assert_eq!(t.flatmap(32), 68);
        assert_eq!(t.bignum(8), 2);
        assert_eq!(t.bignum(26), 5);
        assert_eq!(t.tuple(2), 3);
        assert!(t.is_small((1 << 59) - 1));
        assert!(!t.is_small(1 << 59));
    }
}
