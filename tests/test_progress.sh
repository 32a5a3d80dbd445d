#!/usr/bin/env bash
# run's progress line on a terminal (issue "Operators", point 7): while the
# central is behind, `cpsync-node run` keeps "catch-up: A of H events
# acknowledged" on stderr when stderr is a terminal, and clears it once the
# central holds everything; with stderr a file (a service), no such line.
#
# The terminal is a pseudo-terminal made by script(1).  The node starts
# while the central is down, so the line must show what the
# central had acknowledged before, of the node's head;
# then the central starts and the node catches up.
#
#   test_progress.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" progress "$@"
central=$work/data/central
nodes=$work/data/nodes
mkdir -p "$work/events" "$work/more"

if ! command -v script > /dev/null; then
    fail "script(1) is not installed (Debian package bsdutils)"
    finish
fi
"$bin/gen_events" --seed 7 --events 300 --from 2022-01-01 --to 2022-12-31 \
    --prefix berat- > "$work/events/berat.jsonl"
"$bin/gen_events" --seed 8 --events 20000 --from 2022-01-01 --to 2022-12-31 \
    --prefix berat-more- > "$work/more/berat.jsonl"
step "the fleet ships a municipality's events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300
step "20,000 more events are imported while the central is down" \
    "$bin/cpsync-node" import --data "$nodes/berat" "$work/more/berat.jsonl"
head=$(field berat head) acked=$(field berat acked)

script -qfec "'$bin/cpsync-node' run --data '$nodes/berat' --central '$endpoint' 2>&1" \
    "$work/run.tty" > /dev/null < /dev/null &
pids+=($!)

#  tty_has TEXT SECONDS: the terminal's output holds TEXT within SECONDS.
tty_has () {
    local deadline=$(( SECONDS + $2 ))
    while [ $SECONDS -lt $deadline ]; do
        grep -qF -- "$1" "$work/run.tty" 2> /dev/null && return 0
        sleep 0.2
    done
    grep -qF -- "$1" "$work/run.tty" 2> /dev/null
}
check "with the central down, the line shows $acked of the node's head ($head)" \
    tty_has "catch-up: $acked of $head events acknowledged (1%)" 20

start_central
check "the node catches up once the central is back" wait_acked 60 berat
sleep 1
#  The line is cleared (\r, then erase to the end of the line) after the
#  last catch-up figure it showed.
check "the line is cleared once the central holds everything" /usr/bin/python3 - "$work/run.tty" <<'PY'
import sys
out = open (sys.argv [1], "rb").read ()
last = out.rfind (b"catch-up: ")
sys.exit (0 if last >= 0 and b"\r\x1b[K" in out [last:] else 1)
PY
pkill -TERM -f -- "run --data $nodes/berat --central" 2> /dev/null
sleep 0.5

#  The same again as a service runs it, stderr a file: no line.
stop_central
"$bin/gen_events" --seed 9 --events 5000 --from 2022-01-01 --to 2022-12-31 \
    --prefix berat-last- > "$work/more/last.jsonl"
step "5,000 more events are imported" \
    "$bin/cpsync-node" import --data "$nodes/berat" "$work/more/last.jsonl"
start_node berat "$endpoint"
sleep 1
start_central
check "the node catches up again" wait_acked 60 berat
stop_node berat
check "with stderr a file, no progress line" bash -c "! grep -q 'catch-up:' '$nodes/berat/node.log'"

#  A node that cannot start (its bundle readable by others) exits 1 on a
#  terminal too, and at once: the end of its uplink is not waited for twice.
chmod 0644 "$nodes/berat/keys/node.bundle"
timeout 10 script -qfec "'$bin/cpsync-node' run --data '$nodes/berat' --central '$endpoint'" \
    "$work/refused.tty" > /dev/null < /dev/null
rc=$?
chmod 0600 "$nodes/berat/keys/node.bundle"
check "a node that cannot start exits 1 on a terminal (exit $rc; 124: still running after 10 s)" \
    [ $rc = 1 ]
finish
