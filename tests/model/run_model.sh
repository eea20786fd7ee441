#!/usr/bin/env bash
# Exhaustively checks one Promela model with spin: safety (assertions, invalid end states = deadlock or
# a thread parked forever) and liveness (the model's ltl claim under weak fairness).
# Usage: run_model.sh MODEL.pml [EXTRA_SPIN_DEFINES...]  (e.g. -DMUTANT to check that a known bug is caught)
set -euo pipefail
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
for log in safety.log live.log; do
  grep -E 'errors:|states, stored' "$log" | sed "s/^/$log: /"
  grep -q 'errors: 0' "$log" || fail=1
  if grep -q 'max search depth too small' "$log"; then echo "$log: search truncated"; fail=1; fi
done
exit $fail
