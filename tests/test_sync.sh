#!/usr/bin/env bash
# Sync, end to end, with real processes on loopback.
#
#   1. cpsync-fleet ships 61 generated municipalities to a central; national,
#      county and municipality views of several periods equal tests/oracle.py
#      over the same files.  Running the fleet again changes nothing.
#   2. More events are imported into every node while the central is down;
#      nodes run meanwhile (store and forward), then the central comes back
#      and every node catches up.
#   3. The rest is shipped while the central and random nodes are killed
#      with SIGKILL at random moments and restarted: the figures are still
#      exact — nothing lost, nothing counted twice.
#
#   test_sync.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" sync "$@"
municipalities=$source/protocol/catalogue/municipalities.csv
RANDOM=${CPSYNC_TEST_SEED:-7}

#   Events: the whole country, cut in three parts per municipality (a prefix
#   of a valid file is valid, and so is what follows it once it is stored).
"$bin/gen_events" --country "$source/tests/data/report-2022.json" --municipalities "$municipalities" \
    --seed 11 --outdir "$work/all" --catalogue 1 --background 2020-2023 2>/dev/null
mkdir -p "$work/part1" "$work/part2" "$work/part3"
for file in "$work"/all/*.jsonl; do
    name=$(basename "$file"); lines=$(wc -l < "$file")
    one=$(( lines * 5 / 10 )); two=$(( lines * 7 / 10 ))
    head -n "$one" "$file" > "$work/part1/$name"
    sed -n "$((one + 1)),${two}p" "$file" > "$work/part2/$name"
    tail -n +"$((two + 1))" "$file" > "$work/part3/$name"
done

#   compare NAME DIR-OF-EVENTS: central views against the oracle.
compare () {
    local name=$1 events=$2 all_ok=1
    for scope in national county:tirane county:shkoder municipality:durres municipality:kolonje; do
        for period in 2022 2021 2023-Q2 2022-Q3; do
            "$bin/cpsync-central" query --data "$work/data/central" --period "$period" \
                --scope "$scope" --catalogue 1 --format json > "$work/central.json" 2> "$work/query.err" \
                || { all_ok=0; echo "    query $scope $period failed: $(cat "$work/query.err")"; continue; }
            python3 "$source/tests/oracle.py" --catalogue-dir "$source/protocol/catalogue" \
                --catalogue 1 --node-catalogue 1 --period "$period" --scope "$scope" \
                --municipalities "$municipalities" "$events"/*.jsonl > "$work/oracle.json" 2>/dev/null
            python3 - "$work/central.json" "$work/oracle.json" "$scope $period" <<'PY' || all_ok=0
import json, sys
central, oracle = (json.load (open (path)) for path in sys.argv [1:3])
differing = [k for k in sorted (set (central) | set (oracle)) if central.get (k) != oracle.get (k)]
for key in differing:
    print ("   ", sys.argv [3], key, "central:", central.get (key), "oracle:", oracle.get (key))
sys.exit (1 if differing or central ["managed"] == 0 else 0)
PY
        done
    done
    [ $all_ok = 1 ] && ok "$name: views equal the oracle" || fail "$name: views differ from the oracle"
}

#   acked_all: every node reports acked == head.
acked_all () {
    for node in "$work"/data/nodes/*; do
        "$bin/cpsync-node" status --data "$node" --format json | python3 -c '
import json, sys; s = json.load (sys.stdin); sys.exit (0 if s["acked"] == s["head"] else 1)' || return 1
    done
}

wait_acked () {   # SECONDS
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do acked_all && return 0; sleep 0.5; done
    return 1
}

#   import_into CODE FILE: imports while the node runs; a failed import is
#   a failure of its own (the views would differ later without saying why).
import_into () {
    "$bin/cpsync-node" import --data "$work/data/nodes/$1" "$2" > /dev/null 2> "$work/import.err" \
        || fail "import into $1 (while it runs): $(head -c 300 "$work/import.err")"
}

start_central () {
    "$bin/cpsync-central" run --data "$work/data/central" --listen "$endpoint" 2>> "$work/central.log" &
    central_pid=$!; pids+=("$central_pid")
}

start_node () {   # CODE
    "$bin/cpsync-node" run --data "$work/data/nodes/$1" --central "$endpoint" 2>> "$work/node-$1.log" &
    node_pid[$1]=$!; pids+=("${node_pid[$1]}")
}

# ---------------------------------------------------------------------------
#  1. The fleet, twice
if "$bin/cpsync-fleet" --events "$work/part1" --data "$work/data" --port "$port" --timeout 300 \
        > "$work/fleet.out" 2>&1; then ok "fleet shipped part 1"; else fail "fleet: $(tail -3 "$work/fleet.out")"; fi
compare "after the fleet" "$work/part1"
"$bin/cpsync-central" query --data "$work/data/central" --period 2022 --format json > "$work/before.json"
if "$bin/cpsync-fleet" --events "$work/part1" --data "$work/data" --port "$port" --timeout 300 \
        > "$work/fleet2.out" 2>&1; then ok "fleet ran again"; else fail "fleet again: $(tail -3 "$work/fleet2.out")"; fi
"$bin/cpsync-central" query --data "$work/data/central" --period 2022 --format json > "$work/after.json"
cmp -s "$work/before.json" "$work/after.json" && ok "running the fleet again counted nothing twice" \
    || fail "a second fleet run changed the view"

# ---------------------------------------------------------------------------
#  2. The central is down while the nodes import and run
declare -A node_pid
for node in "$work"/data/nodes/*; do start_node "$(basename "$node")"; done
for file in "$work"/part2/*.jsonl; do
    code=$(basename "$file" .jsonl)
    import_into "$code" "$file"
done
sleep 3
acked_all && fail "nodes acknowledged with no central" || ok "nothing acknowledged while the central is down"
start_central
if wait_acked 120; then ok "every node caught up after the central came back"; else fail "nodes did not catch up"; fi
cat "$work"/part1/durres.jsonl > /dev/null
mkdir -p "$work/upto2"
for file in "$work"/part1/*.jsonl; do cat "$file" "$work/part2/$(basename "$file")" > "$work/upto2/$(basename "$file")"; done
compare "after the outage" "$work/upto2"

# ---------------------------------------------------------------------------
#  3. SIGKILL of the central and of nodes while they ship
for file in "$work"/part3/*.jsonl; do
    code=$(basename "$file" .jsonl)
    import_into "$code" "$file"
done
codes=($(ls "$work/data/nodes"))
for round in 1 2 3 4 5 6; do
    sleep "0.$(( RANDOM % 9 + 1 ))"
    if [ $(( round % 2 )) = 1 ]; then
        kill -9 "$central_pid" 2>/dev/null; wait "$central_pid" 2>/dev/null
        sleep "0.$(( RANDOM % 5 ))"; start_central
    fi
    for k in 1 2 3 4 5; do
        code=${codes[$(( RANDOM % ${#codes[@]} ))]}
        kill -9 "${node_pid[$code]}" 2>/dev/null; wait "${node_pid[$code]}" 2>/dev/null
        start_node "$code"
    done
done
if wait_acked 180; then ok "every node caught up after the kills"; else fail "nodes did not catch up after the kills"; fi
compare "after SIGKILLs" "$work/all"
for code in "${codes[@]}"; do kill "${node_pid[$code]}" 2>/dev/null; done
kill "$central_pid" 2>/dev/null
wait 2>/dev/null

finish
