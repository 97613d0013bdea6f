"""Presentation of a decomposition: ``Snapshot.to_pandas`` and ``Snapshot.plot``.

Every figure comes from the core (``Snapshot.components()``, ``to_dict()``,
``process_bytes``, ``state_sample_bytes``); this module only lays them out.
pandas and matplotlib are optional: each is imported when first needed, and a
missing one raises an ``ImportError`` that says how to install it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pragma: no cover
    from ._memacct import Snapshot

MIB = 1024.0 * 1024.0

_GROUP_COLOURS = {
    "processes": ("#1f4e79", "#2e75b6", "#9dc3e6"),
    "system": ("#7f6000", "#bf9000", "#ffd966", "#ffe699", "#fff2cc"),
    "allocators": ("#7f7f7f",),
    "native": ("#375623", "#a9d08e"),
    "os": ("#7030a0",),
    "residual": ("#c00000",),
}


def _require(module: str, feature: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - exercised with the module hidden
        raise ImportError(
            f"memacct.Snapshot.{feature}() needs {module}, which is not installed: "
            f"pip install {extra} (it is optional; nothing else in memacct needs it)"
        ) from e


def to_pandas(snapshot: Snapshot) -> Any:
    """See ``Snapshot.to_pandas``."""
    pd = _require("pandas", "to_pandas", "pandas")
    if not snapshot.is_cluster:
        rows = [
            {"component": name, "group": group, "bytes": value, "mib": value / MIB}
            for name, group, value in snapshot.components()
        ]
        return pd.DataFrame(rows, columns=["component", "group", "bytes", "mib"])
    rows = []
    for node in snapshot.node_snapshots():
        d = node.to_dict()
        row: dict[str, Any] = {"node": node.node}
        for name, _group, value in node.components():
            row[name] = value
        row["rss_bytes"] = d["per_node"]["rss_bytes"]
        row["rss_mib"] = d["per_node"]["rss_bytes"] / MIB
        row["connections"] = d["counts"]["alive"]
        row["per_connection_total_bytes"] = d["per_connection"]["total_bytes"]
        row["residual_pct_of_rss"] = d["per_node"]["residual_pct_of_rss"]
        rows.append(row)
    return pd.DataFrame(rows)


def _colour(group: str, index: int) -> str:
    colours = _GROUP_COLOURS.get(group, ("#999999",))
    return colours[index % len(colours)]


def _bins(n: int) -> int:
    return min(30, max(5, n // 2))


def png(snapshot: Snapshot, title: Union[str, None] = None) -> bytes:
    """The PNG of ``Snapshot.plot`` (which writes it to its file)."""
    _require("matplotlib", "plot", "matplotlib")
    # The Agg canvas, without pyplot: no display, no global backend switch,
    # no figure left open in the caller's pyplot state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    nodes = snapshot.node_snapshots()
    fig = Figure(figsize=(max(8.0, 3.0 + 2.2 * len(nodes)), 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    bars, dist = fig.subplots(1, 2, width_ratios=[max(1, len(nodes)), 1.6])

    # Panel 1: one stacked bar per node, bottom to top as the core lists the
    # components; a negative residual is drawn downwards from the top.
    labelled: set[str] = set()
    for x, node in enumerate(nodes):
        top = 0.0
        seen: dict[str, int] = {}
        for name, group, value in node.components():
            i = seen.get(group, 0)
            seen[group] = i + 1
            mib = value / MIB
            label = name if name not in labelled else None
            labelled.add(name)
            hatch = "//" if name == "residual" else None
            bars.bar(
                x, mib, bottom=top, width=0.6, color=_colour(group, i), edgecolor="white", hatch=hatch, label=label
            )
            top += mib
        rss = node.to_dict()["per_node"]["rss_bytes"] / MIB
        rss_label = "RSS" if x == 0 else None
        bars.hlines(rss, x - 0.4, x + 0.4, colors="black", linestyles="dashed", label=rss_label)
    bars.set_xticks(range(len(nodes)), [n.node or "" for n in nodes])
    bars.set_ylabel("MiB")
    bars.set_title("Node memory: components + residual = RSS")
    bars.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))

    # Panel 2: per-connection distribution (process memory; sampled states).
    drawn = False
    for node in nodes:
        prefix = f"{node.node}: " if len(nodes) > 1 else ""
        process = node.process_bytes
        if process:
            label = f"{prefix}process memory (n={len(process)})"
            dist.hist([p / 1024 for p in process], bins=_bins(len(process)), alpha=0.6, label=label)
            drawn = True
        states = node.state_sample_bytes
        if states:
            label = f"{prefix}state sample (n={len(states)})"
            dist.hist([s / 1024 for s in states], bins=_bins(len(states)), alpha=0.6, label=label)
            drawn = True
    if drawn:
        dist.set_xlabel("KiB per connection")
        dist.set_ylabel("connections")
        dist.legend(fontsize="x-small")
    else:
        note = "no per-connection figures\nin the snapshot"
        dist.text(0.5, 0.5, note, ha="center", va="center", transform=dist.transAxes)
        dist.set_axis_off()
    dist.set_title("Per connection")
    if title is None:
        title = "memacct decomposition: " + ", ".join(n.node or "" for n in nodes)
        missing = snapshot.missing
        if missing:
            title += " (missing: " + ", ".join(m["node"] for m in missing) + ")"
    fig.suptitle(title)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()
