#!/usr/bin/env bash
# The downlink with real processes (issue "Downlink", point 2): entries that
# cpsync-admin publishes while the central runs reach the nodes they are
# addressed to, in order, exactly once.
#
# Three nodes (berat and kucove, both of Berat county, and tirane) ship
# their events; kucove is stopped.  Four entries are published while the
# other two run: to all, to county:berat, to tirane, to kucove.  Then:
#   - berat has applied 1 and 2, tirane 1 and 3, within seconds, each
#     entry's bytes as published (the root's signature checked again);
#   - kucove, started afterwards, gets 1, 2 and 4, in that order;
#   - a node killed (-9) and restarted gets nothing twice, and one more
#     entry reaches all three;
#   - publishing with a root secret that is not the central's, to an
#     unknown address, of an unknown kind, a directive whose body is not
#     one, or a file over 256 KiB is
#     refused with a message naming what was wrong, and the log is
#     unchanged (the next entry takes the next seq);
#   - a central restored from a copy made before any entry learns from the
#     nodes' HELLOs how far the log went, numbers the next entry after it,
#     and every node applies it;
#   - a node offline while a catalogue revision, two directives and a key
#     announcement are published gets all four, in order, when it comes
#     back: it is at catalogue 2 and seals to the new data key.
#
#   test_downlink_sync.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" downlink_sync "$@"
central=$work/data/central
nodes=$work/data/nodes

mkdir -p "$work/events"
seed=21
for code in berat kucove tirane; do
    "$bin/gen_events" --seed $seed --events 600 --from 2022-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships three municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300
cp -a "$central" "$work/central-before"     # no entry yet: restored at the end

#  entries CODE: the seqs of the node's applied entries, comma-joined.
entries () {
    "$bin/cpsync-node" downlink --data "$nodes/$1" --format json 2>> "$work/downlink.err" |
        python3 -c 'import json, sys
print (",".join (str (e ["seq"]) for e in json.load (sys.stdin) ["entries"] if e ["kind"] != "unverified"))'
}

#  wait_entries SECONDS CODE WANT: the node's entries become WANT.
wait_entries () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(entries "$2")" = "$3" ] && return 0
        sleep 0.2
    done
    echo "    $2 has applied [$(entries "$2")], not [$3]"
    return 1
}

#  publish KIND TO FILE [ARGS...]: prints the seq the entry got.
publish () {
    "$bin/cpsync-admin" publish --central "$central" --kind "$1" --to "$2" "$3" "${@:4}" \
        > "$work/publish.out" 2> "$work/publish.err"
    local rc=$?
    sed -n 's/^published downlink entry \([0-9]*\) .*/\1/p' "$work/publish.out"
    return $rc
}

#  Directive bodies as protocol/cp_directive encodes them: [1, kind 3
#  (notice), due 0, text], msgpack.
python3 - "$work" <<'PY'
import sys
for n in range (1, 7):
    text = b"directive %d: report by the deadline" % n
    open ("%s/d%d.txt" % (sys.argv [1], n), "wb").write (
        bytes ([0x94, 1, 3, 0, 0xd9, len (text)]) + text)
PY

start_central
start_node berat "$endpoint"
start_node tirane "$endpoint"
sleep 1
seqs="$(publish directive all "$work/d1.txt") $(publish directive county:berat "$work/d2.txt")"
seqs="$seqs $(publish directive tirane "$work/d3.txt") $(publish directive kucove "$work/d4.txt")"
check "four entries published while the central runs, numbered 1 to 4" \
    [ "$seqs" = "1 2 3 4" ]
check "berat applies the entries to all and to its county (1, 2)" wait_entries 10 berat 1,2
check "tirane applies the entries to all and to it (1, 3)" wait_entries 10 tirane 1,3
check "kucove, not running, has none" [ -z "$(entries kucove)" ]
start_node kucove "$endpoint"
check "kucove, started, gets 1, 2 and 4" wait_entries 15 kucove 1,2,4
python3 - "$nodes/kucove/node.log" <<'PY' && ok "... 1, then 2, then 4 in its log" || fail "... 1, then 2, then 4 in its log"
import re, sys
applied = [int (m) for m in re.findall (r"downlink entry (\d+) applied", open (sys.argv [1]).read ())]
sys.exit (0 if applied == [1, 2, 4] else 1)
PY

#  The bytes each node holds are the ones published: the bodies are what
#  the files held (the listing verifies each signature again).
check "no entry failed its signature check again" [ ! -s "$work/downlink.err" ]

#  Refusals: nothing is appended.
head -c 64 /dev/urandom > "$work/not-root.secret"; chmod 600 "$work/not-root.secret"
publish directive all "$work/d5.txt" --root-secret "$work/not-root.secret" > /dev/null
check "a root secret that is not the central's is refused (exit 1)" [ $? = 1 ]
check "... and says so" grep -q "is not the root key this central was set up with" \
    "$work/publish.err"
publish directive nowhere "$work/d5.txt" > /dev/null
check "an unknown address is refused" [ $? = 1 ]
check "... naming it" grep -q "'nowhere' is no address" "$work/publish.err"
publish notice all "$work/d5.txt" > /dev/null
check "an unknown kind is refused (exit 2)" [ $? = 2 ]
echo "report by Friday" > "$work/plain.txt"
publish directive all "$work/plain.txt" > /dev/null
check "a directive whose body is not one is refused (exit 1)" [ $? = 1 ]
check "... saying so" grep -q "plain.txt is not a directive" "$work/publish.err"
head -c $((256 * 1024 + 1)) /dev/zero > "$work/big.bin"
publish directive all "$work/big.bin" > /dev/null
check "a body over 256 KiB is refused" [ $? = 2 ]
check "... saying so" grep -q "over the 262144 bytes it may hold" "$work/publish.err"
publish directive all "$work/missing.txt" > /dev/null
check "a missing file is refused (exit 2)" [ $? = 2 ]

#  A node killed while entries come, restarted: nothing twice.
kill -9 "${node_pid[berat]}"; wait "${node_pid[berat]}" 2>/dev/null
seq=$(publish directive all "$work/d5.txt")
check "after the refusals the next entry is 5" [ "$seq" = 5 ]
start_node berat "$endpoint"
check "berat, killed and restarted, has 1, 2, 5" wait_entries 10 berat 1,2,5
check "tirane has 1, 3, 5" wait_entries 10 tirane 1,3,5
check "kucove has 1, 2, 4, 5" wait_entries 10 kucove 1,2,4,5
#  (-30839 is CP_EREPLAY, -30838 CP_EGAP: protocol/cp_error.h)
refused=$("$bin/cpsync-node" status --data "$nodes/berat" --format json | python3 -c '
import json, sys
print (sum (r ["count"] for r in json.load (sys.stdin) ["downlink_refused"]
            if r ["code"] not in (-30839, -30838)))' 2>/dev/null)
check "berat refused nothing but resends" [ "${refused:-x}" = 0 ]

#  The central restored from its copy before any entry: the nodes' HELLOs
#  say how far the log went, and the next entry is numbered after it.
stop_central
rm -rf "$central"; cp -a "$work/central-before" "$central"
start_central
deadline=$(( SECONDS + 30 ))
until [ "$(grep -c "connected" "$central/central.log")" -ge 3 ] || [ $SECONDS -ge $deadline ]; do
    sleep 0.2
done
seq=$(publish directive all "$work/d6.txt")
check "the restored central numbers the next entry 6, past what the nodes applied" \
    [ "$seq" = 6 ]
check "berat applies it" wait_entries 10 berat 1,2,5,6
check "tirane applies it" wait_entries 10 tirane 1,3,5,6
check "kucove applies it" wait_entries 10 kucove 1,2,4,5,6
check "the central logged the nodes ahead of its log" \
    grep -q "past the log's end" "$central/central.log"

#  kucove offline while four entries of three kinds are published.
stop_node kucove
check "kucove is at catalogue 1 before" [ "$(field kucove catalogue)" = 1 ]
"$bin/cpsync-central" catalogue publish --data "$central" "$catalogues/catalogue-v2.json" \
    > "$work/publish.out" 2>&1 || fail "catalogue publish: $(cat "$work/publish.out")"
publish directive kucove "$work/d1.txt" > /dev/null || fail "publish a directive to kucove"
publish directive county:berat "$work/d2.txt" > /dev/null || fail "publish a directive to Berat"
step "cpsync-admin rotate-central --data" \
    "$bin/cpsync-admin" rotate-central --central "$central" --data --out "$work/data.ann"
new_data=$("$bin/cpsync-admin" keys --central "$central" --format json | python3 -c '
import json, sys
print ([k ["id"] for k in json.load (sys.stdin) ["keys"] if k ["kind"] == "data"
        and k ["state"] == "current"] [-1])')
start_node kucove "$endpoint"
check "kucove, back, gets the four entries" wait_entries 15 kucove 1,2,4,5,6,7,8,9,10
"$bin/cpsync-node" downlink --data "$nodes/kucove" --format json > "$work/kucove.json"
check "... in order: the revision, the two directives, the announcement" python3 -c '
import json, sys
kinds = [e ["kind"] for e in json.load (open (sys.argv [1])) ["entries"]] [-4:]
sys.exit (0 if kinds == ["catalogue", "directive", "directive", "keys"] else 1)' "$work/kucove.json"
check "kucove is at catalogue 2" [ "$(field kucove catalogue)" = 2 ]
deadline=$(( SECONDS + 10 ))
until [ "$(field kucove central_data_key)" = "$new_data" ] || [ $SECONDS -ge $deadline ]; do
    sleep 0.2
done
check "kucove seals to the new data key $new_data" \
    [ "$(field kucove central_data_key)" = "$new_data" ]
finish
