#!/usr/bin/env bash
# Benchmarks of the foundation: importing 1,000,000 events into a node with
# durable commits, and computing a year's view over them.
#
#   bash bench/run.sh [EVENTS]      (default 1000000; needs a build: scripts/setup.sh)
#
# Prints events/s of the import (wall clock of the whole command, best of
# three fresh imports) and the view's time (in-process, min/median/max of
# 50 runs, plus the whole `cpsync-node view` command).  Targets on a
# 2-core machine: import >= 300,000 events/s; a year's view <= 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
bin=build/bin
work=$(mktemp -d /tmp/cpsync-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

$bin/gen_events --seed 7 --events "$events" --from 2019-01-01 --to 2024-12-31 --prefix b- \
    > "$work/events.jsonl"
echo "generated $events events ($(du -h "$work/events.jsonl" | cut -f1))"

best=
for attempt in 1 2 3; do
    rm -rf "$work/node"
    $bin/cpsync-node init --data "$work/node" --municipality tirane >/dev/null
    start=$(date +%s.%N)
    $bin/cpsync-node import --data "$work/node" "$work/events.jsonl" >/dev/null 2>&1
    end=$(date +%s.%N)
    seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    rate=$(awk -v n="$events" -v s="$seconds" 'BEGIN { printf "%d", n / s }')
    echo "import run $attempt: $(printf '%.2f' "$seconds") s, $rate events/s"
    if [ -z "$best" ] || [ "$rate" -gt "$best" ]; then best=$rate; fi
done
echo "import: best $best events/s (target >= 300000) — durable commits, $(du -sh "$work/node/store" | cut -f1) on disk"

$bin/bench_view "$work/node" 2022 50
$bin/bench_view "$work/node" 2022-Q3 50
start=$(date +%s%N)
$bin/cpsync-node view --data "$work/node" --period 2022 --format json >/dev/null
end=$(date +%s%N)
echo "whole 'cpsync-node view --period 2022' command: $(( (end - start) / 1000000 )) ms (target <= 100 ms)"
