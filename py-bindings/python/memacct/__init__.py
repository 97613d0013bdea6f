"""memacct: exact BEAM (Erlang/OTP) term sizing from External Term Format bytes.

``flat_size(etf)`` returns the heap words ``erts_debug:flat_size/1`` reports for
``binary_to_term(etf)`` on the target VM (Erlang/OTP 25, 64-bit);
``term_size(etf)`` returns the full report (``TermSize``): bytes, off-heap refc
binary bytes, a per-kind breakdown, node count, depth and per-field sizes.
A ``Sizer`` holds the options (local node, atom table, limits) for sizing many
terms alike.

Compact state: ``compress(etf)`` turns ETF into a lossless, versioned and
checksummed blob, ``decompress(blob)`` gives the ETF back and
``blob_info(blob)`` reads a blob's header. With a ``Dictionary`` trained on
similar terms (``Dictionary.train``; ``save``/``load`` keep it on disk), small
connection states compress to well under half of
``term_to_binary(T, [compressed])``; without one, to about its size.

State pool: ``Pool`` is a thread-safe, bounded store of byte payloads
addressed by integer handles, with limits by entries and bytes (pool-wide and
per domain), reject or evict when full (LRU, LFU, FIFO, TTL, random or
S3-FIFO), TTLs, per-owner release and crash-safe checkpoints;
``Pool.stats()`` reports its figures (``PoolStats``).

Memory decomposition: ``load_snapshot(path)`` (or ``Snapshot.from_json``)
reads a node or cluster snapshot (docs/SNAPSHOT.md) and decomposes it: per
connection (process memory, of which state, an estimate with its 95%
interval, and heap; off-heap binary share; native pool bytes) and per node
(``erlang:memory`` by category, allocator overhead, native memory and the
residual, RSS minus all of them). ``Snapshot.validate()`` lists every broken
rule (``Violation``), ``report()`` is the text report, ``to_dict()`` the
decomposition as plain data; ``to_pandas()`` and ``plot(path)`` need pandas
and matplotlib (optional). ``aggregate`` summarizes many decompositions
(min/max/mean/p50/p95/p99) and ``trend`` fits growth per hour and flags leaks.

Every algorithm lives in the Rust core ``memacct-core``; this package is a thin
binding. Sizing, compressing, decompressing and training release the GIL, so
threads can work in parallel. Invalid or unsupported input raises a subclass
of ``MemacctError`` (itself a ``ValueError``) whose ``code`` is the core's
stable error code; a file that cannot be read or written raises
``MemacctIoError``, also an ``OSError`` (``errno``, ``filename``) and the
builtin subclass of its errno (``FileNotFoundError``, ...).

>>> import memacct
>>> etf = bytes([131, 104, 2, 119, 2, 111, 107, 109, 0, 0, 0, 3, 97, 98, 99])  # {ok, <<"abc">>}
>>> memacct.flat_size(etf)
6
>>> blob = memacct.compress(etf)
>>> memacct.decompress(blob) == etf
True
>>> memacct.blob_info(blob).etf_len
15
"""

from ._memacct import (
    BLOB_VERSION as BLOB_VERSION,
    SNAPSHOT_VERSION as SNAPSHOT_VERSION,
    VALIDATION_RULES as VALIDATION_RULES,
    DEFAULT_DICTIONARY_BYTES as DEFAULT_DICTIONARY_BYTES,
    KINDS as KINDS,
    POOL_DOMAINS as POOL_DOMAINS,
    POOL_POLICIES as POOL_POLICIES,
    WORD_BYTES as WORD_BYTES,
    AtomCacheRefError as AtomCacheRefError,
    BadBlobError as BadBlobError,
    BadCheckpointError as BadCheckpointError,
    BadCompressionError as BadCompressionError,
    BadDictionaryError as BadDictionaryError,
    BadSnapshotError as BadSnapshotError,
    BadVersionError as BadVersionError,
    BlobInfo as BlobInfo,
    BlobVersionError as BlobVersionError,
    ChecksumMismatchError as ChecksumMismatchError,
    CodecError as CodecError,
    Dictionary as Dictionary,
    DictionaryMismatchError as DictionaryMismatchError,
    DictionaryRequiredError as DictionaryRequiredError,
    DomainStats as DomainStats,
    DuplicateMapKeyError as DuplicateMapKeyError,
    EmptyInputError as EmptyInputError,
    FieldSize as FieldSize,
    InflateLimitError as InflateLimitError,
    InvalidOptionError as InvalidOptionError,
    InvalidValueError as InvalidValueError,
    LengthTooLargeError as LengthTooLargeError,
    MemacctError as MemacctError,
    MemacctIoError as MemacctIoError,
    NeedsVmError as NeedsVmError,
    Pool as Pool,
    PoolExhaustedError as PoolExhaustedError,
    PoolSlot as PoolSlot,
    PoolStats as PoolStats,
    Sizer as Sizer,
    Snapshot as Snapshot,
    StaleHandleError as StaleHandleError,
    TermSize as TermSize,
    TooDeepError as TooDeepError,
    TruncatedError as TruncatedError,
    UnknownTagError as UnknownTagError,
    UnsupportedError as UnsupportedError,
    Violation as Violation,
    __version__ as __version__,
    aggregate as aggregate,
    blob_info as blob_info,
    compress as compress,
    decompress as decompress,
    flat_size as flat_size,
    load_snapshot as load_snapshot,
    term_size as term_size,
    trend as trend,
)

__all__ = [
    "BLOB_VERSION",
    "SNAPSHOT_VERSION",
    "VALIDATION_RULES",
    "DEFAULT_DICTIONARY_BYTES",
    "KINDS",
    "POOL_DOMAINS",
    "POOL_POLICIES",
    "WORD_BYTES",
    "AtomCacheRefError",
    "BadBlobError",
    "BadCheckpointError",
    "BadCompressionError",
    "BadDictionaryError",
    "BadSnapshotError",
    "BadVersionError",
    "BlobInfo",
    "BlobVersionError",
    "ChecksumMismatchError",
    "CodecError",
    "Dictionary",
    "DictionaryMismatchError",
    "DictionaryRequiredError",
    "DomainStats",
    "DuplicateMapKeyError",
    "EmptyInputError",
    "FieldSize",
    "InflateLimitError",
    "InvalidOptionError",
    "InvalidValueError",
    "LengthTooLargeError",
    "MemacctError",
    "MemacctIoError",
    "NeedsVmError",
    "Pool",
    "PoolExhaustedError",
    "PoolSlot",
    "PoolStats",
    "Sizer",
    "Snapshot",
    "StaleHandleError",
    "TermSize",
    "TooDeepError",
    "TruncatedError",
    "UnknownTagError",
    "UnsupportedError",
    "Violation",
    "__version__",
    "aggregate",
    "blob_info",
    "compress",
    "decompress",
    "flat_size",
    "load_snapshot",
    "term_size",
    "trend",
]
