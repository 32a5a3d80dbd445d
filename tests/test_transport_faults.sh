#!/usr/bin/env bash
# The central survives network faults (issue 12, point 6), with real
# processes on loopback: four nodes ship through tests/test_transport_relay.py,
# which injects $cycles faults (resets, held traffic let through in a burst
# and reset behind it, partitions, flipped bytes, garbage and failed CURVE
# handshakes of its own), while every node imports a backlog again and
# again, so that windows of batches are in flight when the faults come.
# The central must not exit (libzmq 4.3.4 asserted !_io_error in
# stream_engine_base.cpp:331 under this before the transport hardening);
# once the faults stop every node must be acknowledged, and the figures
# (each node's own view, the national view against tests/oracle.py) exact.
# Beside the relay, an enrolled peer that says PING once and then nothing
# (a node that vanished without a word) must be cut after a minute
# (CP_EIDLE): there is no ZMTP heartbeat to end it any more.
#
#   test_transport_faults.sh BIN_DIR SOURCE_DIR WORK_DIR [CYCLES [SEED]]
set -u
source "$(dirname "$0")/harness.sh" transport-faults "$@"
#  Under the sanitizers everything is several times slower: fewer cycles.
cycles=${4:-$([ -n "${CPSYNC_TEST_SANITIZED:-}" ] && echo 50 || echo 150)} seed=${5:-$RANDOM}
. "$source/tests/test_transport_lib.sh"
echo "    $cycles fault cycles, seed $seed (test_transport_faults.sh ... $cycles $seed repeats them)"

codes=(tirane durres shkoder vlore)
init_central
for code in "${codes[@]}" berat; do enrol "$code"; done
start_central
python3 "$source/tests/test_transport_relay.py" "$work/relay.port" "$port" "$cycles" "$seed" \
    2> "$work/relay.log" &
relay=$!; pids+=("$relay")
for wait in $(seq 50); do [ -e "$work/relay.port" ] && break; sleep 0.1; done
relayed=tcp://127.0.0.1:$(cat "$work/relay.port")
for code in "${codes[@]}"; do start_node "$code" "$relayed"; done
"$bin/test_transport_client" idle "$nodes/berat" "$endpoint" 100 > "$work/idle.out" 2>&1 &
idle=$!; pids+=("$idle")

#  Backlogs while the faults come: each round, one node gets 5,000 events
#  (five batches; with what a hold keeps back, windows of them in flight).
round=0
while [ ! -e "$work/relay.port.done" ] && kill -0 "$relay" 2>/dev/null && alive > /dev/null; do
    round=$((round + 1))
    feed "${codes[round % 4]}" 5000
    sleep 0.3
done
echo "    faults injected: $(cat "$work/relay.port.done" 2>/dev/null); $fed imports"
if alive; then ok "the central survived the faults"; else fail "the central survived the faults"; finish; fi
check "every node is acknowledged once the faults stop" wait_acked 90 "${codes[@]}"
check "the central is still running" alive
wait "$idle"
#  cut_idle: the silent peer was cut a minute after it last spoke (the
#  guard measures every 20 ms).
cut_idle () {
    local took; took=$(awk '/^cut after/ { print $3 }' "$work/idle.out")
    echo "    the silent peer: $(cat "$work/idle.out")"
    [ -n "$took" ] && [ "$took" -ge 59000 ] && [ "$took" -le 66000 ]
}
check "the silent peer is cut after a minute" cut_idle
kill "${node_pid[@]}" "$relay" 2>/dev/null
kill "$central_pid"; wait "$central_pid"
idled=$(refusals -30830)
echo "    handshakes failed (CP_EHANDSHAKE): $(refusals -30817); connections cut: CP_EFLOOD $(refusals -30831), CP_EIDLE $idled"
check "the central counts the silent peer's cut (CP_EIDLE $idled)" [ "$idled" -ge 1 ]
check "figures: the central's equal the nodes' own and the oracle's" figures 2022 "${codes[@]}"
finish
