#!/usr/bin/env bash
# The chaos soak: the promise that an event committed at a node is counted
# at the central exactly once, whatever fails in between, checked under
# every fault at once, with real processes.
#
#   chaos.sh BIN_DIR SOURCE_DIR WORK_DIR [SECONDS [NODES [SEED]]]
#
# Set-up: the central and NODES nodes (default all 61), each with a year of
# generated events cut into parts; cpsync-fleet sets them up and ships the
# first part.  Then, for SECONDS (default 60):
#   - every node's importer imports its next part every few seconds;
#   - the nodes reach the central only through tests/test_transport_relay.py,
#     which cuts, holds, partitions, delays, truncates and flips bytes;
#   - every 0.2 to 2 s one process at random (the central, a node, an
#     import) is killed with SIGKILL, and started again;
#   - directives are sent to every node meanwhile (the downlink);
#   - one node runs with a tiny LMDB map (CPSYNC_MAPSIZE), so it must grow;
#   - for a stretch in the middle the central runs with a file-size limit
#     at its store's size: a full disk (writes fail with EFBIG);
#   - the central folds its case log into its cases every 1,000 records,
#     so that folds are killed half way and meet the full disk too.
# Then the faults stop, every part is imported, and when every node is
# acknowledged the verdict: every view (the nation, every county, every
# municipality at the central, every node's own) equals tests/oracle.py's
# over the event files; every directive is acknowledged by every node;
# every node reports its figures in_sync.
#
# CPSYNC_CHAOS_CONTROL=1 plants a fault (the central's CPSYNC_FAULT=
# dedup-off: batches sent again are counted again) and turns the verdict
# around: the run passes only if the same check finds the figures wrong.
# CPSYNC_CHAOS_KILLERS=K kills K times as often (one every 0.2 to 2 s
# divided by K), as K killers would: for a soak that must reach thousands
# of kill cycles in an hour.  CPSYNC_TEST_KEEP=1 keeps the work directory.
# By hand, for hours:
#   bash tests/chaos/chaos.sh build/bin . /tmp 3600
set -u
source "$(dirname "$0")/../harness.sh" chaos "$@"
duration=${4:-60} count=${5:-61} seed=${6:-$RANDOM}
control=${CPSYNC_CHAOS_CONTROL:-}
killers=${CPSYNC_CHAOS_KILLERS:-1}
RANDOM=$seed
parts=6 events=600 today=2023-01-15
export CPSYNC_TODAY=$today
echo "    $count nodes, $duration s of chaos, seed $seed, $killers killer(s)${control:+, control run (dedup-off)}"
central=$work/fleet/central
nodes=$work/fleet/nodes
mkdir -p "$work/events" "$work/parts/1" "$work/pids" "$work/views/central" "$work/views/node"

# ---------------------------------------------------------------------------
#  Set-up: events, parts, the fleet with the first part shipped
codes=($(tail -n +2 "$municipalities" | cut -d, -f1 | head -n "$count"))
tiny=${codes[0]}                #  the node whose map starts tiny
index=0
for code in "${codes[@]}"; do
    index=$((index + 1))
    "$bin/gen_events" --seed $((seed * 100 + index)) --events $events --from 2022-01-01 \
        --to 2022-12-31 --prefix "$code-" > "$work/events/$code.jsonl"
    #  Parts in file order: an event never comes before its case's opening
    for part in $(seq 1 $parts); do
        mkdir -p "$work/parts/$part"
        awk -v p=$part -v n=$parts -v lines=$events \
            'NR > (p - 1) * lines / n && NR <= p * lines / n' "$work/events/$code.jsonl" \
            > "$work/parts/$part/$code.jsonl"
    done
done
fleet_port=$(free_port)
step "cpsync-fleet sets up $count nodes and ships the first part" \
    "$bin/cpsync-fleet" --events "$work/parts/1" --data "$work/fleet" --port "$fleet_port" \
    --timeout 300
endpoint=tcp://127.0.0.1:$fleet_port

# ---------------------------------------------------------------------------
#  The processes, each under a loop that starts it again when it dies, until
#  $work/stop exists; $work/pids/NAME holds the pid of the one running.

#  stop_all: the loops end, and so do the processes they started (killing
#  a loop leaves its child running).
stop_all () {
    touch "$work/stop"
    local round pid
    for round in 1 2 3; do
        for pid in $(cat "$work"/pids/* 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        sleep 0.2
    done
}
trap 'stop_all; cleanup' EXIT

#  A case log folded every 1,000 records (instead of 196,608): folds are
#  killed and meet the full disk too.
central_env=(CPSYNC_CASE_LOG=1000)
[ -n "$control" ] && central_env+=(CPSYNC_FAULT=dedup-off)

run_central () {
    while [ ! -e "$work/stop" ]; do
        if [ -e "$work/diskfull" ]; then
            #  A full disk: no file may grow past the store's size now
            local size; size=$(stat -c %s "$central/store/data.mdb")
            ( trap '' XFSZ; exec env "${central_env[@]}" prlimit --fsize="$size:unlimited" -- \
                  "$bin/cpsync-central" run --data "$central" ) 2>> "$work/central.log" &
        else
            env "${central_env[@]}" "$bin/cpsync-central" run --data "$central" \
                2>> "$work/central.log" &
        fi
        echo $! > "$work/pids/central"
        wait $!
        sleep 0.05
    done
}

map_env () { [ "$1" = "$tiny" ] && echo CPSYNC_MAPSIZE=65536 || echo CPSYNC_MAPSIZE=0; }

run_node () {
    local code=$1
    while [ ! -e "$work/stop" ]; do
        env "$(map_env "$code")" "$bin/cpsync-node" run --data "$nodes/$code" \
            --central "$relayed" 2>> "$work/node-$code.log" &
        echo $! > "$work/pids/node-$code"
        wait $!
        sleep 0.05
    done
}

#  import_parts CODE FROM: parts FROM.. in order, each until it is all in
#  (an import killed half way is run again: ids held are duplicates).
import_parts () {
    local code=$1 part
    for part in $(seq "$2" $parts); do
        while true; do
            [ -e "$work/stop" ] && return
            env "$(map_env "$code")" "$bin/cpsync-node" import --data "$nodes/$code" \
                "$work/parts/$part/$code.jsonl" >> "$work/import-$code.log" 2>&1 &
            echo $! > "$work/pids/import-$code"
            wait $!
            #  0 all in, 1 lines refused (the oracle refuses them too): done
            [ $? -le 1 ] && break
            sleep 0.1
        done
        rm -f "$work/pids/import-$code"
        [ -e "$work/settle" ] || sleep $(( 2 + RANDOM % (duration / parts + 1) ))
    done
    #  Said when the last part is in: between two parts no import runs, so
    #  "none running" is not "all in".
    touch "$work/imported-$code"
}

python3 "$source/tests/test_transport_relay.py" "$work/relay.port" "$fleet_port" 1000000000 \
    "$seed" 2> "$work/relay.log" &
relay=$!; pids+=("$relay")
for wait in $(seq 100); do [ -e "$work/relay.port" ] && break; sleep 0.1; done
relayed=tcp://127.0.0.1:$(cat "$work/relay.port")

#  (The loops' own stderr is dropped: bash's "Killed" notes, not the logs.)
run_central 2>/dev/null & pids+=($!)
for code in "${codes[@]}"; do
    run_node "$code" 2>/dev/null & pids+=($!)
    import_parts "$code" 2 2>/dev/null & pids+=($!)
done

# ---------------------------------------------------------------------------
#  Chaos: kills, directives, a full disk
kills=0 sent=0 full_from=$(( duration * 2 / 5 )) full_to=$(( duration * 3 / 5 ))
declare -A killed
started_chaos=$SECONDS
next_directive=$SECONDS
while [ $(( SECONDS - started_chaos )) -lt "$duration" ]; do
    pause=$(( (200 + RANDOM % 1800) / killers ))             #  0.2 to 2 s, over K
    sleep "$(( pause / 1000 )).$(printf %03d $(( pause % 1000 )))"
    elapsed=$(( SECONDS - started_chaos ))
    if [ $elapsed -ge $full_from ] && [ $elapsed -lt $full_to ] && [ ! -e "$work/diskfull" ]; then
        touch "$work/diskfull"
        kill -9 "$(cat "$work/pids/central")" 2>/dev/null     #  restarted under the limit
    elif [ $elapsed -ge $full_to ] && [ -e "$work/diskfull" ]; then
        #  Space again, under the running central's feet: it must go on
        #  by itself (a kill would hide a store left broken)
        rm -f "$work/diskfull"
        prlimit --pid "$(cat "$work/pids/central")" --fsize=unlimited:unlimited 2>/dev/null || true
    fi
    #  The central one time in four (its crash is the one that matters
    #  most), else a node or an import running now
    if [ $(( RANDOM % 4 )) = 0 ]; then
        victims=("$work/pids/central")
    else
        victims=("$work"/pids/node-* "$work"/pids/import-*)
    fi
    victim=${victims[$(( RANDOM % ${#victims[@]} ))]}
    if pid=$(cat "$victim" 2>/dev/null) && kill -9 "$pid" 2>/dev/null; then
        kills=$((kills + 1))
        name=$(basename "$victim"); name=${name%%-*}
        killed[$name]=$(( ${killed[$name]:-0} + 1 ))
    fi
    if [ $SECONDS -ge $next_directive ]; then
        sent=$((sent + 1))
        "$bin/cpsync-central" directive send --data "$central" --to all --kind notice \
            --text "chaos notice $sent" >> "$work/directives.log" 2>&1 || sent=$((sent - 1))
        next_directive=$(( SECONDS + 2 + RANDOM % 3 ))
    fi
done
kill -USR1 "$relay"
echo "    survived $kills kill cycles (central ${killed[central]:-0}, nodes ${killed[node]:-0}," \
     "imports ${killed[import]:-0}), $sent directives sent, the disk full for" \
     "$(( full_to - full_from )) s"

# ---------------------------------------------------------------------------
#  Settling: no more faults; every part imported; every node acknowledged
touch "$work/settle"
sleep 1
echo "    relay faults: $(cat "$work/relay.port.done" 2>/dev/null)"
all_in () {
    local code
    for code in "${codes[@]}"; do [ -e "$work/imported-$code" ] || return 1; done
    return 0
}
settled=$SECONDS
while ! all_in && [ $(( SECONDS - settled )) -lt 300 ]; do sleep 1; done
check "every part of every node is imported" all_in
#  Acknowledged: each node's head is the central's cursor of it
caught_up () {
    "$bin/cpsync-central" nodes --data "$central" --format json 2>/dev/null | python3 -c '
import json, subprocess, sys
nodes = {n ["code"]: n for n in json.load (sys.stdin)}
for code in sys.argv [3:]:
    s = json.loads (subprocess.run ([sys.argv [1], "status", "--data", sys.argv [2] + "/" + code],
                                    capture_output = True).stdout)
    if s ["acked"] != s ["head"] or nodes [code] ["acked"] != s ["head"]:
        sys.exit (1)' "$bin/cpsync-node" "$nodes" "${codes[@]}"
}
#  The central's cursors, to see them stand still
cursors () {
    "$bin/cpsync-central" nodes --data "$central" --format json 2>/dev/null | python3 -c '
import json, sys
print (sorted ((n ["code"], n ["acked"]) for n in json.load (sys.stdin)))'
}
#  Under the planted fault a node does not catch up: it is asked for its
#  last batch again at every HELLO.  The control run waits until the
#  central's cursors have stood still for 5 s (all that can arrive has),
#  not for the 300 s a node that never catches up would take.
deadline=$(( SECONDS + 300 ))
last='' still=0
until caught_up || [ $SECONDS -ge $deadline ] || [ $still -ge 5 ]; do
    sleep 1
    if [ -n "$control" ]; then
        now=$(cursors)
        if [ "$now" = "$last" ]; then still=$(( still + 1 )); else still=0 last=$now; fi
    fi
done
[ -n "$control" ] || check \
    "every node is acknowledged up to its head ($(( SECONDS - settled )) s after the chaos)" caught_up
folds=$(grep -c "case records folded" "$work/central.log")
[ -n "$control" ] || check "the central folded its case log ($folds times)" [ "$folds" -gt 0 ]

# ---------------------------------------------------------------------------
#  The verdict
dump_views () {
    "$bin/cpsync-central" query --data "$central" --period 2022 --catalogue 1 --scope national \
        > "$work/views/central/national.json"
    local county code
    for county in $(tail -n +2 "$municipalities" | cut -d, -f3 | sort -u); do
        "$bin/cpsync-central" query --data "$central" --period 2022 --catalogue 1 \
            --scope "county:$county" \
            > "$work/views/central/county-$county.json"
    done
    for code in "${codes[@]}"; do
        "$bin/cpsync-central" query --data "$central" --period 2022 --catalogue 1 \
            --scope "municipality:$code" > "$work/views/central/municipality-$code.json"
        "$bin/cpsync-node" view --data "$nodes/$code" --period 2022 --catalogue 1 \
            > "$work/views/node/$code.json"
    done
}
#  The oracle knows only the municipalities with events: the counties and
#  the nation it compares are over those.
dump_views
figures_right () {
    python3 "$source/tests/chaos/check.py" "$source" "$work/views" "$work/events" 2022 "$today"
}
acknowledged_all () {
    "$bin/cpsync-central" directive list --data "$central" --format json 2>/dev/null \
        | python3 -c '
import json, sys
directives = json.load (sys.stdin)
want, fleet = int (sys.argv [1]), set (sys.argv [2:])
#  Addressed to all: the municipalities without a node stay "sent"
bad = [d for d in directives
       if any (m ["state"] != "acknowledged" for m in d ["municipalities"] if m ["code"] in fleet)]
sys.exit (0 if len (directives) == want and not bad else 1)' "$sent" "${codes[@]}"
}
in_sync_all () {
    local code
    for code in "${codes[@]}"; do
        "$bin/cpsync-node" status --data "$nodes/$code" 2>/dev/null | python3 -c '
import json, sys
sys.exit (0 if json.load (sys.stdin) ["reconciliation"] ["verdict"] == "in_sync" else 1)' \
            || return 1
    done
}
if [ -n "$control" ]; then
    if figures_right > "$work/check.out"; then
        fail "control: the planted fault (dedup-off) went unseen by the check"
    else
        ok "control: the check caught the planted fault: $(tail -1 "$work/check.out")"
        head -4 "$work/check.out"
    fi
    finish
fi
check "every view equals the oracle's (the nation, every county, every municipality, every node)" \
    figures_right
deadline=$(( SECONDS + 120 ))
until acknowledged_all || [ $SECONDS -ge $deadline ]; do sleep 1; done
check "all $sent directives are acknowledged by every node" acknowledged_all
deadline=$(( SECONDS + 120 ))
until in_sync_all || [ $SECONDS -ge $deadline ]; do sleep 2; done
check "every node reports its figures in_sync with the central's" in_sync_all
check "the node with a tiny map grew it ($tiny: $(stat -c %s "$nodes/$tiny/store/data.mdb") bytes)" \
    [ "$(stat -c %s "$nodes/$tiny/store/data.mdb")" -gt 65536 ]
check "the central met its full disk (its log says a commit failed for it), and went on" \
    grep -q "is the disk full?" "$work/central.log"
finish
