#!/usr/bin/env bash
# No peer can make the central hold unbounded memory (issue 12, point 4),
# with real processes on loopback.  Three nodes ship all along; meanwhile
#
#   1. an enrolled node's key says PING, then sends one message of 2,200
#      frames of 480 KiB (about 1 GiB; each frame under the frame limit);
#   2. the same, without the PING, from a key revoked while its connection
#      is open (having said nothing, it cannot be told from the others
#      before its flood);
#   3. 200 connections from 127.0.0.2 start a CURVE handshake and trickle a
#      handshake command that never ends: 100 announce 4 MiB (the old frame
#      limit), 100 announce 480 KiB; and 150 from 127.0.0.3 send a greeting
#      and a kilobyte and stall (over the 128 a source may have pending:
#      CP_ECROWDED; the others end at the 10 s handshake timeout).
#
# The central must cut every flood (counted as CP_EFLOOD / CP_ECROWDED), its
# peak RSS (VmHWM) must stay under 256 MB, the nodes must be acknowledged
# after each flood and their figures, and the national ones against
# tests/oracle.py, exact at the end.  On main (no guard, 4 MiB frames) the
# first flood alone takes the central past 1 GiB.
#
# Under the sanitizers (CPSYNC_TEST_SANITIZED=1) the central's shadow memory
# and quarantine grow its RSS whatever the peers do: the bound is then 768 MB.
#
#   test_transport_flood.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" transport-flood "$@"
. "$source/tests/test_transport_lib.sh"
limit=256
[ -n "${CPSYNC_TEST_SANITIZED:-}" ] && limit=768
frame=$((480 * 1024))

#  flood NAME CODE [revoke]: CODE's keys send the big message; with
#  "revoke", silently, the key revoked between the handshake and the flood.
flood () {
    local signals=$work/$1
    mkdir -p "$signals"
    "$bin/test_transport_client" flood "$nodes/$2" "$endpoint" 2200 $frame "$signals" \
        ${3:+silent} > "$signals/out" 2>&1 &
    local client=$!; pids+=("$client")
    local waited=0
    until [ -e "$signals/connected" ] || [ $waited -ge 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if [ "${3:-}" = revoke ]; then
        must "cpsync-admin revoke $2" "$bin/cpsync-admin" revoke --central "$central" "$2"
        sleep 1                 #  the central has seen the key table change
    fi
    touch "$signals/go"
    feed tirane 1500
    wait "$client"
    echo "    $1: $(tail -1 "$signals/out"); central VmRSS $(memory VmRSS) MiB, VmHWM $(memory VmHWM) MiB"
    grep -q "^cut after" "$signals/out"
}

codes=(tirane durres shkoder)
init_central
for code in "${codes[@]}"; do enrol "$code"; feed "$code" 3000; done
for code in vlore berat; do enrol "$code"; done
start_central
for code in "${codes[@]}"; do start_node "$code"; done
check "three nodes ship their events" wait_acked 60 "${codes[@]}"
echo "    before the floods: central VmRSS $(memory VmRSS) MiB, VmHWM $(memory VmHWM) MiB"

check "1. an enrolled key's 1 GiB message: its connection is cut" flood enrolled vlore
check "1. the nodes go on" wait_acked 30 "${codes[@]}"
check "2. a revoked key's 1 GiB message on its open connection: cut" flood revoked berat revoke
check "2. the nodes go on" wait_acked 30 "${codes[@]}"

"$bin/test_transport_client" handshakes "$endpoint" 100 $((4 * 1024 * 1024)) 20 127.0.0.2 \
    > "$work/big.out" 2>&1 &
big=$!; pids+=("$big")
"$bin/test_transport_client" handshakes "$endpoint" 100 $frame 20 127.0.0.2 \
    > "$work/small.out" 2>&1 &
small=$!; pids+=("$small")
"$bin/test_transport_client" handshakes "$endpoint" 150 1024 14 127.0.0.3 \
    > "$work/stalled.out" 2>&1 &
stalled=$!; pids+=("$stalled")
sleep 2
feed durres 1500
wait "$big" "$small" "$stalled"
echo "    3. 4 MiB: $(cat "$work/big.out")"
echo "       480 KiB: $(cat "$work/small.out")"
echo "       stalled: $(cat "$work/stalled.out")"
echo "       central VmRSS $(memory VmRSS) MiB, VmHWM $(memory VmHWM) MiB"
#  closed FILE COUNT: the client saw the central close all COUNT.
closed () { [ "$(awk '{ print $3 }' "$1")" = "$2" ]; }
check "3. the central closed the 200 trickling handshakes" closed "$work/big.out" 100
check "3. ... both sizes" closed "$work/small.out" 100
check "3. the central closed the 150 stalled handshakes within 14 s" closed "$work/stalled.out" 150
check "3. the nodes go on" wait_acked 30 "${codes[@]}"

hwm=$(memory VmHWM)
check "the central's peak RSS stays under $limit MB (VmHWM $hwm MiB)" [ $(( hwm * 1048576 )) -lt $(( limit * 1000000 )) ]
check "the central is still running" alive
kill "${node_pid[@]}" 2>/dev/null
kill "$central_pid"; wait "$central_pid"
flooded=$(refusals -30831) crowded=$(refusals -30829)
check "the central counts the floods (CP_EFLOOD $flooded, at least 2)" [ "$flooded" -ge 2 ]
check "the central counts a source's crowd (CP_ECROWDED $crowded, at least 22)" [ "$crowded" -ge 22 ]
check "figures: the central's equal the nodes' own and the oracle's" figures 2022 "${codes[@]}"
finish
