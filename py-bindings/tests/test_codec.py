"""Compact state: compress / decompress / blob_info / Dictionary.

Golden blobs from tests/vectors/codec/ (shared by every surface), round-trip
properties, hostile blobs, dictionaries on disk, threads.
"""

from __future__ import annotations

import array
import copy
import errno
import json
import os
import pickle
import random
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memacct
from _stall import largest_stall_during
from _etf import (
    NIL,
    atom,
    big,
    binary,
    bits,
    compressed,
    etf,
    flt,
    lst,
    mapping,
    pid,
    ref,
    small,
    string,
    tup,
)
from _vectors import CODEC, CodecRecord, read_codec_blobs, read_codec_samples

# The recursive term strategy's repr (which hypothesis builds for reports) is large; harmless.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

BLOBS = read_codec_blobs()
TRAIN, CASES = read_codec_samples()
DICTS: Dict[str, memacct.Dictionary] = {
    name: memacct.Dictionary.load(CODEC / f"{name}.dict") for name in BLOBS.dictionary_ids
}
MCP = DICTS["mcp"]
OTHER = DICTS["other"]
# Format 1's golden vectors, frozen when format 2 became the default.
BLOBS_V1 = read_codec_blobs(CODEC / "v1" / "blobs.txt")
DICTS_V1: Dict[str, memacct.Dictionary] = {
    name: memacct.Dictionary.load(CODEC / "v1" / f"{name}.dict") for name in BLOBS_V1.dictionary_ids
}

ERROR_CLASSES = {
    cls.code: cls
    for cls in vars(memacct).values()
    if isinstance(cls, type) and issubclass(cls, memacct.MemacctError) and cls is not memacct.MemacctError
}

CODEC_ERRORS = {
    "bad_blob": memacct.BadBlobError,
    "blob_version": memacct.BlobVersionError,
    "dictionary_required": memacct.DictionaryRequiredError,
    "dictionary_mismatch": memacct.DictionaryMismatchError,
    "checksum_mismatch": memacct.ChecksumMismatchError,
    "codec": memacct.CodecError,
    "bad_dictionary": memacct.BadDictionaryError,
    "invalid_option": memacct.InvalidOptionError,
}

OK_ABC = etf(tup(atom("ok"), binary(b"abc")))  # {ok, <<"abc">>}
STATE = dict(CASES)["state_101"]


def inflated(data: bytes) -> bytes:
    """The uncompressed ETF of ``data`` (itself if it is not ``[compressed]`` ETF)."""
    if data[1:2] == b"P":
        return b"\x83" + zlib.decompress(data[6:])
    return data


def dict_of(rec: CodecRecord) -> Optional[memacct.Dictionary]:
    return None if rec.dictionary is None else DICTS[rec.dictionary]


def expect_memacct_error(call: Callable[[], Any]) -> memacct.MemacctError:
    """Runs ``call``, which must raise a specific MemacctError subclass with its code set."""
    with pytest.raises(memacct.MemacctError) as info:
        call()
    e = info.value
    assert type(e) is not memacct.MemacctError, "unmapped core error code"
    assert e.code == type(e).code and str(e)
    return e


# --- error classes -----------------------------------------------------------------------


def test_codec_error_classes() -> None:
    for code, cls in CODEC_ERRORS.items():
        assert cls.code == code and ERROR_CLASSES[code] is cls
        assert issubclass(cls, memacct.MemacctError) and issubclass(cls, ValueError)
        assert cls.__module__ == "memacct" and cls.__doc__
    assert issubclass(memacct.InvalidOptionError, ValueError)


# --- golden vectors ----------------------------------------------------------------------


def test_vector_files() -> None:
    assert BLOBS.dictionary_ids.keys() == {"mcp", "other"}
    kinds = {r.kind for r in BLOBS.records}
    assert kinds == {"ok", "error"}
    assert sum(r.kind == "ok" for r in BLOBS.records) >= 40
    assert len(TRAIN) == 48 and len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(BLOBS.dictionary_ids))
def test_dictionaries_load_with_header_ids(name: str) -> None:
    path = CODEC / f"{name}.dict"
    d = memacct.Dictionary.load(path)
    assert d.id == BLOBS.dictionary_ids[name]
    assert memacct.Dictionary.load(str(path)) == d
    raw = path.read_bytes()
    assert memacct.Dictionary.from_bytes(raw) == d
    assert d.to_bytes() == raw  # serialization is canonical


def test_training_reproduces_mcp_dictionary() -> None:
    """codec/README: mcp.dict is the train states at the default size."""
    assert memacct.DEFAULT_DICTIONARY_BYTES == 32 * 1024
    assert memacct.Dictionary.train(TRAIN) == MCP


OK_RECORDS = [r for r in BLOBS.records if r.kind == "ok"]
ERROR_RECORDS = [r for r in BLOBS.records if r.kind == "error"]


@pytest.mark.parametrize("rec", OK_RECORDS, ids=[f"{r.name}-{r.dictionary or 'nodict'}" for r in OK_RECORDS])
def test_golden_ok(rec: CodecRecord) -> None:
    d = dict_of(rec)
    assert memacct.decompress(rec.blob, dictionary=d) == rec.etf
    info = memacct.blob_info(rec.blob)
    assert info.version == memacct.BLOB_VERSION == 2
    assert info.dictionary_id == (0 if d is None else d.id)
    assert info.etf_len == len(rec.etf)
    assert info.blob_len == len(rec.blob)
    assert info.input_was_compressed == (rec.name == "compressed_input")
    # This build's own blobs of the same term decode to it too.
    assert memacct.decompress(memacct.compress(rec.etf, dictionary=d), dictionary=d) == rec.etf


V1_OK = [r for r in BLOBS_V1.records if r.kind == "ok"]
V1_ERRORS = [r for r in BLOBS_V1.records if r.kind == "error"]


@pytest.mark.parametrize("rec", V1_OK, ids=[f"{r.name}-{r.dictionary or 'nodict'}" for r in V1_OK])
def test_golden_format_1_ok(rec: CodecRecord) -> None:
    d = None if rec.dictionary is None else DICTS_V1[rec.dictionary]
    assert memacct.decompress(rec.blob, dictionary=d) == rec.etf
    assert memacct.blob_info(rec.blob).version == 1
    assert d is None or d.id == BLOBS_V1.dictionary_ids[rec.dictionary or ""]


@pytest.mark.parametrize("rec", V1_ERRORS, ids=[r.name for r in V1_ERRORS])
def test_golden_format_1_error(rec: CodecRecord) -> None:
    d = None if rec.dictionary is None else DICTS_V1[rec.dictionary]
    with pytest.raises(ERROR_CLASSES[rec.code]):
        memacct.decompress(rec.blob, dictionary=d)


def test_golden_format_1_is_all_there() -> None:
    assert len(V1_OK) >= 40 and len(V1_ERRORS) >= 10


def test_format_option_writes_either_format_and_refuses_others() -> None:
    etf = bytes([131, 104, 2, 119, 2, 111, 107, 109, 0, 0, 0, 3, 97, 98, 99])
    for fmt in (1, 2):
        blob = memacct.compress(etf, format=fmt)
        assert memacct.blob_info(blob).version == fmt
        assert memacct.decompress(blob) == etf
    for fmt in (0, 3):
        with pytest.raises(memacct.InvalidOptionError, match="format"):
            memacct.compress(etf, format=fmt)


@pytest.mark.parametrize("rec", ERROR_RECORDS, ids=[r.name for r in ERROR_RECORDS])
def test_golden_error(rec: CodecRecord) -> None:
    cls = ERROR_CLASSES[rec.code]
    with pytest.raises(cls) as info:
        memacct.decompress(rec.blob, dictionary=dict_of(rec))
    assert type(info.value) is cls and info.value.code == rec.code


def test_golden_error_codes_are_mapped() -> None:
    assert {r.code for r in ERROR_RECORDS} <= set(ERROR_CLASSES)


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dictionary", [None, "mcp"])
def test_samples_round_trip(name: str, data: bytes, dictionary: Optional[str]) -> None:
    d = None if dictionary is None else DICTS[dictionary]
    blob = memacct.compress(data, dictionary=d)
    want = inflated(data)
    assert memacct.decompress(blob, dictionary=d) == want
    info = memacct.blob_info(blob)
    assert (info.etf_len, info.blob_len) == (len(want), len(blob))
    assert info.input_was_compressed == (data != want)
    assert info.dictionary_id == (0 if d is None else d.id)
    # As [compressed] ETF input: decodes to the inflated ETF.
    zblob = memacct.compress(compressed(want[1:]), dictionary=d)
    assert memacct.decompress(zblob, dictionary=d) == want
    assert memacct.blob_info(zblob).input_was_compressed


def test_dictionary_shrinks_states() -> None:
    """On MCP states: with the trained dictionary, under half of term_to_binary(T, [compressed]);
    without one, about its size (measured: 1-3% above)."""
    states = [data for name, data in CASES if name.startswith("state_")]
    plain = sum(len(memacct.compress(s)) for s in states)
    with_dict = sum(len(memacct.compress(s, dictionary=MCP)) for s in states)
    zlib_size = sum(len(zlib.compress(s[1:], 6)) + 6 for s in states)
    assert 2 * with_dict < zlib_size
    assert plain < 1.1 * zlib_size


def test_levels() -> None:
    for level in (1, 3, 9, 19, 22):
        blob = memacct.compress(STATE, level=level)
        assert memacct.decompress(blob) == STATE


# A strategy for ETF terms built with the test encoder (one encoding per value, so
# generated map keys are distinct terms).
_leaf = st.one_of(
    st.integers(0, 255).map(small),
    st.integers(-(2**31), 2**31 - 1).map(lambda n: b"b" + struct.pack(">i", n)),
    st.integers(2**31, 2**200).map(big),
    st.integers(-(2**200), -(2**31) - 1).map(big),
    st.floats(allow_nan=False, allow_infinity=False).map(flt),
    st.text(max_size=12).map(atom),
    st.sampled_from(["ok", "error", "id", "tools", "nonode@nohost"]).map(atom),
    st.binary(max_size=100).map(binary),
    st.tuples(st.binary(min_size=1, max_size=9), st.integers(1, 8)).map(
        lambda t: bits(t[0][:-1] + bytes([t[0][-1] & (0xFF << (8 - t[1])) & 0xFF]), t[1])
    ),
    st.binary(min_size=1, max_size=40).map(string),
    st.just(NIL),
    st.tuples(st.sampled_from(["a@h", "nonode@nohost"]), st.integers(0, 2**15 - 1)).map(
        lambda t: pid(t[0], num=t[1])
    ),
    st.sampled_from(["a@h", "nonode@nohost"]).map(ref),
)
_key = st.one_of(
    st.text(max_size=8).map(atom),
    st.integers(0, 255).map(small),
    st.binary(max_size=8).map(binary),
)


def _containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.lists(children, max_size=6).map(lambda xs: tup(*xs)),
        st.lists(children, min_size=1, max_size=6).map(lambda xs: lst(*xs)),
        st.tuples(st.lists(children, min_size=1, max_size=4), children).map(lambda t: lst(*t[0], tail=t[1])),
        st.lists(st.tuples(_key, children), max_size=6, unique_by=lambda kv: kv[0]).map(
            lambda kvs: mapping(*kvs)
        ),
        st.lists(st.tuples(_key, children), min_size=33, max_size=40, unique_by=lambda kv: kv[0]).map(
            lambda kvs: mapping(*kvs)
        ),
    )


TERMS = st.recursive(_leaf, _containers, max_leaves=60).map(etf)
PROPERTY = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(TERMS, st.sampled_from([None, "mcp", "other"]), st.integers(1, 9))
def test_round_trip_property(data: bytes, dictionary: Optional[str], level: int) -> None:
    d = None if dictionary is None else DICTS[dictionary]
    blob = memacct.compress(data, dictionary=d, level=level)
    assert memacct.decompress(blob, dictionary=d) == data
    assert memacct.blob_info(blob).etf_len == len(data)
    zblob = memacct.compress(compressed(data[1:]), dictionary=d, level=level)
    assert memacct.decompress(zblob, dictionary=d) == data


@PROPERTY
@given(TERMS)
def test_round_trip_keeps_size(data: bytes) -> None:
    """The decoded term is the same term: the sizer agrees (or fails alike)."""
    back = memacct.decompress(memacct.compress(data))
    try:
        words = memacct.flat_size(data, atom_words={})
    except memacct.NeedsVmError:
        with pytest.raises(memacct.NeedsVmError):
            memacct.flat_size(back)
    else:
        assert memacct.flat_size(back) == words


# --- inputs and options ------------------------------------------------------------------

WRAPPERS = [
    bytes,
    bytearray,
    memoryview,
    lambda b: memoryview(b"xx" + b + b"yy")[2:-2],
    lambda b: array.array("B", b),
    lambda b: memoryview(bytearray(b)).toreadonly(),
]
WRAPPER_IDS = ["bytes", "bytearray", "memoryview", "memoryview-slice", "array", "readonly-view"]


@pytest.mark.parametrize("wrap", WRAPPERS, ids=WRAPPER_IDS)
def test_bytes_like_inputs(wrap: Callable[[bytes], Any]) -> None:
    blob = memacct.compress(wrap(OK_ABC))
    assert type(blob) is bytes
    out = memacct.decompress(wrap(blob))
    assert type(out) is bytes and out == OK_ABC
    assert memacct.blob_info(wrap(blob)) == memacct.blob_info(blob)
    assert memacct.Dictionary.from_bytes(wrap(MCP.to_bytes())) == MCP
    assert memacct.Dictionary.train([wrap(t) for t in TRAIN]) == MCP


@pytest.mark.parametrize("bad", ["\x83a\x01", 5, None, [131, 97, 1], 1.5, object()])
def test_non_bytes_is_type_error(bad: object) -> None:
    calls: List[Callable[[], Any]] = [
        lambda: memacct.compress(bad),  # type: ignore[arg-type]
        lambda: memacct.decompress(bad),  # type: ignore[arg-type]
        lambda: memacct.blob_info(bad),  # type: ignore[arg-type]
        lambda: memacct.Dictionary.from_bytes(bad),  # type: ignore[arg-type]
        lambda: memacct.Dictionary.train([OK_ABC, bad]),  # type: ignore[list-item]
    ]
    for call in calls:
        with pytest.raises(TypeError) as info:
            call()
        assert not isinstance(info.value, memacct.MemacctError)
    with pytest.raises(TypeError, match="blob must be a bytes-like object"):
        memacct.decompress("x")  # type: ignore[arg-type]


def test_bad_argument_types() -> None:
    blob = memacct.compress(OK_ABC)
    for call in (
        lambda: memacct.compress(OK_ABC, dictionary=MCP.to_bytes()),  # type: ignore[arg-type]
        lambda: memacct.decompress(blob, dictionary="mcp"),  # type: ignore[arg-type]
        lambda: memacct.compress(OK_ABC, level="3"),  # type: ignore[arg-type]
        lambda: memacct.compress(OK_ABC, 3),  # type: ignore[misc]
        lambda: memacct.decompress(blob, max_output=None),  # type: ignore[arg-type]
        lambda: memacct.Dictionary.train(5),  # type: ignore[arg-type]
        lambda: memacct.Dictionary.train(OK_ABC),  # iterates ints  # type: ignore[arg-type]
        lambda: memacct.Dictionary(),  # type: ignore[call-arg]
        lambda: memacct.Dictionary.load(5),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError):
            call()


def test_invalid_etf_input() -> None:
    for data, cls in [
        (b"", memacct.EmptyInputError),
        (b"\x83", memacct.TruncatedError),
        (b"\x82a\x01", memacct.BadVersionError),
        (b"\x83\x01", memacct.UnknownTagError),
        (compressed(binary(bytes(10_000)))[:-3], memacct.BadCompressionError),
    ]:
        with pytest.raises(cls):
            memacct.compress(data)
        with pytest.raises(cls):
            memacct.Dictionary.train([OK_ABC, data])
    with pytest.raises(memacct.InvalidValueError):
        memacct.compress(OK_ABC + b"\x00")  # the codec keeps exact ETF: no trailing bytes
    with pytest.raises(memacct.InflateLimitError):
        memacct.compress(compressed(binary(bytes(10_000))), inflate_limit=1000)
    assert memacct.decompress(memacct.compress(compressed(binary(bytes(10_000))), inflate_limit=20_000))


@pytest.mark.parametrize("level", [0, -1, -5, 23, 100, 2**31 - 1])
def test_invalid_level(level: int) -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        memacct.compress(OK_ABC, level=level)
    assert info.value.code == "invalid_option" and "level" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_level_out_of_int_range() -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        memacct.compress(OK_ABC, level=2**40)
    assert "level" in str(info.value)


@pytest.mark.parametrize("max_bytes", [0, 1, 255, 16 * 1024 * 1024 + 1])
def test_invalid_max_bytes(max_bytes: int) -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        memacct.Dictionary.train(TRAIN, max_bytes=max_bytes)
    assert "max_bytes" in str(info.value)


def test_max_bytes_bounds_and_no_samples() -> None:
    d = memacct.Dictionary.train(TRAIN, max_bytes=256)
    assert len(d.to_bytes()) < len(MCP.to_bytes())
    assert memacct.decompress(memacct.compress(STATE, dictionary=d), dictionary=d) == STATE
    with pytest.raises(memacct.BadDictionaryError):
        memacct.Dictionary.train([])
    with pytest.raises(memacct.BadDictionaryError):
        memacct.Dictionary.train(iter(()))
    few = memacct.Dictionary.train([OK_ABC])  # too few for zstd's trainer: still a dictionary
    assert memacct.decompress(memacct.compress(OK_ABC, dictionary=few), dictionary=few) == OK_ABC
    gen = memacct.Dictionary.train(t for t in TRAIN)
    assert gen == MCP


def test_max_output() -> None:
    blob = memacct.compress(STATE)
    assert memacct.decompress(blob, max_output=len(STATE)) == STATE
    for limit in (0, 1, len(STATE) - 1):
        with pytest.raises(memacct.InflateLimitError) as info:
            memacct.decompress(blob, max_output=limit)
        assert info.value.code == "inflate_limit"
    with pytest.raises(memacct.InvalidOptionError) as info2:
        memacct.decompress(blob, max_output=-1)
    assert "max_output" in str(info2.value)


# --- dictionaries ------------------------------------------------------------------------


def test_wrong_or_missing_dictionary() -> None:
    blob = memacct.compress(STATE, dictionary=MCP)
    assert memacct.blob_info(blob).dictionary_id == MCP.id
    with pytest.raises(memacct.DictionaryRequiredError) as req:
        memacct.decompress(blob)
    assert f"{MCP.id:#010x}" in str(req.value)
    with pytest.raises(memacct.DictionaryMismatchError) as mis:
        memacct.decompress(blob, dictionary=OTHER)
    assert f"{MCP.id:#010x}" in str(mis.value) and f"{OTHER.id:#010x}" in str(mis.value)
    # A blob made without a dictionary does not need one (a given one is not used).
    plain = memacct.compress(STATE)
    assert memacct.decompress(plain, dictionary=OTHER) == STATE


def test_dictionary_value_semantics() -> None:
    again = memacct.Dictionary.from_bytes(MCP.to_bytes())
    assert again == MCP and again is not MCP and hash(again) == hash(MCP) == MCP.id
    assert MCP != OTHER and MCP.__eq__(b"") is NotImplemented
    assert len({MCP, again, OTHER}) == 2
    assert isinstance(MCP.id, int) and 0 < MCP.id < 2**32
    assert re.fullmatch(rf"Dictionary\(id={MCP.id:#010x}, atoms=\d+, zstd_bytes=\d+\)", repr(MCP))
    with pytest.raises(AttributeError):
        MCP.id = 1  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        MCP.extra = 1  # type: ignore[attr-defined]
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(MCP, proto)) == MCP
    assert copy.deepcopy(MCP) == MCP
    assert type(MCP.to_bytes()) is bytes
    assert memacct.Dictionary.__doc__ and memacct.Dictionary.train.__doc__


def test_dictionary_save_load(tmp_path: Path) -> None:
    path = tmp_path / "mcp.dict"
    MCP.save(path)
    assert path.read_bytes() == MCP.to_bytes()
    assert memacct.Dictionary.load(path) == MCP
    # Overwrites atomically, leaving no temporary files; str paths work too.
    OTHER.save(str(path))
    assert memacct.Dictionary.load(str(path)) == OTHER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mcp.dict"]
    # Relative paths (against the working directory).
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        MCP.save("rel.dict")
        assert memacct.Dictionary.load("rel.dict") == MCP
    finally:
        os.chdir(cwd)


def test_dictionary_save_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        memacct.Dictionary.load(tmp_path / "missing.dict")
    with pytest.raises(FileNotFoundError):
        MCP.save(tmp_path / "no" / "such" / "dir.dict")
    with pytest.raises(OSError):
        MCP.save(tmp_path)  # a directory
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    junk = tmp_path / "junk.dict"
    junk.write_bytes(b"not a dictionary")
    with pytest.raises(memacct.BadDictionaryError):
        memacct.Dictionary.load(junk)


def test_concurrent_saves(tmp_path: Path) -> None:
    path = tmp_path / "d.dict"
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: (MCP if i % 2 else OTHER).save(path), range(64)))
    assert memacct.Dictionary.load(path) in (MCP, OTHER)
    assert [p.name for p in tmp_path.iterdir()] == ["d.dict"]


def test_corrupt_dictionaries() -> None:
    raw = OTHER.to_bytes()
    for n in range(len(raw)):
        with pytest.raises(memacct.BadDictionaryError):
            memacct.Dictionary.from_bytes(raw[:n])
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            bad = bytearray(raw)
            bad[i] ^= bit
            with pytest.raises(memacct.BadDictionaryError):
                memacct.Dictionary.from_bytes(bad)
    rng = random.Random(7)
    for _ in range(500):
        expect_memacct_error(lambda: memacct.Dictionary.from_bytes(rng.randbytes(rng.randrange(0, 64))))


# --- hostile blobs -----------------------------------------------------------------------

HOSTILE_SOURCES = [
    (OK_ABC, None),
    (STATE, None),
    (STATE, "mcp"),
    (dict(CASES)["map_33"], "other"),
]


@pytest.mark.parametrize(("data", "dictionary"), HOSTILE_SOURCES, ids=["ok_abc", "state", "state-mcp", "map33-other"])
def test_truncations_and_bit_flips(data: bytes, dictionary: Optional[str]) -> None:
    d = None if dictionary is None else DICTS[dictionary]
    blob = memacct.compress(data, dictionary=d)
    for n in range(len(blob)):
        expect_memacct_error(lambda: memacct.decompress(blob[:n], dictionary=d))
    for i in range(len(blob)):
        for bit in (0x01, 0x10, 0x80):
            bad = bytearray(blob)
            bad[i] ^= bit
            try:
                out = memacct.decompress(bad, dictionary=d)
            except memacct.MemacctError as e:
                assert type(e) is not memacct.MemacctError and e.code == type(e).code
            else:
                # A flip in a bit that does not matter (a zstd frame flag): never other bytes.
                assert out == data, f"flip {bit:#x} at byte {i} decoded to different bytes"


def test_blob_info_hostile() -> None:
    blob = memacct.compress(STATE)
    for n in range(14):
        with pytest.raises(memacct.BadBlobError):
            memacct.blob_info(blob[:n])
    with pytest.raises(memacct.BlobVersionError):
        memacct.blob_info(blob[:4] + b"\x03" + blob[5:])
    with pytest.raises(memacct.BadBlobError):
        memacct.blob_info(OK_ABC)


FUZZ = settings(max_examples=500, deadline=1000, database=None, suppress_health_check=[HealthCheck.too_slow])
GOLDEN_BLOBS = [(r.blob, dict_of(r)) for r in OK_RECORDS if len(r.blob) < 2000]


def check_blob(blob: bytes, dictionary: Optional[memacct.Dictionary] = None) -> None:
    try:
        out = memacct.decompress(blob, dictionary=dictionary, max_output=1 << 22)
    except memacct.MemacctError as e:
        assert type(e) is not memacct.MemacctError, "unmapped core error code"
        assert e.code == type(e).code and str(e)
    else:
        info = memacct.blob_info(blob)
        assert info.etf_len == len(out)
    try:
        memacct.blob_info(blob)
    except memacct.MemacctError as e:
        assert type(e) is not memacct.MemacctError


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    check_blob(data)
    check_blob(data, MCP)


@FUZZ
@given(st.integers(0, 3), st.sampled_from([0, MCP.id]), st.binary(max_size=300))
def test_random_bytes_after_header(flags: int, dict_id: int, data: bytes) -> None:
    check_blob(b"MAcs\x01" + bytes([flags]) + struct.pack("<I", dict_id) + data, MCP)


@FUZZ
@given(st.data())
def test_mutated_golden_blobs(data: st.DataObject) -> None:
    blob, d = data.draw(st.sampled_from(GOLDEN_BLOBS))
    mutated = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    check_blob(bytes(mutated[:cut]) if data.draw(st.booleans()) else bytes(mutated), d)


# --- BlobInfo ----------------------------------------------------------------------------


def test_blob_info_value() -> None:
    blob = memacct.compress(OK_ABC, dictionary=OTHER)
    info = memacct.blob_info(blob)
    assert (info.version, info.dictionary_id, info.etf_len, info.input_was_compressed, info.blob_len) == (
        2,
        OTHER.id,
        len(OK_ABC),
        False,
        len(blob),
    )
    assert repr(info) == (
        f"BlobInfo(version=2, dictionary_id={OTHER.id:#010x}, etf_len={len(OK_ABC)}, "
        f"input_was_compressed=False, blob_len={len(blob)})"
    )
    assert eval(repr(info), {"BlobInfo": memacct.BlobInfo}) == info
    d = info.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert memacct.BlobInfo(**d) == info and hash(memacct.BlobInfo(**d)) == hash(info)
    assert info != memacct.blob_info(memacct.compress(OK_ABC)) and info.__eq__(1) is NotImplemented
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(info, proto)) == info
    with pytest.raises(AttributeError):
        info.etf_len = 0  # type: ignore[misc]


# --- threads -----------------------------------------------------------------------------


def test_concurrent_codec_is_correct() -> None:
    jobs = [(data, d) for _, data in CASES for d in (None, MCP)] * 4
    expected = [memacct.compress(data, dictionary=d) for data, d in jobs]

    def round_trip(job: Any) -> tuple[bytes, bytes]:
        data, d = job
        blob = memacct.compress(data, dictionary=d)
        return blob, memacct.decompress(blob, dictionary=d)

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(round_trip, jobs))
        trained = list(pool.map(lambda _: memacct.Dictionary.train(TRAIN), range(4)))
    assert [b for b, _ in got] == expected  # compression is deterministic
    assert [e for _, e in got] == [inflated(data) for data, _ in jobs]
    assert all(t == MCP for t in trained)


@pytest.mark.parametrize("op", ["compress", "decompress"])
def test_gil_is_released(op: str) -> None:
    """While one thread compresses or decompresses a big term, Python keeps running."""
    rng = random.Random(1)
    n = 400_000  # a list of n {Int, <<random bytes>>}: ~7 MB
    data = b"\x83l" + n.to_bytes(4, "big") + b"".join(
        b"h\x02b" + rng.randbytes(4) + b"m\x00\x00\x00\x04" + rng.randbytes(4) for _ in range(n)
    ) + b"j"
    blob = memacct.compress(data)
    work: Callable[[], object] = (lambda: memacct.compress(data)) if op == "compress" else (
        lambda: memacct.decompress(blob)
    )
    attempts = [largest_stall_during(work) for _ in range(3)]
    # Held, the GIL would stall the main loop for about the whole call; each
    # attempt is judged against its own duration (a loaded machine slows both).
    assert any(gap < 0.4 * elapsed for gap, elapsed in attempts), f"main thread stalled: {attempts}"


# --- documentation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [memacct, memacct.compress, memacct.decompress, memacct.blob_info, memacct.Dictionary, memacct.BlobInfo],
    ids=lambda o: getattr(o, "__name__", "?"),
)
def test_docstring_examples(obj: Any) -> None:
    import doctest

    assert obj.__doc__
    test = doctest.DocTestParser().get_doctest(obj.__doc__, {"memacct": memacct}, obj.__name__, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


# --- binding contract --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: memacct.Dictionary.train(TRAIN, max_bytes=-1), "max_bytes"),
        (lambda: memacct.Dictionary.train(TRAIN, max_bytes=2**64), "max_bytes"),
        (lambda: memacct.compress(OK_ABC, format=256), "format"),
        (lambda: memacct.compress(OK_ABC, format=-1), "format"),
        (lambda: memacct.compress(OK_ABC, level=-(2**40)), "level"),
        (lambda: memacct.compress(OK_ABC, inflate_limit=-1), "inflate_limit"),
        (lambda: memacct.decompress(memacct.compress(OK_ABC), max_output=2**64), "max_output"),
    ],
)
def test_out_of_range_ints_are_invalid_options(call: Callable[[], object], name: str) -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        call()
    assert info.value.code == "invalid_option" and name in str(info.value)


def test_non_int_options_are_still_type_errors() -> None:
    with pytest.raises(TypeError):
        memacct.compress(OK_ABC, level=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        memacct.compress(OK_ABC, format="2")  # type: ignore[arg-type]


def test_dictionary_io_errors_carry_errno_and_filename(tmp_path: Path) -> None:
    missing = tmp_path / "missing.dict"
    with pytest.raises(FileNotFoundError) as info:
        memacct.Dictionary.load(missing)
    assert info.value.errno == errno.ENOENT and info.value.filename == str(missing)
    target = tmp_path / "no" / "such" / "dir.dict"
    with pytest.raises(FileNotFoundError) as info2:
        MCP.save(target)
    assert info2.value.errno == errno.ENOENT and info2.value.filename == str(target)


def test_docs_say_what_the_checksum_covers_and_the_output_limit() -> None:
    doc = memacct.BlobInfo.input_was_compressed.__doc__ or ""
    assert "informational" in doc.lower() and "checksum" in doc
    cdoc = memacct.compress.__doc__ or ""
    assert "max_output" in cdoc and "256 MiB" in cdoc
