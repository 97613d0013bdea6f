"""A tiny ETF encoder for hand-written test terms (just enough for the tests)."""

from __future__ import annotations

import struct
import zlib


def etf(body: bytes) -> bytes:
    return b"\x83" + body


def compressed(body: bytes) -> bytes:
    return b"\x83P" + struct.pack(">I", len(body)) + zlib.compress(body)


def atom(name: str) -> bytes:
    data = name.encode("utf-8")
    return b"w" + bytes([len(data)]) + data


def small(n: int) -> bytes:
    return b"a" + bytes([n])


def flt(x: float) -> bytes:
    return b"F" + struct.pack(">d", x)


def big(n: int) -> bytes:
    sign = 1 if n < 0 else 0
    mag = abs(n).to_bytes((abs(n).bit_length() + 7) // 8, "little")
    return b"n" + bytes([len(mag), sign]) + mag


def tup(*elems: bytes) -> bytes:
    return b"h" + bytes([len(elems)]) + b"".join(elems)


def lst(*elems: bytes, tail: bytes = b"j") -> bytes:
    return b"l" + struct.pack(">I", len(elems)) + b"".join(elems) + tail


NIL = b"j"


def string(data: bytes) -> bytes:
    return b"k" + struct.pack(">H", len(data)) + data


def binary(data: bytes) -> bytes:
    return b"m" + struct.pack(">I", len(data)) + data


def bits(data: bytes, last_bits: int) -> bytes:
    return b"M" + struct.pack(">I", len(data)) + bytes([last_bits]) + data


def mapping(*pairs: tuple[bytes, bytes]) -> bytes:
    return b"t" + struct.pack(">I", len(pairs)) + b"".join(k + v for k, v in pairs)


def pid(node: str, num: int = 1, serial: int = 0, creation: int = 0) -> bytes:
    return b"X" + atom(node) + struct.pack(">III", num, serial, creation)


def ref(node: str, ids: tuple[int, ...] = (1, 2, 3), creation: int = 0) -> bytes:
    return b"Z" + struct.pack(">H", len(ids)) + atom(node) + struct.pack(">I", creation) + b"".join(
        struct.pack(">I", i) for i in ids
    )


def nested_tuples(depth: int) -> bytes:
    """``{{...{a}...}}`` with ``depth`` tuples."""
    return b"h\x01" * depth + atom("a")
