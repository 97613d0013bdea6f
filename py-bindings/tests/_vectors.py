"""Readers of the shared cross-language vectors in ``tests/vectors/`` (see its README)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


@dataclass
class SizeRecord:
    line: int
    words: int
    off_heap_bytes: int
    etf: bytes


@dataclass
class VectorFile:
    path: Path
    local_node: Optional[Tuple[str, int]] = None
    atom_words: Dict[str, int] = field(default_factory=dict)
    sizes: List[SizeRecord] = field(default_factory=list)
    errors: List[Tuple[int, str, bytes]] = field(default_factory=list)


def _header(vf: VectorFile, text: str) -> None:
    # Split on single spaces: "# atom 331 " has an empty hex name (the atom '').
    parts = text.split(" ")
    if parts[:2] == ["#", "local_node"]:
        vf.local_node = (parts[2], int(parts[3]))
    elif parts[:2] == ["#", "atom"]:
        vf.atom_words[bytes.fromhex(parts[3] if len(parts) > 3 else "").decode("utf-8")] = int(
            parts[2]
        )


def read_sizes(path: Path) -> VectorFile:
    vf = VectorFile(path)
    for n, raw in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if raw.startswith("#"):
            _header(vf, raw)
        elif raw.strip():
            words, off_heap, hexetf = raw.split(" ")
            vf.sizes.append(SizeRecord(n, int(words), int(off_heap), bytes.fromhex(hexetf)))
    return vf


def read_errors(path: Path) -> VectorFile:
    vf = VectorFile(path)
    for n, raw in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if raw.startswith("#"):
            _header(vf, raw)
        elif raw.strip():
            code, _, hexinput = raw.partition(" ")
            vf.errors.append((n, code, bytes.fromhex(hexinput)))
    return vf


def size_files() -> List[Path]:
    return sorted(VECTORS.glob("sizes-*.txt"))


# --- codec/ ------------------------------------------------------------------------------

CODEC = VECTORS / "codec"


@dataclass
class CodecRecord:
    """One line of ``codec/blobs.txt``: ``ok`` (``etf`` set) or ``error`` (``code`` set)."""

    line: int
    kind: str
    name: str
    dictionary: Optional[str]
    blob: bytes
    etf: bytes = b""
    code: str = ""


@dataclass
class CodecBlobs:
    dictionary_ids: Dict[str, int] = field(default_factory=dict)
    records: List[CodecRecord] = field(default_factory=list)


def read_codec_blobs(path: Path = CODEC / "blobs.txt") -> CodecBlobs:
    cb = CodecBlobs()
    for n, raw in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if raw.startswith("#"):
            parts = raw.split()
            if parts[:2] == ["#", "dictionary"]:
                cb.dictionary_ids[parts[2]] = int(parts[3], 16)
            continue
        if not raw.strip():
            continue
        # Split on single spaces: the blob of `error empty` is the empty string.
        kind, name, dictionary, field3, hexblob = raw.split(" ")
        dict_name = None if dictionary == "-" else dictionary
        if kind == "ok":
            rec = CodecRecord(n, kind, name, dict_name, bytes.fromhex(hexblob), etf=bytes.fromhex(field3))
        elif kind == "error":
            rec = CodecRecord(n, kind, name, dict_name, bytes.fromhex(hexblob), code=field3)
        else:
            raise ValueError(f"{path.name}:{n}: unknown record kind {kind!r}")
        cb.records.append(rec)
    return cb


def read_codec_samples(path: Path = CODEC / "samples.txt") -> Tuple[List[bytes], List[Tuple[str, bytes]]]:
    """(``train`` ETFs, ``case`` (name, ETF) pairs) of ``codec/samples.txt``."""
    train: List[bytes] = []
    cases: List[Tuple[str, bytes]] = []
    for raw in path.read_text(encoding="ascii").splitlines():
        parts = raw.split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0] == "train":
            train.append(bytes.fromhex(parts[1]))
        elif parts[0] == "case":
            cases.append((parts[1], bytes.fromhex(parts[2])))
    return train, cases
