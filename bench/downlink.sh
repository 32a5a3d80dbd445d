#!/usr/bin/env bash
# The downlink's latency: an entry published to all reaches 61 connected
# nodes (the time from the publish's commit until each node's downlink
# cursor has moved past it, the node's transaction that applies it).
#
#   bash bench/downlink.sh [ENTRIES]     (default 20; needs a build)
#
# Sets up the 61 nodes and the central with cpsync-fleet (a few events
# each), runs them all, publishes ENTRIES entries one after another and
# prints p50, p99 and the maximum over every delivery.  Target: p99 under
# one second.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-20}
bin=$PWD/build/bin
work=$(mktemp -d /tmp/cpsync-downlink.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
      rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 12000 ))   # below the ephemeral ports (32768 up)
source bench/fleet_lib.sh
gen_country 3050 "$work/country"
"$bin/cpsync-fleet" --events "$work/country" --data "$work/data" --port "$port" \
    --timeout 300 > /dev/null
"$bin/cpsync-central" run --data "$work/data/central" 2> "$work/central.log" & pids+=($!)
for node in "$work"/data/nodes/*; do
    "$bin/cpsync-node" run --data "$node" 2> "$node.log" & pids+=($!)
done
#  Every node connected (a WELCOME each) before the first entry.
for attempt in $(seq 100); do
    [ "$(grep -c ' connected ' "$work/central.log")" -ge 61 ] && break
    sleep 0.2
done
echo "$(grep -c ' connected ' "$work/central.log") nodes connected"
"$bin/bench_sync" downlink "$work/data/central" "$work/data/nodes" "$entries"
