#!/usr/bin/env bash
# Recovery, end to end, with real processes on loopback: what happens to a
# node's store or the central's in the field (a restored backup, a store set
# up again, a lost disk) loses nothing and counts nothing twice.  Every view
# is compared with tests/oracle.py over the events each side really took.
#
#   (e) the central is restored from an older copy: the nodes ship again
#       what it lacks, their acked drops until it is back, views exact
#   (a) durres: a node restored from an older copy re-imports its complete
#       export plus new events
#   (c) berat: a node restored from an older copy imports only new events:
#       what it had shipped stays at the central, nothing twice
#   (b) kolonje: a node set up again from scratch (init, a new bundle)
#       imports its complete export plus new events
#   (d) tirane: a node that lost its disk is set up again and rebuilt from
#       the central (cpsync-node recover): its views equal the oracle
#   (f) korce: a store set up again imports an export in which one event id
#       carries other content: refused as a conflict, counted, shown
#   vlore is left alone throughout.
#
#   test_recovery.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" recovery "$@"
municipalities=$source/protocol/catalogue/municipalities.csv
codes=(durres kolonje berat tirane korce vlore)
data=$work/data

#   Events: six municipalities of a generated country, cut in two parts
#   (part 1 shipped before the backups, part 2 after), and new events of
#   their own (other ids and cases) for the units to record after a loss.
"$bin/gen_events" --country "$source/tests/data/report-2022.json" --municipalities "$municipalities" \
    --seed 5 --outdir "$work/country" --catalogue 1 --background 2021-2023 2>/dev/null
mkdir -p "$work/part1" "$work/part2" "$work/new" "$work/all"
for code in "${codes[@]}"; do
    file=$work/country/$code.jsonl lines=$(wc -l < "$work/country/$code.jsonl")
    one=$(( lines * 6 / 10 ))
    head -n "$one" "$file" > "$work/part1/$code.jsonl"
    tail -n +"$((one + 1))" "$file" > "$work/part2/$code.jsonl"
    cp "$file" "$work/all/$code.jsonl"
    "$bin/gen_events" --seed "${#code}$RANDOM" --events 400 --from 2022-01-01 --to 2023-06-30 \
        --prefix "n$code-" > "$work/new/$code.jsonl" 2>/dev/null
done

#   oracle_json OUT SCOPE PERIOD FILE...: the oracle's view.
oracle_json () {
    local out=$1 scope=$2 period=$3; shift 3
    python3 "$source/tests/oracle.py" --catalogue-dir "$source/protocol/catalogue" --catalogue 1 \
        --node-catalogue 1 --period "$period" --scope "$scope" --municipalities "$municipalities" \
        "$@" > "$out" 2>/dev/null
}

#   same_json NAME A B: the two views agree on every key.
same_json () {
    python3 - "$2" "$3" "$1" <<'PY'
import json, sys
mine, truth = (json.load (open (path)) for path in sys.argv [1:3])
differing = [k for k in sorted (set (mine) | set (truth)) if mine.get (k) != truth.get (k)]
for key in differing [:6]:
    print ("   ", sys.argv [3], key, "got:", mine.get (key), "oracle:", truth.get (key))
sys.exit (1 if differing or truth ["managed"] == 0 else 0)
PY
}

#   views_are NAME SIDE SCOPE FILE...: the views of a scope equal the
#   oracle's over FILEs, for several periods, as the central answers them
#   (SIDE central) or as a node computes its own (SIDE a node's code).
views_are () {
    local name=$1 side=$2 scope=$3 all_ok=1; shift 3
    for period in 2022 2021 2023-Q2; do
        if [ "$side" = central ]; then
            "$bin/cpsync-central" query --data "$data/central" --period "$period" --scope "$scope" \
                --catalogue 1 --format json > "$work/got.json" 2> "$work/view.err"
        else
            "$bin/cpsync-node" view --data "$data/nodes/$side" --period "$period" --catalogue 1 \
                --format json > "$work/got.json" 2> "$work/view.err"
        fi || { all_ok=0; echo "    $(cat "$work/view.err")"; continue; }
        oracle_json "$work/truth.json" "$scope" "$period" "$@"
        same_json "$side $scope $period" "$work/got.json" "$work/truth.json" || all_ok=0
    done
    [ $all_ok = 1 ] && ok "$name" || fail "$name"
}

central_is () { local name=$1 scope=$2; shift 2; views_are "$name" central "$scope" "$@"; }
node_is () { local name=$1 code=$2; shift 2; views_are "$name" "$code" "municipality:$code" "$@"; }

#   status CODE KEY: a field of cpsync-node status.
status () {
    "$bin/cpsync-node" status --data "$data/nodes/$1" --format json \
        | python3 -c 'import json, sys; print (json.load (sys.stdin).get (sys.argv [1]))' "$2"
}

acked_all () {
    for code in "${codes[@]}"; do
        [ "$(status "$code" acked)" = "$(status "$code" head)" ] || return 1
    done
}

wait_acked () {   # SECONDS
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do acked_all && return 0; sleep 0.5; done
    return 1
}

start_central () {
    "$bin/cpsync-central" run --data "$data/central" --listen "$endpoint" 2>> "$work/central.log" &
    central_pid=$!; pids+=("$central_pid")
}

stop_central () { kill "$central_pid" 2>/dev/null; wait "$central_pid" 2>/dev/null; }

declare -A node_pid
start_node () {   # CODE
    "$bin/cpsync-node" run --data "$data/nodes/$1" --central "$endpoint" 2>> "$work/node-$1.log" &
    node_pid[$1]=$!; pids+=("${node_pid[$1]}")
}

stop_node () { kill "${node_pid[$1]}" 2>/dev/null; wait "${node_pid[$1]}" 2>/dev/null; }

import_into () {   # CODE FILE
    "$bin/cpsync-node" import --data "$data/nodes/$1" "$2" > /dev/null 2> "$work/import.err" \
        || fail "import into $1: $(head -c 300 "$work/import.err")"
}

#   set_up_again CODE: the node's directory is gone; init, a new bundle
#   from the administrator, enrol.
set_up_again () {
    rm -rf "$data/nodes/$1"
    "$bin/cpsync-node" init --data "$data/nodes/$1" --municipality "$1" > /dev/null \
    && "$bin/cpsync-admin" rotate-node --central "$data/central" "$1" --out "$work/$1.bundle" \
        > /dev/null 2>> "$work/admin.log" \
    && "$bin/cpsync-node" enrol --data "$data/nodes/$1" --bundle "$work/$1.bundle" > /dev/null \
    || fail "setting $1 up again"
}

# ---------------------------------------------------------------------------
#  Part 1 through the fleet, copies of two nodes and of the central (all
#  stopped: a copy of the data directory as a file backup makes it), then
#  part 2 with everything running.
mkdir -p "$work/fleet"
for code in "${codes[@]}"; do cp "$work/part1/$code.jsonl" "$work/fleet/"; done
"$bin/cpsync-fleet" --events "$work/fleet" --data "$data" --port "$port" --timeout 300 \
    > "$work/fleet.out" 2>&1 || fail "fleet: $(tail -3 "$work/fleet.out")"
mkdir -p "$work/copies"
cp -a "$data/nodes/durres" "$data/nodes/berat" "$data/central" "$work/copies/"
start_central
for code in "${codes[@]}"; do start_node "$code"; done
for code in "${codes[@]}"; do import_into "$code" "$work/part2/$code.jsonl"; done
wait_acked 120 && ok "part 2 shipped" || fail "part 2 not acknowledged"
central_is "after part 2: the central equals the oracle" national "$work"/all/*.jsonl

# ---------------------------------------------------------------------------
#  (e) The central restored from its older copy.
stop_central
rm -rf "$data/central"
cp -a "$work/copies/central" "$data/central"
start_central
behind=0 deadline=$(( SECONDS + 60 ))
while [ $behind != ${#codes[@]} ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.5
    behind=0
    for code in "${codes[@]}"; do
        [ "$(status "$code" central_restore_detected)" != None ] && behind=$((behind + 1))
    done
done
[ $behind = ${#codes[@]} ] && ok "(e) every node saw that the central holds less than it had acknowledged" \
    || fail "(e) only $behind of ${#codes[@]} nodes saw the central restored"
wait_acked 120 && ok "(e) the nodes shipped again what the restored central lacked" \
    || fail "(e) nodes did not catch up with the restored central"
central_is "(e) the restored central equals the oracle" national "$work"/all/*.jsonl

# ---------------------------------------------------------------------------
#  (a) durres restored from its copy: new events, then its whole export.
#  (c) berat restored from its copy: new events only.
for code in durres berat; do
    stop_node "$code"
    rm -rf "$data/nodes/$code"
    cp -a "$work/copies/$code" "$data/nodes/$code"
    import_into "$code" "$work/new/$code.jsonl"
done
import_into durres "$work/all/durres.jsonl"
for code in durres berat; do start_node "$code"; done
wait_acked 120 && ok "(a, c) the restored nodes are acknowledged" || fail "(a, c) restored nodes not acknowledged"
for code in durres berat; do
    [ "$(status "$code" restore_detected)" != None ] && ok "($code) the node says its store was a restored copy" \
        || fail "($code) the node did not notice it was restored"
done
grep -q "durres log .* is back at head\|durres comes with a new log" "$work/central.log" \
    && ok "(a) the central's log says durres came back restored" || fail "(a) nothing in the central's log"
central_is "(a) durres at the central: old and new events, once each" municipality:durres \
    "$work/part1/durres.jsonl" "$work/part2/durres.jsonl" "$work/new/durres.jsonl"
node_is "(a) durres's own views equal the oracle" durres \
    "$work/part1/durres.jsonl" "$work/new/durres.jsonl" "$work/part2/durres.jsonl"
central_is "(c) berat at the central: what it lost is kept, nothing twice" municipality:berat \
    "$work/part1/berat.jsonl" "$work/part2/berat.jsonl" "$work/new/berat.jsonl"
node_is "(c) berat's own views: its copy and the new events" berat \
    "$work/part1/berat.jsonl" "$work/new/berat.jsonl"

# ---------------------------------------------------------------------------
#  (b) kolonje set up again: its whole export and new events.
stop_node kolonje
set_up_again kolonje
import_into kolonje "$work/all/kolonje.jsonl"
import_into kolonje "$work/new/kolonje.jsonl"
start_node kolonje
wait_acked 120 && ok "(b) kolonje set up again is acknowledged" || fail "(b) kolonje not acknowledged"
central_is "(b) kolonje at the central: nothing counted twice" municipality:kolonje \
    "$work/all/kolonje.jsonl" "$work/new/kolonje.jsonl"
"$bin/cpsync-central" nodes --data "$data/central" --format json > "$work/nodes.json"
python3 - "$work/nodes.json" <<'PY' && ok "(b) cpsync-central nodes shows kolonje's new log and when" \
    || fail "(b) cpsync-central nodes does not show the new log"
import json, sys
nodes = {n ["code"]: n for n in json.load (open (sys.argv [1]))}
k = nodes ["kolonje"]
sys.exit (0 if k ["log_changed"] and k ["log"] and k ["duplicate_events"] > 0 else 1)
PY

# ---------------------------------------------------------------------------
#  (d) tirane lost its disk: set up again and rebuilt from the central.
#  First the central's data key is rotated with no grace (every node told
#  by an announcement) and the old key's secret removed: the archive,
#  sealed to the old key, must still open.
"$bin/cpsync-admin" rotate-central --central "$data/central" --data --grace 0 \
    --out "$work/keys.announce" > /dev/null 2>> "$work/admin.log" || fail "rotate-central --data"
for code in "${codes[@]}"; do
    [ "$code" = tirane ] && continue
    "$bin/cpsync-node" enrol --data "$data/nodes/$code" --bundle "$work/keys.announce" \
        > /dev/null 2>> "$work/admin.log" || fail "announcement not taken by $code"
done
"$bin/cpsync-admin" prune --central "$data/central" > /dev/null 2>> "$work/admin.log"
old_secrets=$(ls "$data/central/keys" | grep -c '^data-')
[ "$old_secrets" = 1 ] && ok "(d) the old data key's secret is gone" \
    || fail "(d) $old_secrets data key secrets left after prune"
stop_node tirane
set_up_again tirane
"$bin/cpsync-node" recover --data "$data/nodes/tirane" --central "$endpoint" --timeout 120 \
    > "$work/recover.out" 2> "$work/recover.log" \
    && ok "(d) cpsync-node recover: $(cat "$work/recover.out")" \
    || fail "(d) recover failed: $(tail -3 "$work/recover.log")"
node_is "(d) tirane rebuilt from the central equals the oracle" tirane "$work/all/tirane.jsonl"
"$bin/cpsync-node" recover --data "$data/nodes/tirane" --central "$endpoint" --timeout 20 \
    > /dev/null 2>&1 && fail "(d) a second recover into a recovered store was not refused" \
    || ok "(d) recover into a store that holds events is refused"
start_node tirane
wait_acked 120 && ok "(d) the rebuilt node ships its log again" || fail "(d) tirane not acknowledged"
central_is "(d) and the central counts none of it twice" municipality:tirane "$work/all/tirane.jsonl"

# ---------------------------------------------------------------------------
#  (f) korce set up again imports an export with one event changed: the
#  first risk assessment's level is another one.
stop_node korce
set_up_again korce
python3 - "$work/all/korce.jsonl" "$work/korce-changed.jsonl" <<'PY'
import json, sys
other = {"low": "high", "medium": "high", "high": "low", "emergency": "low"}
done = False
with open (sys.argv [1]) as source, open (sys.argv [2], "w") as out:
    for line in source:
        event = json.loads (line)
        if not done and event ["type"] == "risk_assessed":
            event ["level"] = other [event ["level"]]
            done = True
            line = json.dumps (event, separators = (",", ":")) + "\n"
        out.write (line)
PY
import_into korce "$work/korce-changed.jsonl"
start_node korce
wait_acked 120 && ok "(f) korce is acknowledged" || fail "(f) korce not acknowledged"
"$bin/cpsync-central" refused --data "$data/central" --scope municipality:korce --format json \
    > "$work/refused.json"
python3 - "$work/refused.json" <<'PY' && ok "(f) the changed event is refused as a conflict and listed" \
    || fail "(f) the conflict is not listed"
import json, sys
refused = json.load (open (sys.argv [1]))
sys.exit (0 if [r ["conflict"] for r in refused] == [True] else 1)
PY
"$bin/cpsync-central" stats --data "$data/central" --format json > "$work/stats.json"
grep -q "already applied with other content" "$work/stats.json" \
    && ok "(f) the conflict is counted" || fail "(f) no conflict counter: $(head -c 300 "$work/stats.json")"
central_is "(f) korce at the central keeps what it took first" municipality:korce "$work/all/korce.jsonl"

# ---------------------------------------------------------------------------
#  A recovery by a revoked key gets nothing and changes nothing.
"$bin/cpsync-node" init --data "$work/revoked" --municipality vlore > /dev/null
"$bin/cpsync-admin" rotate-node --central "$data/central" vlore --out "$work/vlore.bundle" \
    > /dev/null 2>> "$work/admin.log"
"$bin/cpsync-node" enrol --data "$work/revoked" --bundle "$work/vlore.bundle" > /dev/null
"$bin/cpsync-admin" revoke --central "$data/central" vlore > /dev/null 2>> "$work/admin.log"
sleep 1
if "$bin/cpsync-node" recover --data "$work/revoked" --central "$endpoint" --timeout 8 \
        > /dev/null 2> "$work/revoked.log"; then
    fail "a revoked key recovered its archive"
else
    head=$("$bin/cpsync-node" status --data "$work/revoked" --format json \
           | python3 -c 'import json, sys; print (json.load (sys.stdin) ["head"])')
    [ "$head" = 0 ] && ok "a recovery by a revoked key is refused and changes nothing" \
        || fail "a refused recovery left $head events"
fi

# ---------------------------------------------------------------------------
#  Everything, national, at the end.
central_is "in the end the national view equals the oracle" national \
    "$work"/part1/*.jsonl "$work"/part2/*.jsonl "$work"/new/durres.jsonl "$work"/new/berat.jsonl \
    "$work"/new/kolonje.jsonl
for code in "${codes[@]}"; do stop_node "$code"; done
stop_central
if [ $failed != 0 ]; then
    echo "--- the central's log (last 20 lines)"; tail -20 "$work/central.log"
fi
finish
