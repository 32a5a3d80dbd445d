#!/usr/bin/env bash
# Sync end to end under valgrind's memcheck (issue 16, point 4): the
# central, two nodes and every import run under memcheck; the nodes ship
# what was imported before they started and what is imported while they
# run; the central's figures must equal the nodes' own and tests/oracle.py's;
# then every daemon is stopped with SIGTERM and must exit 0, which under
# memcheck means no invalid read or write, no use of an uninitialised
# value, no bad free and no definite leak (valgrind exits 99 on any), with
# tests/memcheck.supp for what third-party code does on purpose.
#
#   test_memcheck.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" memcheck "$@"
. "$source/tests/test_transport_lib.sh"

#  The daemons and imports run under memcheck through wrappers in
#  $work/wrapped, each report in $work/PROGRAM.<pid>.vg; the other
#  programs there are the build's own.
mkdir -p "$work/wrapped"
bin=$(cd "$bin" && pwd)
for program in "$bin"/*; do ln -s "$program" "$work/wrapped/"; done
for program in cpsync-node cpsync-central; do
    rm "$work/wrapped/$program"
    { echo '#!/bin/sh'
      echo "exec valgrind --tool=memcheck --error-exitcode=99 --errors-for-leak-kinds=definite" \
           "--leak-check=full --track-fds=no --num-callers=30" \
           "--suppressions='$source/tests/memcheck.supp' --log-file='$work/$program.%p.vg'" \
           "'$bin/$program' \"\$@\""
    } > "$work/wrapped/$program"
    chmod +x "$work/wrapped/$program"
done
real_bin=$bin
codes=(tirane durres)
init_central
for code in "${codes[@]}"; do enrol "$code"; done

#  From here on, the daemons and imports are memchecked; setup and the
#  status and query commands that check the results stay native (fast).
under () { bin=$work/wrapped; "$@"; bin=$real_bin; }
for code in "${codes[@]}"; do under feed "$code" 1500; done
under start_central
for code in "${codes[@]}"; do under start_node "$code"; done
check "two nodes under memcheck are acknowledged" wait_acked 90 "${codes[@]}"
for code in "${codes[@]}"; do under feed "$code" 500; done
check "events imported while they run are acknowledged" wait_acked 60 "${codes[@]}"

#  stopped NAME PID: SIGTERM, and the process exits 0 within 60 s
#  (memcheck's leak check at exit included).
stopped () {
    kill -TERM "$2" 2>/dev/null
    local waited=0
    while kill -0 "$2" 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
    kill -0 "$2" 2>/dev/null && { echo "    $1 still runs 60 s after SIGTERM"; return 1; }
    wait "$2"; local rc=$?
    [ $rc = 0 ] || echo "    $1 exited $rc$([ $rc = 99 ] && echo ': memcheck errors')"
    return $rc
}
for code in "${codes[@]}"; do
    check "node $code exits 0 on SIGTERM, memcheck clean" stopped "node $code" "${node_pid[$code]}"
done
check "the central exits 0 on SIGTERM, memcheck clean" stopped central "$central_pid"
check "figures: the central's equal the nodes' own and the oracle's" figures 2022 "${codes[@]}"

#  Every memcheck report says 0 errors (imports included, whose exit
#  status the feed already required to be 0).
reports=0 dirty=0
for report in "$work"/*.vg; do
    reports=$((reports + 1))
    if ! grep -q "ERROR SUMMARY: 0 errors" "$report"; then
        dirty=$((dirty + 1))
        echo "    $(basename "$report"):"; grep -E "^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ bytes in .* definitely)|ERROR SUMMARY" "$report" | head -8 | sed 's/^/      /'
    fi
done
check "memcheck ran on the daemons and imports ($reports reports)" [ "$reports" -ge 7 ]
check "no memcheck report has an error ($dirty with)" [ "$dirty" = 0 ]
finish
