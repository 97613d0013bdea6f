"""Side-by-side PNG of the demo's two snapshots (before / after compaction).

usage: demo_plot.py BEFORE.json AFTER.json OUT.png
"""

import sys

import memacct
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MIB = 1024 * 1024
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#86bcb6", "#d37295", "#fabfd2", "#8cd17d"]


def main(before_path: str, after_path: str, out: str) -> None:
    snaps = [("before: states on heap", memacct.load_snapshot(before_path)),
             ("after: states in pool, hibernated", memacct.load_snapshot(after_path))]
    fig = Figure(figsize=(13, 6), layout="constrained")
    FigureCanvasAgg(fig)
    bars, per_conn = fig.subplots(1, 2, width_ratios=[1.4, 1])
    colour: dict[str, str] = {}
    labelled: set[str] = set()
    totals = []
    peak = 0.0
    for x, (title, snap) in enumerate(snaps):
        node = snap.node_snapshots()[0]
        top = 0.0
        for name, _group, value in node.components():
            c = colour.setdefault(name, COLOURS[len(colour) % len(COLOURS)])
            mib = value / MIB
            bars.bar(x, mib, bottom=top, width=0.55, color=c, edgecolor="white",
                     hatch="//" if name == "residual" else None,
                     label=None if name in labelled else name)
            labelled.add(name)
            top += mib
        d = node.to_dict()
        rss = d["per_node"]["rss_bytes"] / MIB
        bars.hlines(rss, x - 0.35, x + 0.35, colors="black", linestyles="dashed", label="OS RSS" if x == 0 else None)
        bars.text(x + 0.36, rss, f"RSS {rss:.1f} MiB", ha="left", va="center", fontsize="small")
        totals.append(d["per_connection"])
        peak = max(peak, rss, top)
    bars.set_xticks(range(len(snaps)), [t for t, _ in snaps])
    bars.set_ylim(0, peak * 1.1)
    bars.set_ylabel("MiB")
    bars.set_title("Node memory: components + residual = OS RSS")
    bars.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))

    keys = [("heap_bytes", "heap (process - state)"), ("state", "state"),
            ("off_heap_share_bytes", "off-heap share"), ("native_bytes", "native (pool)")]
    for x, pc in enumerate(totals):
        bottom = 0.0
        for i, (key, label) in enumerate(keys):
            v = pc[key]["mean"] if key == "state" else pc[key]
            v = (v or 0.0) / 1024
            per_conn.bar(x, v, bottom=bottom, width=0.55, color=COLOURS[i], label=label if x == 0 else None)
            bottom += v
        per_conn.text(x, bottom, f"{pc['total_bytes'] / 1024:.2f} KiB", ha="center", va="bottom")
    per_conn.set_ylim(0, max(pc["total_bytes"] for pc in totals) / 1024 * 1.12)
    per_conn.set_xticks(range(len(snaps)), ["before", "after"])
    per_conn.set_ylabel("KiB per connection (mean)")
    per_conn.set_title("Per connection (state is inside process memory)")
    per_conn.legend(fontsize="x-small")
    n = snaps[0][1].node_snapshots()[0].to_dict()["counts"]["connections"]
    fig.suptitle(f"memacct demo: {n} simulated MCP connections, before / after compaction into a memacct pool")
    fig.savefig(out, format="png", dpi=100)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
