#!/usr/bin/env bash
# Directives with real processes (issue "Downlink", point 4, the central's
# half): `cpsync-central directive send` while the central runs, and
# `cpsync-central directive list` reading each directive's state at each
# municipality from the durable downlink cursors of the nodes.
#
# Two nodes (berat, tirane) are set up by the fleet.  Every bad input to
# `directive send` is refused with a message naming what was wrong, a
# non-zero exit code, and nothing published.  Then, with the central and
# berat running and tirane stopped, three directives are sent: to all, a
# referral to berat, a notice to tirane.  berat's copies go from sent to
# delivered within seconds; tirane's stay sent until tirane is started,
# and are then delivered.  `nodes` shows each node's downlink cursor, and
# it survives the central's restart.  (What nodes report back, acknowledged
# and done, is the node's half; test_central_directives checks those
# states through the store.)
#
#   test_directive_sync.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" directive_sync "$@"
central=$work/data/central
nodes=$work/data/nodes

mkdir -p "$work/events"
seed=41
for code in berat tirane; do
    "$bin/gen_events" --seed $seed --events 100 --from 2022-01-01 --to 2022-06-30 \
        --prefix "$code-" > "$work/events/$code.jsonl" 2>/dev/null
    seed=$((seed + 1))
done
step "the fleet sets up berat and tirane" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 120

#  send ARGS...: directive send; its output in send.out, messages in send.err.
send () {
    "$bin/cpsync-central" directive send --data "$central" "$@" \
        > "$work/send.out" 2> "$work/send.err"
}

#  listed: how many directives the list holds.
listed () {
    "$bin/cpsync-central" directive list --data "$central" --format json | python3 -c '
import json, sys; print (len (json.load (sys.stdin)))'
}

#  state SEQ CODE: the state of directive SEQ at municipality CODE.
state () {
    "$bin/cpsync-central" directive list --data "$central" --format json 2>/dev/null |
        python3 -c '
import json, sys
seq, code = int (sys.argv [1]), sys.argv [2]
for d in json.load (sys.stdin):
    for m in d ["municipalities"] if d ["seq"] == seq else []:
        if m ["code"] == code:
            print (m ["state"])' "$1" "$2"
}

#  has_it SEQ CODE: the node has directive SEQ, as far as the central knows:
#  delivered (or acknowledged, once the node's receipt has come back).
has_it () {
    case "$(state "$1" "$2")" in delivered|acknowledged) return 0;; esac
    return 1
}

#  wait_for SECONDS COMMAND...: COMMAND succeeds within SECONDS.
wait_for () {
    local deadline=$(( SECONDS + $1 )); shift
    while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.25; done
    "$@"
}

#  downlink_of CODE: the downlink cursor `nodes` shows for CODE.
downlink_of () {
    "$bin/cpsync-central" nodes --data "$central" --format json | python3 -c '
import json, sys
print ([n ["downlink"] for n in json.load (sys.stdin) if n ["code"] == sys.argv [1]] [0])' "$1"
}

#  refused WHAT EXIT TEXT ARGS...: directive send with ARGS exits EXIT, its
#  message contains TEXT, and nothing was published.
refused () {
    local what=$1 want=$2 text=$3; shift 3
    send "$@"
    local rc=$?
    if [ $rc != "$want" ]; then
        fail "$what: exit $rc, not $want ($(head -c 200 "$work/send.err"))"
    elif ! grep -qF -- "$text" "$work/send.err"; then
        fail "$what: the message does not say '$text': $(head -c 300 "$work/send.err")"
    elif [ "$(listed)" != 0 ] || [ -s "$work/send.out" ]; then
        fail "$what: something was published"
    else
        ok "$what is refused (exit $want)"
    fi
}

#  The help's words, its lines joined
"$bin/cpsync-central" --help 2>&1 | tr -s ' \n' ' ' > "$work/help.txt"
check "--help says the text must not contain case data" \
    grep -q "The TEXT must not contain case data" "$work/help.txt"
check "... names what that is" grep -q "no names, no case pseudonyms, no addresses" \
    "$work/help.txt"
check "... and why" grep -q "Directives are not sealed and every node addressed keeps them" \
    "$work/help.txt"

#  Every bad input, with the central not running and then running
long=$(head -c 1001 /dev/zero | tr '\0' 'x')
head -c 64 /dev/urandom > "$work/not-root.secret"; chmod 600 "$work/not-root.secret"
bad_inputs () {
    refused "an empty text" 1 "a directive needs a text" --to all --kind notice --text ""
    refused "a text of 1001 bytes" 1 "1001 bytes, over the 1000" --to all --kind notice \
        --text "$long"
    refused "a text with a tab" 1 "control character at byte 1" --to all --kind notice \
        --text "$(printf 'a\tb')"
    refused "a text that is not UTF-8" 1 "not UTF-8" --to all --kind notice \
        --text "$(printf 'caf\xe9')"
    refused "an unknown municipality" 1 "--to 'atlantis' is no municipality code" \
        --to atlantis --kind notice --text "hello"
    refused "an unknown county" 1 "--to 'county:atlantis' is no county code" \
        --to county:atlantis --kind notice --text "hello"
    refused "a municipality named as a county" 1 "is no county code" \
        --to county:kamez --kind notice --text "hello"
    refused "a due date that is not a date" 2 "--due must be a date" --to all --kind deadline \
        --due 2027-02-30 --text "hello"
    refused "a due date in another form" 2 "--due must be a date" --to all --kind deadline \
        --due 15/01/2027 --text "hello"
    refused "a due date before today" 2 "--due is before today" --to all --kind deadline \
        --due 2020-01-01 --text "hello"
    refused "an unknown kind" 2 "--kind must be referral, deadline or notice" --to all \
        --kind order --text "hello"
    refused "no --to" 2 "needs --to, --kind and --text" --kind notice --text "hello"
    refused "no --kind" 2 "needs --to, --kind and --text" --to all --text "hello"
    refused "no --text" 2 "needs --to, --kind and --text" --to all --kind notice
    refused "a bad --format" 2 "--format must be json or table" --to all --kind notice \
        --text "hello" --format xml
    refused "a root secret that is not the central's" 1 \
        "is not the root key this central was set up with" --to all --kind notice \
        --text "hello" --root-secret "$work/not-root.secret"
}
bad_inputs
"$bin/cpsync-central" directive send --to all --kind notice --text "hello" \
    > "$work/send.out" 2> "$work/send.err"
check "no --data is refused (exit 2)" [ $? = 2 ]

start_central
start_node berat "$endpoint"
bad_inputs
check "nothing is in the downlink log" [ "$(listed)" = 0 ]

#  Three directives while tirane is stopped
send --to all --kind notice --text "$(printf 'The office is closed on 2 January.\nThanks.')"
check "a notice to all is sent" [ $? = 0 ]
check "... and its id and address printed" grep -qx "directive 1 (notice) sent to all" \
    "$work/send.out"
send --to berat --kind referral --due 2099-01-15 --text "Referral 2026/114: please take it up" \
    --format json
check "a referral to berat is sent" [ $? = 0 ]
check "... its id and address in json" python3 -c '
import json, sys
d = json.load (open (sys.argv [1]))
sys.exit (0 if (d ["id"], d ["to"], d ["kind"], d ["due"]) == (2, "berat", "referral",
                                                               "2099-01-15") else 1)' \
    "$work/send.out"
send --to county:tirane --kind deadline --due 2099-03-31 --text "Quarterly report by 31 March"
check "a deadline to county:tirane is sent" [ $? = 0 ]
check "... as directive 3" \
    grep -qx "directive 3 (deadline, due 2099-03-31) sent to county:tirane" "$work/send.out"
check "the list holds the three" [ "$(listed)" = 3 ]

check "berat's copy of 1 is delivered" wait_for 20 has_it 1 berat
check "berat's referral (2) is delivered" wait_for 20 has_it 2 berat
check "tirane's copy of 1 is still sent" [ "$(state 1 tirane)" = sent ]
check "tirane's copy of 3 is still sent" [ "$(state 3 tirane)" = sent ]
check "kamez (county tirane, no node running) has 3 sent" [ "$(state 3 kamez)" = sent ]
check "nodes shows berat's downlink cursor at 2" wait_for 10 \
    eval '[ "$(downlink_of berat)" = 2 ]'
check "... and tirane's at 0" [ "$(downlink_of tirane)" = 0 ]
"$bin/cpsync-central" directive list --data "$central" > "$work/list.txt"
#  (delivered, or acknowledged once berat's receipt is back)
counts="^  sent 0  delivered [01]  acknowledged [01]  done 0  overdue 0  taken up 0 of 1"
check "the table shows the referral's counts" grep -qE "$counts" "$work/list.txt"
check "... and tirane's deadline sent" grep -qE "^  tirane +sent " "$work/list.txt"
check "the table's nodes show the downlink column" bash -c \
    "'$bin/cpsync-central' nodes --data '$central' | head -1 | grep -q downlink"

#  tirane, offline while they were sent, gets them when it comes back
start_node tirane "$endpoint"
check "tirane, started, has 1 delivered" wait_for 20 has_it 1 tirane
check "... and 3" wait_for 20 has_it 3 tirane
check "tirane's node has applied 1 and 3" bash -c "'$bin/cpsync-node' downlink \
    --data '$nodes/tirane' --format json | python3 -c '
import json, sys
seqs = [e [\"seq\"] for e in json.load (sys.stdin) [\"entries\"]]
sys.exit (0 if seqs == [1, 3] else 1)'"
check "nodes shows tirane's downlink cursor at 3" wait_for 10 \
    eval '[ "$(downlink_of tirane)" = 3 ]'

#  The cursors are the store's: they stay when the central stops and starts
stop_node berat
stop_node tirane
stop_central
check "with the central stopped, berat's referral is still delivered" has_it 2 berat
check "... and tirane's deadline" has_it 3 tirane
check "... and nodes still shows the cursors" \
    eval '[ "$(downlink_of berat) $(downlink_of tirane)" = "2 3" ]'
start_central
send --to berat --kind notice --text "one more"
check "a directive sent to berat while it is stopped" [ $? = 0 ]
check "... is sent, not delivered" [ "$(state 4 berat)" = sent ]
check "... while the older ones stay delivered" has_it 2 berat
start_node berat "$endpoint"
check "... and delivered when berat comes back" wait_for 20 has_it 4 berat
finish
