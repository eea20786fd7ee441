#!/usr/bin/env bash
# The main benchmark job, run by `make bench` after a Release build. Arguments are passed through.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-results
if [ -x build/bin/ringbench ]; then
  exec build/bin/ringbench "$@"
fi
# Until ringbench exists: the SPSC micro-benchmarks, 5 repeats, aggregates only.
exec build/bin/spsc_queue_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out=bench-results/spsc_queue_bench.json --benchmark_out_format=json "$@"
