# Shared by the benchmarks that compare this build with an older one
# (bench/security.sh, bench/recovery.sh): sourced, not run.  The caller
# sets `work` (a scratch directory) and `bin` (this build's bin/).

#   build_baseline COMMIT: builds the daemons of COMMIT in a scratch
#   worktree under $work and sets old_bin to its bin/.
build_baseline () {
    git worktree add --detach "$work/baseline" "$1" >/dev/null 2>&1
    cmake -S "$work/baseline" -B "$work/baseline/build" -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$work/baseline/build" -j2 --target cpsync-fleet cpsync-node cpsync-central \
        >/dev/null
    old_bin=$work/baseline/build/bin
}

remove_baseline () {
    git worktree remove --force "$work/baseline" >/dev/null 2>&1 || true
}

#   gen_country EVENTS DIR: EVENTS events spread over the 61 municipalities.
gen_country () {
    mkdir -p "$2"
    local per=$(( $1 / 61 ))
    tail -n +2 protocol/catalogue/municipalities.csv | cut -d, -f1 | while read -r code; do
        "$bin/gen_events" --seed 5 --events "$per" --from 2019-01-01 --to 2024-12-31 \
            --prefix "$code-" > "$2/$code.jsonl"
    done
}

#   fleet_rate BIN EVENTS_DIR DATA_DIR: one fleet over fresh data; prints
#   events/s.  The fleet gives its seconds to 0.1 s, a tenth of the
#   difference measured, so the sync phase is timed from the moment its two
#   lines appear (stdout line-buffered): from "set up and imported" to
#   "acknowledged".  A fleet that fails leaves its daemons' logs in a
#   directory kept after the scratch is gone.
fleet_rate () {
    local port=$(( 20000 + RANDOM % 12000 )) status=0   # below the ephemeral range
    rm -rf "$3"
    stdbuf -oL "$1/cpsync-fleet" --events "$2" --data "$3" --port "$port" \
        --timeout 900 | while IFS= read -r line; do echo "$(date +%s.%N) $line"; done \
        > "$work/fleet.out" || status=$?
    if [ "$status" != 0 ]; then
        local kept
        kept=$(mktemp -d /tmp/cpsync-bench-failed.XXXXXX)
        cp -r "$3/logs" "$work/fleet.out" "$kept/" 2>/dev/null || true
        echo "bench: the fleet of $1 failed; its logs are kept in $kept" >&2
        return 1
    fi
    awk '/set up and imported/ { start = $1 }
         / events of .* acknowledged in / { events = $3; stop = $1 }
         END { if (start && stop > start) printf "%d\n", events / (stop - start) }' "$work/fleet.out"
}

#   gen_one_node EVENTS: tirane's EVENTS events over ten years, in
#   $work/one, for catch_up.
gen_one_node () {
    mkdir -p "$work/one"
    "$bin/gen_events" --seed 3 --events "$1" --from 2015-01-01 --to 2024-12-31 --prefix c- \
        > "$work/one/tirane.jsonl"
}

#   catch_up BIN: one node with the BIG events of $work/one; prints the
#   rates (events/s) of the first and of the last million, from the
#   central's cursor as read every half second while the fleet runs, then
#   the seconds the node's import took.  Every million's rate goes to
#   $work/millions and the central's CPU seconds (user + system, from
#   /proc) per million to $work/millions_cpu: the central's own work,
#   apart from the node's and from waits on the disk.
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
                    | jq '[.[].acked, 0] | max' 2>/dev/null || echo 0)
            central=$(pgrep -f "cpsync-central run --data $work/big/central" | head -1)
            ticks=$(awk '{ print $14 + $15 }' "/proc/$central/stat" 2>/dev/null || echo 0)
            echo "$(date +%s.%N) $acked $ticks" >> "$work/cursor.log"
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
                printf "%d %d", (a1 - a0) / (s1 - s0), (a10 - a9) / (s10 - s9)
            else
                printf "0 0"
        }' "$work/cursor.log"
    awk '/set up and imported in/ { for (i = 1; i < NF; i++) if ($i == "in") s = $(i + 1) }
         END { printf " %s\n", s? s: 0 }' "$work/big.out"
    #  Every million's rate, for the curve between the two: $work/millions.
    awk '
        { t [NR] = $1; a [NR] = $2 }
        END {
            m = 1
            for (i = 1; i <= NR; i++) {
                if (!s && a [i] > 0) { s = t [i]; from = a [i] }
                while (s && a [i] >= m * 1000000) {
                    if (t [i] > s) printf "%d ", (a [i] - from) / (t [i] - s)
                    s = t [i]; from = a [i]; m++
                }
            }
            printf "\n"
        }' "$work/cursor.log" > "$work/millions"
    awk -v hz="$(getconf CLK_TCK)" '
        NF == 3 && $3 > 0 { a [++n] = $2; c [n] = $3 }
        END {
            #  From the sample that began each million to the one that
            #  ended it (the last sample for the last), per million events.
            m = 1
            for (i = 1; i <= n; i++) {
                if (!started && a [i] > 0) { started = 1; from = i }
                while (started && (a [i] >= m * 1000000 || i == n) && a [i] > a [from]) {
                    printf "%.2f ", (c [i] - c [from]) / hz * 1000000 / (a [i] - a [from])
                    from = i; m++
                    if (i == n) break
                }
            }
            printf "\n"
        }' "$work/cursor.log" > "$work/millions_cpu"
}

#   ratio A B: A / B to two decimals (0 when B is 0).
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b? a / b: 0 }'; }

median () { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
