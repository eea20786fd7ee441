#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarises one or more `dagbench --csv` files as markdown: per shape and worker count, each engine's
median tasks/s (the median of the runs' medians; with several files, the spread of the runs' medians in
brackets), the ratios the issue's targets name, the fraction of tasks through the ring, and the targets
(>= 1.5x oneTBB, >= 2x channel, at 2 and 4 workers) met in how many of the runs.

    dag/scripts/dagbench_summary.py run1.csv [run2.csv ...]
"""
import collections
import csv
import statistics
import sys

SHAPES = ["linear_chain", "binary_tree", "wavefront", "embarrassingly_parallel", "graph_traversal"]
ENGINES = ["ringkit", "ringkit_queued", "channel", "channel_queued", "tbb"]


def load(path):
    d = collections.defaultdict(dict)
    with open(path) as f:
        for r in csv.DictReader(f):
            d[(r["shape"], r["engine"], r["workers"])][r["metric"]] = float(r["value"])
    return d


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    runs = [load(p) for p in sys.argv[1:]]
    n = len(runs)

    def meds(s, e, w, metric="tasks_per_s"):
        return [r[(s, e, w)][metric] for r in runs if (s, e, w) in r and metric in r[(s, e, w)]]

    print(f"M tasks/s, median of {n} run(s)" + (" [lowest-highest run median]" if n > 1 else "") + "\n")
    print("| shape | w | " + " | ".join(ENGINES) + " | ringkit/tbb | ringkit/channel | ringkit_queued/channel_queued | through ring (ringkit) |")
    print("|---|---|" + "---|" * len(ENGINES) + "---|---|---|---|")
    verdicts = []
    for s in SHAPES:
        for w in ["1", "2", "4"]:
            if not meds(s, "ringkit", w):
                continue
            cells = []
            for e in ENGINES:
                v = meds(s, e, w)
                if not v:
                    cells.append("-")
                    continue
                cell = f"{statistics.median(v) / 1e6:.1f}"
                if n > 1:
                    cell += f" [{min(v) / 1e6:.1f}-{max(v) / 1e6:.1f}]"
                cells.append(cell)

            def ratio(a, b):
                per_run = [x / y for x, y in zip(meds(s, a, w), meds(s, b, w))]
                return per_run

            rt = ratio("ringkit", "tbb")
            rc = ratio("ringkit", "channel")
            rq = ratio("ringkit_queued", "channel_queued")
            fmt = lambda v: (f"{statistics.median(v):.2f}×" + (f" [{min(v):.2f}-{max(v):.2f}]" if n > 1 else "")) if v else "-"
            q = meds(s, "ringkit", w, "queue_fraction")
            qs = f"{100 * statistics.median(q):.2f}%" if q else "-"
            print(f"| {s} | {w} | " + " | ".join(cells) + f" | {fmt(rt)} | {fmt(rc)} | {fmt(rq)} | {qs} |")
            if w in ("2", "4"):
                verdicts.append((s, w, "tbb", 1.5, rt))
                verdicts.append((s, w, "channel", 2.0, rc))
    print("\nTargets (per run: ratio of that run's medians):\n")
    print("| shape | w | ringkit/tbb ≥ 1.5× | ringkit/channel ≥ 2× |")
    print("|---|---|---|---|")
    by = collections.defaultdict(dict)
    for s, w, peer, want, v in verdicts:
        met = sum(1 for x in v if x >= want)
        by[(s, w)][peer] = f"met in {met}/{len(v)} runs (median {statistics.median(v):.2f}×)"
    for (s, w), d in by.items():
        print(f"| {s} | {w} | {d['tbb']} | {d['channel']} |")
    for name in ["ring_single", "ring_batch128"]:
        a = [r[(name, "ringkit_mpmc", "2")]["items_per_s"] for r in runs if (name, "ringkit_mpmc", "2") in r]
        b = [r[(name, "channel", "2")]["items_per_s"] for r in runs if (name, "channel", "2") in r]
        if a and b:
            print(f"\n{name}: ringkit MpmcQueue {statistics.median(a) / 1e6:.1f} M items/s, channel "
                  f"{statistics.median(b) / 1e6:.1f} M items/s (per run: " +
                  ", ".join(f"{x / 1e6:.1f} vs {y / 1e6:.1f}" for x, y in zip(a, b)) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
