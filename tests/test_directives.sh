#!/usr/bin/env bash
# Directives at the node (the issue "Downlink", point 4), with real
# processes: a central and two nodes, berat and kucove, at catalogue 2.
#   - a notice to all reaches both running nodes; each gives its receipt
#     (directive_received), which reaches the central;
#   - kucove is stopped while a deadline already past and a referral are
#     published to it; back, it applies both in order, lists them (the
#     deadline overdue), and its receipts reach the central;
#   - `directive done` with a note marks the deadline done at the node and
#     at the central; bad input (done again, an id that is no directive
#     applied here, a malformed id, a note too long or with a control
#     character) is refused with exit 1 and a message naming it, and
#     changes nothing;
#   - an imported case_opened naming the referral takes it up (done, note
#     "case opened", at the node and the central); one naming an unknown
#     directive, or the notice, is rejected with a message naming it;
#   - `cpsync-central directive list` gives each directive's state at each
#     municipality (acknowledged, done, the referral taken up), and a
#     deadline due tomorrow turns overdue with CPSYNC_TODAY five days on.
# What the central holds of the reports is read with tests/directive_report
# (central_store_directive_report).
#
#   test_directives.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" directives "$@"
central=$work/central
nodes=$work/nodes
mkdir -p "$nodes"
today=$(date -u +%Y-%m-%d)

#  body FILE KIND DUE TEXT: a directive's body as protocol/cp_directive
#  encodes it, msgpack [1, kind, due, text] (kind 1 referral, 2 deadline,
#  3 notice; due a day number or 0).
body () {
    python3 - "$@" <<'PY'
import struct, sys
path, kind, due, text = sys.argv [1], int (sys.argv [2]), int (sys.argv [3]), sys.argv [4].encode ()
#  Each value in its shortest form, as cp_directive wants it.
def uint (n):
    return bytes ([n]) if n < 128 else b"\xcc" + bytes ([n]) if n < 256 \
        else b"\xcd" + struct.pack (">H", n)
size = len (text)
head = bytes ([0xa0 | size]) if size < 32 else bytes ([0xd9, size]) if size < 256 \
    else b"\xda" + struct.pack (">H", size)
open (path, "wb").write (b"\x94" + uint (1) + uint (kind) + uint (due) + head + text)
PY
}
days_ago=$(python3 -c 'import datetime; print ((datetime.date.today () - datetime.timedelta (days = 3) - datetime.date (1970, 1, 1)).days)')
body "$work/notice.bin" 3 0 "Training on the new catalogue on Monday"
body "$work/deadline.bin" 2 "$days_ago" "Send the staffing table"
body "$work/referral.bin" 1 0 "A referral: a child in need of protection, details by phone"

#  publish TO FILE: prints the seq the entry got.
publish () {
    "$bin/cpsync-admin" publish --central "$central" --kind directive --to "$1" "$2" \
        2> "$work/publish.err" | sed -n 's/^published downlink entry \([0-9]*\) .*/\1/p'
}

#  listed CODE: the node's directives as "id:kind:state:done:note" lines.
listed () {
    "$bin/cpsync-node" directives --data "$nodes/$1" --format json | python3 -c '
import json, sys
for d in json.load (sys.stdin) ["directives"]:
    print ("%d:%s:%s:%s:%s:%s" % (d ["id"], d ["kind"], d ["state"], d ["received"],
                                  d ["done"], d ["note"]))'
}

#  report SEQ CODE: what the central holds of the node's reports on SEQ.
report () { "$bin/directive_report" "$central" "$1" "$2" 2>&1; }

#  wait_report SECONDS SEQ CODE WANT
wait_report () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(report "$2" "$3")" = "$4" ] && return 0
        sleep 0.25
    done
    echo "    the central holds [$(report "$2" "$3")] of $3 on $2, not [$4]"
    return 1
}

#  wait_cursor SECONDS CODE CURSOR: the node's downlink cursor gets there.
wait_cursor () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(field "$2" downlink)" = "$3" ] && return 0
        sleep 0.2
    done
    return 1
}

step "cpsync-central init" "$bin/cpsync-central" init --data "$central" --listen "$endpoint" \
    --catalogue 2
for code in berat kucove; do
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" \
        --municipality "$code" --catalogue 2
    step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle"
    step "cpsync-node enrol $code" "$bin/cpsync-node" enrol --data "$nodes/$code" \
        --bundle "$work/$code.bundle"
done
start_central
start_node berat "$endpoint"
start_node kucove "$endpoint"

#  A notice to all, both nodes running.
notice=$(publish all "$work/notice.bin")
check "a notice to all is published as entry 1" [ "$notice" = 1 ]
check "berat applies it" wait_cursor 20 berat 1
check "kucove applies it" wait_cursor 20 kucove 1
check "berat lists it, received today" [ "$(listed berat)" = "1:notice:received:$today:None:" ]
check "berat's receipt reaches the central" wait_report 30 1 berat "received $today done - note "
check "kucove's too" wait_report 30 1 kucove "received $today done - note "

#  kucove offline while two directives are published to it.
stop_node kucove
deadline=$(publish kucove "$work/deadline.bin")
referral=$(publish kucove "$work/referral.bin")
check "a deadline and a referral to kucove are entries 2 and 3" \
    [ "$deadline $referral" = "2 3" ]
check "the central has no receipt of them yet" [ "$(report 2 kucove)" = "" ]
start_node kucove "$endpoint"
check "kucove, back, applies both" wait_cursor 30 kucove 3
python3 - "$nodes/kucove/node.log" <<'PY' && ok "... 1, then 2, then 3 in its log" || fail "... 1, then 2, then 3 in its log"
import re, sys
applied = [int (m) for m in re.findall (r"downlink entry (\d+) applied", open (sys.argv [1]).read ())]
sys.exit (0 if applied == [1, 2, 3] else 1)
PY
listed kucove > "$work/kucove.list"
check "kucove lists the three, the deadline overdue" diff - "$work/kucove.list" <<EOF
1:notice:received:$today:None:
2:deadline:overdue:$today:None:
3:referral:received:$today:None:
EOF
check "its receipt of 2 reaches the central" wait_report 30 2 kucove "received $today done - note "
check "... and of 3" wait_report 30 3 kucove "received $today done - note "
check "berat, not addressed, lists only the notice" [ "$(listed berat | wc -l)" = 1 ]
"$bin/cpsync-node" directives --data "$nodes/kucove" --format table > "$work/table.out"
check "the table shows the text and the state" \
    grep -q "^2 .*deadline .*overdue .*Send the staffing table" "$work/table.out"

#  directive done, with a note.
"$bin/cpsync-node" directive done --data "$nodes/kucove" 2 --note "table sent by mail" \
    > "$work/done.out" 2>&1
check "directive done 2 exits 0" [ $? = 0 ]
check "... saying so" grep -q "directive 2 done on $today" "$work/done.out"
check "kucove lists it done with the note" \
    grep -qx "2:deadline:done:$today:$today:table sent by mail" <(listed kucove)
check "the central learns it, with the note" \
    wait_report 30 2 kucove "received $today done $today note table sent by mail"

#  Bad input: exit 1, a message that names it, nothing changed.
head_before=$(field kucove head)
list_before=$(listed kucove)
refuse () {
    local what=$1 want=$2; shift 2
    "$bin/cpsync-node" directive done --data "$nodes/kucove" "$@" > "$work/bad.out" 2>&1
    local rc=$?
    check "$what is refused (exit 1)" [ $rc = 1 ]
    check "... saying: $want" grep -q -- "$want" "$work/bad.out"
}
refuse "done again" "directive 2 was done already on $today" 2
refuse "an id no directive applied here" "7 is no directive this node has received" 7
refuse "a malformed id" "'2x' is not a directive id" 2x
refuse "an id of 0" "'0' is not a directive id" 0
refuse "a note over 200 bytes" "note" 1 --note "$(printf 'n%.0s' $(seq 201))"
refuse "a note with a control character" "note" 1 --note "$(printf 'a\tb')"
check "... and nothing changed: the head" [ "$(field kucove head)" = "$head_before" ]
check "... and the directives" [ "$(listed kucove)" = "$list_before" ]
"$bin/cpsync-node" directive done --data "$nodes/kucove" > "$work/bad.out" 2>&1
check "directive done without an id is a usage error (exit 2)" [ $? = 2 ]

#  A referral taken up by an imported case_opened.
cat > "$work/cases.jsonl" <<'EOF'
{"id":"k-1","type":"case_opened","case":"kc-1","date":"2023-05-02","age":7,"sex":"F","ethnicity":"roma","referral":"central_agency","directive":3}
{"id":"k-2","type":"case_opened","case":"kc-2","date":"2023-05-02","age":8,"sex":"M","ethnicity":"roma","referral":"central_agency","directive":7}
{"id":"k-3","type":"case_opened","case":"kc-3","date":"2023-05-02","age":8,"sex":"M","ethnicity":"roma","referral":"central_agency","directive":1}
{"id":"k-4","type":"case_opened","case":"kc-4","date":"2023-05-02","age":8,"sex":"M","ethnicity":"roma","referral":"police","directive":3}
EOF
"$bin/cpsync-node" import --data "$nodes/kucove" "$work/cases.jsonl" > "$work/import.out" \
    2> "$work/import.err"
check "the import exits 1 (lines rejected)" [ $? = 1 ]
check "... one case imported, three rejected" grep -q "1 imported, 0 duplicate, 3 rejected" \
    "$work/import.out"
check "... the unknown directive named" \
    grep -q "cases.jsonl:2: field 'directive': 7 is no directive this node has received" \
    "$work/import.err"
check "... the notice named" \
    grep -q "cases.jsonl:3: field 'directive': directive 1 is a notice, not a referral" \
    "$work/import.err"
check "... a referral by the police may not name one" \
    grep -q "cases.jsonl:4: field 'directive' belongs only to a case referred by the State" \
    "$work/import.err"
check "kucove lists the referral done, note 'case opened'" \
    grep -qx "3:referral:done:$today:$today:case opened" <(listed kucove)
check "the central learns that the referral was taken up" \
    wait_report 30 3 kucove "received $today done $today note case opened"
check "the notice stays open at kucove" grep -qx "1:notice:received:$today:None:" <(listed kucove)
check "everything kucove logged is acknowledged" wait_acked 30 kucove
"$bin/cpsync-central" nodes --data "$central" --format json > "$work/nodes.json"
#  central_has_all CODE: the central has applied every event of the node's
#  log (a verdict on its figures may still come: read again until then).
central_has_all () {
    local deadline=$(( SECONDS + 20 ))
    while [ $SECONDS -lt $deadline ]; do
        "$bin/cpsync-central" nodes --data "$central" --format json > "$work/nodes.json"
        python3 -c '
import json, sys
row = [r for r in json.load (open (sys.argv [1])) if r ["code"] == sys.argv [2]] [0]
head = int (sys.argv [3])
sys.exit (0 if head >= 6 and row ["acked"] == head and row ["events"] == head else 1)' \
            "$work/nodes.json" "$1" "$(field "$1" head)" && return 0
        sleep 0.5
    done
    return 1
}
check "the central counts all kucove's events (3 receipts, 2 done, 1 case, its verdicts)" \
    central_has_all kucove

#  The central's list of directives: each one's state at each municipality.
#  A deadline to berat due tomorrow is acknowledged today, overdue after.
tomorrow=$(python3 -c 'import datetime; print ((datetime.date.today () + datetime.timedelta (days = 1) - datetime.date (1970, 1, 1)).days)')
later=$(date -u -d "+5 days" +%F)
body "$work/due.bin" 2 "$tomorrow" "Send the quarter's table"
due=$(publish berat "$work/due.bin")
check "a deadline to berat is entry 4" [ "$due" = 4 ]
check "berat's receipt reaches the central" \
    wait_report 30 4 berat "received $today done - note "
#  states [TODAY]: "seq:code:state:taken_up" lines of the central's list,
#  for the two municipalities that have nodes (the notice went to all 61).
states () {
    CPSYNC_TODAY=${1:-} "$bin/cpsync-central" directive list --data "$central" --format json \
        | python3 -c '
import json, sys
for d in json.load (sys.stdin):
    for m in d ["municipalities"]:
        if m ["code"] in ("berat", "kucove"):
                print ("%d:%s:%s:%s" % (d ["seq"], m ["code"], m ["state"], d ["taken_up"]))'
}
check "the central lists every directive's state at each municipality" diff - <(states) <<EOF
1:berat:acknowledged:None
1:kucove:acknowledged:None
2:kucove:done:None
3:kucove:done:1
4:berat:acknowledged:None
EOF
check "... and five days on, berat's deadline is overdue" \
    grep -qx "4:berat:overdue:None" <(states "$later")
finish
