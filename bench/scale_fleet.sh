#!/usr/bin/env bash
# A thousand nodes and a hundred million events into one central (issue 16,
# point 6):
#
#   bash bench/scale_fleet.sh [NODES] [EVENTS] [PROCESSES]   (1000 100000000 4)
#
# Makes a list of NODES + 1 municipalities in 12 counties, builds a scale
# build embedding it (Release, in $SCALE_BUILD, default
# /tmp/cpsync-scale-build-NODES: kept, so a second run only relinks), sets
# up a central and enrols the NODES + 1 nodes with the real commands
# (cpsync-admin init-central and enrol, cpsync-node init and enrol), starts
# the central, and has PROCESSES load_gen processes (bench/load_gen.c) ship
# EVENTS / NODES events for each of NODES nodes.  It prints:
#
#   - the central's apply rate over each tenth of EVENTS, from its own
#     count of events applied (`cpsync-central stats`, read every second),
#     and the last tenth's over the first's (target >= 0.70);
#   - a year's national view and a county view at 1%, 10% and 100% of
#     EVENTS: `cpsync-central query` (whole process, best of three) and
#     the view alone (bench/bench_central_view, median of 20), the
#     year being the latest the events have reached (target at 100M: under
#     50 ms); the load generators are stopped (SIGSTOP) and the central
#     left to drain while they are timed, and that pause is not counted
#     in the rates;
#   - the central's anonymous memory (RssAnon: its heap, not LMDB's mapped
#     pages), its peak while the load ran and at the end;
#   - the store's size per million events (the file's blocks, not its map);
#   - one more node's catch-up: a fresh log of CATCHUP events (default
#     100000) shipped by the extra municipality once the central holds
#     everything, timed by its load_gen from connection to last ACK.
#
# At the end it checks the central's counts: events applied equal to what
# was sent, no batch or event taken twice, nothing quarantined or refused;
# exit 1 otherwise.  The data (under $SCALE_DATA, default a mktemp
# directory) is removed unless KEEP=1.  Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}
events=${2:-100000000}
procs=${3:-4}
catchup=${CATCHUP:-100000}
per=$(( events / nodes ))
if [ "$nodes" -lt 12 ] || [ "$procs" -lt 1 ] || [ "$per" -lt 1 ] || [ "$procs" -gt "$nodes" ]; then
    echo "usage: bash bench/scale_fleet.sh [NODES >= 12] [EVENTS >= NODES] [PROCESSES <= NODES]" >&2
    exit 2
fi
events=$(( per * nodes ))       # what is sent: a whole number per node
build=${SCALE_BUILD:-/tmp/cpsync-scale-build-$nodes}
data=${SCALE_DATA:-$(mktemp -d /tmp/cpsync-scale-fleet.XXXXXX)}
port=$(( 20000 + RANDOM % 12000 ))
endpoint=tcp://127.0.0.1:$port
began=$(date +%s)
central_pid=
load_pids=()
cleanup () {
    for pid in "${load_pids[@]}" $central_pid; do kill -CONT "$pid" 2>/dev/null || true; done
    for pid in "${load_pids[@]}" $central_pid; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "data kept in $data" || rm -rf "$data"
}
trap cleanup EXIT
now () { date +%s.%N; }
code_of () { printf 'm%04d' "$1"; }

# --- the list and the build ------------------------------------------------
# Municipality i belongs to county (i - 1) % 12 + 1, whose seat is the
# municipality of that number: m0001..m0012 are the seats.
mkdir -p "$build"
csv=$build/municipalities.csv
{
    echo "code,name,county"
    for i in $(seq $(( nodes + 1 ))); do
        echo "$(code_of "$i"),Municipality $i,$(code_of $(( (i - 1) % 12 + 1 )))"
    done
} > "$csv.new"
cmp -s "$csv.new" "$csv" 2>/dev/null && rm "$csv.new" || mv "$csv.new" "$csv"
echo "scale build of $(( nodes + 1 )) municipalities in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DCPSYNC_MUNICIPALITIES="$csv" > "$build/configure.log"
cmake --build "$build" -j2 --target cpsync-central cpsync-admin cpsync-node load_gen bench_central_view \
    > "$build/build.log"
bin=$build/bin

# --- set-up and enrolment --------------------------------------------------
t0=$(now)
central=$data/central
"$bin/cpsync-admin" init-central --central "$central" --listen "$endpoint" > /dev/null
mkdir -p "$data/nodes" "$data/bundles"
for i in $(seq $(( nodes + 1 ))); do
    code=$(code_of "$i")
    "$bin/cpsync-node" init --data "$data/nodes/$code" --municipality "$code" \
        --central "$endpoint" > /dev/null
    "$bin/cpsync-admin" enrol --central "$central" --municipality "$code" \
        --out "$data/bundles/$code.bundle" --endpoint "$endpoint" > /dev/null
    "$bin/cpsync-node" enrol --data "$data/nodes/$code" --bundle "$data/bundles/$code.bundle" \
        > /dev/null
    rm "$data/bundles/$code.bundle"
done
echo "central set up and $(( nodes + 1 )) nodes enrolled in $(awk -v a="$t0" -v b="$(now)" \
     'BEGIN { printf "%.0f", b - a }') s"

"$bin/cpsync-central" run --data "$central" > "$data/central.log" 2>&1 &
central_pid=$!
stats () { "$bin/cpsync-central" stats --data "$central" --format json; }
applied () { stats | jq .events; }
for _ in $(seq 100); do
    grep -q "listening\|bound\|serving" "$data/central.log" 2>/dev/null && break
    kill -0 "$central_pid" || { echo "the central did not start:" >&2; cat "$data/central.log" >&2; exit 1; }
    sleep 0.1
done
sleep 0.5

# --- views -------------------------------------------------------------
#   best_ms ARGS...: the fastest of three runs of `cpsync-central query ARGS`, in ms.
best_ms () {
    local best= start end ms
    for _ in 1 2 3; do
        start=$(date +%s%N)
        "$bin/cpsync-central" query --data "$central" "$@" > /dev/null
        end=$(date +%s%N)
        ms=$(( (end - start) / 1000000 ))
        { [ -z "$best" ] || [ "$ms" -lt "$best" ]; } && best=$ms
    done
    echo "$best"
}
#   views PERCENT: the year the events have reached by then, nationally and
#   for the county of m0001.
views () {
    local year=$(( 2015 + 10 * $1 / 100 - ($1 == 100 || $1 == 10 ? 1 : 0) ))
    [ "$year" -lt 2015 ] && year=2015
    echo "    at $1% ($(applied) events), the view of $year: national $(best_ms --period "$year") ms" \
         "(in the process $(inside "$year" national)), county:m0001" \
         "$(best_ms --period "$year" --scope county:m0001) ms (in the process" \
         "$(inside "$year" county:m0001))"
}
#   inside YEAR SCOPE: the median of bench_central_view, the view alone.
inside () {
    "$bin/bench_central_view" "$central" "$1" "$2" 20 | sed 's/.*median \([0-9.]*\) ms.*/\1 ms/'
}
#   wait_drained: until the central's count stops moving (it is written
#   once a second).
wait_drained () {
    local last=-1 count
    while :; do
        count=$(applied)
        [ "$count" = "$last" ] && break
        last=$count
        sleep 2.5
    done
}

# --- the load --------------------------------------------------------------
echo "$procs load_gen processes, $nodes nodes, $per events each ($events in all)"
dirs=()
for i in $(seq "$nodes"); do dirs+=("$data/nodes/$(code_of "$i")"); done
share=$(( (nodes + procs - 1) / procs ))
start=$(now)
for p in $(seq 0 $(( procs - 1 ))); do
    slice=("${dirs[@]:$(( p * share )):$share}")
    [ "${#slice[@]}" -gt 0 ] || continue
    "$bin/load_gen" --endpoint "$endpoint" --events "$per" --seed 7 "${slice[@]}" \
        > "$data/load-$p.out" 2> "$data/load-$p.err" &
    load_pids+=($!)
done
paused=0
: > "$data/samples"
marks=(1 10)
#   rss_anon: the central's anonymous memory now, kB (its heap, not LMDB's
#   mapped pages, which are page cache).
rss_anon () { awk '/^RssAnon:/ { print $2 }' "/proc/$central_pid/status" 2>/dev/null || echo 0; }
running () { for pid in "${load_pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
while running; do
    count=$(applied)
    t=$(awk -v a="$start" -v b="$(now)" -v p="$paused" 'BEGIN { printf "%.2f", b - a - p }')
    echo "$t $count $(rss_anon)" >> "$data/samples"
    if [ "${#marks[@]}" -gt 0 ] && [ "$count" -ge $(( events / 100 * marks[0] )) ]; then
        p0=$(now)
        kill -STOP "${load_pids[@]}" 2>/dev/null || true
        wait_drained
        views "${marks[0]}"
        kill -CONT "${load_pids[@]}" 2>/dev/null || true
        paused=$(awk -v p="$paused" -v a="$p0" -v b="$(now)" 'BEGIN { printf "%.2f", p + b - a }')
        marks=("${marks[@]:1}")
    fi
    sleep 1
done
failed=0
for p in "${!load_pids[@]}"; do
    wait "${load_pids[$p]}" || { failed=1; echo "load_gen $p failed:" >&2; tail -5 "$data/load-$p.err" >&2; }
done
load_pids=()
elapsed=$(awk -v a="$start" -v b="$(now)" -v p="$paused" 'BEGIN { printf "%.0f", b - a - p }')
wait_drained
t=$(awk -v a="$start" -v b="$(now)" -v p="$paused" 'BEGIN { printf "%.2f", b - a - p }')
echo "$t $(applied)" >> "$data/samples"
echo "    ${elapsed} s of load (pauses for the views left out); each load_gen:"
grep -h "events of .* acknowledged in" "$data"/load-*.out | sed 's/^/    /'
views 100

# --- apply rate per tenth --------------------------------------------------
echo "apply rate per tenth of $events events (events/s, from the central's count):"
awk -v total="$events" '
    { t [NR] = $1; a [NR] = $2 }
    END {
        tenth = total / 10; k = 1; t0 = -1
        for (i = 1; i <= NR; i++) {
            if (t0 < 0 && a [i] > 0) t0 = t [i - 1 > 0 ? i - 1 : 1]
            while (k <= 10 && a [i] >= k * tenth) { at [k] = t [i]; k++ }
        }
        prev = t0
        for (k = 1; k <= 10; k++) {
            if (!(k in at)) break
            rate [k] = at [k] > prev ? tenth / (at [k] - prev) : 0
            if (rate [k]) printf "    slice %2d: %8.0f\n", k, rate [k]
            else printf "    slice %2d: too short for a count read once a second\n", k
            prev = at [k]; last = k
        }
        if (last == 10 && rate [1] > 0)
            printf "    the last slice at %.2f of the first (target >= 0.70)\n", rate [10] / rate [1]
    }' "$data/samples"

awk 'NF == 3 { if ($3 > peak) peak = $3; last = $3 }
     END { printf "the central'"'"'s memory (RssAnon, read every second): peak %.0f MB, at the end %.0f MB\n",
                  peak / 1024, last / 1024 }' "$data/samples"

bytes=$(du -B1 "$central/store/data.mdb" | cut -f1)
echo "store: $(awk -v b="$bytes" -v e="$events" 'BEGIN { printf "%.0f MB per million events (%.1f GB in all)", b / e, b / 1e9 }')"

# --- one more node's catch-up ----------------------------------------------
extra=$data/nodes/$(code_of $(( nodes + 1 )))
"$bin/load_gen" --endpoint "$endpoint" --events "$catchup" --seed 11 --quiet "$extra" \
    > "$data/catchup.out" 2> "$data/catchup.err" || { failed=1; cat "$data/catchup.err" >&2; }
echo "catch-up of one more node, $catchup events into $events: $(sed 's/^load_gen: //' "$data/catchup.out")"

# --- the counts --------------------------------------------------------------
wait_drained
kill "$central_pid"; wait "$central_pid" || true; central_pid=
sent=$(( events + catchup ))
json=$(stats)
got=$(jq .events <<< "$json")
dup=$(jq .duplicates <<< "$json")
quarantined=$(jq .quarantined <<< "$json")
refused=$(jq '[.refused[].count] | add // 0' <<< "$json")
again=$("$bin/cpsync-central" nodes --data "$central" --format json \
        | jq '[.[] | .duplicate_events + .conflicts] | add')
echo "central: $got events applied of $sent sent; $dup batches and $again events again," \
     "$quarantined quarantined, $refused refused"
if [ "$got" != "$sent" ] || [ "$dup" != 0 ] || [ "$again" != 0 ] || [ "$quarantined" != 0 ] \
   || [ "$refused" != 0 ] \
   || [ "$failed" != 0 ]; then
    jq -c .refused <<< "$json" >&2
    echo "FAILED: the central's counts are not what was sent" >&2
    exit 1
fi
echo "done in $(( $(date +%s) - began )) s"
