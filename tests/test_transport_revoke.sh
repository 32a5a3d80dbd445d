#!/usr/bin/env bash
# A revoked peer is cut off, not just refused (issue 12, point 3), with real
# processes on loopback: three nodes ship; one node's keys are revoked with
# cpsync-admin while it is connected; its TCP connection (as `ss` sees it,
# on both ends) must be gone within 1.5 s (the central looks at its key
# table every 250 ms, tells the node why, and cuts it 200 ms later), it
# must not get a connection back nor a batch through, the central counts
# and logs the cut, and the two other nodes go on: their figures, and the
# national ones against tests/oracle.py, are exact at the end.
#
#   test_transport_revoke.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" transport-revoke "$@"
. "$source/tests/test_transport_lib.sh"

#  connection PID: the local address:port of PID's connection to the central.
connection () {
    ss -tnpH state established "( dport = :$port )" | grep "pid=$1," | awk '{ print $3 }' | head -1
}
#  established LOCAL_PORT: the connection from that port, at either end.
established () {
    local filter="( sport = :$1 and dport = :$port ) or ( sport = :$port and dport = :$1 )"
    [ -n "$(ss -tnH state established "$filter")" ]
}
milliseconds () { echo $(( $(date +%s%N) / 1000000 )); }

codes=(tirane durres shkoder)
init_central
for code in "${codes[@]}"; do enrol "$code"; feed "$code" 3000; done
start_central
for code in "${codes[@]}"; do start_node "$code"; done
check "three nodes ship their events" wait_acked 60 "${codes[@]}"

local_address=$(connection "${node_pid[shkoder]}")
check "shkoder is connected ($local_address)" [ -n "$local_address" ]
revoked_before=$(refusals -30837)
revoked_at=$(milliseconds)
must "cpsync-admin revoke shkoder" "$bin/cpsync-admin" revoke --central "$central" shkoder
while established "${local_address##*:}" && [ $(( $(milliseconds) - revoked_at )) -lt 5000 ]; do
    sleep 0.02
done
took=$(( $(milliseconds) - revoked_at ))
check "shkoder's connection is gone at both ends ${took} ms after the revocation (at most 1500)" \
    [ "$took" -le 1500 ]

feed shkoder 500 unshipped
feed tirane 2000
feed durres 2000
check "the other nodes go on (tirane and durres acknowledged within 30 s)" \
    wait_acked 30 tirane durres
#  libzmq and the node try again; every new connection is refused at its handshake.
reconnected=0
for sample in $(seq 20); do
    [ -n "$(connection "${node_pid[shkoder]}")" ] && reconnected=$((reconnected + 1))
    sleep 0.1
done
check "shkoder holds no connection afterwards ($reconnected of 20 samples found one)" \
    [ "$reconnected" -le 2 ]
unacked () { ! acked "$@"; }
check "shkoder's new events are not acknowledged" unacked shkoder
check "the central is still running" alive
kill "${node_pid[@]}" 2>/dev/null
kill "$central_pid"; wait "$central_pid"
revoked=$(refusals -30837)
check "the central counts the cut and the refused handshakes (key revoked: $revoked_before -> $revoked)" \
    [ "$revoked" -ge $(( revoked_before + 2 )) ]
check "the central logs the cut" grep -q "cut a connection from 127.0.0.1 (key .*): key revoked" \
    "$work/central.log"
check "figures: the central's equal the nodes' own and the oracle's" figures 2022 tirane durres
finish
