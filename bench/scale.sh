#!/usr/bin/env bash
# The stores' cost must not grow with their size (docs/design.md, "Scale"):
#
#   bash bench/scale.sh [FILES] [BIG]     (default 5 and 10000000; 0 skips (a) or (b);
#                                         BIN, default build/bin, the build to measure)
#
#   (a) FILES files of 1,000,000 events each imported one after the other
#       into one node (durable commits), with this build and with the build
#       before (BASELINE, default 48ec2df: the last commit before ids and
#       cases were keyed stem first), file by file alternately: each file's
#       rate, the last file's rate over the first's (target >= 0.70), and
#       the store's size per million events.
#   (b) one node's catch-up of BIG events (imported in one file, then
#       shipped to a central), with each build: the central's rate over the
#       first million and over the last (target: the last >= 0.70 of the
#       first), every million's and the central's CPU seconds per million,
#       the fourth million's rate over the first and the last's over the
#       fourth (a node's history and the store's size apart: docs/design.md,
#       section 17), the node's open cases at each million (what the rate
#       follows), and the node's import of the whole file.
#   (c) with this build, a second node's million shipped into the central
#       that holds (b)'s BIG events, and into an empty central: the
#       central's cost per event against the size of its store, apart
#       from what one node's own history does to it (docs/design.md,
#       "Scale", says why (b) mixes the two).
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-5}
big=${2:-10000000}
baseline=${BASELINE:-48ec2df}
bin=$(realpath "${BIN:-build/bin}")     # a Release build (scripts/setup.sh makes one)
work=$(mktemp -d /tmp/cpsync-scale.XXXXXX)
export CPSYNC_MAPSIZE=$(( 64 << 30 ))
source bench/fleet_lib.sh
trap 'remove_baseline; rm -rf "$work"' EXIT
build_baseline "$baseline"

#   import_rate BIN NODE FILE: imports FILE into NODE; prints events/s and
#   the MB the import wrote.  The bytes are read from a subshell's
#   /proc/PID/io, which holds its reaped child's: they do not move with the
#   machine's load as seconds do.  wchar, the bytes passed to write calls,
#   not write_bytes, the block layer's count: on the development machine
#   that grew 2.8 times from a first million to a fifth, while the bytes
#   LMDB handed to pwrite and writev (counted with strace) for a million
#   into a store of 7 million were 1.1 times those into a store of 1.
import_rate () {
    local start end written
    start=$(date +%s.%N)
    written=$("$1/cpsync-node" import --data "$2" "$3" > /dev/null 2>&1
              awk '/^wchar/ { print $2 }' "/proc/$BASHPID/io")
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v w="$written" \
        'BEGIN { printf "%d %d", 1000000 / (e - s), w / 1e6 }'
}

[ "$files" -gt 0 ] && echo "(a) $files files of 1,000,000 events into one node, one after the other"
for build in old new; do
    [ $build = old ] && b=$old_bin || b=$bin
    "$b/cpsync-node" init --data "$work/node-$build" --municipality tirane > /dev/null
done
old_rates=() new_rates=() old_mb=() new_mb=()
for file in $(seq "$files"); do
    "$bin/gen_events" --seed "$file" --events 1000000 --from 2019-01-01 --to 2024-12-31 \
        --prefix "f$file-" > "$work/events.jsonl"
    read -r rate mb <<< "$(import_rate "$old_bin" "$work/node-old" "$work/events.jsonl")"
    old_rates+=("$rate") old_mb+=("$mb")
    read -r rate mb <<< "$(import_rate "$bin" "$work/node-new" "$work/events.jsonl")"
    new_rates+=("$rate") new_mb+=("$mb")
    echo "    file $file: before ${old_rates[-1]} events/s, ${old_mb[-1]} MB written;" \
         "now ${new_rates[-1]} events/s, ${new_mb[-1]} MB written" \
         "(ratio of the rates $(ratio "${new_rates[-1]}" "${old_rates[-1]}"))"
done
for build in old new; do
    [ "$files" -gt 0 ] || break
    if [ $build = old ]; then rates=("${old_rates[@]}") mb=("${old_mb[@]}") name=before
    else rates=("${new_rates[@]}") mb=("${new_mb[@]}") name="now   "; fi
    bytes=$(stat -c %s "$work/node-$build/store/data.mdb")
    echo "    $name: the last file at $(ratio "${rates[-1]}" "${rates[0]}") of the first's rate" \
         "(target >= 0.70), writing $(ratio "${mb[-1]}" "${mb[0]}") times its bytes;" \
         "the store $(awk -v b="$bytes" -v n="$files" 'BEGIN { printf "%.0f", b / 1e6 / n }')" \
         "MB per million events"
done
rm -rf "$work/node-old" "$work/node-new" "$work/events.jsonl"

[ "$big" -gt 0 ] || exit 0
gen_one_node "$big"
read -r old_first old_last old_import <<< "$(catch_up "$old_bin")"
read -r new_first new_last new_import <<< "$(catch_up "$bin")"
echo "(b) one node's catch-up of $big events, first million / last million at the central:"
echo "    before: $old_first / $old_last events/s ($(ratio "$old_last" "$old_first") of the first);" \
     "the node's import ${old_import} s"
echo "    now:    $new_first / $new_last events/s ($(ratio "$new_last" "$new_first") of the first," \
     "target >= 0.70); the node's import ${new_import} s"
echo "    now, every million: $(cat "$work/millions")"
echo "    now, the central's CPU seconds per million: $(cat "$work/millions_cpu")"
if [ "$big" -ge 5000000 ]; then
    #  A node's first years ask less of the central than its later ones
    #  (docs/design.md, section 17): the fourth million apart from both ends.
    read -r -a rates <<< "$(cat "$work/millions")"
    [ "${#rates[@]}" -ge 4 ] &&
        echo "    now, the fourth million over the first $(ratio "${rates[3]}" "${rates[0]}")," \
             "the last over the fourth $(ratio "${rates[-1]}" "${rates[3]}")"
    #  What the rate follows: the node's open cases (opened, not yet
    #  closed) at the end of each million, counted from its event file.
    echo "    the node's open cases at each million:" \
         "$(awk '/"type":"case_opened"/ { open++ } /"type":"case_closed"/ { open-- }
                 NR % 1000000 == 0 { printf "%d ", open }' "$work/one/tirane.jsonl")"
fi

#   second_node DATA: durres's million (events in $work/two) shipped into
#   the deployment at DATA with this build, beside what DATA holds (a
#   fleet run again over its data ships only what is new); prints durres's
#   rate at the central, from its cursor read every quarter second.
second_node () {
    local port=$(( 20000 + RANDOM % 12000 ))
    : > "$work/second.log"
    "$bin/cpsync-fleet" --events "$work/two" --data "$1" --port "$port" --timeout 3600 \
        2>/dev/null | while IFS= read -r line; do
            echo "$(date +%s.%N) $line"; done > "$work/second.out" &
    local fleet=$!
    while kill -0 "$fleet" 2>/dev/null; do
        echo "$(date +%s.%N) $("$bin/cpsync-central" nodes --data "$1/central" --format json \
              2>/dev/null | jq '[.[] | select(.code == "durres") | .acked, 0] | max' \
              2>/dev/null || echo 0)" >> "$work/second.log"
        sleep 0.25
    done
    wait "$fleet" || true
    #  The last poll may come before the end: a million takes seconds now.
    #  The fleet's "acknowledged" line is the moment the last event was in.
    awk '/ events of .* acknowledged in / { print $1, 1000000 }' "$work/second.out" \
        >> "$work/second.log"
    awk '{ if (!s && $2 > 0) { s = $1; from = $2 }
           if (!e && $2 >= 1000000) { e = $1; to = $2 } }
         END { printf "%d", (e > s? (to - from) / (e - s): 0) }' "$work/second.log"
}
mkdir -p "$work/two"
"$bin/gen_events" --seed 5 --events 1000000 --from 2015-01-01 --to 2024-12-31 --prefix d- \
    > "$work/two/durres.jsonl"
empty=$(second_node "$work/empty")
ln "$work/one/tirane.jsonl" "$work/two/tirane.jsonl"
full=$(second_node "$work/big")
echo "(c) a second node's million at the central: into an empty central $empty events/s," \
     "into one holding $big events $full ($(ratio "$full" "$empty") of the first)"
