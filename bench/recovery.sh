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

#   catch_up BIN: one node with BIG events; prints the rates (events/s) of
#   the first and of the last million, from the central's cursor as read
#   every half second while the fleet runs.
catch_up () {
    local port=$(( 20000 + RANDOM % 12000 ))
    rm -rf "$work/big"
    : > "$work/cursor.log"
    stdbuf -oL "$1/cpsync-fleet" --events "$work/one" --data "$work/big" --port "$port" \
        --timeout 3600 2>/dev/null | while IFS= read -r line; do
            echo "$(date +%s.%N) $line"; done > "$work/big.out" &
    local fleet=$!
    while kill -0 "$fleet" 2>/dev/null; do
        if grep -q 'set up and imported' "$work/big.out" 2>/dev/null; then
            acked=$("$1/cpsync-central" nodes --data "$work/big/central" --format json 2>/dev/null \
                    | python3 -c 'import json, sys
print (max ([n ["acked"] for n in json.load (sys.stdin)] + [0]))' 2>/dev/null || echo 0)
            echo "$(date +%s.%N) $acked" >> "$work/cursor.log"
        fi
        sleep 0.5
    done
    wait "$fleet" || true
    #  The fleet's "acknowledged" line is the moment the last event was in.
    awk -v big="$big" '/ events of .* acknowledged in / { print $1, big }' "$work/big.out" \
        >> "$work/cursor.log"
    awk -v big="$big" '
        { t [NR] = $1; a [NR] = $2 }
        END {
            for (i = 1; i <= NR; i++) {
                if (!s0 && a [i] > 0) { s0 = t [i]; a0 = a [i] }
                if (!s1 && a [i] >= 1000000) { s1 = t [i]; a1 = a [i] }
                if (!s9 && a [i] >= big - 1000000) { s9 = t [i]; a9 = a [i] }
                if (a [i] >= big) { s10 = t [i]; a10 = a [i]; break }
            }
            if (s1 > s0 && s10 > s9)
                printf "%d %d\n", (a1 - a0) / (s1 - s0), (a10 - a9) / (s10 - s9)
            else
                print "0 0"
        }' "$work/cursor.log"
}

mkdir -p "$work/one"
"$bin/gen_events" --seed 3 --events "$big" --from 2015-01-01 --to 2024-12-31 --prefix c- \
    > "$work/one/tirane.jsonl"
read -r plain_first plain_last <<< "$(catch_up "$old_bin")"
read -r indexed_first indexed_last <<< "$(catch_up "$bin")"
echo "(c) one node's catch-up of $big events, first million / last million:"
echo "    before:         $plain_first / $plain_last events/s" \
     "($(awk -v f="$plain_first" -v l="$plain_last" 'BEGIN { printf "%.2f", l / f }') of the first)"
echo "    with the index: $indexed_first / $indexed_last events/s" \
     "($(awk -v f="$indexed_first" -v l="$indexed_last" 'BEGIN { printf "%.2f", l / f }') of the first)"
