#!/usr/bin/env bash
# The load generator of bench/scale_fleet.sh against a real central, at a
# small scale (this build's list of 61 municipalities):
#
#   1. four enrolled nodes ship 20,000 events each: load_gen exits 0 and the
#      central applied exactly 80,000 events, none twice, none quarantined,
#      nothing refused (so the events keep every rule and the batches, keys
#      and chains are what the central takes);
#   2. four more ship 150,000 each while the central is killed with SIGKILL
#      and started again, twice: load_gen connects again, sends again from
#      what the new WELCOME expects (the log made again from the batch in
#      flight there, its chain the central's), and the central holds
#      exactly 680,000 events, none counted twice.
#
#   test_load_gen.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$2/tests/harness.sh" load_gen "$@"
central=$work/central
port=$(free_port)
endpoint=tcp://127.0.0.1:$port

step "central set up" "$bin/cpsync-admin" init-central --central "$central" --listen "$endpoint"
first=(tirane durres berat kukes)
second=(vlore shkoder korce fier)
for code in "${first[@]}" "${second[@]}"; do
    step "$code set up" "$bin/cpsync-node" init --data "$work/$code" --municipality "$code" \
        --central "$endpoint"
    step "$code enrolled at the central" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle" --endpoint "$endpoint"
    step "$code installs its bundle" "$bin/cpsync-node" enrol --data "$work/$code" \
        --bundle "$work/$code.bundle"
done

start_central () {
    "$bin/cpsync-central" run --data "$central" >> "$work/central.log" 2>&1 &
    central_pid=$!
    pids+=("$central_pid")
}
stat_of () { "$bin/cpsync-central" stats --data "$central" --format json | jq "$1"; }
again () {
    "$bin/cpsync-central" nodes --data "$central" --format json \
        | jq '[.[] | .duplicate_events + .conflicts] | add'
}
#   counts_are EVENTS: the central applied EVENTS, none twice or refused.
counts_are () {
    local json
    json=$("$bin/cpsync-central" stats --data "$central" --format json)
    [ "$(jq .events <<< "$json")" = "$1" ] && [ "$(jq .duplicates <<< "$json")" = 0 ] \
        && [ "$(jq .quarantined <<< "$json")" = 0 ] \
        && [ "$(jq '[.refused[].count] | add // 0' <<< "$json")" = 0 ] && [ "$(again)" = 0 ] \
        || { echo "    central: $json, events again $(again)"; return 1; }
}

# 1. Four nodes, the central up throughout.
start_central
dirs=()
for code in "${first[@]}"; do dirs+=("$work/$code"); done
check "four nodes' 80,000 events acknowledged (load_gen exits 0)" \
    timeout 120 "$bin/load_gen" --endpoint "$endpoint" --events 20000 --quiet "${dirs[@]}"
kill "$central_pid"; wait "$central_pid" 2>/dev/null
check "the central applied exactly 80,000 events, none twice, none refused" counts_are 80000

# 2. Four more while the central is killed twice.
start_central
dirs=()
for code in "${second[@]}"; do dirs+=("$work/$code"); done
timeout 240 "$bin/load_gen" --endpoint "$endpoint" --events 150000 --quiet "${dirs[@]}" \
    > "$work/load.out" 2> "$work/load.err" &
load=$!
pids+=("$load")
for round in 1 2; do
    #  Killed once it has taken some of this round's events
    goal=$(( 80000 + round * 150000 ))
    for _ in $(seq 600); do
        [ "$(stat_of .events 2>/dev/null || echo 0)" -ge "$goal" ] && break
        kill -0 "$load" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$central_pid"; wait "$central_pid" 2>/dev/null
    sleep 1
    start_central
done
wait "$load"
status=$?
check "load_gen finished after two kills of the central (exit $status)" [ "$status" = 0 ]
check "load_gen connected again" grep -q "[1-9][0-9]* reconnections" "$work/load.out"
kill "$central_pid"; wait "$central_pid" 2>/dev/null
check "the central holds exactly 680,000 events, none counted twice" counts_are 680000
grep -h "acknowledged in" "$work/load.out" | sed 's/^/    /'
finish
