#!/usr/bin/env bash
# Bounded resources (issue 16, point 5): what the daemons hold in memory
# and burn in CPU, each figure beside its bound.
#
#   bash bench/resources.sh [--events N] [--per-node M] [--idle SECONDS]
#         (defaults 10000000, 100000, 60; needs a build: BIN, default build/bin)
#
#   (a) a node with the central unreachable for the whole run: its `run`
#       pointed at a port nobody listens on, while `import` stores N events
#       and 20 s after: peak VmHWM and RssAnon of each process (bound 32 MB).
#   (b) the central (`serve`, run by cpsync-fleet) while 61 nodes catch up
#       with M events each at full speed and unauthenticated connections
#       flood it all along (the handshakes of tests/test_transport_flood.sh,
#       round after round from three source addresses): its peak RssAnon
#       (bound 256 MB) and VmHWM (for reference: LMDB's mapped pages count
#       in RSS but are page cache, not the central's own memory).
#   (b2) the N events of (a) caught up into a fresh central by that one
#       node: the central's peak RssAnon against its VmHWM (same bound).
#   (c) that node idle, caught up, the central reachable: its CPU over
#       SECONDS, from utime + stime in /proc/PID/stat (bound 1% of a core).
#
# RssAnon is sampled from /proc/PID/status every 0.2 s (the kernel keeps no
# peak of it), VmHWM is the kernel's own peak.  Exits 1 if a bound is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
events=10000000 per_node=100000 idle=60
while [ $# -gt 0 ]; do
    case $1 in
        --events) events=$2; shift 2 ;;
        --per-node) per_node=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        *) echo "usage: bench/resources.sh [--events N] [--per-node M] [--idle SECONDS]" >&2
           exit 2 ;;
    esac
done
bin=$(realpath "${BIN:-build/bin}")
for program in cpsync-node cpsync-central cpsync-admin cpsync-fleet gen_events test_transport_client; do
    [ -x "$bin/$program" ] || { echo "bench: $bin/$program is missing: build first" >&2; exit 2; }
done
work=$(mktemp -d /tmp/cpsync-resources.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT
missed=0

#   free_port: a port nobody listens on now, below the ephemeral range.
free_port () {
    local port
    while :; do
        port=$(( 20000 + RANDOM % 12000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

#   sample PID NAME: while PID lives, its VmHWM and the highest RssAnon seen
#   (kB), every 0.2 s; written to $work/NAME.peak when it ends.  Builtins
#   only, so that the sampler costs next to nothing.
sample () {
    local pid=$1 hwm=0 anon=0 key value rest
    while [ -r "/proc/$pid/status" ]; do
        while read -r key value rest; do
            case $key in
                VmHWM:) [ "$value" -gt "$hwm" ] && hwm=$value ;;
                RssAnon:) [ "$value" -gt "$anon" ] && anon=$value ;;
            esac
        done < "/proc/$pid/status" 2>/dev/null || break
        sleep 0.2
    done
    echo "$hwm $anon" > "$work/$2.peak"
}

#   follow PID NAME: sample in the background; peak NAME reads it after.
follow () { sample "$1" "$2" & samplers[$2]=$!; }
declare -A samplers
#   peak NAME: "VmHWM RssAnon" in MB (10^6 bytes), once the sampler is done.
peak () {
    wait "${samplers[$1]}" 2>/dev/null || true
    until [ -s "$work/$1.peak" ]; do sleep 0.1; done   # a wait may return before it has written
    awk '{ printf "%.1f %.1f\n", $1 * 1024 / 1e6, $2 * 1024 / 1e6 }' "$work/$1.peak"
}

#   verdict WHAT FIGURE BOUND UNIT: prints the figure against its bound.
verdict () {
    if awk -v f="$2" -v b="$3" 'BEGIN { exit !(f < b) }'; then
        echo "    $1: $2 $4 (bound $3 $4): PASS"
    else
        echo "    $1: $2 $4 (bound $3 $4): FAIL"; missed=1
    fi
}

#   acked_all DATA: the node's log is acknowledged to its head.
acked_all () {
    "$bin/cpsync-node" status --data "$1" --format json 2>/dev/null \
        | jq -e '.head > 0 and .acked == .head' >/dev/null
}

# --- (a) a node with its central unreachable ---------------------------------
one=$work/one
central_port=$(free_port)
"$bin/cpsync-admin" init-central --central "$one/central" --listen "tcp://127.0.0.1:$central_port" >/dev/null
"$bin/cpsync-node" init --data "$one/node" --municipality tirane >/dev/null
"$bin/cpsync-admin" enrol --central "$one/central" --municipality tirane --out "$one/tirane.bundle" >/dev/null
"$bin/cpsync-node" enrol --data "$one/node" --bundle "$one/tirane.bundle" >/dev/null
mkdir -p "$one/events"
echo "generating $events events ..."
"$bin/gen_events" --seed 16 --events "$events" --from 2015-01-01 --to 2024-12-31 --prefix r- \
    > "$one/events/tirane.jsonl"

closed=$(free_port)
"$bin/cpsync-node" run --data "$one/node" --central "tcp://127.0.0.1:$closed" 2> "$work/run-a.log" &
node=$!; pids+=("$node")
follow "$node" run
sleep 1
start=$SECONDS
"$bin/cpsync-node" import --data "$one/node" "$one/events/tirane.jsonl" > "$work/import.out" 2>&1 &
import=$!
follow "$import" import
wait "$import" || { echo "bench: import failed:"; tail -3 "$work/import.out"; exit 1; }
import_seconds=$(( SECONDS - start ))
sleep 20
kill "$node"; wait "$node" || true
read -r run_hwm run_anon <<< "$(peak run)"
read -r import_hwm import_anon <<< "$(peak import)"
store_mb=$(stat -c %s "$one/node/store/data.mdb" 2>/dev/null | awk '{ printf "%d", $1 / 1e6 }' || echo "?")
echo "(a) one node, $events events imported in $import_seconds s (store $store_mb MB), central unreachable:"
echo "    run:    VmHWM $run_hwm MB, RssAnon $run_anon MB"
echo "    import: VmHWM $import_hwm MB, RssAnon $import_anon MB"
verdict "run, peak RSS (VmHWM)" "$run_hwm" 32 MB
verdict "run, peak RssAnon" "$run_anon" 32 MB
verdict "import, peak RssAnon" "$import_anon" 32 MB

# --- (b) the central: 61 nodes at full speed and a flood -----------------------
country=$work/country
mkdir -p "$country"
echo "generating 61 x $per_node events ..."
tail -n +2 protocol/catalogue/municipalities.csv | cut -d, -f1 | while read -r code; do
    "$bin/gen_events" --seed 61 --events "$per_node" --from 2019-01-01 --to 2024-12-31 \
        --prefix "$code-" > "$country/$code.jsonl"
done
fleet_port=$(free_port)
stdbuf -oL "$bin/cpsync-fleet" --events "$country" --data "$work/fleet" --port "$fleet_port" \
    --timeout 1800 > "$work/fleet.out" 2>&1 &
fleet=$!; pids+=("$fleet")
until grep -q 'set up and imported' "$work/fleet.out" 2>/dev/null; do
    kill -0 "$fleet" 2>/dev/null || { echo "bench: the fleet failed:"; tail -5 "$work/fleet.out"; exit 1; }
    sleep 0.2
done
central=
until [ -n "$central" ]; do
    central=$(pgrep -P "$fleet" -x cpsync-central || true)
    kill -0 "$fleet" 2>/dev/null || break
    sleep 0.05
done
[ -n "$central" ] || { echo "bench: the fleet's central not found"; exit 1; }
follow "$central" fleet-central

#  The flood: round after round until the fleet is done, each as in
#  tests/test_transport_flood.sh: 100 handshakes announcing 4 MiB and 100
#  announcing 480 KiB that trickle, 150 that stall after a kilobyte.
flood () {
    local endpoint=tcp://127.0.0.1:$fleet_port rounds=0
    while kill -0 "$fleet" 2>/dev/null; do
        "$bin/test_transport_client" handshakes "$endpoint" 100 $((4 * 1024 * 1024)) 10 127.0.0.2 \
            >> "$work/flood.out" 2>&1 &
        local big=$!
        "$bin/test_transport_client" handshakes "$endpoint" 100 $((480 * 1024)) 10 127.0.0.3 \
            >> "$work/flood.out" 2>&1 &
        local small=$!
        "$bin/test_transport_client" handshakes "$endpoint" 150 1024 10 127.0.0.4 \
            >> "$work/flood.out" 2>&1 || true
        wait "$big" "$small" || true
        rounds=$((rounds + 1))
    done
    echo "$rounds" > "$work/flood.rounds"
}
flood &
flooder=$!; pids+=("$flooder")
wait "$fleet" || { echo "bench: the fleet failed:"; tail -5 "$work/fleet.out"; exit 1; }
wait "$flooder" || true
read -r fleet_hwm fleet_anon <<< "$(peak fleet-central)"
echo "(b) the central, 61 nodes x $per_node events, flooded: $(grep -o '[0-9]* events of .*' "$work/fleet.out")"
echo "    flood: $(cat "$work/flood.rounds") rounds of 350 unauthenticated connections;" \
     "closed by the central: $(awk '{ n += $3 } END { print n + 0 }' "$work/flood.out")"
echo "    central: VmHWM $fleet_hwm MB, RssAnon $fleet_anon MB"
verdict "central, peak RssAnon" "$fleet_anon" 256 MB

# --- (b2) one node's catch-up of (a)'s events into a fresh central ---------------
"$bin/cpsync-central" run --data "$one/central" 2> "$work/central-b2.log" &
central=$!; pids+=("$central")
follow "$central" central
"$bin/cpsync-node" run --data "$one/node" 2> "$work/run-b2.log" &
node=$!; pids+=("$node")
start=$SECONDS
until acked_all "$one/node"; do
    kill -0 "$central" 2>/dev/null || { echo "bench: the central died"; tail -3 "$work/central-b2.log"; exit 1; }
    [ $(( SECONDS - start )) -lt 3600 ] || { echo "bench: no catch-up within an hour"; exit 1; }
    sleep 1
done
catch_up_seconds=$(( SECONDS - start ))
central_status=$(cat "/proc/$central/status")

# --- (c) that node idle, caught up, its central reachable -------------------------
sleep 5                        # the last acknowledgements and commits settle
ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
node_before=$(ticks "$node") central_before=$(ticks "$central")
sleep "$idle"
node_after=$(ticks "$node") central_after=$(ticks "$central")
node_cpu=$(awk -v t=$((node_after - node_before)) -v hz="$hz" -v s="$idle" \
    'BEGIN { printf "%.2f", 100 * t / hz / s }')
central_cpu=$(awk -v t=$((central_after - central_before)) -v hz="$hz" -v s="$idle" \
    'BEGIN { printf "%.2f", 100 * t / hz / s }')

kill "$node" "$central"; wait "$node" "$central" || true
read -r central_hwm central_anon <<< "$(peak central)"
echo "(b2) one node's $events events caught up in $catch_up_seconds s:"
echo "    central: VmHWM $central_hwm MB, RssAnon $central_anon MB; at the end" \
     "$(echo "$central_status" | awk '$1 ~ /^Rss(Anon|File|Shmem):$/ { printf "%s %d MB ", $1, $2 * 1024 / 1e6 }')"
verdict "central, peak RssAnon" "$central_anon" 256 MB
echo "(c) idle over $idle s, caught up, central reachable: node $node_cpu% of a core" \
     "(central $central_cpu%)"
verdict "idle node's CPU" "$node_cpu" 1 "% of a core"
exit $missed
