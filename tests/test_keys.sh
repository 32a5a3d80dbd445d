#!/usr/bin/env bash
# Keys, end to end, with real processes on loopback (issue 12, "Hardening").
#
#   1. Revocation is complete: a municipality rotated 100 times with
#      cpsync-admin rotate-node and then revoked has every one of its 202
#      keys revoked in `cpsync-admin keys --format json`, and its node,
#      holding the last bundle, is refused by a running central (no
#      WELCOME, nothing acknowledged, refusals counted) while another node
#      syncs through the same central.
#   2. Secrets outlive nothing: the memory of the running node and central
#      holds no secret key as text (hex as in a bundle, Z85, base64), the
#      raw signing and key-exchange secrets only in libsodium's guarded
#      pages (tests/memory_secrets.py says why and how); neither daemon can
#      dump core.
#   3. The central's only transport key and only data key are not revoked:
#      cpsync-admin says to rotate first, and the key table stays as it was.
#   4. Old keys stay old: secret files of the central's keys that expired
#      are removed by the commands that change keys and by `cpsync-admin
#      prune`, and only those.
#
#   test_keys.sh BIN_DIR SOURCE_DIR WORK_DIR
#
#   CPSYNC_TEST_KEEP=1 keeps the work directory (stores, logs, bundles).
set -u
source "$(dirname "$0")/harness.sh" keys "$@"
central=$work/central
nodes=$work/nodes

#  synced SECONDS CODE: the node acknowledged its head (200 events) within
#  SECONDS.
synced () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do
        #  200 and, once the central's figures are checked, its verdict
        [ "$(field "$2" acked)" -ge 200 ] && return 0; sleep 0.25
    done
    return 1
}

#  refusals CODE: the central's count of refusals with that cp_error_t code.
refusals () {
    "$bin/cpsync-central" stats --data "$central" --format json 2>/dev/null | python3 -c '
import json, sys
stats = json.load (sys.stdin)
print (sum (entry ["count"] for entry in stats ["refused"] if entry ["code"] == int (sys.argv [1])))' "$1"
}

#  keys_json: the key table as cpsync-admin shows it, into $work/keys.json.
keys_json () {
    "$bin/cpsync-admin" keys --central "$central" --format json > "$work/keys.json" 2> "$work/admin.err"
}

#  keys_of OWNER [KIND]: "id state" of each of OWNER's keys (of KIND).
keys_of () {
    keys_json && python3 - "$work/keys.json" "$@" <<'PY'
import json, sys
for key in json.load (open (sys.argv [1])) ["keys"]:
    if key ["owner"] == sys.argv [2] and (len (sys.argv) < 4 or key ["kind"] == sys.argv [3]):
        print (key ["id"], key ["state"])
PY
}

#  current KIND: the id of the central's current key of KIND.
current () { keys_of central "$1" | awk '$2 == "current" { print $1 }'; }

#  serial: the key table's serial.
serial () {
    keys_json && python3 -c 'import json, sys; print (json.load (open (sys.argv [1])) ["serial"])' \
        "$work/keys.json"
}

#  no_core PID: the process may not dump core (its limit is 0).
no_core () { grep -q '^Max core file size *0 *0 ' "/proc/$1/limits"; }

start_central () {
    "$bin/cpsync-central" run --data "$central" --listen "$endpoint" 2>> "$central.log" &
    central_pid=$!; pids+=("$central_pid")
}

declare -A node_pid
start_node () {
    "$bin/cpsync-node" run --data "$nodes/$1" --central "$endpoint" 2>> "$nodes/$1.log" &
    node_pid[$1]=$!; pids+=("${node_pid[$1]}")
}

# ---------------------------------------------------------------------------
#  Set-up: a central, two nodes enrolled, with events to ship
step "cpsync-admin init-central" \
    "$bin/cpsync-admin" init-central --central "$central" --listen "$endpoint"
for code in tirane durres; do
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle"
    step "cpsync-node enrol $code" \
        "$bin/cpsync-node" enrol --data "$nodes/$code" --bundle "$work/$code.bundle"
    "$bin/gen_events" --seed 7 --events 200 --from 2022-01-01 --to 2022-12-31 \
        --prefix "$code" > "$work/$code.jsonl" || { fail "gen_events $code"; finish; }
    step "cpsync-node import $code" "$bin/cpsync-node" import --data "$nodes/$code" "$work/$code.jsonl"
done

# ---------------------------------------------------------------------------
#  1. A hundred rotations, then a revocation
rotations_failed=0
for rotation in $(seq 100); do
    "$bin/cpsync-admin" rotate-node --central "$central" tirane --out "$work/tirane.bundle" \
        > /dev/null 2> "$work/admin.err" || rotations_failed=$((rotations_failed + 1))
done
check "100 rotations of tirane's keys (failed: $rotations_failed)" [ $rotations_failed = 0 ]
step "cpsync-node enrol tirane (the last bundle)" \
    "$bin/cpsync-node" enrol --data "$nodes/tirane" --bundle "$work/tirane.bundle"
check "tirane has 202 keys, none revoked" \
    [ "$(keys_of tirane | grep -c -v revoked)" = 202 ]
step "cpsync-admin revoke tirane" "$bin/cpsync-admin" revoke --central "$central" tirane
check "revoke says it revoked all 202 ($(cat "$work/step.out"))" grep -q "202 key(s) revoked" "$work/step.out"
keys_of tirane > "$work/tirane.keys"
check "every one of tirane's $(wc -l < "$work/tirane.keys") keys is revoked in cpsync-admin keys" \
    [ "$(wc -l < "$work/tirane.keys")" = 202 -a "$(grep -c ' revoked$' "$work/tirane.keys")" = 202 ]

start_central
start_node durres
start_node tirane
check "another node syncs through the same central (durres acked its head)" synced 20 durres
sleep 3                         #  tirane has tried for as long as durres took, and 3 s more
check "the revoked node got nothing acknowledged (acked $(field tirane acked) of $(field tirane head))" \
    [ "$(field tirane acked)" = 0 -a "$(field tirane head)" = 200 ]
check "the revoked node was never welcomed" bash -c "! grep -q 'connected; central expects' '$nodes/tirane.log'"
check "the central counted refusals of a revoked key ($(refusals -30837))" \
    [ "$(refusals -30837)" -gt 0 ]
check "the central is still running" kill -0 "$central_pid"

# ---------------------------------------------------------------------------
#  2. Secrets in memory, core dumps
#  A sanitizer's shadow memory is terabytes of address space, and its
#  allocator keeps freed blocks aside: the search is for the real build.
if ldd "$bin/cpsync-node" 2>/dev/null | grep -q 'libasan'; then
    echo "skip the daemons' memory (an AddressSanitizer build)"
else
    check "the node's memory holds no secret as text, the raw ones only in guarded pages" \
        python3 "$source/tests/memory_secrets.py" "${node_pid[durres]}" bundle \
        "$nodes/durres/keys/node.bundle"
    check "the central's memory holds no secret as text, the raw ones only in guarded pages" \
        python3 "$source/tests/memory_secrets.py" "$central_pid" central "$central/keys"
fi
check "cpsync-node run cannot dump core" no_core "${node_pid[durres]}"
check "cpsync-central run cannot dump core" no_core "$central_pid"

# ---------------------------------------------------------------------------
#  3. The central's last transport and data keys
before=$(serial)
for kind in transport data; do
    id=$(current "$kind")
    "$bin/cpsync-admin" revoke --central "$central" "$id" > "$work/revoke.out" 2>&1
    rc=$?
    if [ $rc = 1 ] && grep -q "only valid $kind key" "$work/revoke.out" \
        && grep -q "rotate-central --$kind" "$work/revoke.out"; then
        ok "revoking the central's only $kind key is refused, saying to rotate first"
    else
        fail "cpsync-admin revoke $id (the only $kind key): exit $rc: $(head -c 300 "$work/revoke.out")"
    fi
done
check "the refusals changed nothing (serial $before, now $(serial))" [ "$(serial)" = "$before" ]
check "the central's keys are current still" [ "$(keys_of central | grep -c ' current$')" = 3 ]

# ---------------------------------------------------------------------------
#  4. Secret files of expired keys
secret () { echo "$central/keys/$1-$2.secret"; }
old_data=$(current data)
step "cpsync-admin rotate-central --data --grace 0" "$bin/cpsync-admin" rotate-central \
    --central "$central" --data --grace 0 --out "$work/data.ann"
check "rotate-central removed the secret of the data key it ended (it says: $(grep removed "$work/step.out"))" \
    [ ! -e "$(secret data "$old_data")" -a -e "$(secret data "$(current data)")" ]
old_transport=$(current transport)
step "cpsync-admin rotate-central --transport --grace 2s" "$bin/cpsync-admin" rotate-central \
    --central "$central" --transport --grace 2s --out "$work/transport.ann"
new_transport=$(keys_of central transport | awk '$2 == "next" { print $1 }')
check "a key still in service keeps its secret, and so does the one announced" \
    [ -e "$(secret transport "$old_transport")" -a -n "$new_transport" -a -e "$(secret transport "$new_transport")" ]
sleep 2.5                       #  the old transport key expires
step "cpsync-admin prune" "$bin/cpsync-admin" prune --central "$central"
check "prune removed the secret of the transport key that expired ($(cat "$work/step.out"))" \
    [ ! -e "$(secret transport "$old_transport")" -a -e "$(secret transport "$new_transport")" ]
check "the root secret stays" [ -e "$central/keys/root.secret" ]
step "cpsync-admin prune (again)" "$bin/cpsync-admin" prune --central "$central"
check "prune again finds nothing to remove" grep -q "no secret file" "$work/step.out"
check "the central is still running" kill -0 "$central_pid"

finish
