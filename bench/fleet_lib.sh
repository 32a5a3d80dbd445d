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

median () { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
