#!/usr/bin/env bash
# ThreadSanitizer over the threaded parts (issue 16, point 4), in its own
# build directory (build-tsan, -DCPSYNC_TSAN=ON): only the tests whose code
# runs on more than one thread are built and run:
#
#   seal             cp_seal's batches on cp_parallel's helper actor
#   central_store    the store under the server's helper (cp_parallel)
#   central_wire     the central's server actor, its guard actor and its
#                    helper thread, against a raw DEALER
#   node_sync        the node's sync actor against a central's server actor
#   node_store, node_directives
#                    imports through node_import beside the store
#                    (test_admin's actors are node_sync's, covered above,
#                    and it outlasts its timeout under TSan)
#   backup_file      cp_backup's progress watcher thread beside LMDB's copy
#   import_pipeline  the import pipeline (node_import's parser actor beside
#                    the writer) over several chunks, through cpsync-node
#                    (the whole node_import test is too slow under TSan)
#
# Prints ctest's summary and exits 1 if ThreadSanitizer reported a race
# (TSAN_OPTIONS also makes the program exit 66, so its test fails), 2 if a
# test failed without one (some cases time what the daemons do, and TSan
# slows them 5-15 times: the failures are printed for a look), 0 if all
# passed.  ctest's whole output stays in BUILD_DIR/tsan.log.
# scripts/tsan.supp holds the suppressions, only for races inside
# uninstrumented third-party code.
#
#   bash scripts/tsan.sh        (BUILD_DIR=build-tsan by default)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build-tsan}
tests=(seal central_store central_wire node_sync node_store node_directives backup_file
       import_pipeline)
targets=(test_seal test_central_store test_central_wire test_node_sync test_node_store
         test_node_directives test_backup cpsync-node gen_events)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCPSYNC_TSAN=ON -DCPSYNC_WERROR=ON \
    >/dev/null
cmake --build "$dir" -j2 --target "${targets[@]}" >/dev/null
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp exitcode=66 halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
pattern="^($(IFS='|'; echo "${tests[*]}"))\$"
cd "$dir"
status=0
ctest -j2 -R "$pattern" --output-on-failure > tsan.log 2>&1 || status=$?
sed -n '/^[0-9]*% tests passed/,$p' tsan.log
races=$(grep -c '^WARNING: ThreadSanitizer' tsan.log || true)
if [ "$races" -gt 0 ]; then
    grep -A24 '^WARNING: ThreadSanitizer' tsan.log | head -100
    echo "tsan: $races race reports ($dir/tsan.log)"
    exit 1
fi
if [ "$status" != 0 ]; then
    grep -E '^(FAIL|  .*(CHECK|expected))' tsan.log || true
    echo "tsan: no race reported, but tests failed ($dir/tsan.log)"
    exit 2
fi
echo "tsan: no race reported"
