"""Property tests: hostile input is an error (a MemacctError subclass), never a crash or a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memacct
from _vectors import read_sizes, size_files

SAMPLES = [rec.etf for rec in read_sizes(size_files()[0]).sizes[::25]] if size_files() else []
SETTINGS = settings(max_examples=500, deadline=1000, database=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes) -> None:
    try:
        ts = memacct.term_size(data, max_depth=10_000, inflate_limit=1 << 22)
    except memacct.MemacctError as e:
        assert type(e) is not memacct.MemacctError, "unmapped core error code"
        assert isinstance(e.code, str) and e.code == type(e).code
        assert str(e)
    else:
        assert sum(ts.by_kind.values()) == ts.words
        assert ts.bytes == 8 * ts.words
        assert memacct.flat_size(data, max_depth=10_000, inflate_limit=1 << 22) == ts.words


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    check(data)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_after_version(data: bytes) -> None:
    check(b"\x83" + data)


@SETTINGS
@given(st.sampled_from(b"ahlmntwkFMnoPXYZdefgrsuqvMpQRS"), st.binary(max_size=120))
def test_random_body_after_tag(tag: int, data: bytes) -> None:
    check(bytes([131, tag]) + data)


@SETTINGS
@given(st.data())
def test_mutated_vectors(data: st.DataObject) -> None:
    if not SAMPLES:
        return
    blob = bytearray(data.draw(st.sampled_from(SAMPLES)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    check(bytes(blob[:cut]) if data.draw(st.booleans()) else bytes(blob))
