"""memacct against the sizes a real BEAM reported (tests/vectors/, shared by every surface)."""

from __future__ import annotations

from pathlib import Path

import pytest

import memacct
from _vectors import VECTORS, read_errors, read_sizes, size_files

ERROR_CLASSES = {
    cls.code: cls
    for cls in vars(memacct).values()
    if isinstance(cls, type) and issubclass(cls, memacct.MemacctError) and cls is not memacct.MemacctError
}


def test_vector_files_exist() -> None:
    assert len(size_files()) >= 1, f"no sizes-*.txt in {VECTORS}"
    assert (VECTORS / "errors.txt").is_file()


@pytest.mark.parametrize("path", size_files(), ids=lambda p: p.name)
def test_sizes(path: Path) -> None:
    vf = read_sizes(path)
    assert vf.sizes, f"{path.name} has no records"
    assert vf.local_node is not None, f"{path.name} has no local_node line"
    sizer = memacct.Sizer(local_node=vf.local_node, atom_words=vf.atom_words)
    bad = []
    for i, rec in enumerate(vf.sizes):
        try:
            ts = sizer.term_size(rec.etf)
            flat = sizer.flat_size(rec.etf)
            if i % 50 == 0:  # the module functions convert the atom table on every call
                node, atoms = vf.local_node, vf.atom_words
                assert memacct.term_size(rec.etf, local_node=node, atom_words=atoms) == ts
                assert memacct.flat_size(rec.etf, local_node=node, atom_words=atoms) == flat
        except memacct.MemacctError as e:
            bad.append(f"line {rec.line}: {type(e).__name__}({e})")
            continue
        got = (flat, ts.words, ts.off_heap_bytes)
        want = (rec.words, rec.words, rec.off_heap_bytes)
        if got != want:
            bad.append(f"line {rec.line}: (flat, words, off_heap) = {got}, VM says {want}")
        # Report invariants, on every record.
        if sum(ts.by_kind.values()) != ts.words or ts.bytes != memacct.WORD_BYTES * ts.words:
            bad.append(f"line {rec.line}: inconsistent report {ts!r}")
        if ts.nodes < 1 or ts.max_depth < 1 or (ts.off_heap_bytes > 0) != (ts.refc_binaries > 0):
            bad.append(f"line {rec.line}: implausible report {ts!r}")
    assert not bad, f"{len(bad)} of {len(vf.sizes)} records of {path.name} wrong:\n" + "\n".join(bad[:20])


@pytest.mark.parametrize("path", size_files(), ids=lambda p: p.name)
def test_atom_words_are_needed_only_for_big_maps(path: Path) -> None:
    """Without the atom table, a record either sizes the same or raises NeedsVmError."""
    vf = read_sizes(path)
    needs_vm = 0
    for rec in vf.sizes:
        try:
            words = memacct.flat_size(rec.etf, local_node=vf.local_node)
        except memacct.NeedsVmError as e:
            assert e.code == "needs_vm"
            needs_vm += 1
        else:
            assert words == rec.words, f"line {rec.line}"
    if vf.atom_words:
        assert needs_vm > 0, "atom lines present but no record needs them"


ERRORS = read_errors(VECTORS / "errors.txt") if (VECTORS / "errors.txt").is_file() else None


@pytest.mark.parametrize(
    ("line", "code", "data"),
    ERRORS.errors if ERRORS else [],
    ids=[f"{code}@{line}" for line, code, _ in (ERRORS.errors if ERRORS else [])],
)
def test_errors(line: int, code: str, data: bytes) -> None:
    assert ERRORS is not None
    cls = ERROR_CLASSES.get(code)
    assert cls is not None, f"no exception class for core code {code!r}"
    for fn in (memacct.flat_size, memacct.term_size):
        with pytest.raises(cls) as info:
            fn(data, local_node=ERRORS.local_node)
        assert type(info.value) is cls
        assert info.value.code == code
        assert isinstance(info.value, ValueError)
        assert str(info.value)


def test_error_vectors_cover_many_codes() -> None:
    assert ERRORS is not None and len(ERRORS.errors) > 0
    assert len({code for _, code, _ in ERRORS.errors}) >= 10
