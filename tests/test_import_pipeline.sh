#!/usr/bin/env bash
# The import pipeline over several chunks (node_import: the parser actor
# reads and parses the next chunk of 65,536 lines while the caller writes
# the one before): 140,000 generated events (three chunks) with a bad line
# before every 4,999th, so chunks hold rejects too.  Every good line must be imported
# once, every bad one rejected with its line number, the node's head must
# be the number imported, and a second import must find every good line a
# duplicate and change nothing.  scripts/tsan.sh runs it under
# ThreadSanitizer, where a race between the two threads fails it.
#
#   test_import_pipeline.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" import-pipeline "$@"
events=140000
"$bin/gen_events" --seed 29 --events "$events" --from 2019-01-01 --to 2024-12-31 --prefix ip- \
    | awk 'NR % 4999 == 0 { print "{\"id\": \"bad-" NR "\", \"type\": \"nonsense\"}" } { print }' \
    > "$work/events.jsonl"
bad=$(grep -c '"nonsense"' "$work/events.jsonl")
step "cpsync-node init" "$bin/cpsync-node" init --data "$work/node" --municipality tirane

#  summary FILE: "imported duplicate rejected" from an import's summary line.
summary () { sed -n 's/.*: \([0-9]*\) imported, \([0-9]*\) duplicate, \([0-9]*\) rejected .*/\1 \2 \3/p' "$1"; }
head_of () {
    "$bin/cpsync-node" status --data "$work/node" --format json \
        | sed -n 's/.*"head": \([0-9]*\).*/\1/p'
}

"$bin/cpsync-node" import --data "$work/node" "$work/events.jsonl" > "$work/first.out" 2> "$work/first.err"
check "the import exits 1 (it had rejects)" [ $? = 1 ]
read -r imported duplicate rejected <<< "$(summary "$work/first.out")"
check "$events imported, 0 duplicate, $bad rejected (got ${imported:-?} ${duplicate:-?} ${rejected:-?})" \
    [ "${imported:-}" = "$events" -a "${duplicate:-}" = 0 -a "${rejected:-}" = "$bad" ]
#  Each bad line is named by its own number in the file.
expected=$(grep -n '"nonsense"' "$work/events.jsonl" | cut -d: -f1 | tr '\n' ' ')
named=$(grep -o 'events.jsonl:[0-9]*' "$work/first.err" | cut -d: -f2 | tr '\n' ' ')
check "each reject names its line ($bad of them)" [ "$named" = "$expected" ]
check "the node's head is $events ($(head_of))" [ "$(head_of)" = "$events" ]

"$bin/cpsync-node" import --data "$work/node" "$work/events.jsonl" > "$work/again.out" 2> /dev/null
read -r imported duplicate rejected <<< "$(summary "$work/again.out")"
check "again: 0 imported, $events duplicate (got ${imported:-?} ${duplicate:-?})" \
    [ "${imported:-}" = 0 -a "${duplicate:-}" = "$events" ]
check "again: the head is still $events" [ "$(head_of)" = "$events" ]
finish
