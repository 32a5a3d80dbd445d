#!/usr/bin/env bash
# Key announcements over the downlink (issue "Downlink", point 5): the
# central's data key and transport key are rotated while three nodes ship,
# and no node is touched: each takes the announcement from the downlink
# log, seals to the new data key, and connects with the new transport key
# once the central serves it.  Nothing is lost and nothing is counted
# twice: the central's views equal tests/oracle.py over every event
# imported.
#
#   test_downlink_keys.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" downlink_keys "$@"
central=$work/data/central
nodes=$work/data/nodes
codes=(berat kucove tirane)

mkdir -p "$work/events"
seed=31
for code in "${codes[@]}"; do
    "$bin/gen_events" --seed $seed --events 3000 --from 2021-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/all-$code.jsonl"
    head -n 600 "$work/all-$code.jsonl" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships the first 600 events of three municipalities" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

#  current KIND: the id of the central's current key of that kind.
current () {
    "$bin/cpsync-admin" keys --central "$central" --format json | python3 -c '
import json, sys
keys = [k for k in json.load (sys.stdin) ["keys"] if k ["kind"] == sys.argv [1]
        and k ["owner"] == "central" and k ["state"] == "current"]
print (keys [-1] ["id"] if keys else "")' "$1"
}

#  import_part CODE FROM TO: lines FROM..TO of the municipality's events.
import_part () {
    sed -n "$2,$3p" "$work/all-$1.jsonl" > "$work/part-$1.jsonl"
    "$bin/cpsync-node" import --data "$nodes/$1" "$work/part-$1.jsonl" > /dev/null 2>&1
}

old_data=$(current data)
start_central
for code in "${codes[@]}"; do start_node "$code" "$endpoint"; done
for code in "${codes[@]}"; do import_part "$code" 601 1200; done

step "cpsync-admin rotate-central --data, while the nodes ship" \
    "$bin/cpsync-admin" rotate-central --central "$central" --data --out "$work/data.ann"
check "rotate-central published the announcement" \
    grep -q "announcement published to every node as downlink entry 1" "$work/step.out"
new_data=$(current data)
check "the central has a new data key ($old_data -> $new_data)" \
    [ -n "$new_data" ] && [ "$new_data" != "$old_data" ]
for code in "${codes[@]}"; do import_part "$code" 1201 1800; done

#  moved SECONDS: every node seals to the new data key.
moved () {
    local deadline=$(( SECONDS + $1 )) code
    while [ $SECONDS -lt $deadline ]; do
        for code in "${codes[@]}"; do
            [ "$(field "$code" central_data_key)" = "$new_data" ] || continue 2
        done
        return 0
    done
    for code in "${codes[@]}"; do echo "    $code seals to $(field "$code" central_data_key)"; done
    return 1
}
check "every node seals to the new data key, none enrolled by hand" moved 15

old_transport=$(current transport)
step "cpsync-admin rotate-central --transport --grace 3s, while the nodes ship" \
    "$bin/cpsync-admin" rotate-central --central "$central" --transport --grace 3s \
    --out "$work/transport.ann"
for code in "${codes[@]}"; do import_part "$code" 1801 2400; done
sleep 5                         #  past the grace: the central serves the new key
new_transport=$(current transport)
check "the central serves a new transport key ($old_transport -> $new_transport)" \
    [ -n "$new_transport" ] && [ "$new_transport" != "$old_transport" ]
for code in "${codes[@]}"; do import_part "$code" 2401 3000; done
check "every node shipped every event across both rotations" wait_acked 60 "${codes[@]}"
for code in "${codes[@]}"; do
    check "$code applied both announcements" \
        [ "$(field "$code" downlink)" = 2 ]
done
for code in "${codes[@]}"; do stop_node "$code"; done
stop_central

files=()
for code in "${codes[@]}"; do cp "$work/all-$code.jsonl" "$work/$code.jsonl"; files+=("$work/$code.jsonl"); done
for period in 2022 2021-Q3; do
    "$bin/cpsync-central" query --data "$central" --period "$period" --catalogue 1 \
        --format json > "$work/view.json"
    check "the national view of $period equals the oracle: nothing lost, nothing twice" \
        same_as_oracle "$work/view.json" national "$period" "${files[@]}"
done
finish
