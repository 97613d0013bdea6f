//! What a sizing reports.

/// The kinds of heap object a term is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Tuples (header + elements).
    Tuple,
    /// List cons cells (two words each), strings included.
    List,
    /// Map structure: flat maps with their keys tuple, HAMT nodes and leaves.
    Map,
    /// Binaries of at most 64 bytes, stored on the heap.
    HeapBinary,
    /// On-heap handles (ProcBin) of refc binaries; the payload is off-heap.
    RefcBinary,
    /// Sub-binaries (bitstrings).
    SubBinary,
    /// Integers too large to be immediate.
    Bignum,
    /// Floats.
    Float,
    /// Funs (closures and `fun M:F/A`), environment slots included.
    Fun,
    /// Pids of other nodes.
    ExternalPid,
    /// Ports of other nodes.
    ExternalPort,
    /// References of other nodes.
    ExternalRef,
    /// References of this node.
    LocalRef,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 13] = [
        Kind::Tuple,
        Kind::List,
        Kind::Map,
        Kind::HeapBinary,
        Kind::RefcBinary,
        Kind::SubBinary,
        Kind::Bignum,
        Kind::Float,
        Kind::Fun,
        Kind::ExternalPid,
        Kind::ExternalPort,
        Kind::ExternalRef,
        Kind::LocalRef,
    ];

    /// Stable snake_case name (map keys in Erlang, dict keys in Python).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tuple => "tuple",
            Kind::List => "list",
            Kind::Map => "map",
            Kind::HeapBinary => "heap_binary",
            Kind::RefcBinary => "refc_binary",
            Kind::SubBinary => "sub_binary",
            Kind::Bignum => "bignum",
            Kind::Float => "float",
            Kind::Fun => "fun",
            Kind::ExternalPid => "external_pid",
            Kind::ExternalPort => "external_port",
            Kind::ExternalRef => "external_ref",
            Kind::LocalRef => "local_ref",
        }
    }
}

/// Words per [`Kind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindWords([u64; Kind::ALL.len()]);

impl KindWords {
    /// Words of one kind.
    pub fn get(&self, kind: Kind) -> u64 {
        self.0[kind as usize]
    }

    /// Adds `words` to `kind`.
    pub fn add(&mut self, kind: Kind, words: u64) {
        self.0[kind as usize] += words;
    }

    /// `(kind, words)` for every kind, zeros included, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, u64)> + '_ {
        Kind::ALL.iter().map(|&k| (k, self.get(k)))
    }

    /// Sum over all kinds (equals [`TermSize::words`]).
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Size of one field of a root tuple or map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSize {
    /// The field: the 1-based position in a tuple (as `element/2` counts), or
    /// the map key in Erlang syntax.
    pub label: String,
    /// Words of the key (0 for tuple positions and immediate keys).
    pub key_words: u64,
    /// Words of the value.
    pub value_words: u64,
}

/// The full size report of one term.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermSize {
    /// Heap words, as `erts_debug:flat_size/1` reports.
    pub words: u64,
    /// Heap bytes (`words` times the word size).
    pub bytes: u64,
    /// Bytes of refc-binary payloads the term references (off the process heap).
    pub off_heap_bytes: u64,
    /// Number of refc binaries referenced.
    pub refc_binaries: u64,
    /// Words per kind of heap object.
    pub by_kind: KindWords,
    /// Number of terms, every list element and nested term included.
    pub nodes: u64,
    /// Deepest nesting (a lone atom is 1, `{a}` is 2).
    pub max_depth: u32,
    /// Per-field sizes when the root is a tuple or a map (empty otherwise, or when not asked for).
    pub fields: Vec<FieldSize>,
}
