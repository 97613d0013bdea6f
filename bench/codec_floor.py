#!/usr/bin/env python3
"""How small can one connection state get without a dictionary? An analysis,
not part of `make bench`.

Reads the states `make bench` writes (target/bench-corpus/states.etfs: each a
4-byte big-endian length and the ETF) and prints, per state on average, the
bytes of:

- the ETF through general coders: zlib -6 (what `term_to_binary(T,
  [compressed])` uses), LZMA2 -9e (xz's coder, raw), and when installed zstd -19 and brotli -11
  (whose built-in dictionary is generic web text, not ours);
- the same ETF split into streams (each atom and binary kept once, later
  uses as back-references; tags, lengths, integers and raw words apart), to
  separate the vocabulary a state must carry from its structure: the
  "strings" stream is the text no lossless coder can leave out.

    python3 bench/codec_floor.py [N]      # first N states, default 300
    pip install zstandard brotli          # optional, for those two coders

BENCHMARKS.md ("What limits these ratios") quotes its figures.
"""
from __future__ import annotations

import lzma
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "target" / "bench-corpus" / "states.etfs"


def read_states(path: Path) -> list[bytes]:
    data = path.read_bytes()
    states, at = [], 0
    while at + 4 <= len(data):
        (n,) = struct.unpack_from(">I", data, at)
        states.append(data[at + 4 : at + 4 + n])
        at += 4 + n
    return states


def varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def zigzag(n: int) -> int:
    return n << 1 if n >= 0 else ((-n) << 1) - 1


class Streams:
    """One state's ETF split into streams; `term` walks one term."""

    NAMES = ("tags", "lengths", "integers", "backrefs", "raw", "strings")

    def __init__(self) -> None:
        for name in self.NAMES:
            setattr(self, name, bytearray())
        self.seen: dict[tuple[int, bytes], int] = {}

    def string(self, kind: int, text: bytes) -> None:
        key = (kind, text)
        if key in self.seen:
            self.tags.append(0)
            varint(self.backrefs, len(self.seen) - 1 - self.seen[key])
        else:
            self.seen[key] = len(self.seen)
            self.tags.append(kind)
            varint(self.lengths, len(text))
            self.strings += text

    def term(self, b: bytes, i: int) -> int:
        tag = b[i]
        i += 1
        if tag == 97:  # SMALL_INTEGER
            self.tags.append(tag)
            varint(self.integers, b[i])
            return i + 1
        if tag == 98:  # INTEGER
            self.tags.append(tag)
            varint(self.integers, zigzag(struct.unpack_from(">i", b, i)[0]))
            return i + 4
        if tag == 70:  # NEW_FLOAT
            self.tags.append(tag)
            self.raw += b[i : i + 8]
            return i + 8
        if tag in (100, 118):  # ATOM, ATOM_UTF8
            (n,) = struct.unpack_from(">H", b, i)
            self.string(118, b[i + 2 : i + 2 + n])
            return i + 2 + n
        if tag in (115, 119):  # SMALL_ATOM, SMALL_ATOM_UTF8
            n = b[i]
            self.string(118, b[i + 1 : i + 1 + n])
            return i + 1 + n
        if tag == 107:  # STRING
            (n,) = struct.unpack_from(">H", b, i)
            self.string(107, b[i + 2 : i + 2 + n])
            return i + 2 + n
        if tag == 109:  # BINARY
            (n,) = struct.unpack_from(">I", b, i)
            self.string(109, b[i + 4 : i + 4 + n])
            return i + 4 + n
        if tag == 106:  # NIL
            self.tags.append(tag)
            return i
        if tag in (110, 111):  # SMALL_BIG, LARGE_BIG
            n = b[i] if tag == 110 else struct.unpack_from(">I", b, i)[0]
            i += 1 if tag == 110 else 4
            self.tags.append(tag)
            varint(self.lengths, n)
            self.raw += b[i : i + 1 + n]
            return i + 1 + n
        if tag == 90:  # NEWER_REFERENCE
            (n,) = struct.unpack_from(">H", b, i)
            self.tags.append(tag)
            varint(self.lengths, n)
            i = self.term(b, i + 2)
            self.raw += b[i : i + 4 + 4 * n]
            return i + 4 + 4 * n
        if tag == 88:  # NEW_PID
            self.tags.append(tag)
            i = self.term(b, i)
            self.raw += b[i : i + 12]
            return i + 12
        if tag in (104, 105, 108, 116):  # tuples, list, map
            if tag == 104:
                n, i = b[i], i + 1
            else:
                (n,) = struct.unpack_from(">I", b, i)
                i += 4
            self.tags.append(tag)
            varint(self.lengths, n)
            count = {104: n, 105: n, 108: n + 1, 116: 2 * n}[tag]
            for _ in range(count):
                i = self.term(b, i)
            return i
        raise ValueError(f"ETF tag {tag} is not handled by this analysis")


# xz -9e's coder without the .xz container (~60 bytes of headers per blob);
# a 64 KiB window holds any of these states.
LZMA2 = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 16}]


def coders() -> dict[str, callable]:
    found = {
        "zlib -6": lambda b: zlib.compress(b, 6),
        "lzma2 -9e": lambda b: lzma.compress(b, format=lzma.FORMAT_RAW, filters=LZMA2),
    }
    try:
        import zstandard

        zstd = zstandard.ZstdCompressor(level=19)
        found["zstd -19"] = zstd.compress
    except ImportError:
        pass
    try:
        import brotli

        found["brotli -11"] = lambda b: brotli.compress(b, quality=11)
    except ImportError:
        pass
    return found


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    states = read_states(CORPUS)[:n]
    if not states:
        sys.exit(f"no states in {CORPUS}: run `make bench` first")
    use = coders()
    etf = {name: 0 for name in use}
    split = {name: {s: 0 for s in Streams.NAMES} for name in use}
    raw = {s: 0 for s in Streams.NAMES}
    for state in states:
        streams = Streams()
        if streams.term(state, 1) != len(state):
            sys.exit("a state did not parse to its end")
        for name, coder in use.items():
            etf[name] += len(coder(state))
            for s in Streams.NAMES:
                data = bytes(getattr(streams, s))
                split[name][s] += len(coder(data)) if data else 0
        for s in Streams.NAMES:
            raw[s] += len(getattr(streams, s))
    base = etf["zlib -6"] / len(states)
    mean_etf = sum(map(len, states)) / len(states)
    print(f"{len(states)} states, ETF {mean_etf:.0f} B, zlib -6 {base:.0f} B (= 1.00)")
    print("\nwhole ETF per coder:")
    for name, total in etf.items():
        print(f"  {name:11} {total / len(states):7.0f} B  {total / len(states) / base:.2f}x")
    print("\nsplit into streams (raw bytes, then per coder, each stream alone):")
    print(f"  {'stream':9} {'raw':>6} " + " ".join(f"{c:>11}" for c in use))
    for s in Streams.NAMES:
        cells = " ".join(f"{split[c][s] / len(states):11.0f}" for c in use)
        print(f"  {s:9} {raw[s] / len(states):6.0f} {cells}")
    for c in use:
        text = split[c]["strings"] / len(states)
        rest = sum(v for k, v in split[c].items() if k != "strings") / len(states)
        print(f"  {c}: strings alone {text:.0f} B ({text / base:.2f}x zlib), "
              f"everything else {rest:.0f} B ({rest / base:.2f}x)")


if __name__ == "__main__":
    main()
