#!/bin/sh
# logbench's latency paths, briefly: --interleave (every library in one process) and one library in its
# own process. Each must exit 0 (every line written) and leave the CSV rows its libraries imply, each
# with a positive value.   logbench_smoke.sh LOGBENCH
set -eu
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
check() {  # check CSV ROWS: the header, ROWS rows, every value > 0
  rows=$(tail -n +2 "$1" | wc -l)
  [ "$(head -n 1 "$1")" = "library,threads,metric,value" ] || { echo "FAIL: $1: bad header"; exit 1; }
  [ "$rows" -eq "$2" ] || { echo "FAIL: $1: $rows rows, expected $2"; cat "$1"; exit 1; }
  bad=$(tail -n +2 "$1" | awk -F, '!($4 + 0 > 0) || $4 !~ /^[0-9.]+$/' | wc -l)
  [ "$bad" -eq 0 ] || { echo "FAIL: $1: $bad rows without a positive value"; cat "$1"; exit 1; }
}
run() {  # run OUT ARGS...: logbench's output to OUT; on a non-zero exit, show it and fail
  out=$1
  shift
  rc=0
  "$bin" "$@" > "$out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { cat "$out"; echo "FAIL: logbench $* exited $rc"; exit 1; }
}
run "$dir/i.txt" --interleave --rounds 8 --no-throughput --dir "$dir" --csv "$dir/i.csv"
grep -q 'every library in one process' "$dir/i.txt" || { echo "FAIL: no interleave banner"; cat "$dir/i.txt"; exit 1; }
grep -q 'spdlog_async / library' "$dir/i.txt" || { echo "FAIL: no ratio table"; cat "$dir/i.txt"; exit 1; }
check "$dir/i.csv" 36   # 6 libraries x 2 thread counts x 3 metrics
for lib in ringkit_shared ringkit_lanes ringkit_shared_noflight ringkit_lanes_noflight spdlog_async boost_log_async; do
  [ "$(grep -c "^$lib,[14],p50_ns," "$dir/i.csv")" -eq 2 ] || { echo "FAIL: $lib missing"; exit 1; }
done
run "$dir/o.txt" --only ringkit_lanes --rounds 8 --no-throughput --dir "$dir" --csv "$dir/o.csv"
check "$dir/o.csv" 6
# a bad option value is a usage error (exit 2)
set +e
"$bin" --rounds 1 > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL: --rounds 1 exited $rc, expected 2"; exit 1; }
# a run whose process dies (its log directory does not exist) is reported FAILED, exits 1 and writes no
# figures for it
set +e
"$bin" --only ringkit_lanes --rounds 8 --no-throughput --dir "$dir/missing" --csv "$dir/f.csv" > "$dir/f.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$dir/f.txt"; echo "FAIL: a dead run exited $rc, expected 1"; exit 1; }
grep -q 'FAILED' "$dir/f.txt" || { cat "$dir/f.txt"; echo "FAIL: a dead run was not reported"; exit 1; }
check "$dir/f.csv" 0
# no log file left behind
[ -z "$(ls "$dir" | grep '^logbench-')" ] || { echo "FAIL: log files left in $dir"; ls "$dir"; exit 1; }
echo "logbench smoke: ok"
