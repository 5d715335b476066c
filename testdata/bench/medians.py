#!/usr/bin/env python3
"""Medians of hyperfine JSON exports taken in interleaved rounds, per command, with each
command's speed relative to a baseline command.

    python3 medians.py BASELINE_NAME ROUND.json...
"""
import json
import statistics
import sys

base_name, paths = sys.argv[1], sys.argv[2:]
times = {}
for path in paths:
    with open(path) as f:
        for x in json.load(f)["results"]:
            times.setdefault(x["command"], []).extend(x["times"])
base = statistics.median(times[base_name])
width = max(map(len, times))
for name, t in times.items():
    m = statistics.median(t)
    print(
        f"{name:{width}s}  median {m * 1000:8.1f} ms (min {min(t) * 1000:.1f}, "
        f"max {max(t) * 1000:.1f}, {len(t)} runs)  {base_name} / this = {base / m:5.1f}x"
    )
