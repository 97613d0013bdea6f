"""Memory decomposition: snapshots, validation, reports, aggregate, trend, pandas, plots, the notebook."""

from __future__ import annotations

import ast
import copy
import errno
import json
import math
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest

import memacct

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "vectors" / "snapshots"
NODE_SMALL = SNAPSHOTS / "node_small.json"
INCONSISTENT = SNAPSHOTS / "node_inconsistent.json"
CLUSTER = SNAPSHOTS / "cluster_missing_node.json"
NOTEBOOK = ROOT / "py-bindings" / "examples" / "decomposition.ipynb"
STUBS = ROOT / "py-bindings" / "python" / "memacct" / "_memacct.pyi"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def node_doc() -> dict[str, Any]:
    return json.loads(NODE_SMALL.read_text())


def from_doc(doc: Any) -> memacct.Snapshot:
    return memacct.Snapshot.from_json(json.dumps(doc))


def rules(snapshot: memacct.Snapshot, **kw: Any) -> list[str]:
    return [v.rule for v in snapshot.validate(**kw)]


# --- the committed vectors: same figures as the core's tests (expected.txt) -------------


def _expected() -> list[tuple[str, str, float]]:
    out = []
    for line in (SNAPSHOTS / "expected.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            file, key, value = line.split()
            out.append((file, key, float(value)))
    return out


def _figure(snapshot: memacct.Snapshot, key: str) -> float:
    if key == "violations":
        return len(snapshot.validate())
    d = snapshot.to_dict()
    if key == "missing":
        return len(d["missing"])
    if key == "per_connection.state_bytes":
        return d["per_connection"]["state"]["mean"]
    value: Any = d
    for part in key.split("."):
        value = value[part]
    return float(value)


@pytest.mark.parametrize(("file", "key", "value"), _expected(), ids=lambda x: str(x))
def test_expected_figures(file: str, key: str, value: float) -> None:
    snapshot = memacct.load_snapshot(SNAPSHOTS / file)
    assert _figure(snapshot, key) == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_expected_file_covers_every_vector() -> None:
    files = {f for f, _, _ in _expected()}
    assert files == {p.name for p in SNAPSHOTS.glob("*.json")}


def test_node_small() -> None:
    s = memacct.load_snapshot(NODE_SMALL)
    assert not s.is_cluster and s.node == "app@host" and s.timestamp_ms == 1763900000000
    assert s.node_names == ["app@host"] and s.missing == [] and s.ci_method == "student_t"
    assert s.validate() == []
    assert s.process_bytes == [2800, 2816, 2784, 2800, 2808, 2792]
    assert s.state_sample_bytes == [1000, 1100, 1200, 1050, 1150]
    d = s.to_dict()
    pc = d["per_connection"]
    # state lives inside the process: heap + state = process, never process + state
    assert pc["heap_bytes"] + pc["state"]["mean"] == pytest.approx(pc["process_bytes"])
    assert pc["state"]["sample_size"] == 5 and pc["state"]["population"] == 10000
    assert not pc["state"]["exact"] and pc["state"]["ci_low"] < 1100 < pc["state"]["ci_high"]
    pn = d["per_node"]
    assert pn["base_overhead_bytes"] + pn["connections_bytes"] + pn["residual_bytes"] == pytest.approx(pn["rss_bytes"])
    assert d == json.loads(s.to_json())


def test_components_partition_rss() -> None:
    for s in [memacct.load_snapshot(NODE_SMALL), *memacct.load_snapshot(CLUSTER).node_snapshots()]:
        comps = s.components()
        assert [c[0] for c in comps][-1] == "residual"
        assert len({c[0] for c in comps}) == len(comps)
        assert sum(c[2] for c in comps) == pytest.approx(s.to_dict()["per_node"]["rss_bytes"], rel=1e-12)
    # unless erlang:memory's own identity is broken (total != processes + system): off by the gap
    bad = memacct.load_snapshot(INCONSISTENT)
    assert sum(c[2] for c in bad.components()) == 150_000_000 - 1_000_000
    # without allocators the overhead is not measured: no row (it is in the residual)
    b = memacct.load_snapshot(CLUSTER).node_snapshots()[1]
    assert b.node == "b@host" and "allocator_overhead" not in [c[0] for c in b.components()]


def test_report_and_compact() -> None:
    s = memacct.load_snapshot(NODE_SMALL)
    text = s.report()
    assert text.startswith("=== MEMORY DECOMPOSITION REPORT ===") and "app@host" in text
    assert "Residual" in text and "ESTIMATE" in text and text.rstrip().endswith("=== END REPORT ===")
    c = s.compact()
    assert c["node"] == "app@host" and c["connections"] == 10000 and c["scope_per_node"] is True
    assert c["per_node_residual_mib"] == pytest.approx(4_000_000 / 2**20)
    assert c["per_connection_total_mib"] == pytest.approx(3400.2048 / 2**20)
    assert list(c)[:5] == [
        "per_connection_heap_mib",
        "per_connection_state_mib",
        "per_connection_total_mib",
        "per_node_base_overhead_mib",
        "per_node_total_rss_mib",
    ]


def test_cluster() -> None:
    c = memacct.load_snapshot(CLUSTER)
    assert c.is_cluster and c.node is None and c.timestamp_ms is None
    assert c.node_names == ["a@host", "b@host"]
    assert c.missing == [{"node": "c@host", "reason": "timeout"}]
    assert c.process_bytes is None and c.state_sample_bytes is None
    d = c.to_dict()
    assert d["node_count"] == 2 and len(d["nodes"]) == 2 and d["total_rss_bytes"] == 335_000_000
    nodes = c.node_snapshots()
    assert [n.node for n in nodes] == ["a@host", "b@host"] and not any(n.is_cluster for n in nodes)
    assert nodes[0].to_dict() == d["nodes"][0]
    # a@host is node_small under another name
    assert nodes[0].to_dict()["per_connection"] == memacct.load_snapshot(NODE_SMALL).to_dict()["per_connection"]
    violations = c.validate()
    assert [v.rule for v in violations] == ["residual_within_tolerance"]
    assert violations[0].message.startswith("b@host: ")
    assert violations[0].figures["residual_pct_of_rss"] == pytest.approx(100 / 6)
    assert "a@host" in c.report() and "b@host" in c.report()
    assert set(c.compact()) == {"a@host", "b@host"}
    assert len(c.components()) == len(nodes[0].components()) + len(nodes[1].components())


def test_cluster_report_has_totals_and_missing_nodes() -> None:
    c = memacct.load_snapshot(CLUSTER)
    text = c.report()
    # each node's report, in order, then the cluster's section
    reports = [n.report() for n in c.node_snapshots()]
    assert text.startswith(reports[0]) and reports[1] in text
    assert text.index(reports[1]) > text.index(reports[0])
    cluster = text[text.index("=== CLUSTER ===") :]
    assert text.index("=== CLUSTER ===") > text.rindex("=== END REPORT ===")
    assert "c@host (timeout)" in cluster and "Nodes missing:" in cluster
    assert "Cluster total RSS:" in cluster and cluster.rstrip().endswith("=== END CLUSTER ===")
    # a node snapshot keeps the node report
    assert "=== CLUSTER ===" not in memacct.load_snapshot(NODE_SMALL).report()


def test_cluster_report_with_every_node_missing() -> None:
    doc = json.loads(CLUSTER.read_text())
    doc["missing"] += [{"node": n["node"], "reason": "down"} for n in doc["nodes"]]
    doc["nodes"] = []
    c = from_doc(doc)
    assert c.is_cluster and c.node_names == []
    text = c.report()
    assert text.strip() and "=== CLUSTER ===" in text
    assert "a@host (down)" in text and "b@host (down)" in text and "c@host (timeout)" in text


# --- validation: every injected violation is listed, with its figures -------------------

INJECTIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("connection_counts", lambda d: d["connections"].update(count=10005)),
    ("beam_total_identity", lambda d: d["beam"].update(system=69_000_000)),
    ("beam_used_within_allocated", lambda d: d["beam"].update(atom_used=2_000_000)),
    ("beam_system_components", lambda d: d["beam"].update(ets=60_000_000)),
    ("processes_components", lambda d: d["infrastructure"].update(process_bytes_total=100_000_000)),
    ("binaries_within_beam", lambda d: d["connections"]["off_heap"]["binaries"].append(
        {"bytes": 50_000_000, "holders": 1, "connection_holders": 1})),
    ("native_within_pools", lambda d: d["connections"].update(native_bytes_total=5_000_000)),
    ("allocator_carriers_ge_blocks", lambda d: d["allocators"].update(carriers_bytes=180_000_000)),
    ("state_le_process_sample", lambda d: d["connections"]["state_sample"]["bytes"].__setitem__(0, 5000)),
    ("state_le_process_mean", lambda d: d["connections"]["state_sample"].update(
        bytes=[3000] * 5, process_bytes=[3100] * 5)),
    ("residual_within_tolerance", lambda d: d["os"].update(rss_bytes=240_000_000)),
    ("node_rss_covers_connections", lambda d: d["os"].update(rss_bytes=150_000_000)),
]


@pytest.mark.parametrize(("rule", "inject"), INJECTIONS, ids=[r for r, _ in INJECTIONS])
def test_each_injected_violation_is_reported(rule: str, inject: Callable[[dict[str, Any]], None]) -> None:
    doc = node_doc()
    inject(doc)
    violations = from_doc(doc).validate()
    assert rule in [v.rule for v in violations]
    v = next(v for v in violations if v.rule == rule)
    assert v.message and v.figures and all(isinstance(x, float) for x in v.figures.values())
    assert v.to_dict() == {"rule": v.rule, "message": v.message, "figures": v.figures}


def test_every_injected_violation_is_listed_at_once() -> None:
    doc = node_doc()
    injected = [
        "connection_counts",
        "beam_total_identity",
        "beam_used_within_allocated",
        "allocator_carriers_ge_blocks",
        "state_le_process_sample",
        "residual_within_tolerance",
        "node_rss_covers_connections",
    ]
    for rule, inject in INJECTIONS:
        if rule in injected and rule != "residual_within_tolerance":
            inject(doc)
    found = rules(from_doc(doc))
    assert set(injected) <= set(found), found
    assert len(found) == len(set(found))
    order = list(memacct.VALIDATION_RULES)
    assert found == sorted(found, key=order.index)  # the core's order


def test_inconsistent_vector_lists_its_four_rules() -> None:
    violations = memacct.load_snapshot(INCONSISTENT).validate()
    assert [v.rule for v in violations] == [
        "connection_counts",
        "beam_total_identity",
        "residual_within_tolerance",
        "node_rss_covers_connections",
    ]
    counts = violations[0].figures
    assert counts == {"alive": 10000.0, "dead": 2.0, "connections": 10005.0}
    assert violations[2].figures["residual_bytes"] == -61_000_000


def test_tolerance() -> None:
    s = memacct.load_snapshot(NODE_SMALL)  # residual 1.86% of RSS
    assert rules(s, tolerance=0.02) == []
    assert rules(s, tolerance=0.01) == ["residual_within_tolerance"]
    assert s.validate(0.01)[0].figures["tolerance_fraction"] == 0.01
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(memacct.InvalidOptionError):
            s.validate(bad)
    with pytest.raises(memacct.InvalidOptionError):
        s.validate(epsilon=-1.0)


def test_validation_rules_constant() -> None:
    assert isinstance(memacct.VALIDATION_RULES, tuple) and len(memacct.VALIDATION_RULES) == 17
    assert {r for r, _ in INJECTIONS} <= set(memacct.VALIDATION_RULES)
    assert memacct.SNAPSHOT_VERSION == 1


def test_violation_value_semantics() -> None:
    v = memacct.load_snapshot(INCONSISTENT).validate()[0]
    assert pickle.loads(pickle.dumps(v)) == v and copy.deepcopy(v) == v
    assert memacct.Violation(v.rule, v.message, v.figures) == v
    assert memacct.Violation(v.rule, "other", v.figures) != v
    assert repr(v).startswith("Violation(rule='connection_counts', message=")
    with pytest.raises(AttributeError):
        v.rule = "x"  # type: ignore[misc]


def test_violation_equality_ignores_figure_order() -> None:
    a = memacct.Violation("r", "m", {"a": 1.0, "b": 2.0})
    b = memacct.Violation("r", "m", {"b": 2.0, "a": 1.0})
    assert a == b and b == a and not (a != b)
    # the exposed figures keep the order they were given in
    assert list(a.figures) == ["a", "b"] and list(b.figures) == ["b", "a"]
    assert list(pickle.loads(pickle.dumps(b)).figures) == ["b", "a"]
    for other in ({"a": 1.0, "b": 3.0}, {"a": 1.0}, {"a": 1.0, "b": 2.0, "c": 0.0}, {"a": 1.0, "c": 2.0}):
        assert a != memacct.Violation("r", "m", other) and memacct.Violation("r", "m", other) != a
    assert a != memacct.Violation("s", "m", {"a": 1.0, "b": 2.0})
    assert a.__eq__(object()) is NotImplemented and a == mock.ANY


# --- input: str, bytes, files; hostile JSON is a BadSnapshotError ------------------------


def test_from_json_inputs() -> None:
    text = NODE_SMALL.read_text()
    a = memacct.Snapshot.from_json(text)
    assert a == memacct.Snapshot.from_json(text.encode())
    assert a == memacct.Snapshot.from_json(bytearray(text.encode()))
    assert a == memacct.Snapshot.from_json(memoryview(text.encode()))
    assert a == memacct.load_snapshot(str(NODE_SMALL)) == memacct.load_snapshot(NODE_SMALL)
    assert a == memacct.Snapshot.from_json(a.snapshot_json())
    assert a != memacct.load_snapshot(INCONSISTENT) and a != "app@host"
    c = memacct.load_snapshot(CLUSTER)
    assert c == memacct.Snapshot.from_json(c.snapshot_json()) and c != a
    for s in (a, c):
        again = pickle.loads(pickle.dumps(s))
        assert again == s and again.to_dict() == s.to_dict() and again.ci_method == s.ci_method
    with pytest.raises(TypeError):
        memacct.Snapshot.from_json(42)  # type: ignore[arg-type]


def test_snapshot_equality_defers_to_other_types() -> None:
    s = memacct.load_snapshot(NODE_SMALL)
    assert s == mock.ANY and mock.ANY == s and [s] == [mock.ANY]
    assert s.__eq__(1) is NotImplemented and s.__eq__("app@host") is NotImplemented
    assert s != 1 and not (s == 1) and not (s == None)  # noqa: E711
    same = memacct.load_snapshot(NODE_SMALL)
    assert s == same and not (s != same)
    c = memacct.load_snapshot(CLUSTER)
    assert s != c and not (s == c) and c == mock.ANY


def test_ci_method() -> None:
    t = memacct.load_snapshot(NODE_SMALL)
    n = memacct.load_snapshot(NODE_SMALL, ci_method="normal")
    assert n.ci_method == "normal" and pickle.loads(pickle.dumps(n)).ci_method == "normal"
    st, sn = t.to_dict()["per_connection"]["state"], n.to_dict()["per_connection"]["state"]
    assert st["mean"] == sn["mean"] and sn["half_width"] < st["half_width"]
    with pytest.raises(memacct.InvalidOptionError):
        memacct.Snapshot.from_json(NODE_SMALL.read_text(), ci_method="bayes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda s: s.validate(10**400), "tolerance"),
        (lambda s: s.validate(epsilon=-(10**400)), "epsilon"),
        (lambda s: memacct.trend([s], min_span_hours=10**400), "min_span_hours"),
        (lambda s: memacct.trend([s], min_r_squared=10**400), "min_r_squared"),
        (lambda s: memacct.trend([s], min_growth_pct_per_hour=-(10**400)), "min_growth_pct_per_hour"),
    ],
)
def test_float_options_out_of_range_name_the_option(call: Callable[[memacct.Snapshot], object], name: str) -> None:
    with pytest.raises(memacct.InvalidOptionError) as info:
        call(memacct.load_snapshot(NODE_SMALL))
    assert name in str(info.value) and not isinstance(info.value, OverflowError)


def test_load_snapshot_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        memacct.load_snapshot(tmp_path / "nope.json")


def _mutated(mutate: Callable[[dict[str, Any]], Any]) -> str:
    doc = node_doc()
    mutate(doc)
    return json.dumps(doc)


def _cluster_with(mutate: Callable[[dict[str, Any]], Any]) -> str:
    doc = json.loads(CLUSTER.read_text())
    mutate(doc)
    return json.dumps(doc)


HOSTILE: list[tuple[str, Any]] = [
    ("empty", ""),
    ("not json", "memory: lots"),
    ("truncated", NODE_SMALL.read_text()[:200]),
    ("array", "[1, 2, 3]"),
    ("null", "null"),
    ("not utf-8", b'{"format": "\xff\xfe"}'),
    ("missing rss", _mutated(lambda d: d["os"].pop("rss_bytes"))),
    ("missing beam key", _mutated(lambda d: d["beam"].pop("ets"))),
    ("missing connections", _mutated(lambda d: d.pop("connections"))),
    ("negative size", _mutated(lambda d: d["beam"].update(total=-1))),
    ("fraction", _mutated(lambda d: d["os"].update(rss_bytes=1.5))),
    ("overflow", _mutated(lambda d: d["beam"].update(total=2**64))),
    ("string size", _mutated(lambda d: d["beam"].update(total="190000000"))),
    ("other format", _mutated(lambda d: d.update(format="memacct-other"))),
    ("version 2", _mutated(lambda d: d.update(version=2))),
    ("word bytes", _mutated(lambda d: d.update(word_bytes=16))),
    ("empty node", _mutated(lambda d: d.update(node=""))),
    ("zero holders", _mutated(lambda d: d["connections"]["off_heap"]["binaries"][0].update(holders=0))),
    ("sample above population", _mutated(lambda d: d["connections"]["state_sample"].update(population=2))),
    ("paired lengths", _mutated(lambda d: d["connections"]["state_sample"].update(process_bytes=[1]))),
    ("deep nesting", '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("cluster version", _cluster_with(lambda d: d.update(version=9))),
    ("cluster duplicate node", _cluster_with(lambda d: d["nodes"].append(d["nodes"][0]))),
    ("cluster node present and missing", _cluster_with(lambda d: d["missing"].append({"node": "a@host"}))),
    ("cluster bad node", _cluster_with(lambda d: d["nodes"][1]["beam"].update(total=-5))),
    ("cluster without nodes", _cluster_with(lambda d: d.pop("nodes"))),
]


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[n for n, _ in HOSTILE])
def test_hostile_json_is_bad_snapshot(name: str, data: Any, tmp_path: Path) -> None:
    with pytest.raises(memacct.BadSnapshotError) as info:
        memacct.Snapshot.from_json(data)
    e = info.value
    assert type(e) is memacct.BadSnapshotError and e.code == "bad_snapshot"
    assert isinstance(e, memacct.MemacctError) and isinstance(e, ValueError) and str(e)
    path = tmp_path / "hostile.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(memacct.BadSnapshotError):
        memacct.load_snapshot(path)


def test_hostile_messages_name_the_problem() -> None:
    with pytest.raises(memacct.BadSnapshotError, match="rss_bytes"):
        memacct.Snapshot.from_json(_mutated(lambda d: d["os"].pop("rss_bytes")))
    with pytest.raises(memacct.BadSnapshotError, match="version 2"):
        memacct.Snapshot.from_json(_mutated(lambda d: d.update(version=2)))
    with pytest.raises(memacct.BadSnapshotError, match="appears twice"):
        memacct.Snapshot.from_json(_cluster_with(lambda d: d["nodes"].append(d["nodes"][0])))


def test_unknown_fields_are_ignored() -> None:
    doc = node_doc()
    doc["future"] = {"x": [1, 2]}
    doc["connections"]["extra"] = "y"
    assert from_doc(doc) == memacct.load_snapshot(NODE_SMALL)


# --- aggregate and trend ------------------------------------------------------------------


def test_aggregate() -> None:
    s = memacct.load_snapshot(NODE_SMALL)
    a = memacct.aggregate([s, s, s])
    assert a["count"] == 3
    total = a["per_connection_total"]
    assert set(total) == {"count", "min", "max", "mean", "p50", "p95", "p99"}
    assert total["min"] == total["max"] == total["p99"] == pytest.approx(3400.2048)
    # snapshots and decomposition dicts (e.g. read back from JSON) alike
    assert memacct.aggregate([s.to_dict(), json.loads(s.to_json()), s]) == a
    # a cluster contributes each node; b@host has no state sample
    c = memacct.load_snapshot(CLUSTER)
    ac = memacct.aggregate([c])
    assert ac["count"] == 2 and ac["per_connection_state"]["count"] == 1
    assert ac == memacct.aggregate(c.node_snapshots()) == memacct.aggregate([c.to_dict()])
    assert ac["node_rss"]["min"] == 120_000_000 and ac["node_rss"]["max"] == 215_000_000
    empty = memacct.aggregate([])
    assert empty["count"] == 0 and empty["node_rss"] is None
    with pytest.raises(TypeError):
        memacct.aggregate([42])
    with pytest.raises(memacct.BadSnapshotError):
        memacct.aggregate([{"node": "x"}])


def _series(rss: list[int], step_ms: int = 15 * 60_000) -> list[memacct.Snapshot]:
    out = []
    for i, r in enumerate(rss):
        doc = node_doc()
        doc["timestamp_ms"] += i * step_ms
        doc["os"]["rss_bytes"] = r
        out.append(from_doc(doc))
    return out


def test_trend_flags_sustained_growth() -> None:
    growing = _series([215_000_000 + i * 10_000_000 for i in range(6)])  # 40 MB/h over 1.25 h
    t = memacct.trend(list(reversed(growing)))  # any order
    assert t["points"] == 6 and t["span_hours"] == pytest.approx(1.25)
    assert t["rss"]["slope_per_hour"] == pytest.approx(40_000_000)
    assert t["rss"]["r_squared"] == pytest.approx(1.0)
    assert t["leak_suspected"] is True and len(t["reasons"]) == 1 and t["reasons"][0].startswith("rss")
    assert t["per_connection_total"]["slope_per_hour"] == pytest.approx(0.0, abs=1e-6)
    assert memacct.trend([s.to_dict() for s in growing]) == t
    # stricter thresholds: no verdict
    assert memacct.trend(growing, min_points=10)["leak_suspected"] is False
    assert memacct.trend(growing, min_growth_pct_per_hour=50.0)["leak_suspected"] is False


def test_trend_flat_and_degenerate() -> None:
    flat = _series([215_000_000] * 6)
    t = memacct.trend(flat)
    assert t["leak_suspected"] is False and t["reasons"] == [] and t["rss"]["slope_per_hour"] == 0
    one = memacct.trend(flat[:1])
    assert one["points"] == 1 and one["rss"] is None and one["per_connection_total"] is None
    with pytest.raises(ValueError, match="one node"):
        memacct.trend([memacct.load_snapshot(CLUSTER)])
    with pytest.raises(ValueError, match="one node"):
        memacct.trend([memacct.load_snapshot(CLUSTER).to_dict()])
    with pytest.raises(memacct.InvalidOptionError):
        memacct.trend(flat, min_r_squared=-1.0)


# --- pandas and matplotlib (optional at runtime) ------------------------------------------


def test_to_pandas_node() -> None:
    pd = pytest.importorskip("pandas")
    s = memacct.load_snapshot(NODE_SMALL)
    df = s.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["component", "group", "bytes", "mib"]
    assert list(df["component"]) == [c[0] for c in s.components()]
    assert df["bytes"].sum() == pytest.approx(215_000_000)
    assert (df["mib"] * 2**20).tolist() == pytest.approx(df["bytes"].tolist())
    assert df.set_index("component").loc["residual", "bytes"] == 4_000_000


def test_to_pandas_cluster() -> None:
    pytest.importorskip("pandas")
    df = memacct.load_snapshot(CLUSTER).to_pandas()
    assert list(df["node"]) == ["a@host", "b@host"]  # one row per node
    assert df["rss_bytes"].sum() == 335_000_000 and df["connections"].sum() == 15_000
    assert df.loc[1, "residual_pct_of_rss"] == pytest.approx(100 / 6)
    assert math.isnan(df.loc[1, "allocator_overhead"])  # not measured on b@host


def test_missing_pandas_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        memacct.load_snapshot(NODE_SMALL).to_pandas()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        memacct.load_snapshot(NODE_SMALL).plot("never.png")


def test_importing_memacct_imports_neither() -> None:
    import subprocess

    code = "import memacct, sys; print('pandas' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("path", [NODE_SMALL, INCONSISTENT, CLUSTER], ids=lambda p: p.name)
def test_plot_writes_a_png(path: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    assert memacct.load_snapshot(path).plot(out) == out
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    # str paths and titles too; no pyplot figure is left behind
    memacct.load_snapshot(path).plot(str(tmp_path / "titled.png"), title="t")
    assert (tmp_path / "titled.png").stat().st_size > 10_000
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


def test_plot_file_errors_are_memacct_io_errors(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "no" / "such" / "plot.png"
    with pytest.raises(memacct.MemacctIoError) as info:
        memacct.load_snapshot(NODE_SMALL).plot(target)
    e = info.value
    assert e.code == "io" and e.errno == errno.ENOENT and e.filename == str(target)
    assert isinstance(e, FileNotFoundError)
    with pytest.raises(IsADirectoryError) as info2:
        memacct.load_snapshot(NODE_SMALL).plot(tmp_path)
    assert isinstance(info2.value, memacct.MemacctIoError) and info2.value.filename == str(tmp_path)


def test_plot_without_per_connection_figures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    doc = node_doc()
    del doc["connections"]["process_bytes"], doc["connections"]["state_sample"]
    s = from_doc(doc)
    assert s.process_bytes is None and s.state_sample_bytes is None
    s.plot(tmp_path / "bare.png")
    assert (tmp_path / "bare.png").read_bytes().startswith(PNG_MAGIC)


# --- the example notebook runs -------------------------------------------------------------


def test_notebook_is_valid_nbformat4() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 4
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds.count("markdown") >= 3 and kinds.count("code") >= 4
    for cell in nb["cells"]:
        assert isinstance(cell["source"], (list, str)) and "metadata" in cell
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None  # committed clean
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)


def test_notebook_executes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    nb = json.loads(NOTEBOOK.read_text())
    monkeypatch.chdir(NOTEBOOK.parent)  # as Jupyter would run it
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        exec(compile(source, f"{NOTEBOOK.name}[cell {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "=== MEMORY DECOMPOSITION REPORT ===" in out and "0 violation(s)" in out
    assert "connection_counts" in out
    png = namespace["png"]
    assert Path(png).read_bytes().startswith(PNG_MAGIC) and str(png).startswith(str(tmp_path))
    assert namespace["violations"] == [] and len(namespace["df"]) == len(namespace["snap"].components())


# --- stubs match the native module ---------------------------------------------------------


def _stub_tree() -> ast.Module:
    return ast.parse(STUBS.read_text())


def test_stub_all_matches_module() -> None:
    from memacct import _memacct

    tree = _stub_tree()
    stub_all = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
    )
    public = {n for n in dir(_memacct) if not n.startswith("_")} | {"__version__"}
    assert set(stub_all) == public
    assert set(memacct.__all__) == public


@pytest.mark.parametrize(
    "cls",
    [memacct.Snapshot, memacct.Violation, memacct.Pool, memacct.PoolSlot, memacct.PoolStats, memacct.DomainStats],
    ids=lambda c: c.__name__,
)
def test_stub_methods_match_class(cls: type) -> None:
    stub = next(n for n in _stub_tree().body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    stubbed = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
    actual = {n for n in vars(cls) if not n.startswith("__")} | {
        n for n in ("__new__", "__eq__", "__reduce__") if n in vars(cls)
    }
    assert actual <= stubbed | {"__new__"}
    assert {n for n in stubbed if not n.startswith("__")} <= set(vars(cls))
    assert cls.__doc__ and all(getattr(cls, n).__doc__ for n in stubbed if not n.startswith("_"))


def test_decompose_functions_have_docstrings() -> None:
    for f in (memacct.load_snapshot, memacct.aggregate, memacct.trend, memacct.Snapshot.from_json):
        assert f.__doc__ and len(f.__doc__) > 80
    assert os.path.basename(memacct._present.__file__) == "_present.py"  # type: ignore[attr-defined]


def _stub_class(name: str) -> ast.ClassDef:
    return next(n for n in _stub_tree().body if isinstance(n, ast.ClassDef) and n.name == name)


def _stub_method(cls: str, name: str) -> ast.FunctionDef:
    return next(n for n in _stub_class(cls).body if isinstance(n, ast.FunctionDef) and n.name == name)


@pytest.mark.parametrize("cls", [memacct.Pool, memacct.PoolSlot], ids=lambda c: c.__name__)
def test_stub_exit_never_swallows(cls: type) -> None:
    """``__exit__`` is declared ``-> None`` (a ``bool`` would tell mypy that ``with``
    may swallow exceptions), and the runtime returns None."""
    returns = _stub_method(cls.__name__, "__exit__").returns
    assert returns is not None and ast.unparse(returns) == "None"
    p = memacct.Pool()
    obj = p if cls is memacct.Pool else p.slot(b"x")
    obj.__enter__()
    assert obj.__exit__(None, None, None) is None


def test_stub_hash_matches_runtime() -> None:
    """Classes unhashable at runtime say so in the stub (``__hash__: ClassVar[None]``)."""
    from memacct import _memacct

    unhashable = set()
    for node in _stub_tree().body:
        if not isinstance(node, ast.ClassDef) or issubclass(getattr(_memacct, node.name), BaseException):
            continue
        declared = [
            n
            for n in node.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == "__hash__"
        ]
        runtime = getattr(_memacct, node.name)
        if runtime.__hash__ is None:
            unhashable.add(node.name)
            assert declared and ast.unparse(declared[0].annotation) == "ClassVar[None]", node.name
        else:
            assert not declared, node.name
    assert {"Snapshot", "Violation", "PoolStats", "DomainStats"} <= unhashable


def test_stub_contains_is_positional_only() -> None:
    f = _stub_method("Pool", "__contains__")
    assert [a.arg for a in f.args.posonlyargs] == ["self", "handle"] and not f.args.args
