#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main benchmark job, run by `make bench` after a Release build. Arguments go to ringbench.
# Each system's benchmark runs after it when it is built; results land in bench-results/.
# A benchmark whose self-check fails (a lost or duplicated item, a dependency violated) exits non-zero,
# and so does this script, after running the rest.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-results
status=0
run() {
  echo "== $*"
  "$@" || { echo "run-bench: FAILED: $*" >&2; status=1; }
}
run build/bin/ringbench "$@"
[ -x build/bin/logbench ] && run build/bin/logbench --quick --interleave --csv bench-results/logbench.csv
[ -x build/bin/dagbench ] && run build/bin/dagbench --quick --csv bench-results/dagbench.csv
exit $status
