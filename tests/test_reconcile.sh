#!/usr/bin/env bash
# Published figures, reconciled (issue "Downlink", point 6; the
# reconciliation of `cpsync-central quality`, issue "Governance", point 2),
# with real processes.
#
# berat and tirane ship a year of generated events.  Once each is caught
# up the central sends it FIGURES (its month digests, signed) and the node
# compares them with its own:
#   - both nodes report in_sync (status), the central shows it (nodes,
#     quality), and the verdict does not bring FIGURES and verdicts without
#     end: the heads stay put once the verdicts are shipped;
#   (a) the central stopped, one counter of berat's 2022-03 row changed in
#     its store, the central started again: within seconds berat's node
#     reports diverged naming 2022-03, and `cpsync-central nodes` and
#     `quality` show berat diverged in 2022-03, tirane still in sync;
#     berat's node asks for the central's rows of 2022-03 and `cpsync-node
#     figures` shows the one cell that differs, the central's count one
#     more than the node's;
#   (b) tirane's node stopped, one counter of its own 2022-07 row changed,
#     the node started again: within seconds it reports diverged naming
#     2022-07, and the central shows it; `figures` shows the cell, the
#     central's count one less than the node's.
#
#   test_reconcile.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" reconcile "$@"
central=$work/central
nodes=$work/nodes
tamper=$3/tamper_month
mkdir -p "$nodes" "$work/events"

step "cpsync-central init" "$bin/cpsync-central" init --data "$central" --listen "$endpoint"
seed=61
for code in berat tirane; do
    "$bin/gen_events" --seed $seed --events 800 --from 2022-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle"
    step "cpsync-node enrol $code" "$bin/cpsync-node" enrol --data "$nodes/$code" \
        --bundle "$work/$code.bundle"
    CPSYNC_TODAY=2023-01-15 step "import $code" "$bin/cpsync-node" import --data "$nodes/$code" \
        "$work/events/$code.jsonl"
done

#   node_says CODE VERDICT [PERIODS]: the node's status shows VERDICT, and
#   with PERIODS (space-separated) exactly those months.
node_says () {
    "$bin/cpsync-node" status --data "$nodes/$1" --format json 2>/dev/null | python3 -c '
import json, sys
r = json.load (sys.stdin) ["reconciliation"]
want = sys.argv [2].split () if len (sys.argv) > 2 else None
sys.exit (0 if r ["verdict"] == sys.argv [1] and (want is None or r ["periods"] == want)
          and (r ["verdict"] == "unknown" or r ["as_of"] > 0 and r ["checked"]) else 1)' "${@:2}"
}

#   central_says CODE VERDICT [PERIODS]: the same, as `cpsync-central nodes` shows it.
central_says () {
    "$bin/cpsync-central" nodes --data "$central" --format json 2>/dev/null | python3 -c '
import json, sys
r = {n ["code"]: n for n in json.load (sys.stdin)} [sys.argv [1]] ["reconciliation"]
want = sys.argv [3].split () if len (sys.argv) > 3 else None
sys.exit (0 if r ["verdict"] == sys.argv [2] and (want is None or r ["periods"] == want) else 1)' "$@"
}

#   rows_differ CODE MONTH DIFFERENCE: `cpsync-node figures` of CODE shows
#   the central's rows of MONTH alone, one cell differing by DIFFERENCE
#   (central - node), its counts as the node's and the central's.
rows_differ () {
    "$bin/cpsync-node" figures --data "$nodes/$1" --format json 2>/dev/null | python3 -c '
import json, sys
f = json.load (sys.stdin)
months = f ["months"]
ok = f ["verdict"] == "diverged" and [m ["month"] for m in months] == [sys.argv [1]]
if ok:
    m = months [0]
    cells = m ["cells"]
    ok = m ["node_row"] and m ["central_row"] and m ["readable"] and len (cells) == 1 \
        and cells [0] ["difference"] == int (sys.argv [2]) \
        and cells [0] ["central"] - cells [0] ["node"] == int (sys.argv [2]) \
        and ("/" in cells [0] ["cell"] or cells [0] ["cell"] in ("new", "closed", "home_visits"))
sys.exit (0 if ok else 1)' "$2" "$3"
}

#   within SECONDS COMMAND...: COMMAND succeeds within SECONDS.
within () {
    local deadline=$(( SECONDS + $1 )); shift
    while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.25; done
    "$@"
}

start_central
start_node berat "$endpoint"
start_node tirane "$endpoint"
check "both nodes ship their events" wait_acked 60 berat tirane
check "berat's node finds the central's figures its own (status: in_sync)" \
    within 20 node_says berat in_sync ""
check "... and tirane's" within 20 node_says tirane in_sync ""
check "the verdicts reach the central: nodes shows both in_sync" \
    within 20 bash -c "$(declare -f central_says); bin='$bin' central='$central';
        central_says berat in_sync '' && central_says tirane in_sync ''"
check "nodes' table has a figures column saying so" \
    bash -c "'$bin/cpsync-central' nodes --data '$central' | grep -qE '^berat .* in_sync\$'"
wait_acked 20 berat tirane
heads="$(field berat head) $(field tirane head)"
sleep 6                         #  three times the pause between two FIGURES
check "no verdicts without end: the heads stay at $heads once shipped" \
    [ "$(field berat head) $(field tirane head)" = "$heads" -a "$(field berat acked)" = "$(field berat head)" ]
check "... one figures_checked each: the head is the events imported and one" \
    [ "$(field berat head)" = $(( $(wc -l < "$work/events/berat.jsonl") + 1 )) ]
check "... and status counts it (reports 1)" python3 -c '
import json, subprocess, sys
s = json.loads (subprocess.run ([sys.argv [1], "status", "--data", sys.argv [2]],
                                capture_output = True).stdout)
sys.exit (0 if s ["reconciliation"] ["reports"] == 1 else 1)' "$bin/cpsync-node" "$nodes/berat"

# ---------------------------------------------------------------------------
#  (a) the central's row changed behind its back
stop_central
check "a counter of berat's 2022-03 row at the central is changed" \
    "$tamper" "$central/store" 2022-03 berat
start_central
check "(a) within seconds berat's node reports diverged, naming 2022-03" \
    within 30 node_says berat diverged 2022-03
check "... nodes shows berat diverged in 2022-03" within 20 central_says berat diverged 2022-03
check "... and tirane still in sync" central_says tirane in_sync ""
check "... berat's node has the central's row of 2022-03: one cell, the central's one more" \
    within 20 rows_differ berat 2022-03 1
check "... its table shows the month and the difference" bash -c \
    "'$bin/cpsync-node' figures --data '$nodes/berat' --format table | grep -qE '^2022-03 .* \\+1\$'"
check "... tirane, in sync, has no central rows kept" bash -c \
    "'$bin/cpsync-node' figures --data '$nodes/tirane' --format json | grep -q '\"months\": \\[\\]'"
check "... nodes' table names the municipality and the period" \
    bash -c "'$bin/cpsync-central' nodes --data '$central' | grep -qE '^berat .* diverged 2022-03\$'"
"$bin/cpsync-central" quality --data "$central" --period 2022 --format json > "$work/q.json"
check "... quality: berat diverged in 2022-03, tirane in_sync, the nation diverged" python3 -c '
import json, sys
d = json.load (open (sys.argv [1]))
m = {e ["code"]: e for c in d ["counties"] for e in c ["municipalities"]}
sys.exit (0 if m ["berat"] ["reconciliation"] == "diverged"
          and m ["berat"] ["reconciliation_periods"] == ["2022-03"]
          and m ["tirane"] ["reconciliation"] == "in_sync" and m ["durres"] ["reconciliation"] == "unknown"
          and d ["reconciliation"] == "diverged"
          and d ["reconciliation_counts"] == {"in_sync": 1, "diverged": 1, "unknown": 59} else 1)' \
    "$work/q.json"
"$bin/cpsync-central" quality --data "$central" --period 2022 --scope municipality:tirane \
    --format json > "$work/q.json"
check "... quality of tirane alone: in_sync" python3 -c '
import json, sys; sys.exit (0 if json.load (open (sys.argv [1])) ["reconciliation"] == "in_sync" else 1)' \
    "$work/q.json"
check "... quality's table says so" bash -c "'$bin/cpsync-central' quality --data '$central' \
    --period 2022 --format table | grep -q 'reconciliation with published figures: diverged'"

# ---------------------------------------------------------------------------
#  (b) the node's own row changed behind its back
stop_node tirane
check "a counter of tirane's own 2022-07 row is changed" \
    "$tamper" "$nodes/tirane/store" 2022-07
start_node tirane "$endpoint"
check "(b) within seconds tirane's node reports diverged, naming 2022-07" \
    within 30 node_says tirane diverged 2022-07
check "... nodes shows tirane diverged in 2022-07" within 20 central_says tirane diverged 2022-07
check "... berat still diverged in 2022-03 only" central_says berat diverged 2022-03
check "... tirane's node has the central's row of 2022-07: the central's one less" \
    within 20 rows_differ tirane 2022-07 -1
check "... status' table says so" bash -c "'$bin/cpsync-node' status --data '$nodes/tirane' \
    --format table | grep -qE '^figures +diverged .*: 2022-07\$'"
check "the node logged what differs" grep -q "differ from this node's in 2022-07" "$nodes/tirane/node.log"
check "the daemons are still running" kill -0 "$central_pid" "${node_pid[berat]}" "${node_pid[tirane]}"
finish
