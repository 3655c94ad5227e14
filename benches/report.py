#!/usr/bin/env python3
"""Prints the medians of the last `cargo bench` run as a Markdown table, with the
flywheel/tokio ratio and flywheel over the faster of tokio and smol.

Reads criterion's target/criterion/<group>/<runtime>/new/{benchmark,estimates}.json.
Usage: python3 benches/report.py [target/criterion]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
for bench in sorted(root.glob("**/new/benchmark.json")):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    group, runtime, param = meta["group_id"], meta["function_id"], meta["value_str"]
    if runtime and param:
        # BenchmarkId::new(runtime, flavour): the flavour joins the workload's name.
        group = f"{group}/{param}"
    rows.setdefault(group, {})[runtime or param] = est["median"]["point_estimate"]


def fmt(ns):
    if ns is None:
        return "–"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


print("| workload | flywheel | tokio | smol | flywheel/tokio | flywheel/best other |")
print("|---|---|---|---|---|---|")
for group in sorted(rows):
    r = rows[group]
    fw, tk, sm = r.get("flywheel"), r.get("tokio"), r.get("smol")
    others = [x for x in (tk, sm) if x]
    ratio = f"{fw / tk:.2f}" if fw and tk else "–"
    best = f"{fw / min(others):.2f}" if fw and others else "–"
    print(f"| {group} | {fmt(fw)} | {fmt(tk)} | {fmt(sm)} | {ratio} | {best} |")
