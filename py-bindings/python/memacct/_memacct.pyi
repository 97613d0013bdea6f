"""Type stubs of memacct's native module (``memacct._memacct``)."""

import sys
import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Final, Literal, Union, final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer as _Buffer
else:
    from typing_extensions import Buffer as _Buffer

from typing_extensions import TypeAlias

_BytesLike: TypeAlias = _Buffer
"""Any object with the buffer protocol: bytes (read in place), bytearray, memoryview, ... (copied)."""
_Path: TypeAlias = Union[str, "os.PathLike[str]"]
_Domain: TypeAlias = Literal["session", "shared", "registry", "cache", "ephemeral"]
_Policy: TypeAlias = Literal["lru", "lfu", "fifo", "ttl", "random", "s3_fifo"]
_Pressure: TypeAlias = Literal["low", "medium", "high", "critical"]
_CiMethod: TypeAlias = Literal["student_t", "normal"]

__all__ = [
    "__version__",
    "KINDS",
    "WORD_BYTES",
    "flat_size",
    "term_size",
    "TermSize",
    "FieldSize",
    "Sizer",
    "BLOB_VERSION",
    "DEFAULT_DICTIONARY_BYTES",
    "compress",
    "decompress",
    "blob_info",
    "BlobInfo",
    "Dictionary",
    "POOL_DOMAINS",
    "POOL_POLICIES",
    "Pool",
    "PoolSlot",
    "PoolStats",
    "DomainStats",
    "SNAPSHOT_VERSION",
    "VALIDATION_RULES",
    "Snapshot",
    "Violation",
    "load_snapshot",
    "aggregate",
    "trend",
    "MemacctError",
    "TruncatedError",
    "BadVersionError",
    "EmptyInputError",
    "UnknownTagError",
    "LengthTooLargeError",
    "TooDeepError",
    "InflateLimitError",
    "BadCompressionError",
    "AtomCacheRefError",
    "InvalidValueError",
    "DuplicateMapKeyError",
    "NeedsVmError",
    "UnsupportedError",
    "BadBlobError",
    "BlobVersionError",
    "DictionaryRequiredError",
    "DictionaryMismatchError",
    "ChecksumMismatchError",
    "CodecError",
    "BadDictionaryError",
    "InvalidOptionError",
    "PoolExhaustedError",
    "StaleHandleError",
    "BadCheckpointError",
    "MemacctIoError",
    "BadSnapshotError",
]

__version__: Final[str]
KINDS: Final[tuple[str, ...]]
"""Names of the kinds of heap object, in report order (the keys of ``TermSize.by_kind``)."""
WORD_BYTES: Final[int]
"""Bytes per heap word on the target VM (8)."""
BLOB_VERSION: Final[int]
"""The blob format version ``compress`` writes (and the newest ``decompress`` reads)."""
DEFAULT_DICTIONARY_BYTES: Final[int]
"""The default ``max_bytes`` of ``Dictionary.train`` (32 KiB)."""

@final
class FieldSize:
    """Size of one field of a root tuple or map."""

    def __new__(cls, label: str, key_words: int, value_words: int) -> FieldSize: ...
    @property
    def label(self) -> str:
        """The tuple position (``'1'``, ``'2'``, ...) or the map key in Erlang syntax."""
    @property
    def key_words(self) -> int:
        """Heap words of the key (0 for tuple positions and immediate keys)."""
    @property
    def value_words(self) -> int:
        """Heap words of the value."""
    def to_dict(self) -> dict[str, Union[str, int]]:
        """``{'label': ..., 'key_words': ..., 'value_words': ...}``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class TermSize:
    """The full size report of one term (immutable; compares and hashes by value)."""

    def __new__(
        cls,
        words: int,
        off_heap_bytes: int,
        refc_binaries: int,
        nodes: int,
        max_depth: int,
        by_kind: Mapping[str, int],
        fields: Union[Iterable[FieldSize], None] = None,
    ) -> TermSize: ...
    @property
    def words(self) -> int:
        """Heap words, as ``erts_debug:flat_size/1`` reports."""
    @property
    def bytes(self) -> int:
        """Heap bytes (``words`` times the word size)."""
    @property
    def off_heap_bytes(self) -> int:
        """Bytes of refc-binary payloads the term references (off the process heap)."""
    @property
    def refc_binaries(self) -> int:
        """Number of refc binaries referenced."""
    @property
    def nodes(self) -> int:
        """Number of terms, every list element and nested term included."""
    @property
    def max_depth(self) -> int:
        """Deepest nesting (a lone atom is 1, ``{a}`` is 2)."""
    @property
    def by_kind(self) -> dict[str, int]:
        """Words per kind: a new dict with every name of ``KINDS``, in that order."""
    @property
    def fields(self) -> list[FieldSize]:
        """Per-field sizes of a root tuple or map (a new list; may be empty)."""
    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dict of every attribute."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Sizer:
    """A reusable sizer: the options of ``flat_size``/``term_size``, converted once.

    Prefer it to the module functions when sizing many terms with the same
    ``atom_words``. Immutable and safe to share between threads.
    """

    def __new__(
        cls,
        *,
        local_node: Union[tuple[str, int], None] = None,
        atom_words: Union[Mapping[str, int], None] = None,
        max_depth: int = 100_000,
        inflate_limit: int = 1_073_741_824,
    ) -> Sizer: ...
    def flat_size(self, etf: _BytesLike) -> int:
        """Heap words of the term in ``etf`` (see ``memacct.flat_size``)."""
    def term_size(self, etf: _BytesLike, *, fields: bool = True) -> TermSize:
        """The full size report of the term in ``etf`` (see ``memacct.term_size``)."""
    @property
    def local_node(self) -> Union[tuple[str, int], None]:
        """The local node as ``(name, creation)``, or None."""
    @property
    def atom_words(self) -> dict[str, int]:
        """A new dict of the atom words."""
    @property
    def max_depth(self) -> int:
        """Deepest nesting accepted."""
    @property
    def inflate_limit(self) -> int:
        """Most bytes a compressed term may inflate to."""

def flat_size(
    etf: _BytesLike,
    *,
    local_node: Union[tuple[str, int], None] = None,
    atom_words: Union[Mapping[str, int], None] = None,
    max_depth: int = 100_000,
    inflate_limit: int = 1_073_741_824,
) -> int:
    """Heap words of the term in ``etf`` (``erts_debug:flat_size/1`` on OTP 25, 64-bit).

    Every ``atom_words`` value must be an atom word (``index << 6 | 0x0B``), and
    ``max_depth`` / ``inflate_limit`` ints in range; ``InvalidOptionError`` otherwise.
    """

def term_size(
    etf: _BytesLike,
    *,
    local_node: Union[tuple[str, int], None] = None,
    atom_words: Union[Mapping[str, int], None] = None,
    max_depth: int = 100_000,
    inflate_limit: int = 1_073_741_824,
    fields: bool = True,
) -> TermSize:
    """The full size report of the term in ``etf``."""

# --- compact state ---------------------------------------------------------------------

@final
class Dictionary:
    """A trained compression dictionary (immutable; safe to share between threads).

    Blobs made with a dictionary name its ``id`` and need the same dictionary
    to decompress. Equal content means equal dictionaries (and equal ids);
    pickles by its bytes.
    """

    # Not constructible from Python (TypeError). No stub idiom says so yet without
    # breaking mypy (python/typing#2066), so no constructor is declared.
    @staticmethod
    def train(samples: Iterable[_BytesLike], max_bytes: int = 32_768) -> Dictionary:
        """Trains a dictionary of at most about ``max_bytes`` (256 .. 16 MiB) from sample ETF terms.

        Raises ``InvalidOptionError`` for ``max_bytes`` out of range, ``BadDictionaryError``
        for no samples, and the ``MemacctError`` subclass of an invalid sample's problem.
        """
    @staticmethod
    def from_bytes(data: _BytesLike) -> Dictionary:
        """Loads a dictionary serialized by ``to_bytes`` (``BadDictionaryError`` if it is not one)."""
    @staticmethod
    def load(path: _Path) -> Dictionary:
        """Loads a dictionary from a file written by ``save`` (``BadDictionaryError``).

        ``MemacctIoError`` if it cannot be read (see there: also the ``OSError``
        subclass of its ``errno``, e.g. ``FileNotFoundError``, ``filename`` set).
        """
    def to_bytes(self) -> bytes:
        """The serialized dictionary (magic, version, id, content, checksum)."""
    def save(self, path: _Path) -> None:
        """Writes ``to_bytes()`` to ``path`` atomically (temporary file, then rename).

        ``MemacctIoError`` (also the ``OSError`` subclass of its ``errno``, ``filename`` set)
        if the OS refuses.
        """
    @property
    def id(self) -> int:
        """The id written in every blob made with this dictionary (32-bit, never 0)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class BlobInfo:
    """What a blob's header says (immutable; compares and hashes by value)."""

    def __new__(
        cls,
        version: int,
        dictionary_id: int,
        etf_len: int,
        input_was_compressed: bool,
        blob_len: int,
    ) -> BlobInfo: ...
    @property
    def version(self) -> int:
        """Blob format version."""
    @property
    def dictionary_id(self) -> int:
        """``id`` of the dictionary the blob was made with (0: none)."""
    @property
    def etf_len(self) -> int:
        """Length in bytes of the ETF the blob decodes to."""
    @property
    def input_was_compressed(self) -> bool:
        """Whether ``compress`` was given zlib-compressed ETF.

        Informational only: the checksum covers the decoded ETF, not this flag.
        """
    @property
    def blob_len(self) -> int:
        """Length of the blob in bytes."""
    def to_dict(self) -> dict[str, Union[int, bool]]:
        """A plain, JSON-ready dict of every attribute."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

def compress(
    etf: _BytesLike,
    *,
    dictionary: Union[Dictionary, None] = None,
    level: int = 3,
    inflate_limit: int = 1_073_741_824,
    format: int = 2,
) -> bytes:
    """Compresses the term in ``etf`` (plain or ``[compressed]`` ETF) into a compact blob.

    ``etf`` must hold exactly one well-formed term: malformed ETF raises the error
    ``term_size`` raises for it, bytes after the term ``InvalidValueError``. The codec
    keeps bytes, not terms: map keys are not compared (a duplicate key is kept as it was).

    ``level`` is the zstd level, 1 (fastest) .. 22 (smallest); ``InvalidOptionError`` otherwise.
    ``format`` is the blob format written: 2 (default) or 1 (for older readers).
    A term whose ETF is larger than 256 MiB compresses, but ``decompress`` then needs
    ``max_output`` raised to at least its ``blob_info(blob).etf_len``.

    >>> memacct.decompress(memacct.compress(b"\x83a\x01"))
    b'\x83a\x01'
    """

def decompress(
    blob: _BytesLike,
    *,
    dictionary: Union[Dictionary, None] = None,
    max_output: int = 268_435_456,
) -> bytes:
    """The uncompressed ETF of a blob made by ``compress``.

    ``dictionary`` must be the one the blob was made with, if any; ``max_output``
    bounds the decoded size (``InflateLimitError`` beyond it).
    """

def blob_info(blob: _BytesLike) -> BlobInfo:
    """What a blob's header says, without decoding it (e.g. ``dictionary_id``)."""

# --- state pool --------------------------------------------------------------------------

POOL_DOMAINS: Final[tuple[str, ...]]
"""Names of the pool's domains: ``('session', 'shared', 'registry', 'cache', 'ephemeral')``."""
POOL_POLICIES: Final[tuple[str, ...]]
"""Names of the eviction policies: ``('lru', 'lfu', 'fifo', 'ttl', 'random', 's3_fifo')``."""

@final
class Pool:
    """A thread-safe, bounded store of byte payloads addressed by integer handles.

    ``max_entries`` / ``max_bytes`` bound the live entries and their payload bytes
    (None: no limit). When a put would pass a limit, ``on_full="reject"`` (the default)
    raises ``PoolExhaustedError`` and ``on_full="evict"`` evicts the ``policy``'s
    victims until it fits. ``shards`` (1..256, None: from the CPU count); eviction
    order is the policy's exactly within a shard (``shards=1``: pool-wide).
    ``domains`` maps domain names to ``dict(max_entries=, max_bytes=, default_ttl=)``.
    TTLs are seconds (at least 0.001); ``ttl_resolution`` (default 1.0) is the
    granularity of expiry sweeps. A handle is valid until its entry is released,
    evicted, expired or reclaimed; afterwards it raises ``StaleHandleError``.
    Bad options (ints out of range included) raise ``InvalidOptionError``; a handle
    outside 0..2**64 is stale like any other unknown handle. Every call that takes
    a shard lock releases the GIL. Used as a context manager, the pool is cleared
    on exit.
    """

    def __new__(
        cls,
        max_entries: Union[int, None] = None,
        max_bytes: Union[int, None] = None,
        *,
        policy: _Policy = "lru",
        on_full: Literal["reject", "evict"] = "reject",
        shards: Union[int, None] = None,
        default_ttl: Union[float, None] = None,
        domains: Union[Mapping[_Domain, Mapping[str, Union[int, float, None]]], None] = None,
        seed: Union[int, None] = None,
        ttl_resolution: Union[float, None] = None,
    ) -> Pool: ...
    @staticmethod
    def restore(
        path: _Path,
        max_entries: Union[int, None] = None,
        max_bytes: Union[int, None] = None,
        *,
        policy: _Policy = "lru",
        on_full: Literal["reject", "evict"] = "reject",
        shards: Union[int, None] = None,
        default_ttl: Union[float, None] = None,
        domains: Union[Mapping[_Domain, Mapping[str, Union[int, float, None]]], None] = None,
        seed: Union[int, None] = None,
        ttl_resolution: Union[float, None] = None,
    ) -> Pool:
        """A new pool holding the entries of a checkpoint (new handles; TTLs resume).

        ``BadCheckpointError`` for a corrupt file, ``MemacctIoError`` if unreadable
        (see there: ``errno`` and ``filename`` set, and the ``OSError`` subclass of the
        ``errno``, when the OS gave a number),
        ``PoolExhaustedError`` if the entries do not fit under ``on_full="reject"``.
        ``handles()`` lists the restored entries' (new) handles.
        """
    def put(
        self,
        data: _BytesLike,
        *,
        domain: _Domain = "session",
        owner: Union[int, None] = None,
        ttl: Union[float, None] = None,
    ) -> int:
        """Stores a copy of ``data``; returns its handle (a positive int).

        ``ttl`` in seconds (None: the domain's or pool's default; ``math.inf``: none).
        """
    def get(self, handle: int) -> bytes:
        """A copy of the payload ``handle`` names (``StaleHandleError`` if gone)."""
    def update(self, handle: int, data: _BytesLike) -> None:
        """Replaces the payload ``handle`` names (the TTL is unchanged)."""
    def release(self, handle: int) -> None:
        """Releases the entry; a second release raises ``StaleHandleError``."""
    def release_owner(self, owner: int) -> int:
        """Releases every entry of ``owner`` (0..2**64); returns how many."""
    def expire(self) -> int:
        """Removes every entry whose TTL has passed; returns how many."""
    def clear(self) -> int:
        """Releases every entry; returns how many."""
    def handles(self) -> list[int]:
        """The handles of the live entries (expired ones not yet swept included).

        How to find the entries of a pool made by ``restore`` (whose handles are new).
        Entries stored or released during the call may or may not be listed.
        """
    def stats(self) -> PoolStats:
        """The pool's figures."""
    def checkpoint(self, path: _Path) -> int:
        """Writes the live entries to ``path`` crash-safely; returns how many.

        ``MemacctIoError`` (see there: ``errno``/``filename`` set when known) if the OS refuses.
        """
    def slot(
        self,
        data: _BytesLike,
        *,
        domain: _Domain = "session",
        owner: Union[int, None] = None,
        ttl: Union[float, None] = None,
    ) -> PoolSlot:
        """A context manager: puts ``data`` on entry (yielding the handle), releases on exit.

        Single use: entering it again raises ``ValueError``.
        """
    @property
    def policy(self) -> str:
        """The eviction policy's name."""
    @property
    def on_full(self) -> str:
        """``"reject"`` or ``"evict"``."""
    @property
    def shards(self) -> int:
        """Number of shards."""
    @property
    def max_entries(self) -> Union[int, None]:
        """The pool-wide entry limit in force."""
    @property
    def max_bytes(self) -> Union[int, None]:
        """The pool-wide payload byte limit in force."""
    def set_limits(
        self, max_entries: Union[int, None] = None, max_bytes: Union[int, None] = None
    ) -> None:
        """Changes the pool-wide limits while the pool runs (only limits it was created with)."""
    def __len__(self) -> int: ...
    def __contains__(self, handle: object, /) -> bool: ...
    def __enter__(self) -> Pool: ...
    # Clears the pool; exceptions propagate (returns None).
    def __exit__(
        self,
        exc_type: Union[type[BaseException], None],
        exc: Union[BaseException, None],
        tb: Union[TracebackType, None],
    ) -> None: ...

@final
class PoolSlot:
    """The context manager of ``Pool.slot`` (single use: a second ``__enter__`` raises ``ValueError``)."""

    # Not constructible from Python (TypeError). No stub idiom says so yet without
    # breaking mypy (python/typing#2066), so no constructor is declared.
    @property
    def handle(self) -> Union[int, None]:
        """The handle while entered, else None."""
    def __enter__(self) -> int: ...
    # Releases the entry; exceptions propagate (returns None).
    def __exit__(
        self,
        exc_type: Union[type[BaseException], None],
        exc: Union[BaseException, None],
        tb: Union[TracebackType, None],
    ) -> None: ...

@final
class DomainStats:
    """Figures of one domain of a pool (immutable; pickles)."""

    def __new__(cls, entries: int, bytes: int, hits: int, evicted: int, expired: int) -> DomainStats: ...
    @property
    def entries(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def hits(self) -> int: ...
    @property
    def evicted(self) -> int: ...
    @property
    def expired(self) -> int: ...
    def to_dict(self) -> dict[str, int]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class PoolStats:
    """A pool's figures (immutable; pickles). With no concurrent writer:
    ``created + reused == in_use + released + evicted + expired``."""

    def __new__(
        cls,
        policy: _Policy,
        shards: int,
        in_use: int,
        available: int,
        created: int,
        reused: int,
        released: int,
        evicted: int,
        expired: int,
        rejected: int,
        hits: int,
        misses: int,
        bytes_stored: int,
        bytes_allocated: int,
        pressure: _Pressure,
        domains: Mapping[str, DomainStats],
    ) -> PoolStats: ...

    @property
    def policy(self) -> str: ...
    @property
    def shards(self) -> int: ...
    @property
    def in_use(self) -> int:
        """Live entries (including expired ones not yet swept)."""
    @property
    def available(self) -> int:
        """Free slots kept for reuse."""
    @property
    def created(self) -> int:
        """Puts that took a new slot."""
    @property
    def reused(self) -> int:
        """Puts that reused a freed slot."""
    @property
    def released(self) -> int:
        """Entries released (``release``, ``release_owner``, ``clear``)."""
    @property
    def evicted(self) -> int: ...
    @property
    def expired(self) -> int: ...
    @property
    def rejected(self) -> int:
        """Puts and updates refused with ``PoolExhaustedError``."""
    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def bytes_stored(self) -> int:
        """Payload bytes of the live entries."""
    @property
    def bytes_allocated(self) -> int:
        """Bytes the pool's storage holds (payload capacities plus its structures)."""
    @property
    def reuse_ratio(self) -> float: ...
    @property
    def pressure(self) -> _Pressure:
        """``"low"`` (< 60% of the tighter limit), ``"medium"``, ``"high"`` (>= 80%), ``"critical"`` (>= 90%)."""
    @property
    def domains(self) -> dict[str, DomainStats]:
        """Per-domain figures, keyed by every name of ``POOL_DOMAINS``."""
    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dict of every attribute (``domains`` a dict of dicts)."""
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

# --- memory decomposition ----------------------------------------------------------------

SNAPSHOT_VERSION: Final[int]
"""The snapshot format version this build reads (1)."""
VALIDATION_RULES: Final[tuple[str, ...]]
"""Every rule code ``Snapshot.validate`` can report, in the order they are checked."""

@final
class Violation:
    """One violated rule (immutable; compares by value, ``figures`` as a mapping: in any order)."""

    def __new__(cls, rule: str, message: str, figures: Mapping[str, float]) -> Violation: ...
    @property
    def rule(self) -> str:
        """The rule's stable code (one of ``VALIDATION_RULES``)."""
    @property
    def message(self) -> str:
        """A human sentence with the figures."""
    @property
    def figures(self) -> dict[str, float]:
        """The figures involved, by name (bytes unless the name says otherwise)."""
    def to_dict(self) -> dict[str, Any]:
        """``{'rule': ..., 'message': ..., 'figures': {...}}``."""
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Snapshot:
    """A node or cluster memory snapshot (docs/SNAPSHOT.md, v1), decomposed by the core.

    Immutable; compares equal when the snapshots are equal; pickles by its JSON.
    """

    # Not constructible from Python (TypeError). No stub idiom says so yet without
    # breaking mypy (python/typing#2066), so no constructor is declared.
    @staticmethod
    def from_json(data: Union[str, _BytesLike], *, ci_method: _CiMethod = "student_t") -> Snapshot:
        """Reads a node or cluster snapshot from JSON text (``BadSnapshotError`` if it is not one)."""
    @property
    def is_cluster(self) -> bool:
        """True for a cluster snapshot."""
    @property
    def node(self) -> Union[str, None]:
        """The node's name (None for a cluster snapshot)."""
    @property
    def timestamp_ms(self) -> Union[int, None]:
        """When the node snapshot was taken, Unix ms (None for a cluster snapshot)."""
    @property
    def node_names(self) -> list[str]:
        """Names of the nodes that answered, in order."""
    @property
    def missing(self) -> list[dict[str, str]]:
        """Nodes of a cluster that did not answer: ``[{'node': ..., 'reason': ...}]``."""
    @property
    def ci_method(self) -> _CiMethod:
        """The quantile of the state estimate's 95% interval."""
    @property
    def process_bytes(self) -> Union[list[int], None]:
        """Per-connection process memory as measured (node snapshots; None if not given)."""
    @property
    def state_sample_bytes(self) -> Union[list[int], None]:
        """The sampled states' bytes (node snapshots; None if not sampled)."""
    def node_snapshots(self) -> list[Snapshot]:
        """One node ``Snapshot`` per node that answered (``[self]`` for a node snapshot)."""
    def validate(self, tolerance: float = 0.05, *, epsilon: float = 1e-9) -> list[Violation]:
        """Every violated rule; ``tolerance`` is the largest accepted ``|residual| / rss``."""
    def report(self) -> str:
        """The core's human text report.

        A cluster: each answering node's report, in order, then a ``=== CLUSTER ===``
        section with the totals over the nodes that answered and every missing node
        with its reason (e.g. ``Nodes missing: 1 c@host (timeout)``).
        """
    def compact(self) -> dict[str, Any]:
        """The compact key/value report (a cluster: node name -> dict)."""
    def components(self) -> list[tuple[str, str, float]]:
        """``[(component, group, bytes)]``: the node's RSS, partitioned (residual included)."""
    def to_dict(self) -> dict[str, Any]:
        """The decomposition as plain Python data (bytes throughout)."""
    def to_json(self) -> str:
        """The decomposition as the core's JSON text."""
    def snapshot_json(self) -> str:
        """The snapshot itself as normalised v1 JSON."""
    def to_pandas(self) -> Any:
        """A pandas DataFrame of the components (a cluster: one row per node); needs pandas."""
    def plot(self, path: _Path, *, title: Union[str, None] = None) -> _Path:
        """Writes a PNG (stacked components + residual; per-connection distribution); needs matplotlib.

        ``MemacctIoError`` (see there) if the file cannot be written.
        """
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...
    @staticmethod
    def _from_pickle(data: Union[str, _BytesLike], ci_method: _CiMethod) -> Snapshot: ...

def load_snapshot(path: _Path, *, ci_method: _CiMethod = "student_t") -> Snapshot:
    """Loads and decomposes a node or cluster snapshot file (``BadSnapshotError``).

    ``MemacctIoError`` if it cannot be read (see there: also the ``OSError`` subclass
    of its ``errno``, e.g. ``FileNotFoundError``, ``filename`` set).
    """

def aggregate(items: Iterable[Union[Snapshot, Mapping[str, Any]]]) -> dict[str, Any]:
    """min/max/mean/p50/p95/p99 of every figure over many decompositions (Snapshots or ``to_dict()`` dicts)."""

def trend(
    items: Iterable[Union[Snapshot, Mapping[str, Any]]],
    *,
    min_points: int = 5,
    min_span_hours: float = 0.25,
    min_r_squared: float = 0.8,
    min_growth_pct_per_hour: float = 1.0,
) -> dict[str, Any]:
    """Growth per hour of RSS and per-connection total over one node's snapshots, and a leak flag."""

# --- errors ------------------------------------------------------------------------------

class MemacctError(ValueError):
    """Base class of every memacct error; ``code`` is the core's error code.

    ``MemacctError.code`` itself is ``"memacct_error"`` (no core error's code).
    """

    code: str

class TruncatedError(MemacctError):
    """The input ended before the term did."""

class BadVersionError(MemacctError):
    """The first byte is not the ETF version byte 131."""

class EmptyInputError(MemacctError):
    """The input is empty."""

class UnknownTagError(MemacctError):
    """A tag byte that no term encoding uses."""

class LengthTooLargeError(MemacctError):
    """A declared length exceeds what the input can hold."""

class TooDeepError(MemacctError):
    """The term nests deeper than ``max_depth``."""

class InflateLimitError(MemacctError):
    """A compressed term inflates beyond ``inflate_limit``, or a blob decodes to more than ``max_output``."""

class BadCompressionError(MemacctError):
    """The zlib stream of a compressed term is corrupt."""

class AtomCacheRefError(MemacctError):
    """ATOM_CACHE_REF outside a distribution header."""

class InvalidValueError(MemacctError):
    """A field holds a value the VM rejects."""

class DuplicateMapKeyError(MemacctError):
    """A map holds the same key twice."""

class NeedsVmError(MemacctError):
    """A map with more than 32 keys needs VM state that was not supplied (``atom_words``)."""

class UnsupportedError(MemacctError):
    """A valid term shape that this version cannot size exactly."""

class BadBlobError(MemacctError):
    """The input is not a well-formed memacct blob (magic, header, flags or structure)."""

class BlobVersionError(MemacctError):
    """The blob was written in a format version this build does not read."""

class DictionaryRequiredError(MemacctError):
    """The blob was made with a dictionary and none was given."""

class DictionaryMismatchError(MemacctError):
    """The blob was made with another dictionary than the one given."""

class ChecksumMismatchError(MemacctError):
    """The decoded term does not match the blob's checksum or length: the blob is corrupt."""

class CodecError(MemacctError):
    """The entropy (zstd) stage failed: the blob's payload is corrupt."""

class BadDictionaryError(MemacctError):
    """The bytes are not a well-formed memacct dictionary (or there was nothing to train on)."""

class InvalidOptionError(MemacctError):
    """An option is outside its range (``level``, ``max_bytes``, ...)."""

class PoolExhaustedError(MemacctError):
    """A state pool is full and rejects the write (backpressure), or nothing could be evicted."""

class StaleHandleError(MemacctError):
    """A pool handle that no longer names a live entry (released, evicted, expired or reclaimed)."""

class BadCheckpointError(MemacctError):
    """A pool checkpoint file is malformed, truncated or corrupt."""

class MemacctIoError(OSError, MemacctError):
    """An operating-system I/O call on a file failed: every file memacct reads or writes
    (snapshots, dictionaries, pool checkpoints, plots) fails with one.

    Also an ``OSError``. When the OS reported an error number, ``errno``, ``strerror`` and
    ``filename`` (the path given) are set, and the error is also the builtin subclass
    Python raises for that number: ``FileNotFoundError``, ``PermissionError``,
    ``IsADirectoryError``, ``NotADirectoryError`` or ``FileExistsError`` (any other
    number: a plain ``MemacctIoError``). So ``except FileNotFoundError`` and
    ``except memacct.MemacctError`` (``code == "io"``) both catch a missing file.
    """

class BadSnapshotError(MemacctError):
    """A memory snapshot is not valid JSON, lacks a required field, holds a value of the
    wrong type or range, names another format or version, or is internally impossible."""
