#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Loopback figures for docs/service.md: `rewardpool serve` + `rewardpool load` at 1 and 4 connections,
# count 1 and 100, REPEATS runs of DURATION s each, for each server configuration below (SERVERS; the
# `replicated` one starts its own nats-server).
# Usage: apps/rewardpool/scripts/service-load.sh [OUT_DIR]   (run under flock /tmp/ringkit-bench.lock)
set -euo pipefail
BIN=${BIN:-build/bin/rewardpool}
OUT=${1:-bench-results/service}
DURATION=${DURATION:-3}
REPEATS=${REPEATS:-3}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
printf '{"catalog":[{"item_id":"gold","quantity":1000000000000,"probability":1},{"item_id":"mud","quantity":-1,"probability":9}]}' > "$tmp/catalog.json"

SERVERS=${SERVERS:-"none:applied file:written file:durable file:replicated"}
for server in $SERVERS; do
  wal=${server%%:*} ack=${server#*:}
  args=(serve --catalog "$tmp/catalog.json" --listen 127.0.0.1:0 --wal "$wal" --ack "$ack")
  [ "$wal" != none ] && args+=(--data-dir "$tmp/data-$ack")
  if [ "$ack" = replicated ]; then
    mkdir -p "$tmp/js"
    nats-server -js -sd "$tmp/js" -p 14299 -a 127.0.0.1 > "$tmp/nats.log" 2>&1 &
    sleep 0.5
    args+=(--replicate nats://127.0.0.1:14299 --stream BENCH)
  fi
  "$BIN" "${args[@]}" > "$tmp/serve.out" 2> "$tmp/serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.out" && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$tmp/serve.out")
  for conns in 1 4; do
    for count in 1 100; do
      inflight=$([ "$count" = 1 ] && echo 64 || echo 8)
      for r in $(seq "$REPEATS"); do
        f="$OUT/load-$wal-$ack-c$conns-k$count-r$r.json"
        "$BIN" load --target "$addr" --connections "$conns" --in-flight "$inflight" --count "$count" \
          --duration "$DURATION" --json "$f" > /dev/null
        python3 -c "import json,sys; j=json.load(open('$f')); print('$wal $ack conns=$conns count=$count in_flight=$inflight run=$r: %.0f draws/s p50 %.0f us p99 %.0f us p99.9 %.0f us' % (j['draws_per_s'], j['latency_us']['p50'], j['latency_us']['p99'], j['latency_us']['p99.9']))"
      done
    done
  done
  kill -TERM $pid; wait $pid
done
