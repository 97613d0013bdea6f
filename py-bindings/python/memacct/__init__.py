"""memacct: exact BEAM (Erlang/OTP) term sizing from External Term Format bytes.

``flat_size(etf)`` returns the heap words ``erts_debug:flat_size/1`` reports for
``binary_to_term(etf)`` on the target VM (Erlang/OTP 25, 64-bit);
``term_size(etf)`` returns the full report (``TermSize``): bytes, off-heap refc
binary bytes, a per-kind breakdown, node count, depth and per-field sizes.
A ``Sizer`` holds the options (local node, atom table, limits) for sizing many
terms alike.

Every algorithm lives in the Rust core ``memacct-core``; this package is a thin
binding. Sizing releases the GIL, so threads can size in parallel. Invalid or
unsupported input raises a subclass of ``MemacctError`` (itself a
``ValueError``) whose ``code`` is the core's stable error code.

>>> import memacct
>>> etf = bytes([131, 104, 2, 119, 2, 111, 107, 109, 0, 0, 0, 3, 97, 98, 99])  # {ok, <<"abc">>}
>>> memacct.flat_size(etf)
6
"""

from ._memacct import (
    KINDS as KINDS,
    WORD_BYTES as WORD_BYTES,
    AtomCacheRefError as AtomCacheRefError,
    BadCompressionError as BadCompressionError,
    BadVersionError as BadVersionError,
    DuplicateMapKeyError as DuplicateMapKeyError,
    EmptyInputError as EmptyInputError,
    FieldSize as FieldSize,
    InflateLimitError as InflateLimitError,
    InvalidValueError as InvalidValueError,
    LengthTooLargeError as LengthTooLargeError,
    MemacctError as MemacctError,
    NeedsVmError as NeedsVmError,
    Sizer as Sizer,
    TermSize as TermSize,
    TooDeepError as TooDeepError,
    TruncatedError as TruncatedError,
    UnknownTagError as UnknownTagError,
    UnsupportedError as UnsupportedError,
    __version__ as __version__,
    flat_size as flat_size,
    term_size as term_size,
)

__all__ = [
    "KINDS",
    "WORD_BYTES",
    "AtomCacheRefError",
    "BadCompressionError",
    "BadVersionError",
    "DuplicateMapKeyError",
    "EmptyInputError",
    "FieldSize",
    "InflateLimitError",
    "InvalidValueError",
    "LengthTooLargeError",
    "MemacctError",
    "NeedsVmError",
    "Sizer",
    "TermSize",
    "TooDeepError",
    "TruncatedError",
    "UnknownTagError",
    "UnsupportedError",
    "__version__",
    "flat_size",
    "term_size",
]
