//! The one error type of memacct. Every binding maps it exactly once.

use thiserror::Error;

/// Result alias used throughout the core.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in memacct-core.
///
/// Each variant is a distinct, stable condition; bindings map [`Error::code`]
/// to their own error vocabulary (an Erlang atom, a Python exception class,
/// a C status) and [`std::fmt::Display`] to the human message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the term did.
    #[error("truncated ETF: needed {needed} more byte(s) at offset {offset}")]
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
        /// How many more bytes were needed.
        needed: usize,
    },
    /// The first byte is not the ETF version 131.
    #[error("not ETF: version byte is {found}, expected 131")]
    BadVersion {
        /// The byte found instead.
        found: u8,
    },
    /// The input is empty.
    #[error("empty input: ETF needs at least a version byte and a tag")]
    Empty,
    /// A tag byte that no term encoding uses.
    #[error("unknown ETF tag {tag} at offset {offset}")]
    UnknownTag {
        /// The tag byte.
        tag: u8,
        /// Where it was found.
        offset: usize,
    },
    /// A declared length (element count, byte count) exceeds what the input can hold.
    #[error("declared length {declared} at offset {offset} exceeds the {available} byte(s) left")]
    LengthTooLarge {
        /// Where the length was read.
        offset: usize,
        /// The declared length.
        declared: u64,
        /// Bytes remaining after the length field.
        available: usize,
    },
    /// Nesting deeper than the configured limit.
    #[error("term nesting exceeds the limit of {limit} levels")]
    TooDeep {
        /// The configured limit.
        limit: u32,
    },
    /// A compressed term inflates beyond the configured limit (or its declared size).
    #[error("compressed term or blob inflates beyond {limit} bytes (the configured limit)")]
    InflateLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// The zlib stream of a compressed term is corrupt or does not match its declared size.
    #[error("corrupt compressed term: {reason}")]
    BadCompression {
        /// What zlib or the size check said.
        reason: String,
    },
    /// ATOM_CACHE_REF is only meaningful inside a distribution header.
    #[error("ATOM_CACHE_REF at offset {offset} outside a distribution header")]
    AtomCacheRef {
        /// Where it was found.
        offset: usize,
    },
    /// A field holds a value the VM rejects (bad atom text, bit count, float, pid number, ...).
    #[error("invalid {what} at offset {offset}")]
    InvalidValue {
        /// What was invalid.
        what: &'static str,
        /// Where.
        offset: usize,
    },
    /// A map holds the same key twice; `binary_to_term` rejects such input.
    #[error("map at offset {offset} has a duplicate key")]
    DuplicateMapKey {
        /// Offset of the map's tag.
        offset: usize,
    },
    /// The layout of a map with more than 32 keys depends on VM state that the
    /// caller did not supply (an atom's table index, a pid's table slot, a node pointer).
    #[error(
        "the size of a map with more than 32 keys depends on this VM's {needs}; \
             size it inside the VM (memacct:etf_flat_size/1) or pass an atom table"
    )]
    NeedsVm {
        /// What VM state is needed, e.g. "index of atom 'foo'".
        needs: String,
    },
    /// A compact-state blob is malformed.
    #[error("corrupt memacct blob: {reason}")]
    BadBlob {
        /// What is wrong.
        reason: &'static str,
    },
    /// A blob written by a newer (or unknown) format version.
    #[error(
        "memacct blob format version {found} is not supported (this build reads {}..={})",
        crate::codec::OLDEST_VERSION,
        crate::codec::VERSION
    )]
    BlobVersion {
        /// The version byte found.
        found: u8,
    },
    /// The blob was made with a dictionary and none was given.
    #[error("this blob needs dictionary {id:#010x}; load it and pass it to decompress")]
    DictionaryRequired {
        /// The dictionary id the blob names.
        id: u32,
    },
    /// The blob was made with another dictionary than the one given.
    #[error("this blob was made with dictionary {blob:#010x}, not {given:#010x}")]
    DictionaryMismatch {
        /// Id in the blob.
        blob: u32,
        /// Id of the dictionary given.
        given: u32,
    },
    /// The decoded term does not match the blob's checksum or length.
    #[error("memacct blob checksum mismatch: the data is corrupt")]
    ChecksumMismatch,
    /// The entropy stage (zstd) failed.
    #[error("compression stage failed: {reason}")]
    Codec {
        /// What zstd said.
        reason: String,
    },
    /// A serialized dictionary is malformed.
    #[error("corrupt memacct dictionary: {reason}")]
    BadDictionary {
        /// What is wrong.
        reason: &'static str,
    },
    /// An option is out of its range (a compression level, a dictionary size, ...).
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name, as the surfaces spell it (`level`, `max_bytes`, ...).
        name: &'static str,
        /// What the accepted values are.
        reason: String,
    },
    /// A valid term shape that this version cannot size exactly.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is unsupported.
        what: &'static str,
    },
    /// A state pool is full and its full-pool action is to reject (backpressure),
    /// or nothing could be evicted to make room.
    #[error("state pool exhausted: {limit}")]
    PoolExhausted {
        /// Which limit was hit (`max_entries`, `max_bytes`, a domain's limit, ...).
        limit: &'static str,
    },
    /// A pool handle that no longer names a live entry: released, evicted,
    /// expired, reclaimed with its owner, or never issued by this pool.
    #[error("stale pool handle {handle:#018x}")]
    StaleHandle {
        /// The handle, as its u64 wire form.
        handle: u64,
    },
    /// A pool checkpoint file is malformed, truncated or corrupt.
    #[error("corrupt pool checkpoint: {reason}")]
    BadCheckpoint {
        /// What is wrong.
        reason: &'static str,
    },
    /// An operating-system I/O call failed.
    #[error("i/o error: {reason}")]
    Io {
        /// What was being done and the OS message.
        reason: String,
        /// The OS error number (`errno`), when the OS reported one: what a
        /// binding needs to raise its language's own OS error.
        os_error: Option<i32>,
    },
    /// A memory snapshot (docs/SNAPSHOT.md) is not valid JSON, lacks a
    /// required field, holds a value of the wrong type or range (a negative or
    /// overflowing byte count, a fraction where an integer belongs), names
    /// another format or version, or is internally impossible (a binary with
    /// zero holders, a sample larger than its population).
    #[error("bad memory snapshot: {reason}")]
    BadSnapshot {
        /// What is wrong, with the JSON path or line/column where known.
        reason: String,
    },
}

impl Error {
    /// Every code [`Error::code`] can return, in declaration order, so that a
    /// binding can check it maps each one.
    pub const CODES: &'static [&'static str] = &[
        "truncated",
        "bad_version",
        "empty",
        "unknown_tag",
        "length_too_large",
        "too_deep",
        "inflate_limit",
        "bad_compression",
        "atom_cache_ref",
        "invalid_value",
        "duplicate_map_key",
        "needs_vm",
        "bad_blob",
        "blob_version",
        "dictionary_required",
        "dictionary_mismatch",
        "checksum_mismatch",
        "codec",
        "bad_dictionary",
        "invalid_option",
        "unsupported",
        "pool_exhausted",
        "stale_handle",
        "bad_checkpoint",
        "io",
        "bad_snapshot",
    ];

    /// A short, stable, snake_case code naming the variant (used as the Erlang
    /// error reason, the Python exception attribute and in C messages).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::BadVersion { .. } => "bad_version",
            Error::Empty => "empty",
            Error::UnknownTag { .. } => "unknown_tag",
            Error::LengthTooLarge { .. } => "length_too_large",
            Error::TooDeep { .. } => "too_deep",
            Error::InflateLimit { .. } => "inflate_limit",
            Error::BadCompression { .. } => "bad_compression",
            Error::AtomCacheRef { .. } => "atom_cache_ref",
            Error::InvalidValue { .. } => "invalid_value",
            Error::DuplicateMapKey { .. } => "duplicate_map_key",
            Error::NeedsVm { .. } => "needs_vm",
            Error::Unsupported { .. } => "unsupported",
            Error::BadBlob { .. } => "bad_blob",
            Error::BlobVersion { .. } => "blob_version",
            Error::DictionaryRequired { .. } => "dictionary_required",
            Error::DictionaryMismatch { .. } => "dictionary_mismatch",
            Error::ChecksumMismatch => "checksum_mismatch",
            Error::Codec { .. } => "codec",
            Error::BadDictionary { .. } => "bad_dictionary",
            Error::InvalidOption { .. } => "invalid_option",
            Error::PoolExhausted { .. } => "pool_exhausted",
            Error::StaleHandle { .. } => "stale_handle",
            Error::BadCheckpoint { .. } => "bad_checkpoint",
            Error::Io { .. } => "io",
            Error::BadSnapshot { .. } => "bad_snapshot",
        }
    }

    /// One error of every variant, in [`Error::CODES`] order, with
    /// placeholder fields: lets a binding's tests check that its mapping
    /// (status, exception class, reason atom) covers every error.
    pub fn one_of_each() -> Vec<Error> {
        vec![
            Error::Truncated {
                offset: 0,
                needed: 1,
            },
            Error::BadVersion { found: 0 },
            Error::Empty,
            Error::UnknownTag { tag: 0, offset: 0 },
            Error::LengthTooLarge {
                offset: 0,
                declared: 1,
                available: 0,
            },
            Error::TooDeep { limit: 1 },
            Error::InflateLimit { limit: 1 },
            Error::BadCompression {
                reason: String::new(),
            },
            Error::AtomCacheRef { offset: 0 },
            Error::InvalidValue {
                what: "x",
                offset: 0,
            },
            Error::DuplicateMapKey { offset: 0 },
            Error::NeedsVm {
                needs: String::new(),
            },
            Error::BadBlob { reason: "x" },
            Error::BlobVersion { found: 2 },
            Error::DictionaryRequired { id: 1 },
            Error::DictionaryMismatch { blob: 1, given: 2 },
            Error::ChecksumMismatch,
            Error::Codec {
                reason: String::new(),
            },
            Error::BadDictionary { reason: "x" },
            Error::InvalidOption {
                name: "level",
                reason: String::new(),
            },
            Error::Unsupported { what: "x" },
            Error::PoolExhausted { limit: "x" },
            Error::StaleHandle { handle: 1 },
            Error::BadCheckpoint { reason: "x" },
            Error::Io {
                reason: String::new(),
                os_error: None,
            },
            Error::BadSnapshot {
                reason: String::new(),
            },
        ]
    }
}

impl Error {
    /// An [`Error::Io`] saying what was being done (`context`) and the OS message.
    pub fn io(context: impl std::fmt::Display, err: &std::io::Error) -> Error {
        Error::Io {
            reason: format!("{context}: {err}"),
            os_error: err.raw_os_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn codes_lists_every_variant_once() {
        let one_of_each = Error::one_of_each();
        let codes: Vec<&str> = one_of_each.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }
}
