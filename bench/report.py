#!/usr/bin/env python3
"""Writes the figures of the last `make bench` run into BENCHMARKS.md.

`report.py` updates the sections of `make bench`; `report.py NAME ...` only
the named ones (`bench-100k` is written by `make bench-100k`).

Reads criterion's estimates (target/criterion/...) and the Erlang benchmarks'
JSON (target/bench-corpus/erlang.json, codec.json); replaces the text between
the `<!-- bench:NAME:begin/end -->` markers of each section. Every figure of a
section comes from one run.
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
CODEC = ROOT / "target" / "bench-corpus" / "codec.json"
POOL = ROOT / "target" / "bench-corpus" / "pool.json"
DECOMPOSE = ROOT / "target" / "bench-corpus" / "decompose.json"
BENCH_100K = ROOT / "target" / "bench-corpus" / "bench100k.json"
DOC = ROOT / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"


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


def stamp() -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Last run: {now} on {cpu()} ({platform.system()}), command `make bench`."


def term_sizing() -> list[str]:
    out = [stamp(), ""]
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
    return out


def codec() -> list[str]:
    if not CODEC.exists():
        return ["(no codec results: run `make bench`)", ""]
    c = json.loads(CODEC.read_text())
    out = [stamp(), ""]
    out.append(
        f"{c['states']} states measured; dictionary trained on {c['training_states']} other "
        f"connections in {c['training_ms']:.0f} ms ({c['dictionary_bytes']} bytes). "
        f"OTP {c['otp']}, {c['schedulers']} schedulers, median of {c['rounds']} rounds. "
        f"States not restored `=:=`: **{c['lost']}**."
    )
    out.append("")
    out.append("| bytes per state | plain ETF | `term_to_binary(T, [compressed])` | memacct, no dictionary | memacct, trained dictionary |")
    out.append("|---|---|---|---|---|")
    out.append(
        f"| mean | {c['etf_bytes_per_state']:.0f} | {c['zlib_bytes_per_state']:.0f} | "
        f"{c['memacct_bytes_per_state']:.0f} (**{c['ratio_vs_zlib']:.2f}×** zlib; target ≤0.67×) | "
        f"{c['memacct_dict_bytes_per_state']:.0f} (**{c['dict_ratio_vs_zlib']:.2f}×** zlib; target ≤0.33×) |"
    )
    out.append("")
    out.append("| round trip per state (live term → blob → live term) | time | speed-up vs zlib (target ≥3×) |")
    out.append("|---|---|---|")
    out.append(f"| `binary_to_term(term_to_binary(T, [compressed]))` | {c['baseline_round_trip_ns'] / 1000:.1f} µs | 1.0× |")
    out.append(f"| `memacct:decompress(memacct:compress(T))` | {c['memacct_round_trip_ns'] / 1000:.1f} µs | **{c['speedup']:.1f}×** |")
    out.append(
        f"| same, with the dictionary | {c['memacct_dict_round_trip_ns'] / 1000:.1f} µs | **{c['dict_speedup']:.1f}×** |"
    )
    out.append("")
    parts = c.get("parts")
    if parts:
        us = lambda k: f"{parts[k] / 1000:.1f} µs"  # noqa: E731
        out.append("Each step timed alone over the same states (same run; a memacct compress includes its `term_to_binary/1`):")
        out.append("")
        out.append("| step | zlib baseline | memacct, no dictionary | memacct, trained dictionary |")
        out.append("|---|---|---|---|")
        out.append(
            f"| live term → blob | `term_to_binary(T, [compressed])` {us('zlib_term_to_binary_ns')} | "
            f"`compress/1` {us('compress_ns')} (of which `term_to_binary/1` {us('term_to_binary_ns')}) | "
            f"`compress/2` {us('compress_dict_ns')} |"
        )
        out.append(
            f"| blob → ETF | (inside `binary_to_term/1`) | `decompress_etf/1` {us('decompress_etf_ns')} | "
            f"`decompress_etf/2` {us('decompress_etf_dict_ns')} |"
        )
        out.append(
            f"| ETF → live term | `binary_to_term/1` of zlib ETF {us('zlib_binary_to_term_ns')} "
            f"(of plain ETF {us('binary_to_term_ns')}) | the NIF's term builder {us('build_term_ns')} | same |"
        )
        out.append("")
    return out


def pool() -> list[str]:
    if not POOL.exists():
        return ["(no pool results: run `make bench`)", ""]
    p = json.loads(POOL.read_text())
    out = [stamp(), ""]
    out.append(f"OTP {p['otp']}, {p['schedulers']} schedulers.")
    out.append("")
    out.append(
        "| acquire + release round trip | value ETF bytes | stored bytes | memacct_pool | "
        "seed's gen_server + queue + ETS | speed-up (target ≥20×) |"
    )
    out.append("|---|---|---|---|---|---|")
    rows = (
        ("roundtrip_small_value", "small value (stored as ETF: below `compress_min_bytes`)"),
        ("roundtrip_connection_state", "connection state, compressed (default)"),
        ("roundtrip_connection_state_dictionary", "connection state, compressed with a trained dictionary"),
        ("roundtrip_connection_state_plain_etf", "connection state as plain ETF (`compress_min_bytes => infinity`)"),
    )
    for key, label in rows:
        if key not in p:
            continue
        r = p[key]
        stored = r.get("stored_bytes")
        out.append(
            f"| {label} | {r['value_etf_bytes']} | {stored if stored is not None else '–'} | "
            f"{r['memacct_pool_ns_per_op']:.0f} ns | "
            f"{r['seed_genserver_ets_ns_per_op']:.0f} ns | **{r['speedup']:.2f}×** |"
        )
    parts = p.get("roundtrip_small_value", {}).get("parts")
    if parts:
        out.append("")
        out.append(
            "What the small-value round trip is made of (same run): `term_to_binary/1` of the value "
            f"{parts['term_to_binary_ns']:.0f} ns, the cheapest pool NIF call (`contains`) "
            f"{parts['pool_contains_call_ns']:.0f} ns; in the seed, its ETS insert + delete alone "
            f"{parts['seed_ets_insert_delete_ns']:.0f} ns and its call + cast with no work behind them "
            f"{parts['seed_call_cast_ns']:.0f} ns. The 20× target is "
            f"{p['roundtrip_small_value']['seed_genserver_ets_ns_per_op'] / 20:.0f} ns."
        )
    out.append("")
    s = p["scaling"]
    out.append(
        f"Throughput, {s['processes']} processes × {s['ops_per_process']} acquire/release: "
        f"{s['ops_per_sec_1_scheduler'] / 1e6:.2f} M ops/s on 1 scheduler, "
        f"{s['ops_per_sec_2_schedulers'] / 1e6:.2f} M ops/s on 2: **{s['speedup']:.2f}×** (target ≥1.6×)."
    )
    if "seed_ops_per_sec" in s:
        out.append(
            f"The seed's pool under the same {s['processes']} processes (2 schedulers, every call "
            f"through its one gen_server): {s['seed_ops_per_sec'] / 1e6:.2f} M ops/s, "
            f"so memacct is **{s['speedup_vs_seed']:.1f}×** its throughput."
        )
    out.append("")
    h = p["hit_ratio"]
    out.append(
        f"Hit ratio at capacity {h['capacity']} over {h['keys']} keys, {h['requests']} requests "
        f"(Zipf s = {h['zipf_s']}; scan-heavy: the same Zipf trace with a scan of 2 × capacity never-seen keys every 5,000 requests):"
    )
    out.append("")
    out.append("| policy | Zipf | scan-heavy |")
    out.append("|---|---|---|")
    for pol in sorted(h["zipf"], key=lambda k: -h["zipf"][k]):
        out.append(f"| {pol} | {h['zipf'][pol]:.3f} | {h['scan_heavy'][pol]:.3f} |")
    out.append("")
    return out


def decompose() -> list[str]:
    if not DECOMPOSE.exists():
        return ["(no decomposition results: run `make bench`)", ""]
    d = json.loads(DECOMPOSE.read_text())
    out = [stamp(), ""]
    out.append(f"OTP {d['otp_release']}.")
    out.append("")
    out.append(
        "| connections | `memacct:decompose/1` | seed's approach (`process_info` + `sys:get_state` + `flat_size` per pid) "
        "| speed-up (target ≥5× at 10K) | residual (% of RSS) | valid at 5% | per-connection: memacct total / seed's heap+state |"
    )
    out.append("|---|---|---|---|---|---|---|")
    for r in d["results"]:
        out.append(
            f"| {r['connections']} | {r['memacct_ms']:.1f} ms | {r['seed_ms']:.1f} ms | **{r['speedup']:.1f}×** | "
            f"{r['residual_pct_of_rss']:.1f}% | {'yes' if r['valid'] else 'no: ' + ', '.join(v['rule'] if isinstance(v, dict) else str(v) for v in r['violations'])} | "
            f"{r['memacct_total_bytes']:.0f} B / {r['seed_heap_plus_state_bytes']:.0f} B |"
        )
    out.append("")
    out.append("State sampling (200 states per run; the error is against the mean over every state, measured once for the check):")
    out.append("")
    out.append("| connections | run | estimate error | 95% CI half-width | full mean inside the CI |")
    out.append("|---|---|---|---|---|")
    for r in d["results"]:
        for i, smp in enumerate(r["sampling"], 1):
            out.append(
                f"| {r['connections']} | {i} | {smp['error_pct_of_full_mean']:+.2f}% | ±{smp['half_width_pct_of_full_mean']:.2f}% | "
                f"{'yes' if smp['full_mean_within_ci'] else 'no'} |"
            )
    out.append("")
    return out


def bench_100k() -> list[str]:
    if not BENCH_100K.exists():
        return ["(no results: run `make bench-100k`)", ""]
    d = json.loads(BENCH_100K.read_text())
    n = d["connections"]
    by = {r["config"]: r for r in d["results"]}
    kib = lambda b: f"{b / 1024:.2f} KiB"  # noqa: E731
    mib = lambda b: f"{b / 2**20:.1f} MiB"  # noqa: E731
    out = [stamp().replace("`make bench`", "`make bench-100k`"), ""]
    out.append(
        f"OTP {d['otp_release']}, {d['schedulers']} schedulers, {n:,} connections per configuration, each "
        "configuration in a fresh VM; decomposed by `memacct:decompose/1` and validated at the default 5% tolerance."
    )
    out.append("")
    out.append(
        "| configuration | process | of which state (95% CI) | off-heap | native (pool) | **total per connection** "
        "| vs heap | node RSS | residual (% of RSS) | allocated, maybe unwritten | valid |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    base = by["heap"]["per_connection"]["total_bytes"]
    names = {
        "heap": "state on the heap (seeds)",
        "hibernate": "heap + hibernate",
        "pool": "memacct pool",
        "pool_dict": "memacct pool, trained dictionary",
    }
    for key in [k for k in names if k in by]:
        r = by[key]
        pc, st, nd = r["per_connection"], r["state"], r["node"]
        valid = "yes" if r["valid"] else "no: " + ", ".join(v["rule"] for v in r["violations"])
        versus = "baseline" if key == "heap" else f"{base / pc['total_bytes']:.2f}× smaller"
        out.append(
            f"| {names[key]} | {kib(pc['process_bytes'])} | {kib(st['mean'])} ({kib(st['ci_low'])} .. {kib(st['ci_high'])}) "
            f"| {kib(pc['off_heap_share_bytes'])} | {kib(pc['native_bytes'])} | **{kib(pc['total_bytes'])}** "
            f"| {versus} | {mib(nd['rss_bytes'])} "
            f"| {mib(nd['residual_bytes'])} ({nd['residual_pct_of_rss']:+.1f}%) | {mib(nd['unwritten_bound_bytes'])} | {valid} |"
        )
    out.append("")
    out.append(
        "*Allocated, maybe unwritten*: carrier free space plus the connections' heap reserve (heap allocated, not yet "
        "written; estimated from the 200 sampled processes), which `erlang:memory/0` counts and the RSS does not until "
        "written; validation accepts a residual down to −(5% of RSS + it), never above +5%."
    )
    out.append("")
    pool = by["pool"]
    ratio = pool["per_connection"]["total_bytes"] / base
    all_valid = all(r["valid"] for r in d["results"])
    out.append(
        f"Target: per-connection total in the pool ≤ 1/4 of the on-heap baseline: **{ratio:.3f}** of it "
        f"({'met' if ratio <= 0.25 else 'MISSED'}; default pool, no dictionary); decomposition valid in all "
        f"{len(d['results'])}: **{'yes' if all_valid else 'NO'}**."
    )
    for key in ("pool", "pool_dict"):
        if key not in by:
            continue
        ps = by[key].get("pool") or {}
        entries = ps.get("in_use", n)
        if ps:
            out.append(
                f"{names[key].capitalize()}: {entries:,} entries, {mib(ps['bytes_stored'])} stored, "
                f"{mib(ps['bytes_allocated'])} allocated; ETF of a state {by[key]['etf_bytes_per_state']:.0f} B, "
                f"in the pool {ps['bytes_stored'] / entries:.0f} B."
            )
    waits = [f"{k} {r['settled']['waited_ms'] / 1000:.1f} s" for k, r in by.items() if r.get("settled") and "waited_ms" in r["settled"]]
    if waits:
        out.append(f"Waited for `mseg_alloc` to release its cached carriers before measuring: {', '.join(waits)}.")
    out.append(
        "Timings: " + ", ".join(
            f"{k}: start{'' if k == 'heap' else ' + ' + k} {r['start_ms'] / 1000:.1f} s, decompose {r['decompose_ms']:.0f} ms"
            for k, r in by.items()
        ) + "."
    )
    out.append("")
    heap_conn = by["heap"]["node"]["connections_bytes"]
    pool_conn = pool["node"]["connections_bytes"]
    out.append("Against the seeds' own claims (002, \"Real Numbers - 100K Simulation\"):")
    out.append("")
    out.append(
        f"- \"203 MB total / 2.03 MB per conn\" at 100K: the two figures disagree by 1000× (203 MB / 100,000 is "
        f"2.03 KB). Measured here at {n:,}: the connections hold {mib(heap_conn)} with states on the heap "
        f"({kib(base)} each) and {mib(pool_conn)} in the pool ({kib(pool['per_connection']['total_bytes'])} each); "
        f"the node's RSS is {mib(by['heap']['node']['rss_bytes'])} and {mib(pool['node']['rss_bytes'])} "
        f"({by['heap']['node']['rss_bytes'] / pool['node']['rss_bytes']:.1f}× less). "
        "The seed's 203 MB is an `erlang:memory(total)`-style figure of a different simulation (its states, its "
        "measurement, no RSS), so only the order of magnitude is comparable: our per-connection totals are KiB, "
        "like its \"203 MB at 100K\", not MB like its \"2.03 MB per conn\"."
    )
    out.append(
        "- \"<2 MB per connection\" (and the 4 MB baseline): would be ~200 GB at 100K; nothing in an erlmcp-like "
        f"connection comes near it — the on-heap total here is {kib(base)}. The target is met by three orders of "
        "magnitude without memacct; what memacct adds is that the figure is measured, decomposed and validated, "
        f"and the pool's {base / pool['per_connection']['total_bytes']:.1f}× on top."
    )
    out.append("")
    return out


SECTIONS = {"term-sizing": term_sizing, "codec": codec, "pool": pool, "decompose": decompose}
ON_REQUEST = {"bench-100k": bench_100k}


def main() -> int:
    text = DOC.read_text()
    names = sys.argv[1:] or list(SECTIONS)
    every = {**SECTIONS, **ON_REQUEST}
    unknown = [n for n in names if n not in every]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(every)}", file=sys.stderr)
        return 2
    for name in names:
        make = every[name]
        begin, end = markers(name)
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            print(f"{DOC} lacks the {begin} markers", file=sys.stderr)
            return 1
        body = "\n".join([begin, "", *make(), end])
        text = pattern.sub(lambda _: body, text)
        print(body)
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
