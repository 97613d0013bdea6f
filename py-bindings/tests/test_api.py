"""The Python surface of memacct: inputs, options, reports, errors, threads."""

from __future__ import annotations

import array
import copy
import errno
import json
import os
import pickle
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

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
    nested_tuples,
    pid,
    ref,
    small,
    string,
    tup,
)

NODE = ("nonode@nohost", 0)
OK_ABC = etf(tup(atom("ok"), binary(b"abc")))  # {ok, <<"abc">>}

ALL_ERRORS = [
    memacct.TruncatedError,
    memacct.BadVersionError,
    memacct.EmptyInputError,
    memacct.UnknownTagError,
    memacct.LengthTooLargeError,
    memacct.TooDeepError,
    memacct.InflateLimitError,
    memacct.BadCompressionError,
    memacct.AtomCacheRefError,
    memacct.InvalidValueError,
    memacct.DuplicateMapKeyError,
    memacct.NeedsVmError,
    memacct.UnsupportedError,
    memacct.BadBlobError,
    memacct.BlobVersionError,
    memacct.DictionaryRequiredError,
    memacct.DictionaryMismatchError,
    memacct.ChecksumMismatchError,
    memacct.CodecError,
    memacct.BadDictionaryError,
    memacct.InvalidOptionError,
    memacct.PoolExhaustedError,
    memacct.StaleHandleError,
    memacct.BadCheckpointError,
    memacct.MemacctIoError,
    memacct.BadSnapshotError,
]


# --- sizes measured on the target VM (docs/design.md) ----------------------------------

MEASURED = [
    ("integer 1", etf(small(1)), 0),
    ("atom a", etf(atom("a")), 0),
    ("[]", etf(NIL), 0),
    ("{}", etf(tup()), 0),
    ("1 bsl 59", etf(big(1 << 59)), 2),
    ("1.0", etf(flt(1.0)), 2),
    ("[1]", etf(lst(small(1))), 2),
    ('"abc"', etf(string(b"abc")), 6),
    ("{a,b}", etf(tup(atom("a"), atom("b"))), 3),
    ("<<>>", etf(binary(b"")), 2),
    ('<<"abc">>', etf(binary(b"abc")), 3),
    ("64-byte binary", etf(binary(bytes(64))), 10),
    ("65-byte binary", etf(binary(bytes(65))), 6),
    ("<<1:3>>", etf(bits(b"\x20", 3)), 8),
    ("#{}", etf(mapping()), 3),
    ("#{a=>1}", etf(mapping((atom("a"), small(1)))), 6),
    ("32 small-int keys", etf(mapping(*((small(i), small(i)) for i in range(32)))), 68),
    ("1 bsl 200", etf(big(1 << 200)), 5),
    ("local pid", etf(pid("nonode@nohost")), 0),
    ("make_ref()", etf(ref("nonode@nohost")), 3),
]


@pytest.mark.parametrize(("name", "data", "words"), MEASURED, ids=[m[0] for m in MEASURED])
def test_measured_sizes(name: str, data: bytes, words: int) -> None:
    assert memacct.flat_size(data, local_node=NODE) == words
    ts = memacct.term_size(data, local_node=NODE)
    assert ts.words == words
    assert ts.bytes == 8 * words
    assert sum(ts.by_kind.values()) == words


def test_refc_binary_is_off_heap() -> None:
    ts = memacct.term_size(etf(binary(bytes(65))))
    assert (ts.off_heap_bytes, ts.refc_binaries) == (65, 1)
    assert ts.by_kind["refc_binary"] == ts.words
    small_bin = memacct.term_size(etf(binary(bytes(64))))
    assert (small_bin.off_heap_bytes, small_bin.refc_binaries) == (0, 0)
    assert small_bin.by_kind["heap_binary"] == 10


def test_compressed_input() -> None:
    body = lst(*[binary(b"x" * 10)] * 100)
    assert memacct.flat_size(compressed(body)) == memacct.flat_size(etf(body)) > 0


# --- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrap",
    [
        bytes,
        bytearray,
        memoryview,
        lambda b: memoryview(b"xx" + b + b"yy")[2:-2],
        lambda b: array.array("B", b),
        lambda b: memoryview(bytearray(b)).toreadonly(),
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice", "array", "readonly-view"],
)
def test_bytes_like_inputs(wrap: Callable[[bytes], Any]) -> None:
    data = wrap(OK_ABC)
    assert memacct.flat_size(data) == 6
    assert memacct.term_size(data) == memacct.term_size(OK_ABC)
    assert memacct.Sizer().flat_size(data) == 6


def test_bytes_subclass() -> None:
    class B(bytes):
        pass

    assert memacct.flat_size(B(OK_ABC)) == 6


@pytest.mark.parametrize("bad", ["\x83a\x01", 5, None, [131, 97, 1], 1.5, object()])
def test_non_bytes_is_type_error(bad: object) -> None:
    for fn in (memacct.flat_size, memacct.term_size, memacct.Sizer().flat_size):
        with pytest.raises(TypeError) as info:
            fn(bad)  # type: ignore[arg-type]
        assert not isinstance(info.value, memacct.MemacctError)
    with pytest.raises(TypeError, match="not 'str'"):
        memacct.flat_size("x")  # type: ignore[arg-type]


def test_etf_by_keyword_and_unknown_keywords() -> None:
    assert memacct.flat_size(etf=OK_ABC) == 6
    with pytest.raises(TypeError):
        memacct.flat_size(OK_ABC, fields=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        memacct.term_size(OK_ABC, 100)  # type: ignore[call-arg, arg-type]


def test_bytearray_is_not_mutated_or_held() -> None:
    buf = bytearray(OK_ABC)
    memacct.term_size(buf)
    buf.extend(b"\x00")  # would raise BufferError if an export were still held
    assert bytes(buf[:-1]) == OK_ABC


# --- options -----------------------------------------------------------------------------


def test_local_node_decides_pid_kind() -> None:
    data = etf(pid("nonode@nohost"))
    external = memacct.term_size(data)
    assert external.words > 0 and external.by_kind["external_pid"] == external.words
    assert memacct.flat_size(data, local_node=NODE) == 0
    assert memacct.flat_size(data, local_node=("nonode@nohost", 7)) == external.words
    assert memacct.flat_size(data, local_node=("other@host", 0)) == external.words


def test_local_node_type_checked() -> None:
    with pytest.raises(TypeError):
        memacct.flat_size(OK_ABC, local_node="nonode@nohost")  # type: ignore[arg-type]
    with pytest.raises(memacct.InvalidOptionError, match="local_node"):
        memacct.flat_size(OK_ABC, local_node=("n@h", -1))


def big_atom_map(n: int = 40) -> bytes:
    return etf(mapping(*((atom(f"k{i}"), small(1)) for i in range(n))))


def test_big_map_needs_atom_words() -> None:
    data = big_atom_map()
    with pytest.raises(memacct.NeedsVmError) as info:
        memacct.flat_size(data)
    assert info.value.code == "needs_vm"
    assert "atom" in str(info.value)
    # Made-up atom words (index << 6 | 0x0B): any table gives an exact answer for that VM.
    words = {f"k{i}": ((1000 + i) << 6) | 0x0B for i in range(40)}
    n = memacct.flat_size(data, atom_words=words)
    assert n > 3 + 40 * 2
    assert memacct.flat_size(data, atom_words=types.MappingProxyType(words)) == n
    assert memacct.Sizer(atom_words=words).flat_size(data) == n
    with pytest.raises(TypeError):
        memacct.flat_size(data, atom_words=[("k0", 11)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        memacct.flat_size(data, atom_words={"k0": "eleven"})  # type: ignore[dict-item]


def test_max_depth() -> None:
    data = etf(nested_tuples(10))
    assert memacct.term_size(data).max_depth == 11
    assert memacct.flat_size(data, max_depth=11) == 20
    with pytest.raises(memacct.TooDeepError) as info:
        memacct.flat_size(data, max_depth=10)
    assert info.value.code == "too_deep"
    assert "10" in str(info.value)
    with pytest.raises(memacct.TooDeepError):
        memacct.Sizer(max_depth=10).term_size(data)
    deep = etf(nested_tuples(200_000))
    with pytest.raises(memacct.TooDeepError):
        memacct.flat_size(deep)
    assert memacct.flat_size(deep, max_depth=200_001) == 400_000


def test_inflate_limit() -> None:
    data = compressed(binary(bytes(10_000)))
    assert memacct.flat_size(data) == 6
    with pytest.raises(memacct.InflateLimitError) as info:
        memacct.flat_size(data, inflate_limit=1000)
    assert info.value.code == "inflate_limit"


def test_sizer_properties() -> None:
    s = memacct.Sizer(local_node=NODE, atom_words={"a": 11}, max_depth=5, inflate_limit=99)
    assert s.local_node == NODE
    assert s.atom_words == {"a": 11}
    assert (s.max_depth, s.inflate_limit) == (5, 99)
    assert "local_node=('nonode@nohost', 0)" in repr(s) and "1 atoms" in repr(s)
    d = memacct.Sizer()
    assert (d.local_node, d.atom_words, d.max_depth, d.inflate_limit) == (None, {}, 100_000, 1 << 30)
    with pytest.raises(AttributeError):
        s.max_depth = 3  # type: ignore[misc]


# --- reports -----------------------------------------------------------------------------


def test_term_size_report() -> None:
    ts = memacct.term_size(OK_ABC)
    assert (ts.words, ts.bytes, ts.off_heap_bytes, ts.refc_binaries) == (6, 48, 0, 0)
    assert ts.nodes == 3 and ts.max_depth == 2
    assert list(ts.by_kind) == list(memacct.KINDS)
    assert ts.by_kind["tuple"] == 3 and ts.by_kind["heap_binary"] == 3
    assert [(f.label, f.key_words, f.value_words) for f in ts.fields] == [("1", 0, 0), ("2", 0, 3)]
    assert memacct.term_size(OK_ABC, fields=False).fields == []
    assert memacct.Sizer().term_size(OK_ABC, fields=False).fields == []


def test_map_fields() -> None:
    data = etf(mapping((atom("name"), binary(b"bob")), (binary(b"k"), lst(small(1), small(2)))))
    ts = memacct.term_size(data)
    fields = {f.label: f for f in ts.fields}
    assert set(fields) == {"name", '<<"k">>'}
    assert (fields["name"].key_words, fields["name"].value_words) == (0, 3)
    assert (fields['<<"k">>'].key_words, fields['<<"k">>'].value_words) == (3, 4)
    assert sum(f.key_words + f.value_words for f in ts.fields) < ts.words


def test_non_container_root_has_no_fields() -> None:
    assert memacct.term_size(etf(lst(small(1)))).fields == []


def test_kinds() -> None:
    assert isinstance(memacct.KINDS, tuple) and len(memacct.KINDS) == 13
    assert memacct.KINDS[:3] == ("tuple", "list", "map")
    assert memacct.WORD_BYTES == 8


def test_term_size_is_immutable_value() -> None:
    a, b = memacct.term_size(OK_ABC), memacct.term_size(bytearray(OK_ABC))
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != memacct.term_size(OK_ABC, fields=False)
    assert a != memacct.term_size(etf(tup(atom("ok"), binary(b"abcdefghi"))))
    assert a != 6 and a.__eq__(6) is NotImplemented
    with pytest.raises(AttributeError):
        a.words = 1  # type: ignore[misc]
    a.by_kind["tuple"] = 99
    a.fields.clear()
    assert a.by_kind["tuple"] == 3 and len(a.fields) == 2
    assert len({a, b}) == 1
    assert a.fields[0] == memacct.FieldSize("1", 0, 0)
    assert hash(a.fields[1]) == hash(memacct.FieldSize("2", 0, 3))


def test_term_size_pickle_copy() -> None:
    ts = memacct.term_size(etf(tup(binary(bytes(100)), flt(2.5))))
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(ts, proto)) == ts
    assert copy.deepcopy(ts) == ts and copy.copy(ts) == ts
    f = ts.fields[0]
    assert pickle.loads(pickle.dumps(f)) == f


def test_term_size_constructor_validates() -> None:
    ts = memacct.TermSize(5, 0, 0, 2, 2, {"tuple": 3, "float": 2}, [memacct.FieldSize("1", 0, 2)])
    assert ts.bytes == 40 and ts.by_kind["float"] == 2 and ts.by_kind["map"] == 0
    with pytest.raises(ValueError, match="sums to"):
        memacct.TermSize(6, 0, 0, 2, 2, {"tuple": 3})
    with pytest.raises(ValueError, match="unknown kind"):
        memacct.TermSize(3, 0, 0, 2, 2, {"tuples": 3})
    with pytest.raises(TypeError):
        memacct.TermSize(3, 0, 0, 2, 2, {"tuple": 3}, [("1", 0, 3)])  # type: ignore[list-item]


def test_to_dict_and_repr() -> None:
    ts = memacct.term_size(OK_ABC)
    d = ts.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["words"] == 6 and d["bytes"] == 48 and d["by_kind"] == ts.by_kind
    assert d["fields"] == [f.to_dict() for f in ts.fields]
    assert d["fields"][1] == {"label": "2", "key_words": 0, "value_words": 3}
    assert set(d) == {"words", "bytes", "off_heap_bytes", "refc_binaries", "nodes", "max_depth", "by_kind", "fields"}
    r = repr(ts)
    assert r.startswith("TermSize(words=6, bytes=48,")
    assert "'heap_binary': 3" in r and "'map'" not in r  # zero kinds are left out
    assert "FieldSize(label='2', key_words=0, value_words=3)" in r


# --- errors ------------------------------------------------------------------------------


def test_error_hierarchy_and_codes() -> None:
    assert issubclass(memacct.MemacctError, ValueError)
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(set(codes)) == len(codes)
    for cls in ALL_ERRORS:
        assert issubclass(cls, memacct.MemacctError)
        assert cls.__module__ == "memacct" and getattr(memacct, cls.__name__) is cls
        assert cls.__doc__
    exported = {
        name for name, v in vars(memacct).items() if isinstance(v, type) and issubclass(v, memacct.MemacctError)
    }
    assert exported == {c.__name__ for c in ALL_ERRORS} | {"MemacctError"}


@pytest.mark.parametrize(
    ("data", "cls", "code"),
    [
        (b"", memacct.EmptyInputError, "empty"),
        (b"\x82j", memacct.BadVersionError, "bad_version"),
        (b"\x83", memacct.TruncatedError, "truncated"),
        (b"\x83\x01", memacct.UnknownTagError, "unknown_tag"),
        (b"\x83l\xff\xff\xff\xffj", memacct.LengthTooLargeError, "length_too_large"),
        (b"\x83R\x00", memacct.AtomCacheRefError, "atom_cache_ref"),
        (etf(mapping((atom("a"), small(1)), (atom("a"), small(2)))), memacct.DuplicateMapKeyError, "duplicate_map_key"),
    ],
)
def test_error_mapping(data: bytes, cls: type[memacct.MemacctError], code: str) -> None:
    with pytest.raises(cls) as info:
        memacct.term_size(data)
    e = info.value
    assert type(e) is cls and e.code == code == cls.code
    assert str(e) and str(e) == e.args[0]
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is cls and again.code == code and str(again) == str(e)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        memacct.flat_size(b"\x83")


# --- threads -----------------------------------------------------------------------------


def test_concurrent_sizing_is_correct() -> None:
    inputs = [m[1] for m in MEASURED] * 20 + [big_atom_map(33 + i % 5) for i in range(10)]
    words = {f"k{i}": ((2000 + i) << 6) | 0x0B for i in range(40)}
    sizer = memacct.Sizer(local_node=NODE, atom_words=words)
    expected = [sizer.term_size(d) for d in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(sizer.term_size, inputs))
        got_mod = list(pool.map(lambda d: memacct.term_size(d, local_node=NODE, atom_words=words), inputs))
    assert got == expected and got_mod == expected


def test_gil_is_released_while_sizing() -> None:
    """While one thread sizes a big term, Python code keeps running in another.

    With the GIL held for the whole call, the main loop would stall for about
    the call's duration on every attempt; released, it never stalls for long
    (a few attempts absorb scheduling noise on a loaded machine).
    """
    n = 4_000_000  # a list of n {1,2}: ~20 MB, ~0.2 s to size
    data = b"\x83l" + n.to_bytes(4, "big") + b"h\x02a\x01a\x02" * n + b"j"
    assert memacct.flat_size(data) == 5 * n
    attempts = [largest_stall_during(lambda: memacct.flat_size(data)) for _ in range(3)]
    # Each attempt judged against its own duration (a loaded machine slows both).
    assert any(gap < 0.4 * elapsed for gap, elapsed in attempts), f"main thread stalled: {attempts}"


# --- binding contract --------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 1, 0x0C, (5 << 6) | 0x0A, 2**64 - 1])
def test_atom_words_are_checked(bad: int) -> None:
    table = {"k0": (2000 << 6) | 0x0B, "bad": bad}
    for call in (
        lambda: memacct.flat_size(OK_ABC, atom_words=table),
        lambda: memacct.term_size(OK_ABC, atom_words=table),
        lambda: memacct.Sizer(atom_words=table),
    ):
        with pytest.raises(memacct.InvalidOptionError) as info:
            call()
        assert info.value.code == "invalid_option" and "atom_words" in str(info.value)
    assert memacct.Sizer(atom_words={"k0": (2000 << 6) | 0x0B}).flat_size(OK_ABC) == 6


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"max_depth": -1}, "max_depth"),
        ({"max_depth": 2**32}, "max_depth"),
        ({"inflate_limit": -1}, "inflate_limit"),
        ({"inflate_limit": 2**64}, "inflate_limit"),
    ],
)
def test_out_of_range_sizing_options(kw: dict[str, int], name: str) -> None:
    for call in (memacct.flat_size, memacct.term_size):
        with pytest.raises(memacct.InvalidOptionError) as info:
            call(OK_ABC, **kw)  # type: ignore[arg-type]
        assert name in str(info.value)
    with pytest.raises(memacct.InvalidOptionError):
        memacct.Sizer(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"atom_words": {"a": -1}}, "atom_words"),
        ({"atom_words": {"a": 2**70}}, "atom_words"),
        ({"atom_words": {"a": -(10**400)}}, "atom_words"),
        ({"local_node": ("app@host", -3)}, "local_node"),
        ({"local_node": ("app@host", 2**32)}, "local_node"),
        ({"local_node": ("app@host", 10**400)}, "local_node"),
    ],
    ids=["atom_word=-1", "atom_word=2**70", "atom_word=-10**400", "creation=-3", "creation=2**32", "creation=10**400"],
)
def test_out_of_range_vm_options_name_the_option(kw: dict[str, Any], name: str) -> None:
    """Ints outside an option's range are InvalidOptionError naming it, never OverflowError."""
    for call in (
        lambda: memacct.flat_size(OK_ABC, **kw),
        lambda: memacct.term_size(OK_ABC, **kw),
        lambda: memacct.Sizer(**kw),
    ):
        with pytest.raises(memacct.InvalidOptionError) as info:
            call()
        e = info.value
        assert e.code == "invalid_option" and name in str(e) and not isinstance(e, OverflowError)
    if name == "atom_words":
        assert "'a'" in str(e) or '"a"' in str(e)  # which atom


def test_out_of_range_trend_option() -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        memacct.trend([], min_points=-1)
    assert "min_points" in str(info.value)


def test_term_size_constructor_checks_overflow() -> None:
    with pytest.raises(ValueError, match="bytes"):
        memacct.TermSize(2**62, 0, 0, 1, 1, {"tuple": 2**62})  # 2**65 bytes
    with pytest.raises(ValueError, match="sums"):
        memacct.TermSize(0, 0, 0, 1, 1, {"tuple": 2**63, "list": 2**63})  # wraps to 0
    big = memacct.TermSize(2**61 - 1, 0, 0, 1, 1, {"tuple": 2**61 - 1})
    assert big.bytes == (2**61 - 1) * 8


def test_base_error_class_has_a_code() -> None:
    assert memacct.MemacctError.code == "memacct_error"
    assert memacct.TruncatedError.code == "truncated"
    assert memacct.InvalidOptionError.code == "invalid_option"
    assert memacct.MemacctIoError.code == "io"


def test_load_snapshot_io_error_carries_errno_and_filename(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError) as info:
        memacct.load_snapshot(missing)
    assert info.value.errno == errno.ENOENT and info.value.filename == str(missing)


# --- file errors: one shape everywhere ----------------------------------------------------

SNAPSHOT_JSON = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "snapshots" / "node_small.json"


def _dictionary() -> memacct.Dictionary:
    return memacct.Dictionary.train([OK_ABC, etf(tup(atom("ok"), binary(b"abd")))])


def _readers() -> dict[str, Callable[[Path], object]]:
    return {
        "load_snapshot": memacct.load_snapshot,
        "Dictionary.load": memacct.Dictionary.load,
        "Pool.restore": memacct.Pool.restore,
    }


def _writers() -> dict[str, Callable[[Path], object]]:
    d = _dictionary()
    return {"Dictionary.save": d.save, "Pool.checkpoint": memacct.Pool().checkpoint}


def assert_file_error(e: BaseException, cls: type[OSError], code: int, path: Path) -> None:
    """``e`` is both a MemacctIoError and the builtin OSError subclass of its errno."""
    assert isinstance(e, cls) and isinstance(e, memacct.MemacctIoError)
    assert isinstance(e, memacct.MemacctError) and isinstance(e, ValueError)
    assert e.code == "io" and e.errno == code and e.strerror == os.strerror(code)
    assert e.filename == str(path) and str(path) in str(e)
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(e, proto))
        assert type(again) is type(e) and str(again) == str(e)
        assert (again.errno, again.strerror, again.filename, again.code) == (code, e.strerror, str(path), "io")
    assert copy.copy(e).errno == code


@pytest.mark.parametrize("what", sorted(_readers()))
def test_reading_a_missing_file(what: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(memacct.MemacctError) as info:
        _readers()[what](missing)
    assert_file_error(info.value, FileNotFoundError, errno.ENOENT, missing)


@pytest.mark.parametrize("what", ["load_snapshot", "Dictionary.load"])
def test_reading_a_directory(what: str, tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        _readers()[what](tmp_path)
    assert_file_error(info.value, IsADirectoryError, errno.EISDIR, tmp_path)


def test_restoring_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        memacct.Pool.restore(tmp_path)
    e = info.value
    assert isinstance(e, memacct.MemacctIoError) and e.code == "io"
    assert e.errno == errno.EISDIR and e.filename == str(tmp_path)


def test_restoring_a_device(tmp_path: Path) -> None:
    # Not a regular file: refused before reading, with the core's message.
    with pytest.raises(memacct.MemacctIoError) as info:
        memacct.Pool.restore("/dev/zero")
    e = info.value
    assert e.code == "io" and e.errno is None and "regular file" in str(e)
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is memacct.MemacctIoError and str(again) == str(e) and again.code == "io"


@pytest.mark.parametrize("what", sorted(_writers()))
def test_writing_into_a_missing_directory(what: str, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "file"
    with pytest.raises(FileNotFoundError) as info:
        _writers()[what](target)
    assert_file_error(info.value, FileNotFoundError, errno.ENOENT, target)


@pytest.mark.parametrize("what", sorted(_writers()))
def test_writing_under_a_file(what: str, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    target = plain / "file"
    with pytest.raises(memacct.MemacctIoError) as info:
        _writers()[what](target)
    assert_file_error(info.value, NotADirectoryError, errno.ENOTDIR, target)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
@pytest.mark.parametrize("what", sorted(_readers()))
def test_reading_an_unreadable_file(what: str, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.write_bytes(SNAPSHOT_JSON.read_bytes())
    locked.chmod(0)
    with pytest.raises(PermissionError) as info:
        _readers()[what](locked)
    assert_file_error(info.value, PermissionError, errno.EACCES, locked)


def test_every_errno_class_has_its_io_error() -> None:
    """Each OSError subclass a file error can be has a MemacctIoError twin."""
    from memacct import _memacct

    for cls in (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError):
        twins = [t for t in memacct.MemacctIoError.__subclasses__() if issubclass(t, cls)]
        assert len(twins) == 1, cls
        twin = twins[0]
        e = twin(errno.EEXIST, os.strerror(errno.EEXIST), "f")
        assert isinstance(e, cls) and isinstance(e, memacct.MemacctIoError) and e.code == "io"
        assert type(pickle.loads(pickle.dumps(e))) is twin and twin.__doc__
        # private: pickle finds it in memacct._memacct, `import *` does not
        assert twin.__name__.startswith("_") and twin.__name__ not in _memacct.__all__
        assert twin.__name__ not in vars(memacct)
