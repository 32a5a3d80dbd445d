#!/usr/bin/env bash
# cpsync-fleet delivers the downlink (issue 13, point 3): a fleet run ends
# only when every node has applied every entry addressed to it, so a run
# after `cpsync-central catalogue publish` leaves every node at the new
# catalogue.
#
# Three municipalities (berat, kucove, tirane) ship their events through
# the fleet; a node rejects a line with a catalogue-2 code, naming the
# revision.  catalogue-v2.json is published while nothing runs, and the
# fleet is run again over the same events (nothing new to ship): when it
# returns, every node's status says catalogue 2 and downlink 1, its output
# says so, and the rejected line imports.  Then a directive to kucove
# alone: the next run returns with kucove at entry 2, the others at 1.
# Without the wait, the second run returns at its first look at the
# central's cursors, before any node has said HELLO.
#
#   test_fleet_downlink.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" fleet_downlink "$@"
central=$work/data/central
nodes=$work/data/nodes
codes=(berat kucove tirane)

mkdir -p "$work/events"
seed=31
for code in "${codes[@]}"; do
    "$bin/gen_events" --seed $seed --events 300 --from 2022-01-01 --to 2022-06-30 \
        --prefix "$code-" > "$work/events/$code.jsonl" 2>/dev/null
    seed=$((seed + 1))
done

#  field CODE KEY: KEY of the node's status.
field () {
    "$bin/cpsync-node" status --data "$nodes/$1" --format json 2>/dev/null | python3 -c '
import json, sys; print (json.load (sys.stdin) [sys.argv [1]])' "$2"
}

#  all_at KEY VALUE...: each node's KEY is the VALUE in its place (berat,
#  kucove, tirane), right now: no waiting.
all_at () {
    local key=$1 code got; shift
    for code in "${codes[@]}"; do
        got=$(field "$code" "$key")
        [ "$got" = "$1" ] || { echo "    $code: $key $got, expected $1"; return 1; }
        if [ $# -gt 1 ]; then shift; fi
    done
}

#  verdicts_cover_heads: each node's verdict is in_sync and as of its
#  whole log (as_of is its head, or one before when the verdict itself was
#  appended), and the central has acknowledged all of it.  A fleet that
#  stops as soon as the events and entries are delivered leaves kucove's
#  verdict behind its receipt of the directive.  (That the central sends
#  the figures again to a node that ignored them is test_central_store's
#  test_figures.)
verdicts_cover_heads () {
    local code
    for code in "${codes[@]}"; do
        "$bin/cpsync-node" status --data "$nodes/$code" --format json 2>/dev/null \
        | python3 -c '
import json, sys
s = json.load (sys.stdin); r = s ["reconciliation"]
ok = r ["verdict"] == "in_sync" and r ["as_of"] is not None \
     and r ["as_of"] >= s ["head"] - 1 and s ["acked"] == s ["head"]
if not ok:
    print ("    %s: head %d, acked %d, verdict %s as of %s" % (sys.argv [1], s ["head"],
           s ["acked"], r ["verdict"], r ["as_of"]))
sys.exit (0 if ok else 1)' "$code" || return 1
    done
}

fleet () {
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 120 \
        > "$work/fleet.out" 2> "$work/fleet.err"
}

step "the fleet ships three municipalities' events" fleet
check "every node is at catalogue 1, downlink 0" all_at catalogue 1
check "... downlink 0" all_at downlink 0
check "with an empty log the fleet says nothing of the downlink" \
    bash -c "! grep -q downlink '$work/fleet.out'"

cat > "$work/cat2.jsonl" <<'EOF'
{"id":"x-1","type":"case_opened","case":"x-c1","date":"2022-09-14","age":14,"sex":"F","ethnicity":"foreign","referral":"police"}
{"id":"x-2","type":"problem_set","case":"x-c1","date":"2022-09-15","problem":"unaccompanied_foreign_child"}
EOF
"$bin/cpsync-node" import --data "$nodes/tirane" "$work/cat2.jsonl" > /dev/null 2> "$work/import.err"
check "before the revision a catalogue-2 line is rejected (exit 1)" [ $? = 1 ]
check "... naming the revision" grep -qF \
    "comes with catalogue revision 2, which this node has not applied (it has catalogue 1)" \
    "$work/import.err"

step "catalogue-v2.json is published" \
    "$bin/cpsync-central" catalogue publish --data "$central" "$catalogues/catalogue-v2.json"
check "the fleet over the same events exits 0" fleet
check "when it returns, every node is at catalogue 2" all_at catalogue 2
check "... and at downlink 1" all_at downlink 1
check "it says every node has applied the entries (up to entry 1)" grep -q \
    "every node has applied the downlink entries addressed to it (up to entry 1)" "$work/fleet.out"
check "it still says the events are acknowledged, as before" \
    grep -q "events of 3 nodes acknowledged in" "$work/fleet.out"
"$bin/cpsync-node" import --data "$nodes/tirane" "$work/cat2.jsonl" > /dev/null 2> "$work/import.err"
check "after it the catalogue-2 line imports (exit 0)" [ $? = 0 ]

#  A notice as protocol/cp_directive encodes it: [1, 3, 0, text], msgpack.
python3 -c 'import sys
text = b"check the shelter records"
open (sys.argv [1], "wb").write (bytes ([0x94, 1, 3, 0, 0xa0 | len (text)]) + text)' \
    "$work/directive.txt"
step "a directive to kucove alone is published" "$bin/cpsync-admin" publish \
    --central "$central" --kind directive --to kucove "$work/directive.txt"
check "the next fleet run exits 0 (tirane's new events too)" fleet
check "when it returns kucove is at entry 2, the others at 1" all_at downlink 1 2 1
check "... and tirane's two new events are acknowledged" \
    [ "$(field tirane acked)" = "$(field tirane head)" ]
check "every node has checked the central's figures of its whole log, and the central has its verdict" \
    verdicts_cover_heads
check "... and the fleet named no node without one" \
    bash -c "! grep -q 'had not checked' '$work/fleet.err'"
check "a run with nothing to deliver exits 0" fleet
finish
