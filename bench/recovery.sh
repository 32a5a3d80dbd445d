#!/usr/bin/env bash
# The price of counting each event once by its id (the central's identity
# index, log identities and chains), against the build before it:
#
#   bash bench/recovery.sh [EVENTS] [ROUNDS] [BIG]
#         (default 1000000, 3, 10000000; BIG=0 skips the catch-up)
#
#   (a) benchmark (a) of bench/sync.sh: 61 nodes with a backlog of EVENTS in
#       all, shipped until every event is acknowledged, both builds over the
#       same files, alternately, ROUNDS times each: the ratio of the medians
#       and the median of the rounds' ratios (target >= 0.85), and the
#       central's store (data.mdb) per million events with each build.
#   (c) one node's catch-up of BIG events with each build, its rate over the
#       first million and over the last million (from the central's cursor,
#       read every half second): the index must not make the central slower
#       as it fills.
#
# The baseline is built from git (BASELINE, default the last commit before
# the identity index) in a scratch worktree.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
rounds=${2:-3}
big=${3:-10000000}
baseline=${BASELINE:-ff38ba0}
bin=$PWD/build/bin
work=$(mktemp -d /tmp/cpsync-recovery.XXXXXX)
export CPSYNC_MAPSIZE=$(( 1 << 30 ))
source bench/fleet_lib.sh
trap 'remove_baseline; rm -rf "$work"' EXIT
build_baseline "$baseline"
gen_country "$events" "$work/country"

#   store_mb DATA: the central's data file, in MB per million events.
store_mb () {
    local bytes
    bytes=$(stat -c %s "$1/central/store/data.mdb")
    awk -v b="$bytes" -v n="$events" 'BEGIN { printf "%.1f", b / 1e6 / (n / 1e6) }'
}

indexed=() plain=() ratios=()
for round in $(seq "$rounds"); do
    plain+=("$(fleet_rate "$old_bin" "$work/country" "$work/data")")
    plain_mb=$(store_mb "$work/data")
    indexed+=("$(fleet_rate "$bin" "$work/country" "$work/data")")
    indexed_mb=$(store_mb "$work/data")
    ratios+=("$(awk -v s="${indexed[-1]}" -v p="${plain[-1]}" 'BEGIN { printf "%.3f", s / p }')")
    echo "round $round: before ${plain[-1]} events/s, with the index ${indexed[-1]} events/s" \
         "(ratio ${ratios[-1]})"
done
p=$(median "${plain[@]}") s=$(median "${indexed[@]}")
echo "(a) end-to-end, 61 nodes, $events events: before $p events/s, with the index $s events/s;" \
     "ratio $(awk -v s="$s" -v p="$p" 'BEGIN { printf "%.2f", s / p }')," \
     "median of the rounds' ratios $(median "${ratios[@]}") (target >= 0.85)"
echo "    the central's store: before $plain_mb MB, with the index $indexed_mb MB per million events"

[ "$big" -gt 0 ] || exit 0

gen_one_node "$big"
read -r plain_first plain_last _ <<< "$(catch_up "$old_bin")"
read -r indexed_first indexed_last _ <<< "$(catch_up "$bin")"
echo "(c) one node's catch-up of $big events, first million / last million:"
echo "    before:         $plain_first / $plain_last events/s ($(ratio "$plain_last" "$plain_first") of the first)"
echo "    with the index: $indexed_first / $indexed_last events/s ($(ratio "$indexed_last" "$indexed_first") of the first)"
