#!/usr/bin/env bash
# The price of security: benchmark (a) of bench/sync.sh (61 nodes, a backlog
# of EVENTS in all, shipped until every event is acknowledged) with CURVE,
# sealed and signed batches, signed acknowledgements and sealed storage,
# against the same benchmark built from the last commit before any of it.
#
#   bash bench/security.sh [EVENTS] [ROUNDS]     (default 1000000, 3)
#
# The baseline is built from git (BASELINE, default the commit before the
# issue "Security") in a scratch worktree; the two builds run the same
# event files alternately, ROUNDS times each; the script prints the ratio
# of the medians and the median of each round's ratio.  Target: secured /
# baseline >= 0.8.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
rounds=${2:-3}
baseline=${BASELINE:-9031b2d}
bin=$PWD/build/bin
work=$(mktemp -d /tmp/cpsync-security.XXXXXX)
#  Both builds start their LMDB maps at 1 GiB: the baseline's 64 MiB map
#  would make its central redo a group when the map doubles, a cost of that
#  old default and not of encryption (this build starts at 1 GiB anyway).
export CPSYNC_MAPSIZE=$(( 1 << 30 ))
source bench/fleet_lib.sh
trap 'remove_baseline; rm -rf "$work"' EXIT
build_baseline "$baseline"
gen_country "$events" "$work/country"

secured=() plain=() ratios=()
for round in $(seq "$rounds"); do
    plain+=("$(fleet_rate "$old_bin" "$work/country" "$work/data")")
    secured+=("$(fleet_rate "$bin" "$work/country" "$work/data")")
    ratios+=("$(awk -v s="${secured[-1]}" -v p="${plain[-1]}" 'BEGIN { printf "%.3f", s / p }')")
    echo "round $round: baseline ${plain[-1]} events/s, secured ${secured[-1]} events/s" \
         "(ratio ${ratios[-1]})"
done
p=$(median "${plain[@]}") s=$(median "${secured[@]}")
#  Both the ratio of the medians and the median of each round's ratio: a
#  round's two runs are neighbours in time, so the second holds better when
#  the shared machine's speed drifts.
echo "(a) end-to-end, 61 nodes, $events events: baseline $p events/s, secured $s events/s;" \
     "ratio $(awk -v s="$s" -v p="$p" 'BEGIN { printf "%.2f", s / p }')," \
     "median of the rounds' ratios $(median "${ratios[@]}") (target >= 0.8)"
