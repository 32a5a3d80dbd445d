#!/usr/bin/env bash
# Benchmarks of sync, both sides on this machine, durable commits on both.
#
#   bash bench/sync.sh [EVENTS]     (default 1000000; needs a build)
#
#   (a) end-to-end: 61 nodes, each with a backlog (EVENTS in all), shipped to
#       one central until every event is acknowledged (cpsync-fleet's timed
#       phase: processes start, connect, ship, the central applies).
#   (d) in the same run: libzmq's raw throughput for messages of the size of
#       our batches, as events/s, and the ratio of (a) to it.
#   (b) latency from a node's commit to the event being visible to a central
#       query, p50 and p99, at a steady 10,000 events/s.
#   (c) catch-up of one node with a backlog of EVENTS events.
# Targets on a 2-core machine: (a) >= 500,000 events/s, (b) p99 <= 100 ms,
# (c) <= 5 s for 1,000,000 events.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
bin=build/bin
work=$(mktemp -d /tmp/cpsync-sync.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 12000 ))   # below the ephemeral ports (32768 up)

# (a) 61 nodes with a backlog each
mkdir -p "$work/country"
per=$(( events / 61 ))
tail -n +2 protocol/catalogue/municipalities.csv | cut -d, -f1 | while read -r code; do
    $bin/gen_events --seed "$RANDOM" --events "$per" --from 2019-01-01 --to 2024-12-31 \
        --prefix "$code-" > "$work/country/$code.jsonl"
done
fleet_out=$($bin/cpsync-fleet --events "$work/country" --data "$work/a" --port "$port" --timeout 900)
echo "$fleet_out"
shipped=$(echo "$fleet_out" | sed -n 's/.* \([0-9]*\) events of .* acknowledged in \([0-9.]*\) s/\1 \2/p')
read -r a_events a_seconds <<< "$shipped"
a_rate=$(awk -v n="$a_events" -v s="$a_seconds" 'BEGIN { printf "%d", n / s }')
echo "(a) end-to-end, 61 nodes: $a_events events in $a_seconds s = $a_rate events/s (target >= 500000)"

# (d) the ceiling: libzmq alone, messages the size of a full batch
batch_bytes=$($bin/bench_sync batchsize "$work/a/nodes/tirane")
zmq_out=$($bin/bench_sync zmq "$batch_bytes" 20000)
echo "$zmq_out"
zmq_msgs=$(echo "$zmq_out" | sed -n 's/.*: \([0-9]*\) messages\/s.*/\1/p')
zmq_events=$(( zmq_msgs * 1000 ))   # a full batch holds 1,000 events
echo "(d) libzmq raw: $zmq_events events/s in 1,000-event messages; ratio (a)/(d) = $(awk -v a="$a_rate" -v d="$zmq_events" 'BEGIN { printf "%.2f", a / d }')"

# (b) latency at a steady 10,000 events/s
$bin/cpsync-admin init-central --central "$work/b/central" --listen "tcp://127.0.0.1:$((port + 1))" >/dev/null
$bin/cpsync-node init --data "$work/b/node" --municipality tirane >/dev/null
$bin/cpsync-admin enrol --central "$work/b/central" --municipality tirane --out "$work/b/tirane.bundle" >/dev/null
$bin/cpsync-node enrol --data "$work/b/node" --bundle "$work/b/tirane.bundle" >/dev/null
$bin/cpsync-central run --data "$work/b/central" 2>/dev/null & pids+=($!)
$bin/cpsync-node run --data "$work/b/node" 2>/dev/null & pids+=($!)
sleep 1
echo "(b) $($bin/bench_sync latency "$work/b/node" "$work/b/central" 10 10000)"
kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; pids=()

# (c) one node with the whole backlog
mkdir -p "$work/one"
$bin/gen_events --seed 3 --events "$events" --from 2019-01-01 --to 2024-12-31 --prefix c- \
    > "$work/one/tirane.jsonl"
one_out=$($bin/cpsync-fleet --events "$work/one" --data "$work/c" --port "$((port + 2))" --timeout 900)
echo "$one_out" | tail -1
c_seconds=$(echo "$one_out" | sed -n 's/.* acknowledged in \([0-9.]*\) s/\1/p')
echo "(c) catch-up of one node with $events events: $c_seconds s (target <= 5 s)"
