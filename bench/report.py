#!/usr/bin/env python3
"""Writes the figures of the last `make bench` run into BENCHMARKS.md.

Reads criterion's estimates (target/criterion/...) and the Erlang benchmark's
JSON (target/bench-corpus/erlang.json); replaces the text between the
`<!-- bench:term-sizing -->` markers. Every figure comes from the same run.
"""
from __future__ import annotations

import datetime
import json
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRIT = ROOT / "target" / "criterion"
ERL = ROOT / "target" / "bench-corpus" / "erlang.json"
DOC = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:term-sizing:begin -->", "<!-- bench:term-sizing:end -->"


def criterion(group: str, function: str) -> tuple[float, int] | None:
    """Mean ns per iteration and bytes per iteration, or None if not run."""
    base = CRIT / group / function / "new"
    try:
        est = json.loads((base / "estimates.json").read_text())
        meta = json.loads((base / "benchmark.json").read_text())
    except FileNotFoundError:
        return None
    return est["mean"]["point_estimate"], meta["throughput"]["Bytes"]


def mbps(ns: float, nbytes: int) -> float:
    return nbytes / (ns * 1e-9) / 1e6


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def section() -> str:
    out = [BEGIN, ""]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"Last run: {now} on {cpu()} ({platform.system()}), command `make bench`.")
    out.append("")
    if ERL.exists():
        erl = json.loads(ERL.read_text())
        out.append(f"### Inside the BEAM (OTP {erl['otp']}, {erl['schedulers']} schedulers, median of {erl['rounds']} rounds)")
        out.append("")
        out.append("| corpus | terms | ETF bytes | `binary_to_term` + `flat_size` | `memacct:etf_flat_size` | speed-up (target ≥10×) | `erts_debug:flat_size` | `memacct:flat_size` | time ratio (target ≤2×) | mismatches |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for c in erl["corpora"]:
            out.append(
                f"| {c['name']} | {c['terms']} | {c['etf_bytes']} | {c['etf_baseline_ns_per_term']:.0f} ns | "
                f"{c['etf_memacct_ns_per_term']:.0f} ns | **{c['etf_speedup']:.1f}×** | "
                f"{c['live_baseline_ns_per_term']:.0f} ns | {c['live_memacct_ns_per_term']:.0f} ns | "
                f"**{c['live_time_ratio']:.2f}×** | {c['mismatches']} |"
            )
        out.append("")
    else:
        out.append("(no Erlang results: run `make bench`)")
        out.append("")
    out.append("### Core throughput (criterion, `cargo bench -p memacct-core --bench scan`)")
    out.append("")
    out.append("| corpus | bytes | `term_size` | plain byte scan | sizing / scan time |")
    out.append("|---|---|---|---|---|")
    for group in ("states", "vectors"):
        size = criterion(group, "term_size")
        scan = criterion(group, "byte_scan")
        if size and scan:
            out.append(
                f"| {group} | {size[1]} | {mbps(*size):.0f} MB/s | {mbps(*scan):.0f} MB/s | {size[0] / scan[0]:.1f}× |"
            )
    out.append("")
    out.append(END)
    return "\n".join(out)


def main() -> int:
    text = DOC.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        print(f"{DOC} lacks the {BEGIN} markers", file=sys.stderr)
        return 1
    new = pattern.sub(lambda _: section(), text)
    DOC.write_text(new)
    print(section())
    return 0


if __name__ == "__main__":
    sys.exit(main())
