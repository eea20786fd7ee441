#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Draws a Chrome/Perfetto trace written by `dagbench --trace FILE` (or dag::write_chrome_trace) as a
PNG timeline with gnuplot: one row per worker, one bar per task (blue) or stream item (orange).

    dag/scripts/trace_png.py trace.json out.png [--from-us A --to-us B]

For interactive viewing open the JSON in https://ui.perfetto.dev (Open trace file) instead.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("png")
    ap.add_argument("--from-us", type=float, default=None, help="start of the window (µs since the run began)")
    ap.add_argument("--to-us", type=float, default=None, help="end of the window")
    a = ap.parse_args()
    with open(a.trace) as f:
        doc = json.load(f)
    events = [e for e in doc["traceEvents"] if e.get("ph") == "X"]
    if not events:
        print(f"trace_png: no complete ('X') events in {a.trace}", file=sys.stderr)
        return 1
    lo = a.from_us if a.from_us is not None else min(e["ts"] for e in events)
    hi = a.to_us if a.to_us is not None else max(e["ts"] + e["dur"] for e in events)
    workers = sorted({e["tid"] for e in events})
    with tempfile.TemporaryDirectory() as d:
        paths = {"task": os.path.join(d, "task.dat"), "item": os.path.join(d, "item.dat")}
        files = {k: open(p, "w") for k, p in paths.items()}
        for e in events:
            x0, x1 = e["ts"], e["ts"] + e["dur"]
            if x1 < lo or x0 > hi:
                continue
            y = workers.index(e["tid"])
            files[e.get("cat", "task") if e.get("cat") in files else "task"].write(
                f"{(x0 + x1) / 2} {y} {x0} {max(x1, x0 + 0.05)} {y - 0.35} {y + 0.35}\n")
        for f in files.values():
            f.close()
        plots = []
        for cat, color in (("task", "#1f77b4"), ("item", "#ff7f0e")):
            if os.path.getsize(paths[cat]) > 0:
                plots.append(f"'{paths[cat]}' using 1:2:3:4:5:6 with boxxyerror fs solid 0.8 noborder "
                             f"lc rgb '{color}' title '{cat}s'")
        ytics = ", ".join(f"'worker {w}' {i}" for i, w in enumerate(workers))
        script = f"""
set terminal pngcairo size 1400,{160 + 60 * len(workers)} font ',10'
set output '{a.png}'
set xlabel 'time since the run started (µs)'
set xrange [{lo}:{hi}]
set yrange [-0.6:{len(workers) - 0.4}]
set ytics ({ytics})
set key outside top center horizontal
set title 'dag run timeline ({len(events)} callables)'
plot {", ".join(plots)}
"""
        try:
            subprocess.run(["gnuplot"], input=script, text=True, check=True)
        except FileNotFoundError:
            print("trace_png: gnuplot not found (Debian: gnuplot-nox)", file=sys.stderr)
            return 1
    print(f"trace_png: wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
