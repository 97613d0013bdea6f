"""Type stubs of memacct's native module (``memacct._memacct``)."""

import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, Union, final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer as _Buffer
else:
    from typing_extensions import Buffer as _Buffer

from typing_extensions import TypeAlias

_BytesLike: TypeAlias = _Buffer
"""Any object with the buffer protocol: bytes (read in place), bytearray, memoryview, ... (copied)."""

__all__ = [
    "__version__",
    "KINDS",
    "WORD_BYTES",
    "flat_size",
    "term_size",
    "TermSize",
    "FieldSize",
    "Sizer",
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
]

__version__: Final[str]
KINDS: Final[tuple[str, ...]]
"""Names of the kinds of heap object, in report order (the keys of ``TermSize.by_kind``)."""
WORD_BYTES: Final[int]
"""Bytes per heap word on the target VM (8)."""

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
    """Heap words of the term in ``etf`` (``erts_debug:flat_size/1`` on OTP 25, 64-bit)."""

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

class MemacctError(ValueError):
    """Base class of every memacct error; ``code`` is the core's error code."""

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
    """A compressed term inflates beyond ``inflate_limit`` (or its declared size)."""

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
