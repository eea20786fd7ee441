#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exhaustively checks one Promela model with spin: safety (assertions, invalid end states = deadlock or
# a thread parked forever) and liveness (the model's ltl claim under weak fairness).
# Usage: run_model.sh [--expect-violation] MODEL.pml [-DMUTANT_X]
#   A mutant plants a known bug; with --expect-violation the script succeeds only if spin finds it (and
#   still fails on any setup error, so a broken toolchain can never pass as "violation found").
set -euo pipefail
expect_violation=0
if [ "${1:-}" = "--expect-violation" ]; then expect_violation=1; shift; fi
model=$(realpath "$1"); shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$model" model.pml
spin "$@" -a model.pml > spin.log
gcc -O1 -DNOCLAIM -o pan_safety pan.c
gcc -O1 -DNFAIR=3 -o pan_live pan.c
./pan_safety -m200000 > safety.log
./pan_live -a -f -m200000 > live.log
fail=0
violation=0
truncated=0
for log in safety.log live.log; do
  grep -E 'errors:|states, stored' "$log" | sed "s/^/$log: /"
  grep -q 'errors: 0' "$log" || fail=1
  grep -qE 'errors: [1-9]' "$log" && violation=1
  if grep -q 'max search depth too small' "$log"; then echo "$log: search truncated"; fail=1; truncated=1; fi
done
if [ $expect_violation -eq 1 ]; then
  # Only a reported error counts: a search cut short by the depth limit proves nothing either way.
  if [ $violation -eq 1 ]; then echo "violation found, as expected"; exit 0; fi
  if [ $truncated -eq 1 ]; then echo "search truncated before any violation: not shown caught"; exit 1; fi
  echo "expected a violation, found none"; exit 1
fi
exit $fail
