#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest: telemetry_crash_demo must die of SIGSEGV, leave a flight-recorder dump in its directory, and
# ttlog-cat must print that dump, the final event included; in both queue modes (Shared, then --lanes).
# usage: crash_demo_check.sh DEMO TTLOG_CAT
set -u
demo=$1
cat=$2
for mode in "" --lanes; do
dir=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-crash.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "telemetry_crash_demo DIR $mode"
"$demo" "$dir" $mode
rc=$?
if [ "$rc" -ne 139 ]; then
  echo "FAIL: telemetry_crash_demo exited with $rc, expected 139 (killed by SIGSEGV)"
  exit 1
fi
set -- "$dir"/flight-*.ttlog
if [ "$#" -ne 1 ] || [ ! -s "$1" ]; then
  echo "FAIL: expected one flight-*.ttlog dump in $dir, found: $(ls "$dir")"
  exit 1
fi
out=$("$cat" "$1")
rc=$?
echo "$out" | head -3
echo "..."
echo "$out" | tail -3
if [ "$rc" -ne 0 ]; then echo "FAIL: ttlog-cat exited with $rc"; exit 1; fi
echo "$out" | grep -q "SIGSEGV" || { echo "FAIL: the dump does not name the signal"; exit 1; }
echo "$out" | tail -1 | grep -q "final event" || { echo "FAIL: the last line is not the final event"; exit 1; }
for t in 0 1 2 3; do
  echo "$out" | grep -q "thread $t event 99 worker=$t" || { echo "FAIL: thread $t's last event is missing"; exit 1; }
done
echo "PASS: $(echo "$out" | wc -l) lines, final event included"
rm -rf "$dir"
done
